"""Find the numbers a candidate states, which quantity each one is, and the assumptions in force (no LLM).

A number is a claim only when it carries a unit ("43.75GB", "~44 gigs", "200 Gb/s", "0.19ms", "eleven
percent") or is a count the rubric asks about ("24 heads per GPU"). Which quantity it states is read from its
own clause first ("per GPU", "KV", "all-reduce", "bubble"), then from its sentence and the section header above
it. Assumptions (TP/PP degrees, precision, batch, context) are read from every sentence as it goes by and stay
in force until the candidate changes them; a hypothetical ("with pure TP", "if we used") holds only for its
own sentence. Written arithmetic ("175GB/2/4 = 21.875 GB") is kept with the result so the checker can redo it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from grader.claims import NumericClaim
from grader.transcript import Transcript
from grader.units import _ALIASES, NUMBER_WORDS, UNITS, parse_unit, words_to_number

# --- the number-with-unit pattern ----------------------------------------------------------------------

_UNIT_SPELLINGS = sorted(
    {k for k in UNITS if k not in {"count", "x"}} | {k for k in _ALIASES if not k.startswith(("k", "m", "g", "t")) or len(k) > 3}
    | {"gigs", "gig", "gb", "mb", "kb", "tb", "gib", "mib", "Gbps", "GBps", "gbps", "Mbps"},
    key=len,
    reverse=True,
)
_UNIT_RE = "|".join(re.escape(u) for u in _UNIT_SPELLINGS)
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+"
_APPROX = r"~|≈|about|around|roughly|approximately|approx\.?|nearly|almost|circa|some|under|over|less than|more than|at least|at most|close to|just under|just over"

NUMBER_RE = re.compile(
    rf"(?P<approx>(?:{_APPROX})\s*)?"
    rf"(?P<num>{_DIGITS})"
    rf"(?P<plus>\+)?\s?(?P<unit>{_UNIT_RE})(?![A-Za-z0-9])",
)
_WORD = "|".join(sorted((w for w in NUMBER_WORDS if w not in ("a", "half")), key=len, reverse=True))
WORD_NUMBER_WITH_UNIT_RE = re.compile(
    rf"(?P<approx>(?:{_APPROX})\s+)?\b(?P<num>(?:{_WORD})(?:[\s-]+(?:{_WORD}))*)\s*"
    rf"(?P<unit>{_UNIT_RE})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
COUNT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("heads_per_gpu", re.compile(r"(?P<num>\d+)\s+(?:attention\s+)?heads\s+(?:per|on each|each)\s+(?:GPU|device|rank)", re.I)),
    ("heads_per_gpu", re.compile(r"(?:each|every)\s+GPU\s+(?:gets|holds|has|handles|manages|owns)\s+(?P<num>\d+)\s+(?:attention\s+)?heads", re.I)),
    ("max_sequences", re.compile(r"(?P<approx>(?:about|around|roughly|~|only|at most)\s*)?(?P<num>\d+)\s+(?:full\s+)?(?:\d+[kK]?[- ]token\s+)?(?:sequences|seqs|requests)\s+(?:fit|can fit|will fit)", re.I)),
    ("max_sequences", re.compile(r"fit\s+(?:only\s+)?(?P<approx>(?:about|around|roughly|~)\s*)?(?P<num>\d+)\s+(?:full\s+)?(?:\d+[kK]?[- ]token\s+)?(?:sequences|seqs|requests)", re.I)),
    ("min_gpus", re.compile(r"(?:at least|minimum(?: of)?|need)\s+(?P<num>\d+)\s+GPUs\s+(?:just\s+)?(?:for|to hold)\s+(?:the\s+)?weights", re.I)),
]

# --- cues for which quantity a number states ------------------------------------------------------------


def _c(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words), re.I)


KIND_CUES: dict[str, re.Pattern[str]] = {
    "free": _c(r"\bleaves?\b", r"\bleft\b", r"\bfree\b", r"headroom", r"remaining", r"room for", r"giving us", r"spare", r"available for"),
    "gpu_memory": _c(r"A100\s*\(?\s*$", r"fits? (?:in|into|on)\s*(?:an?\s+|the\s+)?(?:A100\s*)?$", r"[<≤]\s*$", r"\bunder\s*$", r"of HBM", r"HBM capacity", r"GPU memory (?:is|of)"),
    "kv": _c(r"\bKV\b", r"key[- ]value", r"\bcache\b"),
    "activations": _c(r"activation"),
    "total_mem": _c(r"\btotal(?: memory| per GPU| footprint| usage)?\s*[:=]", r"\btotal (?:memory|footprint|usage)", r"\bsum\b", r"altogether", r"all in\b", r"all together"),
    "allreduce": _c(r"all[- ]?reduce", r"\bring\b", r"\bTP (?:comm|traffic)", r"data volume", r"\bpayload\b", r"tensor[- ]parallel(?:ism)? (?:comm|traffic)"),
    "pp": _c(r"\bPP\b", r"pipeline", r"\bstages?\b", r"hidden states", r"hand-?off", r"per transfer", r"point-to-point", r"\bp2p\b"),
    "weights": _c(r"weights?", r"\bholds?\b", r"\bstores?\b", r"param", r"\bmodel\b", r"\bFP16\b", r"\bBF16\b", r"\bINT[48]\b", r"\bFP8\b", r"\bFP32\b", r"quanti"),
    "nvlink": _c(r"NVLink", r"NVSwitch"),
    "infiniband": _c(r"InfiniBand", r"\bIB\b", r"\bHDR\b", r"\bNDR\b", r"\bNICs?\b", r"inter-?node", r"between nodes", r"across nodes"),
    "pcie": _c(r"PCIe", r"host link"),
    "hbm": _c(r"\bHBM", r"memory bandwidth"),
    "bubble": _c(r"bubble", r"idle"),
    "comm_time": _c(r"all[- ]?reduce", r"communication", r"\bcomm\b", r"overhead", r"\badds?\b", r"NVLink", r"sync"),
    "decode": _c(r"per[- ]token", r"inter-?token", r"\bTPOT\b", r"decode", r"token latency", r"per step", r"/token", r"tokens? per second", r"generation"),
    "prefill": _c(r"prefill", r"first token", r"\bTTFT\b", r"prompt processing"),
    "target": _c(r"\bP9\d\b", r"\bSLO\b", r"\bSLA\b", r"target", r"requirement", r"budget", r"meeting", r"\bmeets?\b"),
    "availability": _c(r"availab", r"uptime", r"nines"),
}
SCOPE_CUES: dict[str, re.Pattern[str]] = {
    "per_gpu": _c(r"per[- ](?:GPU|device|rank|shard)", r"each GPU", r"every GPU", r"/\s*GPU", r"on each", r"a GPU\b", r"per card"),
    "per_token": _c(r"per[- ]token", r"each token", r"/\s*token", r"a token\b"),
    "per_sequence": _c(r"per[- ](?:sequence|seq|request)", r"each (?:sequence|request)", r"one (?:sequence|request)", r"a (?:single )?(?:\d+[kK]?[- ]token )?(?:sequence|request)\b"),
    "per_layer": _c(r"per[- ]layer", r"each layer", r"every layer", r"a layer\b"),
    "per_step": _c(r"per (?:decode )?step", r"per forward", r"forward pass", r"per iteration", r"all layers", r"\b\d+ layers"),
    "total": _c(r"\btotal\b", r"in all", r"overall", r"whole model", r"altogether", r"entire"),
}

_HYPOTHETICAL = _c(r"\bpure\b", r"\bif we\b", r"\bif I\b", r"alternatively", r"instead of", r"compared (?:to|with)", r"\bvs\.?\b", r"versus", r"\bonly TP\b", r"\bwould be\b", r"\bcould\b")

# --- assumptions ---------------------------------------------------------------------------------------

_N = r"(\d+)"
ASSUMPTION_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("tp", re.compile(rf"{_N}[- ]?(?:way|x|×)\s*(?:TP|tensor)", re.I)),
    ("tp", re.compile(rf"\bTP\s*(?:=|:|of|degree(?: of)?)?\s*{_N}\b", re.I)),
    ("tp", re.compile(rf"tensor[- ]parallel(?:ism)?\s*(?:of|=|degree(?: of)?|across|over|with)\s*{_N}\b", re.I)),
    ("pp", re.compile(rf"{_N}[- ]?(?:way|x|×)\s*(?:PP|pipeline)", re.I)),
    ("pp", re.compile(rf"\bPP\s*(?:=|:|of|degree(?: of)?)?\s*{_N}\b", re.I)),
    ("pp", re.compile(rf"{_N}\s+pipeline\s+stages", re.I)),
    ("pp", re.compile(rf"pipeline\s+(?:of|with|across)\s+{_N}\s+stages", re.I)),
    ("dp", re.compile(rf"{_N}\s+(?:model\s+)?replicas", re.I)),
    ("dp", re.compile(rf"\bDP\s*(?:=|:|of)?\s*{_N}\b", re.I)),
    ("batch", re.compile(rf"batch(?:\s+size)?\s*(?:of|=|:)?\s*{_N}\b", re.I)),
    ("batch", re.compile(rf"{_N}\s+(?:concurrent\s+|active\s+|simultaneous\s+)?(?:seqs|sequences|requests|users)\b", re.I)),
    ("batch", re.compile(rf"\bb\s*=\s*{_N}\b")),
    ("context", re.compile(r"(\d+(?:\.\d+)?)\s*[kK]\s*(?:-?token\s+)?(?:ctx|context|tokens?|sequence)", re.I)),
    ("context", re.compile(r"(?:context|sequence length|seq len|ctx)\s*(?:of|=|:|length of|is)?\s*(\d[\d,]*)\s*(?:tokens?)?", re.I)),
    ("context", re.compile(r"(\d[\d,]{2,})[- ]token\s+(?:context|sequences?|window)", re.I)),
    ("tp", re.compile(rf"(?:all[- ]?reduce|\bring\b|tensor|\bTP\b).*?\bfor\s+{_N}[- ]way\b", re.I)),
    ("micro_batches", re.compile(rf"{_N}\s+micro-?batch(?:es)?", re.I)),
    ("micro_batches", re.compile(rf"\bm\s*=\s*{_N}\b")),
]
_PRECISION_RE = re.compile(r"\b(FP32|FP16|BF16|FP8|INT8|INT4)\b", re.I)
_KV_NEAR = re.compile(r"\bKV\b|cache", re.I)
_HYBRID_RE = re.compile(r"(\d+)\s*(?:PP|pipeline)\s*[x×*]\s*(\d+)\s*(?:TP|tensor)|(\d+)\s*(?:TP|tensor)\s*[x×*]\s*(\d+)\s*(?:PP|pipeline)", re.I)
_GPU_COUNT_RE = re.compile(r"(?:across|over|on|to|/)\s*(\d+)\s+GPUs", re.I)
_PURE_TP_RE = re.compile(r"pure\s+(?:\d+[- ]way\s+)?(?:TP|tensor)|(?:TP|tensor[- ]parallel\w*)\s+only|only\s+(?:TP|tensor)", re.I)

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])|\n+")
_EXPR_OPS = re.compile(r"[×x*/÷+\-]")


@dataclass
class _Context:
    """Assumptions in force as the candidate speaks, turn after turn."""

    values: dict[str, float | int | str] = field(default_factory=dict)
    kind: str | None = None  # the last quantity kind talked about (carries to the next sentence)
    header_kind: str | None = None

    def read(self, sentence: str) -> dict[str, float | int | str]:
        """Assumptions stated in this sentence; persistent ones update the context, hypothetical ones don't."""
        found: dict[str, float | int | str] = {}
        for m in _HYBRID_RE.finditer(sentence):
            if m.group(1):
                found["pp"], found["tp"] = int(m.group(1)), int(m.group(2))
            else:
                found["tp"], found["pp"] = int(m.group(3)), int(m.group(4))
        for key, pat in ASSUMPTION_PATTERNS:
            if key in found:
                continue
            m = pat.search(sentence)
            if not m:
                continue
            raw = m.group(1).replace(",", "")
            if key == "context" and re.search(r"[kK]", m.group(0)) and "." not in raw and float(raw) < 64:
                val: float | int = int(float(raw) * 1024)
            elif key == "context" and "." in raw:
                val = int(float(raw) * 1024)
            else:
                val = int(float(raw))
            if key in {"tp", "pp", "dp", "micro_batches"} and not 1 <= val <= 1024:
                continue
            found[key] = val
        if _PURE_TP_RE.search(sentence):
            m = _GPU_COUNT_RE.search(sentence)
            found.setdefault("tp", int(m.group(1)) if m else 8)
            found["pp"] = 1
        for m in _PRECISION_RE.finditer(sentence):
            prec = m.group(1).lower()
            window = sentence[max(0, m.start() - 25) : m.end() + 25]
            found["kv_precision" if _KV_NEAR.search(window) else "weight_precision"] = prec
        if not _HYPOTHETICAL.search(sentence):
            self.values.update(found)
        return {**self.values, **found}


