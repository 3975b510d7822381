"""The offline extractor: lexicons and patterns from the rubric YAML, no model, no network.

It is the default with no API key, the LLM extractor's fallback, and the interviewer's live coverage meter,
so it must be cheap: the rubric compiles its patterns once, and each candidate turn's claims are memoised by
its text and what the interviewer turn before it asked (the interviewer re-reads the transcript every turn).

"Explained" needs the mechanism, not the word: a concept is `explained` only where one of its `mechanism`
patterns matches (TP: split each layer / all-reduce of partial results); a name alone is `mentioned`, so a
list of buzzwords stays at `mentioned` however long it is.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from grader.claims import Claims, ConceptClaim, NumericClaim, QuestionClaim, StrategyClaim
from grader.extract.vocabulary import scan_turn
from grader.matching import SEPARATOR
from grader.reading.assumptions import DEGREE_PATTERNS, HYBRID_RE
from grader.reading.reader import NumberReader
from grader.text import split_sentences, squash
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
    "tp_only": re.compile(
        r"pure (?:\d+[- ]way )?(?:TP|tensor)|(?:TP|tensor[- ]parallel\w*) (?:alone|only)|only (?:TP|tensor)|\b8[- ]way TP\b",
        re.I,
    ),
    "pp_only": re.compile(
        r"pure (?:\d+[- ]way )?(?:PP|pipeline)|(?:PP|pipeline[- ]parallel\w*) (?:alone|only)|only (?:PP|pipeline)|\b8[- ]way PP\b|8 (?:pipeline )?stages",
        re.I,
    ),
    "dp": re.compile(r"data[- ]parallel|\breplicas?\b|\bDP\b", re.I),
    "single_gpu": re.compile(
        r"(?:vs\.?|versus|instead of|rather than|compared (?:to|with)) (?:a )?(?:single|one) GPU", re.I
    ),
}


# An interviewer turn that asks for improvements prompts every idea of that sub-criterion, named or not:
# "anything you could do to reduce that communication cost?" prompts overlap, NCCL tuning, placement...
PROMPT_CUES: dict[str, re.Pattern[str]] = {
    "communication.optimization": re.compile(
        r"\b(?:reduc\w*|optimi[sz]\w*|improv\w*|speed(?:ing)? (?:it )?up|faster|overhead|hide|cheaper)\b", re.I
    ),
}


def _mentions(rubric: Any, text: str) -> frozenset[str]:
    """Concept and topic ids a text names or asks for (for `prompted`: what the interviewer's last turn asked):
    a pattern of theirs matches one of its sentences."""
    scan = scan_turn(rubric, [squash(s) for s in split_sentences(text)], _SEPARATOR)
    found = {c.id for c in rubric.concepts if scan.matching(("mechanism", c.id)) or scan.matching(("mention", c.id))}
    found |= {t.id for t in rubric.question_topics if scan.matching(("topic", t.id))}
    for sub, cue in PROMPT_CUES.items():
        if cue.search(text):
            found |= {c.id for c in rubric.concepts if sub in c.supports}
    return frozenset(found)


# Sentences are joined for matching with a separator no pattern can cross: "." stops at the newlines, "\s" at
# the NUL. Each pattern list then runs once over the turn instead of once per sentence (the rules extractor is
# the grader's hot path, and per-call overhead dominated).
_SEPARATOR = SEPARATOR


def _turn_claims(rubric: Any, index: int, text: str, asked: frozenset[str], hinted: bool) -> Claims:
    """Claims of one candidate turn. `asked` is what the interviewer's previous turn named: a claim about it
    was prompted (and so is everything after a hint). A concept's claim quotes its first explaining sentence,
    or its first naming one; a misconception is a claim for every sentence that states it."""
    sentences = split_sentences(text)
    flats = [squash(s) for s in sentences]  # patterns are written with plain spaces; quotes stay verbatim
    # one pass over the turn for all of the rubric's patterns; `hits` are the sentences in which a pattern list
    # matches when run over the sentences joined by _SEPARATOR (grader/matching.py)
    scan = scan_turn(rubric, flats, _SEPARATOR)
    found: list[tuple[int, int, ConceptClaim]] = []  # (sentence, rubric order, claim): sorted below
    for order, concept in enumerate(rubric.concepts):
        claim = partial(ConceptClaim, turn=index, concept=concept.id, prompted=hinted or concept.id in asked)
        explained = scan.hits(("mechanism", concept.id))
        named = explained or scan.hits(("mention", concept.id))
        if named:
            level = "explained" if explained else "mentioned"
            found.append((named[0], order, claim(quote=sentences[named[0]], level=level)))
        for m in concept.misconceptions:
            for at in scan.hits(("misconception", m.id)):
                wrong = claim(quote=sentences[at], level="misconception", misconception=m.id)
                found.append((at + len(sentences), order, wrong))  # misconceptions after the concepts
    questions: dict[str, QuestionClaim] = {}
    topics: dict[str, set[int]] = {}
    for i, (sentence, flat) in enumerate(zip(sentences, flats, strict=True)):
        if _QUESTION_CUE.search(flat):
            for topic in rubric.question_topics:
                if topic.id not in topics:
                    topics[topic.id] = set(scan.matching(("topic", topic.id)))
                if topic.id not in questions and i in topics[topic.id]:
                    questions[topic.id] = QuestionClaim(turn=index, quote=sentence, topic=topic.id, prompted=False)
    strategies = _strategies(index, sentences, text, asked, hinted)
    concepts = [c for _, _, c in sorted(found, key=lambda x: (x[0], x[1]))]  # by sentence, then rubric order
    return Claims(concepts=concepts, questions=list(questions.values()), strategies=strategies)


def _strategies(
    index: int, sentences: list[str], text: str, asked: frozenset[str], hinted: bool
) -> list[StrategyClaim]:
    """The turn's proposal (a proposal sentence with parallel degrees or a named kind of parallelism) and what
    the turn says for it. Of several proposal sentences the most specific wins: "split it across 8 GPUs"
    followed by "I'd use tensor parallelism" proposes tensor parallelism."""
    best: tuple[int, str, dict[str, int]] | None = None
    for sentence in sentences:
        degrees: dict[str, int] = {}
        for m in HYBRID_RE.finditer(sentence):
            g = m.groups()
            pp, tp = (g[0], g[1]) if g[0] else (g[3], g[2]) if g[2] else (g[5], g[4]) if g[4] else (g[6], g[7])
            degrees = {"tp": int(tp), "pp": int(pp)}
        for key, pat in DEGREE_PATTERNS:
            if key in ("tp", "pp", "dp") and key not in degrees and (m := pat.search(sentence)):
                degrees[key] = int(m.group(1))
        # "2-way PP x 4-way TP" is a proposal however it is introduced ("Yes: ...", "So: ...")
        if not _PROPOSAL.search(sentence) and not {"tp", "pp"} <= set(degrees):
            continue
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
    return [
        StrategyClaim(
            turn=index, quote=sentence, prompted=prompted, justified_by=justified, alternatives=alternatives, **degrees
        )
    ]


class RulesExtractor:
    """Claims by pattern: concepts, clarifying questions, the strategy, and every number with a unit."""

    name = "rules"

    MEMO_SIZE = 4096

    def __init__(self, rubric: Any = None) -> None:
        self._rubric = rubric
        self._memo: dict[tuple[int, str, frozenset[str], bool], Claims] = {}
        self._asked_memo: dict[str, frozenset[str]] = {}
        self._numbers = NumberReader()

    def _asked(self, rubric: Any, text: str) -> frozenset[str]:
        """What an interviewer turn asked about, memoised like the candidate turns."""
        hit = self._asked_memo.get(text)
        if hit is None:
            if len(self._asked_memo) >= self.MEMO_SIZE:
                self._asked_memo.clear()
            hit = self._asked_memo[text] = _mentions(rubric, text)
        return hit

    def _claims_of_turn(self, rubric: Any, index: int, text: str, asked: frozenset[str], hinted: bool) -> Claims:
        key = (index, text, asked, hinted)
        hit = self._memo.get(key)
        if hit is None:
            if len(self._memo) >= self.MEMO_SIZE:
                self._memo.clear()
            hit = self._memo[key] = _turn_claims(rubric, index, text, asked, hinted)
        return hit

    def _rubric_or_default(self) -> Any:
        if self._rubric is None:
            from grader.rubric import default_rubric

            self._rubric = default_rubric()
        return self._rubric

    def extract(self, transcript: Transcript) -> Claims:
        rubric = self._rubric_or_default()
        parts: list[Claims] = []
        previous = ""
        hinted = False
        for index, turn in enumerate(transcript.turns):
            if turn.role == "interviewer":
                previous, hinted = turn.content, turn.hint
                continue
            asked = self._asked(rubric, previous) if previous else frozenset()
            parts.append(self._claims_of_turn(rubric, index, turn.content, asked, hinted))
        numbers: list[NumericClaim] = self._numbers.read(transcript)
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
