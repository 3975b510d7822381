"""The rubric's vocabulary as one `PatternSet`: every concept's mention and mechanism patterns, every
misconception's, every question topic's, scanned in one pass per turn (grader/matching.py).

Entry names: ("mention", concept id), ("mechanism", concept id), ("misconception", misconception id) and
("topic", topic id). The plain-`re` answers use the rubric's own compiled alternations, so the reference engine
runs exactly what the rules extractor ran before the scan existed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from grader.matching import PatternSet, Scan
from grader.rubric import PATTERN_FLAGS

_SETS: dict[int, tuple[Any, PatternSet]] = {}  # id(rubric) -> (the rubric, kept alive while cached; its set)
_MAX_SETS = 8


def vocabulary(rubric: Any) -> PatternSet:
    """The rubric's patterns as one set, built once per rubric object."""
    hit = _SETS.get(id(rubric))
    if hit is not None and hit[0] is rubric:
        return hit[1]
    entries: dict[Hashable, Sequence[str]] = {}
    compiled: dict[Hashable, Callable[[], Sequence[re.Pattern[str]]]] = {}

    def add(name: Hashable, sources: Sequence[str], patterns: Callable[[], Sequence[re.Pattern[str]]]) -> None:
        entries[name] = sources
        compiled[name] = patterns  # the rubric's own alternation, compiled only if a scan needs it

    for c in rubric.concepts:
        add(("mention", c.id), c.mention, lambda c=c: c.mention_patterns)
        add(("mechanism", c.id), c.mechanism, lambda c=c: c.mechanism_patterns)
        for m in c.misconceptions:
            add(("misconception", m.id), m.patterns, lambda m=m: m.compiled)
    for t in rubric.question_topics:
        add(("topic", t.id), t.patterns, lambda t=t: t.compiled)
    pset = PatternSet(entries, PATTERN_FLAGS, compiled)
    if len(_SETS) >= _MAX_SETS:
        _SETS.clear()
    _SETS[id(rubric)] = (rubric, pset)
    return pset


def scan_turn(rubric: Any, flats: Sequence[str], sep: str) -> Scan:
    """One pass over a turn's squashed sentences for every pattern of the rubric."""
    return vocabulary(rubric).scan(flats, sep)
