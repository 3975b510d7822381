"""The guards on an LLM interviewer's reply, as plain functions: good wordings of the plan pass, the ways a
weak model goes wrong (seen with a 270M model on llama.cpp) do not, and each failure says why in a few words."""

from __future__ import annotations

import pytest

from grader.interview import InterviewEngine
from grader.interview.guards import (
    ReplyContext,
    ReplyLimits,
    check_partial,
    check_reply,
    estimate_tokens,
    unplanned_numbers,
)
from grader.scenario import default_scenario
from grader.transcript import Turn
from tests.test_interview_engine import SCRIPT, FakeClock, no_analysis

PLANNED = (
    "Before you commit to a design, is there anything you'd want to know about the model, the hardware or the workload?"
)
ANSWER = "I'd use tensor parallelism with TP=8 inside a node, so the weights are split 8 ways."


def context(planned: str = PLANNED, candidate: list[str] | None = None) -> ReplyContext:
    turns = [Turn(role="interviewer", content=default_scenario().opening_prompt)]
    for line in [ANSWER] if candidate is None else candidate:
        turns.append(Turn(role="candidate", content=line))
    return ReplyContext.of(planned, turns)


@pytest.mark.parametrize(
    "reply",
    [
        "Before committing to a design, is there anything you'd like to know about the model, hardware or workload?",
        "Good start. Before you settle on a layout, what would you want to know about the model, the hardware, or the traffic?",
        "Okay. Is there anything about the model, the hardware, or the workload you'd want to clarify first?",
        "Understood, 8 ways. Anything you'd want to know about the model or the hardware before you go on?",
    ],
)
def test_a_faithful_wording_passes(reply: str) -> None:
    assert check_reply(reply, context()) is None


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty reply"),
        ("   \n ", "empty reply"),
        # what gemma-3-270m streamed, verbatim in spirit
        (
            "What is the cost of this system? mendatang\n menneske\nWhat are the benefits of using this system? "
            "mendatang\n menneske\nWhat are the drawbacks of using this system? mendatang\n menneske",
            "asks 3 questions",
        ),
        (
            "The KV cache grows with batch and context. خلال\n subtree\nThe KV cache grows with batch and context.",
            "degenerate (repeats a sentence)",
        ),
        ("Okay okay okay okay, what next?", "degenerate (repeats 'okay')"),
        ("Hmm........... what would you want to know?", "degenerate (a run of one character)"),
        (
            "Design a system to serve a 175-billion-parameter GPT-3-class language model for a chat product. "
            "You have GPU nodes with 8x NVIDIA A100 80GB each.",
            "echoes the conversation",
        ),
        ("Okay, 告诉我 more about the model?", "another script than the candidate's (cjk)"),
        ("Wie würden Sie das Modell auf die GPUs verteilen, und warum?", "another language than the candidate's (de"),
        ("So the weights are 350 GB, or 43.75 GB per GPU. What else?", "reference figure the candidate has not said"),
        ("With 10 nodes in the cluster, what would you want to know?", "a number nobody said (10)"),
        ("What about cost? And latency? And the budget? And failures?", "asks 4 questions; the planned turn asks 1"),
        (" ".join(f"word{i}" for i in range(80)), "far longer than the planned turn"),
    ],
)
def test_what_a_weak_model_writes_is_caught(reply: str, reason: str) -> None:
    got = check_reply(reply, context())
    assert got is not None and reason in got, got


def test_reciting_the_instructions_is_caught() -> None:
    instructions = "You never design, calculate or estimate anything for the candidate. " + PLANNED
    ctx = ReplyContext.of(PLANNED, [], instructions=instructions)
    got = check_reply("Remember: you never design, calculate or estimate anything for the candidate, okay?", ctx)
    assert got == "recites its instructions"
    assert check_reply(PLANNED, ctx) is None  # the planned turn is in the prompt too, and may be said


def test_a_candidates_own_figure_may_be_quoted_back() -> None:
    ctx = context("Walk me through how you got 350 GB for the weights.", ["The weights are 350 GB in fp16."])
    assert check_reply("Could you walk me through how you arrived at 350 GB?", ctx) is None
    assert check_reply("How did you get 360 GB?", ctx) == "states a number nobody said (360)"
    assert check_reply("And 43.75 GB per GPU?", ctx) is not None  # a reference figure they did not say


def test_numbers_compare_as_numbers() -> None:
    ctx = context("Tell me about the 4,096 tokens of context.", [])
    assert unplanned_numbers("So 4096 tokens, and 4,096.0 in total.", ctx) == []
    assert unplanned_numbers("So 4097 tokens.", ctx) == ["4097"]


def test_a_candidate_who_writes_german_may_be_answered_in_german() -> None:
    ctx = context("What would you want to know first?", ["Wie viele Knoten haben wir, und welche Verbindung?"])
    assert check_reply("Was möchten Sie zuerst wissen?", ctx) is None
    assert check_reply("Que voulez-vous savoir en premier, et pourquoi ?", ctx) is not None


def test_limits_scale_with_the_planned_turn() -> None:
    limits = ReplyLimits(length_ratio=3.0, length_slack_words=30)
    assert limits.max_words("one two three") == 33
    assert limits.max_words(" ".join(["w"] * 40)) == 120
    assert estimate_tokens("abcd" * 10, 3) == 10 and estimate_tokens("ab", 7) == 7


def test_partial_checks_stop_a_runaway_but_not_a_reply_in_progress() -> None:
    limits = ReplyLimits()
    assert check_partial("Before you commit to a design, is there", context(), limits) is None
    assert check_partial("What is this? mendatang menneske " * 20, context(), limits) is not None


def test_the_offline_engines_own_phrasings_pass_the_guards() -> None:
    """Guards that refused the engine's own words would replace good LLM wordings for nothing: every planned
    turn of a scripted interview, as its own wording, passes."""
    e = InterviewEngine(seed=5, analyse=no_analysis, clock=FakeClock())
    e.start()
    checked = 0
    for line in SCRIPT:
        if e.finished:
            break
        planned = e.prepare(line)
        ctx = ReplyContext.of(planned.text, e.transcript.turns)
        if planned.kind != "fact":  # facts are the engine's words, never checked as a model's
            assert check_reply(planned.text, ctx) is None, (planned.kind, planned.text)
            checked += 1
        e.commit(planned)
    assert checked >= 5


@pytest.mark.parametrize(
    ("reply", "flagged"),
    [
        ("That's correct. How would you place the stages?", True),
        ("Well done! Now the KV cache.", True),
        ("That is wrong; try again.", True),
        ("OK, that's the weights sized. How would you place the stages?", False),
        ("What could go wrong when a GPU dies?", False),  # the planned turn says it
    ],
)
def test_a_verdict_on_the_answer_is_refused(reply: str, flagged: bool) -> None:
    from grader.interview.guards import judges

    planned = "What could go wrong when a GPU dies?"
    assert (judges(reply, planned) is not None) is flagged
    if flagged:
        assert "judges the answer" in (check_reply(reply, context(planned)) or "")
