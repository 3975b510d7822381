"""The listening interviewer against simulated candidates: the candidate turns of every interview in the shared
corpus (../shared/corpus) and of transcripts/*.yaml replayed into the offline engine (grader.interview.replay).

Per interview, and in total: the replies, re-asks (a question about a topic the claims show covered), probes of a
figure the checker confirmed, leaks (a reference figure said before the candidate said it), refusals that did not
follow a request for a figure, verdicts on an answer, and the phases reached (of 7; the interviews with at least
one candidate turn per phase must reach all of them). Also what the interviewer did with the turns (probes,
follow-ups on incorrect figures, challenges, facts...) and the time per replay, live grading included.
The regression suite (tests/test_interview_regression.py) asserts the zeros; this prints them.

    python bench/bench_interviewer_replay.py [--corpus DIR] [--seed N] [--json OUT] [-v]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import _common
from _common import ROOT, emit, result

from grader.interview.probes import PHASE_ORDER
from grader.interview.replay import audit, replay, transcript_files
from grader.loaders import load_transcript

COUNTS = ("reasks", "confirmed_probes", "leaks", "bad_refusals", "judgements")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    p.add_argument("--seed", type=int, default=0, help="phrasing seed of the engine")
    p.add_argument("--json", default=None)
    p.add_argument("-v", "--verbose", action="store_true", help="print every problem found")
    args = p.parse_args(argv)

    files = transcript_files(args.corpus, ROOT / "transcripts")
    if not files:
        print("no transcripts found")
        return 1
    totals: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    complete = complete_all = replies = 0
    seconds: list[float] = []
    print(
        f"{'interview':32} {'replies':>7} {'re-asks':>7} {'conf.':>5} {'leaks':>5} {'refus.':>6} {'verd.':>5}  phases"
    )
    for path in files:
        t0 = time.perf_counter()
        a = audit(replay(load_transcript(path), name=path.stem, seed=args.seed))
        seconds.append(time.perf_counter() - t0)
        n = {k: len(getattr(a, k)) for k in COUNTS}
        totals.update(n)
        kinds.update(a.kinds)
        replies += a.replies
        complete += a.complete
        complete_all += a.complete and a.all_phases
        mark = "" if a.complete else " (short: not required)"
        print(
            f"{path.stem:32} {a.replies:7} {n['reasks']:7} {n['confirmed_probes']:5} {n['leaks']:5} "
            f"{n['bad_refusals']:6} {n['judgements']:5}  {len(a.phases)}/{len(PHASE_ORDER)}{mark}"
        )
        if args.verbose:
            for line in a.problems:
                print(f"    ! {line}")
    print(f"\n{len(files)} interviews, {replies} replies: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    out = [
        result("interviewer replay", "interviews replayed", len(files), "", f"{replies} replies, seed {args.seed}"),
        result("interviewer replay", "re-asks of a covered topic", totals["reasks"], ""),
        result("interviewer replay", "probes of a figure the checker confirmed", totals["confirmed_probes"], ""),
        result("interviewer replay", "reference figures leaked", totals["leaks"], ""),
        result("interviewer replay", "refusals without a request for a figure", totals["bad_refusals"], ""),
        result("interviewer replay", "verdicts on an answer", totals["judgements"], ""),
        result(
            "interviewer replay",
            "complete interviews reaching every phase",
            complete_all,
            f"of {complete}",
            "complete: at least one candidate turn per phase",
        ),
        result(
            "interviewer replay",
            "follow-ups / challenges / probes",
            kinds["follow_up"] + kinds["challenge"],
            "",
            f"{kinds['follow_up']} follow-ups on incorrect figures, {kinds['challenge']} challenges, "
            f"{kinds['probe']} probes",
        ),
        result(
            "interviewer replay",
            "time per interview replayed",
            1e3 * sum(seconds) / len(seconds),
            "ms",
            f"mean; worst {1e3 * max(seconds):.0f} ms; live grading of every answer included",
        ),
    ]
    emit(out, args.json)
    return 0 if not any(totals.values()) and complete == complete_all else 1


if __name__ == "__main__":
    _common  # noqa: B018 - imported for its sys.path set-up
    raise SystemExit(main())
