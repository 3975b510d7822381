"""Find the numbers a candidate states, which quantity each one is, and the assumptions in force (no LLM).

A number is a claim only when it carries a unit ("43.75GB", "~44 gigs", "200 Gb/s", "0.19ms", "eleven
percent") or is a count the rubric asks about ("24 heads per GPU"). Which quantity it states is read from its
own clause first ("per GPU", "KV", "all-reduce", "bubble"), then from its sentence, the sentences before it in
the same turn and the section header above it. "175B parameters" is a parameter count, not bytes.

Assumptions (TP/PP degrees, precision, batch, context, micro-batches) are read from every sentence as it goes
by and stay in force until the candidate changes them, across turns. Two exceptions, because candidates think
aloud: a hypothetical clause ("with pure TP", "if we used", "instead of 8-way TP") holds only for the numbers
in that clause, and a precision merely mentioned ("INT4: 87.5 GB") holds for the rest of its turn, where one
chosen ("let's switch to INT8 weights") holds until changed.

Written arithmetic ("175GB/2/4 = 21.875 GB") is kept with its result so the checker can redo it; "50+ GB" and
"over 50 GB" are lower bounds, "under 1 ms" an upper bound.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from grader.claims import NumericClaim
from grader.text import unwrap
from grader.transcript import Transcript
from grader.units import NUMBER_WORDS, UNITS, parse_unit, unit_spellings, words_to_number

Assumptions = dict[str, float | int | str]

# --- the number-with-unit pattern ----------------------------------------------------------------------

_UNIT_RE = "(?i:" + "|".join(re.escape(u).replace(r"\ ", r"\s+") for u in unit_spellings()) + ")"
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+"
_APPROX_WORDS = (
    r"~|≈|about|around|roughly|approximately|approx\.?|nearly|almost|circa|some|close to|just under|just over"
)
_LOWER_WORDS = r"over|more than|at least|north of|>|≥"
_UPPER_WORDS = r"under|less than|at most|below|no more than|<|≤"
_QUALIFIER = rf"(?i:{_APPROX_WORDS}|{_LOWER_WORDS}|{_UPPER_WORDS})"

# The patterns start at the number (a leading optional qualifier would be tried at every character); the
# qualifier ("~", "about", "over", "<") is read back from the text just before it.
NUMBER_RE = re.compile(rf"(?<![\w.])(?P<num>{_DIGITS})(?P<plus>\+)?\s?(?P<unit>{_UNIT_RE})(?![A-Za-z0-9])")
_WORD = "|".join(sorted((w for w in NUMBER_WORDS if w not in ("a", "half")), key=len, reverse=True))
_WORD_FIRST = "|".join(
    sorted((w for w in NUMBER_WORDS if w not in ("a", "half", "hundred", "thousand")), key=len, reverse=True)
)  # "a few hundred milliseconds" is not 100 ms
WORD_NUMBER_WITH_UNIT_RE = re.compile(
    rf"\b(?P<num>(?:{_WORD_FIRST})(?:[\s-]+(?:{_WORD}))*)\s*(?P<unit>{_UNIT_RE})(?![A-Za-z0-9])", re.IGNORECASE
)
_QUALIFIER_BEFORE = re.compile(rf"(?:(?<![A-Za-z])(?P<q>{_QUALIFIER}))\s*$")
_NUMBER_WORD_SET = frozenset(w for w in NUMBER_WORDS if w not in ("a", "half"))


@dataclass(frozen=True)
class _Hit:
    """A number with a unit in a sentence: its text, its qualifier, and where it sits."""

    num: str
    unit: str
    qualifier: str  # "~", "about", "over", "<" ... lower-cased, or ""
    plus: bool  # "50+ GB"
    start: int  # where the qualifier (or the number) starts
    num_start: int
    end: int


def _hits(sentence: str) -> list[_Hit]:
    """Every number-with-unit in a sentence, digits or words ("eleven percent"), in order."""
    matches = list(NUMBER_RE.finditer(sentence))
    if _NUMBER_WORD_SET.intersection(re.findall(r"[a-z]+", sentence.lower())):
        matches += WORD_NUMBER_WITH_UNIT_RE.finditer(sentence)
    out = []
    for m in matches:
        q = _QUALIFIER_BEFORE.search(sentence, max(0, m.start() - 20), m.start())
        out.append(
            _Hit(
                m.group("num"),
                m.group("unit"),
                q.group("q").lower() if q else "",
                bool(m.groupdict().get("plus")),
                q.start() if q else m.start(),
                m.start(),
                m.end(),
            )
        )
    return sorted(out, key=lambda h: h.num_start)


_LOWER_RE = re.compile(rf"^(?:{_LOWER_WORDS})$", re.I)
_UPPER_RE = re.compile(rf"^(?:{_UPPER_WORDS})$", re.I)

COUNT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "heads_per_gpu",
        re.compile(
            r"(?P<num>\d+)\s+(?:attention\s+)?heads\s+(?:per|on each|each|on every)\s+(?:GPU|device|rank)", re.I
        ),
    ),
    (
        "heads_per_gpu",
        re.compile(
            r"(?:each|every)\s+GPU\s+(?:gets|holds|has|handles|manages|owns|computes|runs)\s+(?P<num>\d+)\s+(?:attention\s+)?heads",
            re.I,
        ),
    ),
    (
        "max_sequences",
        re.compile(
            r"(?P<approx>(?:about|around|roughly|~|only|at most)\s*)?(?P<num>\d+)\s+(?:full\s+)?(?:\d+[kK]?(?:[- ]token)?\s+)?(?:sequences|seqs|requests)\s+(?:fit|can fit|will fit|would fit|actually fit)",
            re.I,
        ),
    ),
    (
        "max_sequences",
        re.compile(
            r"fit\s+(?:only\s+)?(?P<approx>(?:about|around|roughly|~)\s*)?(?P<num>\d+)\s+(?:full\s+)?(?:\d+[kK]?(?:[- ]token)?\s+)?(?:sequences|seqs|requests)",
            re.I,
        ),
    ),
    (
        "min_gpus",
        re.compile(
            r"(?:at least|minimum(?: of)?|need)\s+(?P<num>\d+)\s+GPUs\s+(?:just\s+)?(?:for|to hold)\s+(?:the\s+)?weights",
            re.I,
        ),
    ),
]

# --- cues for which quantity a number states ------------------------------------------------------------


def _c(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words), re.I)


KIND_CUES: dict[str, re.Pattern[str]] = {
    "free": _c(
        r"\bleaves?\b",
        r"\bleft\b",
        r"\bfree\b",
        r"headroom",
        r"remaining",
        r"room for",
        r"giv(?:es|ing) us",
        r"gives? you",
        r"spare",
        r"available for",
    ),
    "gpu_memory": _c(
        r"A100\s*\(?\s*$",
        r"fits? (?:in|into|on)\s*(?:an?\s+|the\s+)?(?:A100\s*)?$",
        r"[<≤]\s*$",
        r"\bunder\s*$",
        r"of HBM",
        r"HBM capacity",
        r"GPU memory (?:is|of)",
        r"\bout of\s*$",
    ),
    "block": _c(r"\bblocks?\b", r"\bpages?\b"),
    "kv": _c(r"\bKV\b", r"key[- ]value", r"\bcache\b", r"keys? and (?:a )?values?"),
    "activations": _c(r"activation"),
    "total_mem": _c(
        r"\btotal(?: memory| per GPU| footprint| usage)?\s*[:=]",
        r"\btotal (?:memory|footprint|usage)",
        r"\bsum\b",
        r"altogether",
        r"all in\b",
        r"all together",
    ),
    "allreduce": _c(
        r"all[- ]?reduces?",
        r"\bring\b",
        r"\bTP (?:comm|traffic)",
        r"data volume",
        r"\bpayload\b",
        r"tensor[- ]parallel(?:ism)? (?:comm|traffic)",
    ),
    "pp": _c(
        r"\bPP\b",
        r"pipeline",
        r"\bstages?\b",
        r"hidden states?",
        r"hand-?off",
        r"per transfer",
        r"point-to-point",
        r"\bp2p\b",
        r"activations? (?:sent|passed)",
    ),
    "weights": _c(r"weights?", r"\bholds?\b", r"\bstores?\b", r"param", r"\bmodel\b", r"quanti"),
    "precision": _c(r"\bFP16\b", r"\bBF16\b", r"\bINT[48]\b", r"\bFP8\b", r"\bFP32\b"),
    "nvlink": _c(r"NVLink", r"NVSwitch", r"intra-?node"),
    "infiniband": _c(
        r"InfiniBand",
        r"\bIB\b",
        r"\bHDR\b",
        r"\bNDR\b",
        r"\bNICs?\b",
        r"inter-?node",
        r"between nodes",
        r"across nodes",
    ),
    "pcie": _c(r"PCIe", r"host link"),
    "hbm": _c(r"\bHBM", r"memory bandwidth"),
    "bubble": _c(r"bubble", r"\bidle\b"),
    "comm_time": _c(
        r"all[- ]?reduces?",
        r"communication",
        r"\bcomms?\b",
        r"\bsync",
        r"collective",
        r"NCCL",
        r"\boverhead\b",
        r"\badds?\b",
    ),
    "decode": _c(
        r"inter-?token",
        r"\bTPOT\b",
        r"decode",
        r"token latency",
        r"latency per token",
        r"generation",
        r"tokens? per second",
        r"\bITL\b",
    ),
    "decode_weak": _c(
        r"per[- ]token", r"per (?:decode )?step", r"/\s*token", r"\blatency\b", r"\bfloor\b", r"lower bound"
    ),
    "prefill": _c(r"prefill", r"first token", r"\bTTFT\b", r"prompt processing", r"\bprompt\b"),
    "availability": _c(
        r"availab",
        r"uptime",
        r"nines",
        r"downtime",
        r"recover",
        r"heartbeat",
        r"timeout",
        r"failover",
        r"\bRTO\b",
        r"\bRPO\b",
    ),
    "operations": _c(
        r"restart",
        r"interval",
        r"every \d",
        r"reload",
        r"loading",
        r"checkpoint",
        r"snapshot",
        r"drain",
        r"rollout",
        r"canary",
        r"warm(?:ing)?[- ]up",
        r"\bNVMe\b",
        r"\bdisk\b",
    ),
}
# Weak cues lose to any strong cue nearby: "the all-reduce takes 0.19 ms per step" is communication.
_CUE_PENALTY = {"decode_weak": 60}
SCOPE_CUES: dict[str, re.Pattern[str]] = {
    "per_gpu": _c(
        r"per[- ](?:GPU|device|rank|shard|card)",
        r"each GPU",
        r"every GPU",
        r"/\s*GPU",
        r"on each",
        r"a GPU\b",
        r"a single GPU",
        r"one GPU",
    ),
    "per_token": _c(r"per[- ]token", r"each token", r"/\s*token", r"a token\b", r"every token", r"one token"),
    "per_sequence": _c(
        r"per[- ](?:\d+(?:\.\d+)?[kK]?[- ]?(?:token\s+)?)?(?:sequence|seq|request)",
        r"each (?:sequence|request)",
        r"one (?:\d+[kK]?[- ]token )?(?:sequence|request)",
        r"a (?:single |full )?(?:\d+[kK]?(?:[- ]token)? )?(?:sequence|request)\b",
    ),
    "per_layer": _c(r"per[- ]layer", r"each layer", r"every layer", r"a layer\b", r"one layer"),
    "per_step": _c(
        r"per (?:decode )?step",
        r"per forward",
        r"forward pass",
        r"per iteration",
        r"all layers",
        r"\b\d+ layers",
        r"whole step",
        r"each step",
    ),
    "per_allreduce": _c(
        r"per all[- ]?reduce",
        r"each all[- ]?reduce",
        r"one all[- ]?reduce",
        r"a single all[- ]?reduce",
        r"one small all[- ]?reduce",
        r"per call",
        r"per collective",
    ),
    "total": _c(r"\btotal\b", r"in all", r"overall", r"whole model", r"altogether", r"entire", r"full model"),
}

# --- assumptions ---------------------------------------------------------------------------------------

_N = r"(?<![\w,.])(\d+)(?![.,]\d)"  # a number that starts the phrase ("4-way TP"), not "TP4 x PP2"'s 4
_NA = r"(\d+)(?![.,]\d)"  # a number after its label ("TP4", "batch of 16")
ASSUMPTION_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("tp", re.compile(rf"{_N}[- ]?(?:way|x|×)\s*(?:TP|tensor)", re.I)),
    (
        "tp",
        re.compile(rf"\bTP\s*(?:=|:|of|degree(?: of)?|across|over)?\s*{_NA}\b(?!\s*(?:[KMGT]i?B|ms|%|GPUs? of))", re.I),
    ),
    (
        "tp",
        re.compile(
            rf"tensor[- ]parallel(?:ism)?\s*(?:of|=|degree(?: of)?|across|over|with)\s*(?:all\s+)?{_NA}\b", re.I
        ),
    ),
    ("pp", re.compile(rf"{_N}[- ]?(?:way|x|×)\s*(?:PP|pipeline)", re.I)),
    ("pp", re.compile(rf"\bPP\s*(?:=|:|of|degree(?: of)?)?\s*{_NA}\b(?!\s*(?:[KMGT]i?B|ms|%))", re.I)),
    ("pp", re.compile(rf"{_N}\s+(?:pipeline\s+|PP\s+)?stages", re.I)),
    ("pp", re.compile(rf"{_N}-stage\b", re.I)),
    ("pp", re.compile(rf"pipeline\s+(?:of|with|across)\s+{_NA}\s+stages", re.I)),
    ("dp", re.compile(rf"{_N}\s+(?:model\s+)?replicas", re.I)),
    ("dp", re.compile(rf"\bDP\s*(?:=|:|of)?\s*{_NA}\b", re.I)),
    ("batch", re.compile(rf"batch(?:\s+size)?\s*(?:of|=|:)?\s*{_NA}\b", re.I)),
    (
        "batch",
        re.compile(
            rf"{_N}\s+(?:concurrent\s+|active\s+|simultaneous\s+|in-flight\s+)?(?:seqs|sequences|requests)\b", re.I
        ),
    ),
    ("batch", re.compile(rf"\bb\s*=\s*{_NA}\b")),
    ("context", re.compile(r"(\d+(?:\.\d+)?)\s*[kK]\s*(?:-?token\s+)?(?:ctx|context|sequences?|window)", re.I)),
    ("context", re.compile(r"(?:sequences?|seqs|requests) (?:of|at) (\d+(?:\.\d+)?)\s*[kK]\b", re.I)),
    (
        "context",
        re.compile(
            r"(?:context|sequence length|seq len|ctx)\s*(?:of|=|:|length of|is)?\s*(\d[\d,]*)\s*(?:tokens?)?", re.I
        ),
    ),
    ("context", re.compile(r"(\d[\d,]{2,})[- ]token\s+(?:context|sequences?|window)", re.I)),
    ("tp", re.compile(rf"(?:all[- ]?reduce|\bring\b|tensor|\bTP\b).*?\bfor\s+{_NA}[- ]way\b", re.I)),
    ("micro_batches", re.compile(rf"{_N}\s+micro-?batch(?:es)?", re.I)),
    ("micro_batches", re.compile(rf"\bm\s*=\s*{_NA}\b")),
]
# A pattern is only tried on text that has one of its words (most sentences name no degree at all).
_DEGREE_WORDS = {
    "tp": ("tp", "tensor"),
    "pp": ("pp", "pipeline", "stage"),
    "dp": ("dp", "replica"),
    "batch": ("batch", "seq", "request", "b="),
    "context": ("k", "context", "ctx", "seq", "token"),
    "micro_batches": ("micro", "m="),
}
_PROMPT = re.compile(r"prompt|prefill", re.I)
_NO_PIPELINE = re.compile(r"\b(?:no|without(?: a)?)\s+(?:pipeline|PP)\b", re.I)
_K_TOKENS = re.compile(r"(\d+(?:\.\d+)?)\s*[kK][- ]?tokens?\b", re.I)
_DEGREE_OK = {
    "tp": lambda v: v in (1, 2, 4, 8, 16, 32, 64),
    "pp": lambda v: 1 <= v <= 96,
    "dp": lambda v: 1 <= v <= 1024,
    "micro_batches": lambda v: 1 <= v <= 512,
    "batch": lambda v: 1 <= v <= 4096,
    "context": lambda v: 128 <= v <= 1_048_576,
}
_PRECISION_RE = re.compile(r"\b(FP32|FP16|BF16|FP8|INT8|INT4)\b", re.I)
_PRECISION_NOUN_AFTER = re.compile(
    r"^[\s\-()]*(?:(?!and\b|or\b|FP|INT|BF)\w+\s+){0,2}?(weights?|KV|cache|activations?|params?|parameters|model)\b",
    re.I,
)
_KV_BEFORE = re.compile(r"(?:\bKV\b|cache)[^.;,]{0,20}$", re.I)
_PRECISION_CHOSEN = _c(
    r"switch(?:ing)? to",
    r"\buse\b",
    r"\busing\b",
    r"go(?:ing)? with",
    r"\bassum",
    r"let'?s",
    r"\bwe'?ll\b",
    r"\bI'?ll\b",
    r"\bI'?d\b",
    r"\bserve\b",
    r"\bserving\b",
    r"\bdeploy",
    r"quantiz\w* (?:the )?(?:weights )?to",
    r"\bsay\b",
    r"\bmove to\b",
    r"\bchoose\b",
    r"\bpick\b",
)
_HYBRID_RE = re.compile(
    r"(\d+)\s*(?:PP|pipeline)\s*[x×*]\s*(\d+)\s*(?:TP|tensor)|(\d+)\s*(?:TP|tensor)\s*[x×*]\s*(\d+)\s*(?:PP|pipeline)",
    re.I,
)
_GPU_COUNT_RE = re.compile(r"(?:across|over|on|to|/)\s*(\d+)\s+GPUs", re.I)
_PURE_TP_RE = re.compile(
    r"pure\s+(?:\d+[- ]way\s+)?(?:TP|tensor)|(?:TP|tensor[- ]parallel\w*)\s+only|only\s+(?:TP|tensor)|(?:8[- ]way\s+)?TP\s+alone",
    re.I,
)
_PURE_PP_RE = re.compile(
    r"pure\s+(?:\d+[- ]way\s+)?(?:PP|pipeline)|(?:PP|pipeline[- ]parallel\w*)\s+only|only\s+(?:PP|pipeline)", re.I
)

# Hypotheticals. A contrast ("instead of X") makes only what follows it hypothetical; a condition ("if we",
# "with pure TP") its whole clause. Clauses end at ';', ', but', ', while', ', whereas'.
_CLAUSE_SPLIT = re.compile(
    r";|,?\s+but\s+|,\s*(?:while|whereas|so|and|then)\s+|(?<=[A-Za-z,])\s+-{1,2}\s+(?=[A-Za-z])|\s+—\s+"
)
_CONTRAST = _c(
    r"instead of",
    r"rather than",
    r"compared (?:to|with)",
    r"\bvs\.?\b",
    r"versus",
    r"as opposed to",
    r"\bsame as\b",
    r"\bjust like\b",
    r"\bas with\b",
)
_CONDITION = _c(
    r"\bpure\s+(?:\d+[- ]way\s+)?(?:TP|PP|DP|tensor|pipeline|data)",
    r"\bif\b",
    r"alternatively",
    r"\bwould\b",
    r"\bcould\b",
    r"\bhypothetically\b",
    r"\bsuppose\b",
    r"\bimagine\b",
    r"\bonly TP\b",
    r"\bTP alone\b",
    r"\bnaive(?:ly)?\b",
    r"\bwithout\b",
    r"\bfor comparison\b",
    r"\bunless\b",
    r"\balternatives?\b",
    r"\bviable\b",
    r"\boptions?\b",
    r"\bconsider",
    r"\bbenchmark",
)

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'\-*])|\n+")
_EXPR_OPS = re.compile(r"[×x*/÷+\-]")


def _read_degrees(text: str) -> Assumptions:
    """TP/PP/DP, batch, context and micro-batches stated in one piece of text."""
    found: Assumptions = {}
    for m in _HYBRID_RE.finditer(text):
        if m.group(1):
            found["pp"], found["tp"] = int(m.group(1)), int(m.group(2))
        else:
            found["tp"], found["pp"] = int(m.group(3)), int(m.group(4))
    low = text.lower()
    if not any(c.isdigit() for c in text):
        low = ""  # every degree pattern needs a number; only "pure TP" and "no pipeline" below can apply
    for key, pat in ASSUMPTION_PATTERNS:
        if key in found or not any(word in low for word in _DEGREE_WORDS[key]):
            continue
        for m in pat.finditer(text):
            val = _assumption_value(key, m)
            if val is not None and _DEGREE_OK[key](val):
                found[key] = val
                break
    if "context" not in found and not _PROMPT.search(text):
        m = _K_TOKENS.search(text)  # "2K tokens" is a context length unless it is a prompt's
        if m:
            found["context"] = int(float(m.group(1)) * 1024)
    if _NO_PIPELINE.search(text):
        found["pp"] = 1
    if _PURE_TP_RE.search(text):
        m = _GPU_COUNT_RE.search(text)
        found.setdefault("tp", int(m.group(1)) if m else 8)
        found["pp"] = 1
    elif _PURE_PP_RE.search(text):
        m = _GPU_COUNT_RE.search(text)
        found["tp"] = 1
        found.setdefault("pp", int(m.group(1)) if m else 8)
    return found


def _assumption_value(key: str, m: re.Match[str]) -> int | None:
    """The integer a degree pattern captured; "4K" of context is 4,096 tokens."""
    raw = m.group(1).replace(",", "")
    try:
        num = float(raw)
    except ValueError:
        return None
    if key == "context" and re.search(r"\d\s*[kK]", m.group(0)):
        return int(num * 1024)
    return int(num)


def _read_precisions(text: str) -> Assumptions:
    """Weight and KV precisions: "INT8 weights", "FP8 KV cache", "KV cache in FP8" (the noun nearest wins)."""
    found: Assumptions = {}
    for m in _PRECISION_RE.finditer(text):
        prec = m.group(1).lower()
        noun = _PRECISION_NOUN_AFTER.match(text[m.end() : m.end() + 30])
        if noun:
            is_kv = noun.group(1).lower() in ("kv", "cache")
        else:
            is_kv = bool(_KV_BEFORE.search(text[max(0, m.start() - 30) : m.start()]))
        found["kv_precision" if is_kv else "weight_precision"] = prec
    return found


@dataclass
class _Region:
    """A clause of a sentence, [start, end), and whether what it says is only supposed."""

    start: int
    end: int
    hypothetical: bool


def _regions(sentence: str) -> list[_Region]:
    """The sentence cut into clauses, each marked decided or hypothetical (see _CONTRAST / _CONDITION)."""
    out: list[_Region] = []
    pos = 0
    bounds = [(m.start(), m.end()) for m in _CLAUSE_SPLIT.finditer(sentence)] + [(len(sentence), len(sentence))]
    for b_start, b_end in bounds:
        clause = sentence[pos:b_start]
        contrast = _CONTRAST.search(clause)
        if contrast:
            out.append(_Region(pos, pos + contrast.start(), bool(_CONDITION.search(clause[: contrast.start()]))))
            out.append(_Region(pos + contrast.start(), b_start, True))
        else:
            out.append(_Region(pos, b_start, bool(_CONDITION.search(clause))))
        pos = b_end
    if out:
        out[-1].end = len(sentence)
    return out


@dataclass
class _Context:
    """What is in force as the candidate speaks: assumptions across turns, cues within a turn."""

    values: Assumptions = field(default_factory=dict)  # persistent, across turns
    turn_values: Assumptions = field(default_factory=dict)  # precisions mentioned, not chosen: this turn only
    kind: str | None = None  # the last quantity kind talked about (carries to the next sentence)
    previous: FoundNumber | None = None  # the figure before this one in the same sentence
    clauses: list[tuple[int, int]] = field(default_factory=list)  # (start, clause end) of this sentence's figures
    header_kind: str | None = None  # from a short "Memory:" style header line
    scope: str | None = None  # the last explicit per-GPU / total scope of a byte figure in this turn
    seen: dict[tuple[float, str], list[str]] = field(default_factory=dict)  # figure -> what it stated, any turn
    said_this_turn: set[tuple[float, str, str]] = field(default_factory=set)  # (value, unit, quantity)

    def new_turn(self) -> None:
        self.turn_values, self.kind, self.header_kind, self.scope = {}, None, None, None
        self.said_this_turn = set()

    def read(self, sentence: str) -> list[tuple[_Region, Assumptions, frozenset[str]]]:
        """Each clause with the assumptions its numbers use, and which of them were carried over from earlier
        sentences rather than stated in this one. Decided clauses update the context first."""
        regions = _regions(sentence)
        chosen = bool(_PRECISION_CHOSEN.search(sentence))
        hyp: list[Assumptions] = []
        stated: set[str] = set()
        for r in regions:
            text = sentence[r.start : r.end]
            degrees, precisions = _read_degrees(text), _read_precisions(text)
            if r.hypothetical:
                hyp.append({**degrees, **precisions})
                continue
            hyp.append({})
            stated.update(degrees, precisions)
            self.values.update(degrees)
            if chosen:
                self.values.update(precisions)
                for k in precisions:
                    self.turn_values.pop(k, None)
            else:
                self.turn_values.update(precisions)
        base = {**self.values, **self.turn_values}
        return [(r, {**base, **h}, frozenset(base) - stated - set(h)) for r, h in zip(regions, hyp, strict=True)]


def _split_sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) pairs; a decimal point never splits a sentence, and neither does "e.g.", "i.e."."""
    text = unwrap(text)
    pos = 0
    for m in _SENTENCE_SPLIT.finditer(text):
        if re.search(r"\b(?:e\.g|i\.e|vs|approx|etc)\.$", text[pos : m.start()]):
            continue
        if text[pos : m.start()].strip():
            yield pos, text[pos : m.start()]
        pos = m.end()
    if text[pos:].strip():
        yield pos, text[pos:]


