"""Read a transcript's figures into numeric claims: each figure, the readings its words allow, the configuration.

Which quantity a figure states is ranked by the registry's cue tags found around it, nearest first: its own
clause (and a line or table label above it), then its sentence, then the sentence before, the turn's section
header and the interviewer's question, and the topic of the figure said just before it. A figure said again
("the 38.7 GB", "the 5 ms I mentioned") states what it stated the first time.

A figure is *pinned* when its words leave one family of readings: a topic in its own clause, or a clear topic
around it with nothing competing. Otherwise it is *guessed*, and the checker never calls a guessed figure
wrong: it confirms it when a reading explains it, or leaves it unverifiable. The words decide what a figure may
be; its value decides, among those, what it is (that is the checker's job).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field

from grader.claims import Assumptions, NumericClaim
from grader.quantities.cues import FOREIGN, TagHit, find_tags, is_scope
from grader.quantities.model import Quantity
from grader.quantities.registry import REGISTRY, of_dimension
from grader.reading.arithmetic import evaluate, expression_before
from grader.reading.assumptions import InForce, Region, Stated, precisions_named, read_degrees, read_precisions
from grader.reading.figures import Figure, corrected, figures_in, implied, numbers_in
from grader.text import sentence_spans, unwrap
from grader.transcript import Transcript

_CLAUSE_BOUNDARY = re.compile(
    r"[,;=(){}\[\]|→⇒×*÷≈]|\+(?=\s*[~≈]?\s*\d)|(?<=\d)\s*/\s*(?=\d)|\s/\s|(?<!\d):(?!\d)|\s[-–—]\s|\s[x]\s|"
    r"\b(?:which|that's|that is|so|but|while|whereas|then|and|minus|times|divided by|versus|vs)\b|"
    r"\b(?:plus|over)\b(?=\s*(?:~|about\s+)?\d)",  # "44 plus 39", "350 over 8"; not "weights plus KV", "over budget"
    re.I,
)
_LINE_LABEL = re.compile(
    r"^[\s>*•\-\d.)#]*\**([A-Za-z][\w/()'+-]*(?:\s+[\w/()'+-]+){0,3}?)(?:\s*\([^()]{1,40}\))?\**\s*[:=]\s"
)  # "KV per GPU: 38.7 GB", "KV cache (32 seqs, 2K ctx): ~8 GB"
_HEADER = re.compile(r"^\s*(?:#+\s*.+|\*\*[^*]{2,60}\*\*:?|[A-Z][^.!?]{0,50}:)\s*$")
_OPERATOR_AFTER = re.compile(r"^\s*(?:[×x*/÷]|times\b|divided by\b|over\s+\d|per\s+\d)", re.I)
_OPERATOR_BEFORE = re.compile(r"(?:[×*/÷]|\bx|\btimes|\bdivided by|\bover)\s*$", re.I)
_RESTATE = re.compile(
    r"^\s*(?:=|≈|\(|,?\s*(?:which is|that is|that's|i\.e\.,?|aka|or|so)\s)\s*(?:about|roughly|~|≈)?\s*$", re.I
)
_POINTS_BACK = re.compile(r"\b(?:that|those)\s+(?:~|about\s+)?$", re.I)
""""halves that 4.75 megs": a figure pointed back to states what it stated when first said, which we may not know."""
_REFERS_BACK = re.compile(r"\b(?:the|that|those|our|this|its|their|same)\s+(?:~|about\s+)?$", re.I)
_QUALIFIER = re.compile(
    r"(?:(?<![A-Za-z])(?P<q>~|≈|about|around|roughly|approximately|approx\.?|nearly|almost|circa|some|close to|"
    r"just under|just over|like|maybe|call it|order of|over|more than|at least|north of|above|>|≥|under|less than|"
    r"at most|below|no more than|within|<|≤)),?\s*(?:like,?\s*|um,?\s*|uh,?\s*)?$",
    re.I,
)
_LOWER = {"over", "more than", "at least", "north of", "above", ">", "≥"}
_UPPER = {"under", "less than", "at most", "below", "no more than", "within", "<", "≤"}
_ISH_AFTER = re.compile(r"^-?ish\b|^\s*or so\b|^\s*(?:give or take|ish)\b", re.I)
_PLUS_AFTER = re.compile(r"^\+(?!\s*[~≈]?\s*\d)|^\s*or (?:more|so more)\b|^\s*plus\b(?!\s+\d)", re.I)
_NEGATED = re.compile(r"(?:\bnot|\bnever|n't|\bcannot|\bunable to)\b[^,.;:]{0,30}$", re.I)
_FIT_YES = re.compile(r"[<≤]\s*\d|\bfits?\b(?! only)|✓|✔|under (?:the )?\d+\s*GB|within", re.I)
_FIT_NO = re.compile(
    r"doesn'?t fit|does not fit|won'?t fit|too (?:big|large)|exceeds?|over (?:the )?\d+\s*GB|[>≥]\s*\d|✗|✘|over budget",
    re.I,
)
_ADDEND = re.compile(r"(?:\bon top of|\bplus|\+|\badd(?:ing)?|\bwith)\s+(?:the\s+)?(?:~|about\s+)?$", re.I)
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]+\|[\s:|-]*$")
_GPU_SPAN = re.compile(
    r"(?:across|over|on|to|between|onto|into|with)\s+(?:all\s+|the\s+)?(\d+)\s+(?:GPUs?|A100s|cards)", re.I
)
GPUS_PER_NODE = 8
_BY_RE = re.compile(r"\b(\d{1,4})\s*(?:x|×|-by-|\s+by\s+)\s*(\d+(?:\.\d+)?)\s*[kK]\b")
_PIPELINE_OPTION = re.compile(r"\b(?:pure |only |just )?pipelin(?:e|ing)\b(?! stages?\b)", re.I)
_BARE = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w.])|(?<![\w.,])\d+(?:\.\d+)?(?![\w.,])")


def _operands(sentence: str, fig: Figure, figures: list[Figure]) -> list[float]:
    """The sentence's bare numbers: the factors of arithmetic said aloud ("if a replica had to prefill all 10
    back to back ... about 8 s": 10 x 0.785 s). Numbers of figures and of names ("8-way", "TP4") are not."""
    out = []
    for m in _BARE.finditer(sentence):
        if any(f.start <= m.start() < f.end for f in figures) or re.match(
            r"\s*[-‐]?\s*way\b|\s*x\s*\d", sentence[m.end() :]
        ):
            continue
        try:
            v = float(m.group(0).replace(",", ""))
        except ValueError:
            continue
        if v not in (0.0, 1.0) and v not in out:
            out.append(v)
    return out[:12]


