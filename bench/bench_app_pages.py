"""How long Replay takes to open and a finished practice session takes to reopen, in headless Chromium.

    python bench/bench_app_pages.py [--runs 5] [--sessions 40] [--json OUT]

Starts the real app (`streamlit run app.py`, offline) on a free 127.0.0.1 port over a temporary transcripts
folder: the sample interviews of `transcripts/`, plus `--sessions` finished practice sessions (each a scripted
interview ended with "End and grade", as people leave them behind) and as many unfinished ones. It measures
with `performance.now()` in the page, from navigation start until the page is complete:

- Replay: `replay?file=l5_solid.yaml&turn=9` until the turn panel ("Turn 9 of ..."), the headline metrics, the
  score bars, the override form and the provenance line are on screen;
- reopen: `?session=<a finished session>` until its whole scorecard is on screen (headline, score bars,
  numeric checks, flags, provenance).

Each load is a new tab, so a new Streamlit session with nothing graded in it: "new tab" keeps the browser's
HTTP cache (someone who has opened the app before: Streamlit's JavaScript is cached), "empty cache" is a fresh
browser context that downloads it all again; "cold" is the first load of each after the server started
(imports, rubric, first grading in this process). The target is under 1.5 s (issue 9).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import _common
from _common import ROOT, result

from app_ui.launch import CHROMIUM, CHROMIUM_ARGS, AppServer

ANSWERS = [
    "What interconnect do the nodes have, and what latency target should I design for?",
    "The weights are 175B x 2 bytes = 350 GB in fp16, so they need at least five 80 GB GPUs.",
    "I'd use 2-way pipeline parallelism across two nodes and 8-way tensor parallelism inside each node.",
    "The KV cache is 2 x 96 layers x 12288 x 2 bytes, about 4.7 MB per token.",
    "I'd replicate the whole pipeline for failover and monitor p99 latency and GPU memory.",
]
REPLAY_DONE = """() => {
  const text = document.body.innerText;
  const chart = document.querySelector('[data-testid="stProgress"]');
  const metric = document.querySelector('[data-testid="stMetric"]');
  return metric && chart && /Turn 9 of \\d+/.test(text) && text.includes("Reviewer override")
      && text.includes(" · grader ") ? performance.now() : false;
}"""
REOPEN_DONE = """() => {
  const text = document.body.innerText;
  const chart = document.querySelector('[data-testid="stProgress"]');
  const metric = document.querySelector('[data-testid="stMetric"]');
  return metric && chart && text.includes("Numeric checks") && text.includes("Green flags")
      && text.includes(" · grader ") ? performance.now() : false;
}"""


def make_sessions(folder: Path, finished: int, unfinished: int) -> list[str]:
    """Practice sessions as the app saves them; the ids of the finished ones."""
    from grader.interview import InterviewEngine
    from grader.store import save_transcript_atomic

    done = []
    for i in range(finished + unfinished):
        sid = f"20260101-0000{i:02d}-bench{i:02d}"
        engine = InterviewEngine(seed=i, transcript_id=sid)
        engine.start()
        for answer in ANSWERS[: 2 + i % 4]:
            if engine.finished:
                break
            engine.reply(answer)
        if i < finished:
            engine.end()
            done.append(sid)
        save_transcript_atomic(engine.transcript, folder / f"{sid}.yaml")
    return done


def load_ms(browser: Any, url: str, done: str, context: Any | None = None) -> float:
    """Milliseconds from navigation start until `done` holds, in a new tab: of `context` (its HTTP cache warm,
    as for someone who has used the app before), or of a fresh browser context (empty cache) when None."""
    own = context is None
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}) if own else context
    page = ctx.new_page()
    try:
        page.goto(url, wait_until="commit")
        ms = float(page.wait_for_function(done, polling="raf", timeout=60_000).json_value())
        if page.locator('[data-testid="stException"]').count():
            raise RuntimeError(f"{url}: the page shows an exception")
        return ms
    finally:
        page.close()
        if own:
            ctx.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="warm loads of each page (default 5)")
    p.add_argument(
        "--sessions", type=int, default=40, help="finished practice sessions in the folder (and as many open)"
    )
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"skipped: no Chromium at {CHROMIUM}")
        if args.json:
            args.json.write_text("[]", encoding="utf-8")
        return 0
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="coach-bench-pages-") as tmp:
        transcripts = Path(tmp) / "transcripts"
        sessions = transcripts / "sessions"
        sessions.mkdir(parents=True)
        for path in sorted((ROOT / "transcripts").glob("*.yaml")):
            shutil.copy(path, transcripts / path.name)
        finished = make_sessions(sessions, args.sessions, args.sessions)
        env = {
            "COACH_TRANSCRIPTS_DIR": str(transcripts),
            "COACH_SESSIONS_DIR": str(sessions),
            "COACH_BATCH_ROOT": str(transcripts),
            "COACH_CACHE_DIR": str(Path(tmp) / "cache"),
        }
        replay_url = "replay?file=l5_solid.yaml&turn=9"
        with AppServer(env=env, log=Path(tmp) / "server.log") as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            tabs = browser.new_context(viewport={"width": 1400, "height": 1000})
            sessions = iter(finished)
            cold_replay = load_ms(browser, server.url + replay_url, REPLAY_DONE, tabs)
            cold_reopen = load_ms(browser, f"{server.url}?session={next(sessions)}", REOPEN_DONE, tabs)
            replay = [load_ms(browser, server.url + replay_url, REPLAY_DONE, tabs) for _ in range(args.runs)]
            reopen = [
                load_ms(browser, f"{server.url}?session={next(sessions)}", REOPEN_DONE, tabs) for _ in range(args.runs)
            ]
            replay_fresh = [load_ms(browser, server.url + replay_url, REPLAY_DONE) for _ in range(args.runs)]
            reopen_fresh = [
                load_ms(browser, f"{server.url}?session={next(sessions)}", REOPEN_DONE) for _ in range(args.runs)
            ]
            browser.close()

    def ms(xs: list[float]) -> str:
        return f"median {statistics.median(xs):.0f} ms of {[round(x) for x in xs]}"

    print(f"folder: the samples of transcripts/, {args.sessions} finished and {args.sessions} open sessions")
    print(f"Replay ({replay_url}): cold {cold_replay:.0f} ms; new tab {ms(replay)}; empty cache {ms(replay_fresh)}")
    print(
        f"reopen a finished session (each a different one): cold {cold_reopen:.0f} ms; new tab {ms(reopen)}; "
        f"empty cache {ms(reopen_fresh)}"
    )
    note = f"headless Chromium, 1400 px; {args.sessions} finished + {args.sessions} open sessions in the folder"
    out = [
        result("app pages", "Replay, new tab", statistics.median(replay), "ms", f"median of {args.runs}; {note}"),
        result("app pages", "Replay, empty browser cache", statistics.median(replay_fresh), "ms", "fresh context"),
        result("app pages", "Replay, first load after start", cold_replay, "ms", "cold server"),
        result(
            "app pages", "reopen finished session, new tab", statistics.median(reopen), "ms", f"median of {args.runs}"
        ),
        result("app pages", "reopen, empty browser cache", statistics.median(reopen_fresh), "ms", "fresh context"),
        result("app pages", "reopen, first load after start", cold_reopen, "ms", "cold server"),
    ]
    if args.json:
        args.json.write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    _common  # noqa: B018 - imported for its sys.path set-up
    sys.exit(main())
