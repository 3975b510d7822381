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
from grader.reading.assumptions import read_degrees
from grader.reading.reader import NumberReader
from grader.text import split_sentences, squash
from grader.transcript import Transcript

_INTERROGATIVE = re.compile(
    r"\b(?:what|how|which|who|when|where|why|whether|is it|is there|is that|are (?:the|these|there|we)|do (?:we|you|the)|"
    r"does|did|can (?:we|i|you)|could|should|will|would (?:you|it)|any)\b|,\s*(?:right|correct)\s*\?\s*$",
    re.I,
)
_HEDGE = re.compile(r"\b(?:I (?:guess|think|believe|suppose)|maybe|probably|kind of|sort of)\b", re.I)
_ASKING_FRAME = re.compile(
    r"\b(?:pin down|I'?d like to (?:know|pin|check|confirm|ask)|a (?:few|couple of) (?:things|questions|inputs)|"
    r"before I (?:start|draw|design|dive|begin)|some questions first|clarifying questions?|a few inputs)\b",
    re.I,
)
"""A turn that announces questions ("before I start I wanna pin down a couple of things") asks with every
sentence of it, question mark or not ("On the model: layer count, hidden size, ...")."""


def _asks(flat: str) -> bool:
    """A clarifying question: a sentence that ends in a question mark, unless it is a statement said with a
    rising tone and a hedge ("They'd fail, I guess?")."""
    if not flat.rstrip().endswith("?"):
        return False
    return bool(_INTERROGATIVE.search(flat)) or not _HEDGE.search(flat)