def _nearest_kind(text_before: str, text_after: str, kinds: tuple[str, ...]) -> tuple[str | None, int]:
    """The cue kind closest to the number: cues before it count at their distance, after it at double (plus
    a penalty for weak cues)."""
    best: tuple[str | None, int] = (None, 10**6)
    for kind in kinds:
        pat = KIND_CUES[kind]
        penalty = _CUE_PENALTY.get(kind, 0)
        for m in pat.finditer(text_before):
            d = len(text_before) - m.end() + penalty
            if d < best[1]:
                best = (kind, d)
        m = pat.search(text_after)
        if m and 2 * m.start() + 4 + penalty < best[1]:
            best = (kind, 2 * m.start() + 4 + penalty)
    return best


def _scopes(before: str, after: str) -> list[str]:
    """Scope cues by distance from the number, nearest first ("113 MB per token" beats "96 layers:")."""
    hits = [(len(before) - m.end(), m.lastgroup) for m in _ANY_SCOPE.finditer(before)]
    hits += [(m.start(), m.lastgroup) for m in _ANY_SCOPE.finditer(after)]
    return [s for _, s in sorted(hits) if s]


# All scope cues in one pattern, one named group per scope: a sentence is scanned once, not once per scope.
_ANY_SCOPE = re.compile("|".join(f"(?P<{k}>{p.pattern})" for k, p in SCOPE_CUES.items()), re.I)