W_LOCAL = 3.0
W_SENTENCE = 1.5
W_CONTEXT = 0.8
W_CARRY = 1.0
SECONDARY = 0.6  # a quantity's other topics name it less than its first
W_SCOPE_MATCH, W_SCOPE_NEAR = 1.5, 0.5
_OWN_SCOPE = {
    "gpus": "per_gpu",
    "sequences": "per_sequence",
    "tokens": "per_token",
    "layers": "per_layer",
    "replicas": "per_replica",
    "nodes": "per_node",
    "stages": "per_stage",
}
NAMED_LOCAL = 2.0  # a topic score at or above this comes from the figure's own clause
PINNED_SCORE = 1.5  # a clear topic around the figure, with nothing competing, pins it too
FAMILY_MARGIN = 0.5
ALTERNATIVE_MARGIN = 1.0
INPUT_MARGIN = 0.3  # a choice of the candidate's this close to the best reading may be what the figure is


@dataclass
class _Where:
    """Where a figure sits: the tags of its clause (with their distance to the number), of its sentence and of
    the context before it, and the topic of the figure said just before it."""

    local: dict[str, int]
    sentence: set[str]
    context: set[str]
    carry: str | None
    multi_sequence: bool

    @property
    def local_topics(self) -> dict[str, int]:
        return {t: d for t, d in self.local.items() if not is_scope(t)}

    @property
    def local_scopes(self) -> set[str]:
        return {t for t in self.local if is_scope(t)}

    def scopes_near(self) -> set[str]:
        return {t for t in self.sentence | self.context if is_scope(t)}


def _clause(sentence: str, start: int, end: int) -> tuple[int, int]:
    lo, hi = 0, len(sentence)
    for m in _CLAUSE_BOUNDARY.finditer(sentence):
        if m.end() <= start:
            lo = m.end()
        elif m.start() >= end:
            hi = m.start()
            break
    return lo, hi


def _nearest_figure(t: TagHit, figures: list[Figure], dimension: str) -> Figure | None:
    """The figure a tag belongs to: the nearest one, by characters, on either side. A figure the tag's words
    contain does not claim it ("a full 2K sequence is 9.7 GB": the per-sequence scope is the bytes figure's)."""

    def gap(f: Figure) -> int:
        return f.start - t.end if t.end <= f.start else (t.start - f.end if t.start >= f.end else 0)

    if is_scope(t.tag):  # "0.25 ms per decode step": a scope belongs to the number it follows, whatever its kind
        pool = [f for f in figures if f.end <= t.start or f.start >= t.end or f.dimension == dimension]
    else:  # a topic names the figures of a kind its quantities have ("first token ... 1K prompt, about 20 ms")
        pool = [f for f in figures if f.dimension == dimension]
    return min(pool, key=gap) if pool else None


def _local_hits(tags: list[TagHit], fig: Figure, lo: int, hi: int, figures: list[Figure]) -> list[int]:
    in_clause = [f for f in figures if lo <= f.start < hi]
    return [
        i
        for i, t in enumerate(tags)
        if not (t.end <= lo or t.start >= hi) and _nearest_figure(t, in_clause, fig.dimension) is fig
    ]


def _local_tags(tags: list[TagHit], fig: Figure, lo: int, hi: int, figures: list[Figure]) -> dict[str, int]:
    """Tags of the figure's clause that are nearer to it than to any other figure of the clause, with their
    distance ("about 113 MB per GPU-group per step, or 7 MB per token": each clause's scope is its own)."""
    out: dict[str, int] = {}
    for i in _local_hits(tags, fig, lo, hi, figures):
        t = tags[i]
        d = fig.start - t.end if t.end <= fig.start else (t.start - fig.end if t.start >= fig.end else 0)
        out[t.tag] = min(d, out.get(t.tag, d))
    return out


def _sentence_tags_for(tags: list[TagHit], fig: Figure, figures: list[Figure], sentence: str) -> set[str]:
    """The sentence's tags but those of another figure's own clause ("155 GB in total, so 19.3 GB per GPU":
    "in total" is 155's, not 19.3's)."""
    taken: set[int] = set()
    for f in figures:
        if f is not fig and f.dimension == fig.dimension and not _OPERATOR_AFTER.match(sentence[f.end :]):
            # an operand owns no words: "each GPU holds 175GB/2/4 = 21.875 GB" is the result's per-GPU
            lo, hi = _clause(sentence, f.start, f.end)
            taken.update(_local_hits(tags, f, lo, hi, figures))
    return {t.tag for i, t in enumerate(tags) if i not in taken}


