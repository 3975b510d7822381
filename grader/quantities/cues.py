"""The words that name a quantity's topic and scope, as tags the registry's quantities refer to.

A figure's reading is ranked by the tags found near it: "KV cache per GPU" carries `kv` and `per_gpu`, and
the quantities whose topics and scopes those are rank first. The vocabulary is the way people talk about
serving arithmetic, not the phrasing of any one transcript: a word belongs here when any candidate might use
it for the topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from grader.matching import PatternSet, engine

TOPICS: dict[str, tuple[str, ...]] = {
    "weights": (
        r"\bweights?\b",
        r"\bparam(?:eter)?s?\b",
        r"\bmodel (?:size|weights|shards?|footprint|itself|state)\b",
        r"\bhow (?:big|large) is the model\b",
        r"\bthe model in memory\b",
        r"\bthe model\b",
        r"\bcheckpoint shards?\b",
        r"\bshard of (?:the )?(?:model|weights)\b",
        r"\bslice of (?:the )?(?:model|weights)\b",
    ),
    "kv": (
        r"\bKV\b",
        r"\bK/V\b",
        r"\bkey[- ]value\b",
        r"\bkeys? and (?:the )?values?\b",
        r"(?<!page )(?<!host )(?<!disk )(?<!file )(?<!prefix )(?<!OS )(?<!CPU )\bcache[sd]?\b(?! is (?:cold|warm))",
    ),
    "workload": (
        r"\bconcurren\w*\b",
        r"\bup to\b",
        r"\bworkload\b",
        r"\bin[- ]flight\b",
        r"\bsimultaneous\w*\b",
        r"\bat once\b",
        r"\bper replica\b",
        r"\bproduct (?:team )?(?:wants|asked|needs)\b",
    ),
    "element_size": (
        r"\bbytes? (?:per|each|an?|for each|for every) (?:param\w*|element|value|weight|number|activation)\b",
        r"\bbytes each\b",
        r"\bper element\b",
        r"\bbytes per\b(?! (?:GPU|token|sequence|layer|step|card|rank|node|replica|stage|request)s?\b)",
    ),
    "activations": (
        r"\bactivations?\b",
        r"\bworkspace\b",
        r"\bscratch\b",
        r"\btemporar(?:y|ies)\b",
        r"\bintermediates?\b",
    ),
    "overhead": (
        r"\boverheads?\b",
        r"\bCUDA context\b",
        r"\bNCCL buffers?\b",
        r"\bfragmentation\b",
        r"\breserve[ds]?\b",
        r"\bruntime\b",
    ),
    "memory_total": (
        r"\btotals?\b",
        r"\bsum\b",
        r"\baltogether\b",
        r"\ball in\b",
        r"\bfootprint\b",
        r"\bcombined\b",
        r"\ball together\b",
        r"\bbefore activations\b",
        r"\bwe are at\b",
        r"\bwe're at\b",
        r"\bcomes? to\b",
        r"\badds? up\b",
        r"\bweights? (?:\+|plus|and) (?:the )?KV\b",
        r"\bKV (?:\+|plus|and) (?:the )?weights?\b",
    ),
    "free": (
        r"\bleaves?\b",
        r"\bleft\b",
        r"\bfree\b",
        r"\bremain(?:s|ing)?\b",
        r"\bavailable for\b",
        r"\bfor (?:the )?KV(?: cache)?\b(?! (?:is|are|per|of|at)\b)",
        r"\broom for\b",
    ),
    "headroom": (
        r"\bheadroom\b",
        r"\bto spare\b",
        r"\bspare\b",
        r"\bmargin\b",
        r"\bslack\b",
        r"\bover by\b",
        r"\bshort by\b",
    ),
    "capacity": (
        r"\bfits?\b",
        r"\bconcurrently\b",
        r"\bfitting\b",
        r"\bhold\b",
        r"\baccommodate\b",
        r"\badmit\b",
        r"\bguarantee\b",
        r"\bcan run\b",
        r"\bcan (?:\w+ )?serve\b",
        r"\bhow many (?:users|sequences|requests|conversations)\b",
        r"\bcapacity\b",
        r"\bmax(?:imum)? (?:batch|concurren\w*|sequences)\b",
    ),
    "gpu_memory": (
        r"\b(?:an|each|one|the|a single|every) (?:A100|card|GPU)s? (?:has|have|gives?|offers?|with|of|reports?|is|are)"
        r"(?=\s*(?:~|about|only|just|a total of)?\s*\d)",
        r"\b(?:fits?|fitting)\s+(?:in|into|on|within)\s+(?:an?\s+|the\s+|one\s+|a single\s+)?(?=\d)",
        r"\b(?:memory )?limit\b",
        r"\bA100'?s (?:memory|capacity)\b",
        r"\bthe A100'?s\b",
        r"\bHBM (?:capacity|memory)\b",
        r"\bdevice memory\b",
        r"\bGPU memory\b",
        r"\bmemory (?:per|on each|of each|of an?|of the) (?:GPU|card|A100)\b",
        r"\bnvidia-smi\b",
        r"\breports\b",
        r"\b(?:on|of|in|per) (?:an?|each|one|the|a single|every) (?:A100|card|GPU)\b",
        # a limit said as a container: "well under the 80 GB", "fits in 80", "over 80 GB", "exceeds 80 GB"
        r"\b(?:under|below|within|than|exceeds?|into|in|past|beyond) (?:the |an? |one |our )?"
        r"(?=(?:~|about )?\d+(?:\.\d+)?\s*(?:GB|GiB|gigs|gigabytes)\b(?!\s*(?:of|for|per)\b))",
        r"[<≤]\s*(?=\d+(?:\.\d+)?\s*(?:GB|GiB)\b(?!\s*(?:of|for|per)\b))",
    ),
    "minimum": (
        r"\bat least\b",
        r"\bminimum\b",
        r"\bjust (?:to hold|for)\b",
        r"\b(?:weights|model) alone\b",
        r"\bto hold the (?:weights|model)\b",
        r"\bneeds? at least\b",
    ),
    "block": (r"\bblocks?\b", r"\bpages?\b", r"\bpaged\b"),
    "allreduce": (
        r"\ball[- ]?reduces?\b",
        r"\bring\b",
        r"\bcollectives?\b",
        r"\bpayload\b",
        r"\bmessages?\b",
        r"\bTP (?:comm\w*|traffic|sync)\b",
        r"\breduce[- ]scatter\b",
        r"\ball[- ]gather\b",
        r"\bbytes (?:sent|on the wire)\b",
        r"\bsent per GPU\b",
        r"\btensor[- ]parallel\w* (?:comm\w*|traffic)\b",
    ),
    "pp_handoff": (
        r"\bhand-?offs?\b",
        r"\bpoint[- ]to[- ]point\b",
        r"\bp2p\b",
        r"\bsend/recv\b",
        r"\bhidden states?\b",
        r"\bstage boundar(?:y|ies)\b",
        r"\bbetween (?:the )?(?:two )?stages\b",
        r"\bacross (?:the )?stages?\b",
        r"\bto the next stage\b",
        r"\bpipeline (?:transfers?|comm\w*|traffic|sends?)\b",
        r"\bper transfer\b",
    ),
    "comm": (
        r"\bcomm(?:unication|s)?\b",
        r"\btraffic\b",
        r"\bsync(?:hroni[sz]ation)?\b",
        r"\bon the wire\b",
        r"\bNCCL\b",
        r"\btransfers?\b",
    ),
    "bubble": (r"\bbubbles?\b", r"\bidle\b", r"\bpipeline (?:efficiency|fill)\b"),
    "decode": (
        r"\bdecod(?:e|ing)\b(?!\s+steps?\b)",
        r"\binter-?token\b",
        r"\bTPOT\b",
        r"\bITL\b",
        r"\bper[- ]token (?:latency|time)\b",
        r"\btoken latency\b",
        r"\blatency per token\b",
        r"\btime per (?:output )?token\b",
        r"\bstep time\b",
    ),
    "latency": (
        r"\blatenc(?:y|ies)\b",
        r"\btakes?\b",
        r"\bround trip\b",
    ),
    "floor": (
        r"\bfloors?\b",
        r"\blower bound\b",
        r"\bbest case\b",
        r"\bat best\b",
        r"\btheoretical(?:ly)?\b",
        r"\bphysics\b",
        r"\bcan'?t (?:go|be) (?:below|faster|lower)\b",
        r"\bno faster than\b",
    ),
    "prefill": (
        r"\bprefill\w*\b",
        r"\bfirst token\b",
        r"\bTTFT\b",
        r"\bprompt processing\b",
        r"\bprompts?\b",
    ),
    "hbm": (
        r"\bHBM\w*\b",
        r"\bmemory[- ]bandwidth\b",
        r"\bmemory[- ]bound\b",
        r"\bstream(?:s|ing)? (?:the |its |all )?(?:\w+ )?weights\b",
        r"\bread(?:s|ing)? (?:the |its |all )?(?:\w+ )?(?:weights|KV)\b",
    ),
    "nvlink": (r"\bNVLink\w*\b", r"\bNVSwitch\w*\b", r"\bintra-?node\b", r"\binside (?:a|the) node\b"),
    "ib": (
        r"\bInfiniBand\b",
        r"\bIB\b",
        r"\bHDR\b",
        r"\bNDR\b",
        r"\bNICs?\b",
        r"\binter-?node\b",
        r"\bbetween (?:the )?nodes\b",
        r"\bacross (?:the )?nodes\b",
        r"\bRDMA\b",
        r"\bRoCE\b",
    ),
    "pcie": (r"\bPCIe\b", r"\bhost[- ](?:link|to[- ]device)\b", r"\bH2D\b", r"\bPCI Express\b"),
    "storage": (
        r"\bNVMe\b",
        r"\bdisks?\b",
        r"\bSSDs?\b",
        r"\bstorage\b",
        r"\bS3\b",
        r"\bobject store\b",
        r"\bfile ?system\b",
    ),
    "load": (
        r"\b(?:re)?load(?:s|ing|ed)? (?:the |its |their |all )?(?:\w+ )?(?:weights|model|checkpoint|shards?)\b",
        r"\breload\w*\b",
        r"\bweight load\w*\b",
        r"\bloading\b",
        r"\brestart\w*\b",
        r"\bcold[- ]start\w*\b",
        r"\bwarm[- ]?up\b",
        r"\bboot\w*\b",
        r"\bspin(?:ning)? up\b",
    ),
    "availability": (
        r"\bavailab(?:le|ility)\b",
        r"\buptime\b",
        r"\bnines\b",
        r"\bdowntime\b",
        r"\bSLA\b",
        r"\berror budget\b",
        r"\b(?:a|per) (?:month|year|week)\b",
        r"\bmonthly\b",
        r"\b99\.9+\b",
    ),
    "recovery": (
        r"\bRTO\b",
        r"\bRPO\b",
        r"\brecover\w*\b",
        r"\bfail(?:over|s over)\b",
        r"\brestor\w*\b",
        r"\bback in service\b",
        r"\breplace\w*\b",
    ),
    "detect": (
        r"\bheartbeats?\b",
        r"\btimeouts?\b",
        r"\bhealth[- ]checks?\b",
        r"\bprobes?\b",
        r"\bwatchdogs?\b",
        r"\bdetect\w*\b",
        r"\bintervals?\b",
        r"\bevery \d",
        r"\balerts?\b",
        r"\bset(?:ting)? (?:it |them |the \w+ )?(?:to |at )?(?=\d)",
        r"\bstalls?\b",
        r"\bno progress\b",
    ),
    "other_gpu": (
        r"\bH100s?\b",
        r"\bH200s?\b",
        r"\bB200s?\b",
        r"\bGB200\b",
        r"\bL40S?\b",
        r"\bA10G?\b",
        r"\bV100s?\b",
        r"\bMI300X?\b",
        r"\bTPU\w*\b",
        r"\bBlackwell\b",
        r"\bHopper\b",
        r"\bA100[- ]40GB\b",
    ),
    "roofline": (
        r"\bcompute[- ]bound\b",
        r"\bridge\b",
        r"\broofline\b",
        r"\barithmetic intensity\b",
        r"\bbecomes? compute\b",
    ),
    "compute": (
        r"\bFLOP\w*\b",
        r"\bcompute\b",
        r"\bMFU\b",
        r"\butili[sz]ation\b",
        r"\bmatmuls?\b",
        r"\btensor cores?\b",
        r"\bdense\b",
    ),
    "throughput": (
        r"\bthroughput\b",
        r"\btokens? (?:per|a|each) (?:second|sec)\b",
        r"\btokens?\s*/\s*s(?:ec)?\b",
        r"\bQPS\b",
        r"\brequests per second\b",
    ),
    "estimate": (
        r"\bexpect(?:ed|ing)?\b",
        r"\brealistic(?:ally)?\b",
        r"\bin practice\b",
        r"\bI'?d say\b",
        r"\bI'?d (?:guess|budget|plan (?:on|for))\b",
        r"\bplanning number\b",
        r"\bestimat\w*\b",
        r"\bprobably\b",
        r"\bshould see\b",
        r"\bwe'?(?:ll| will) see\b",
        r"\bwe get\b",
        r"\bend[- ]to[- ]end\b",
    ),
    "target": (
        r"\bP9\d\b",
        r"\bSLOs?\b",
        r"\btargets?\b",
        r"\brequirements?\b",
        r"\bbudget\b",
        r"\bgoal\b",
    ),
}

SCOPES: dict[str, tuple[str, ...]] = {
    "per_gpu": (
        r"\bper[- ](?:GPU|device|rank|shard|card)s?\b",
        r"\b(?:each|every|one|a single|a) (?:GPU|device|rank|card|A100)\b",
        r"/\s*GPU\b",
        r"\bon each\b",
        r"\bGPUs? each\b",
        r"\beach (?:holds?|gets?|stores?|has)\b",
        r"\ba GPU'?s?\b",
        r"÷\s*8\b",
    ),
    "per_token": (
        r"\bper[- ]token\b",
        r"\b(?:each|every|a|one|per) (?:new |output |generated )?token\b",
        r"/\s*tok(?:en)?\b",
        r"\btokens? each\b",
    ),
    "per_sequence": (
        r"\bper[- ](?:full[- ]|single[- ]|whole[- ])?(?:\d+(?:\.\d+)?[kK]?[- ]?(?:token[- ]?)?\s*)?(?:full[- ](?:length|context)\s+)?"
        r"(?:sequence|seq|request|conversation|user|prompt)s?\b",
        r"\b(?:each|every|one|a|a single|a full|one full) (?:\d+[kK]?[- ]?(?:token )?)?(?:full[- ](?:length|context) )?"
        r"(?:sequence|seq|request|conversation)\b",
        r"\bfull[- ](?:length|context) (?:sequence|seq)\b",
    ),
    "per_layer": (r"\bper[- ]layer\b", r"\b(?:each|every|a|one) (?:transformer )?layer\b", r"\ba layer'?s\b"),
    "per_step": (
        r"\bper (?:decode |forward )?(?:step|iteration)\b",
        r"\b(?:each|every|a|one|the whole|whole) (?:decode )?step\b",
        r"\bper forward(?: pass)?\b",
        r"\b(?:a|one|each) forward pass\b",
        r"\bacross (?:all )?(?:the )?(?:\d+ )?layers\b",
        r"\bover (?:all )?(?:the )?(?:\d+ )?layers\b",
        r"\ball (?:\d+ )?layers\b",
    ),
    "per_allreduce": (
        r"\bper[- ](?:all[- ]?reduce|collective|call)\b",
        r"\b(?:each|every|one|a single|a) (?:small )?(?:all[- ]?reduce|collective|call)\b",
        r"\bper message\b",
    ),
    "per_param": (r"\bper[- ](?:param(?:eter)?|weight)\b", r"\b(?:each|every) (?:param(?:eter)?|weight)\b"),
    "per_stage": (r"\bper[- ]stage\b", r"\b(?:each|every|one|a|a single) (?:pipeline )?stage\b"),
    "per_node": (r"\bper[- ](?:node|box|server|machine)\b", r"\b(?:each|every|one|a) (?:node|box|server|machine)\b"),
    "per_replica": (r"\bper[- ]replica\b", r"\b(?:each|every|one|a) (?:model )?replica\b"),
    "total": (
        r"\btotal\b",
        r"\bin all\b",
        r"\boverall\b",
        r"\bwhole (?:model|thing|cache)\b",
        r"\bentire\b",
        r"\bfull model\b",
        r"\bacross (?:all )?(?:the )?(?:8|eight) GPUs\b",
        r"\bfor the (?:whole )?node\b",
        r"\bsummed\b",
        r"\baltogether\b",
        r"\ball of (?:it|them)\b",
        r"\bof (?:the|all|its|all the) (?=\d)",
        r"\b(?:weights|model|KV cache|cache) (?:is|are|comes? to|amounts? to|totals?)\b",
        r"\bout of (?:the )?(?=\d)",
    ),
}

TAGS = (*TOPICS, *SCOPES)
FOREIGN = frozenset({"detect", "storage", "other_gpu"})
"""Topics of figures the registry does not compute (heartbeat intervals, timeouts, NVMe rates, restart times):
a figure whose nearest topic is one of these is the candidate's design, not arithmetic to check."""