def _split_sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) pairs; a decimal point never splits a sentence."""
    pos = 0
    for m in _SENTENCE_SPLIT.finditer(text):
        if text[pos : m.start()].strip():
            yield pos, text[pos : m.start()]
        pos = m.end()
    if text[pos:].strip():
        yield pos, text[pos:]


def _nearest_kind(text_before: str, text_after: str, kinds: tuple[str, ...]) -> tuple[str | None, int]:
    """The cue kind closest to the number: cues before it count at their distance, after it at double."""
    best: tuple[str | None, int] = (None, 10**6)
    for kind in kinds:
        pat = KIND_CUES[kind]
        for m in pat.finditer(text_before):
            d = len(text_before) - m.end()
            if d < best[1]:
                best = (kind, d)
        m = pat.search(text_after)
        if m and 2 * m.start() + 4 < best[1]:
            best = (kind, 2 * m.start() + 4)
    return best


def _scope(before: str, after: str) -> str | None:
    """The scope cue nearest the number ("113 MB per token" beats the "96 layers:" label before it)."""
    hits: list[tuple[int, str]] = []
    for scope, pat in SCOPE_CUES.items():
        hits += [(len(before) - m.end(), scope) for m in pat.finditer(before)]
        hits += [(m.start(), scope) for m in pat.finditer(after)]
    return min(hits)[1] if hits else None


_TARGET_BEFORE = _c(r"[<≤]\s*$", r"\b(?:under|below|within|target of|SLO of|budget of|requirement of)\s*$")
_TARGET_AFTER = _c(r"\s*(?:P9\d|SLO|SLA|target|requirement|budget)")
_BYTES_KINDS = ("free", "gpu_memory", "kv", "activations", "total_mem", "allreduce", "pp", "weights")


def _quantities_for(dim: str, before: str, after: str, scope: str | None, sentence: str, ctx: _Context,
                    expr_divides_by_rate: bool) -> list[str]:
    """Candidate quantity names for one number, most likely first; [] when it is not a checkable claim."""
    if dim == "bytes":
        kind, dist = _nearest_kind(before[-70:], after[:40], _BYTES_KINDS)
        if kind is None or dist > 60:
            kind = kind or ctx.kind or ctx.header_kind
        if kind in ("kv", "weights", "activations") and KIND_CUES["free"].search(before[-25:]):
            kind = "free"
        if kind is None:
            return []
        if kind in ("allreduce", "pp", "kv", "weights"):
            ctx.kind = kind
        if kind == "weights":
            return {"per_gpu": ["weights_per_gpu"], "total": ["weights_total"]}.get(
                scope or "", ["weights_total", "weights_per_gpu"])
        if kind == "kv":
            if scope == "per_token":
                per_gpu = SCOPE_CUES["per_gpu"].search(sentence)
                return ["kv_per_token_per_gpu", "kv_per_token"] if per_gpu else ["kv_per_token", "kv_per_token_per_gpu"]
            return {"per_sequence": ["kv_per_sequence"], "per_gpu": ["kv_per_gpu"], "total": ["kv_total"]}.get(
                scope or "", ["kv_total", "kv_per_gpu"])
        if kind == "allreduce":
            return {"per_layer": ["allreduce_per_layer"], "per_step": ["tp_volume_per_step"],
                    "per_token": ["tp_volume_per_token"]}.get(scope or "", ["allreduce_message", "allreduce_ring_bytes"])
        return {"free": ["free_per_gpu"], "gpu_memory": ["gpu_memory"], "activations": ["activations"],
                "total_mem": ["per_gpu_total"], "pp": ["pp_handoff_bytes"]}[kind]
    if dim == "rate":
        kind, _ = _nearest_kind(before[-60:], after[:30], ("nvlink", "infiniband", "pcie", "hbm"))
        kind = kind or {"allreduce": "nvlink"}.get(ctx.kind or "")
        return [f"{kind}_bandwidth"] if kind else []
    if dim == "time":
        if KIND_CUES["availability"].search(sentence):
            return []
        if _TARGET_BEFORE.search(before[-20:]) or _TARGET_AFTER.match(after):
            if KIND_CUES["prefill"].search(sentence):
                return ["ttft_target"]
            return ["latency_target"]
        kind, _ = _nearest_kind(before[-80:], after[:40], ("prefill", "decode", "comm_time", "pp"))
        if expr_divides_by_rate or kind in ("comm_time", None) and ctx.kind in ("allreduce", "pp"):
            pp_kind, _ = _nearest_kind(before[-80:], after[:40], ("pp",))
            if pp_kind or (kind is None and ctx.kind == "pp"):
                return ["pp_handoff_time"]
            return ["tp_comm_time"]
        return {"prefill": ["prefill_time"], "decode": ["decode_latency"], "comm_time": ["tp_comm_time"],
                "pp": ["pp_handoff_time"]}.get(kind or "", [])
    if dim == "fraction":
        if KIND_CUES["bubble"].search(sentence) or ctx.kind == "bubble":
            return ["bubble"]
        return []
    return []


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
    assumptions: dict[str, float | int | str]
    expression: str | None
    operand: bool
    claims_fit: bool | None
    lower_bound: bool = False


_EXPR_TAIL = re.compile(r"([\d.,\sA-Za-z/×x*÷+\-()]+?)=\s*(?:~|≈)?\s*$")
_FIT_YES = re.compile(r"[<≤]\s*\d|fits?\b(?! only)|✓|under (?:the )?\d+\s*GB|within", re.I)
_FIT_NO = re.compile(r"doesn'?t fit|does not fit|won'?t fit|too (?:big|large)|exceeds?|over (?:the )?\d+\s*GB|[>≥]\s*\d", re.I)


def _expression_before(sentence: str, num_start: int) -> str | None:
    """The written arithmetic that ends in '=' just before a number ("175GB/2/4 = 21.875 GB")."""
    head = sentence[:num_start]
    m = _EXPR_TAIL.search(head)
    if not m:
        return None
    expr = m.group(1)
    expr = re.split(r"[:;]|(?<=[a-z]) (?=[A-Z])", expr)[-1].strip()
    if not re.search(r"\d", expr) or not _EXPR_OPS.search(re.sub(r"\d+-way", "", expr)):
        return None
    return expr


def find_numbers(transcript: Transcript) -> list[FoundNumber]:
    """Every number with a unit in the candidate's turns, classified, with the assumptions in force."""
    ctx = _Context()
    out: list[FoundNumber] = []
    for turn_index, turn in enumerate(transcript.turns):
        if turn.role != "candidate":
            continue
        ctx.kind = None
        seen_values: set[tuple[float, str]] = set()
        for offset, sentence in _split_sentences(turn.content):
            assumptions = ctx.read(sentence)
            if sentence.rstrip().endswith(":") and len(sentence) < 60:
                ctx.header_kind, _ = _nearest_kind(sentence, "", _BYTES_KINDS)
            matches = list(NUMBER_RE.finditer(sentence)) + list(WORD_NUMBER_WITH_UNIT_RE.finditer(sentence))
            matches.sort(key=lambda m: m.start())
            for m in matches:
                found = _classify(m, sentence, offset, turn_index, assumptions, ctx, seen_values)
                if found is not None:
                    out.append(found)
            for quantity, pat in COUNT_PATTERNS:
                for m in pat.finditer(sentence):
                    out.append(FoundNumber(
                        turn=turn_index, start=offset + m.start(), end=offset + m.end(),
                        value=float(m.group("num")), unit="count",
                        approx=bool(m.groupdict().get("approx")), quote=sentence.strip(), quantities=[quantity],
                        assumptions=dict(assumptions), expression=None, operand=False, claims_fit=None,
                    ))
            if KIND_CUES["bubble"].search(sentence):
                ctx.kind = "bubble"
    return out


