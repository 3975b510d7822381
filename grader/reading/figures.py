"""Find the figures in a sentence: a number with a unit ("43.75 GB", "~44 gigs", "200 Gb/s", "eleven percent")
or with the noun it counts ("24 heads", "2,048 tokens", "96 layers", "batch of 16", "hidden size 12,288").

Only the text is read here: which quantity a figure states is the reader's business. Numbers come as digits
("4,718,592", "175e9", "2K", "175B") or as words, with the filler of speech around them ("forty-three point
seven five gigs", "a hundred seventy-five billion"). Names that contain digits are not figures (A100, FP16,
NVLink 3, TP4, GPT-3), nor degree names ("4-way", "2x4") or multipliers ("1.5x").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from grader.units import UNITS, parse_unit, unit_spellings

# --- numbers ---------------------------------------------------------------------------------------------------

_SMALL = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
}
_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_NUMBER_WORD = "|".join(sorted([*_SMALL, *_TENS, *_SCALES], key=len, reverse=True))
_WORDS_RE = re.compile(
    rf"\b(?:a\s+(?=hundred|thousand|million|billion))?(?:{_NUMBER_WORD})"
    rf"(?:(?:[\s-]+|\s+and\s+)(?:{_NUMBER_WORD}|point)(?![\s-]+quarters?\b))*(?:\s+point(?:\s+(?:{'|'.join(list(_SMALL)[:10])}))+)?"
    rf"(?:\s+and\s+(?:a\s+half|a\s+quarter|(?:a|one|three)[\s-]quarters?))?"
    rf"(?:\s+(?:thousand|million|billion|trillion))?\b",
    re.I,
)
_FRACTIONS = {"a half": 0.5, "a quarter": 0.25, "one quarter": 0.25, "three quarter": 0.75}
_DIGITS_RE = re.compile(
    r"(?<![\w.,/])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)"
    r"(?P<suffix>[kKMB](?![A-Za-z]))?(?P<plus>\+)?"
    r"(?:\s*(?P<scale>thousand|million|billion|trillion)\b)?"
)


def words_value(text: str) -> float | None:
    """'forty-three point seven five' -> 43.75, 'a hundred seventy-five billion' -> 175e9, 'twelve thousand two
    hundred eighty-eight' -> 12288; None when the words are not a number."""
    fraction = 0.0
    m = re.search(r"\s+and\s+(a\s+half|(?:a|one|three)[\s-]quarters?)\b", text, re.I)
    if m:  # "four and three-quarter megs", "two and a half"
        key = re.sub(r"[\s-]+", " ", m.group(1).lower()).rstrip("s")
        fraction = _FRACTIONS.get(key, 0.0)
        text = text[: m.start()] + text[m.end() :]
    if re.search(r"\band\s*$", text, re.I):
        return None  # "one hundred and": a phrase broken off, not a number
    words = [w for w in re.split(r"[\s-]+", text.lower()) if w and w not in ("and", "a")]
    if not words:
        return None
    decimals = ""
    scale = 1.0
    if "point" in words:
        i = words.index("point")
        tail, words = words[i + 1 :], words[:i]
        if tail and tail[-1] in _SCALES:
            scale = _SCALES[tail.pop()]
        if not tail or any(w not in _SMALL or _SMALL[w] > 9 for w in tail):
            return None
        decimals = "".join(str(_SMALL[w]) for w in tail)
    total, current, seen = 0.0, 0.0, False
    for w in words:
        if w in _SMALL:
            current += _SMALL[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in _SCALES:
            total += max(current, 1) * _SCALES[w]
            current = 0
        else:
            return None
        seen = True
    if not seen:
        return None
    value = total + current + fraction
    if decimals:
        value += float("0." + decimals)
    return value * scale


@dataclass(frozen=True)
class Number:
    start: int
    end: int
    value: float
    text: str
    spoken: bool
    suffix: str = ""  # "K" (x1024 tokens), "B" (billions), "M" (millions) written onto the digits
    plus: bool = False  # "50+": at least this


def numbers_in(sentence: str) -> list[Number]:
    """Every number in a sentence, digits or words, in order; names with digits (A100, FP16) are skipped."""
    out: list[Number] = []
    for m in _DIGITS_RE.finditer(sentence):
        raw = m.group("num")
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            continue
        suffix = m.group("suffix") or ""
        scale = m.group("scale")
        if scale:
            value *= _SCALES[scale.lower()]
        if suffix in ("k", "K"):
            value *= 1024 if value < 64 and value == int(value) else 1000
        elif suffix == "M":
            value *= 1e6
        elif suffix == "B" and (value >= 7 or re.match(r"\s*(?:param|model)", sentence[m.end() :], re.I)):
            value *= 1e9  # "175B": billions; "2B per element" stays bytes
        elif suffix == "B":
            suffix = ""
            end = m.end("num")
            out.append(Number(m.start(), end, value, raw, False))
            continue
        out.append(Number(m.start(), m.end(), value, m.group(0), False, suffix.upper(), bool(m.group("plus"))))
    for m in _WORDS_RE.finditer(sentence):
        text = m.group(0)
        if re.match(r"(?:hundred|thousand|million|billion|trillion)\b", text, re.I):
            continue  # "a few hundred milliseconds" is no figure: a number phrase does not start with a scale
        if text.lower() in ("a", "one") or re.fullmatch(r"(?:a\s+)?one", text, re.I):
            continue  # "one" is nearly always an article ("one GPU", "one node")
        value = words_value(text)
        if value is None:
            continue
        out.append(Number(m.start(), m.end(), value, text, True))
    out.sort(key=lambda n: n.start)
    return _drop_overlaps(out)


def _drop_overlaps(nums: list[Number]) -> list[Number]:
    kept: list[Number] = []
    for n in nums:
        if kept and n.start < kept[-1].end:
            continue
        kept.append(n)
    return kept


# --- what follows a number: a unit, or a noun it counts -------------------------------------------------------

NOUNS: dict[str, str] = {
    "gpus": r"(?:(?:A100|H100|GPU)s?|cards?|devices?|ranks?)\b",
    "layers": r"(?:transformer\s+|decoder\s+)?layers?\b",
    "heads": r"(?:attention\s+|query\s+|KV\s+|kv\s+)?heads?\b",
    "tokens": r"tokens?\b",
    "sequences": r"(?:sequences?|seqs?|requests?|conversations?|streams?|users?)\b",
    "nodes": r"(?:nodes?|machines?|servers?|boxes)\b",
    "replicas": r"(?:replicas?|copies|model\s+copies)\b",
    "stages": r"(?:pipeline\s+)?stages?\b",
    "micro_batches": r"micro-?batch(?:es)?\b",
    "allreduces": r"(?:all-?reduces?|allreduce\s+calls|collectives)\b",
    "handoffs": r"(?:hand-?offs?|stage\s+boundar(?:y|ies))\b",
    "parameters": r"(?:param(?:eter)?s?)\b",
    "nics": r"(?:NICs?|HCAs?)\b",
}
_MODIFIER = r"(?:(?:concurrent|simultaneous|active|full(?:[- ]length|[- ]context)?|live|in-flight|parallel|total|more|"
_MODIFIER += r"separate|identical|independent|physical|extra|spare|healthy|surviving|remaining|dedicated|new|small|"
_MODIFIER += r"sequential|\d+[kK]?[- ]?token|\d+[kK]|A100|H100|80\s?GB|NVLink|GPU|pipeline|model|decode|prefill|"
_MODIFIER += r"attention|whole|data[- ]parallel|serving|inference|chat)\s+){0,2}"
_NOUN_AFTER = re.compile(
    r"\s*[- ]?" + _MODIFIER + "(?:" + "|".join(f"(?P<{k}>{v})" for k, v in NOUNS.items()) + ")", re.I
)

# "batch of 16", "hidden size 12,288": the noun comes first
_NOUN_BEFORE: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (
        noun,
        re.compile(
            rf"(?<![-\w])(?:{p})\s*(?:size\s*|length\s*|dimension\s*|dim\s*|count\s*|width\s*)?(?:of|=|:)?\s*$", re.I
        ),
    )
    for noun, p in (
        ("hidden", r"\bhidden|\bd_model|\bd-model|\bmodel dim(?:ension)?|\bembedding"),
        ("head_dim", r"\bhead[_ ]dim(?:ension)?|\bhead size|\bdimension"),
        ("ffn", r"\bFFN(?: inner)?|\bMLP(?: inner)?|\bintermediate"),
        ("vocab", r"\bvocab(?:ulary)?"),
        ("sequences", r"\bbatch(?:es)?|\bb|\bconcurrency"),
        ("tokens", r"\bcontext(?: window)?|\bsequence|\bprompts?|\bctx|\bseq len|\bchunks? of"),
        ("micro_batches", r"\bm\b|\bmicro-?batch(?:es)? count"),
        ("layers", r"\blayers"),
        ("heads", r"\bheads"),
    )
)

