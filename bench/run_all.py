"""Run every benchmark (what `make bench` does) and print one Markdown table of the figures.

    python bench/run_all.py            # the full set: corpora of 300 and 10,000, batches of 300 and 10,000
    python bench/run_all.py --quick    # smaller: a 2,000-transcript batch instead of 10,000, 3 process runs
    python bench/run_all.py --real-llm # also the real local model (bench_real_llm.py; .ci/install-real-llm first)

Each script runs as its own process (`python bench/<script>.py ... --json <tmp>`), prints its own lines as it
goes, and hands its figures back as JSON. Nothing is written outside bench/out/ and the temporary directory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import BENCH, PY, ROOT, fmt


def plan(quick: bool, real_llm: bool = False) -> list[tuple[str, list[str]]]:
    big = "2000" if quick else "10000"
    extra = [("bench_real_llm.py", [])] if real_llm else []
    return [
        ("make_corpus.py", ["-n", "300", "-n", big]),
        ("bench_offline.py", ["--runs", "3" if quick else "7"]),
        ("bench_grade.py", ["--runs", "3" if quick else "7"]),
        ("bench_batch_memory.py", ["--sizes", "300", big, "--workers", "1"]),
        ("bench_batch_workers.py", ["--runs", "2" if quick else "3"]),
        ("bench_llm_workers.py", []),
        ("bench_interviewer.py", ["--runs", "3" if quick else "5"]),
        ("bench_interviewer_replay.py", []),
        ("bench_app_pages.py", ["--runs", "3" if quick else "5"]),
        *extra,
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--real-llm", action="store_true", help="also bench_real_llm.py (a local model; ~10 min)")
    args = p.parse_args(argv)
    results: list[_common.Result] = []
    failed: list[str] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for script, extra in plan(args.quick, args.real_llm):
            out = Path(tmp) / f"{script}.json"
            print(f"\n$ python bench/{script} {' '.join(extra)}", flush=True)
            proc = subprocess.run([PY, str(BENCH / script), *extra, "--json", str(out)], cwd=ROOT, check=False)
            if proc.returncode != 0 or not out.is_file():
                failed.append(f"{script} (exit {proc.returncode})")
                continue
            results += json.loads(out.read_text(encoding="utf-8"))
    print(
        f"\n## Benchmark results ({time.perf_counter() - t0:.0f} s, Python {sys.version.split()[0]}, "
        f"{_cpu_count()} CPUs)\n"
    )
    print("| benchmark | metric | value | unit | note |")
    print("|---|---|---:|---|---|")
    for r in results:
        note = str(r["note"]).replace("|", "\\|")
        print(f"| {r['bench']} | {r['metric']} | {fmt(r['value'])} | {r['unit']} | {note} |")
    for f in failed:
        print(f"| {f} | FAILED | | | |")
    return 1 if failed else 0


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