def _classify(m: re.Match[str], sentence: str, offset: int, turn_index: int,
              assumptions: dict[str, float | int | str], ctx: _Context,
              seen_values: set[tuple[float, str]]) -> FoundNumber | None:
    raw_num, raw_unit = m.group("num"), m.group("unit")
    unit = parse_unit(raw_unit)
    if unit is None:
        return None
    after = sentence[m.end():]
    before = sentence[: m.start()]
    try:
        value = float(raw_num.replace(",", ""))
    except ValueError:
        value = words_to_number(raw_num) or 0.0
    if unit.canonical == "B" and raw_unit in ("B", "b") and (value < 1000 or re.match(r"\s*(?:param|model)", after, re.I)):
        return None  # "175B parameters": billions, not bytes
    if unit.dimension == "bytes" and value < 64 and unit.canonical == "B":
        return None  # "2 bytes per parameter": a premise, not a claim
    if unit.dimension in ("flops", "count"):
        return None
    operand = (bool(re.match(r"\s*(?:FP16|BF16|INT\d|FP\d)?\s*[/×x*÷]\s*\d", after, re.I))
               or bool(re.search(r"[/×*÷]\s*$", before)))
    expr = _expression_before(sentence, m.start())
    expr_divides_by_rate = bool(expr and re.search(r"/\s*\d[\d.,]*\s*(?:GB/s|Gb/s|TB/s|GB/sec|Gbps)", expr))
    # the clause of this number: up to the neighbouring '=' or ',' or ';'
    seg_start = max(before.rfind(c) for c in "=,;(") + 1
    seg_end_candidates = [i for i in (after.find(c) for c in "=,;") if i >= 0]
    seg_end = min(seg_end_candidates) if seg_end_candidates else len(after)
    scope = _scope(before[seg_start:], after[:seg_end]) or _scope(before, "")
    if operand and unit.dimension == "bytes" and re.match(r"\s*(?:FP16|BF16|INT\d|FP\d)?\s*[/÷]", after, re.I):
        scope = "total"  # a figure being divided up is the whole
    quantities = _quantities_for(unit.dimension, before, after, scope, sentence, ctx, expr_divides_by_rate)
    if not quantities:
        return None
    key = (round(value, 6), unit.canonical)
    if operand and key in seen_values:
        return None  # the same figure reused as an operand: already a claim
    seen_values.add(key)
    approx_word = (m.group("approx") or "").strip().lower()
    lower_bound = approx_word in {"over", "more than", "at least", "just over"} or bool(m.groupdict().get("plus"))
    fit: bool | None = None
    if quantities[0] in ("per_gpu_total", "weights_per_gpu", "free_per_gpu"):
        tail = after[:40]
        if _FIT_NO.search(tail) or _FIT_NO.search(before[-30:]):
            fit = False
        elif _FIT_YES.search(tail):
            fit = True
    return FoundNumber(
        turn=turn_index, start=offset + m.start(), end=offset + m.end(), value=value, unit=unit.canonical,
        approx=bool(approx_word) and not lower_bound, quote=sentence.strip(), quantities=quantities,
        assumptions=dict(assumptions), expression=expr, operand=operand, claims_fit=fit, lower_bound=lower_bound,
    )


def extract_numeric_claims(transcript: Transcript) -> list[NumericClaim]:
    """The rules extractor's numeric claims: one per number with a unit that states a known quantity."""
    claims = []
    for f in find_numbers(transcript):
        assumptions = dict(f.assumptions)
        if len(f.quantities) > 1:
            assumptions["_alternatives"] = ",".join(f.quantities[1:])
        if f.lower_bound:
            assumptions["_lower_bound"] = 1
        claims.append(NumericClaim(
            turn=f.turn, quote=f.quote, quantity=f.quantities[0], value=f.value, unit=f.unit, approx=f.approx,
            assumptions=assumptions, expression=f.expression, claims_fit=f.claims_fit,
        ))
    return claims
