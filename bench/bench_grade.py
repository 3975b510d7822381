"""Grading speed on real interviews: in-process per transcript, and whole `grade` processes against Python's floor.

    python bench/bench_grade.py [--runs 7] [--json OUT]

1. In-process, rules extractor, `grade_transcript()` (injection removal, claims, checker, scoring): each
   transcript of transcripts/ and ../shared/corpus graded once per pass after a warm-up pass, the process's
   memos emptied before each grade, so no transcript is helped by having been graded before (compiled
   patterns stay compiled: a batch or a server has them). Reported: the median time of `l6_strong.yaml`
   (2,959 words), the corpus's throughput and microseconds per word, each with the fast matching engine and
   with plain `re` (`COACH_MATCHING=re`: every pattern run, as before the prefilter).
2. Processes: `python -c "import pydantic, yaml"` and `python -m grader grade transcripts/l6_strong.yaml
   --json`, interleaved (one of each per round, so both see the same machine), median of `--runs` rounds;
   the ratio is the target's figure (<= 2.5x). Once more with an empty cache directory: the first run after
   a rubric edit (every pattern proven and analysed again).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import PY, ROOT, result, run_timed

NAME = "grade"
SAMPLE = ROOT / "transcripts" / "l6_strong.yaml"
CORPUS = ROOT.parent / "shared" / "corpus"


def _files() -> list[Path]:
    out = sorted((ROOT / "transcripts").glob("*.yaml"))
    if CORPUS.is_dir():
        out += sorted(p for p in CORPUS.iterdir() if p.suffix in {".yaml", ".json", ".txt", ".md"})
    return [p for p in out if p.name != "README.md" and not p.name.startswith("labels")]


def empty_memos() -> None:
    """Forget the grading path's memos of text (the cue tags of a sentence, a turn's injection scan) and of
    figures (their readings): a transcript graded again must not find its own work done. The compiled patterns
    and the values of quantities per configuration (memos of the scenario, not of any transcript) stay."""
    from grader import injection, text
    from grader.checking import readings
    from grader.quantities import cues

    getattr(cues, "_MEMO", {}).clear()
    getattr(readings, "_READINGS", {}).clear()
    injection._clean.cache_clear()
    for fn in (getattr(text, "_sentence_spans", None), text.unwrap):  # a turn's sentences, split once per grade
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()


def _engine(name: str):  # type: ignore[no-untyped-def]
    try:
        from grader.matching import use_engine
    except ImportError:  # a tree from before the prefilter: plain `re` is all it has
        from contextlib import nullcontext

        return nullcontext()
    return use_engine(name)


def in_process(runs: int) -> list[_common.Result]:
    from grader.loaders import load_transcript
    from grader.pipeline import grade_transcript

    transcripts = []
    for f in _files():
        try:
            transcripts.append((f, load_transcript(f)))
        except Exception:
            continue
    sample = load_transcript(SAMPLE)
    out = []
    for engine in ("auto", "re"):
        with _engine(engine):
            for _, t in transcripts:  # warm-up: compile what grading compiles
                grade_transcript(t)
            one = []
            for _ in range(runs):
                empty_memos()
                t0 = time.perf_counter()
                grade_transcript(sample)
                one.append(time.perf_counter() - t0)
            passes = []
            for _ in range(3):
                total = 0.0
                for _, t in transcripts:
                    empty_memos()
                    t0 = time.perf_counter()
                    grade_transcript(t)
                    total += time.perf_counter() - t0
                passes.append(total)
        label = "plain re" if engine == "re" else "fast path"
        words = sum(t.word_count() for _, t in transcripts)
        best = min(passes)
        out += [
            result(
                NAME,
                f"in-process, {sample.word_count():,}-word l6_strong, {label}",
                statistics.median(one) * 1e3,
                "ms",
                f"median of {runs}, memos emptied before each",
            ),
            result(
                NAME,
                f"in-process, {len(transcripts)} samples + corpus interviews, {label}",
                len(transcripts) / best,
                "transcripts/s",
                f"{words / len(transcripts):,.0f} words on average; {best / words * 1e6:.0f} us per word; best of 3",
            ),
        ]
    return out


def processes(runs: int) -> list[_common.Result]:
    env = _common.env_without_llm()
    floor_cmd = [PY, "-c", "import pydantic, yaml"]
    grade_cmd = _common.grader_cmd("grade", str(SAMPLE.relative_to(ROOT)), "--json")
    run_timed(grade_cmd, env=env)  # warm-up: .pyc files, the OS cache, the pattern cache
    floor, grade = [], []
    for _ in range(runs):
        floor.append(run_timed(floor_cmd, env=env)[0])
        grade.append(run_timed(grade_cmd, env=env)[0])
    with tempfile.TemporaryDirectory() as tmp:
        cold = run_timed(grade_cmd, env={**env, "COACH_CACHE_DIR": tmp})[0]
    f, g = statistics.median(floor), statistics.median(grade)
    return [
        result(NAME, '`python -c "import pydantic, yaml"`, median', f * 1e3, "ms", f"{runs} rounds, interleaved"),
        result(
            NAME, "`grade transcripts/l6_strong.yaml --json` process, median", g * 1e3, "ms", f"{g / f:.1f}x the floor"
        ),
        result(NAME, "the same, empty cache directory", cold * 1e3, "ms", "first run after a rubric edit"),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    print(f"# grading (load average {os.getloadavg()[0]:.2f})")
    results = in_process(args.runs) + processes(args.runs)
    _common.emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
