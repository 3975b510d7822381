"""The real app in headless Chromium: `streamlit run app.py` on a free port, two answers typed into the chat,
"End and grade", and the scorecard on screen. Every request the page makes must stay on 127.0.0.1.

Skipped where /usr/bin/chromium or Playwright is missing. The helpers here are shared with test_durability.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app_ui.launch import CHROMIUM, CHROMIUM_ARGS, AppServer
from grader.loaders import load_transcript

pytestmark = pytest.mark.browser

ANSWERS = [
    "What interconnect do the nodes have?",
    "The weights are 175B x 2 bytes = 350 GB in fp16, so they need at least five 80 GB GPUs.",
]
CHAT = '[data-testid="stChatMessage"]'
# No name ever resolves: a request to anything but 127.0.0.1 fails in the browser itself.
BLOCK_DNS = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def need_browser() -> Any:
    """The Playwright sync API, or skip with the reason."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package to run browser tests")
    try:
        from playwright import sync_api
    except ImportError:
        pytest.skip("playwright (python) is not installed")
    return sync_api


@contextmanager
def chromium_page(sync_api: Any, outside: list[str]) -> Iterator[Any]:
    """A page in headless Chromium that aborts (and records in `outside`) any request not to 127.0.0.1."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, BLOCK_DNS])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})

            def guard(route: Any) -> None:
                host = urlsplit(route.request.url).hostname
                if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", guard)
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def chat_count(page: Any) -> int:
    return int(page.locator(CHAT).count())


def send(page: Any, text: str) -> None:
    """Type an answer and wait for it and the interviewer's reply to be on screen."""
    before = chat_count(page)
    box = page.get_by_placeholder("Your answer")
    box.fill(text)
    box.press("Enter")
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[CHAT, before + 2], timeout=60_000
    )
    # the reply's text, not just its bubble (whose avatar icon is text too)
    page.locator(CHAT).nth(before + 1).locator('[data-testid="stMarkdownContainer"]').first.wait_for()


def session_id(page: Any) -> str:
    ids = parse_qs(urlsplit(page.url).query).get("session")
    assert ids, f"no ?session= in {page.url}"
    return ids[0]


@pytest.fixture
def app_env(tmp_path: Path) -> dict[str, str]:
    return {
        "COACH_SESSIONS_DIR": str(tmp_path / "sessions"),
        "COACH_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "COACH_BATCH_ROOT": str(tmp_path / "transcripts"),
        "COACH_CACHE_DIR": os.environ.get("COACH_CACHE_DIR", str(tmp_path / "cache")),
        "NO_PROXY": "127.0.0.1,localhost",
    }


def test_two_answers_then_end_and_grade_shows_the_scorecard(tmp_path: Path, app_env: dict[str, str]) -> None:
    sync_api = need_browser()
    outside: list[str] = []
    server = AppServer(env=app_env, log=tmp_path / "server.log")
    try:
        server.start()
        with chromium_page(sync_api, outside) as page:
            page.goto(server.url)
            page.get_by_text("Design a system to serve").first.wait_for()
            assert "Offline (scripted interviewer, rule-based grading)" in page.locator("section").first.inner_text()
            for answer in ANSWERS:
                send(page, answer)
            sid = session_id(page)
            page.get_by_role("button", name="End and grade").click()
            page.get_by_text("Level", exact=True).first.wait_for()
            total = page.locator('[data-testid="stMetric"]').first.inner_text()
            assert re.search(r"Total\s+\d+(\.\d+)?/100", total), total
            assert page.get_by_text("Recommendation", exact=True).count() >= 1
            page.get_by_role("button", name="Report (JSON)").wait_for()
            assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        server.kill()
    saved = load_transcript(tmp_path / "sessions" / f"{sid}.yaml")
    assert [t.content for t in saved.turns if t.role == "candidate"] == ANSWERS
    assert outside == [], f"the page tried to leave 127.0.0.1: {outside}"


def test_answers_typed_in_quick_succession_stay_in_order(tmp_path: Path, app_env: dict[str, str]) -> None:
    """Answers sent while the page is still drawing the last reply, then a hint: whatever Streamlit delivers is
    recorded in order, every answer has its reply right after it, and the screen shows what the file holds."""
    sync_api = need_browser()
    outside: list[str] = []
    sent = [f"Answer {i}: the weights are {350 + i} GB in fp16." for i in range(5)]
    server = AppServer(env=app_env, log=tmp_path / "server.log")
    try:
        server.start()
        with chromium_page(sync_api, outside) as page:
            page.goto(server.url)
            page.get_by_text("Design a system to serve").first.wait_for()
            box = page.get_by_placeholder("Your answer")
            for text in sent:
                box.fill(text)
                box.press("Enter")
                page.wait_for_timeout(150)
            page.get_by_role("button", name="Hint").click()
            hint = page.locator(CHAT).locator('[data-testid="stCaptionContainer"]', has_text="Hint")
            hint.first.wait_for()  # the hint is in the chat
            page.wait_for_timeout(1500)
            shown = chat_count(page)
            sid = session_id(page)
    finally:
        server.kill()
    saved = load_transcript(tmp_path / "sessions" / f"{sid}.yaml", in_progress=True).turns
    assert shown == len(saved)
    answers = [t.content for t in saved if t.role == "candidate"]
    assert answers and answers == [a for a in sent if a in answers], "recorded answers keep the order they were sent"
    for i, turn in enumerate(saved):
        if turn.role == "candidate":
            assert saved[i + 1].role == "interviewer" and not saved[i + 1].hint, f"answer at turn {i} has its reply"
    assert saved[-1].hint
    assert outside == []


def test_replay_and_batch_pages_render(tmp_path: Path, app_env: dict[str, str]) -> None:
    sync_api = need_browser()
    root = Path(app_env["COACH_TRANSCRIPTS_DIR"])
    root.mkdir(parents=True)
    good = Path(__file__).parent / "data" / "transcripts" / "good"
    (root / "project.yaml").write_bytes((good / "project.yaml").read_bytes())
    outside: list[str] = []
    server = AppServer(env=app_env, log=tmp_path / "server.log")
    try:
        server.start()
        with chromium_page(sync_api, outside) as page:
            page.goto(server.url + "replay")
            page.get_by_text("Reviewer override").first.wait_for()
            page.get_by_text("Nothing graded comes from this turn.").wait_for()  # turn 0, the opening
            page.get_by_role("button", name="Next turn with findings ▶▶").click()
            page.get_by_text("Nothing graded comes from this turn.").wait_for(state="detached")
            page.get_by_text(re.compile(r"^Turn [1-9]\d* of \d+")).first.wait_for()
            page.goto(server.url + "batch")
            page.get_by_label("…or a folder, file or glob in the batch folder").fill(str(root))
            page.keyboard.press("Enter")
            page.get_by_role("button", name="Grade").click()
            page.get_by_text("Mean total").first.wait_for()
            assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        server.kill()
    assert outside == [], f"the page tried to leave 127.0.0.1: {outside}"
