"""Grounding: a claim survives only if its quote is in a candidate turn; the quote becomes the exact text."""

from __future__ import annotations

import pytest

from grader.claims import Claims, ConceptClaim, NumericClaim, QuestionClaim, StrategyClaim
from grader.extract.base import Vocabulary
from grader.extract.grounding import default_mentions, ground_claims, locate_quote, mentions_from, normalise
from grader.transcript import Transcript, Turn


def transcript(*turns: tuple[str, str]) -> Transcript:
    return Transcript(id="t", turns=[Turn(role=r, content=c) for r, c in turns])  # type: ignore[arg-type]


T = transcript(
    ("interviewer", "Design the serving system. Where does the KV cache go?"),
    ("candidate", "Before I start: what’s the interconnect between nodes?"),
    ("interviewer", "NVLink inside a node, InfiniBand between nodes."),
    ("candidate", "Weights are 175B × 2 bytes = 350 GB, so 43.75 GB per GPU with 8-way  tensor\nparallelism."),
    ("interviewer", "And the KV cache?"),
    ("candidate", "The KV cache stores keys and values per token; roughly 128 sequences fit."),
)


NORMALISE_CASES = [
    ("case and spaces", "Hello,   World!", "hello world"),
    ("curly quote", "It’s", "it s"),
    ("straight quote", "It's", "it s"),
    ("em dash", "KV — cache", "kv cache"),
    ("hyphen", "8-way", "8 way"),
    ("decimal kept", "43.75 GB.", "43.75 gb"),
    ("thousands kept", "1,000 tokens", "1,000 tokens"),
    ("comma between words", "tp,pp", "tp pp"),
    ("nfkc full width", "ＴＰ＝８", "tp=8"),
    ("ligature", "ﬁne", "fine"),
    ("accents", "Café", "cafe"),
    ("newlines and tabs", "a\n\tb", "a b"),
    ("angle brackets", "</transcript>", "transcript"),
    ("markdown", "**Tensor** _parallelism_", "tensor parallelism"),
    ("only punctuation", " ... ", ""),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in NORMALISE_CASES], ids=[c[0] for c in NORMALISE_CASES])
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_exact_quote_is_kept() -> None:
    c = Claims(numbers=[NumericClaim(turn=3, quote="350 GB", quantity="weights_total", value=350, unit="GB")])
    out = ground_claims(c, T)
    assert out.numbers[0].quote == "350 GB" and out.numbers[0].turn == 3 and out.dropped == 0


def test_near_verbatim_quote_is_replaced_by_the_original_text() -> None:
    quote = "WHAT'S the interconnect  between nodes?"
    out = ground_claims(Claims(questions=[QuestionClaim(turn=1, quote=quote, topic="interconnect")]), T)
    assert out.questions[0].quote == "what’s the interconnect between nodes?"
    assert out.questions[0].quote in T.turns[1].content


def test_quote_across_a_line_break_matches() -> None:
    c = Claims(concepts=[ConceptClaim(turn=3, quote="8-way tensor parallelism", concept="tp", level="mentioned")])
    out = ground_claims(c, T)
    assert out.concepts[0].quote == "8-way  tensor\nparallelism"


def test_wrong_turn_is_fixed_when_the_quote_is_in_another_candidate_turn() -> None:
    c = Claims(concepts=[ConceptClaim(turn=1, quote="stores keys and values", concept="kv_cache", level="explained")])
    out = ground_claims(c, T)
    assert out.concepts[0].turn == 5 and out.dropped == 0


def test_out_of_range_turn_is_fixed_too() -> None:
    c = Claims(concepts=[ConceptClaim(turn=99, quote="stores keys and values", concept="kv_cache", level="explained")])
    assert ground_claims(c, T).concepts[0].turn == 5


def test_invented_quote_is_dropped_and_counted() -> None:
    c = Claims(
        concepts=[ConceptClaim(turn=3, quote="I would use speculative decoding", concept="x", level="mentioned")],
        numbers=[NumericClaim(turn=3, quote="43.75 GB per GPU", quantity="weights_per_gpu", value=43.75, unit="GB")],
        dropped=2,
    )
    out = ground_claims(c, T)
    assert out.concepts == [] and len(out.numbers) == 1
    assert out.dropped == 3  # the incoming 2 plus this one


def test_a_quote_from_the_interviewer_is_dropped() -> None:
    c = Claims(questions=[QuestionClaim(turn=2, quote="NVLink inside a node", topic="interconnect")])
    out = ground_claims(c, T)
    assert out.questions == [] and out.dropped == 1


@pytest.mark.parametrize(
    "quote",
    ["4375 GB", "43 GB", "way tens", "B", "...", "350 GB per GPU"],
    ids=["decimal-point-matters", "partial-number", "partial-words", "inside-a-word", "punctuation-only", "spliced"],
)
def test_near_misses_do_not_ground(quote: str) -> None:
    assert locate_quote(T, quote, 3) is None


def test_prompted_is_computed_from_the_previous_interviewer_turn() -> None:
    claims = Claims(
        concepts=[
            ConceptClaim(turn=5, quote="The KV cache stores keys", concept="kv_cache", level="explained"),
            ConceptClaim(
                turn=3, quote="tensor\nparallelism", concept="tensor_parallelism", level="mentioned", prompted=True
            ),
        ]
    )
    out = ground_claims(claims, T)
    by_concept = {c.concept: c.prompted for c in out.concepts}
    assert by_concept == {"kv_cache": True, "tensor_parallelism": False}  # the model's prompted=True is overridden


def test_prompted_with_labels_and_custom_mentions() -> None:
    t = transcript(("interviewer", "Tell me about the interconnect."), ("candidate", "NVLink is fast."))
    claim = Claims(concepts=[ConceptClaim(turn=1, quote="NVLink is fast", concept="nvlink_bw", level="mentioned")])
    assert ground_claims(claim, t).concepts[0].prompted is False
    vocab = Vocabulary.of([("nvlink_bw", "Interconnect")], [])
    assert ground_claims(claim, t, mentions=mentions_from(vocab)).concepts[0].prompted is True
    assert ground_claims(claim, t, mentions=lambda kind, term, text: kind == "concept").concepts[0].prompted is True


def test_strategy_and_numbers_are_grounded_too() -> None:
    t = transcript(
        ("interviewer", "Which parallelism strategy?"),
        ("candidate", "I'd do 2-way PP x 4-way TP, about 11% bubble."),
    )
    c = Claims(
        strategies=[StrategyClaim(turn=1, quote="2-way PP x 4-way TP", tp=4, pp=2)],
        numbers=[NumericClaim(turn=1, quote="about 11% bubble", quantity="bubble", value=11, unit="%", approx=True)],
    )
    out = ground_claims(c, t)
    assert out.strategies[0].prompted is True
    assert out.numbers[0].quote == "about 11% bubble"


def test_default_mentions() -> None:
    assert default_mentions("concept", "kv_cache", "What about the KV-cache?")
    assert not default_mentions("concept", "kv_cache", "What about the cache?")
    assert not default_mentions("number", "unknown", "unknown")
