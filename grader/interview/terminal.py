"""`python -m grader interview`: a mock interview in the terminal, one line per candidate turn.

Commands, shown in a banner when the interview starts: /hint (a hint, recorded as such), /time (time left),
/help (the commands again), /end (finish). Only answers and /hint are recorded; any other line starting with
"/" is a command, never an answer (an unknown one says so). End of input also finishes. The interview ends
with its grade as plain text (`grader.scorecard.render_text`), no Markdown. With --save PATH the transcript is rewritten atomically (YAML) after every turn, and --resume picks
a saved session up where it stopped; the candidate's answer is saved before the interviewer's reply is asked
for. With --llm an OpenAI-compatible model words the interviewer's turns (streamed, capped and checked by
grader.interview.guards); whenever it fails, or its wording fails a check, the offline interviewer's wording
of the same turn is recorded instead and the terminal says so.

Also runnable directly: `python -m grader.interview.terminal --seed 3 --save session.yaml < answers.txt`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from grader.errors import ConfigError, GraderError

if TYPE_CHECKING:  # the CLI builds its parser from add_arguments: keep `python -m grader --help` light
    from grader.interview.engine import InterviewEngine, PlannedReply, Reply
    from grader.interview.llm import LLMInterviewer
    from grader.transcript import Transcript

PROMPT = "you> "
COMMANDS = (
    ("/hint", "a hint on the current question (recorded as a hint)"),
    ("/time", "time left in the interview and in this phase"),
    ("/help", "these commands"),
    ("/end", "finish now and see your scorecard"),
)


def banner() -> str:
    """What the terminal prints before the first question: how to answer and the commands."""
    lines = ["Mock interview: type your answer and press Enter. Commands (not recorded as answers):"]
    lines += [f"  {name:<6} {what}" for name, what in COMMANDS]
    lines.append("End of input (Ctrl-D) also finishes.")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="phrasing seed: same seed, same answers, same interview")
    parser.add_argument("--minutes", type=float, default=None, help="time budget (default: the plan's, 45)")
    parser.add_argument("--save", type=Path, default=None, metavar="PATH", help="save the transcript (YAML) every turn")
    parser.add_argument("--resume", action="store_true", help="continue the session saved at --save PATH")
    parser.add_argument("--llm", action="store_true", help="word the interviewer's turns with the configured LLM")


def save_transcript(t: Transcript, path: Path) -> None:
    """Atomic YAML save through grader.store (temp file + os.replace in the same directory)."""
    from grader.store import save_transcript_atomic

    save_transcript_atomic(t, path)


def _load_saved(path: Path) -> Transcript:
    from grader.loaders import load_transcript

    return load_transcript(path, in_progress=True)


def _build_engine(args: argparse.Namespace) -> InterviewEngine:
    from grader.interview.engine import InterviewEngine
    from grader.interview.probes import default_plan

    plan = default_plan()
    if args.minutes is not None:
        if args.minutes <= 0:
            raise ConfigError("--minutes must be positive")
        plan = plan.with_budget(args.minutes)
    if args.resume:
        if args.save is None or not args.save.exists():
            raise ConfigError("--resume needs --save PATH of an existing session")
        return InterviewEngine.resume(_load_saved(args.save), plan=plan, seed=args.seed)
    if args.save is not None and args.save.exists():
        raise ConfigError(f"{args.save} exists: add --resume to continue it, or choose another path")
    return InterviewEngine(plan=plan, seed=args.seed)


def run(args: argparse.Namespace, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    inp = stdin or sys.stdin
    out = stdout or sys.stdout
    try:
        engine = _build_engine(args)
        llm = None
        if args.llm:
            from grader.settings import get_settings

            if not get_settings().llm_configured:
                raise ConfigError("--llm needs COACH_LLM_BASE_URL or COACH_LLM_API_KEY (see grader/settings.py)")
            from grader.interview.llm import LLMInterviewer

            llm = LLMInterviewer(engine)
    except GraderError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2

    def say(text: str) -> None:
        print(f"interviewer> {text}", file=out, flush=True)

    def save() -> None:
        if args.save is not None:
            save_transcript(engine.transcript, args.save)

    print(banner() + "\n", file=out, flush=True)
    if engine.transcript.turns:
        print(f"(resumed: {len(engine.transcript.turns)} turns; {engine.time_status().describe()})", file=out)
        if engine.finished:
            print("(this session had already finished)", file=out)
        else:
            say(engine.transcript.turns[-1].content)
    else:
        say(engine.start())
    save()

    while not engine.finished:
        print(PROMPT, end="", file=out, flush=True)
        line = inp.readline()
        if not line:
            print(file=out)
            break
        message = line.strip()
        if not message:
            continue
        command = message.lower()
        if command == "/time":
            print(f"(time) {engine.time_status().describe()}", file=out, flush=True)
            continue
        if command == "/end":
            break
        if command in ("/help", "/?", "/commands"):
            print(banner(), file=out, flush=True)
            continue
        if command == "/hint":
            say(engine.hint().text)
        elif command.startswith("/") and " " not in command:
            print(f"(unknown command {message}; /help lists the commands. Nothing was recorded.)", file=out, flush=True)
            continue
        else:
            planned = engine.prepare(message)
            save()  # the answer is on disk before the reply is asked for: a kill mid-stream loses nothing
            if llm is not None:
                _stream(llm, planned, out)
            else:
                say(engine.commit(planned).text)
        save()

    if not engine.finished:
        engine.end()
        say(engine.transcript.turns[-1].content)
        save()
    _summary(engine, out, args.save)
    return 0


def _stream(llm: LLMInterviewer, planned: PlannedReply, out: TextIO) -> Reply:
    from grader.interview.llm import ReplyStream

    stream = ReplyStream(llm, planned)
    print("interviewer> ", end="", file=out, flush=True)
    for token in stream:
        print(token, end="", file=out, flush=True)
    print(file=out)
    reply = stream.finish()
    if reply.replaced:
        print(
            f"(reply replaced: {reply.replaced}; offline interviewer) interviewer> {reply.text}", file=out, flush=True
        )
    elif reply.fell_back:
        print(f"(the LLM failed; offline interviewer) interviewer> {reply.text}", file=out, flush=True)
    return reply


def _summary(engine: InterviewEngine, out: TextIO, path: Path | None) -> None:
    st = engine.state
    t = engine.transcript
    candidate_turns = sum(1 for x in t.turns if x.role == "candidate")
    status = engine.time_status()
    print("\n--- summary ---", file=out)
    print(f"turns: {len(t.turns)} ({candidate_turns} yours), hints: {st.hints_used}", file=out)
    print(f"time: {status.describe()}", file=out)
    print(f"phases: {' -> '.join(e.phase for e in st.phase_log)}", file=out)
    print("topics covered, by phase:", file=out)
    for cov in engine.phase_coverage():
        if cov.covered or cov.missing:
            print(f"  {cov.title}: {len(cov.covered)} of {len(cov.covered) + len(cov.missing)} topics", file=out)
    if path is not None:
        print(f"saved: {path}", file=out)
    if candidate_turns:
        _scorecard(t, out, path)
    out.flush()


def _scorecard(t: Transcript, out: TextIO, path: Path | None = None) -> None:
    """The interview ends with its grade: the same pipeline as `python -m grader grade`, as plain text."""
    from grader.pipeline import grade_transcript
    from grader.scorecard import render_text

    print("\n--- scorecard ---", file=out)
    print(render_text(grade_transcript(t)), file=out)
    if path is not None:
        print(f"With the evidence for every point: python -m grader grade {path}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.interview.terminal", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
