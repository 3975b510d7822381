"""The LLM paths against a real local model: extraction time and the share of claims grounded, and how many
interviewer replies the guards replaced.

The model is Gemma 3 270M (Q4_K_M) served by llama-cpp-python's OpenAI-compatible server on a free port on
127.0.0.1 (`tests/local_llm_server.py`; `bash .ci/install-real-llm` installs both). Without them the script
says so and exits 0 with no figures.

Extraction: `LLMExtractor.run()` on three sample transcripts, one after the other in one process with one cache
directory (so the first pays for the refused json_schema request and the rest start from the remembered
method; no claims come from the claims cache). Measured per transcript: wall time, the method, whether the
model's answer parsed or the rules fallback graded it (and why), and of the claims the model returned how many
were kept (grounded in a candidate turn, on the vocabulary) against dropped.

Interview: a scripted candidate (`SCRIPT` of tests/test_interview_engine.py, questions and answers) through
`LLMInterviewer`, on the real clock. Counted: replies worded by the model and kept, replaced by a guard (by
reason), fallen back on an endpoint failure, and answers to clarifying questions (the engine's words; the
model is not asked).

    python bench/bench_real_llm.py [--samples calibration_weak unit_slips calibration_acceptable] [--json OUT]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import ROOT, result

NAME = "real LLM"
SAMPLES = ["calibration_weak", "unit_slips", "calibration_acceptable"]


def extraction(samples: list[str], env: dict[str, str]) -> list[_common.Result]:
    from grader.extract.llm import LLMExtractor
    from grader.extract.rules import RulesExtractor
    from grader.loaders import load_transcript
    from grader.settings import get_settings

    os.environ.update(env)
    settings = get_settings()
    out: list[_common.Result] = []
    times: list[float] = []
    kept_total = dropped_total = parsed = 0
    for name in samples:
        transcript = load_transcript(ROOT / "transcripts" / f"{name}.yaml")
        t0 = time.perf_counter()
        r = LLMExtractor(settings, RulesExtractor()).run(transcript)
        wall = time.perf_counter() - t0
        times.append(wall)
        c = r.claims
        kept = len(c.concepts) + len(c.questions) + len(c.strategies) + len(c.numbers)
        if r.fallback_reason is None:
            parsed += 1
            kept_total += kept
            dropped_total += r.dropped
            what = f"method {r.method}: {kept} claims kept, {r.dropped} dropped"
        else:
            what = f"rules fallback ({r.fallback_reason})"
        print(f"extraction {name}: {wall:.1f} s; {what}", flush=True)
        out.append(result(NAME, f"extraction time, {name}", wall, "s", what))
    returned = kept_total + dropped_total
    share = kept_total / returned if returned else 0.0
    note = (
        f"{kept_total} of {returned} claims the model returned were grounded, over the {parsed} of {len(samples)} "
        "answers that parsed"
        if returned
        else f"no claim to ground: {parsed} of {len(samples)} answers parsed, {len(samples) - parsed} fell back to rules"
    )
    out.append(result(NAME, "extraction time, median", statistics.median(times), "s", f"{len(samples)} samples"))
    out.append(result(NAME, "model answers that parsed", parsed, f"of {len(samples)}", note))
    if returned:  # a share of nothing is no figure
        out.append(result(NAME, "share of returned claims grounded", share * 100, "%", note))
    print(f"extraction: {note}", flush=True)
    return out


def interview(env: dict[str, str]) -> list[_common.Result]:
    from grader.interview import InterviewEngine
    from grader.interview.guards import ReplyLimits
    from grader.interview.llm import ENGINE_WORDED, LLMInterviewer
    from grader.settings import get_settings
    from tests.test_interview_engine import SCRIPT

    os.environ.update(env)
    settings = get_settings()
    engine = InterviewEngine(seed=0)
    engine.start()
    llm = LLMInterviewer(engine, limits=ReplyLimits.from_settings(settings), system_role=settings.llm_system_role)
    counts: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    times: list[float] = []
    for line in SCRIPT:
        if engine.finished:
            break
        t0 = time.perf_counter()
        stream = llm.stream_reply(line)
        reply = stream.finish()
        times.append(time.perf_counter() - t0)
        if reply.kind in ENGINE_WORDED:
            counts["facts"] += 1
        elif reply.replaced:
            counts["replaced"] += 1
            reasons[reply.replaced.split(" (")[0]] += 1
        elif reply.fell_back:
            counts["endpoint failed"] += 1
        else:
            counts["kept"] += 1
    worded = counts["kept"] + counts["replaced"] + counts["endpoint failed"]
    why = ", ".join(f"{n} {r}" for r, n in reasons.most_common()) or "none"
    note = (
        f"{counts['replaced']} of {worded} model-worded replies replaced ({why}); {counts['kept']} kept; "
        f"{counts['endpoint failed']} endpoint failures; {counts['facts']} answers to clarifying questions from the engine"
    )
    print(f"interview: {note}; reply time median {statistics.median(times):.1f} s, max {max(times):.1f} s", flush=True)
    return [
        result(NAME, "interviewer replies replaced by the guards", counts["replaced"], "replies", note),
        result(NAME, "interviewer reply time, median", statistics.median(times), "s", f"{len(times)} turns"),
        result(NAME, "interviewer reply time, max", max(times), "s", f"cap {settings.interviewer_max_seconds:g} s"),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", nargs="+", default=SAMPLES)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)

    from tests.local_llm_server import LocalLLMServer, Unavailable, check_installed

    try:
        python, model = check_installed()
    except Unavailable as e:
        print(f"skipped: {e}")
        _common.emit([], str(args.json) if args.json else None)
        return 0
    server = LocalLLMServer(python, model)
    server.launch(180)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = server.env(COACH_CACHE_DIR=tmp)
            print(f"server: llama-cpp-python with {server.model} at {server.base_url}", flush=True)
            results = extraction(args.samples, env) + interview(env)
    finally:
        server.stop()
    _common.emit(results, str(args.json) if args.json else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
