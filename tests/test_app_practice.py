"""Practice page through AppTest: a whole offline interview typed into the chat reaches the scorecard, every
turn is on disk as soon as it is made, and the session id in the URL resumes the interview in a new session
(a refresh, or a restarted server). LLM mode streams through a faked chat client and falls back offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app_ui import resources
from app_ui.text import md_text
from grader.extract.rules import RulesExtractor
from grader.interview import InterviewEngine
from grader.labels import category_label
from grader.loaders import load_transcript
from grader.pipeline import grade_transcript
from grader.scorecard import inline
from grader.store import save_transcript_atomic

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 30

ANSWERS = [
    "What interconnect do the nodes have, and what latency target do we have?",
    "The weights are 175B x 2 bytes = 350 GB in fp16, so they need at least five 80 GB GPUs.",
    "I'd use 2-way pipeline parallelism across two nodes and 8-way tensor parallelism inside each node.",
    "With TP=8 inside the node each GPU holds about 43.75 GB of weights.",
    "The KV cache is 2 x 96 layers x 12288 x 2 bytes, about 4.7 MB per token.",
    "NVLink gives 600 GB/s per GPU, InfiniBand only 25 GB/s, so tensor parallelism stays inside a node.",
    "Each all-reduce moves 2(n-1)/n of the message, so about 1.75x the activation size per layer.",
    "I'd replicate the whole pipeline for failover and keep a warm standby node.",
    "I would monitor p99 latency, GPU memory headroom and NCCL timeouts.",
]


@pytest.fixture
def sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "sessions"
    monkeypatch.setenv("COACH_SESSIONS_DIR", str(folder))
    monkeypatch.setenv("COACH_TRANSCRIPTS_DIR", str(tmp_path / "transcripts"))
    monkeypatch.delenv("COACH_INTERVIEWER_MODE", raising=False)
    monkeypatch.setattr(resources, "_secrets", dict)  # a developer's ~/.streamlit/secrets.toml stays out
    st.cache_resource.clear()
    yield folder
    st.cache_resource.clear()


def app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at.run()


def texts(at: AppTest) -> str:
    """Everything the page shows as text, in one string (for 'shown anywhere' assertions)."""
    parts = [
        e.value for kind in ("markdown", "caption", "info", "warning", "error", "success") for e in getattr(at, kind)
    ]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def sid_of(at: AppTest) -> str:
    sid = at.query_params["session"]
    assert isinstance(sid, str) and sid
    return sid


def say(at: AppTest, text: str) -> AppTest:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def test_whole_interview_saved_every_turn_and_graded(sessions: Path) -> None:
    at = app()
    assert not at.exception
    sid = sid_of(at)
    path = sessions / f"{sid}.yaml"
    assert not path.exists(), "a visit that never answers leaves no empty session behind"

    for n, answer in enumerate(ANSWERS, start=1):
        say(at, answer)
        saved = load_transcript(path, in_progress=True)
        assert saved.turns[0].role == "interviewer" and "175" in saved.turns[0].content, "the opening question"
        candidate = [t.content for t in saved.turns if t.role == "candidate"]
        assert candidate == ANSWERS[:n], f"after answer {n} the file holds every answer so far"
        assert saved.turns[-1].role == "interviewer", "the interviewer's reply is saved too"
        engine = at.session_state["practice"].engine
        assert [t.content for t in saved.turns] == [t.content for t in engine.transcript.turns]
        if engine.finished:
            break
        shown = [m.markdown[0].value for m in at.chat_message if m.markdown]
        assert len(shown) == len(saved.turns)
    assert n >= 8

    if not at.session_state["practice"].engine.finished:
        at.button(key="practice_end").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Total"].endswith("/100") and metrics["Total"] != "—/100"
    assert metrics["Level"] in {"L6", "L5", "L4", "below L4"}
    assert metrics["Recommendation"] in {"Strong Hire", "Hire", "No Hire"}
    assert "Scorecard" in [h.value for h in at.subheader]
    assert {b.label for b in at.download_button} == {"Transcript (YAML)", "Scorecard (Markdown)", "Report (JSON)"}
    assert len(at.chat_input) == 0, "no more answers once the interview is over"
    final = load_transcript(path)
    assert final.turns[-1].role == "interviewer"
    assert [t.content for t in final.turns if t.role == "candidate"] == ANSWERS[: len(final.candidate_turns())]


def test_grading_happens_once_per_transcript(sessions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = resources.grade

    def counting(transcript, s=None):  # type: ignore[no-untyped-def]
        calls.append(transcript.content_hash())
        return real(transcript, s)

    monkeypatch.setattr(resources, "grade", counting)
    at = app()
    say(at, ANSWERS[1])
    at.button(key="practice_end").click().run()
    at.run()
    at.run()
    assert not at.exception
    assert len(calls) == 1


def test_same_session_id_resumes_in_a_new_browser_session(sessions: Path) -> None:
    first = app()
    sid = sid_of(first)
    for answer in ANSWERS[:3]:
        say(first, answer)
    before = load_transcript(sessions / f"{sid}.yaml", in_progress=True)

    second = app(session=sid)  # a refresh or a restarted server: nothing in memory, the URL names the session
    assert not second.exception
    assert sid_of(second) == sid
    engine = second.session_state["practice"].engine
    assert [t.content for t in engine.transcript.turns] == [t.content for t in before.turns]
    assert "Resumed session" in texts(second)
    assert len(second.chat_message) == len(before.turns)

    say(second, ANSWERS[3])
    after = load_transcript(sessions / f"{sid}.yaml", in_progress=True)
    assert len(after.turns) == len(before.turns) + 2
    assert [t.content for t in after.turns[: len(before.turns)]] == [t.content for t in before.turns]


def test_finished_session_reopens_on_its_scorecard(sessions: Path) -> None:
    at = app()
    sid = sid_of(at)
    say(at, ANSWERS[1])
    at.button(key="practice_end").click().run()
    again = app(session=sid)
    assert not again.exception
    assert "Total" in {m.label for m in again.metric}
    assert len(again.chat_input) == 0


def test_hint_is_recorded_and_saved(sessions: Path) -> None:
    at = app()
    sid = sid_of(at)
    say(at, ANSWERS[0])
    at.button(key="practice_hint").click().run()
    assert not at.exception
    saved = load_transcript(sessions / f"{sid}.yaml", in_progress=True)
    assert saved.turns[-1].hint and saved.turns[-1].role == "interviewer"
    assert f"turn {len(saved.turns)} · hint" in [c.value for c in at.caption]


def test_chat_shows_turn_numbers_as_people_count_them(sessions: Path) -> None:
    at = app()
    say(at, ANSWERS[0])
    say(at, ANSWERS[1])
    captions = [m.caption[0].value for m in at.chat_message]
    assert captions == [f"turn {i}" for i in range(1, 6)], "the opening question is turn 1"


def test_sidebar_shows_topics_while_interviewing_and_the_score_once_graded(sessions: Path) -> None:
    at = app()
    say(at, ANSWERS[1])
    sidebar = [c.value for c in at.sidebar.caption]
    assert "Topics covered so far" in sidebar and "Score by category" not in sidebar
    assert all(p.text.endswith(" topics") for p in at.sidebar.progress), "coverage counts topics, not points"
    at.button(key="practice_end").click().run()
    assert not at.exception
    sidebar = [c.value for c in at.sidebar.caption]
    assert "Score by category" in sidebar and "Topics covered so far" not in sidebar
    report = grade_transcript(load_transcript(sessions / f"{sid_of(at)}.yaml"))
    bars = {p.text: p.value for p in at.sidebar.progress}
    expected = {
        f"{inline(category_label(cid))}: **{cat.score:g}/{cat.max:g}**": cat.score / cat.max
        for cid, cat in report.categories.items()
    }
    assert bars.keys() == expected.keys(), "the sidebar shows the scorecard's own category scores"
    for text, fraction in expected.items():
        assert abs(bars[text] - 100 * fraction) <= 1, text  # progress is in percent


def test_the_clock_is_in_the_sidebar_while_the_interview_runs(sessions: Path) -> None:
    """The clock is drawn by `live_clock`, a fragment redrawn every second (the browser test sees it move with
    no answer); here, that it shows the phase and the time left, and is gone once the interview ends."""
    at = app()
    assert any("left" in m.value and "elapsed" in m.value for m in at.sidebar.markdown)
    say(at, ANSWERS[1])
    at.button(key="practice_end").click().run()
    assert not any("left" in m.value and "elapsed" in m.value for m in at.sidebar.markdown)


def test_a_new_interview_lists_unfinished_ones_to_resume(sessions: Path) -> None:
    open_one = InterviewEngine(transcript_id="20260101-090000-aaaaaa")
    open_one.start()
    open_one.reply(ANSWERS[0])
    open_one.reply(ANSWERS[1])
    save_transcript_atomic(open_one.transcript, sessions / "20260101-090000-aaaaaa.yaml")
    done = InterviewEngine(transcript_id="20260101-100000-bbbbbb")
    done.start()
    done.reply(ANSWERS[1])
    save_transcript_atomic(done.end(), sessions / "20260101-100000-bbbbbb.yaml")

    at = app()
    resume = [b for b in at.button if b.key and b.key.startswith("practice_resume_")]
    assert [b.key for b in resume] == ["practice_resume_20260101-090000-aaaaaa"], "finished ones are not listed"
    assert "2 answers" in resume[0].label
    resume[0].click().run()
    assert not at.exception
    assert sid_of(at) == "20260101-090000-aaaaaa"
    engine = at.session_state["practice"].engine
    assert [t.content for t in engine.transcript.turns] == [t.content for t in open_one.transcript.turns]
    assert not [b for b in at.button if b.key and b.key.startswith("practice_resume_")], "not once answering"


def test_no_file_system_path_under_the_title(sessions: Path) -> None:
    at = app()
    say(at, ANSWERS[0])
    assert str(sessions) not in texts(at) and str(sessions.parent) not in texts(at)


def test_reopening_a_finished_session_does_not_grade_it_again(sessions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second browser session (a reload, another tab, someone else) reuses the report graded before."""
    calls: list[str] = []
    real = resources.grade

    def counting(transcript, s=None):  # type: ignore[no-untyped-def]
        calls.append(transcript.content_hash())
        return real(transcript, s)

    monkeypatch.setattr(resources, "grade", counting)
    first = app()
    sid = sid_of(first)
    say(first, ANSWERS[1])
    first.button(key="practice_end").click().run()
    for _ in range(2):
        again = app(session=sid)
        assert not again.exception and "Total" in {m.label for m in again.metric}
    assert len(calls) == 1


