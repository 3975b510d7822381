"""What a candidate's message asks for: facts, a figure to work out, something outside the scenario, or a turn
that is not an answer at all (a repeat, small talk, "I don't know", "any questions for me?").

A fact is revealed only when a *question* asks for it: the message is split into sentences, a sentence is a
question when it ends with '?' or opens with a question cue ("what", "how many", "do we", "tell me", ...; the
cues are data in rubric/interview.yaml), and a question asks for every scenario fact whose patterns it
matches. So "I'll assume NVLink." reveals nothing and "What interconnect do the nodes have?" reveals the
interconnect. Fact patterns are anchored at the start of a word ("width" does not fire inside "bandwidth",
"heads" not inside "overhead").

Each question sentence gets one reading, in this order: scenario facts (and, if it also asks for an amount
of a derived quantity, the refusal as well: "How big is the KV cache at full context?"); a question about the
interview (repeat, rephrase, questions for me, feedback, time left, go ahead, how are you, off-topic); a
request of a figure the candidate should work out (the refusal, and only then); a request outside the
scenario (other GPUs, another model, the software stack: answered from the plan); a question about the
answer itself ("does that make sense?": ignored); anything else is turned back as an assumption to state.
Statements are read for the interview's end, wrap-up, a topic the candidate moves to, and the short turns
that are not answers ("I don't know", "let me think", "hi", "thanks").

Every regular expression is compiled once, when the detector is built.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from grader.interview.probes import InterviewPlan, PhaseId
from grader.scenario import Fact

# Sentences end at . ! ? and at a paragraph or list item; a single line break (a wrapped line) does not end one.
_SENTENCE_SPLIT = re.compile(r"(?<=[?!.])\s+|\n\s*\n+|\n(?=\s*(?:[-*•#>|]|\d+[.)])\s)|(?<=\?)(?=[A-Za-z])")
_WORD_START = r"(?<![A-Za-z0-9_])"
_WORDS = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_CLAUSES = re.compile(r"[,;:—–]|\s-\s")
_TAG_ONLY = r"\?\s*$"

#: Off-script readings of a question sentence, in the order they are tried.
QUESTION_KINDS = (
    "repeat",
    "rephrase",
    "questions_for_me",
    "feedback",
    "time_left",
    "go_ahead",
    "how_are_you",
    "off_topic",
)
#: Off-script readings of a short message that brings no claim, in the order they are tried.
STATEMENT_KINDS = ("dont_know", "pause", "greeting", "thanks", "how_are_you", "off_topic")


def _any(patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _hit(rx: re.Pattern[str] | None, text: str) -> bool:
    return rx is not None and rx.search(text) is not None


@dataclass(frozen=True)
class MessageIntents:
    facts: tuple[str, ...] = ()
    """Fact topics asked for, in the order they were asked, each once."""
    withheld: tuple[str, ...] = ()
    """Question sentences that ask for a figure the candidate should work out (these get the refusal)."""
    outside: tuple[str, ...] = ()
    """Ids of the plan's `outside` entries asked about (other GPUs, another model...), each once."""
    unknown: tuple[str, ...] = ()
    """Question sentences that ask for information neither the scenario nor the plan holds."""
    off_script: tuple[str, ...] = ()
    """Off-script readings of question sentences (QUESTION_KINDS), in order, each once."""
    short: str | None = None
    """The off-script reading of a short message (STATEMENT_KINDS), if any; it counts only if the turn brings
    no claim."""
    vague: bool = False
    """A question too vague to name a fact ("What is the requirement?"): the current phase's facts answer it."""
    raised: PhaseId | None = None
    """A phase the candidate moves the interview to ("let's talk about failures")."""
    wrap_up: bool = False
    end: bool = False
    words: int = 0
    sentences: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)

    @property
    def asks(self) -> bool:
        """The message asks for something the interviewer answers with facts, a refusal or an assumption."""
        return bool(self.facts or self.withheld or self.outside or self.unknown or self.vague)

    def has(self, kind: str) -> bool:
        return kind in self.off_script


