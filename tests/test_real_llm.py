"""The LLM paths against a real model: llama-cpp-python's OpenAI-compatible server with Gemma 3 270M, on a
free port on 127.0.0.1 (`tests/local_llm_server.py`; `.ci/install-real-llm` installs both, pinned).

A 270M model is a weak model on purpose: these tests do not ask it to be good, they ask that nothing it does
gets through unlabelled. Grading names endpoint, model and method and keeps only grounded quotes (or says in
one line why it fell back); every interviewer reply is within its caps and passes the checks or was replaced by
the offline wording, every factual question is answered with the scenario's facts, and nothing leaks.

Skipped, with the reason, where the server or the model is not installed. Slow: minutes on 2 CPU cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.extract.grounding import locate_quote
from grader.extract.structured import METHODS
from grader.interview import InterviewEngine
from grader.interview.guards import ReplyContext, ReplyLimits, check_reply, estimate_tokens, leaks
from grader.loaders import load_transcript
from grader.transcript import Transcript
from tests.local_llm_server import LocalLLMServer

pytestmark = [pytest.mark.real_llm, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "transcripts" / "calibration_weak.yaml"
INTERVIEW = [
    "What interconnect do the nodes have?",
    "I'd split the model with tensor parallelism inside each node and pipeline parallelism across nodes.",
    "What's the latency target?",
    "The weights are 175B x 2 bytes = 350 GB in fp16, so they need at least five 80 GB GPUs.",
    "How many layers does the model have, and what is the hidden size?",
]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalLLMServer]:
    with LocalLLMServer.start() as s:
        yield s


def run(args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 1200) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env={**os.environ, **env},
    )


def assert_grounded(transcript: Transcript, turn: int, quote: str) -> None:
    found = locate_quote(transcript, quote, turn)
    assert found is not None and found[0] == turn, f"turn {turn}: {quote!r} is not in that candidate turn"


@pytest.mark.timeout(1500)
def test_grade_a_sample_with_the_llm_extractor(
    server: LocalLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = server.env(COACH_CACHE_DIR=str(tmp_path / "cache"))
    out = run(["grade", str(SAMPLE), "--extractor", "llm", "--format", "json"], env)
    assert out.returncode in (0, 1), out.stderr[-3000:]
    report = json.loads(out.stdout)
    p = report["provenance"]
    assert (p["endpoint"], p["model"]) == (server.base_url, server.model)
    assert p["method"] is not None and set(p["method"].split("+")) <= set(METHODS)
    if p["extractor"].startswith("rules (fallback: "):
        reason = p["extractor"].removeprefix("rules (fallback: ").removesuffix(")")
        assert reason and "\n" not in reason
    else:
        assert p["extractor"] == f"llm:{server.model}" and p["prompt_hash"]

    transcript = load_transcript(SAMPLE)
    quotes = [(c["turn"], c["quote"]) for c in report["checks"]]
    for cat in report["categories"].values():
        for sub in cat["subscores"].values():
            quotes += [(e["turn"], e["quote"]) for e in sub["evidence"] if e.get("turn") is not None]
    for turn, quote in quotes:
        assert_grounded(transcript, turn, quote)

    if not p["extractor"].startswith("rules"):  # the model's own claims, from the claims cache: all grounded
        from grader.extract.llm import LLMExtractor
        from grader.extract.rules import RulesExtractor
        from grader.settings import get_settings

        for key, value in env.items():
            monkeypatch.setenv(key, value)
        result = LLMExtractor(get_settings(), RulesExtractor()).run(transcript)
        assert result.cached
        c = result.claims
        for claim in [*c.concepts, *c.questions, *c.strategies, *c.numbers]:
            assert_grounded(transcript, claim.turn, claim.quote)


def planned_reply(transcript: Transcript, i: int, seed: int) -> str:
    """The offline wording of the turn planned at turn `i`: the interview replayed up to the answer before it
    (with the saved timestamps as the clock), which the offline engine then answers."""
    replay = InterviewEngine.resume(transcript.model_copy(update={"turns": transcript.turns[:i]}), seed=seed)
    assert replay.last_reply is not None
    return replay.last_reply.text


@pytest.mark.timeout(1200)
def test_a_five_turn_terminal_interview_with_llm(server: LocalLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "interview.yaml"
    env = server.env(COACH_CACHE_DIR=str(tmp_path / "cache"))
    out = run(["interview", "--llm", "--save", str(path)], env, stdin="\n".join([*INTERVIEW, "/end"]) + "\n")
    assert out.returncode == 0, out.stderr[-3000:]
    t = load_transcript(path, in_progress=True)
    assert [x.content for x in t.turns if x.role == "candidate"] == INTERVIEW
    limits = ReplyLimits(max_tokens=int(env["COACH_INTERVIEWER_MAX_TOKENS"]))
    factual = {0, 2, 4}
    for n, line in enumerate(INTERVIEW):
        i = 2 * n + 2  # the interviewer's reply to answer n
        reply, before = t.turns[i], t.turns[:i]
        said = "\n".join(x.content for x in before if x.role == "candidate")
        offline = planned_reply(t, i, seed=0)
        assert t.turns[i - 1].content == line and reply.role == "interviewer"
        assert not leaks(reply.content, said), (reply.content, leaks(reply.content, said))
        if n in factual:  # the scenario's facts, in the engine's words
            assert reply.content == offline and reply.replaced is None
        elif reply.replaced is not None:  # the model's wording failed a check: the offline one stands
            assert reply.content == offline
            assert f"(reply replaced: {reply.replaced}" in out.stdout
        else:  # the model's wording, within the caps and through the checks
            assert estimate_tokens(reply.content, 0) <= limits.max_tokens
            assert check_reply(reply.content, ReplyContext.of(offline, before), limits) is None
    assert "--- scorecard ---" in out.stdout


@pytest.mark.timeout(900)
def test_the_practice_page_in_llm_mode(server: LocalLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from app_pages.practice import seed_for
    from app_ui import resources

    for key, value in server.env(COACH_CACHE_DIR=str(tmp_path / "cache")).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COACH_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.setenv("COACH_TRANSCRIPTS_DIR", str(tmp_path / "transcripts"))
    monkeypatch.delenv("COACH_INTERVIEWER_MODE", raising=False)
    monkeypatch.setattr(resources, "_secrets", dict)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
        assert not at.exception
        assert f"LLM: {server.model} at {server.base_url}" in [m.value.strip("*") for m in at.sidebar.markdown]
        lines = INTERVIEW[:2]
        for line in lines:
            at.chat_input[0].set_value(line).run()
            assert not at.exception, at.exception
        sid = at.query_params["session"]
        saved = load_transcript(tmp_path / "sessions" / f"{sid}.yaml", in_progress=True)
        assert [x.content for x in saved.turns if x.role == "candidate"] == lines
        fact, worded = saved.turns[2], saved.turns[4]
        assert fact.content == planned_reply(saved, 2, seed_for(sid)) and "600 GB/s" in fact.content  # the facts
        offline = planned_reply(saved, 4, seed_for(sid))
        captions = [c.value for c in at.caption]
        if worded.replaced is not None:
            assert worded.content == offline
            assert any(c.startswith("The LLM's reply was replaced (") for c in captions)
        else:
            assert check_reply(worded.content, ReplyContext.of(offline, saved.turns[:4])) is None
        assert at.chat_message[-1].markdown[-1].value  # the reply is on the page
    finally:
        st.cache_resource.clear()
