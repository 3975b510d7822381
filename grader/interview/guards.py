"""Guards on an LLM interviewer's reply: caps while it streams, checks before it is recorded.

A small or quantised local model misbehaving is the normal case, not the exception: asked "What interconnect
do the nodes have?", one streamed 14,000 characters of repeated, off-topic, many-language text for a minute.
So every LLM reply is bounded while it streams (`ReplyLimits`: a token cap, sent to the server and counted on
the stream, and a wall-clock cap) and checked before it is recorded (`check_reply`): not empty; not degenerate
(repetition, echoing the conversation, another language or script than the candidate's, far longer than the
planned turn, more questions than planned); no verdict on the answer ("that's correct", "well done"); no
reference figure the candidate has not said (`leaks`, the same
check the offline engine's tests apply to every phrasing); no number that is neither in the planned turn nor
said before in the interview. A reply that fails is replaced by the offline wording of the same planned turn;
the reason is recorded on the turn.

Language identification is `py3langid` (loaded on first use, about a second); everything else is plain text
handling, so this module imports no LLM client.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.settings import Settings

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_SENTENCE = re.compile(r"[.!?\n]+")
_RUN = re.compile(r"(\S)\1{9,}")


@dataclass(frozen=True)
class ReplyLimits:
    """Caps on one streamed reply, and how much longer than the planned turn a wording may be."""

    max_tokens: int = 200
    max_seconds: float = 30.0
    length_ratio: float = 3.0
    length_slack_words: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> ReplyLimits:
        return cls(max_tokens=settings.interviewer_max_tokens, max_seconds=settings.interviewer_max_seconds)

    def max_words(self, planned: str) -> int:
        n = len(_WORD.findall(planned))
        return max(round(n * self.length_ratio), n + self.length_slack_words)


def estimate_tokens(text: str, chunks: int) -> int:
    """Tokens streamed so far: servers send about one token per chunk; a server that sends bigger chunks is
    counted at four characters a token."""
    return max(chunks, (len(text) + 3) // 4)


@dataclass(frozen=True)
class ReplyContext:
    """What a reply is checked against."""

    planned: str
    candidate: str  # everything the candidate has said, joined
    said_before: str  # everything said in the interview so far (both sides), joined
    instructions: str = ""  # the prompt the model was given: never to be recited

    @classmethod
    def of(cls, planned: str, turns: list[Any], instructions: str = "") -> ReplyContext:
        return cls(
            planned=planned,
            candidate="\n".join(t.content for t in turns if t.role == "candidate"),
            said_before="\n".join(t.content for t in turns),
            instructions=instructions,
        )


# --- the checks ----------------------------------------------------------------------------------------


def too_long(text: str, planned: str, limits: ReplyLimits) -> str | None:
    words, cap = len(_WORD.findall(text)), limits.max_words(planned)
    if words > cap:
        return f"far longer than the planned turn ({words} words; at most {cap})"
    return None


def degenerate(text: str) -> str | None:
    """Repetition: a run of one character, one word over and over, a sentence twice, few distinct trigrams."""
    if _RUN.search(text):
        return "degenerate (a run of one character)"
    words = [w.lower() for w in _WORD.findall(text)]
    run = 1
    for a, b in pairwise(words):
        run = run + 1 if a == b else 1
        if run >= 4:
            return f"degenerate (repeats {a!r})"
    seen: set[str] = set()
    for sentence in _SENTENCE.split(text):
        key = " ".join(w.lower() for w in _WORD.findall(sentence))
        if len(key.split()) >= 3:
            if key in seen:
                return "degenerate (repeats a sentence)"
            seen.add(key)
    if len(words) >= 16:
        trigrams = list(zip(words, words[1:], words[2:], strict=False))
        if len(set(trigrams)) < 0.6 * len(trigrams):
            return "degenerate (repeats itself)"
    return None


def _words(text: str) -> str:
    return " " + " ".join(w.lower() for w in _WORD.findall(text)) + " "


def echoes(text: str, ctx: ReplyContext, span: int = 10) -> str | None:
    """A reply that copies a long stretch of the conversation (the opening prompt, the candidate's answer) or
    of its own instructions, which the planned turn does not contain, is reciting, not interviewing."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < span:
        return None
    before, prompt, planned = _words(ctx.said_before), _words(ctx.instructions), _words(ctx.planned)
    for i in range(len(words) - span + 1):
        window = " " + " ".join(words[i : i + span]) + " "
        if window in planned:
            continue
        if window in prompt:
            return "recites its instructions"
        if window in before:
            return "echoes the conversation instead of answering"
    return None


def _scripts(text: str) -> set[str]:
    """Writing systems of the letters in `text` ("LATIN", "CJK", "ARABIC", ...)."""
    out = set()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            out.add(name.split(" ")[0] if name else "UNKNOWN")
    return out


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_of(text: str) -> tuple[str, float]:
    """The most likely language of `text` and its probability."""
    lang, p = _identifier().classify(text)
    return str(lang), float(p)


def candidate_language(candidate: str) -> str:
    """The candidate's language, English (the interview's) unless their words say otherwise with confidence."""
    if len(_WORD.findall(candidate)) >= 4:
        lang, p = language_of(candidate)
        if p >= 0.9:
            return lang
    return "en"


def other_language(text: str, ctx: ReplyContext) -> str | None:
    """Letters of a script the conversation does not use, or text confidently in another language than the
    candidate's: the whole reply, or a third of its six-word stretches."""
    known = _scripts(ctx.said_before) | _scripts(ctx.planned) | {"LATIN"}
    foreign = sorted(_scripts(text) - known)
    if foreign:
        return f"another script than the candidate's ({', '.join(s.lower() for s in foreign)})"
    lang = candidate_language(ctx.candidate)
    words = _WORD.findall(text)
    if len(words) >= 4:
        top, p = language_of(text)
        if top != lang and p >= 0.9:
            return f"another language than the candidate's ({top}, not {lang})"
    windows = [" ".join(words[i : i + 6]) for i in range(0, max(0, len(words) - 5), 3)]
    if len(windows) >= 2:
        off = 0
        for w in windows:
            top, p = language_of(w)
            off += top != lang and p >= 0.95
        if off * 3 >= len(windows):
            return f"another language than the candidate's in {off} of {len(windows)} stretches"
    return None


_VERDICT = re.compile(
    r"\b(correct(ly)?|incorrect(ly)?|wrong|mistaken|spot on|well done|good job|great (answer|job|point)|"
    r"exactly right|(that'?s|you'?re|that is|you are|is|are) (right|correct|wrong)|perfect(ly)?|excellent)\b",
    re.IGNORECASE,
)


def judges(text: str, planned: str) -> str | None:
    """A verdict on the candidate's answer ("that's correct", "well done", "wrong") the planned turn does not
    make: the interviewer never grades aloud."""
    said = {m.group(0).lower() for m in _VERDICT.finditer(text)}
    allowed = {m.group(0).lower() for m in _VERDICT.finditer(planned)}
    extra = sorted(said - allowed)
    if extra:
        return f"judges the answer ({', '.join(extra)})"
    return None


def too_many_questions(text: str, planned: str) -> str | None:
    asked, planned_n = text.count("?"), planned.count("?")
    if asked > max(planned_n, 1) + 1:
        return f"asks {asked} questions; the planned turn asks {planned_n}"
    return None


def _normal_number(token: str) -> str:
    plain = token.replace(",", "")
    return plain.rstrip("0").rstrip(".") if "." in plain else plain


def unplanned_numbers(text: str, ctx: ReplyContext) -> list[str]:
    """Numbers in the reply that neither the planned turn nor anyone in the interview has said."""
    allowed = {_normal_number(m.group()) for m in _NUMBER.finditer(f"{ctx.planned}\n{ctx.said_before}")}
    found = dict.fromkeys(m.group() for m in _NUMBER.finditer(text))
    return [n for n in found if _normal_number(n) not in allowed]


def check_reply(text: str, ctx: ReplyContext, limits: ReplyLimits | None = None) -> str | None:
    """Why `text` must not be recorded as the interviewer's turn, or None when it may be."""
    limits = limits or ReplyLimits()
    if not text.strip():
        return "empty reply"
    leaked = leaks(text, ctx.candidate)
    if leaked:
        return f"states a reference figure the candidate has not said ({', '.join(leaked)})"
    for check in (
        lambda: too_long(text, ctx.planned, limits),
        lambda: degenerate(text),
        lambda: other_language(text, ctx),
        lambda: echoes(text, ctx),
        lambda: too_many_questions(text, ctx.planned),
        lambda: judges(text, ctx.planned),
    ):
        reason = check()
        if reason:
            return reason
    extra = unplanned_numbers(text, ctx)
    if extra:
        return f"states a number nobody said ({', '.join(extra)})"
    return None


def check_partial(text: str, ctx: ReplyContext, limits: ReplyLimits) -> str | None:
    """The checks that can only get worse as the stream goes on: run while streaming, to stop early."""
    return too_long(text, ctx.planned, limits) or degenerate(text)


# --- reference figures: the arithmetic the interviewer must never state first ---------------------------


def _number_forms(x: float) -> set[str]:
    forms = set()
    for digits in (1, 2, 3):
        forms.add(f"{x:.{digits}f}".rstrip("0").rstrip("."))
    for sig in (2, 3, 4):
        s = f"{x:.{sig}g}"
        if "e" not in s:
            forms.add(s)
    if x >= 1000 and abs(x - round(x)) < 1e-9:
        forms.add(f"{round(x):,}")
        forms.add(str(round(x)))
    return {f for f in forms if f not in ("0", "-0")}


def _unit_forms(value: float, unit: str) -> set[str]:
    if unit == "B":
        scaled = [value / f for f in (1e12, 1e9, 1e6, 1e3, 1, 2**30, 2**20)]
    elif unit == "s":
        scaled = [value, value * 1e3, value * 1e6]
    elif unit == "fraction":
        scaled = [value * 100]
    elif unit in ("count", "FLOP"):
        scaled = [value, value / 1e12, value / 1e15]
    else:
        return set()
    out: set[str] = set()
    for v in scaled:
        if 0.01 <= v < 1e7:
            out |= _number_forms(v)
    if unit == "fraction" and value:
        out |= {f"{round(value * 100)}%", f"{value * 100:.1f}%"}
        for d in range(2, 17):
            n = value * d
            if abs(n - round(n)) < 1e-9 and round(n) >= 1:
                out.add(f"{round(n)}/{d}")
                break
    return out


def _allowed_text() -> str:
    from grader.scenario import default_scenario

    s = default_scenario()
    return " ".join([s.opening_prompt, *(f.answer for f in s.facts)])


def mentions(text: str, figure: str) -> bool:
    return re.search(rf"(?<![\d.,/]){re.escape(figure)}(?![\d]|[.,/]\d)", text) is not None


@lru_cache(maxsize=1)
def forbidden_figures() -> frozenset[str]:
    """Every reference quantity under the scenario's defaults and the layouts a candidate is likely to choose,
    in several spellings; minus figures that the scenario's facts themselves state (those may be revealed)."""
    from grader.calculator import ServingConfig, reference

    configs = [
        ServingConfig.from_scenario(),
        ServingConfig.from_scenario(tp=4, pp=2),
        ServingConfig.from_scenario(tp=4, pp=2, comm_batch=16),
        ServingConfig.from_scenario(weight_precision="int8"),
        ServingConfig.from_scenario(weight_precision="int8", tp=4, pp=2),
        ServingConfig.from_scenario(weight_precision="int4"),
        ServingConfig.from_scenario(kv_precision="int8"),
        ServingConfig.from_scenario(link_bandwidth=300e9, tp=4, pp=2),
    ]
    figures: set[str] = set()
    for cfg in configs:
        for q in reference(cfg).values():
            if q.unit == "bool":
                continue
            figures |= _unit_forms(q.value, q.unit)
    allowed = _allowed_text()
    # one- and two-character integers ("5", "12") are everyday words in probes about "8 GPUs" etc.
    return frozenset(f for f in figures if len(f.replace(".", "")) >= 3 and not mentions(allowed, f))


@lru_cache(maxsize=1)
def _forbidden_rx() -> re.Pattern[str]:
    alternatives = "|".join(re.escape(f) for f in sorted(forbidden_figures(), key=len, reverse=True))
    return re.compile(rf"(?<![\d.,/])(?:{alternatives})(?![\d]|[.,/]\d)")


def leaks(text: str, said_before: str) -> list[str]:
    """Reference figures in `text` that the candidate had not said first."""
    found = {m.group() for m in _forbidden_rx().finditer(text)}
    return sorted(f for f in found if not mentions(said_before, f))
