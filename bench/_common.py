"""Shared helpers of the bench scripts: paths, the grader command line, results, timing.

Every script is run as `python bench/<name>.py` from anywhere; it puts the repository on `sys.path` itself and
writes only under bench/out/ (gitignored) or a temporary directory.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PY = sys.executable

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

Result = dict[str, Any]


def result(bench: str, metric: str, value: float, unit: str, note: str = "") -> Result:
    return {"bench": bench, "metric": metric, "value": value, "unit": unit, "note": note}


def grader_cmd(*args: str) -> list[str]:
    """`python -m grader ARGS` with this interpreter."""
    return [PY, "-m", "grader", *args]


def run_timed(cmd: Sequence[str], *, env: dict[str, str] | None = None, check: bool = True) -> tuple[float, str]:
    """(wall seconds, stdout) of one process."""
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t0
    if check and proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return wall, proc.stdout


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def env_without_llm(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COACH_LLM_API_KEY", "COACH_LLM_BASE_URL")
    }
    env.update(extra)
    return env


def emit(results: list[Result], json_path: str | None) -> None:
    """Print the results as lines and, for run_all.py, write them as JSON."""
    for r in results:
        note = f"  ({r['note']})" if r["note"] else ""
        print(f"  {r['metric']}: {fmt(r['value'])} {r['unit']}{note}")
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=1), encoding="utf-8")


def fmt(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