_ASSERTS = re.compile(
    r"^(?!\W*(?:not|never|if|suppose|say|imagine|unless|hypothetically|in theory)\b)"
    r"(?!.*\b(?:if (?:you|we|one) (?:ever|were|had|went|go|wanted)|what if|suppose)\b)",
    re.I,
)
"""A misconception is asserted: not a sentence that denies it ("Not as 7-way TP, because ...") or imagines it
("If you ever went past 8-way TP, say 16-way across two nodes, ...")."""
_TAKEN_BACK = re.compile(r"\b(?:sorry|I mean|correction|scratch that|no wait|rather)\b", re.I)
"""A slip taken back in the same breath ("200 gigabytes, sorry, 200 gigabits") is not what the candidate thinks."""
_ASKS = re.compile(r"^\W*(?:tell me|i(?:'d| would) like to know|before i start,? (?:i'?d like|can you))\b", re.I)
_PROPOSAL = re.compile(
    r"\b(?:I(?:'d| would| will|'ll)? (?:use|go with|propose|pick|choose|deploy|start with|recommend|do|split|shard|run)|"
    r"we(?:'d| would| will|'ll)? (?:use|go with|need|split|shard|deploy|run)|let'?s|my (?:plan|proposal|design)|"
    r"propose|the plan is|so we need|we can split|split (?:it|the model)|shard (?:it|the model))",
    re.I,
)
_ONE_GPU = re.compile(
    r"^(?!.*\b(?:not|never|can'?t|cannot|won'?t|doesn'?t|impossible)\b).*\b(?:load|put|run|fit|deploy|serve|host)\w* "
    r"(?:it|the (?:whole |full |entire )?model|175B(?: model)?|all (?:the )?weights) (?:on|onto|in|into) "
    r"(?:one of the|a single|one|an?) (?:A100|GPU|card)s?\b|\b(?:CPU|host)[- ]offload\w*",
    re.I,
)
"""A single-GPU plan, with or without offloading the rest to the CPU."""
_CONSIDERED = re.compile(
    r"\b(?:consider(?:ed)?|alternative(?:ly)?|option|could (?:also )?(?:do|use|go)|if we|would be|instead of|rather than|"
    r"versus|vs\.?|compared|benchmark|the other)\b",
    re.I,
)
_COMMITTED = re.compile(
    r"\b(?:I(?:'d| would| will|'ll) (?:use|go with|pick|choose|start with|run|deploy)|my (?:pick|choice|plan)|pick:)",
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


_FOLLOW_UP = re.compile(r"\byou (?:said|mentioned|brought up|raised|suggested)\b", re.I)
"""A question on what the candidate raised themselves follows them; it does not prompt the idea."""


def _mentions(rubric: Any, text: str) -> frozenset[str]:
    """Concept and topic ids a text names or asks for (for `prompted`: what the interviewer's last turn asked):
    a pattern of theirs matches one of its sentences."""
    scan = scan_turn(rubric, [squash(s) for s in split_sentences(text)], _SEPARATOR)
    found = {c.id for c in rubric.concepts if scan.matching(("mechanism", c.id)) or scan.matching(("mention", c.id))}
    found |= {t.id for t in rubric.question_topics if scan.matching(("topic", t.id))}
    follows_up = _FOLLOW_UP.search(text)  # "You said the all-reduce latency is what you'd optimize. How?"
    for sub, cue in PROMPT_CUES.items():
        if cue.search(text) and not follows_up:
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
    # one pass over the turn for all of the rubric's patterns (grader/matching.py)
    scan = scan_turn(rubric, flats, _SEPARATOR)
    # A question shows what the candidate wants to know, not what they know ("Is tensor parallelism where
    # different GPUs handle different requests?"): its sentences are evidence for nothing but the question.
    asking = {i for i, flat in enumerate(flats) if flat.rstrip().endswith("?")}
    found: list[tuple[int, int, ConceptClaim]] = []  # (sentence, rubric order, claim): sorted below
    wrong_at: set[int] = set()
    for order, concept in enumerate(rubric.concepts):
        claim = partial(ConceptClaim, turn=index, concept=concept.id, prompted=hinted or concept.id in asked)
        for m in concept.misconceptions:
            for at in scan.hits(("misconception", m.id)):
                if at in asking or not _ASSERTS.search(flats[at]) or _TAKEN_BACK.search(flats[at]):
                    continue
                wrong_at.add(at)
                wrong = claim(quote=sentences[at], level="misconception", misconception=m.id)
                found.append((at + len(sentences), order, wrong))  # misconceptions after the concepts
    for order, concept in enumerate(rubric.concepts):
        claim = partial(ConceptClaim, turn=index, concept=concept.id, prompted=hinted or concept.id in asked)
        # a sentence that states a misconception explains nothing ("TP puts whole layers on different GPUs" is
        # not pipeline parallelism explained)
        explained = [i for i in scan.hits(("mechanism", concept.id)) if i not in asking | wrong_at]
        named = explained or [i for i in scan.hits(("mention", concept.id)) if i not in asking]
        if named:
            level = "explained" if explained else "mentioned"
            found.append((named[0], order, claim(quote=sentences[named[0]], level=level)))
    questions: dict[str, QuestionClaim] = {}
    topics: dict[str, set[int]] = {}
    framed = any(_ASKING_FRAME.search(f) for f in flats[:2])
    for i, (sentence, flat) in enumerate(zip(sentences, flats, strict=True)):
        if _asks(flat) or _ASKS.match(flat) or framed:
            for topic in rubric.question_topics:
                if topic.id not in topics:
                    topics[topic.id] = set(scan.matching(("topic", topic.id)))
                if topic.id not in questions and i in topics[topic.id]:
                    questions[topic.id] = QuestionClaim(turn=index, quote=sentence, topic=topic.id, prompted=False)
    strategies = _strategies(index, sentences, text, asked, hinted)
    concepts = [c for _, _, c in sorted(found, key=lambda x: (x[0], x[1]))]  # by sentence, then rubric order
    for st in strategies:  # a layout weighed against named alternatives, with reasons, is the trade-off itself
        if st.alternatives and not any(
            c.concept == "parallelism_tradeoffs" and c.level == "explained" for c in concepts
        ):
            level = "explained" if len(st.justified_by) >= 2 else "mentioned"
            concepts.append(
                ConceptClaim(
                    turn=index, quote=st.quote, concept="parallelism_tradeoffs", level=level, prompted=st.prompted
                )
            )
    return Claims(concepts=concepts, questions=list(questions.values()), strategies=strategies)


def _strategies(
    index: int, sentences: list[str], text: str, asked: frozenset[str], hinted: bool
) -> list[StrategyClaim]:
    """The turn's proposal (a proposal sentence with parallel degrees or a named kind of parallelism) and what
    the turn says for it. Of several proposal sentences the most specific wins: "split it across 8 GPUs"
    followed by "I'd use tensor parallelism" proposes tensor parallelism."""
    best: tuple[int, str, dict[str, int]] | None = None
    for sentence in sentences:
        # the reader's degrees, spoken ones included ("two pipeline stages, each a 4-way tensor-parallel group")
        degrees = {k: int(v) for k, v in read_degrees(sentence).items() if k in ("tp", "pp", "dp")}
        if _ONE_GPU.search(sentence):  # "I'd load it onto one of the A100s ... CPU offloading covers the rest"
            degrees = {"tp": 1, "pp": 1}
        named = re.search(r"tensor|pipeline|\bTP\b|\bPP\b|hybrid", sentence, re.I)
        split = re.search(r"split|shard|parallel", sentence, re.I)
        # a layout with its degrees is a proposal however it is introduced ("Yes: 2-way PP x 4-way TP", "the more
        # interesting option is half a node per replica: 4-way tensor parallel over 4 GPUs")
        if not _PROPOSAL.search(sentence) and not ({"tp", "pp"} <= set(degrees) or (degrees and named)):
            continue
        if not (degrees or named or split):
            continue  # "I'd use FP8 as a storage format" proposes no layout
        rank = 2 * len(degrees) + (2 if named else 0) + (1 if split else 0)
        # the layout chosen beats the ones weighed ("I did consider a hybrid ... I'd start with 8-way TP")
        if _CONSIDERED.search(sentence):
            rank -= 3
        elif _COMMITTED.search(sentence):
            rank += 3
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
