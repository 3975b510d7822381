"""The interviewer's own latency: the offline reply time, live grading included, and the LLM mode's first token.

Offline, cold: each interview of ../shared/corpus is replayed through a new `InterviewEngine`, its candidate's
answers in order, on a fake clock that advances 40 seconds a turn; the server-side time of `engine.reply()`
(the answer in, the complete reply out, including the rules extractor and the checker) is taken at every turn.
The corpus's interviews are distinct, so no answer has been graded before: what the process remembers from one
interview does not help the next (the samples of transcripts/ are graded first, so the patterns are compiled,
as in a server that has served one). Each reply time is the median of `--runs` such processes. Reported: the
reply at the transcript's 30th turn (the reply to the 15th answer) over the interviews that get that far, the
reply to each interview's last answer, and the worst turn of all. The scripted 30-line interview of the samples is reported too, from an
engine and a process that have not seen it (`--runs` fresh processes).

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


CORPUS = ROOT.parent / "shared" / "corpus"


def corpus_interviews() -> list[tuple[str, list[str]]]:
    """(name, the candidate's answers in order) of every interview in ../shared/corpus."""
    out = []
    if not CORPUS.is_dir():
        return out
    for f in sorted(CORPUS.iterdir()):
        if f.name.startswith(("README", "labels")):
            continue
        t = load_transcript(f)
        out.append((f.name, [turn.content for turn in t.turns if turn.role == "candidate"]))
    return out


def cold_corpus_once() -> list[list[float]]:
    """One process: warm up, then every corpus interview once; the reply times (s) per interview."""
    from grader.pipeline import grade_transcript

    for f in sorted((ROOT / "transcripts").glob("*.yaml")):  # warm-up: the patterns grading compiles
        grade_transcript(load_transcript(f))
    offline_run(candidate_lines(4))
    return [offline_run(lines) for _, lines in corpus_interviews()]


def cold_corpus(runs: int) -> tuple[list[float], list[float], list[float], int]:
    """(replies at the 30th turn, replies to the last answers, every reply) in ms, each the median of `runs`
    fresh processes (each one cold for every interview), and the answers replayed."""
    import subprocess

    code = "import sys, json; sys.path.insert(0, 'bench'); import bench_interviewer as b; print(json.dumps(b.cold_corpus_once()))"
    per_run = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        per_run.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    at30, last, every = [], [], []
    answers = 0
    for interview in zip(*per_run, strict=True):
        n = min(len(r) for r in interview)
        ms = [statistics.median(r[i] for r in interview) * 1e3 for i in range(n)]
        answers += n
        every += ms
        if ms:
            last.append(ms[-1])
        if len(ms) >= 15:
            at30.append(ms[14])  # turn 0 the opening question; the 15th answer is turn 29, its reply turn 30
    return at30, last, every, answers


def _fresh_process_run() -> list[float]:
    import subprocess

    code = (
        "import sys, json; sys.path.insert(0, 'bench');"
        "import bench_interviewer as b;"
        "print(json.dumps(b.offline_run(b.candidate_lines(30))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


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

    at30, last, every, answers = cold_corpus(args.runs)
    if every:
        print(
            f"offline, cold, {len(last)} corpus interviews ({answers} answers): reply at turn 30 median "
            f"{statistics.median(at30):.1f} ms (max {max(at30):.1f}, {len(at30)} interviews that long); reply to the "
            f"last answer median {statistics.median(last):.1f} ms; worst turn {max(every):.1f} ms"
        )
    runs = [_fresh_process_run() for _ in range(args.runs)]
    turns = min(len(r) for r in runs)
    at_last = [r[turns - 1] * 1e3 for r in runs]
    worst = max(max(r[1:]) for r in runs) * 1e3  # the first reply of a process compiles the patterns
    first = statistics.median(r[0] for r in runs) * 1e3
    lines = candidate_lines(30)
    words = sum(len(x.split()) for x in lines[:turns])
    print(
        f"offline, scripted {turns} turns ({words} candidate words), fresh process each run: reply at turn {turns}: "
        f"median {statistics.median(at_last):.1f} ms, worst turn after the first {worst:.1f} ms "
        f"(the first, compiling the patterns: {first:.0f} ms)"
    )
    llm = [x * 1e3 for x in llm_first_token(args.runs)]
    print(
        f"LLM mode: our time to first token beyond the endpoint's {SERVER_DELAY_S * 1e3:.0f} ms: "
        f"median {statistics.median(llm):.1f} ms (max {max(llm):.1f})"
    )
    out = []
    if every:
        out += [
            result(
                "interviewer",
                "offline reply at turn 30, cold, corpus interviews",
                statistics.median(at30),
                "ms",
                f"median of {len(at30)} interviews of 15+ answers; max {max(at30):.1f} ms",
            ),
            result(
                "interviewer",
                "offline reply to the last answer, cold, corpus interviews",
                statistics.median(last),
                "ms",
                f"median of {len(last)} interviews (4 to 24 answers)",
            ),
            result("interviewer", "offline reply, worst turn, cold, corpus", max(every), "ms", f"any of {answers}"),
        ]
    out += [
        result(
            "interviewer",
            f"offline reply at turn {turns}, scripted samples, fresh process",
            statistics.median(at_last),
            "ms",
            f"median of {args.runs}; {words} candidate words; live grading included",
        ),
        result(
            "interviewer",
            "offline reply, worst turn, scripted samples",
            worst,
            "ms",
            f"turns 2-{turns}, {args.runs} runs; the first reply of a process (compiling patterns) {first:.0f} ms",
        ),
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
