"""The configuration a candidate has in force as they speak: parallel degrees, precisions, batch, context.

Assumptions are read from every sentence as it goes by and stay in force until the candidate changes them,
across turns. Two exceptions, because candidates think aloud: a hypothetical clause ("with pure TP", "if we
used", "instead of 8-way TP") holds only for the figures in that clause, and a precision merely mentioned
("INT4: 87.5 GB") holds for the rest of its turn, where one chosen ("let's switch to INT8 weights") holds until
changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from grader.reading.figures import numbers_in

Stated = dict[str, int | float | str]

_N = r"(?<![\w,.])(\d+)(?![.,]\d)"  # a number that starts the phrase ("4-way TP"), not "TP4 x PP2"'s 4
_NA = r"(\d+)(?![.,]\d)"  # a number after its label ("TP4", "batch of 16")
DEGREE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
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
    ("tp", re.compile(rf"{_N}[- ]way\s+(?:ring|all-?reduce|TP group|tensor)", re.I)),
    ("kv_heads", re.compile(rf"{_N}\s+(?:KV|key[- ]value)\s+heads", re.I)),
    ("kv_heads", re.compile(r"\bGQA[- ]?(\d+)\b", re.I)),
    ("pp", re.compile(rf"{_N}[- ]?(?:way|x|×)\s*(?:PP|pipeline)", re.I)),
    ("pp", re.compile(rf"\bPP\s*(?:=|:|of|degree(?: of)?)?\s*{_NA}\b(?!\s*(?:[KMGT]i?B|ms|%))", re.I)),
    ("pp", re.compile(rf"{_N}\s+(?:pipeline\s+|PP\s+)?stages", re.I)),
    ("pp", re.compile(rf"{_N}-stage\b", re.I)),
    ("pp", re.compile(rf"pipeline\s+(?:of|with|across)\s+{_NA}\s+stages", re.I)),
    ("dp", re.compile(rf"{_N}\s+(?:model\s+)?replicas", re.I)),
    ("dp", re.compile(rf"\bDP\s*(?:=|:|of)?\s*{_NA}\b", re.I)),
    ("batch", re.compile(rf"(?<!micro-)(?<!micro )batch(?:\s+size)?\s*(?:of|=|:)?\s*{_NA}\b", re.I)),
    ("batch", re.compile(rf"\bb\s*=\s*{_NA}\b")),
    (
        "batch",
        re.compile(
            rf"{_N}\s+(?:concurrent|simultaneous|active|in-flight|live|parallel)\s+(?:sequences|requests|users|conversations|streams)",
            re.I,
        ),
    ),
    (
        "batch",
        re.compile(
            rf"\b(?:assume|assuming|say|take|serve|serving)\s+{_NA}\s+(?:sequences|requests|users|conversations)", re.I
        ),
    ),
    (
        "batch",
        re.compile(
            rf"(?<!room )(?<!space )(?<!enough )(?<!only )\b[Ff]or\s+{_NA}\s+(?:sequences|requests|users|conversations)\b"
        ),
    ),
    ("context", re.compile(r"(\d+(?:\.\d+)?)\s*[kK]\s*(?:-?token\s+)?(?:ctx|context|window)", re.I)),
    (
        "context",
        re.compile(
            r"(?:context|sequence length|seq len|ctx)\s*(?:of|=|:|length of|is)?\s*(\d[\d,]*)\s*(?:tokens?)?", re.I
        ),
    ),
    ("context", re.compile(r"(\d[\d,]{2,})[- ]token\s+(?:context|window)", re.I)),
    (
        "context",
        re.compile(
            r"(?:sequences?|requests?|conversations?|users?)\s+(?:at|of)\s+(?:full\s+)?(\d+(?:\.\d+)?)\s*[kK]\b(?![- ]?(?:prompt|input))",
            re.I,
        ),
    ),
    ("context", re.compile(r"(\d+(?:\.\d+)?)\s*[kK][- ]token\s+(?:sequences?|conversations?|requests?)", re.I)),
    ("micro_batches", re.compile(rf"{_N}\s+micro-?batch(?:es)?", re.I)),
    ("micro_batches", re.compile(rf"\bm\s*=\s*{_NA}\b")),
)
# A pattern is only tried on text that has one of its words (most sentences name no degree at all).
_DEGREE_WORDS = {
    "tp": ("tp", "tensor"),
    "pp": ("pp", "pipeline", "stage"),
    "dp": ("dp", "replica"),
    "batch": (
        "batch",
        "b=",
        "concurrent",
        "simultaneous",
        "active",
        "flight",
        "live",
        "parallel",
        "assum",
        "say",
        "take",
        "serv",
        "for",
    ),
    "context": ("k", "context", "ctx", "seq", "token"),
    "micro_batches": ("micro", "m="),
    "kv_heads": ("kv", "key", "gqa"),
}
_DEGREE_OK = {
    "tp": lambda v: v in (1, 2, 4, 8, 16, 32, 64),
    "pp": lambda v: 1 <= v <= 96,
    "dp": lambda v: 1 <= v <= 1024,
    "micro_batches": lambda v: 1 <= v <= 512,
    "batch": lambda v: 1 <= v <= 4096,
    "context": lambda v: 128 <= v <= 1_048_576,
    "kv_heads": lambda v: 1 <= v <= 96,
}
HYBRID_RE = re.compile(
    r"(\d+)\s*(?:-?way\s+)?(?:PP|pipeline)\s*[x×*]\s*(\d+)\s*(?:-?way\s+)?(?:TP|tensor)"
    r"|(\d+)\s*(?:-?way\s+)?(?:TP|tensor)\s*[x×*]\s*(\d+)\s*(?:-?way\s+)?(?:PP|pipeline)"
    r"|\bTP\s*(\d+)\s*[x×*]\s*PP\s*(\d+)|\bPP\s*(\d+)\s*[x×*]\s*TP\s*(\d+)",
    re.I,
)
_NO_PIPELINE = re.compile(r"\b(?:no|without(?: a)?)\s+(?:pipeline|PP)\b", re.I)
_GPU_COUNT_RE = re.compile(r"(?:across|over|on|to|/)\s*(?:all\s+)?(\d+)\s+GPUs", re.I)
_PURE_TP_RE = re.compile(
    r"pure\s+(?:\d+[- ]way\s+)?(?:TP|tensor)|(?:TP|tensor[- ]parallel\w*)\s+only|only\s+(?:TP|tensor)|"
    r"(?:\d+[- ]way\s+)?TP\s+alone|\bTP\s?8\b(?!\s*[x×*])|\b8[- ]way\s+(?:TP|tensor)",
    re.I,
)
_PURE_PP_RE = re.compile(
    r"pure\s+(?:\d+[- ]way\s+)?(?:PP|pipeline)|(?:PP|pipeline[- ]parallel\w*)\s+only|only\s+(?:PP|pipeline)|\bPP\s?8\b",
    re.I,
)
_PRECISION_RE = re.compile(r"\b(FP32|FP16|BF16|FP8|INT8|INT4|(?:4|8|16|32)[- ]bit)\b", re.I)
_BITS = {"4": "int4", "8": "int8", "16": "fp16", "32": "fp32"}
_PRECISION_NOUN_AFTER = re.compile(
    r"^[\s\-()]*(?:(?!and\b|or\b|FP|INT|BF)\w+\s+){0,2}?(weights?|KV|cache|activations?|params?|parameters|model)\b",
    re.I,
)
_KV_BEFORE = re.compile(r"(?:\bKV\b|cache)[^.;,]{0,20}$", re.I)
_PRECISION_CHOSEN = re.compile(
    r"switch(?:ing)? to|\buse\b|\busing\b|go(?:ing)? with|\bassum|let'?s|\bwe'?ll\b|\bI'?ll\b|\bI'?d\b|\bserve\b|"
    r"\bserving\b|\bdeploy|quantiz\w* (?:the )?(?:weights )?to|\bsay\b|\bmove to\b|\bchoose\b|\bpick\b|\bstored in\b|"
    r"\bin force\b|\bdefault\b",
    re.I,
)

# Hypotheticals. A contrast ("instead of X") makes only what follows it hypothetical; a condition ("if we",
# "with pure TP") its whole clause. Clauses end at ';', ', but', ', while', ', whereas'.
_CLAUSE_SPLIT = re.compile(
    r";|,?\s+but\s+|,\s*(?:while|whereas|so|and|then)\s+|(?<=[A-Za-z,])\s+-{1,2}\s+(?=[A-Za-z])|\s+—\s+"
)
_CONTRAST = re.compile(
    r"instead of|rather than|compared (?:to|with)|\bvs\.?\b|versus|as opposed to|\bsame as\b|\bjust like\b|\bas with\b",
    re.I,
)
_CONDITION = re.compile(
    r"\bpure\s+(?:\d+[- ]way\s+)?(?:TP|PP|DP|tensor|pipeline|data)|\bif\b|alternatively|\bwere\b|"
    r"\bhypothetically\b|\bsuppose\b|\bimagine\b|\bonly TP\b|\bTP alone\b|\bnaive(?:ly)?\b|"
    r"\bfor comparison\b|\bunless\b|\balternatives?\b|\bviable\b|\boptions?\b|\bconsider|\bbenchmark|\bwhat if\b",
    re.I,
)


def with_digits(text: str) -> str:
    """Number words written as digits ("four-way TP" -> "4-way TP"), same meaning, for the degree patterns."""
    out, pos = [], 0
    for n in numbers_in(text):
        if n.spoken:
            out.append(text[pos : n.start])
            out.append(f"{n.value:g}")
            pos = n.end
    out.append(text[pos:])
    return "".join(out)


def read_degrees(text: str) -> Stated:
    """TP/PP/DP, batch, context and micro-batches stated in one piece of text."""
    if any(w in text.lower() for w in ("two", "four", "eight", "sixteen", "twelve", "thirty")):
        text = with_digits(text)
    found: Stated = {}
    for m in HYBRID_RE.finditer(text):
        g = m.groups()
        if g[0]:
            found["pp"], found["tp"] = int(g[0]), int(g[1])
        elif g[2]:
            found["tp"], found["pp"] = int(g[2]), int(g[3])
        elif g[4]:
            found["tp"], found["pp"] = int(g[4]), int(g[5])
        else:
            found["pp"], found["tp"] = int(g[6]), int(g[7])
    low = text.lower() if any(c.isdigit() for c in text) else ""
    for key, pat in DEGREE_PATTERNS:
        if key in found or not any(word in low for word in _DEGREE_WORDS[key]):
            continue
        for m in pat.finditer(text):
            val = _degree_value(key, m)
            if val is not None and _DEGREE_OK[key](val):
                found[key] = val
                break
    if _NO_PIPELINE.search(text):
        found["pp"] = 1
    if _PURE_TP_RE.search(text) and "pp" not in found:
        m = _GPU_COUNT_RE.search(text)
        found.setdefault("tp", int(m.group(1)) if m else 8)
        found["pp"] = 1
    elif _PURE_PP_RE.search(text) and "tp" not in found:
        m = _GPU_COUNT_RE.search(text)
        found["tp"] = 1
        found.setdefault("pp", int(m.group(1)) if m else 8)
    return found


def _degree_value(key: str, m: re.Match[str]) -> int | None:
    raw = m.group(1).replace(",", "")
    try:
        num = float(raw)
    except ValueError:
        return None
    if key == "context" and re.search(r"\d\s*[kK]", m.group(0)):
        return int(num * 1024)
    return int(num)


def precisions_named(text: str) -> list[str]:
    """Every precision a text names, in order ("INT4 is a quarter of FP16": int4, fp16)."""
    out = []
    for m in _PRECISION_RE.finditer(text):
        prec = m.group(1).lower()
        out.append(_BITS[prec[: -len("-bit")].rstrip("- ")] if prec.endswith("bit") else prec)
    return list(dict.fromkeys(out))


def read_precisions(text: str) -> Stated:
    """Weight and KV precisions: "INT8 weights", "FP8 KV cache", "KV cache in FP8" (the noun nearest wins)."""
    found: Stated = {}
    for m in _PRECISION_RE.finditer(text):
        prec = m.group(1).lower()
        if prec.endswith("bit"):
            prec = _BITS[prec[: -len("-bit")].rstrip("- ")]
        noun = _PRECISION_NOUN_AFTER.match(text[m.end() : m.end() + 30])
        if noun:
            is_kv = noun.group(1).lower() in ("kv", "cache")
        else:
            is_kv = bool(_KV_BEFORE.search(text[max(0, m.start() - 30) : m.start()]))
        found["kv_precision" if is_kv else "weight_precision"] = prec
    return found


@dataclass
class Region:
    """A clause of a sentence, [start, end), and whether what it says is only supposed."""

    start: int
    end: int
    hypothetical: bool


def regions(sentence: str) -> list[Region]:
    out: list[Region] = []
    pos = 0
    bounds = [(m.start(), m.end()) for m in _CLAUSE_SPLIT.finditer(sentence)] + [(len(sentence), len(sentence))]
    for b_start, b_end in bounds:
        clause = sentence[pos:b_start]
        contrast = _CONTRAST.search(clause)
        if contrast:
            out.append(Region(pos, pos + contrast.start(), bool(_CONDITION.search(clause[: contrast.start()]))))
            out.append(Region(pos + contrast.start(), b_start, True))
        else:
            out.append(Region(pos, b_start, bool(_CONDITION.search(clause))))
        pos = b_end
    if out:
        out[-1].end = len(sentence)
    return out


@dataclass
class InForce:
    """What is in force as the candidate speaks: assumptions across turns, precisions mentioned in this turn."""

    values: Stated = field(default_factory=dict)
    turn_values: Stated = field(default_factory=dict)
    layouts: set[tuple[int, int]] = field(default_factory=set)

    def new_turn(self) -> None:
        self.turn_values = {}

    def read(self, sentence: str) -> list[tuple[Region, Stated, frozenset[str]]]:
        """Each clause with the assumptions its figures use and which of them were carried over from earlier
        sentences rather than stated in this one. Decided clauses update what is in force first."""
        parts = regions(sentence)
        chosen = bool(_PRECISION_CHOSEN.search(sentence))
        hyp: list[Stated] = []
        stated: set[str] = set()
        for r in parts:
            text = sentence[r.start : r.end]
            degrees, precisions = read_degrees(text), read_precisions(text)
            self._layout(degrees)
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
        return [(r, {**base, **h}, frozenset(base) - stated - set(h)) for r, h in zip(parts, hyp, strict=True)]

    def _layout(self, degrees: Stated) -> None:
        """A layout the candidate named whole ("TP4 x PP2", "pure 8-way TP"), decided or only compared: its
        figures are legitimate readings wherever they come up. A degree said alone ("4-way TP") names none."""
        if "tp" in degrees and "pp" in degrees:
            self.layouts.add((int(degrees["tp"]), int(degrees["pp"])))
