"""A simulated candidate: the candidate turns of a recorded interview replayed into the offline engine, and an
audit of what the engine said to them.

The candidate's answers were given to another interviewer, so they do not answer the engine's questions; that
is the point. Whatever a candidate says, the engine must not:

- say a reference figure the candidate has not said (`guards.leaks`);
- ask about a topic the candidate has covered (a re-ask);
- question a figure the checker confirmed;
- give the refusal to anything but a request for a figure;
- judge an answer ("correct", "wrong", "well done");

and an interview long enough to have a reply per phase must pass through every phase.

"Covered" here is read from the claims and checks alone (concepts mentioned or explained, clarifying-question
topics, the quantities of numbers and checks, a stated layout), written apart from the engine's own coverage
and narrower than it (no aliases), so the audit cannot agree with the engine by construction. The clock moves
evenly: candidate turn k of n arrives at k/n of the time budget, so the last one lands at the end.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.claims import Check, Claims
from grader.interview.engine import Analyse, InterviewEngine, Reply
from grader.interview.guards import leaks
from grader.interview.probes import PHASE_ORDER, PhaseId, is_covered
from grader.pipeline import analyse as default_analyse
from grader.transcript import Transcript

TRANSCRIPT_SUFFIXES = (".yaml", ".yml", ".json", ".md", ".txt")

_JUDGEMENT = re.compile(
    r"\b(correct|incorrect|wrong|mistaken|right answer|exactly right|that's right|spot on|well done|good job|"
    r"great answer|perfect|excellent)\b",
    re.I,
)
_QUESTION = re.compile(r"\?|^\s*(what|which|how|can|could|would|will|is|are|do|does|tell me)\b", re.I | re.M)
_FIGURE_NOUN = re.compile(
    r"\b(kv|cache|weights?|memory|all-?reduces?|traffic|communication|bandwidth|latency|bubble|time|flops|"
    r"throughput|fits?|size|footprint|gpus|figure|number|answer)\b",
    re.I,
)


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _same(a: Check, b: Check) -> bool:
    return a.unit == b.unit and math.isclose(a.claimed, b.claimed, rel_tol=1e-9)


def claimed_coverage(claims: Claims, checks: Iterable[Check]) -> frozenset[str]:
    """Plan targets the claims show, read directly (no aliases): the audit's idea of "covered"."""
    out: set[str] = set()
    out |= {f"concept:{c.concept}" for c in claims.concepts if c.level in ("mentioned", "explained")}
    out |= {f"question:{q.topic}" for q in claims.questions}
    out |= {f"quantity:{n.quantity}" for n in claims.numbers if n.quantity}
    out |= {f"quantity:{k.quantity}" for k in checks if k.quantity}
    for s in claims.strategies:
        if (s.tp or 1) > 1:
            out.add("concept:tensor_parallelism")
        if (s.pp or 1) > 1:
            out.add("concept:pipeline_parallelism")
        if (s.dp or 1) > 1:
            out.add("concept:data_parallelism")
        if (s.tp or 1) > 1 and (s.pp or 1) > 1:
            out.add("concept:hybrid_parallelism")
    return frozenset(out)


def asks_for_a_figure(message: str) -> bool:
    """A loose reading: the message has a question that names something one computes. The refusal must never
    answer a message without one."""
    for sentence in re.split(r"(?<=[?.!])\s+|\n+", message):
        if _QUESTION.search(sentence) and _FIGURE_NOUN.search(sentence):
            return True
    return False


@dataclass
class Step:
    """One candidate message replayed, with the reply and what the claims showed right after the message."""

    message: str
    reply: Reply
    covered_before: frozenset[str]
    checks: list[Check]
    candidate_said: str


