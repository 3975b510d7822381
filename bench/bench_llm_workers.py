"""LLM batch grading: `--workers 16` against `--workers 1` on a local OpenAI-compatible server.

    python bench/bench_llm_workers.py [--transcripts 48] [--delay 0.2] [--workers 1 16]

A server on 127.0.0.1 (tests/fake_openai_server.py, answering every request after `--delay` seconds with the
same valid structured extraction: no claims) stands in for a model. Each run is a real
`python -m grader batch <files> --out <tmp> --extractor llm --workers N --no-progress` process with
COACH_LLM_BASE_URL pointing at the server and a fresh, empty COACH_CACHE_DIR, so no answer comes from the
claims cache. A run counts only if every report was produced by the LLM extractor (a fallback to the rules
extractor would make it look fast) and the server saw one request per transcript.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import OUT, grader_cmd, result, run_timed
from make_corpus import make_corpus

NAME = "llm workers"
CANNED = {"concepts": [], "questions": [], "strategies": [], "numbers": []}


def slow_server(delay: float):  # type: ignore[no-untyped-def]
    """A FakeOpenAIServer that answers every request after `delay` seconds with CANNED, from any thread."""
    from tests.fake_openai_server import FakeOpenAIServer, Scripted

    class SlowServer(FakeOpenAIServer):
        def _pop(self) -> Scripted | None:
            time.sleep(delay)  # each request is handled on its own thread, so waits overlap
            return Scripted("content", content=json.dumps(CANNED))

    return SlowServer()


def run_batch(files: list[Path], workers: int, base_url: str) -> tuple[float, list[dict[str, str]]]:
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"llm_w{workers}_", dir=OUT))
    try:
        env = _common.env_without_llm(
            COACH_LLM_BASE_URL=base_url,
            COACH_CACHE_DIR=str(tmp / "cache"),
            COACH_LLM_MAX_RETRIES="0",
            COACH_LLM_MODEL="bench-model",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        cmd = grader_cmd(
            "batch",
            *(str(f) for f in files),
            "--out",
            str(tmp / "out"),
            "--workers",
            str(workers),
            "--extractor",
            "llm",
            "--no-progress",
        )
        wall, _ = run_timed(cmd, env=env)
        rows = list(csv.DictReader(io.StringIO((tmp / "out" / "summary.csv").read_text(encoding="utf-8"))))
        return wall, rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--transcripts", type=int, default=48)
    p.add_argument("--delay", type=float, default=0.2, help="server answer delay in seconds (default 0.2)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 16])
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    print(f"# LLM extractor, {args.transcripts} transcripts, server delay {args.delay * 1000:.0f} ms")
    files = sorted(f for f in make_corpus(300).iterdir() if not f.name.startswith("."))[: args.transcripts]
    results = []
    walls: dict[int, float] = {}
    with slow_server(args.delay) as server:
        for workers in args.workers:
            before = server.count
            wall, rows = run_batch(files, workers, server.base_url)
            requests = server.count - before
            llm_rows = [r for r in rows if r["extractor"].startswith("llm:")]
            bad = [r for r in rows if not r["extractor"].startswith("llm:")]
            if bad or requests < len(files):
                detail = bad[0]["error"] or bad[0]["extractor"] if bad else f"{requests} requests"
                raise SystemExit(f"workers={workers}: {len(bad)} rows not from the LLM ({detail}); not a valid run")
            walls[workers] = wall
            results.append(
                result(
                    NAME,
                    f"--workers {workers}: wall time",
                    wall,
                    "s",
                    f"{len(llm_rows)} reports by the LLM extractor, {requests} requests, "
                    f"{len(files) / wall:.1f} transcripts/s",
                )
            )
        fixed, _ = run_batch(files[:1], 1, server.base_url)
    floor = len(files) * args.delay
    results.append(
        result(
            NAME,
            "one-transcript batch process (fixed cost)",
            fixed,
            "s",
            f"start-up, imports, rubric load and one {args.delay * 1000:.0f} ms request",
        )
    )
    results.append(result(NAME, "serial floor (transcripts x delay)", floor, "s", "the server's waits alone"))
    lo, hi = min(walls), max(walls)
    if lo != hi:
        results.append(result(NAME, f"speed-up, --workers {hi} over --workers {lo}", walls[lo] / walls[hi], "x"))
    _common.emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
