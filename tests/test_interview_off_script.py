"""Turns that are not answers get the reply a human interviewer gives, row by row from
tests/data/interview_off_script.yaml: small talk, a request to repeat, "I don't know", "any questions for me?",
requests outside the scenario (answered from it or turned back as an assumption), and the refusal only for a
figure the candidate should work out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.interview import InterviewEngine, default_plan
from grader.interview.guards import leaks
from grader.pipeline import analyse
from tests.test_interview_engine import FakeClock

ROWS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "interview_off_script.yaml").read_text(encoding="utf-8")
)
MID = [
    "What interconnect do the nodes have?",
    "The weights are 350 GB in FP16, so with TP8 that's about 44 GB per GPU.",
]


def _at(when: str) -> tuple[InterviewEngine, str]:
    """An engine at the point of the interview the row names, and what the candidate has said so far."""
    clock = FakeClock()
    e = InterviewEngine(seed=3, analyse=analyse, clock=clock)
    e.start()
    said = ""
    lines = {"start": [], "mid": MID, "end": [*MID, "Let's wrap up."]}[when]
    for line in lines:
        clock.advance(3)
        said += "\n" + line
        e.reply(line)
    if when == "mid":
        assert e.last_reply is not None and e.last_reply.kind == "probe" and e.state.open_probe
    if when == "end":
        assert e.state.wrap_up_asked
    clock.advance(1)
    return e, said


def test_the_table_is_big_and_covers_every_kind_of_turn() -> None:
    assert len(ROWS) >= 30
    intents = {r.get("intent", "").split(":")[0] for r in ROWS}
    for must in ("how_are_you", "repeat", "dont_know", "questions_for_me", "outside", "withheld", "unknown"):
        assert must in intents, must
    assert {r["when"] for r in ROWS} == {"start", "mid", "end"}


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['when']}:{r['message']}" for r in ROWS])
def test_off_script_turn_gets_the_right_kind_of_reply(row: dict[str, Any]) -> None:
    e, said = _at(row["when"])
    last_question = e.state.last_question
    r = e.reply(row["message"])
    assert r.kind == row["kind"], (r.kind, r.intent, r.text)
    if "intent" in row:
        assert r.intent == row["intent"], (r.intent, r.text)
    text = r.text.lower()
    for word in row.get("contains", []):
        word = word.replace("{last_question}", last_question or "<no question>")
        assert word.lower() in text, (word, r.text)
    refusal = any(line in r.text for line in default_plan().cant_share)
    assert refusal == bool(row.get("refusal")), r.text  # the refusal for figures to work out, and only for them
    assert not leaks(r.text, said + "\n" + row["message"])
    for word in ("correct", "wrong", "i can't share", "i don't have that"):
        assert word not in text, r.text


def test_i_dont_know_twice_moves_on_to_another_topic() -> None:
    e, _ = _at("mid")
    asked = e.state.open_probe
    first = e.reply("I don't know.")
    assert first.intent == "dont_know" and first.kind == "off_script"
    assert e.state.open_probe == asked  # the pointer is on the open question, which stays open
    second = e.reply("Sorry, I really don't know.")
    assert second.kind == "probe" and second.probe != asked
    _, gave_up = e.plan.probe(asked)
    assert not set(gave_up.targets) & set(second.targets)  # "let's move on" does move on


def test_a_repeat_says_the_question_again_without_asking_a_new_one() -> None:
    e, _ = _at("mid")
    before = list(e.state.asked_probes)
    question = e.state.last_question
    r = e.reply("Can you repeat the question?")
    assert r.kind == "repeat" and question is not None and r.text.endswith(question)
    assert e.state.asked_probes == before


def test_a_topic_the_candidate_asks_to_move_to_is_where_the_interview_goes() -> None:
    e, _ = _at("mid")
    r = e.reply("Should I talk about fault tolerance now?")
    assert r.intent == "go_ahead" and e.phase == "fault_tolerance"
    nxt = e.reply("Let me keep going.")
    assert nxt.phase == "fault_tolerance" and nxt.kind == "probe"