_PER_SECOND = re.compile(r"^\s*(?:a|per|/|each)\s*(?:second|sec|s)\b", re.I)
COUNT_UNIT = {"tokens": "tokens", "sequences": "sequences", "heads": "heads"}
"""The unit a count is reported in: the thing counted where the labels name it, `count` otherwise."""


@lru_cache(maxsize=1)
def _unit_re() -> re.Pattern[str]:
    spellings = [re.escape(u).replace(r"\ ", r"\s+") for u in unit_spellings()]
    return re.compile(r"\s?-?(?P<unit>" + "|".join(spellings) + r")(?![A-Za-z0-9])", re.I)


@dataclass(frozen=True)
class Figure:
    """A number and what it is counted in: a unit's dimension, or for a count the noun counted."""

    start: int  # where the number starts
    end: int  # where its unit or noun ends
    value: float  # as said, in `unit`
    unit: str  # canonical unit, or the count's report unit (tokens, sequences, heads, count)
    dimension: str  # bytes, time, rate, fraction, flop, flops, count
    noun: str | None
    base: float  # in base units (bytes, seconds, B/s, fraction, FLOP, count)
    spoken: bool
    plus: bool = False  # written "50+": a lower bound


_LINK_WORDS = re.compile(
    r"\b(?:InfiniBand|IB|NICs?|HCAs?|links?|bandwidth|network|HDR|NDR|RoCE|Ethernet|NVLink|PCIe|wire|ports?|"
    r"per second|a second)\b|/s\b",
    re.I,
)
_SKIP_BEFORE = re.compile(
    r"\b(?:TP|PP|DP|EP|SP|INT|FP|BF|Gen|NVLink|NVSwitch|GPT|CUDA|Llama|Ampere|Hopper)[-\s]?$", re.I
)
_SKIP_AFTER = re.compile(
    r"^(?:[- ]?way\b|x\b|×|/\d|[- ]?fold\b|[- ]?bit\b|[- ]?bits?\b(?!/| per)|th\b|st\b|nd\b|rd\b|:\d)", re.I
)
_RANGE_JOIN = re.compile(r"^\s*(?:to|-|–|or|and)\s*(?:~|about\s+)?$", re.I)


