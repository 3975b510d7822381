"""The real app in headless Chromium: `streamlit run app.py` on a free port, two answers typed into the chat,
"End and grade", and the scorecard on screen; the clock ticking on its own; Replay and Batch at 1,400 px with
every label whole, Replay's place in the URL and evidence linking to its turn; neutral score colours. Every
request the page makes must stay on 127.0.0.1.

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
            context = browser.new_context(viewport={"width": 1400, "height": 900})

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


# Elements whose text is cut with an ellipsis (button labels, metric values, tab names) and select boxes whose
# value does not fit: what a reader sees as "Strong ..." or "Bandwidth calculatic".
CUT_TEXT = """() => {
  const cut = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    const style = getComputedStyle(el);
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && (el.innerText || '').trim()
        && (style.textOverflow === 'ellipsis' || style.overflowX === 'hidden')
        && !el.closest('[data-testid="stDataFrame"], [data-testid="stVerticalBlockBorderWrapper"][style*="height"]'))
      cut.push((el.innerText || '').trim().slice(0, 60));
  }
  const ctx = document.createElement('canvas').getContext('2d');
  for (const el of document.querySelectorAll('[data-testid="stMain"] input[role="combobox"]')) {
    const style = getComputedStyle(el);
    ctx.font = style.font;
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (el.clientWidth > 0 && ctx.measureText(el.value).width > room + 1) cut.push(el.value.slice(0, 60));
  }
  return cut;
}"""
# A data grid wider than its box scrolls sideways.
GRID_SCROLLS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')]
  .map(e => e.scrollWidth - e.clientWidth)"""


def choose(page: Any, box: str, option: str) -> None:
    """Pick an option of a select box; again if the page redrew the list under the click."""
    for attempt in range(3):
        try:
            page.get_by_role("combobox", name=box).click()
            page.get_by_role("option", name=option).click(timeout=5_000)
            break
        except Exception:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            page.wait_for_timeout(500)
    page.wait_for_function(
        '([b, o]) => document.querySelector(`input[aria-label="${b}"]`)?.value === o', arg=[box, option]
    )


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


def test_the_clock_ticks_without_an_answer(tmp_path: Path, app_env: dict[str, str]) -> None:
    sync_api = need_browser()
    outside: list[str] = []
    server = AppServer(env=app_env, log=tmp_path / "server.log")
    try:
        server.start()
        with chromium_page(sync_api, outside) as page:
            page.goto(server.url)
            page.get_by_text("Design a system to serve").first.wait_for()
            clock = page.locator('[data-testid="stSidebar"]').get_by_text(re.compile(r"elapsed"))
            clock.first.wait_for()
            first = clock.first.inner_text()
            page.wait_for_function(
                "([t]) => ![...document.querySelectorAll('[data-testid=stSidebar] p')].some(p => p.innerText === t)",
                arg=[first],
                timeout=10_000,
            )
            assert clock.first.inner_text() != first, "the clock moved on its own"
            assert chat_count(page) == 1, "and nothing else happened"
    finally:
        server.kill()
    assert outside == []


