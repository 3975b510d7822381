"""`python -m grader batch --workers 1` against `--workers 2` on the 300 distinct transcripts, whole processes.

    python bench/bench_batch_workers.py [--runs 3] [--workers 1 2]

Each run grades bench/out/corpus_300 (300 distinct transcripts from make_corpus.py) into a fresh temporary
folder, so nothing is reused. Reported per worker count: the median wall time, the CPU time of the batch and
its worker processes (user + system, from RUSAGE_CHILDREN), and the speed-up of the last count over the
first. The machine is shared: the load average before each run is printed, and CPU time shows the work done
independently of what else was running (more CPU for the same 300 transcripts would mean work repeated per task,
as when each task unpickled a fresh extractor).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import OUT, ROOT, grader_cmd, result
from make_corpus import make_corpus

NAME = "batch workers"


def run_once(corpus: Path, workers: int) -> tuple[float, float, float]:
    """(wall s, CPU s of the batch and its children, 1-minute load average before it)."""
    out = Path(tempfile.mkdtemp(prefix=f"workers_{workers}_", dir=OUT))
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cmd = grader_cmd("batch", str(corpus), "--out", str(out), "--workers", str(workers), "--no-progress")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_common.env_without_llm())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode != 0 or "300 graded, 0 error(s)" not in proc.stdout:
        raise RuntimeError(f"batch failed ({proc.returncode}): {proc.stdout[-500:]} {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, load


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    corpus = make_corpus(300)
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"# batch workers: 300 distinct transcripts, {os.cpu_count()} CPUs, {args.runs} runs each (interleaved)")
    walls: dict[int, list[float]] = {w: [] for w in args.workers}
    cpus: dict[int, list[float]] = {w: [] for w in args.workers}
    for n in range(args.runs):
        for w in args.workers:
            wall, cpu, load = run_once(corpus, w)
            walls[w].append(wall)
            cpus[w].append(cpu)
            print(f"  run {n + 1}, --workers {w}: {wall:.2f} s wall, {cpu:.2f} s CPU (load before: {load:.2f})")
    results = []
    for w in args.workers:
        wall, cpu = statistics.median(walls[w]), statistics.median(cpus[w])
        note = f"{cpu:.1f} s CPU; runs {', '.join(f'{x:.1f}' for x in walls[w])} s"
        results.append(result(NAME, f"--workers {w}, 300 transcripts", wall, "s", note))
    first, last = args.workers[0], args.workers[-1]
    speedup = statistics.median(walls[first]) / statistics.median(walls[last])
    best = min(walls[first]) / min(walls[last])
    results.append(
        result(
            NAME, f"speed-up, --workers {last} over {first}", speedup, "x", f"best run against best run: {best:.2f}x"
        )
    )
    _common.emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
