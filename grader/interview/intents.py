"""What a candidate's message asks for: facts, something outside the facts, a repeat, the end of the interview.

A fact is revealed only when a *question* asks for it: the message is split into sentences, a sentence is a
question when it ends with '?' or opens with a question cue ("what", "how many", "do we", "tell me", ...; the
cues are data in rubric/interview.yaml), and a question asks for every scenario fact whose patterns it
matches. So "I'll assume NVLink." reveals nothing and "What interconnect do the nodes have?" reveals the
interconnect. Fact patterns are anchored at the start of a word ("width" does not fire inside "bandwidth",
"heads" not inside "overhead").

Every regular expression is compiled once, when the detector is built.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from grader.interview.probes import IntentPatterns
from grader.scenario import Fact

_SENTENCE_SPLIT = re.compile(r"(?<=[?!.])\s+|\n+|(?<=\?)(?=[A-Za-z])")
_WORD_START = r"(?<![A-Za-z0-9_])"


def _any(patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@dataclass(frozen=True)
class MessageIntents:
    facts: tuple[str, ...] = ()
    """Fact topics asked for, in the order they were asked, each once."""
    unknown: tuple[str, ...] = ()
    """Question sentences that ask for information the scenario does not hold."""
    repeat: bool = False
    wrap_up: bool = False
    end: bool = False

    @property
    def asks(self) -> bool:
        return bool(self.facts or self.unknown)


class IntentDetector:
    def __init__(self, facts: Sequence[Fact], patterns: IntentPatterns) -> None:
        self._facts = [
            (f.topic, re.compile("|".join(f"{_WORD_START}(?:{p})" for p in f.patterns), re.IGNORECASE)) for f in facts
        ]
        self._cue = _any(patterns.question_cues)
        self._meta = _any(patterns.meta)
        self._repeat = _any(patterns.repeat)
        self._wrap = _any(patterns.wrap_up)
        self._end = _any(patterns.end)
        self._fillers = re.compile(patterns.fillers, re.IGNORECASE) if patterns.fillers else None

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

    def fact_topics(self, sentence: str) -> list[str]:
        """Topics whose patterns the sentence matches, in the order they appear in it."""
        hits = []
        for topic, rx in self._facts:
            m = rx.search(sentence)
            if m is not None:
                hits.append((m.start(), topic))
        return [t for _, t in sorted(hits)]

    def detect(self, message: str) -> MessageIntents:
        stripped = message.strip()
        end = self._end is not None and self._end.search(stripped) is not None
        wrap = self._wrap is not None and self._wrap.search(stripped) is not None
        repeat = self._repeat is not None and self._repeat.search(stripped) is not None
        facts: list[str] = []
        unknown: list[str] = []
        for sentence in self.sentences(stripped):
            if not self.is_question(sentence):
                continue
            topics = self.fact_topics(sentence)
            if topics:
                facts.extend(t for t in topics if t not in facts)
                continue
            core = self._core(sentence)
            if self._meta is not None and self._meta.search(core):
                continue
            if self._repeat is not None and self._repeat.search(core):
                continue
            unknown.append(sentence)
        return MessageIntents(facts=tuple(facts), unknown=tuple(unknown), repeat=repeat, wrap_up=wrap, end=end)