def test_replay_at_1400_px_keeps_every_label_whole_and_its_place_in_the_url(
    tmp_path: Path, app_env: dict[str, str]
) -> None:
    sync_api = need_browser()
    root = Path(app_env["COACH_TRANSCRIPTS_DIR"])
    root.mkdir(parents=True)
    samples = Path(__file__).resolve().parent.parent / "transcripts"
    for name in ("l5_solid.yaml", "l4_basic.yaml"):
        (root / name).write_bytes((samples / name).read_bytes())
    outside: list[str] = []
    server = AppServer(env=app_env, log=tmp_path / "server.log")
    try:
        server.start()
        with chromium_page(sync_api, outside) as page:
            page.goto(server.url + "replay?file=l5_solid.yaml&turn=9")
            page.get_by_text("Reviewer override").first.wait_for()
            page.get_by_text(re.compile(r"^Turn 9 of 18")).first.wait_for()
            # the longest names the override form can show
            choose(page, "Category", "Parallelism Strategy")
            # the sub-criteria follow the category once the page has run again
            page.wait_for_function(
                "() => document.querySelector('input[aria-label=\"Sub-criterion\"]')?.value"
                " === 'Understanding of Parallelism Types'"
            )
            choose(page, "Sub-criterion", "Strategy Selection & Justification")
            page.get_by_text("Machine:").first.wait_for()
            page.wait_for_timeout(800)
            assert page.evaluate(CUT_TEXT) == [], "labels cut short at 1,400 px"

            page.get_by_role("button", name="Next ▶").click()
            page.wait_for_url(re.compile(r"turn=10"))
            page.reload()  # a reload opens the same transcript at the same turn
            page.get_by_text(re.compile(r"^Turn 10 of 18")).first.wait_for()

            # evidence links to its turn
            page.get_by_text(re.compile(r"^Evidence \(")).first.click()
            link = page.locator('[data-testid="stExpanderDetails"] a', has_text=re.compile(r"^turn \d+$")).first
            target = int(link.inner_text().split()[1])
            link.click()
            page.get_by_text(re.compile(rf"^Turn {target} of 18")).first.wait_for()
            assert f"turn={target}" in page.url
            # score bars in a neutral colour, not Streamlit's red
            page.locator('[data-testid="stProgressBarTrack"]').first.wait_for()
            fill = page.evaluate(
                "() => getComputedStyle(document.querySelector('[data-testid=stProgressBarTrack] > div')).backgroundColor"
            )
            r, g, b = (int(x) for x in re.findall(r"\d+", fill)[:3])
            assert not (r > 150 and r > g + 60 and r > b + 60), f"score bars are red: {fill}"
            assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        server.kill()
    assert outside == [], f"the page tried to leave 127.0.0.1: {outside}"


def test_batch_grades_the_default_folder_into_a_table_that_fits(tmp_path: Path, app_env: dict[str, str]) -> None:
    sync_api = need_browser()
    root = Path(app_env["COACH_TRANSCRIPTS_DIR"])
    root.mkdir(parents=True)
    good = Path(__file__).parent / "data" / "transcripts" / "good"
    for name in ("project.yaml", "session.txt", "chat.json"):
        (root / name).write_bytes((good / name).read_bytes())
    (root / "a-transcript-with-a-long-name.yaml").write_bytes((good / "project.yaml").read_bytes())
    (root / "broken.yaml").write_text("turns: [\n", encoding="utf-8")
    from grader.interview import InterviewEngine
    from grader.overrides import Override, save_overrides
    from grader.store import save_transcript_atomic

    done = InterviewEngine(transcript_id="20261207-004629-374bb9")
    done.start()
    done.reply(ANSWERS[1])
    app_env = {**app_env, "COACH_SESSIONS_DIR": str(root / "sessions")}  # as by default: inside the batch folder
    save_transcript_atomic(done.end(), root / "sessions" / "20261207-004629-374bb9.yaml")
    save_overrides(
        root / "project.yaml", [Override(category="parallelism", subcriterion="strategy", score=1, note="n")]
    )
    outside: list[str] = []
    server = AppServer(env=app_env, log=tmp_path / "server.log")
    try:
        server.start()
        with chromium_page(sync_api, outside) as page:
            page.goto(server.url + "batch")
            page.get_by_text("Include finished practice sessions").click()
            page.wait_for_timeout(500)
            page.get_by_role("button", name="Grade").click()  # the folder is filled in: nothing to type
            page.get_by_text("Mean total").first.wait_for()
            assert page.get_by_text(re.compile("1 with reviewer overrides")).count() == 1
            first = page.locator('[data-testid="stMetric"]').first.inner_text().split()
            assert first == ["Transcripts", "6"], f"5 files and the finished session: {first}"
            page.wait_for_timeout(800)
            assert page.locator('[data-testid="stProgress"]').count() == 0, "no progress bar is left behind"
            scroll = page.evaluate(GRID_SCROLLS)
            assert scroll and max(scroll) <= 1, f"the table scrolls sideways by {scroll} px at 1,400 px"
            assert page.evaluate(CUT_TEXT) == []
            assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        server.kill()
    assert outside == [], f"the page tried to leave 127.0.0.1: {outside}"