_TARGET = _c(r"\bP9\d\b", r"\bSLO\b", r"\bSLA\b", r"\btarget", r"requirement", r"budget", r"\bgoal\b")
_TARGET_IF_BOUND = _c(r"should", r"\bmust\b", r"\bneeds? to\b", r"\bkeep\b", r"\bstay\b")
_BYTES_KINDS = (
    "free",
    "gpu_memory",
    "block",
    "kv",
    "activations",
    "total_mem",
    "allreduce",
    "pp",
    "weights",
    "precision",
)
_TIME_KINDS = ("prefill", "decode", "decode_weak", "comm_time", "pp")


@dataclass
class _Where:
    """One number's surroundings: its clause (for cues that must be close) and its sentence."""

    before: str  # sentence text before the number
    after: str  # sentence text after the number
    clause_before: str
    clause_after: str
    sentence: str
    scope: str | None
    scopes: list[str]
    bound: str | None
    divides_by_rate: bool
    expr: str | None = None
    clause_scope: str | None = None  # the scope named in the number's own clause
    base_value: float = 0.0  # the figure in base units
    multiplied: bool = False  # "4.72 MB x 2048 x 32": a per-unit figure being scaled up


_LABEL_AFTER = re.compile(
    r"\s*(?:of\s+(?:the\s+)?)?(?:(?:FP16|BF16|FP8|INT8|INT4|FP32)\s+)?(?:(weights?|params?|parameters)|(KV|key|cache)|(activations?))\b",
    re.I,
)
_MEMORY_MINUS = re.compile(r"^\s*80(?:\.0+)?\s*(?:GB|GiB)?\s*-")