@dataclass
class Audit:
    name: str
    complete: bool
    replies: int
    unreplayed: int
    phases: list[PhaseId]
    kinds: Counter[str]
    reasks: list[str] = field(default_factory=list)
    confirmed_probes: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    bad_refusals: list[str] = field(default_factory=list)
    judgements: list[str] = field(default_factory=list)

    @property
    def all_phases(self) -> bool:
        return self.phases == list(PHASE_ORDER)

    @property
    def problems(self) -> list[str]:
        out = [*self.reasks, *self.confirmed_probes, *self.leaks, *self.bad_refusals, *self.judgements]
        if self.complete and not self.all_phases:
            missing = [p for p in PHASE_ORDER if p not in self.phases]
            out.append(f"phases never reached: {', '.join(missing)}")
        return out


@dataclass
class Replayed:
    name: str
    source: Transcript
    engine: InterviewEngine
    steps: list[Step]
    unreplayed: int

    @property
    def complete(self) -> bool:
        """Long enough to have a reply per phase: the interviews that must reach every phase."""
        return sum(t.role == "candidate" for t in self.source.turns) >= len(PHASE_ORDER)


def replay(
    transcript: Transcript, *, name: str | None = None, seed: int = 0, analyse: Analyse = default_analyse
) -> Replayed:
    """Feed the transcript's candidate turns to a fresh offline engine, on an evenly paced clock."""
    messages = [t.content for t in transcript.turns if t.role == "candidate" and t.content.strip()]
    clock = _Clock()
    engine = InterviewEngine(seed=seed, analyse=analyse, clock=clock, transcript_id=transcript.id)
    engine.start()
    step_s = engine.plan.budget_minutes * 60 / max(1, len(messages))
    steps: list[Step] = []
    said = ""
    for k, message in enumerate(messages, start=1):
        if engine.finished:
            return Replayed(name or transcript.id, transcript, engine, steps, len(messages) - k + 1)
        clock.t = k * step_s
        said += "\n" + message
        reply = engine.reply(message)
        covered = claimed_coverage(engine.claims, engine.checks)
        steps.append(Step(message, reply, covered, list(engine.checks), said))
    return Replayed(name or transcript.id, transcript, engine, steps, 0)


def audit(run: Replayed) -> Audit:
    """Everything the engine said that it must not have, in `run`, one line each."""
    plan = run.engine.plan
    refusals = set(plan.cant_share)
    out = Audit(
        name=run.name,
        complete=run.complete,
        replies=len(run.steps),
        unreplayed=run.unreplayed,
        phases=run.engine.phases_reached(),
        kinds=Counter(s.reply.kind for s in run.steps),
    )
    for s in run.steps:
        r, where = s.reply, f"{run.name} turn {s.reply.turn}"
        if r.kind != "repeat":
            hit = [t for t in r.targets if is_covered(t, s.covered_before)]
            if hit:
                out.reasks.append(f"{where}: {r.kind} {r.probe or ''} asks about covered {', '.join(hit)}: {r.text!r}")
        if r.check is not None:
            mine = [c for c in s.checks if f"{c.turn}:{c.quantity}:{c.claimed:g}" == r.check]
            if not mine or mine[0].verdict != "incorrect":
                out.confirmed_probes.append(f"{where}: follow-up on {r.check}, not an incorrect figure")
            elif any(c.verdict == "correct" and _same(c, mine[0]) for c in s.checks):
                out.confirmed_probes.append(f"{where}: follow-up on {r.check}, a figure the checker confirmed")
        found = leaks(r.text, s.candidate_said)
        if found:
            out.leaks.append(f"{where}: states {', '.join(found)} before the candidate: {r.text!r}")
        if any(line in r.text for line in refusals) and not asks_for_a_figure(s.message):
            out.bad_refusals.append(f"{where}: refusal after {s.message[:80]!r}")
        if r.kind not in ("fact", "assumption") and _JUDGEMENT.search(r.text):
            out.judgements.append(f"{where}: judges the answer: {r.text!r}")
    return out


def transcript_files(*folders: Path) -> list[Path]:
    """The interview files of `folders` (labels and READMEs left out), sorted by name."""
    out: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir()):
            if p.is_file() and p.suffix in TRANSCRIPT_SUFFIXES and not p.name.startswith(("labels", "README")):
                out.append(p)
    return out