def _topics_before(sentence: str, tags: list[TagHit], fig: Figure, lo: int, figures: list[Figure]) -> dict[str, int]:
    """Topics of the clause before the figure's ("each GPU holds an eighth of the weights, 21.875 GB"): an
    apposition names what the clause before it talks about, unless another figure is nearer to those words."""
    previous = [f for f in figures if f.end <= lo and f.dimension == fig.dimension]
    start = previous[-1].end if previous else 0
    near = [f for f in figures if (not previous or f.start >= previous[-1].start) and f.start < fig.end]
    out = {}
    for t in tags:
        if start <= t.start and t.end <= lo and not is_scope(t.tag) and _nearest_figure(t, near, fig.dimension) is fig:
            c_lo, c_hi = _clause(sentence, t.start, t.end)
            if any(c_lo <= f.start < c_hi and f.dimension == fig.dimension for f in figures):
                continue  # "the KV cache is 144 GiB in total, 18 GiB per GPU": "in total" is 144's
            out[t.tag] = fig.start - t.end + 40
    return out


def _score(q: Quantity, w: _Where) -> tuple[float, float, bool]:
    """(total score, topic score, whether the figure's clause contradicts the quantity's scope)."""
    topic = 0.0
    for i, t in enumerate(q.topics):
        weight = 1.0 if i == 0 else SECONDARY
        if t in w.local:
            topic = max(topic, weight * (W_LOCAL - min(1.0, w.local[t] / 60)))
        elif t in w.sentence:
            topic = max(topic, weight * W_SENTENCE)
        elif t in w.context:
            topic = max(topic, weight * W_CONTEXT)
        if w.carry == t:
            topic = max(topic, weight * W_CARRY)
    scopes = w.local_scopes - {_OWN_SCOPE.get(q.noun or "", "")}  # "4 GPUs, each ...": not a per-GPU count
    scope, conflict = 0.0, False
    if scopes and q.scopes:
        if scopes & set(q.scopes):
            scope = W_SCOPE_MATCH
        else:
            conflict = True
    elif {t for t in w.sentence if is_scope(t)} & set(q.scopes):
        scope = W_SCOPE_NEAR
    elif {t for t in w.context if is_scope(t)} & set(q.scopes):
        scope = W_SCOPE_NEAR / 2  # the sentence's own scope words ("each GPU holds ...") beat the context's
    if (
        w.multi_sequence
        and not w.local_scopes & {"per_sequence", "per_token"}
        and set(q.scopes) & {"per_sequence", "per_token"}
    ):
        conflict = True  # "32 sequences ... 155 GB" is not one sequence's figure
    if q.dimension == "count" and not q.topics:
        topic = max(topic, 1.0)  # the noun itself names it ("24 heads per GPU")
    return topic + scope, topic, conflict


@dataclass(frozen=True)
class Ranking:
    quantity: str | None
    alternatives: list[str]
    pinned: bool


def rank(fig: Figure, w: _Where) -> Ranking:
    """The best reading the words allow, the others they allow, and whether the words pin it.

    The words pin a family of readings (the value then picks its member): when the nearest topic word of the
    figure's own clause is one of its topics, or a count's clause scopes it ("24 heads per GPU"), or the topic
    around it is clear (a sentence or the one before), its own clause scopes it and no other family comes
    close. A nearest topic the registry does not compute (a heartbeat, an NVMe rate) makes the figure the
    candidate's design; a choice of the candidate's (batch 16, 2 stages) among the close readings makes it
    theirs to choose: neither is ever pinned."""
    scored = []
    for q in of_dimension(fig.dimension, fig.noun):
        if q.scoped_only and not w.local_scopes & set(q.scopes):
            continue
        total, topic, conflict = _score(q, w)
        if not conflict:
            scored.append((total, topic, q))
    if not scored:
        return Ranking(None, [], False)
    scored.sort(
        key=lambda x: (-x[0], len(x[2].scopes) if w.local_scopes & set(x[2].scopes) else 0)
    )  # ties: the plainest
    best_total, best_topic, best = scored[0]
    if best_topic <= 0:
        return Ranking(None, [q.id for _, _, q in scored], False)
    local_topics = w.local_topics
    close = [q for total, topic, q in scored[1:] if topic > 0 and total >= best_total - ALTERNATIVE_MARGIN]
    named = local_topics.keys() | w.sentence
    alternatives = [
        q.id
        for _, _, q in scored[1:]
        if (q.kind != "band" or set(q.topics) & named)  # a realistic range is a reading only where it is talked of
        and (
            q in close
            or q.family == best.family  # the words pin a family; its members differ by scope and convention
            or (q.topics and q.topics[0] in named)
        )
    ]
    nearest = min(local_topics.items(), key=lambda kv: kv[1]) if local_topics else None
    if nearest is not None and nearest[0] in FOREIGN:
        return Ranking(best.id, alternatives, False)
    if best.kind == "input" or any(
        q.kind == "input" for total, topic, q in scored[1:] if topic > 0 and total >= best_total - INPUT_MARGIN
    ):
        return Ranking(best.id, alternatives, False)
    own = [local_topics[t] for t in best.topics if t in local_topics]
    if own and best_topic >= NAMED_LOCAL:
        pinned = nearest is None or min(own) <= nearest[1] + 15
        if (
            pinned and best.kind != "fact"
        ):  # "leaves ~20 GB for the KV cache": the nearest word names it, a farther one its object
            alternatives = [
                a
                for a in alternatives
                if REGISTRY[a].family == best.family or _nearer(REGISTRY[a], local_topics, min(own))
            ]
        return Ranking(best.id, alternatives, pinned)
    scoped = bool(w.local_scopes & set(best.scopes))
    if fig.dimension == "count" and best.noun is not None and not best.topics:
        return Ranking(best.id, alternatives, scoped)
    rivals = [total for total, topic, q in scored[1:] if topic > 0 and q.family != best.family]
    alone = not rivals or max(rivals) <= best_total - FAMILY_MARGIN
    # the topic around the figure pins it with the scope its own clause names ("... 2.36 MB per token" after a
    # sentence about the KV cache), or, when the topic is named in its sentence, to the family's default
    # without a scope ("the weights ..., so around 175 gigs" is the total)
    pinned = (
        alone
        and not local_topics
        and ((best_topic >= W_CONTEXT and scoped) or (best_topic >= PINNED_SCORE and best.default))
    )
    return Ranking(best.id, alternatives, pinned)


