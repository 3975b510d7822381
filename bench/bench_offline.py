"""Offline grading speed: transcripts per second in-process, and one `grade` process on a long transcript.

    python bench/bench_offline.py [--corpus 300] [--runs 7]

1. In-process, rules extractor: load every transcript of bench/out/corpus_<N> (parse), grade each
   (`grade_transcript`), render both scorecards (`render_markdown`, `render_json`); best of 3 passes, since
   the first pays for imports and regex compilation.
2. `python -m grader grade bench/out/long_3000.yaml --json`: wall time of the whole process (interpreter
   start, imports, load, grade, print), median of `--runs` runs after one warm-up; and `python -m grader
   --help` alone for the start-up floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import _common
from _common import OUT, grader_cmd, result, run_timed
from make_corpus import make_corpus, make_long

NAME = "offline"


def in_process(n: int) -> list[_common.Result]:
    from grader.loaders import load_transcript
    from grader.pipeline import grade_transcript
    from grader.scorecard import render_json, render_markdown

    corpus = make_corpus(n)
    files = sorted(p for p in corpus.iterdir() if not p.name.startswith("."))
    best: dict[str, float] = {}
    failures = 0
    for _ in range(3):
        t0 = time.perf_counter()
        transcripts = [load_transcript(f) for f in files]
        t1 = time.perf_counter()
        reports = []
        failures = 0
        for t in transcripts:
            try:
                reports.append(grade_transcript(t))
            except Exception:
                failures += 1
        t2 = time.perf_counter()
        for r in reports:
            render_markdown(r)
            render_json(r)
        t3 = time.perf_counter()
        for key, value in (("load", t1 - t0), ("grade", t2 - t1), ("render", t3 - t2), ("all", t3 - t0)):
            best[key] = min(best.get(key, float("inf")), value)
    words = statistics.fmean(t.word_count() for t in transcripts)
    note = f"{len(files)} transcripts of {words:.0f} words on average"
    if failures:
        note += f"; {failures} raised inside grading (counted in the time, not graded)"
    return [
        result(NAME, "load + grade + render, in-process", len(files) / best["all"], "transcripts/s", note),
        result(NAME, "grade only (rules extractor, checker, scoring)", len(files) / best["grade"], "transcripts/s"),
        result(NAME, "load only (parse files)", len(files) / best["load"], "transcripts/s"),
        result(NAME, "render markdown + json", len(files) / best["render"], "reports/s"),
    ]


def one_process(runs: int) -> list[_common.Result]:
    from grader.loaders import load_transcript

    long = make_long(3000)
    words = load_transcript(long).word_count()
    cmd = grader_cmd("grade", str(long.relative_to(_common.ROOT)), "--json")
    env = _common.env_without_llm()
    run_timed(cmd, env=env)  # warm-up: the OS file cache, .pyc files
    times = [run_timed(cmd, env=env)[0] for _ in range(runs)]
    help_times = [run_timed(grader_cmd("--help"), env=env)[0] for _ in range(runs)]
    spread = f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms, {runs} runs"
    return [
        result(
            NAME,
            f"`grade <{words:,}-word transcript> --json` process, median",
            statistics.median(times) * 1000,
            "ms",
            spread,
        ),
        result(
            NAME,
            "`python -m grader --help` process, median",
            statistics.median(help_times) * 1000,
            "ms",
            "start-up floor",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=int, default=300, help="transcripts to grade in-process (default 300)")
    p.add_argument("--runs", type=int, default=7, help="process runs for the median (default 7)")
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    print("# offline grading")
    results = in_process(args.corpus) + one_process(args.runs)
    _common.emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
