"""The interviewer's own latency: offline reply time at the 30th turn, and the LLM mode's time to first token.

Offline: a scripted candidate answers 30 turns with paragraphs from the sample interviews (numbers, concepts and
all, so the live grading has real work), on a fake clock that advances 40 seconds a turn so the 45-minute
plan moves through its phases. One warm-up run first: the rubric loads and compiles once per process. Measured: the server-side time of `engine.reply()` (the candidate's message in, the
complete reply out, including the rules extractor and the checker over the whole transcript), per turn.

LLM mode: a local OpenAI-compatible server that waits 300 ms before its first streamed token. Measured: the
time from `stream_reply()` to the first token, minus the server's own wait, i.e. what this code adds.

    python bench/bench_interviewer.py [--runs 5] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import _common
from _common import ROOT, result

from grader.interview import InterviewEngine
from grader.loaders import load_transcript
from grader.text import split_sentences

SERVER_DELAY_S = 0.3


def candidate_lines(n: int = 30) -> list[str]:
    """Paragraphs of the sample candidates, up to six sentences each, in interview order."""
    paragraphs: list[str] = []
    for name in ("l6_strong", "l5_solid", "l4_basic"):
        t = load_transcript(ROOT / "transcripts" / f"{name}.yaml")
        for turn in t.turns:
            if turn.role == "candidate":
                sentences = split_sentences(turn.content)
                paragraphs += [" ".join(sentences[i : i + 6]) for i in range(0, len(sentences), 6)]
    # the arithmetic-heavy paragraphs only: a candidate who never gets to operations keeps the interview going
    # for 30 turns (one who covers everything is wrapped up early, as a real interviewer would)
    skip = re.compile(r"wrap up|i'm done|fail|monitor|health|rollout|metric|trac|alert|deploy|canary", re.I)
    lines = [p for p in paragraphs if not skip.search(p)]
    # interleaved with clarifying questions, as a careful candidate asks them: facts answered do not use up
    # the interviewer's probes, so the interview runs its full length
    out: list[str] = []
    for i, line in enumerate(lines):
        out += [line, QUESTIONS[i % len(QUESTIONS)]]
    return out[:n]


QUESTIONS = (
    "How many layers does the model have, and what is the hidden size?",
    "What interconnect do the GPUs have inside a node and between nodes?",
    "What latency target should I design for?",
    "How many concurrent sequences does a replica need to serve?",
    "What are the availability requirements?",
    "Is INT8 quantization acceptable?",
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def offline_run(lines: list[str]) -> list[float]:
    clock = FakeClock()
    engine = InterviewEngine(seed=7, clock=clock)
    engine.start()
    times = []
    for line in lines:
        if engine.finished:
            break
        clock.now += 40
        t0 = time.perf_counter()
        engine.reply(line)
        times.append(time.perf_counter() - t0)
    return times


def llm_first_token(runs: int) -> list[float]:
    sys.path.insert(0, str(ROOT))
    from grader.interview.llm import LLMInterviewer
    from tests.fake_openai_server import FakeOpenAIServer

    overheads = []
    with FakeOpenAIServer() as server:
        for _ in range(runs + 1):  # the first is a warm-up: LangChain and the openai client import once
            engine = InterviewEngine(seed=1)
            engine.start()
            server.enqueue_delay(SERVER_DELAY_S, then_text="Tell me more about how you would split the model.")
            llm = LLMInterviewer(engine, model="fake", base_url=server.base_url, api_key="x", timeout_s=10)
            t0 = time.perf_counter()
            stream = llm.stream_reply("I'd use 8-way tensor parallelism inside a node.")
            first = next(iter(stream))
            elapsed = time.perf_counter() - t0
            assert first, "no token streamed"
            for _ in stream:
                pass
            overheads.append(elapsed - SERVER_DELAY_S)
    return overheads[1:]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)

    lines = candidate_lines(30)
    offline_run(lines[:3])  # warm-up
    runs = [offline_run(lines) for _ in range(args.runs)]
    turns = min(len(r) for r in runs)
    at_last = [r[turns - 1] * 1e3 for r in runs]
    worst = max(max(r) for r in runs) * 1e3
    words = sum(len(x.split()) for x in lines[:turns])
    print(
        f"offline: {turns} turns ({words} candidate words); reply at turn {turns}: "
        f"median {statistics.median(at_last):.1f} ms, worst of any turn {worst:.1f} ms"
    )
    llm = [x * 1e3 for x in llm_first_token(args.runs)]
    print(
        f"LLM mode: our time to first token beyond the endpoint's {SERVER_DELAY_S * 1e3:.0f} ms: "
        f"median {statistics.median(llm):.1f} ms (max {max(llm):.1f})"
    )
    out = [
        result(
            "interviewer",
            f"offline reply at turn {turns}",
            statistics.median(at_last),
            "ms",
            f"median of {args.runs}; {words} candidate words; live grading included",
        ),
        result("interviewer", "offline reply, worst turn", worst, "ms", f"any of {turns} turns, {args.runs} runs"),
        result(
            "interviewer",
            "LLM time to first token, our share",
            statistics.median(llm),
            "ms",
            f"beyond a {SERVER_DELAY_S * 1e3:.0f} ms endpoint; median of {args.runs}",
        ),
    ]
    if args.json:
        args.json.write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    _common  # noqa: B018 - imported for its sys.path set-up
    sys.exit(main())