def figures_in(sentence: str) -> list[Figure]:
    """The figures of a sentence, in order. A number before a range ("60 to 90 ms") takes the unit after it."""
    nums = numbers_in(sentence)
    out: list[Figure | None] = []
    for i, n in enumerate(nums):
        fig = _figure(sentence, n)
        if fig is None and i + 1 < len(nums) and _RANGE_JOIN.match(sentence[n.end : nums[i + 1].start]):
            nxt = _figure(sentence, nums[i + 1])
            if nxt is not None and nxt.value:
                factor = nxt.base / nxt.value
                fig = Figure(n.start, n.end, n.value, nxt.unit, nxt.dimension, nxt.noun, n.value * factor, n.spoken)
        out.append(fig)
    return [f for f in out if f is not None]


def _figure(sentence: str, n: Number) -> Figure | None:
    before, after = sentence[: n.start], sentence[n.end :]
    if not n.spoken and (_SKIP_BEFORE.search(before) or _SKIP_AFTER.match(after)):
        return None
    if n.suffix == "B":
        return _count(n, n.value, "parameters", n.end)  # "175B" is a parameter count even without "parameters"
    m = _unit_re().match(after)
    if m is not None and not (n.suffix == "K" and m.group("unit").lower().startswith("t")):
        unit = parse_unit(m.group("unit"))
        if unit is not None and not (unit.canonical == "B" and n.suffix):
            dim = unit.dimension
            canonical = unit.canonical
            if unit.bits and dim == "bytes" and _LINK_WORDS.search(sentence):
                # "200 gigabits per GPU" of InfiniBand: a link, said without "per second"; "350 Gb" of weights
                # stays a size said in bits (a unit slip)
                canonical, dim = canonical + "/s", "rate"
                unit = UNITS[canonical]
            if dim in ("count",):
                return None
            return Figure(
                n.start, n.end + m.end(), n.value, canonical, dim, None, n.value * unit.factor, n.spoken, n.plus
            )
    m = _NOUN_AFTER.match(after)
    if m is not None:
        noun = next(k for k in NOUNS if m.group(k))
        rate = _PER_SECOND.match(after[m.end() :])
        if noun == "tokens" and rate:  # "6,400 tokens a second": a throughput
            end = n.end + m.end() + rate.end()
            return Figure(n.start, end, n.value, "tokens/s", "throughput", None, n.value, n.spoken)
        if n.suffix == "K" and noun in ("sequences", "tokens"):
            return _count(n, n.value, "tokens", n.end + m.end())  # "a 2K sequence" is 2,048 tokens long
        return _count(n, n.value, noun, n.end + m.end())
    if n.suffix == "K" and re.match(r"\s*(?:context|ctx|window|prompts?|sequences?)\b", after, re.I):
        return _count(n, n.value, "tokens", n.end)
    for noun, pat in _NOUN_BEFORE:
        if pat.search(before[-40:]):
            return _count(n, n.value, noun, n.end)
    return None