_GPU_SIZES = {80e9, 40e9, 80 * 2.0**30, 40 * 2.0**30}
_INTO_RE = re.compile(r"\b(?:in|into|within|out of|of|under)\s*(?:the\s+|an?\s+)?$|[<≤]\s*$", re.I)
_GPU_WORDS = _c(r"A100", r"\bGPUs?\b", r"\bHBM\b", r"\bcards?\b", r"\bdevice\b", r"memory")


def _bytes_kind(w: _Where, ctx: _Context) -> str | None:
    """What a byte figure measures: a label right after it ("5 GB activations", "350 GB of weights") wins,
    then written arithmetic (a sum is a total, "80 - x" what is left), then the nearest cue."""
    label = _LABEL_AFTER.match(w.after)
    if (
        not label
        and any(abs(w.base_value / g - 1) < 0.01 for g in _GPU_SIZES)
        and (_GPU_WORDS.search(w.clause_before[-40:] + w.clause_after[:25]) or _INTO_RE.search(w.before[-12:]))
    ):
        return "gpu_memory"  # "the A100 has 80 GB", "80 GB of HBM per card"
    if label and not KIND_CUES["free"].search(w.before[-25:]):
        return "weights" if label.group(1) else "kv" if label.group(2) else "activations"
    if w.expr and "+" in w.expr:
        return "total_mem"
    if w.expr and _MEMORY_MINUS.search(w.expr):
        return "free"
    kind, _ = _nearest_kind(w.before[-70:], w.clause_after[:40], _BYTES_KINDS)
    if kind is None:  # a cue further back in the same sentence ("KV cache: ... so 2 x 96 x ... = 4.7 MB")
        kind, _ = _nearest_kind(w.before, "", _BYTES_KINDS)
    kind = kind or ctx.kind or ctx.header_kind
    if kind == "precision":  # "INT8 weights", "KV cache in FP8": the precision of whatever the clause is about
        kind = "kv" if KIND_CUES["kv"].search(w.clause_before + w.clause_after) else "weights"
    if kind in ("kv", "weights", "activations", "block") and KIND_CUES["free"].search(w.before[-25:]):
        return "free"
    if kind == "kv" and KIND_CUES["block"].search(w.clause_before + w.clause_after):
        return "block"
    return kind


