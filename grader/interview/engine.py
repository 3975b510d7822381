"""The offline interviewer: a deterministic state machine over the scenario's facts and rubric/interview.yaml.

Every interviewer sentence comes from three sources only: a phrasing in the plan, a scenario fact's answer
(and only when a question asks for it), or the candidate's own number quoted back in a follow-up. The engine
never computes a figure, so it cannot reveal the reference arithmetic, the rubric or a model answer.

One turn (`reply`) is two steps, so an LLM can word the reply while the engine keeps the state:

1. `prepare(message)` appends the candidate's turn, runs `analyse(transcript)` for live coverage, moves the
   phase on when its time is up (or when nothing in it is left to ask) and decides the reply: answer the facts
   asked for, follow up an incorrect number, probe the current phase's biggest gap, wrap up, or close.
2. `commit(planned, text=None)` appends the interviewer's turn (the planned text, or an LLM's wording of it)
   and records what was asked.

The state (`InterviewState`) is a pydantic model. A saved transcript is enough to rebuild it:
`InterviewEngine.resume(transcript)` replays the candidate's turns against the saved interviewer turns, with
the clock read from each turn's timestamp.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.claims import Check, Claims, ConceptLevel
from grader.interview.intents import IntentDetector, MessageIntents
from grader.interview.probes import (
    PHASE_ORDER,
    InterviewPlan,
    PhaseId,
    Probe,
    choose,
    default_plan,
    is_covered,
    missing_targets,
    next_probe,
    probe_key,
)
from grader.pipeline import analyse as default_analyse
from grader.scenario import Scenario, default_scenario
from grader.transcript import Transcript, Turn

log = logging.getLogger(__name__)

ReplyKind = Literal["fact", "probe", "follow_up", "hint", "cant_share", "wrap_up", "closing"]
Analyse = Callable[[Transcript], tuple[Claims, list[Check]]]
Clock = Callable[[], float]

_LEVEL_RANK: dict[str, int] = {"misconception": 0, "mentioned": 1, "explained": 2}
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


class InterviewOver(RuntimeError):
    """A reply was asked for after the interview finished."""


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    phase: PhaseId
    kind: ReplyKind
    turn: int = Field(description="0-based index of this interviewer turn in the transcript")
    probe: str | None = Field(None, description="phase/probe id when the reply asks a planned probe")
    source: Literal["offline", "llm"] = "offline"
    fell_back: bool = Field(False, description="an LLM was asked and failed; this is the offline reply")
    replaced: str | None = Field(None, description="why the LLM's wording failed the guards (then fell_back)")


class TimeStatus(BaseModel):
    elapsed_s: float
    remaining_s: float
    budget_s: float
    phase: PhaseId
    phase_title: str
    phase_elapsed_s: float
    phase_budget_s: float
    phase_remaining_s: float

    def describe(self) -> str:
        def mmss(s: float) -> str:
            s = max(0, round(s))
            return f"{s // 60}:{s % 60:02d}"

        return (
            f"{mmss(self.elapsed_s)} elapsed, {mmss(self.remaining_s)} left; "
            f"{self.phase_title}: {mmss(self.phase_elapsed_s)} of {mmss(self.phase_budget_s)}"
        )


class Coverage(BaseModel):
    """What the candidate has shown so far, over the whole transcript."""

    concepts: dict[str, ConceptLevel] = Field(default_factory=dict, description="best level reached per concept")
    questions: list[str] = Field(default_factory=list, description="clarifying-question topics asked")
    quantities: list[str] = Field(default_factory=list, description="numeric quantities the candidate stated")

    def targets(self) -> frozenset[str]:
        return frozenset(
            [f"concept:{c}" for c, lvl in self.concepts.items() if lvl in ("mentioned", "explained")]
            + [f"question:{q}" for q in self.questions]
            + [f"quantity:{q}" for q in self.quantities]
        )

    @classmethod
    def build(cls, claims: Claims, checks: list[Check], asked_topics: list[str]) -> Coverage:
        concepts: dict[str, ConceptLevel] = {}
        for c in claims.concepts:
            if c.concept not in concepts or _LEVEL_RANK[c.level] > _LEVEL_RANK[concepts[c.concept]]:
                concepts[c.concept] = c.level
        questions = list(dict.fromkeys([*asked_topics, *(q.topic for q in claims.questions)]))
        quantities = list(
            dict.fromkeys(
                [
                    *(n.quantity for n in claims.numbers if n.quantity),
                    *(c.quantity for c in checks if c.quantity),
                ]
            )
        )
        return cls(concepts=concepts, questions=questions, quantities=quantities)


class PhaseCoverage(BaseModel):
    phase: PhaseId
    title: str
    covered: list[str]
    missing: list[str]

    @property
    def fraction(self) -> float:
        n = len(self.covered) + len(self.missing)
        return len(self.covered) / n if n else 1.0


class PhaseEntry(BaseModel):
    phase: PhaseId
    started_s: float
    budget_s: float = Field(description="time allotted at entry: the plan's minutes, shrunk if behind schedule")


class InterviewState(BaseModel):
    """Everything the engine knows; rebuilt from a saved transcript by `InterviewEngine.resume`."""

    transcript: Transcript
    seed: int = 0
    phase: PhaseId = "clarification"
    started_at: datetime
    elapsed_s: float = Field(0.0, description="at the last event (turn or hint)")
    phase_log: list[PhaseEntry] = Field(default_factory=list, description="phases entered, with elapsed at entry")
    coverage: Coverage = Field(default_factory=Coverage)
    asked_topics: list[str] = Field(default_factory=list, description="fact topics the candidate asked for")
    asked_probes: list[str] = Field(default_factory=list, description="phase/probe ids, in the order asked")
    hints_used: int = 0
    hints_by_probe: dict[str, int] = Field(default_factory=dict)
    followed_up: list[str] = Field(default_factory=list, description="keys of incorrect checks followed up")
    wrap_up_asked: bool = False
    finished: bool = False

    @property
    def phase_started_s(self) -> float:
        return self.phase_log[-1].started_s if self.phase_log else 0.0

    @property
    def phase_budget_s(self) -> float:
        return self.phase_log[-1].budget_s if self.phase_log else 0.0


@dataclass
class PlannedReply:
    """The engine's decision for one interviewer turn, before it is worded and recorded."""

    kind: ReplyKind
    text: str
    phase: PhaseId
    probe: str | None = None
    follow_key: str | None = None
    hint_key: str | None = None
    facts: tuple[str, ...] = ()