class IntentDetector:
    def __init__(self, facts: Sequence[Fact], plan: InterviewPlan) -> None:
        extra = plan.fact_patterns
        unknown = sorted(set(extra) - {f.topic for f in facts})
        if unknown:
            raise ValueError(f"fact_patterns names topics the scenario does not have: {', '.join(unknown)}")
        self._facts = [
            (
                f.topic,
                re.compile("|".join(f"{_WORD_START}(?:{p})" for p in [*f.patterns, *extra.get(f.topic, [])]), re.I),
            )
            for f in facts
        ]
        patterns = plan.intents
        self._cue = _any(patterns.question_cues)
        self._direct = _any([c for c in patterns.question_cues if c != _TAG_ONLY])
        self._meta = _any(patterns.meta)
        self._vague = _any(patterns.vague)
        self._raise = _any(patterns.raise_topic)
        self._wrap = _any(patterns.wrap_up)
        self._end = _any(patterns.end)
        self._fillers = re.compile(patterns.fillers, re.IGNORECASE) if patterns.fillers else None
        off = plan.off_script
        self._max_words = off.max_words
        self._off = {name: _any(getattr(off, name).patterns) for name in {*QUESTION_KINDS, *STATEMENT_KINDS}}
        self._withheld = _any(plan.withheld.patterns)
        self._outside = [(o.id, _any(o.patterns)) for o in plan.outside]
        self._over_facts = {o.id for o in plan.outside if o.over_facts}
        self._phase_cues = [(p.id, _any(p.cues)) for p in plan.phases if p.cues]

    @staticmethod
    def sentences(text: str) -> list[str]:
        return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s and s.strip()]

    def _core(self, sentence: str) -> str:
        s = sentence.strip().strip("\"'*-–— ")
        if self._fillers is not None:
            s = self._fillers.sub("", s, count=1)
        return s.strip()

    def is_question(self, sentence: str) -> bool:
        return self._cue is not None and self._cue.search(self._core(sentence)) is not None

    def is_direct(self, sentence: str) -> bool:
        """A question in form ("what is...", "do we...", "tell me..."), in any of its clauses, not only a statement
        said with a rising tone ("So it's FP16, right?", "I think it's about 600 GB/s?")."""
        if self._direct is None:
            return False
        return any(self._direct.search(self._core(c)) for c in _CLAUSES.split(self._core(sentence)) if c.strip())

    def fact_topics(self, sentence: str) -> list[str]:
        """Topics whose patterns the sentence matches, in the order they appear in it."""
        hits = []
        for topic, rx in self._facts:
            m = rx.search(sentence)
            if m is not None:
                hits.append((m.start(), topic))
        return [t for _, t in sorted(hits)]

    def _answered_after(self, rest: list[str]) -> bool:
        """A question the candidate goes on to answer (several words of statement follow it): rhetorical."""
        said = [s for s in rest if not self.is_question(s)]
        return len(_WORDS.findall(" ".join(said))) >= 6

    def asks_withheld(self, sentence: str) -> bool:
        """The sentence asks for an amount of a quantity the candidate is there to work out."""
        return _hit(self._withheld, sentence)

    def outside_topics(self, sentence: str) -> list[str]:
        return [oid for oid, rx in self._outside if _hit(rx, sentence)]

    def phase_named(self, text: str) -> PhaseId | None:
        """The phase whose cue appears first in `text`."""
        best: tuple[int, PhaseId] | None = None
        for pid, rx in self._phase_cues:
            m = rx.search(text) if rx is not None else None
            if m is not None and (best is None or m.start() < best[0]):
                best = (m.start(), pid)
        return best[1] if best else None

    def _raised(self, sentence: str) -> PhaseId | None:
        if self._raise is None:
            return None
        m = self._raise.search(self._core(sentence))
        if m is None:
            return None
        return self.phase_named(self._core(sentence)[m.end() :])

    def detect(self, message: str, already_asked: Sequence[str] = ()) -> MessageIntents:
        """`already_asked`: fact topics answered earlier; a rising-tone statement does not get them again."""
        stripped = message.strip()
        sentences = self.sentences(stripped)
        facts: list[str] = []
        withheld: list[str] = []
        outside: list[str] = []
        unknown: list[str] = []
        off: list[str] = []
        statements: list[str] = []
        raised: PhaseId | None = None
        vague = False
        for k, sentence in enumerate(sentences):
            raised = raised or self._raised(sentence)
            if not self.is_question(sentence):
                statements.append(sentence)
                continue
            rhetorical = self._answered_after(sentences[k + 1 :])
            core = self._core(sentence)
            if _hit(self._off["go_ahead"], core):  # "should I go into failures now?": permission, not a fact
                if "go_ahead" not in off:
                    off.append("go_ahead")
                continue
            kind = next((name for name in QUESTION_KINDS if _hit(self._off[name], core)), None)
            topics = self.fact_topics(sentence)
            if set(self.outside_topics(core)) & self._over_facts:
                topics = []
            if not self.is_direct(sentence):
                if kind is not None:  # "Any more questions for me?", "Sorry?"
                    if kind not in off:
                        off.append(kind)
                    continue
                statements.append(sentence)  # a statement with a rising tone: only a new fact is answered
                facts.extend(t for t in topics if t not in already_asked and t not in facts)
                continue
            if topics:
                facts.extend(t for t in topics if t not in facts)
                if self.asks_withheld(core):
                    withheld.append(sentence)
                continue
            if kind is not None:
                if kind not in off:
                    off.append(kind)
                continue
            if rhetorical:  # the candidate goes on to answer it: nothing to reply to
                statements.append(sentence)
                continue
            if self.asks_withheld(core):
                withheld.append(sentence)
                continue
            ids = self.outside_topics(core)
            if ids:
                outside.extend(i for i in ids if i not in outside)
                continue
            if _hit(self._meta, core):
                continue
            if _hit(self._vague, core):
                vague = True
                continue
            unknown.append(sentence)
        words = len(_WORDS.findall(stripped))
        short = None
        if words <= self._max_words:
            short = next((k for k in STATEMENT_KINDS if _hit(self._off[k], stripped)), None)
        return MessageIntents(
            facts=tuple(facts),
            withheld=tuple(withheld),
            outside=tuple(outside),
            unknown=tuple(unknown),
            off_script=tuple(off),
            short=short,
            raised=raised,
            vague=vague,
            wrap_up=_hit(self._wrap, stripped),
            end=_hit(self._end, stripped),
            words=words,
            sentences=sentences,
            statements=statements,
        )