def _allreduce_quantities(w: _Where) -> list[str]:
    """One all-reduce: the payload ("message", "data volume") or the bytes each GPU sends ("ring", "sends");
    unlabelled, either."""
    near = w.clause_before[-50:] + " " + w.clause_after[:30]
    ring = re.search(r"\bring\b|\bsends?\b|\bsent\b|on the wire|\bbus\b|traffic", near, re.I)
    payload = re.search(r"payload|message|buffer|data volume|hidden states?", near, re.I)
    if ring and not payload:
        return ["allreduce_ring_bytes"]
    if payload and not ring:
        return ["allreduce_message"]
    return ["allreduce_message", "allreduce_ring_bytes"]


_BYTE_FIGURE_KINDS = frozenset(
    {"free", "gpu_memory", "activations", "total_mem", "pp", "weights", "block", "kv", "allreduce"}
)


def _bytes_quantities(w: _Where, ctx: _Context) -> tuple[list[str], bool]:
    """(quantity names, most likely first; guessed) for a byte figure."""
    kind = _bytes_kind(w, ctx)
    if kind not in _BYTE_FIGURE_KINDS:  # a topic carried from the sentence before ("bubble") names no bytes
        kind = None
    if w.clause_scope in ("per_gpu", "total") and kind in ("weights", "kv", None):
        ctx.scope = w.clause_scope  # a memory breakdown's lines share the scope of the line that named it
    if kind is None:
        if w.scope == "per_gpu":
            return ["weights_per_gpu", "kv_per_gpu", "per_gpu_total", "free_per_gpu"], True
        return [], False
    if kind in ("allreduce", "pp", "kv", "weights"):
        ctx.kind = kind
    if kind == "weights":
        scope = w.scope or ctx.scope
        if scope == "per_layer":
            return [], False
        return {"per_gpu": ["weights_per_gpu"], "total": ["weights_total"]}.get(
            scope or "", ["weights_total", "weights_per_gpu"]
        ), False
    if kind == "block":
        return (["kv_block_per_gpu"], False) if "per_gpu" in w.scopes or ctx.scope == "per_gpu" else ([], False)
    if kind == "kv":
        return _kv_quantities(w, ctx), False
    if kind == "allreduce":
        by_scope = {
            "per_layer": ["allreduce_per_layer"],
            "per_step": ["tp_volume_per_step"],
            "per_token": ["tp_volume_per_token"],
        }
        return by_scope.get(w.scope or "") or _allreduce_quantities(w), False
    return {
        "free": ["free_per_gpu"],
        "gpu_memory": ["gpu_memory"],
        "activations": ["activations"],
        "total_mem": ["per_gpu_total"],
        "pp": ["pp_handoff_bytes"],
    }[kind], False


_KV_SCOPES = ("per_token", "per_sequence", "per_gpu", "total", "per_layer")


def _kv_quantities(w: _Where, ctx: _Context) -> list[str]:
    """KV figures come at five scopes; the clause says which, else the nearest KV scope in the sentence ("96
    layers" is not one), else the turn's running per-GPU/total scope."""
    clause = set(_scopes(w.clause_before, w.clause_after))
    if w.scope not in _KV_SCOPES or (w.scope == "per_layer" and "per_layer" not in clause):
        w.scope = next((s for s in w.scopes if s in _KV_SCOPES and s != "per_layer"), None)
    if "per_layer" in clause:
        return []
    if "per_token" in clause or w.scope == "per_token":
        if "per_gpu" in clause or (w.scope == "per_token" and "per_gpu" in w.scopes):
            return ["kv_per_token_per_gpu", "kv_per_token"]
        return ["kv_per_token", "kv_per_token_per_gpu"]
    if "per_sequence" in clause or w.scope == "per_sequence":
        return ["kv_per_sequence"]
    if w.multiplied:  # "4.72 MB x 2048 x 32 = 309 GB": the figure scaled up is per token (or per sequence)
        return ["kv_per_token", "kv_per_sequence", "kv_per_token_per_gpu"]
    if w.scope in ("per_gpu", "total"):
        return ["kv_per_gpu" if w.scope == "per_gpu" else "kv_total"]
    return {"per_gpu": ["kv_per_gpu", "kv_total"]}.get(ctx.scope or "", ["kv_total", "kv_per_gpu"])


