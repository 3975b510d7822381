"""`python -m grader.interview.terminal`: scripted stdin in a subprocess, the transcript saved after every turn; a
banner of commands, /help and unknown commands never taken as answers, and a plain-text scorecard at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


def test_banner_help_and_unknown_commands_are_never_answers(tmp_path: Path) -> None:
    path = tmp_path / "session.yaml"
    lines = ["/help", "What interconnect do the nodes have?", "/HELP", "/hnit", "/?", "I'd use TP8 in a node.", "/end"]
    out = run_terminal(["--seed", "1", "--save", str(path)], "\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    before_question = out.stdout.split("interviewer>")[0]
    for command in ("/hint", "/time", "/help", "/end"):
        assert command in before_question, f"the banner names {command} before the first question"
    assert out.stdout.count("Commands (not recorded as answers)") == 4, "the banner, then /help, /HELP and /?"
    assert "unknown command /hnit" in out.stdout
    t = load_transcript(path, in_progress=True)
    assert [x.content for x in t.turns if x.role == "candidate"] == [
        "What interconnect do the nodes have?",
        "I'd use TP8 in a node.",
    ]


def test_the_interview_ends_with_a_plain_text_scorecard(tmp_path: Path) -> None:
    path = tmp_path / "session.yaml"
    answers = [
        "The weights are 175B x 2 bytes = 350 GB in fp16, so they need at least five 80 GB GPUs.",
        "I'd use 8-way tensor parallelism inside a node, so each GPU holds 43.75 GB of weights.",
        "/end",
    ]
    out = run_terminal(["--save", str(path)], "\n".join(answers) + "\n")
    assert out.returncode == 0, out.stderr
    card = out.stdout.split("--- scorecard ---")[1]
    assert "Total " in card and "/100 · Level " in card and "Numeric checks" in card and "Red flags" in card
    for markdown in ("|---", "| ", "**", "## ", "# Scorecard", "\\"):
        assert markdown not in card, f"raw Markdown in the terminal: {markdown!r}"
    assert f"python -m grader grade {path}" in card, "where to find the evidence"


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
    server.enqueue_stream(["Okay. ", "Go on."])
    server.enqueue_error(500)  # the second turn falls back to the offline interviewer
    server.enqueue_stream(["Let me ", "ask: " * 40])  # the third fails a guard and is replaced
    path = tmp_path / "llm.yaml"
    env = {"COACH_LLM_BASE_URL": server.base_url, "COACH_LLM_MODEL": "fake-model", "NO_PROXY": "127.0.0.1"}
    lines = [
        "I'd start with tensor parallelism.",
        "And pipeline parallelism across nodes.",
        "Then replicas for throughput.",
        "What's the latency target?",  # facts: the engine's words, no request
        "/end",
    ]
    out = run_terminal(["--llm", "--save", str(path)], "\n".join(lines) + "\n", env)
    assert out.returncode == 0, out.stderr
    t = load_transcript(path, in_progress=True)
    assert t.turns[2].content == "Okay. Go on." and t.turns[2].replaced is None
    assert "offline interviewer" in out.stdout
    assert t.turns[6].replaced is not None and "degenerate" in t.turns[6].replaced
    assert f"(reply replaced: {t.turns[6].replaced}; offline interviewer)" in out.stdout
    assert "300 ms" in t.turns[8].content
    assert server.count == 3


def test_llm_mode_saves_the_answer_before_the_reply(tmp_path: Path, server: FakeOpenAIServer) -> None:
    """Killed while the model is still answering, the session file already holds the candidate's answer."""
    server.enqueue_delay(30.0, then_text="never seen")
    path = tmp_path / "killed.yaml"
    env = {**os.environ, "COACH_LLM_BASE_URL": server.base_url, "COACH_LLM_MODEL": "m", "NO_PROXY": "127.0.0.1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader.interview.terminal", "--llm", "--save", str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write("I'd start with tensor parallelism inside each node.\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while server.count == 0 and time.monotonic() < deadline:  # the reply has been asked for
            time.sleep(0.05)
        assert server.count == 1
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdin is not None:
            proc.stdin.close()
    t = load_transcript(path, in_progress=True)
    assert [x.role for x in t.turns] == ["interviewer", "candidate"]
    assert t.turns[-1].content == "I'd start with tensor parallelism inside each node."