def _nearer(q: Quantity, local_topics: dict[str, int], distance: int) -> bool:
    """Whether another family's words are as near as the pinning ones; a target's words ("the 2-second TTFT
    budget") always leave the target a reading: a figure set as a goal is not a computed one."""
    if not q.topics:
        return False
    if q.topics[0] == "target" and "target" in local_topics:
        return True
    return local_topics.get(q.topics[0], 10**6) <= distance + 2


_NOT_LATENCY = frozenset({"allreduce", "comm", "pp_handoff", "prefill", "bubble", "kv", "load", "compute"})


def _latency_by_scope(fig: Figure, w: _Where, ranking: Ranking, sentence_tags: set[str] | None = None) -> Ranking:
    """A time said per token, with no communication, prefill or KV word beside it, is a per-token latency: the
    physics of the HBM floor applies to it ("I'd expect around 10 ms per token")."""
    if fig.dimension != "time" or "per_token" not in w.local_scopes or _NOT_LATENCY & w.local.keys():
        return ranking
    around = w.sentence | (sentence_tags or set())  # the whole sentence's words: "96 of them is about 1 ms per stage"
    if _NOT_LATENCY & around and "estimate" not in w.local.keys() | around:
        return ranking  # "I'd guess 50 to 60 ms per token" after the parts it adds up is still the latency
    if w.local_topics.keys() & FOREIGN:
        return ranking
    decode = [q.id for q in of_dimension("time") if q.family == "decode"]
    best = "decode_floor" if "floor" in w.local.keys() | w.sentence else "decode_latency"
    return Ranking(best, [d for d in decode if d != best], True)


@dataclass
class _TurnState:
    header: str = ""
    question: str = ""
    question_layout: tuple[int, int] | None = None
    question_tags: frozenset[str] = frozenset()

    @property
    def asks_latency(self) -> bool:
        return bool({"per_token", "latency", "decode"} & self.question_tags) and not (
            {"allreduce", "comm", "prefill", "pp_handoff"} & self.question_tags
        )

    table_header: list[str] = field(default_factory=list)
    previous_sentence: str = ""
    carry: str | None = None
    first: bool = True


@dataclass
class _ReaderState:
    in_force: InForce = field(default_factory=InForce)
    activation_bytes: float | None = None
    figures: list[Figure] = field(default_factory=list)  # the candidate's figures so far, latest last (50 kept)
    said: dict[tuple[str, float], Ranking] = field(default_factory=dict)  # (unit, value) -> its first pinned reading
    said_under: dict[tuple[str, float], Assumptions] = field(default_factory=dict)  # ... and its configuration


def _cells(row: str) -> list[tuple[int, int]]:
    bars = [i for i, ch in enumerate(row) if ch == "|"]
    return [(a + 1, b) for a, b in itertools.pairwise(bars)]


def _qualifier(sentence: str, fig: Figure, clause_lo: int) -> tuple[bool, str | None]:
    """(said roughly, bound) from the words around the number."""
    before = sentence[max(clause_lo, fig.start - 30) : fig.start]
    after = sentence[fig.end : fig.end + 20]
    m = _QUALIFIER.search(before)
    q = m.group("q").lower() if m else ""
    if fig.plus or _PLUS_AFTER.match(after) or q in _LOWER:
        return False, "lower"
    if q in _UPPER:
        return False, "upper"
    return bool(q) or bool(_ISH_AFTER.match(after)), None