def _time_quantities(w: _Where, ctx: _Context) -> list[str]:
    """A time: a target the candidate sets, one all-reduce, KV reads, a decode step (or one stage of it),
    prefill, all-reduces per step or a pipeline hand-off. Operations times (restarts, heartbeats, recovery)
    are not claims the arithmetic can check."""
    clause = w.clause_before + w.clause_after
    if (KIND_CUES["availability"].search(w.sentence) or KIND_CUES["operations"].search(clause)) and not KIND_CUES[
        "decode"
    ].search(clause):
        return []
    if _TARGET.search(clause) or (
        w.bound == "upper" and (_TARGET.search(w.sentence) or _TARGET_IF_BOUND.search(w.sentence))
    ):
        return ["ttft_target"] if KIND_CUES["prefill"].search(w.sentence) else ["latency_target"]
    if w.scope == "per_allreduce" or (re.match(r"\s*each\b", w.after) and KIND_CUES["allreduce"].search(w.sentence)):
        return ["allreduce_time"]
    if KIND_CUES["kv"].search(clause) and re.search(r"\bread", clause, re.I):
        return ["kv_read_time"]  # "the KV reads add another 19 ms"
    kind, _ = _nearest_kind(w.clause_before[-80:], w.clause_after[:40], _TIME_KINDS)
    if kind is None:
        kind, _ = _nearest_kind(w.before[-80:], w.after[:40], _TIME_KINDS)
    prev = ctx.previous
    if kind is None and prev is not None and (parse_unit(prev.unit) or UNITS["count"]).dimension == "time":
        return list(prev.quantities)  # "0.14 s at full utilisation, so about 0.3 s in practice"
    if kind is None:
        kind, _ = _nearest_kind(w.before, "", _TIME_KINDS)
    if (
        re.match(r"\s*per (?:pipeline )?stage\b", w.after)
        and kind in ("pp", "decode", "decode_weak", None)
        and re.search(r"HBM|weights|\bread|TB/s|floor", w.sentence, re.I)
    ):
        return ["decode_latency_per_stage"]  # "reads its 43.75 GB at 2 TB/s, that is 21.5 ms per stage"
    if w.divides_by_rate or (kind in ("comm_time", "decode_weak", None) and ctx.kind in ("allreduce", "pp")):
        if kind in ("decode", "prefill") and not w.divides_by_rate:
            return ["decode_latency"] if kind == "decode" else ["prefill_time"]
        pp_kind, _ = _nearest_kind(w.before[-80:], w.after[:40], ("pp",))
        if pp_kind or (kind is None and ctx.kind == "pp"):
            return ["pp_handoff_time"]
        return ["tp_comm_time"]
    return {
        "prefill": ["prefill_time"],
        "decode": ["decode_latency"],
        "decode_weak": ["decode_latency"],
        "comm_time": ["tp_comm_time"],
        "pp": ["pp_handoff_time"],
    }.get(kind or "", [])


def _rate_quantities(w: _Where, ctx: _Context) -> list[str]:
    """A bandwidth: the link named nearest (an all-reduce runs on NVLink), else HBM for terabytes per second."""
    kinds = ("nvlink", "infiniband", "pcie", "hbm", "allreduce")
    kind, _ = _nearest_kind(w.clause_before, w.clause_after[:30], kinds)
    if kind is None:
        kind, _ = _nearest_kind(w.before, w.after[:30], kinds)
    if kind == "allreduce" or (kind is None and ctx.kind == "allreduce"):
        kind = "nvlink"
    if kind is None and w.base_value >= 1e12:
        kind = "hbm"  # terabytes per second: only HBM is that fast here
    return [f"{kind}_bandwidth"] if kind else []


def _quantities_for(dim: str, w: _Where, ctx: _Context) -> tuple[list[str], bool]:
    """Candidate quantity names for one number, most likely first, and whether they are a guess; [] when it
    is not a checkable claim."""
    if dim == "bytes":
        return _bytes_quantities(w, ctx)
    if dim == "time":
        return _time_quantities(w, ctx), False
    if dim == "rate":
        return _rate_quantities(w, ctx), False
    if dim == "fraction":
        if KIND_CUES["bubble"].search(w.sentence) or ctx.kind == "bubble":
            return ["bubble"], False
        return [], False
    if dim == "flop":
        return (["flops_per_token"] if w.scope == "per_token" else ["prefill_flops"]), False
    if dim == "flops":  # "312 TFLOPS": the GPU's peak, unless it is a rate the candidate worked out
        return (
            ["gpu_flops"]
            if re.search(r"A100|GPU|each|dense|sparse|peak|tensor", w.clause_before[-40:] + w.clause_after[:25], re.I)
            else []
        ), False
    return [], False


@dataclass
class FoundNumber:
    """One number with a unit, where it sits, and what the rules think it states."""

    turn: int
    start: int
    end: int
    value: float
    unit: str
    approx: bool
    quote: str
    quantities: list[str]
    assumptions: Assumptions
    expression: str | None
    operand: bool
    claims_fit: bool | None
    lower_bound: bool = False
    upper_bound: bool = False
    guessed: bool = False
    negated: bool = False
    inherited: tuple[str, ...] = ()  # assumptions carried over from earlier sentences, not stated with it


_EQUALS_TAIL = re.compile(r"=\s*(?:~|≈)?\s*$")
_LABEL_WORD = r"(?:\s*(?!x\b)[A-Za-z][\w/]*(?:\s*\([A-Za-z0-9 ]+\))?)"
_EXPR_PIECE = re.compile(
    rf"(?P<num>\d[\d,]*(?:\.\d+)?(?:[eE][+-]?\d+)?[kKB]?{_LABEL_WORD}{{0,2}})"
    r"|(?P<op>[×x*/÷+\-])|(?P<paren>[()])|(?P<ws>\s+)|(?P<stop>.)",
    re.S,
)
_FIT_YES = re.compile(r"[<≤]\s*\d|fits?\b(?! only)|✓|under (?:the )?\d+\s*GB|within", re.I)
_FIT_NO = re.compile(
    r"doesn'?t fit|does not fit|won'?t fit|too (?:big|large)|exceeds?|over (?:the )?\d+\s*GB|[>≥]\s*\d|✗|✘", re.I
)


def _expression_before(sentence: str, num_start: int) -> str | None:
    """The written arithmetic that ends in '=' just before a number ("175GB/2/4 = 21.875 GB"): the run of
    numbers (each with up to two label words: "8 GPUs", "2 bytes (FP16)"), operators and brackets that
    ends at the '=', back to the first word that is not a number's label."""
    head = sentence[:num_start]
    eq = _EQUALS_TAIL.search(head)
    if not eq:
        return None
    pieces = list(_EXPR_PIECE.finditer(head[max(0, eq.start() - 160) : eq.start()]))
    run: list[re.Match[str]] = []
    for piece in reversed(pieces):
        if piece.group("stop") is not None:
            break
        run.append(piece)
    while run and not (run[-1].group("num") or run[-1].group("paren") == "("):
        run.pop()  # the run starts at a number or an opening bracket
    expr = "".join(p.group(0) for p in reversed(run)).strip()
    if not any(p.group("num") for p in run) or not _EXPR_OPS.search(re.sub(r"\d+-way", "", expr)):
        return None
    return expr


def _turn_numbers(turn_index: int, content: str, ctx: _Context) -> list[FoundNumber]:
    """The numbers of one candidate turn, read with (and updating) the context the turns before it left."""
    ctx.new_turn()
    out: list[FoundNumber] = []
    for offset, sentence in _split_sentences(content):
        found = _numbers_in_sentence(sentence, offset, turn_index, ctx)
        verbatim = content[offset : offset + len(sentence)].strip()  # unwrap() keeps offsets
        for f in found:
            f.quote = verbatim
        out += found
    return out