Responder = Callable[["InterviewEngine", PlannedReply], str | None]
"""Words a planned reply (an LLM); None keeps the planned text; raising makes the engine use the planned text
instead, as a fallback (an exception's `replaced` attribute, if any, is recorded as the reason)."""


def check_key(c: Check) -> str:
    return f"{c.turn}:{c.quantity}:{c.claimed:g}"


class InterviewEngine:
    def __init__(
        self,
        scenario: Scenario | None = None,
        plan: InterviewPlan | None = None,
        *,
        seed: int = 0,
        analyse: Analyse = default_analyse,
        clock: Clock = time.monotonic,
        responder: Responder | None = None,
        transcript_id: str | None = None,
        candidate: str | None = None,
    ) -> None:
        self.scenario = scenario or default_scenario()
        self.plan = plan or default_plan()
        self.seed = seed
        self._analyse = analyse
        self._clock = clock
        self.responder = responder
        self._facts = {f.topic: f for f in self.scenario.facts}
        self._detector = IntentDetector(self.scenario.facts, self.plan.intents)
        self._t0 = clock()
        self._replay_at: float | None = None
        self.checks: list[Check] = []
        self.last_reply: Reply | None = None
        started = datetime.now(UTC).replace(microsecond=0)
        tid = transcript_id or f"interview-{started:%Y%m%d-%H%M%S}-s{seed}"
        self.state = InterviewState(
            transcript=Transcript(id=tid, scenario=self.scenario.id, candidate=candidate, started_at=started, turns=[]),
            seed=seed,
            started_at=started,
            phase_log=[
                PhaseEntry(phase=PHASE_ORDER[0], started_s=0.0, budget_s=self.plan.phase(PHASE_ORDER[0]).minutes * 60)
            ],
        )

    # --- read-only views ---------------------------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        return self.state.transcript

    @property
    def phase(self) -> PhaseId:
        return self.state.phase

    @property
    def finished(self) -> bool:
        return self.state.finished

    def elapsed(self) -> float:
        if self._replay_at is not None:
            return self._replay_at
        return max(0.0, self._clock() - self._t0)

    def time_status(self) -> TimeStatus:
        el = self.elapsed()
        ph = self.plan.phase(self.state.phase)
        budget = self.plan.budget_minutes * 60
        phase_el = max(0.0, el - self.state.phase_started_s)
        phase_budget = self.state.phase_budget_s
        return TimeStatus(
            elapsed_s=el,
            remaining_s=max(0.0, budget - el),
            budget_s=budget,
            phase=ph.id,
            phase_title=ph.title,
            phase_elapsed_s=phase_el,
            phase_budget_s=phase_budget,
            phase_remaining_s=max(0.0, phase_budget - phase_el),
        )

    def phase_coverage(self) -> list[PhaseCoverage]:
        covered = self.state.coverage.targets()
        out = []
        for ph in self.plan.phases:
            targets = ph.targets
            out.append(
                PhaseCoverage(
                    phase=ph.id,
                    title=ph.title,
                    covered=[t for t in targets if is_covered(t, covered)],
                    missing=[t for t in targets if not is_covered(t, covered)],
                )
            )
        return out

    # --- the interview -----------------------------------------------------------------------------------

    def start(self) -> str:
        """The opening prompt, recorded as the first interviewer turn (once)."""
        if not self.transcript.turns:
            self._t0 = self._clock()
            self._append("interviewer", self.scenario.opening_prompt)
        return self.transcript.turns[0].content

    def reply(self, candidate_message: str) -> Reply:
        planned = self.prepare(candidate_message)
        if self.responder is None:
            return self.commit(planned)
        try:
            text = self.responder(self, planned)
        except Exception as exc:  # any responder failure: the offline reply answers this turn
            log.warning("interviewer responder failed, answering offline: %s", exc)
            return self.commit(planned, fell_back=True, replaced=getattr(exc, "replaced", None))
        if text is None:  # the responder leaves this turn to the planned text (facts, say)
            return self.commit(planned)
        return self.commit(planned, text=text, source="llm")

    def hint(self) -> Reply:
        """A hint for the current gap, recorded as an interviewer turn with `hint=True`."""
        return self.commit(self.prepare_hint())

    def end(self) -> Transcript:
        """Finish now (the candidate ends the interview); a closing line is recorded if none was."""
        if not self.state.finished:
            self.start()
            self.commit(self._closing())
        return self.transcript

    def prepare(self, candidate_message: str) -> PlannedReply:
        """Record the candidate's turn, update coverage and phase, and decide the reply (not yet recorded)."""
        if self.state.finished:
            raise InterviewOver("the interview has finished")
        message = candidate_message.strip()
        if not message:
            raise ValueError("empty candidate message")
        self.start()
        self._append("candidate", message)
        intents = self._detector.detect(message)
        for t in intents.facts:
            if t not in self.state.asked_topics:
                self.state.asked_topics.append(t)
        claims, checks = self._analyse(self.transcript)
        self.checks = checks
        self.state.coverage = Coverage.build(claims, checks, self.state.asked_topics)
        self._tick()
        return self._decide(intents)

    def prepare_hint(self) -> PlannedReply:
        """A hint on the open probe (the last one asked if still uncovered, else the biggest gap); each further
        hint on the same probe is the next, more specific one in the plan."""
        if self.state.finished:
            raise InterviewOver("the interview has finished")
        self.start()
        self._tick()
        phase = self.plan.phase(self.state.phase)
        covered = self.state.coverage.targets()
        target: Probe | None = None
        last = self._last_probe()
        if last is not None and last[0] == phase.id and missing_targets(last[1], covered):
            target = last[1]
        if target is None:
            target = next_probe(phase, covered, self.state.asked_probes)
        if target is None:
            n = self.state.hints_used
            return PlannedReply("hint", choose(self.plan.generic_hints, self.seed, "hint", n), phase.id)
        key = probe_key(phase.id, target.id)
        n = self.state.hints_by_probe.get(key, 0)
        return PlannedReply("hint", target.hints[min(n, len(target.hints) - 1)], phase.id, hint_key=key)

    def commit(
        self,
        planned: PlannedReply,
        text: str | None = None,
        *,
        source: Literal["offline", "llm"] = "offline",
        fell_back: bool = False,
        replaced: str | None = None,
    ) -> Reply:
        """Record the interviewer's turn for `planned` (worded as `text`, default the planned text). `replaced`:
        why an LLM's wording was thrown away for the planned text (recorded on the turn)."""
        body = (text or "").strip() or planned.text
        if not (text or "").strip():
            source = "offline"
        st = self.state
        idx = self._append("interviewer", body, hint=planned.kind == "hint", replaced=replaced)
        if planned.probe is not None and planned.probe not in st.asked_probes:
            st.asked_probes.append(planned.probe)
        if planned.follow_key is not None:
            st.followed_up.append(planned.follow_key)
        if planned.kind == "hint":
            st.hints_used += 1
            if planned.hint_key is not None:
                st.hints_by_probe[planned.hint_key] = st.hints_by_probe.get(planned.hint_key, 0) + 1
        if planned.kind == "wrap_up":
            st.wrap_up_asked = True
        if planned.kind == "closing":
            st.finished = True
        self.last_reply = Reply(
            text=body,
            phase=planned.phase,
            kind=planned.kind,
            turn=idx,
            probe=planned.probe,
            source=source,
            fell_back=fell_back or replaced is not None,
            replaced=replaced,
        )
        return self.last_reply

    # --- decisions ---------------------------------------------------------------------------------------

    def _decide(self, intents: MessageIntents) -> PlannedReply:
        st = self.state
        if intents.end:
            return self._closing()
        if intents.wrap_up or (st.phase == "wrap_up" and st.wrap_up_asked):
            if st.wrap_up_asked:
                return self._closing()
            self._enter("wrap_up")
            return self._wrap_up()
        if intents.repeat and not intents.facts:
            last = self._last_interviewer_turn()
            if last is not None:
                return PlannedReply("probe", last.content, st.phase)
        if intents.asks:
            return self._answer(intents)
        follow = self._follow_up()
        if follow is not None:
            return follow
        return self._probe()

    def _answer(self, intents: MessageIntents) -> PlannedReply:
        parts = [self._facts[t].answer for t in intents.facts]
        n = len(self.transcript.turns)
        if intents.unknown:
            parts.append(choose(self.plan.cant_share, self.seed, n, "cant_share"))
        kind: ReplyKind = "fact" if intents.facts else "cant_share"
        return PlannedReply(kind, " ".join(parts), self.state.phase, facts=intents.facts)

    def _follow_up(self) -> PlannedReply | None:
        """Ask the candidate to walk through a figure the checker found incorrect in the message just received,
        quoting their own figure; never says it is wrong and never states the expected value. Each check once,
        at most `max_follow_ups` per interview, none in wrap-up or for an error carried from an earlier one."""
        st = self.state
        if st.phase == "wrap_up" or len(st.followed_up) >= self.plan.max_follow_ups:
            return None
        latest = len(self.transcript.turns) - 1  # only numbers from the message just received
        for c in self.checks:
            if c.turn != latest or c.verdict != "incorrect" or c.consistent_with_earlier_error:
                continue
            key = check_key(c)
            if key in st.followed_up:
                continue
            figure = _figure(c)
            label = self.plan.quantity_labels.get(c.quantity, "")
            phrase = f"{figure} {label}".strip()
            template = choose(self.plan.follow_up, self.seed, len(self.transcript.turns), "follow_up")
            return PlannedReply("follow_up", template.replace("{figure}", phrase), st.phase, follow_key=key)
        return None

    def _probe(self) -> PlannedReply:
        st = self.state
        n = len(self.transcript.turns)
        while True:
            phase = self.plan.phase(st.phase)
            if phase.id == "wrap_up":
                return self._wrap_up()
            probe = next_probe(phase, st.coverage.targets(), st.asked_probes)
            if probe is None:
                self._enter(self.plan.next_phase(phase.id))
                continue
            key = probe_key(phase.id, probe.id)
            text = choose(probe.phrasings, self.seed, n, key)
            first_in_phase = not any(k.startswith(phase.id + "/") for k in st.asked_probes)
            if first_in_phase and phase.intro:
                text = f"{choose(phase.intro, self.seed, n, phase.id, 'intro')} {text}"
            return PlannedReply("probe", text, phase.id, probe=key)

    def _wrap_up(self) -> PlannedReply:
        if self.state.wrap_up_asked:
            return self._closing()
        n = len(self.transcript.turns)
        return PlannedReply("wrap_up", choose(self.plan.wrap_up, self.seed, n, "wrap_up"), "wrap_up")

    def _closing(self) -> PlannedReply:
        n = len(self.transcript.turns)
        return PlannedReply("closing", choose(self.plan.closing, self.seed, n, "closing"), self.state.phase)

    # --- time and phases ---------------------------------------------------------------------------------

    def _tick(self) -> None:
        """Move on when the phase's time is up; from the last `wrap_up` minutes of the budget on, wrap up."""
        st = self.state
        el = self.elapsed()
        st.elapsed_s = el
        if st.phase == "wrap_up":
            return
        if el >= self._wrap_at():
            self._enter("wrap_up")
        elif el - st.phase_started_s >= st.phase_budget_s:
            self._enter(self.plan.next_phase(st.phase))

    def _wrap_at(self) -> float:
        return (self.plan.budget_minutes - self.plan.phase("wrap_up").minutes) * 60

    def _enter(self, phase: PhaseId) -> None:
        """Start `phase` now. Its time is the plan's, scaled down when the interview is behind schedule so that
        the phases still ahead share what is left before wrap-up in the plan's proportions."""
        if phase == self.state.phase:
            return
        el = self.elapsed()
        planned = self.plan.phase(phase).minutes * 60
        if phase == "wrap_up":
            budget = max(0.0, self.plan.budget_minutes * 60 - el)
        else:
            ahead = PHASE_ORDER[PHASE_ORDER.index(phase) : PHASE_ORDER.index("wrap_up")]
            still_planned = sum(self.plan.phase(p).minutes for p in ahead) * 60
            budget = planned * min(1.0, max(0.0, self._wrap_at() - el) / still_planned)
        self.state.phase = phase
        self.state.phase_log.append(PhaseEntry(phase=phase, started_s=el, budget_s=budget))

    # --- transcript helpers ------------------------------------------------------------------------------

    def _append(
        self,
        role: Literal["interviewer", "candidate"],
        content: str,
        *,
        hint: bool = False,
        replaced: str | None = None,
    ) -> int:
        el = self.elapsed()
        self.state.elapsed_s = el
        at = self.state.started_at + timedelta(seconds=el)
        self.transcript.turns.append(Turn(role=role, content=content, at=at, hint=hint, replaced=replaced))
        return len(self.transcript.turns) - 1

    def _last_probe(self) -> tuple[PhaseId, Probe] | None:
        if not self.state.asked_probes:
            return None
        phase_id, probe_id = self.state.asked_probes[-1].split("/", 1)
        phase = self.plan.phase(phase_id)
        return phase.id, next(p for p in phase.probes if p.id == probe_id)

    def _last_interviewer_turn(self) -> Turn | None:
        for t in reversed(self.transcript.turns[:-1]):
            if t.role == "interviewer" and not t.hint:
                return t
        return None

    # --- resume ------------------------------------------------------------------------------------------

    @classmethod
    def resume(
        cls,
        transcript: Transcript,
        scenario: Scenario | None = None,
        plan: InterviewPlan | None = None,
        *,
        seed: int = 0,
        analyse: Analyse = default_analyse,
        clock: Clock = time.monotonic,
        responder: Responder | None = None,
    ) -> InterviewEngine:
        """Rebuild the state of a saved interview and continue it.

        The candidate's turns are replayed (analysis, coverage, phase moves) with each turn's saved timestamp
        as the clock, and every saved interviewer turn is recorded as it was, so an LLM-worded or differently
        seeded interview resumes as well as an offline one. The clock then continues from the last saved turn
        (time between the crash and the restart is not counted). A trailing unanswered candidate turn is
        answered offline (`last_reply`).
        """
        eng = cls(
            scenario,
            plan,
            seed=seed,
            analyse=analyse,
            clock=clock,
            responder=responder,
            transcript_id=transcript.id,
            candidate=transcript.candidate,
        )
        first_at = next((t.at for t in transcript.turns if t.at is not None), None)
        started = transcript.started_at or first_at or eng.state.started_at
        eng.state.started_at = started
        eng.state.transcript = transcript.model_copy(update={"turns": [], "started_at": started})
        offset = 0.0
        pending: PlannedReply | None = None
        for i, turn in enumerate(transcript.turns):
            if turn.at is not None:
                offset = max(offset, (turn.at - started).total_seconds())
            eng._replay_at = offset
            if turn.role == "candidate":
                if eng.state.finished:
                    eng._append("candidate", turn.content)
                    continue
                pending = eng.prepare(turn.content)
            elif i == 0:
                eng._append("interviewer", turn.content)
            elif pending is not None:
                eng.commit(pending, text=turn.content)
                pending = None
            elif turn.hint and not eng.state.finished:
                eng.commit(eng.prepare_hint(), text=turn.content)
            elif not eng.state.finished and i == len(transcript.turns) - 1:
                eng.commit(eng._closing(), text=turn.content)  # end() closed it
            else:
                eng._append("interviewer", turn.content, hint=turn.hint)
        # keep the saved turns exactly (timestamps, source lines) where the replay lined up with them
        replayed = eng.state.transcript.turns
        for i, (old, new) in enumerate(zip(transcript.turns, replayed, strict=False)):
            if old.role == new.role and old.content == new.content:
                replayed[i] = old.model_copy()
        eng._replay_at = None
        eng._t0 = eng._clock() - offset
        if pending is not None:
            eng.commit(pending)
        return eng


def _figure(check: Check) -> str:
    """The candidate's figure as they wrote it in the quoted sentence, with the unit they used."""
    token = None
    for m in _NUMBER.finditer(check.quote):
        try:
            v = float(m.group().replace(",", ""))
        except ValueError:
            continue
        if abs(v - check.claimed) <= 1e-9 * max(1.0, abs(check.claimed)):
            token = m.group()
            break
    if token is None:
        v = check.claimed
        token = f"{v:,.0f}" if v == int(v) else f"{v:.6f}".rstrip("0").rstrip(".")
    unit = check.unit.strip()
    if not unit or unit == "count":
        return token
    return f"{token}{unit}" if unit == "%" else f"{token} {unit}"
