"""A practice session survives `kill -9` of the server: every turn the browser saw is on disk, and the same URL
resumes the interview on a restarted server. Real `streamlit run`, real headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from app_ui.launch import AppServer
from grader.loaders import load_transcript
from tests.test_browser import app_env, chat_count, chromium_page, need_browser, send, session_id

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIRST = "What interconnect do the nodes have?"
SECOND = "The weights are 175B x 2 bytes = 350 GB in fp16, so they need at least five 80 GB GPUs."
__all__ = ["app_env"]  # the fixture, shared with test_browser.py


def candidate_turns(path: Path) -> list[str]:
    return [t.content for t in load_transcript(path, in_progress=True).turns if t.role == "candidate"]


def test_kill_9_between_turns_loses_nothing(tmp_path: Path, app_env: dict[str, str]) -> None:
    sync_api = need_browser()
    outside: list[str] = []
    sessions = Path(app_env["COACH_SESSIONS_DIR"])
    first = AppServer(env=app_env, log=tmp_path / "server1.log")
    second = AppServer(env=app_env, port=first.port, log=tmp_path / "server2.log")
    try:
        first.start()
        with chromium_page(sync_api, outside) as page:
            page.goto(first.url)
            page.get_by_text("Design a system to serve").first.wait_for()
            send(page, FIRST)
            sid = session_id(page)
            path = sessions / f"{sid}.yaml"
            on_screen = chat_count(page)

            first.kill()  # SIGKILL: no shutdown hooks, no flush
            saved = load_transcript(path, in_progress=True)
            assert candidate_turns(path) == [FIRST]
            assert len(saved.turns) == on_screen == 3, "the reply the browser showed was saved before it was shown"

            second.start()  # same port: the browser's refresh finds the new server
            page.goto(first.url + f"?session={sid}")
            page.get_by_text("Resumed session").first.wait_for()
            assert chat_count(page) == 3
            assert session_id(page) == sid
            send(page, SECOND)

            second.kill()
            assert candidate_turns(path) == [FIRST, SECOND]
            after = load_transcript(path, in_progress=True)
            assert [t.content for t in after.turns[:3]] == [t.content for t in saved.turns]
            assert after.turns[-1].role == "interviewer"
    finally:
        first.kill()
        second.kill()
    assert not list(sessions.glob(".*.tmp")), "no temp file is left behind by an atomic save"
    assert outside == []