class NumberFinder:
    """Finds numbers turn by turn and remembers the context after each turn, keyed by the transcript up to it.

    The interviewer re-reads the transcript after every candidate turn; with this, a transcript that grew by
    one turn costs one turn's reading, not the whole interview's."""

    MAX_SNAPSHOTS = 512

    def __init__(self) -> None:
        self._snapshots: dict[str, tuple[_Context, list[FoundNumber]]] = {}

    def find(self, transcript: Transcript) -> list[FoundNumber]:
        ctx, out = _Context(), []
        prefix = hashlib.sha256()
        for turn_index, turn in enumerate(transcript.turns):
            prefix.update(f"{turn.role}\x00{turn.content}\x01".encode())
            if turn.role != "candidate":
                continue
            key = prefix.hexdigest()
            snap = self._snapshots.get(key)
            if snap is not None:
                ctx, out = copy.deepcopy(snap[0]), list(snap[1])
                continue
            out = out + _turn_numbers(turn_index, turn.content, ctx)
            if len(self._snapshots) >= self.MAX_SNAPSHOTS:
                self._snapshots.clear()
            self._snapshots[key] = (copy.deepcopy(ctx), list(out))
        return [copy.copy(f) for f in out]


def find_numbers(transcript: Transcript) -> list[FoundNumber]:
    """Every number with a unit in the candidate's turns, classified, with the assumptions in force."""
    ctx = _Context()
    out: list[FoundNumber] = []
    for turn_index, turn in enumerate(transcript.turns):
        if turn.role == "candidate":
            out += _turn_numbers(turn_index, turn.content, ctx)
    return out


def _numbers_in_sentence(sentence: str, offset: int, turn_index: int, ctx: _Context) -> list[FoundNumber]:
    """The claims of one sentence, in order, updating the context (assumptions, topic, figures seen)."""
    regions = ctx.read(sentence)
    if sentence.rstrip().endswith(":") and len(sentence) < 60:
        ctx.header_kind, _ = _nearest_kind(sentence, "", _BYTES_KINDS)
        ctx.kind = ctx.header_kind or ctx.kind
    ctx.previous, ctx.clauses = None, []
    out: list[FoundNumber] = []
    taken: list[tuple[int, int]] = []
    for h in _hits(sentence):
        if any(s <= h.num_start < e for s, e in taken):
            continue
        region, assumptions, inherited = next((x for x in regions if x[0].start <= h.num_start < x[0].end), regions[-1])
        found = _classify(h, sentence, region, offset, turn_index, assumptions, ctx)
        if found is None:
            continue
        found.inherited = tuple(sorted(inherited - set(_read_precisions(sentence))))
        taken.append((h.num_start, h.end))
        ctx.previous = found
        ctx.clauses.append((h.num_start, _clause_end(sentence, h.end, region)))
        if not found.negated and _is_new(found, ctx):
            out.append(found)
    for quantity, pat in COUNT_PATTERNS:
        for m in pat.finditer(sentence):
            if any(s <= m.start("num") < e for s, e in taken):
                continue
            taken.append((m.start("num"), m.end("num")))
            assumptions = next((x[1] for x in regions if x[0].start <= m.start("num") < x[0].end), regions[-1][1])
            out.append(
                FoundNumber(
                    turn=turn_index,
                    start=offset + m.start("num"),
                    end=offset + m.end(),
                    value=float(m.group("num")),
                    unit="count",
                    approx=bool(m.groupdict().get("approx")),
                    quote=sentence.strip(),
                    quantities=[quantity],
                    assumptions=dict(assumptions),
                    expression=None,
                    operand=False,
                    claims_fit=None,
                )
            )
    if KIND_CUES["bubble"].search(sentence):
        ctx.kind = "bubble"
    elif not out:  # a sentence that sets the topic ("The KV cache is sharded...") for the figures after it
        ctx.kind = _last_topic(sentence) or ctx.kind
    return out


def _last_topic(sentence: str) -> str | None:
    """The sentence's subject: its first cue ("The KV cache is sharded ... each pipeline stage ..." is KV)."""
    hits = [(m.start(), k) for k in ("kv", "weights", "allreduce", "pp") if (m := KIND_CUES[k].search(sentence))]
    return min(hits)[1] if hits else None


_RANGE_BEFORE = re.compile(r"\d(?:\.\d+)?\s*(?:to|-|–)\s*$")
_NEGATED = re.compile(r"(?:\bnot|\bnever|n't)\b[^,.;:]{0,40}$", re.I)
_RESTATE = re.compile(
    r"(?:which is|that is|that's|i\.e\.,?|aka|or)\s*(?:about|roughly|around|~|≈)?\s*$|\(\s*(?:~|≈)?\s*$", re.I
)


def _restated(w: _Where, dim: str, ctx: _Context) -> tuple[list[str], bool] | None:
    """The same figure in other units ("350 GB, which is about 326 GiB", "200 Gb/s, that is 25 GB/s",
    "4.72 MB (4.5 MiB)"): it states what the figure before it stated, unless its own clause names a scope."""
    prev = ctx.previous
    if prev is None or not _RESTATE.search(w.clause_before) or _scopes(w.clause_before, w.clause_after):
        return None
    prev_unit = parse_unit(prev.unit)
    if prev_unit is None or prev_unit.dimension != dim:
        return None
    return list(prev.quantities), prev.guessed


def _value(raw_num: str) -> float:
    """'4,718,592' -> 4718592.0, 'forty-four' -> 44.0."""
    try:
        return float(raw_num.replace(",", ""))
    except ValueError:
        return words_to_number(raw_num) or 0.0


def _where(
    h: _Hit, sentence: str, region: _Region, bound: str | None, expr: str | None, taken: list[tuple[int, int]]
) -> _Where:
    """Where a number sits. Its scope is named in its own clause, or by a line label, or else in the text
    before it back to the clause of the previous figure ("the 80 GB on one GPU, so ... it's 87.5 GB": "one GPU"
    belongs to the 80 GB), not counting the number's own arithmetic ("each GPU holds 175GB/2/4 = 21.875 GB")."""
    before, after = sentence[: h.num_start], sentence[h.end :]
    # the clause of this number: its region, cut at the neighbouring '=' ',' ';' or '('
    seg_start = max(region.start, max(before.rfind(c) for c in "=,;(") + 1)
    seg_end = min([i for i in (after.find(c) for c in "=,;") if i >= 0] + [max(0, region.end - h.end)])
    clause_before, clause_after = before[seg_start:], after[:seg_end]
    label = _LINE_LABEL.match(sentence)  # "Per GPU with 8-way TP: 350/8 = 43.75 GB": the label scopes the line
    clause_scopes = _scopes(clause_before, clause_after) or (_scopes(label.group(1), "") if label else [])
    all_scopes = _scopes(before, after)
    expr_start = before.rfind(expr) if expr else len(before)
    window_start = max([end for start, end in taken if end <= expr_start and start < expr_start], default=0)
    window = before[window_start : max(window_start, expr_start)]
    scope = clause_scopes[0] if clause_scopes else next(iter(_scopes(window, "")), None)
    divides = bool(expr and re.search(r"/\s*\d[\d.,]*\s*(?:[GMT]B/s|Gb/s|TB/s|GB/sec|Gbps)", expr, re.I))
    return _Where(
        before,
        after,
        clause_before,
        clause_after,
        sentence,
        scope,
        all_scopes,
        bound,
        divides,
        expr,
        clause_scopes[0] if clause_scopes else None,
    )