def test_evidence_links_to_the_session_in_replay(sessions: Path) -> None:
    at = app()
    sid = sid_of(at)
    say(at, ANSWERS[1])
    at.button(key="practice_end").click().run()
    block = next(m.value for m in at.markdown if 'target="_self"' in m.value)
    assert f'href="replay?file=sessions%2F{sid}.yaml&amp;turn=' in block


def test_a_reply_left_pending_by_a_stopped_run_is_recorded_first(sessions: Path) -> None:
    """Streamlit may stop a run (the user clicked again) after on_submit recorded the answer but before the page
    recorded the reply; the next action records that reply before its own turn."""
    at = app()
    sid = sid_of(at)
    say(at, ANSWERS[0])
    session = at.session_state["practice"]
    session.pending = session.engine.prepare(ANSWERS[1])  # what a run stopped before the reply leaves behind
    at.button(key="practice_hint").click().run()
    assert not at.exception
    saved = load_transcript(sessions / f"{sid}.yaml", in_progress=True)
    assert [(t.role, t.hint) for t in saved.turns[-3:]] == [
        ("candidate", False),
        ("interviewer", False),
        ("interviewer", True),
    ]
    assert saved.turns[-3].content == ANSWERS[1]
    assert at.session_state["practice"].pending is None


def test_pending_reply_is_recorded_by_the_next_run(sessions: Path) -> None:
    at = app()
    sid = sid_of(at)
    say(at, ANSWERS[0])
    session = at.session_state["practice"]
    session.pending = session.engine.prepare(ANSWERS[1])
    at.run()
    saved = load_transcript(sessions / f"{sid}.yaml", in_progress=True)
    assert [t.role for t in saved.turns[-2:]] == ["candidate", "interviewer"]
    assert len(at.chat_message) == len(saved.turns)


