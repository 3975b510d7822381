"""Every claim must quote the candidate: a claim whose quote is not in a candidate turn is dropped and counted.

Matching is on normalised text (`normalise`): case-folded, compatibility-folded (NFKC/NFKD: ligatures,
full-width digits, the micro sign; accents dropped), curly quotes and dashes unified, punctuation removed
except inside numbers (43.75, 1,000), whitespace collapsed. A quote must match whole words. When it matches,
the claim's quote becomes the exact original text it matched, so the report shows what was said.

`prompted` is recomputed here, deterministically: the nearest interviewer turn before the cited turn
mentions the claim's concept / topic / quantity (a replaceable `Mentions` callable decides "mentions").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache

from grader.claims import Claims, ConceptClaim, NumericClaim, QuestionClaim, StrategyClaim
from grader.extract.base import Vocabulary
from grader.transcript import Transcript

#: (kind, term id, interviewer text) -> does that text mention the term? kind: concept|question|strategy|number
Mentions = Callable[[str, str, str], bool]

_UNIFY = {
    **dict.fromkeys("‘’‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("‹›", "'"),
}
_EXTRA_PUNCT = frozenset("<>|")
_NUMBER_INNER = frozenset(".,")


def _is_punct(c: str) -> bool:
    cat = unicodedata.category(c)
    return cat[0] == "P" or cat == "Sk" or c in _EXTRA_PUNCT


def _fold(text: str) -> tuple[list[str], list[int]]:
    """Per source character: compatibility-decomposed, accents dropped, case-folded, quotes/dashes unified."""
    chars: list[str] = []
    src: list[int] = []
    for i, ch in enumerate(text):
        for d in unicodedata.normalize("NFKD", ch):
            if unicodedata.category(d) == "Mn":
                continue
            for c in d.casefold():
                chars.append(_UNIFY.get(c, c))
                src.append(i)
    return chars, src


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index of the source character it came from."""
    chars, src = _fold(text)
    out: list[str] = []
    where: list[int] = []
    last = len(chars) - 1
    for j, c in enumerate(chars):
        inner = c in _NUMBER_INNER and 0 < j < last and chars[j - 1].isdigit() and chars[j + 1].isdigit()
        if not inner and (c.isspace() or _is_punct(c)):
            if not out or out[-1] == " ":
                continue
            c = " "
        out.append(c)
        where.append(src[j])
    if out and out[-1] == " ":
        out.pop()
        where.pop()
    return "".join(out), where


def normalise(text: str) -> str:
    """The form quotes are compared in (see the module docstring)."""
    return _normalise_with_map(text)[0]


def _find_words(haystack: str, needle: str) -> int:
    """First index where `needle` occurs in `haystack` on word boundaries (both already normalised), or -1."""
    if not needle:
        return -1
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        if (start == 0 or haystack[start - 1] == " ") and (end == len(haystack) or haystack[end] == " "):
            return start
        start = haystack.find(needle, start + 1)
    return -1


@lru_cache(maxsize=512)
def _normalised_turn(content: str) -> tuple[str, tuple[int, ...]]:
    norm, where = _normalise_with_map(content)
    return norm, tuple(where)


def locate_quote(transcript: Transcript, quote: str, turn: int) -> tuple[int, str] | None:
    """(candidate turn index, exact original text) where `quote` occurs, or None.

    The cited turn is tried first, then the other candidate turns, nearest first (a model that quotes
    correctly but miscounts turns keeps its claim, with the turn fixed). Interviewer turns never match.
    """
    needle = normalise(quote)
    if not needle:
        return None
    candidates = [i for i, _t in transcript.candidate_turns()]
    order = sorted(candidates, key=lambda i: (i != turn, abs(i - turn), i))
    for i in order:
        content = transcript.turns[i].content
        norm, where = _normalised_turn(content)
        at = _find_words(norm, needle)
        if at != -1:
            first, last = where[at], where[at + len(needle) - 1] + 1
            first, last = _widen(content, first, last, quote.strip())
            return i, content[first:last]
    return None


def _widen(content: str, first: int, last: int, quote: str) -> tuple[int, int]:
    """Take back the punctuation normalising dropped at the ends ("What interconnect?"), when the original has
    the same characters there."""
    head = len(quote) - len(quote.lstrip("".join(c for c in quote[:3] if _is_punct(c))))
    tail = len(quote) - len(quote.rstrip("".join(c for c in quote[-3:] if _is_punct(c))))
    if head and first >= head and content[first - head : first] == quote[:head]:
        first -= head
    if tail and content[last : last + tail] == quote[len(quote) - tail :]:
        last += tail
    return first, last


_ALIASES: dict[str, tuple[str, ...]] = {
    "strategy": ("strategy", "parallelism", "parallel", "shard", "sharding", "split"),
}


def default_mentions(kind: str, term_id: str, text: str) -> bool:
    """Does `text` mention the term: its id with `_` read as spaces (kv_cache -> "kv cache"), on word boundaries."""
    if not term_id or term_id == "unknown":
        return False
    norm = normalise(text)
    phrases = _ALIASES.get(term_id, ()) if kind == "strategy" else (term_id.replace("_", " "),)
    return any(_find_words(norm, normalise(p)) != -1 for p in phrases)


def mentions_from(vocabulary: Vocabulary) -> Mentions:
    """`default_mentions`, also accepting the rubric's label for a concept or topic ("Tensor parallelism")."""

    def mentions(kind: str, term_id: str, text: str) -> bool:
        if default_mentions(kind, term_id, text):
            return True
        label = vocabulary.label(kind, term_id)
        return bool(label) and _find_words(normalise(text), normalise(label)) != -1

    return mentions


def _term(claim: object) -> tuple[str, str]:
    if isinstance(claim, ConceptClaim):
        return "concept", claim.concept
    if isinstance(claim, QuestionClaim):
        return "question", claim.topic
    if isinstance(claim, NumericClaim):
        return "number", claim.quantity
    if isinstance(claim, StrategyClaim):
        return "strategy", "strategy"
    raise TypeError(f"not a claim: {type(claim).__name__}")


def is_prompted(transcript: Transcript, turn: int, kind: str, term_id: str, mentions: Mentions) -> bool:
    """The nearest interviewer turn before `turn` mentions the term."""
    for j in range(turn - 1, -1, -1):
        prev = transcript.turns[j]
        if prev.role == "interviewer":
            return mentions(kind, term_id, prev.content)
    return False


def ground_claims(claims: Claims, transcript: Transcript, *, mentions: Mentions | None = None) -> Claims:
    """Keep the claims whose quote is in a candidate turn (turn fixed, quote made exact), count the rest in
    `dropped` (added to the incoming count), and set `prompted` from the transcript."""
    mentions = mentions or default_mentions
    kept: dict[str, list] = {"concepts": [], "questions": [], "strategies": [], "numbers": []}
    dropped = 0
    for field, items in kept.items():
        for claim in getattr(claims, field):
            found = locate_quote(transcript, claim.quote, claim.turn)
            if found is None:
                dropped += 1
                continue
            turn, exact = found
            kind, term_id = _term(claim)
            prompted = is_prompted(transcript, turn, kind, term_id, mentions)
            items.append(claim.model_copy(update={"turn": turn, "quote": exact, "prompted": prompted}))
    return Claims(**kept, dropped=claims.dropped + dropped)