def _clause_end(sentence: str, end: int, region: _Region) -> int:
    """Where the clause that a figure ending at `end` belongs to stops: the next '=', ',' or ';'."""
    cut = [i for i in (sentence.find(c, end) for c in "=,;") if i >= 0]
    return min([*cut, region.end])


_LINE_LABEL = re.compile(r"^\W*([A-Za-z][^:=]{0,40}?):\s")


def _skip(value: float, raw_unit: str, unit_dim: str, canonical: str, after: str) -> bool:
    """Not a claim: "175B parameters" (billions), "2 bytes per parameter" (a premise), FLOP rates."""
    if canonical == "B" and raw_unit in ("B", "b") and (value < 1000 or re.match(r"\s*(?:param|model)", after, re.I)):
        return True
    if unit_dim == "bytes" and value < 64 and canonical == "B":
        return True
    return unit_dim == "count"


def _classify(
    h: _Hit, sentence: str, region: _Region, offset: int, turn_index: int, assumptions: Assumptions, ctx: _Context
) -> FoundNumber | None:
    """One number-with-unit as a claim, or None. A negated figure ("I would not promise 10 ms") comes back
    with `negated` set: not a claim, but the figure a restatement after it ("which is ...") refers to."""
    unit = parse_unit(h.unit)
    if unit is None:
        return None
    value = _value(h.num)
    after, before = sentence[h.end :], sentence[: h.num_start]  # "< 80 GB": the '<' is a cue too
    if _skip(value, h.unit, unit.dimension, unit.canonical, after):
        return None
    qualifier = h.qualifier or ("range" if _RANGE_BEFORE.search(before) else "")  # "8 to 10 us": roughly 10
    bound = "lower" if _LOWER_RE.match(qualifier) or h.plus else ("upper" if _UPPER_RE.match(qualifier) else None)
    expr = _expression_before(sentence, h.start)
    w = _where(h, sentence, region, bound, expr, ctx.clauses)
    w.base_value = value * unit.factor
    w.multiplied = bool(re.match(r"\s*[x×*]\s*\d", after))
    operand = bool(re.match(r"\s*(?:FP16|BF16|INT\d|FP\d)?\s*[/×x*÷]\s*\d", after, re.I)) or bool(
        re.search(r"[/×*÷]\s*$", before)
    )
    if operand and unit.dimension == "bytes" and re.match(r"\s*(?:FP16|BF16|INT\d|FP\d)?\s*[/÷]", after, re.I):
        w.scope = w.clause_scope = "total"  # a figure being divided up is the whole
    key = (round(value, 6), unit.canonical)
    quantities, guessed = _what_it_states(w, unit.dimension, key, ctx)
    if not quantities:
        return None
    return FoundNumber(
        turn=turn_index,
        start=offset + h.num_start,
        end=offset + h.end,
        value=value,
        unit=unit.canonical,
        approx=bool(qualifier) and bound is None,
        quote=sentence.strip(),
        quantities=quantities,
        assumptions={**assumptions, **_read_precisions(w.clause_before + " " + w.clause_after)},
        expression=expr,
        operand=operand,
        claims_fit=_claims_fit(quantities[0], before, after),
        lower_bound=bound == "lower",
        upper_bound=bound == "upper",
        guessed=guessed,
        negated=bool(_NEGATED.search(before)),
    )


def _what_it_states(w: _Where, dim: str, key: tuple[float, str], ctx: _Context) -> tuple[list[str], bool]:
    """A figure the candidate refers back to ("an eighth of the 4.72 MB") states what it stated before; one
    restated in other units what the figure before it states; any other is read from its words."""
    if key in ctx.seen and re.search(r"\b(?:the|that|those|our)\s*$", w.before, re.I):
        return _recall(ctx.seen[key], ctx)
    found = _restated(w, dim, ctx) or _quantities_for(dim, w, ctx)
    if not found[0] and key in ctx.seen:  # a figure said again with no cue of its own ("4.72 MB x 2048 x 32")
        return _recall(ctx.seen[key], ctx)
    return found


def _recall(quantities: list[str], ctx: _Context) -> tuple[list[str], bool]:
    """An earlier figure's quantities, and, for a size, its topic for the figures after it."""
    topic = {
        "kv": "kv",
        "weights": "weights",
        "allreduce": "allreduce",
        "tp_volume": "allreduce",
        "pp_handoff_bytes": "pp",
    }
    ctx.kind = next((k for prefix, k in topic.items() if quantities[0].startswith(prefix)), ctx.kind)
    return quantities, False


def _is_new(found: FoundNumber, ctx: _Context) -> bool:
    """Whether a figure is a new claim: not an operand repeating an earlier figure, not said twice in a turn."""
    key = (round(found.value, 6), found.unit)
    if found.operand and key in ctx.seen:
        return False
    if (*key, found.quantities[0]) in ctx.said_this_turn:
        return False
    ctx.seen.setdefault(key, found.quantities)
    ctx.said_this_turn.add((*key, found.quantities[0]))
    return True


def _claims_fit(quantity: str, before: str, after: str) -> bool | None:
    """Whether the sentence says a per-GPU figure fits in memory ("~57 GB < 80 GB ✓"), denies it, or neither."""
    if quantity not in ("per_gpu_total", "weights_per_gpu", "free_per_gpu"):
        return None
    tail = after[:40]
    if _FIT_NO.search(tail) or _FIT_NO.search(before[-30:]):
        return False
    if _FIT_YES.search(tail):
        return True
    return None


def extract_numeric_claims(transcript: Transcript, finder: NumberFinder | None = None) -> list[NumericClaim]:
    """The rules extractor's numeric claims: one per number with a unit that states a known quantity.

    What the claim model has no field for travels in `assumptions` under keys starting with '_' (the checker
    reads them and never treats them as assumptions): `_alternatives` (other quantities the words allow),
    `_lower_bound` / `_upper_bound` ("50+ GB", "under 1 ms"), `_guessed` (no quantity was named) and
    `_inherited` (assumptions carried over from earlier sentences rather than stated with the figure)."""
    claims = []
    for f in finder.find(transcript) if finder is not None else find_numbers(transcript):
        assumptions = dict(f.assumptions)
        if len(f.quantities) > 1:
            assumptions["_alternatives"] = ",".join(f.quantities[1:])
        for flag, on in (("_lower_bound", f.lower_bound), ("_upper_bound", f.upper_bound), ("_guessed", f.guessed)):
            if on:
                assumptions[flag] = 1
        if f.inherited:
            assumptions["_inherited"] = ",".join(f.inherited)
        claims.append(
            NumericClaim(
                turn=f.turn,
                quote=f.quote,
                quantity=f.quantities[0],
                value=f.value,
                unit=f.unit,
                approx=f.approx,
                assumptions=assumptions,
                expression=f.expression,
                claims_fit=f.claims_fit,
            )
        )
    return claims