@dataclass(frozen=True)
class TagHit:
    tag: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    vocab = {**TOPICS, **SCOPES}
    return tuple((tag, re.compile("|".join(f"(?:{p})" for p in pats), re.I)) for tag, pats in vocab.items())


@lru_cache(maxsize=1)
def _tag_set() -> PatternSet:
    """The tags as one PatternSet (grader/matching.py): a text is scanned once for all of them, and a tag's
    alternation runs only where its words can be. Plain `re` runs `_compiled()`."""

    vocab = {**TOPICS, **SCOPES}

    def plain(tag: str) -> tuple[re.Pattern[str], ...]:  # _compiled()'s pattern for this tag, compiled alone
        return (re.compile("|".join(f"(?:{p})" for p in vocab[tag]), re.I),)

    return PatternSet(vocab, re.I, {tag: (lambda tag=tag: plain(tag)) for tag in TAGS})


_MEMO: dict[str, tuple[TagHit, ...]] = {}
_MEMO_SIZE = 4096


def find_tags(text: str) -> list[TagHit]:
    """Every topic and scope tag in a text, by position (tags may overlap: "per-token latency" is both).
    Memoised by text: the reader asks again about the same question and context sentences."""
    if engine() == "re":  # the reference: plain `re`, nothing remembered
        return _find(text)
    hit = _MEMO.get(text)
    if hit is None:
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        hit = _MEMO[text] = tuple(_find(text))
    return list(hit)


def _find(text: str) -> list[TagHit]:
    scan = _tag_set().scan([text])
    hits = [TagHit(tag, m.start(), m.end()) for tag in scan.candidates(TAGS) for m in scan.finditer(tag)]
    return sorted(hits, key=_order)


def _order(h: TagHit) -> tuple[int, str]:
    return (h.start, h.tag)


def is_scope(tag: str) -> bool:
    return tag in SCOPES