def _considered(sentence: str, figures: list[Figure], stated: Stated) -> list[Assumptions]:
    """Configurations the sentence names besides the one in force: counts its arithmetic may use ("24 full
    sequences", "a 1K prompt", "8 micro-batches") and the GPUs it spans ("over 4 GPUs")."""
    out: list[Assumptions] = []
    for f in figures:
        n = int(f.value) if f.value == int(f.value) else None
        if n is None:
            continue
        if f.noun == "gpus" and 1 <= n <= 100_000:
            out.append(Assumptions(gpus_in_view=n))
        if f.noun == "sequences" and 1 <= n <= 4096:
            out.append(Assumptions(batch=n, comm_batch=n))
        elif f.noun == "tokens" and 16 <= n <= 1_048_576:
            out.append(Assumptions(context=n, prefill_tokens=n, comm_batch=n))
        elif f.noun == "micro_batches" and 1 <= n <= 512:
            out.append(Assumptions(micro_batches=n))
        elif f.noun == "stages" and 1 <= n <= 96:
            out.append(Assumptions(pp=n))
    for p in precisions_named(sentence):  # "INT4 is a quarter of FP16", "4.8 GB in INT8": either may be meant
        out += [Assumptions(weight_precision=p), Assumptions(kv_precision=p)]  # type: ignore[arg-type]
    for m in _BY_RE.finditer(sentence):  # "the 8-by-4K case", "32 x 2K"
        out.append(Assumptions(batch=int(m.group(1)), context=int(float(m.group(2)) * 1024)))
    if _PIPELINE_OPTION.search(sentence) and "pp" not in stated:
        out.append(Assumptions(tp=1, pp=GPUS_PER_NODE))  # "the other option is pipeline": each GPU a stage
    for m in _GPU_SPAN.finditer(sentence):
        n = int(m.group(1))
        if 1 <= n <= 64:
            out.append(Assumptions(tp=n, pp=1))
            pp = int(stated.get("pp", 1))
            if pp > 1 and n % pp == 0:
                out.append(Assumptions(tp=n // pp, pp=pp))
    return list(dict.fromkeys(out))


def _assumptions(stated: Stated, activation_bytes: float | None, layouts: set[tuple[int, int]]) -> Assumptions:
    fields = {k: v for k, v in stated.items() if k in Assumptions.model_fields}
    tp, pp = fields.get("tp"), fields.get("pp")
    if tp and pp and int(tp) * int(pp) > GPUS_PER_NODE and (int(tp), int(pp)) not in layouts:
        # degrees said apart ("with 8-way TP ...", later "2 stages") that add up to more than a node, and never
        # as one layout: not a configuration the candidate proposed
        fields.pop("tp")
        fields.pop("pp")
    if activation_bytes is not None:
        fields["activation_bytes"] = activation_bytes
    try:
        return Assumptions(**fields)  # type: ignore[arg-type]
    except ValueError:
        return Assumptions()


def _link(tags: set[str]) -> str | None:
    for tag, link in (("ib", "ib"), ("pcie", "pcie"), ("nvlink", "nvlink")):
        if tag in tags:
            return link
    return None


def _turn_claims(index: int, content: str, question: str, state: _ReaderState) -> list[NumericClaim]:
    state.in_force.new_turn()
    asked = read_degrees(question)
    layout = (int(asked["tp"]), int(asked["pp"])) if "tp" in asked and "pp" in asked else None
    ts = _TurnState(
        question=question, question_layout=layout, question_tags=frozenset(t.tag for t in find_tags(question))
    )
    flat = unwrap(content)
    out: list[NumericClaim] = []
    for a, b in sentence_spans(content):
        sentence = flat[a:b]
        quote = content[a:b].strip()
        if _TABLE_ROW.match(sentence):
            out += _table_row(index, sentence, quote, ts, state)
            continue
        ts.table_header = []
        if _HEADER.match(sentence) and not figures_in(sentence):
            state.in_force.read(sentence)  # "With TP4 x PP2, TP all-reduce per layer:" sets the layout below it
            ts.header = sentence
            ts.previous_sentence = sentence
            continue
        out += _sentence_claims(index, sentence, quote, ts, state)
        ts.previous_sentence = sentence
        ts.first = False
    return out


def _table_row(index: int, row: str, quote: str, ts: _TurnState, state: _ReaderState) -> list[NumericClaim]:
    """A Markdown table row: each cell read with its row's first cell and its column's header as its label. A
    row is one option among others (a comparison table), so what it states holds for its own cells only."""
    if _TABLE_RULE.match(row):
        return []
    cells = _cells(row)
    texts = [row[a:b].strip() for a, b in cells]
    if not ts.table_header:
        ts.table_header = texts
        return []
    out: list[NumericClaim] = []
    label = texts[0] if texts else ""
    row_degrees = read_degrees(label)
    for j, (a, b) in enumerate(cells):
        cell = row[a:b]
        if not figures_in(cell):
            continue
        header = ts.table_header[j] if j < len(ts.table_header) else ""
        prefix = f"{label} {header}: " if j else f"{header}: "
        out += _sentence_claims(index, prefix + cell, quote, ts, state, label_len=len(prefix), local=row_degrees)
    return out


def _sentence_claims(
    index: int,
    sentence: str,
    quote: str,
    ts: _TurnState,
    state: _ReaderState,
    label_len: int = 0,
    local: Stated | None = None,
) -> list[NumericClaim]:
    explicit = corrected(sentence, figures_in(sentence))
    figures = sorted([*explicit, *implied(sentence, explicit, state.figures)], key=lambda f: f.start)
    state.figures = [*state.figures, *figures][-50:]
    if local is None:
        regions = state.in_force.read(sentence)
    else:  # a table cell: the row's own degrees, nothing persists
        base = {**state.in_force.values, **state.in_force.turn_values}
        regions = [(Region(0, len(sentence), True), {**base, **local}, frozenset(base))]
    tags = find_tags(sentence)
    if not figures:
        topics = [t for t in tags if not is_scope(t.tag)]
        if topics:
            ts.carry = topics[0].tag  # a sentence that sets the topic for the figures after it
        return []
    label = _LINE_LABEL.match(sentence) if not label_len else None
    label_end = label_len or (label.end() if label else 0)
    sentence_tags = {t.tag for t in tags}
    around = " ".join(x for x in (ts.previous_sentence, ts.header, ts.question) if x)
    context_tags = {t.tag for t in find_tags(around)} if around else set()
    if ts.first and len(sentence) < 120 and ts.question and not any(not is_scope(t.tag) for t in tags):
        # a short answer is about what was asked ("How big is the model in memory?" "Around 90 gigs.")
        sentence_tags = sentence_tags | {t.tag for t in find_tags(ts.question) if not is_scope(t.tag)}
    out: list[NumericClaim] = []
    previous: tuple[Figure, NumericClaim] | None = None
    rankings: dict[int, Ranking] = {}
    corrections = _corrections(sentence, figures)
    figs_of_claims: list[Figure] = []
    local_of: dict[int, dict[str, int]] = {}
    for fig in figures:
        corrects = corrections.get(id(fig))
        if label_len and fig.start < label_end:
            continue  # a number in a table header's text is not a figure of this cell
        lo, hi = _clause(sentence, fig.start, fig.end)
        others = [f for f in figures if f is not fig]
        local_tags = _local_tags(tags, fig, lo, hi, figures)
        if (
            label_end
            and fig.start >= label_end
            and not any(label_end <= o.start < fig.start and o.dimension == fig.dimension for o in others)
        ):
            for t in tags:  # a line label ("KV per GPU: 38.7 GB") names the first figure after it
                if t.end <= label_end:
                    local_tags.setdefault(t.tag, fig.start - t.end)
            if "memory_total" in local_tags:
                local_tags.pop("total", None)  # "Total: ~57 GB < 80 GB": a sum heading, not the whole model
        if not any(not is_scope(t) for t in local_tags):
            for t, d in _topics_before(sentence, tags, fig, lo, figures).items():
                local_tags.setdefault(t, d)
        if corrects is not None:  # "200 gigabytes, sorry, 200 gigabits per second per GPU": the correction's words
            c_lo, c_hi = _clause(sentence, corrects[1].start, corrects[1].end)
            for t, d in _local_tags(tags, corrects[1], c_lo, c_hi, figures).items():
                local_tags.setdefault(t, d)
        local_of[id(fig)] = local_tags
        multi = any(
            ((lo <= f.start < hi) or (label_end and f.end <= label_end <= fig.start))
            and f.noun == "sequences"
            and f.value > 1
            for f in others
        )  # "32 sequences ... 155 GB", "KV cache (32 seqs, 2K ctx): ~8 GB": not one sequence's figure
        own_sentence = _sentence_tags_for(tags, fig, figures, sentence) | (sentence_tags - {t.tag for t in tags})
        w = _Where(local_tags, own_sentence - set(local_tags), context_tags, ts.carry, multi)
        ranking = _latency_by_scope(fig, w, rank(fig, w), sentence_tags)
        before = sentence[: fig.start]
        key = (fig.unit, round(fig.value, 6))
        source = _expression_source(sentence, fig, figures, rankings)
        if _is_sum(sentence, fig) and fig.dimension == "bytes" and not w.local_topics:
            # "43.75 + 38.65 + 5 = 87.4 GB per GPU": a sum of sizes is a total, whatever its first term is
            w = _Where({**local_tags, "memory_total": 0}, w.sentence, w.context, w.carry, w.multi_sequence)
            ranking = rank(fig, w)
        elif source is not None and not w.local_topics and source.quantity:
            # "350 divided by 4 is 87.5 GB per GPU": the weights, divided; "113 MB / 600 GB/s = 0.19 ms": the
            # time of what is sent
            src = REGISTRY[source.quantity]
            family = src.family if src.dimension == fig.dimension else (src.topics[0] if src.topics else src.family)
            w = _Where({**local_tags, family: 0}, w.sentence, w.context, w.carry, w.multi_sequence)
            ranking = _latency_by_scope(fig, w, rank(fig, w), sentence_tags)
        in_force = {**_region_for(regions, fig.start)[1], **read_precisions(sentence[lo:hi])}
        named_by_arithmetic = _arithmetic_names(
            sentence, fig, _assumptions(in_force, state.activation_bytes, state.in_force.layouts)
        )
        if named_by_arithmetic is not None and not w.local_topics:
            ranking = named_by_arithmetic
        if (
            not ranking.pinned
            and fig.dimension == "time"
            and ts.asks_latency
            and not ({t for t in tags if not is_scope(t.tag)} or context_tags - set(ts.question_tags))
        ):  # "What's the latency per token going to look like?" ... "So like, twenty-five milliseconds?"
            ranking = _latency_by_scope(fig, _Where({"per_token": 0}, set(), set(), None, False), ranking)
        said_under: Assumptions | None = None
        if previous is not None and _restates(sentence, previous[0], fig):
            ranking = Ranking(previous[1].quantity, previous[1].alternatives, not previous[1].guessed)
        elif corrects is not None and corrects[0] is fig:
            pass
        elif key in state.said and (
            _REFERS_BACK.search(before)
            or (not w.local_topics and fig.dimension != "count")
            or (_OPERATOR_BEFORE.search(before) and fig.dimension != "count")  # "393 KB / 200 GB/s": the 200 said
        ):
            ranking = state.said[key]  # a figure said again states what it stated the first time
            said_under = state.said_under.get(key)  # ... under the configuration it was said under
        region, stated, inherited = _region_for(regions, fig.start)
        stated = {**stated, **read_precisions(sentence[lo:hi])}
        layout = ts.question_layout
        if (
            layout
            and ("tp" in stated) != ("pp" in stated)
            and stated.get("tp", layout[0]) == layout[0]
            and (stated.get("pp", layout[1]) == layout[1])
        ):
            stated["tp"], stated["pp"] = layout  # "4-way TP" in answer to "2 stages of 4-way TP?": that layout
        link = _link(set(local_tags)) or _link(sentence_tags)
        if link:
            stated["link"] = link
        approx, bound = _qualifier(sentence, fig, lo)
        negated = bool(_NEGATED.search(sentence[lo : fig.start]))
        operand = bool(_OPERATOR_AFTER.match(sentence[fig.end :]) or _OPERATOR_BEFORE.search(before))
        other_gpu = "other_gpu" in sentence_tags  # "On H100s, HBM3 at 3.35 TB/s": not this scenario's hardware
        repeat = key in state.said and ranking == state.said[key]
        guessed = (
            not ranking.pinned
            or (key not in state.said and bool(_POINTS_BACK.search(before)))
            or negated
            or (operand and not repeat)
            or other_gpu
            or (region.hypothetical and ranking.quantity is None)
            or (fig.dimension == "bytes" and fig.base < 16)
        )
        if fig.dimension == "bytes" and fig.base < 16:  # "2 bytes": a precision, whatever the sentence is about
            ranking = Ranking("bytes_per_element", [], False)
        claim = NumericClaim(
            turn=index,
            quote=quote,
            value=fig.value,
            unit=fig.unit,
            approx=approx,
            bound=bound,
            quantity=ranking.quantity,
            alternatives=ranking.alternatives,
            guessed=guessed,
            assumptions=said_under or _assumptions(stated, state.activation_bytes, state.in_force.layouts),
            inherited=sorted(inherited),
            considered=_considered(sentence, figures, stated)
            + [Assumptions(tp=t, pp=p) for t, p in sorted(state.in_force.layouts)],
            operands=_operands(sentence, fig, figures),
            expression=expression_before(sentence, fig.start),
            claims_fit=_claims_fit(ranking.quantity, before, sentence[fig.end :]),
        )
        out.append(claim)
        figs_of_claims.append(fig)
        whole = _dividend_of(sentence, fig, figs_of_claims, out, local_of)
        if whole is not None:
            out[whole[0]] = whole[1]
        previous = (fig, claim)
        rankings[id(fig)] = Ranking(ranking.quantity, ranking.alternatives, not guessed)
        if ranking.quantity is not None and not guessed:
            state.said[key] = Ranking(ranking.quantity, ranking.alternatives, True)
            state.said_under.setdefault(key, claim.assumptions)
            q = REGISTRY[ranking.quantity]
            ts.carry = q.family if q.topics else ts.carry
        elif ranking.quantity is not None:
            state.said.setdefault(key, Ranking(ranking.quantity, ranking.alternatives, False))
        if ranking.quantity == "activations" and "activations" in local_tags and 0.1e9 <= fig.base <= 20e9:
            state.activation_bytes = fig.base  # the candidate's own budget, in force for the totals after it
    return out


_DIVIDED = re.compile(r"^\s*(?:/|÷|divided by\b|over\s+\d|split (?:across|over)\b)", re.I)


def _dividend_of(
    sentence: str, fig: Figure, figs: list[Figure], claims: list[NumericClaim], local_of: dict[int, dict[str, int]]
) -> tuple[int, NumericClaim] | None:
    """The figure a pinned result divides up, read as its family's whole: "each GPU holds 175GB/2/4 = 21.875 GB
    of weights" states 175 GB as the weights' total; the per-GPU words are the result's, not the dividend's.
    Returns (index of the dividend's claim, the claim re-read), or None."""
    claim = claims[-1]
    if claim.guessed or claim.quantity is None or not claim.expression:
        return None
    family = REGISTRY[claim.quantity].family
    for i, f in enumerate(figs[:-1]):
        earlier = claims[i]
        if f.dimension != fig.dimension or f.start < fig.start - len(claim.expression) - 4:
            continue
        if not _DIVIDED.match(sentence[f.end :]) or any(not is_scope(t) for t in local_of.get(id(f), {})):
            continue
        whole = next(
            (q for q in of_dimension(f.dimension, f.noun) if q.family == family and q.default and "total" in q.scopes),
            None,
        )
        if whole is None:
            return None
        return i, earlier.model_copy(update={"quantity": whole.id, "alternatives": [], "guessed": False})
    return None


_CORRECTION = re.compile(r"^[\s.,;:—-]*(?:sorry|no|I mean|rather|correction|oops|wait)\b[^0-9]{0,24}$", re.I)


def _corrections(sentence: str, figures: list[Figure]) -> dict[int, tuple[Figure, Figure]]:
    """Figures taken back at once ("393 megabytes, no, kilobytes, 393 kilobytes"; "200 gigabytes, sorry, 200
    gigabits per second"), each with the figure that corrects it: the slip is read with the correction's words."""
    out: dict[int, tuple[Figure, Figure]] = {}
    for a, b in itertools.pairwise(figures):
        gap = sentence[a.end : b.start]
        if a.dimension == b.dimension and (_CORRECTION.match(gap) or re.match(r"^[\s,]*no,\s*\w+,\s*$", gap)):
            out[id(a)] = (a, b)
    return out


def _expression_source(
    sentence: str, fig: Figure, figures: list[Figure], rankings: dict[int, Ranking]
) -> Ranking | None:
    """The reading of the figure an expression starts from ("350 divided by 4 is 87.5 GB"): a result has the
    family of what it divides up or multiplies."""
    expr = expression_before(sentence, fig.start)
    if not expr:
        return None
    count = len(re.findall(r"\d[\d,]*(?:\.\d+)?", expr))  # the expression's numbers are the last `count` before it
    before = [n for n in numbers_in(sentence) if n.end <= fig.start]
    if not count or len(before) < count:
        return None
    start = before[-count].start
    first = next(
        (
            f
            for f in figures
            if f.start == start and (f.dimension == fig.dimension or (f.dimension, fig.dimension) == ("bytes", "time"))
        ),
        None,
    )
    return rankings.get(id(first)) if first is not None else None


def _is_sum(sentence: str, fig: Figure) -> bool:
    expr = expression_before(sentence, fig.start)
    return bool(expr) and "+" in expr and not re.search(r"[*/×x]", expr)


def _restates(sentence: str, prev: Figure, fig: Figure) -> bool:
    """The same figure said again in other units ("350 GB, which is 326 GiB", "80 GiB = 85.9 GB", "4.72 MB
    (4.5 MiB)"): it states what the figure before it stated, also when the new unit slips by a thousand or by
    bits for bytes ("4,718,592 bytes, so 4.72 gigabytes")."""
    gap = sentence[prev.end : fig.start]
    if prev.dimension != fig.dimension or not prev.base or not _RESTATE.match(gap):
        return False
    ratio = fig.base / prev.base
    if re.search(r"\bso\b", gap, re.I):  # "so" links a consequence; only a unit slip makes it the same figure
        return any(abs(ratio / r - 1) <= 0.05 for r in (1e3, 1e-3))
    return any(abs(ratio / r - 1) <= 0.1 for r in (1.0, 1e3, 1e-3))


def _arithmetic_names(sentence: str, fig: Figure, assumptions: Assumptions | None = None) -> Ranking | None:
    """The quantity the candidate's own arithmetic computes, when its result is exactly one family's figure
    ("2 times 96 layers times 12,288 times 2 bytes, which is 4,718,592 bytes": the KV cache per token)."""
    expr = expression_before(sentence, fig.start)
    if not expr:
        return None
    got = evaluate(expr)
    if got is None or got[0] <= 0 or not fig.value:
        return None
    from grader.checker import exact_readings  # the checker owns the arithmetic of readings

    factor = fig.base / fig.value  # operands without units are base units or the figure's own
    values = [got[0]] if got[1] else [got[0], got[0] * factor]
    hits = next((h for v in values if (h := exact_readings(fig.dimension, fig.noun, v, assumptions))), [])
    families = {REGISTRY[q].family for q in hits}
    if len(families) != 1:
        return None
    return Ranking(hits[0], hits[1:], True)


def _region_for(
    regions: list[tuple[Region, Stated, frozenset[str]]], pos: int
) -> tuple[Region, Stated, frozenset[str]]:
    return next((x for x in regions if x[0].start <= pos < x[0].end), regions[-1])


def _claims_fit(quantity: str | None, before: str, after: str) -> bool | None:
    if quantity not in ("per_gpu_total", "weights_per_gpu", "weights_plus_kv_per_gpu"):
        return None
    if _ADDEND.search(before[-25:]):
        return None  # "on top of 43.75 GB of weights that's over 80 GB": the sum does not fit, not this figure
    tail = after[:40]
    if _FIT_NO.search(tail) or _FIT_NO.search(before[-30:]):
        return False
    if _FIT_YES.search(tail):
        return True
    return None


class NumberReader:
    """Reads numeric claims turn by turn, remembering the state after each turn keyed by the transcript up to it:
    the interviewer re-reads the transcript after every answer, and a transcript that grew by one turn costs one
    turn's reading."""

    MAX_SNAPSHOTS = 64  # one per transcript read (its last state): the live interviews of a process, not a batch

    def __init__(self) -> None:
        self._snapshots: dict[str, tuple[_ReaderState, list[NumericClaim]]] = {}

    def read(self, transcript: Transcript) -> list[NumericClaim]:
        keys: list[tuple[int, str, str]] = []  # (turn index, key of the transcript up to it, question before it)
        prefix = hashlib.sha256()
        question = ""
        for index, turn in enumerate(transcript.turns):
            prefix.update(f"{turn.role}\x00{turn.content}\x01".encode())
            if turn.role != "candidate":
                question = turn.content[-300:]
                continue
            keys.append((index, prefix.hexdigest(), question))
        if not keys:
            return []
        state, out, start = _ReaderState(), [], 0
        for n in range(len(keys) - 1, -1, -1):  # resume after the longest prefix already read
            snap = self._snapshots.get(keys[n][1])
            if snap is None:
                continue
            if n == len(keys) - 1:
                return list(snap[1])
            # the state moves on from here: it is taken, not copied (a later read of this shorter prefix reads
            # it again from the start)
            snap = self._snapshots.pop(keys[n][1], None)
            if snap is not None:
                state, out, start = snap[0], list(snap[1]), n + 1
            break
        for index, _, question in keys[start:]:
            out = out + _turn_claims(index, transcript.turns[index].content, question, state)
        if len(self._snapshots) >= self.MAX_SNAPSHOTS:
            self._snapshots.clear()
        self._snapshots[keys[-1][1]] = (state, list(out))
        return out


def read_numbers(transcript: Transcript) -> list[NumericClaim]:
    """Every figure in the candidate's turns as a numeric claim, in order."""
    return NumberReader().read(transcript)
