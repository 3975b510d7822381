"""The offline extractor on sentences: explanations vs names, paraphrases, misconceptions, buzzword lists,
clarifying questions, the proposed strategy, and what the interviewer prompted."""

from __future__ import annotations

import pytest

from grader.claims import Claims
from grader.extract.rules import RulesExtractor
from grader.transcript import Transcript, Turn

ASK = "Design a system to serve a 175B model on nodes of 8x A100 80GB."


def extract(*candidate: str, interviewer: str = ASK, hint: bool = False) -> Claims:
    turns = []
    for text in candidate:
        turns += [Turn(role="interviewer", content=interviewer, hint=hint), Turn(role="candidate", content=text)]
    return RulesExtractor().extract(Transcript(id="t", turns=turns))


def levels(claims: Claims) -> dict[str, str]:
    return {c.concept: c.level for c in claims.concepts if c.level != "misconception"}


@pytest.mark.parametrize(
    ("sentence", "concept", "level"),
    [
        ("I'd use tensor parallelism.", "tensor_parallelism", "mentioned"),
        ("TP inside the node.", "tensor_parallelism", "mentioned"),
        (
            "Split each layer's weight matrices across the 8 GPUs and all-reduce the partial results.",
            "tensor_parallelism",
            "explained",
        ),
        (
            "Every GPU holds a slice of every weight matrix, column-wise for the first MLP matmul.",
            "tensor_parallelism",
            "explained",
        ),
        ("Pipeline parallelism puts different layers on different GPUs.", "pipeline_parallelism", "explained"),
        ("With 8 micro-batches the pipeline bubble stays small.", "pipeline_parallelism", "explained"),
        ("We could also do pipeline parallelism.", "pipeline_parallelism", "mentioned"),
        ("Use PagedAttention with 16-token blocks so the KV cache does not fragment.", "paged_attention", "explained"),
        (
            "Heartbeats every 10 seconds from each GPU worker; three missed beats mark it dead.",
            "heartbeats",
            "explained",
        ),
    ],
    ids=[
        "tp-name",
        "tp-abbrev",
        "tp-mechanism",
        "tp-paraphrase",
        "pp-layers",
        "pp-bubble",
        "pp-name",
        "paged-blocks",
        "heartbeat-interval",
    ],
)
def test_concept_levels(sentence: str, concept: str, level: str) -> None:
    assert levels(extract(sentence)).get(concept) == level


def test_buzzword_list_stays_mentioned() -> None:
    found = levels(
        extract("We'll use TP, PP, DP, PagedAttention, FlashAttention, NCCL tuning, heartbeats and replica failover.")
    )
    assert {"tensor_parallelism", "pipeline_parallelism", "paged_attention", "heartbeats"} <= set(found)
    assert set(found.values()) == {"mentioned"}


def test_misconception_is_its_own_claim_with_the_quote() -> None:
    claims = extract("Pipeline parallelism needs an all-reduce after every layer.")
    wrong = [c for c in claims.concepts if c.level == "misconception"]
    assert [(c.concept, c.misconception) for c in wrong] == [("pipeline_parallelism", "pp_allreduce")]
    assert wrong[0].quote == "Pipeline parallelism needs an all-reduce after every layer."


def test_a_denied_misconception_does_not_fire() -> None:
    claims = extract("Pipeline parallelism does not need an all-reduce after every layer, only point-to-point sends.")
    assert not [c for c in claims.concepts if c.level == "misconception"]


def test_questions_need_a_question() -> None:
    asked = extract("What interconnect do the nodes have? And what latency are we targeting?")
    assert {q.topic for q in asked.questions} >= {"interconnect", "latency_targets"}
    stated = extract("I'll assume NVLink inside the node.")
    assert not stated.questions


def test_soft_wrapped_question_is_one_question() -> None:
    claims = extract(
        "Before I start: what precision are the weights, and what does the model look like: number of\n"
        "layers and hidden size? And since it matters for tensor parallelism, how are the GPUs in a node\n"
        "connected?"
    )
    assert {"architecture", "interconnect"} <= {q.topic for q in claims.questions}
    assert all(q.quote in claims.questions[0].quote or "\n" in q.quote for q in claims.questions)


def test_strategy_with_degrees_justification_and_alternatives() -> None:
    claims = extract(
        "I'd use hybrid parallelism: 2-way pipeline x 4-way tensor parallel. Pure 8-way TP has too "
        "much all-reduce overhead, and pure PP has a large bubble, so this keeps both small."
    )
    (s,) = claims.strategies
    assert (s.tp, s.pp) == (4, 2)
    assert {"communication", "bubble"} <= set(s.justified_by)
    assert {"tp_only", "pp_only"} <= set(s.alternatives)
    assert not s.prompted


def test_the_most_specific_proposal_wins() -> None:
    (s,) = extract(
        "The model is too big for one GPU, so we need to split it across 8 GPUs. I'd use tensor "
        "parallelism to split each layer across the GPUs."
    ).strategies
    assert "tensor parallelism" in s.quote


def test_prompted_by_the_interviewer_or_a_hint() -> None:
    asked = "Have you considered combining pipeline parallelism with tensor parallelism?"
    prompted = extract("Yes: 2-way PP x 4-way TP.", interviewer=asked)
    assert prompted.strategies[0].prompted
    assert all(c.prompted for c in prompted.concepts if c.concept == "pipeline_parallelism")
    hinted = extract("Then I'd add PagedAttention.", interviewer="Hint: think about fragmentation.", hint=True)
    assert all(c.prompted for c in hinted.concepts)
    free = extract("Then I'd add PagedAttention.", interviewer="What else?")
    assert not any(c.prompted for c in free.concepts)


def test_an_improvement_question_prompts_the_optimisations() -> None:
    claims = extract(
        "Overlap the all-reduce with the next layer's compute and tune NCCL for small messages.",
        interviewer="Is there anything you could do to reduce that communication cost?",
    )
    opt = [c for c in claims.concepts if c.concept in ("comm_compute_overlap", "nccl_tuning")]
    assert opt and all(c.prompted for c in opt)


def test_quotes_are_verbatim_and_point_at_candidate_turns() -> None:
    text = "First, 350 GB of weights.\nThen tensor parallelism:\nsplit each layer across the GPUs."
    t = Transcript(id="t", turns=[Turn(role="interviewer", content=ASK), Turn(role="candidate", content=text)])
    claims = RulesExtractor().extract(t)
    for c in [*claims.concepts, *claims.numbers, *claims.strategies]:
        assert t.turns[c.turn].role == "candidate" and c.quote in t.turns[c.turn].content