def _count(n: Number, value: float, noun: str, end: int) -> Figure:
    return Figure(n.start, end, value, COUNT_UNIT.get(noun, "count"), "count", noun, value, n.spoken, n.plus)


# --- figures whose unit is implied ----------------------------------------------------------------------------

_APPOSITION = re.compile(
    r"^[\s,;:(]*(?:call it|say|so|i\.e\.|roughly|about|or|≈|~|that's|round(?:ed)? to)\s*,?\s*$", re.I
)
_RESULT = re.compile(
    r"(?:\bis|=|\bequals|\bcomes to|\bgives|\bmakes|\bthat's)\s*(?:about|roughly|~|≈|like)?\s*,?\s*$", re.I
)
_SELF_CORRECTION = re.compile(r"^[\s,;:—-]*(?:sorry|no|I mean|rather|correction|oops|wait)\b[\s,;:—-]*$", re.I)
_NOT_A_QUANTITY_AFTER = re.compile(r"^\s*(?:[-–]?\s*way\b|x\b|×|/\s*\d|%|\)|st\b|nd\b|rd\b|th\b|[-–]\s*\d|:\d)", re.I)
_NOT_A_QUANTITY_BEFORE = re.compile(
    r"(?:\b(?:TP|PP|DP|INT|FP|BF|Gen|NVLink|GPT|CUDA|step|stage|turn|option|v|x)\s*|[#@$/^-])$", re.I
)


def corrected(sentence: str, figures: list[Figure]) -> list[Figure]:
    """A size said where a rate was meant and corrected at once ("200 gigabytes, sorry, 200 gigabits per second"):
    the first is the rate it was corrected from, with the unit it was said in."""
    out = list(figures)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        said_again = a.value == b.value and _SELF_CORRECTION.match(sentence[a.end : b.start])
        if a.dimension == "bytes" and b.dimension == "rate" and said_again and a.unit + "/s" in UNITS:
            u = UNITS[a.unit + "/s"]
            out[i] = Figure(a.start, a.end, a.value, u.canonical, "rate", None, a.value * u.factor, a.spoken)
    return out


def implied(sentence: str, figures: list[Figure], said: list[Figure]) -> list[Figure]:
    """Bare numbers whose unit the talk implies, as figures: one that rounds the figure just before it ("9.7 gigs,
    call it ten"), one that repeats a figure said before ("the 32", "44 plus 39 is 83" after "44 gigs" and
    "39 a card"), and the result of adding such figures up. `said` is what the candidate said before, latest
    last."""
    spans = [(f.start, f.end) for f in figures]
    out: list[Figure] = []
    for n in numbers_in(sentence):
        if any(a <= n.start < b for a, b in spans) or n.suffix:
            continue
        before, after = sentence[: n.start], sentence[n.end :]
        if _NOT_A_QUANTITY_AFTER.match(after) or _NOT_A_QUANTITY_BEFORE.search(before) or _unit_re().match(after):
            continue
        known = sorted([*figures, *out], key=lambda f: f.start)
        prev = [f for f in known if f.end <= n.start]
        like: Figure | None = None
        if (
            prev
            and _APPOSITION.match(sentence[prev[-1].end : n.start])
            and prev[-1].value
            and (0.7 <= n.value / prev[-1].value <= 1.3)
        ):
            like = prev[-1]
        if like is None and (n.value >= 10 or n.value != int(n.value)):
            like = next((f for f in reversed([*said, *prev]) if f.value and abs(n.value / f.value - 1) <= 0.005), None)
        if like is None and _RESULT.search(before) and len(prev) >= 2:
            a, b = prev[-2], prev[-1]
            if a.unit == b.unit and a.dimension != "count" and abs(a.value + b.value - n.value) <= 0.03 * n.value:
                like = a
        if like is None:
            continue
        factor = like.base / like.value if like.value else 1.0
        out.append(Figure(n.start, n.end, n.value, like.unit, like.dimension, like.noun, n.value * factor, n.spoken))
    return out