def test_new_interview_starts_a_new_session(sessions: Path) -> None:
    at = app()
    old = sid_of(at)
    say(at, ANSWERS[0])
    at.button(key="practice_new").click().run()
    assert not at.exception
    new = sid_of(at)
    assert new != old
    assert (sessions / f"{old}.yaml").is_file() and not (sessions / f"{new}.yaml").exists()
    assert len(at.chat_message) == 1


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", "x" * 200, ".hidden", "abc\n", "abc\r\n"])
def test_unsafe_session_id_is_refused(sessions: Path, bad: str) -> None:
    at = app(session=bad)
    assert not at.exception
    assert sid_of(at) != bad
    assert "not valid" in texts(at)
    assert not sessions.exists() or all(p.parent == sessions for p in sessions.iterdir())


def test_refresh_before_the_first_answer_keeps_the_session_id(sessions: Path) -> None:
    first = app()
    sid = sid_of(first)
    again = app(session=sid)  # nothing saved yet: the same id starts the interview
    assert not again.exception
    assert sid_of(again) == sid
    say(again, ANSWERS[0])
    assert (sessions / f"{sid}.yaml").is_file()


def test_unreadable_session_file_is_one_error_line(sessions: Path) -> None:
    sessions.mkdir(parents=True)
    (sessions / "broken.yaml").write_text("turns: [\n", encoding="utf-8")
    at = app(session="broken")
    assert not at.exception
    assert len(at.error) == 1
    assert "broken.yaml" in at.error[0].value and "\n" not in at.error[0].value
    assert "New interview" in [b.label for b in at.button]


