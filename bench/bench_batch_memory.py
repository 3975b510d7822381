"""Memory and wall time of a large batch, each batch in a fresh subprocess.

    python bench/bench_batch_memory.py [--sizes 300 10000] [--workers 1] [--tracemalloc]

For each corpus size a child process imports the grader, records its RSS, runs `grade_batch` (rules
extractor) into a temporary directory under bench/out/, and reports the peak RSS of the batch process
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`), its growth over the post-import baseline, the wall time, and
the wall time of a rerun in which every transcript is unchanged (all skipped).

The batch grades in worker processes, so their memory counts too: every 500 transcripts the progress callback
samples the RSS of the batch process and of each worker (/proc). "Growth after 500" is the RSS at the end
minus the RSS after the first 500 transcripts, for the batch process and for the workers together: what a
longer batch costs beyond its start. Nothing is kept per transcript (rows and manifest are in SQLite on disk),
so this should stay at noise.
`--tracemalloc` adds the batch process's Python-heap peak (slower: tracing costs time).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import _common
from _common import OUT, PY, result
from make_corpus import make_corpus

NAME = "batch memory"


def _rss_now_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_kb(pid: int | str = "self") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def child(corpus: str, out: str, workers: int, trace: bool) -> None:
    import logging
    import os
    import resource

    logging.disable(logging.ERROR)  # error rows are counted below; their tracebacks would flood stderr
    from grader.batch import grade_batch
    from grader.pipeline import grade_transcript  # noqa: F401  (import everything before the baseline)

    baseline = _rss_now_kb()
    samples: list[tuple[int, int, int]] = []  # (done, batch process KiB, workers KiB)

    def sample(done: int, total: int, id: str) -> None:
        if done % 500 == 0 or done == total:
            samples.append((done, _rss_kb(), sum(_rss_kb(c) for c in _children(os.getpid()))))

    if trace:
        import tracemalloc

        tracemalloc.start()
    t0 = time.perf_counter()
    first = grade_batch([corpus], Path(out), workers=workers, progress=sample)
    wall = time.perf_counter() - t0
    heap_peak = None
    if trace:
        import tracemalloc

        heap_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    t1 = time.perf_counter()
    again = grade_batch([corpus], Path(out), workers=workers, progress=False)
    rerun = time.perf_counter() - t1
    reasons = Counter(r.error.split(": ", 1)[-1] for r in first.error_rows if r.error)
    print(
        json.dumps(
            {
                "top_error": reasons.most_common(1)[0][0][:80] if reasons else None,
                "n": first.total,
                "graded": first.graded,
                "errors": first.errors,
                "skipped_rerun": again.skipped,
                "wall_s": wall,
                "rerun_s": rerun,
                "baseline_kb": baseline,
                "peak_kb": peak,
                "heap_peak_b": heap_peak,
                "samples": samples,
            }
        )
    )


def run_one(n: int, workers: int, trace: bool) -> dict:
    corpus = make_corpus(n)
    OUT.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=f"batch_{n}_", dir=OUT))
    try:
        cmd = [PY, __file__, "--child", str(corpus), str(out), str(workers)] + (["--tracemalloc"] if trace else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_common.env_without_llm(), check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[300, 10_000])
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--tracemalloc", action="store_true")
    p.add_argument("--child", nargs=3, metavar=("CORPUS", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]), args.tracemalloc)
        return 0
    print(f"# batch memory (workers={args.workers})")
    results = []
    for n in args.sizes:
        r = run_one(n, args.workers, args.tracemalloc)
        errs = f"; {r['errors']} error rows, most often {r['top_error']!r}" if r["errors"] else ""
        tag = f"{n:,} transcripts"
        results += [
            result(
                NAME,
                f"{tag}: peak RSS",
                r["peak_kb"] / 1024,
                "MiB",
                f"{(r['peak_kb'] - r['baseline_kb']) / 1024:.0f} MiB over the {r['baseline_kb'] / 1024:.0f} MiB "
                f"after imports{errs}",
            ),
            result(NAME, f"{tag}: wall time", r["wall_s"], "s", f"{r['n'] / r['wall_s']:.0f} transcripts/s"),
            result(
                NAME,
                f"{tag}: rerun, all unchanged",
                r["rerun_s"],
                "s",
                f"{r['skipped_rerun']:,} skipped, {r['n'] / r['rerun_s']:.0f} transcripts/s",
            ),
        ]
        samples = r["samples"]
        if len(samples) >= 2 and samples[0][0] == 500:
            (_, main_500, workers_500), (done, main_end, workers_end) = samples[0], samples[-1]
            curve = ", ".join(f"{d}: {(m + w) / 1024:.0f}" for d, m, w in samples[:: max(1, len(samples) // 8)])
            results.append(
                result(
                    NAME,
                    f"{tag}: RSS growth from 500 to {done:,} transcripts",
                    (main_end - main_500) / 1024,
                    "MiB",
                    f"batch process {main_500 / 1024:.0f} -> {main_end / 1024:.0f} MiB, workers "
                    f"{workers_500 / 1024:.0f} -> {workers_end / 1024:.0f} MiB; total MiB by transcripts done: {curve}",
                )
            )
        if r["heap_peak_b"] is not None:
            results.append(result(NAME, f"{tag}: Python heap peak (tracemalloc)", r["heap_peak_b"] / 2**20, "MiB"))
    _common.emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
