"""Screenshots of the real app in headless Chromium, and two timings.

    .venv/bin/python docs/take_screenshots.py            # writes docs/screenshots/*.png, prints the timings
    .venv/bin/python docs/take_screenshots.py --runs 5   # more samples for the timings

Every screenshot is 1,400 px wide. Starts `streamlit run app.py` on a free 127.0.0.1 port with temporary transcripts and sessions folders (the
repository is not touched), then drives /usr/bin/chromium with Playwright:

- practice-mid.png: a practice interview after a few answers;
- practice-scorecard.png: the same interview after "End and grade";
- replay.png: that interview in Replay, opened from its URL at a turn with findings, with a reviewer override;
- batch.png: the sample transcripts graded on the Batch page.

Timings, measured in the page with `performance.now()` (0 = navigation start):
- first paint: navigation start until the interviewer's opening question is visible; the first load after the
  server starts (cold: imports, rubric) and later loads in fresh browser contexts (warm);
- scorecard: from the click on "End and grade" until the whole scorecard is visible (headline, chart drawn,
  checks, flags and the provenance line at its end).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app_ui.launch import CHROMIUM, CHROMIUM_ARGS, AppServer  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHAT = '[data-testid="stChatMessage"]'
ANSWERS = [
    "What interconnect do the nodes have, and what latency target should I design for?",
    "The weights are 175B x 2 bytes = 350 GB in fp16, so they need at least five 80 GB GPUs.",
    "I'd use 2-way pipeline parallelism across two nodes and 8-way tensor parallelism inside each node, "
    "because NVLink inside a node is far faster than InfiniBand between nodes.",
    "With TP=8 inside the node each GPU holds about 43.75 GB of weights.",
    "The KV cache is 2 x 96 layers x 12288 x 2 bytes, about 4.7 MB per token.",
]
FIRST_PAINT = """() => {
  const el = document.querySelector('[data-testid="stChatMessage"] [data-testid="stMarkdownContainer"]');
  return el && el.innerText.includes("Design a system") ? performance.now() : false;
}"""
SCORECARD_DONE = """(t0) => {
  const text = document.body.innerText;
  const metric = document.querySelector('[data-testid="stMetric"]');
  return metric && text.includes("Numeric checks") && text.includes("Green flags")
      && text.includes(" · grader ") && text.includes("Report (JSON)")
      ? performance.now() - t0 : false;
}"""
WIDTH = 1400


def send(page: Any, text: str) -> None:
    before = page.locator(CHAT).count()
    box = page.get_by_placeholder("Your answer")
    box.fill(text)
    box.press("Enter")
    page.locator(CHAT).nth(before + 1).locator('[data-testid="stMarkdownContainer"]').first.wait_for()


def shoot(page: Any, path: Path) -> None:
    """A screenshot of the whole page at WIDTH: the window made as tall as the page's content first (the
    page scrolls inside Streamlit's own container, so a full-page screenshot would stop at the window)."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        '\'[data-testid="stMainBlockContainer"], [data-testid="stSidebarContent"]\')].map(e => e.scrollHeight))'
    )
    page.set_viewport_size({"width": WIDTH, "height": min(int(height) + 120, 6000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": WIDTH, "height": 1000})


def first_paint(browser: Any, url: str) -> float:
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    try:
        page = context.new_page()
        page.goto(url, wait_until="commit")
        return float(page.wait_for_function(FIRST_PAINT, polling="raf", timeout=60_000).json_value())
    finally:
        context.close()


def interview_and_grade(page: Any, url: str, answers: list[str], shot: Path | None) -> float:
    page.goto(url)
    page.get_by_text("Design a system to serve").first.wait_for()
    for a in answers:
        send(page, a)
    page.wait_for_timeout(400)
    if shot is not None:
        page.screenshot(path=str(shot))
    t0 = page.evaluate("() => performance.now()")
    page.get_by_role("button", name="End and grade").click()
    return float(page.wait_for_function(SCORECARD_DONE, arg=t0, polling="raf", timeout=60_000).json_value())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="samples for each timing (default 3)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"no Chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="coach-shots-") as tmp:
        transcripts = Path(tmp) / "transcripts"
        transcripts.mkdir()
        for name in ("project.yaml", "session.txt", "chat.json", "qa.txt", "session.md", "timestamps.txt"):
            shutil.copy(ROOT / "tests" / "data" / "transcripts" / "good" / name, transcripts / name)
        for p in sorted((ROOT / "transcripts").glob("*.yaml")):
            shutil.copy(p, transcripts / p.name)
        env = {
            "COACH_TRANSCRIPTS_DIR": str(transcripts),
            "COACH_SESSIONS_DIR": str(transcripts / "sessions"),
            "COACH_BATCH_ROOT": str(transcripts),
        }
        with AppServer(env=env, log=Path(tmp) / "server.log") as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            cold = first_paint(browser, server.url)
            warm = [first_paint(browser, server.url) for _ in range(args.runs)]

            context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(60_000)
            grade_ms = [interview_and_grade(page, server.url, ANSWERS, args.out / "practice-mid.png")]
            sid_url = page.url
            shoot(page, args.out / "practice-scorecard.png")
            for _ in range(args.runs - 1):
                page.get_by_role("button", name="New interview").click()
                page.wait_for_url(lambda u, old=page.url: u != old)
                grade_ms.append(interview_and_grade(page, page.url, ANSWERS[1:3], None))

            # Replay: the first finished interview, opened from its URL at a turn with a numeric check, with a
            # reviewer override
            sid = sid_url.split("session=")[-1]
            page.goto(f"{server.url}replay?file=sessions/{sid}.yaml&turn=1")
            page.get_by_text("Nothing graded comes from this turn.").wait_for()
            chosen = page.get_by_role("combobox", name="Transcript").input_value()
            if f"sessions/{sid}.yaml" not in chosen:
                raise RuntimeError(f"Replay opened {chosen!r}, not the session sessions/{sid}.yaml")
            for _ in range(12):
                page.get_by_role("button", name="Next turn with findings ▶▶").click()
                page.wait_for_timeout(500)
                if page.locator('[data-testid="stMarkdownContainer"] li', has_text=re.compile(r"claimed \d")).count():
                    break
            page.get_by_role("combobox", name="Category").click()
            page.get_by_role("option", name="Parallelism Strategy").click()
            page.wait_for_timeout(400)
            page.get_by_role("combobox", name="Sub-criterion").click()
            page.get_by_role("option", name="Understanding of Parallelism Types").click()
            page.wait_for_timeout(400)
            page.get_by_label("Reviewer score (0–10)").fill("7")
            page.get_by_label("Note (required)").fill(
                "Turn 6 explains why TP stays inside a node: NVLink vs InfiniBand."
            )
            page.get_by_label("Reviewer (optional)").fill("lead")
            page.get_by_role("button", name="Save override").click()
            page.get_by_text("Saved: Parallelism").first.wait_for()
            page.get_by_text(re.compile(r"^Evidence \(")).first.click()  # open: quotes, points, turn links
            page.wait_for_timeout(800)
            shoot(page, args.out / "replay.png")

            page.set_viewport_size({"width": WIDTH, "height": 1100})
            page.goto(server.url + "batch")
            page.get_by_text("Include finished practice sessions").click()
            page.wait_for_timeout(400)
            page.get_by_role("button", name="Grade").click()
            page.get_by_text("Mean total").first.wait_for()
            page.wait_for_timeout(1000)
            shoot(page, args.out / "batch.png")
            browser.close()

    print(f"first paint, cold (first load after server start): {cold:.0f} ms")
    print(f"first paint, warm: median {statistics.median(warm):.0f} ms of {[round(x) for x in warm]}")
    print(
        f"End and grade -> full scorecard: median {statistics.median(grade_ms):.0f} ms of {[round(x) for x in grade_ms]}"
    )
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