def test_offline_mode_is_shown_and_no_secrets_file_is_fine(sessions: Path) -> None:
    at = app()
    assert not at.exception
    assert "Offline (scripted interviewer, rule-based grading)" in [m.value.strip("*") for m in at.sidebar.markdown]
    assert not at.error


# --- LLM mode ----------------------------------------------------------------------------------------------


class FakeChat:
    """Streams fixed tokens, or fails after `fail_after` tokens; records the messages it was sent."""

    def __init__(self, tokens: list[str], fail_after: int | None = None) -> None:
        self.tokens = tokens
        self.fail_after = fail_after
        self.calls: list[Any] = []

    def stream(self, messages: Any) -> Iterator[SimpleNamespace]:
        self.calls.append(messages)
        for i, t in enumerate(self.tokens):
            if self.fail_after is not None and i >= self.fail_after:
                raise ConnectionError("endpoint went away")
            yield SimpleNamespace(content=t)


@pytest.fixture
def llm_env(sessions: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COACH_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("COACH_LLM_MODEL", "fake-model")
    monkeypatch.setenv("COACH_LLM_API_KEY", "sk-test-SECRET-do-not-show")
    monkeypatch.setattr(resources, "extractor", lambda *a, **k: RulesExtractor())  # grading stays offline
    return sessions


def test_llm_mode_streams_the_reply_and_saves_it(llm_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = FakeChat(["Good. ", "Go on: ", "how would you split it?"])
    monkeypatch.setattr(resources, "interviewer_chat", lambda *a, **k: chat)
    at = app()
    assert "LLM: fake-model at http://127.0.0.1:9/v1" in [m.value.strip("*") for m in at.sidebar.markdown]
    say(at, "I'd start with tensor parallelism inside a node.")
    assert chat.calls, "the chat client was asked"
    saved = load_transcript(llm_env / f"{sid_of(at)}.yaml", in_progress=True)
    assert saved.turns[-1].content == "Good. Go on: how would you split it?"
    assert at.chat_message[-1].markdown[-1].value == "Good. Go on: how would you split it?"
    assert not any("replaced" in c.value for c in at.caption)
    assert "sk-test-SECRET" not in texts(at)


def test_llm_mode_answers_a_clarifying_question_with_the_scenarios_facts(
    llm_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = FakeChat(["It is PCIe only, 10 GB/s."])  # what a weak model might invent: never asked
    monkeypatch.setattr(resources, "interviewer_chat", lambda *a, **k: chat)
    at = app()
    say(at, "What interconnect do the nodes have?")
    assert not chat.calls
    saved = load_transcript(llm_env / f"{sid_of(at)}.yaml", in_progress=True)
    assert "600 GB/s" in saved.turns[-1].content and "10 GB/s" not in saved.turns[-1].content


def test_llm_failure_mid_stream_shows_the_offline_reply(llm_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = FakeChat(["Partial ", "answer ", "that never ends"], fail_after=2)
    monkeypatch.setattr(resources, "interviewer_chat", lambda *a, **k: chat)
    at = app()
    say(at, "I'd start with tensor parallelism inside a node.")
    engine = at.session_state["practice"].engine
    last = engine.transcript.turns[-1]
    assert last.role == "interviewer" and "Partial" not in last.content
    assert engine.last_reply.fell_back
    assert at.chat_message[-1].markdown[-1].value.startswith(last.content.split()[0])
    assert any("offline interviewer" in c.value for c in at.caption)
    saved = load_transcript(llm_env / f"{sid_of(at)}.yaml", in_progress=True)
    assert saved.turns[-1].content == last.content


def test_a_reply_that_fails_the_guards_is_replaced_and_the_page_says_so(
    llm_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = FakeChat(["What is the expected return on investment? ", "mendatang menneske " * 60])
    monkeypatch.setattr(resources, "interviewer_chat", lambda *a, **k: chat)
    at = app()
    say(at, "I'd start with tensor parallelism inside a node.")
    engine = at.session_state["practice"].engine
    last = engine.transcript.turns[-1]
    assert last.replaced is not None and "mendatang" not in last.content
    assert at.chat_message[-1].markdown[-1].value == md_text(last.content)
    assert any(c.value.startswith("The LLM's reply was replaced (") for c in at.caption)
    saved = load_transcript(llm_env / f"{sid_of(at)}.yaml", in_progress=True)
    assert saved.turns[-1].replaced == last.replaced  # on disk too
    again = app(session=sid_of(at))  # and shown again when the page is drawn from the saved session
    assert any(c.value.startswith("The LLM's reply was replaced (") for c in again.caption)


def test_llm_settings_from_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.delenv("COACH_INTERVIEWER_MODE", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["COACH_LLM_BASE_URL"] = "http://127.0.0.1:9/v1"
    at.secrets["COACH_LLM_MODEL"] = "from-secrets"
    at.secrets["COACH_LLM_API_KEY"] = "sk-secret-from-toml"
    at.run()
    assert not at.exception
    assert "LLM: from-secrets at http://127.0.0.1:9/v1" in [m.value.strip("*") for m in at.sidebar.markdown]
    assert "sk-secret-from-toml" not in texts(at)


def test_offline_mode_setting_wins_over_a_configured_llm(sessions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("COACH_INTERVIEWER_MODE", "offline")
    at = app()
    assert "Offline (scripted interviewer, rule-based grading)" in [m.value.strip("*") for m in at.sidebar.markdown]


@pytest.mark.parametrize("sid", ["abc\n", "20261206-101010-abcdef\n", "abc\r", " abc"])
def test_session_id_is_matched_in_full(sid: str) -> None:
    """`$` matches before a final newline: `?session=abc%0A` must not pass and create `abc\\n.yaml`."""
    from app_pages.practice import valid_session_id

    assert not valid_session_id(sid)
    assert valid_session_id(sid.strip())
