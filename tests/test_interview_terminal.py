"""`python -m grader.interview.terminal`: scripted stdin in a subprocess, the transcript saved after every turn."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.interview import InterviewEngine
from grader.loaders import load_transcript
from grader.store import save_transcript_atomic
from tests.fake_openai_server import FakeOpenAIServer
from tests.test_interview_engine import no_analysis

ROOT = Path(__file__).resolve().parent.parent

LINES = [
    "What interconnect do the nodes have?",
    "I'll assume NVLink is fast enough for 8-way tensor parallelism.",
    "/hint",
    "/time",
    "How many layers does the model have?",
    "Hybrid: 2-way pipeline by 4-way tensor parallel, replicas across nodes.",
    "What GPU driver version?",
]


def run_terminal(args: list[str], stdin: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader.interview.terminal", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_scripted_session_saves_every_turn(tmp_path: Path) -> None:
    path = tmp_path / "session.yaml"
    out = run_terminal(["--seed", "3", "--save", str(path)], "\n".join([*LINES, "/end"]) + "\n")
    assert out.returncode == 0, out.stderr
    t = load_transcript(path, in_progress=True)
    said = [line for line in LINES if not line.startswith("/")]
    assert [x.content for x in t.turns if x.role == "candidate"] == said
    assert t.turns[0].role == "interviewer" and "175-billion" in t.turns[0].content
    hints = [x for x in t.turns if x.hint]
    assert len(hints) == 1 and hints[0].role == "interviewer"
    # every candidate turn is answered; /time is shown but not recorded; /end adds the closing line
    assert len(t.turns) == 1 + 2 * len(said) + 1 + 1
    assert "600 GB/s" in t.turns[2].content and "600 GB/s" not in t.turns[4].content
    assert "Thank" in t.turns[-1].content
    assert "(time)" in out.stdout and "--- summary ---" in out.stdout
    assert all(x.at is not None for x in t.turns)


def test_end_of_input_finishes_and_saves(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    out = run_terminal(["--save", str(path), "--minutes", "30"], "I'd use tensor parallelism.\n")
    assert out.returncode == 0, out.stderr
    t = load_transcript(path, in_progress=True)
    assert [x.role for x in t.turns] == ["interviewer", "candidate", "interviewer", "interviewer"]


def test_resume_continues_a_crashed_session(tmp_path: Path) -> None:
    path = tmp_path / "crashed.yaml"
    e = InterviewEngine(seed=3, analyse=no_analysis)
    e.start()
    for line in ["What interconnect do the nodes have?", "I'd use tensor parallelism in a node.", "Moving on."]:
        e.reply(line)
    save_transcript_atomic(e.transcript, path)  # killed here: no closing line
    out = run_terminal(["--seed", "3", "--save", str(path), "--resume"], "Replicas across nodes.\n/end\n")
    assert out.returncode == 0, out.stderr
    t = load_transcript(path, in_progress=True)
    assert [x.content for x in t.turns[: len(e.transcript.turns)]] == [x.content for x in e.transcript.turns]
    assert t.turns[len(e.transcript.turns)].content == "Replicas across nodes."
    assert len(t.turns) == len(e.transcript.turns) + 3
    assert "(resumed: 7 turns" in out.stdout


def test_an_existing_session_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("keep me")
    out = run_terminal(["--save", str(path)], "hello\n")
    assert out.returncode == 2 and "--resume" in out.stderr
    assert path.read_text() == "keep me"


def test_llm_mode_needs_settings() -> None:
    out = run_terminal(["--llm"], "hello\n")
    assert out.returncode == 2 and "COACH_LLM_BASE_URL" in out.stderr


@pytest.fixture
def server() -> FakeOpenAIServer:
    with FakeOpenAIServer() as s:
        yield s


def test_llm_mode_streams_and_saves(tmp_path: Path, server: FakeOpenAIServer) -> None:
    server.enqueue_stream(["NVLink inside ", "a node."])
    server.enqueue_error(500)  # the second turn falls back to the offline interviewer
    path = tmp_path / "llm.yaml"
    env = {"COACH_LLM_BASE_URL": server.base_url, "COACH_LLM_MODEL": "fake-model", "NO_PROXY": "127.0.0.1"}
    out = run_terminal(["--llm", "--save", str(path)], "What interconnect?\nWhat's the latency target?\n/end\n", env)
    assert out.returncode == 0, out.stderr
    t = load_transcript(path, in_progress=True)
    assert t.turns[2].content == "NVLink inside a node."
    assert "300 ms" in t.turns[4].content
    assert "offline interviewer" in out.stdout
