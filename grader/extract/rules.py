"""The offline extractor: lexicons and patterns from the rubric YAML, no model, no network.

It is the default with no API key, the LLM extractor's fallback, and the interviewer's live coverage meter,
so it must be cheap: patterns are compiled once per rubric, and each candidate turn's claims are memoised by
its text and the interviewer turn before it (the interviewer re-reads the whole transcript after every turn).

"Explained" needs the mechanism, not the word: a concept is `explained` only where one of its `mechanism`
patterns matches (TP: split each layer / all-reduce of partial results); a name alone is `mentioned`, so a
list of buzzwords stays at `mentioned` however long it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from grader.claims import Claims, ConceptClaim, NumericClaim, QuestionClaim, StrategyClaim
from grader.numbers import _HYBRID_RE, ASSUMPTION_PATTERNS, extract_numeric_claims
from grader.rubric import split_sentences
from grader.transcript import Transcript

_QUESTION_CUE = re.compile(
    r"\?|^\s*(?:what|how|which|do|does|did|is|are|can|could|should|will|would|may|any|tell me|"
    r"i(?:'d| would) like to know|before i start|quick question)\b",
    re.I,
)
_PROPOSAL = re.compile(
    r"\b(?:I(?:'d| would| will|'ll)? (?:use|go with|propose|pick|choose|deploy|start with|recommend|do|split|shard|run)|"
    r"we(?:'d| would| will|'ll)? (?:use|go with|need|split|shard|deploy|run)|let'?s|my (?:plan|proposal|design)|"
    r"propose|the plan is|so we need|we can split|split (?:it|the model)|shard (?:it|the model))",
    re.I,
)
_JUSTIFICATION = {
    "memory": re.compile(r"\bmemory\b|\bfits?\b|\bGB\b|\bweights\b|too big|won'?t fit|headroom", re.I),
    "latency": re.compile(r"latency|\bms\b|per[- ]token|faster|slower|time to first", re.I),
    "communication": re.compile(r"all-?reduce|communication|bandwidth|NVLink|InfiniBand|interconnect|traffic", re.I),
    "bubble": re.compile(r"bubble|idle|micro-?batch", re.I),
    "cost": re.compile(r"\bcost|fewer GPUs|cheaper|expensive|budget", re.I),
    "scalability": re.compile(r"\bscal(?:e|ing|able)|more (?:nodes|GPUs)|replica|throughput", re.I),
}
_ALTERNATIVES = {
    "tp_only": re.compile(r"pure (?:\d+[- ]way )?(?:TP|tensor)|(?:TP|tensor[- ]parallel\w*) (?:alone|only)|only (?:TP|tensor)|\b8[- ]way TP\b", re.I),
    "pp_only": re.compile(r"pure (?:\d+[- ]way )?(?:PP|pipeline)|(?:PP|pipeline[- ]parallel\w*) (?:alone|only)|only (?:PP|pipeline)|\b8[- ]way PP\b|8 (?:pipeline )?stages", re.I),
    "dp": re.compile(r"data[- ]parallel|\breplicas?\b|\bDP\b", re.I),
    "single_gpu": re.compile(r"(?:vs\.?|versus|instead of|rather than|compared (?:to|with)) (?:a )?(?:single|one) GPU", re.I),
}


@dataclass(frozen=True)
class _Lexicon:
    concepts: tuple[tuple[str, tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]], ...]
    misconceptions: tuple[tuple[str, str, tuple[re.Pattern[str], ...]], ...]  # (concept, id, patterns)
    topics: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]


def _compile(patterns: Any) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.I) for p in (patterns or ()))


_LEXICONS: dict[int, tuple[Any, _Lexicon]] = {}


def _lexicon(rubric: Any) -> _Lexicon:
    """Compiled once per rubric object (kept alive beside its lexicon so its id is never reused)."""
    hit = _LEXICONS.get(id(rubric))
    if hit is not None and hit[0] is rubric:
        return hit[1]
    concepts, misconceptions = [], []
    for c in rubric.concepts:
        concepts.append((c.id, _compile(c.mention), _compile(c.mechanism)))
        for m in c.misconceptions or ():
            misconceptions.append((c.id, m.id, _compile(m.patterns)))
    topics = tuple((t.id, _compile(t.patterns)) for t in rubric.question_topics)
    lex = _Lexicon(tuple(concepts), tuple(misconceptions), topics)
    _LEXICONS[id(rubric)] = (rubric, lex)
    return lex


def _mentions(lex: _Lexicon, text: str) -> set[str]:
    """Concept ids and topic ids named in a text (for `prompted`: what the interviewer just asked about)."""
    found = {cid for cid, mention, mech in lex.concepts if any(p.search(text) for p in mention + mech)}
    found |= {tid for tid, pats in lex.topics if any(p.search(text) for p in pats)}
    return found


@lru_cache(maxsize=4096)
def _turn_claims(lex: _Lexicon, index: int, text: str, asked: frozenset[str], hinted: bool) -> Claims:
    """Claims of one candidate turn. `asked` is what the interviewer's previous turn named: a claim about it
    was prompted (and so is everything after a hint)."""
    concepts: dict[str, ConceptClaim] = {}
    questions: dict[str, QuestionClaim] = {}
    misconceptions: list[ConceptClaim] = []
    sentences = split_sentences(text)
    for sentence in sentences:
        for cid, mention, mechanism in lex.concepts:
            level = "explained" if any(p.search(sentence) for p in mechanism) else (
                "mentioned" if any(p.search(sentence) for p in mention) else None)
            if level is None or (cid in concepts and concepts[cid].level == "explained"):
                continue
            if cid in concepts and level == "mentioned":
                continue
            concepts[cid] = ConceptClaim(turn=index, quote=sentence, concept=cid, level=level,
                                         prompted=hinted or cid in asked)
        for cid, mid, pats in lex.misconceptions:
            if any(p.search(sentence) for p in pats):
                misconceptions.append(ConceptClaim(turn=index, quote=sentence, concept=cid, level="misconception",
                                                   misconception=mid, prompted=hinted or cid in asked))
        if _QUESTION_CUE.search(sentence):
            for tid, pats in lex.topics:
                if tid not in questions and any(p.search(sentence) for p in pats):
                    questions[tid] = QuestionClaim(turn=index, quote=sentence, topic=tid, prompted=False)
    strategies = _strategies(index, sentences, text, asked, hinted)
    return Claims(concepts=[*concepts.values(), *misconceptions], questions=list(questions.values()),
                  strategies=strategies)


def _strategies(index: int, sentences: list[str], text: str, asked: frozenset[str], hinted: bool) -> list[StrategyClaim]:
    """The turn's proposal (a proposal sentence with parallel degrees or a named kind of parallelism) and what
    the turn says for it. Of several proposal sentences the most specific wins: "split it across 8 GPUs"
    followed by "I'd use tensor parallelism" proposes tensor parallelism."""
    best: tuple[int, str, dict[str, int]] | None = None
    for sentence in sentences:
        if not _PROPOSAL.search(sentence):
            continue
        degrees: dict[str, int] = {}
        for m in _HYBRID_RE.finditer(sentence):
            pp, tp = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
            degrees = {"tp": int(tp), "pp": int(pp)}
        for key, pat in ASSUMPTION_PATTERNS:
            if key in ("tp", "pp", "dp") and key not in degrees and (m := pat.search(sentence)):
                degrees[key] = int(m.group(1))
        named = re.search(r"tensor|pipeline|\bTP\b|\bPP\b|hybrid", sentence, re.I)
        split = re.search(r"split|shard|parallel", sentence, re.I)
        rank = 2 * len(degrees) + (2 if named else 0) + (1 if split else 0)
        if rank and (best is None or rank > best[0]):
            best = (rank, sentence, degrees)
    if best is None:
        return []
    _, sentence, degrees = best
    justified = [k for k, p in _JUSTIFICATION.items() if p.search(text)]
    alternatives = [k for k, p in _ALTERNATIVES.items() if p.search(text) and not p.search(sentence)]
    prompted = hinted or bool({"hybrid_parallelism", "pipeline_parallelism"} & asked)
    return [StrategyClaim(turn=index, quote=sentence, prompted=prompted, justified_by=justified,
                          alternatives=alternatives, **degrees)]


class RulesExtractor:
    """Claims by pattern: concepts, clarifying questions, the strategy, and every number with a unit."""

    name = "rules"

    def __init__(self, rubric: Any = None) -> None:
        self._rubric = rubric

    def _rubric_or_default(self) -> Any:
        if self._rubric is None:
            from grader.rubric import default_rubric

            self._rubric = default_rubric()
        return self._rubric

    def extract(self, transcript: Transcript) -> Claims:
        lex = _lexicon(self._rubric_or_default())
        parts: list[Claims] = []
        previous = ""
        hinted = False
        for index, turn in enumerate(transcript.turns):
            if turn.role == "interviewer":
                previous, hinted = turn.content, turn.hint
                continue
            asked = frozenset(_mentions(lex, previous)) if previous else frozenset()
            parts.append(_turn_claims(lex, index, turn.content, asked, hinted))
        numbers: list[NumericClaim] = extract_numeric_claims(transcript)
        return Claims(
            concepts=[c for p in parts for c in p.concepts],
            questions=_first_per_key([q for p in parts for q in p.questions], "topic"),
            strategies=[s for p in parts for s in p.strategies],
            numbers=numbers,
        )


def _first_per_key(items: list[QuestionClaim], key: str) -> list[QuestionClaim]:
    seen: dict[str, QuestionClaim] = {}
    for item in items:
        seen.setdefault(getattr(item, key), item)
    return list(seen.values())
