"""The offline interviewer: a deterministic state machine over the scenario's facts and rubric/interview.yaml.

Every interviewer sentence comes from three sources only: a phrasing in the plan, a scenario fact's answer
(and only when a question asks for it), or the candidate's own number quoted back in a follow-up. The engine
never computes a figure, so it cannot reveal the reference arithmetic, the rubric or a model answer.

Each reply reacts to the answer it follows, from the live claims and checks (`grader.pipeline.analyse`, run
once per answer):

- a wrong or weak claim is challenged first: a figure the checker found `incorrect` whose words name the
  quantity (never one it confirmed anywhere), a misconception the extractor found, or a hand-wave from the
  plan's list ("Kubernetes will scale it automatically"), each without giving the answer;
- otherwise a short, neutral acknowledgement of what the answer covered (never a figure, never a verdict),
  then the next question: on the topic the candidate just moved to if it is another phase's, else the biggest
  gap of the current phase. A question is asked only while nothing it asks about is covered;
- phases move on when their time is up, when they have had their questions, or when nothing in them is left
  open, so a complete interview passes through every phase; the last minutes are the wrap-up;
- turns that are not answers get what a human interviewer says: facts when asked, an assumption to state
  for what the scenario does not say, the refusal only for a figure the candidate should work out, the
  question again, a pointer after "I don't know", a word of small talk, "no more questions" at the end.

One turn (`reply`) is two steps, so an LLM can word the reply while the engine keeps the state:

1. `prepare(message)` appends the candidate's turn, runs `analyse(transcript)` for live coverage, moves the
   phase on when its time is up and decides the reply (`PlannedReply`).
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

from grader.claims import Check, Claims
from grader.interview.challenges import Challenger
from grader.interview.coverage import Coverage
from grader.interview.intents import IntentDetector, MessageIntents
from grader.interview.probes import (
    PHASE_ORDER,
    InterviewPlan,
    Phase,
    PhaseId,
    Probe,
    choose,
    default_plan,
    is_covered,
    is_open,
    next_probe,
    probe_key,
)
from grader.pipeline import analyse as default_analyse
from grader.scenario import Scenario, default_scenario
from grader.transcript import Transcript, Turn

log = logging.getLogger(__name__)

__all__ = [
    "Coverage",
    "InterviewEngine",
    "InterviewOver",
    "InterviewState",
    "PhaseCoverage",
    "PlannedReply",
    "Reply",
    "ReplyKind",
    "TimeStatus",
]

ReplyKind = Literal[
    "fact",  # the scenario's facts asked for
    "assumption",  # a question the scenario does not answer: answered from the plan or turned back
    "cant_share",  # the refusal: a figure the candidate should work out
    "probe",  # a planned question on a gap
    "follow_up",  # "walk me through <your figure>": an incorrect figure
    "challenge",  # a misconception or a weak claim, questioned
    "hint",  # a hint on request
    "repeat",  # the last question again, or put another way
    "off_script",  # small talk, a pause, the time left, "go ahead", a pointer after "I don't know"
    "wrap_up",
    "closing",
]
Analyse = Callable[[Transcript], tuple[Claims, list[Check]]]
Clock = Callable[[], float]


class InterviewOver(RuntimeError):
    """A reply was asked for after the interview finished."""


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    phase: PhaseId
    kind: ReplyKind
    turn: int = Field(description="0-based index of this interviewer turn in the transcript")
    probe: str | None = Field(None, description="phase/probe id when the reply asks a planned probe")
    targets: list[str] = Field(default_factory=list, description="what the reply's question asks about")
    intent: str | None = Field(None, description="the off-script reading handled (dont_know, repeat, outside:...)")
    challenge: str | None = Field(None, description="misconception or weak-claim id questioned")
    check: str | None = Field(None, description="the incorrect check a follow-up asks about (turn:quantity:value)")
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
    asked: int = Field(0, description="questions asked since entry (probes, follow-ups, challenges)")


class InterviewState(BaseModel):
    """Everything the engine knows; rebuilt from a saved transcript by `InterviewEngine.resume`."""

    transcript: Transcript
    seed: int = 0
    phase: PhaseId = "clarification"
    started_at: datetime
    elapsed_s: float = Field(0.0, description="at the last event (turn or hint)")
    phase_log: list[PhaseEntry] = Field(default_factory=list, description="phases entered, with elapsed at entry")
    done_phases: list[PhaseId] = Field(default_factory=list, description="phases left for good")
    coverage: Coverage = Field(default_factory=Coverage)
    asked_topics: list[str] = Field(default_factory=list, description="fact topics the candidate asked for")
    asked_probes: list[str] = Field(default_factory=list, description="phase/probe ids, in the order asked")
    open_probe: str | None = Field(None, description="the probe last asked, while the candidate has not answered")
    given_up: list[str] = Field(default_factory=list, description="probes left after 'I don't know' twice")
    last_question: str | None = Field(None, description="the interviewer's last question, for a repeat")
    hints_used: int = 0
    hints_by_probe: dict[str, int] = Field(default_factory=dict)
    followed_up: list[str] = Field(default_factory=list, description="keys of incorrect checks followed up")
    challenged: list[str] = Field(default_factory=list, description="misconception and weak-claim ids questioned")
    heard: list[str] = Field(default_factory=list, description="targets settled by the plan's `heard` words")
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
    targets: tuple[str, ...] = ()
    intent: str | None = None
    challenge: str | None = None
    question: str | None = None
    """The question the reply asks, without its lead-in (what a repeat says again); None keeps the last one."""
    keep_open: bool = False
    """The reply asks nothing new (a fact, a pause, the same question again): the open probe stays open."""


Responder = Callable[["InterviewEngine", PlannedReply], str | None]
"""Words a planned reply (an LLM); None keeps the planned text; raising makes the engine use the planned text
instead, as a fallback (an exception's `replaced` attribute, if any, is recorded as the reason)."""


def _join(*parts: str | None) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


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
        self._outside = {o.id: o for o in self.plan.outside}
        self._detector = IntentDetector(self.scenario.facts, self.plan)
        self._challenger = Challenger(self.plan)
        self._heard_rx = [(t, re.compile("|".join(p), re.I)) for t, p in self.plan.heard.items() if p]
        self._t0 = clock()
        self._replay_at: float | None = None
        self.claims: Claims = Claims()
        self.checks: list[Check] = []
        self.last_reply: Reply | None = None
        self._intents: MessageIntents | None = None
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

    def phases_reached(self) -> list[PhaseId]:
        """The phases the interview has been in, in plan order."""
        seen = {e.phase for e in self.state.phase_log}
        return [p for p in PHASE_ORDER if p in seen]

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
        idx = self._append("candidate", message)
        st = self.state
        intents = self._detector.detect(message, st.asked_topics)
        asked_before = list(st.asked_topics)
        for t in intents.facts:
            if t not in st.asked_topics:
                st.asked_topics.append(t)
        self.claims, self.checks = self._analyse(self.transcript)
        st.coverage = Coverage.build(
            self.claims,
            self.checks,
            asked_before,
            latest_topics=intents.facts,
            latest_turn=idx,
            aliases=self.plan.coverage_aliases,
        )
        for t in self._heard(intents.statements):
            if t not in st.heard:
                st.heard.append(t)
        self._intents = intents
        self._tick()
        return self._decide(intents)

    def prepare_hint(self) -> PlannedReply:
        """A hint on the open question (the last one asked, while nothing it asks about is covered), else on the
        current phase's biggest gap; each further hint on the same probe is the next, more specific one."""
        if self.state.finished:
            raise InterviewOver("the interview has finished")
        self.start()
        self._tick()
        phase = self.plan.phase(self.state.phase)
        target = self._open_probe()
        key = self.state.open_probe
        if target is None:
            target = next_probe(phase, self._covered(), self._skip())
            key = probe_key(phase.id, target.id) if target is not None else None
        if target is None or key is None:
            n = self.state.hints_used
            return PlannedReply("hint", choose(self.plan.generic_hints, self.seed, "hint", n), phase.id, keep_open=True)
        n = self.state.hints_by_probe.get(key, 0)
        text = target.hints[min(n, len(target.hints) - 1)]
        return PlannedReply("hint", text, phase.id, hint_key=key, targets=target.targets, keep_open=True)

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
        if planned.kind in ("probe", "follow_up", "challenge") and st.phase_log and planned.phase == st.phase:
            st.phase_log[-1].asked += 1
        if planned.follow_key is not None:
            st.followed_up.append(planned.follow_key)
        if planned.challenge is not None and planned.challenge not in st.challenged:
            st.challenged.append(planned.challenge)
        if planned.kind == "hint":
            st.hints_used += 1
        if planned.hint_key is not None:
            st.hints_by_probe[planned.hint_key] = st.hints_by_probe.get(planned.hint_key, 0) + 1
        if not planned.keep_open:
            st.open_probe = planned.probe
        if planned.question is not None:
            st.last_question = planned.question
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
            targets=list(planned.targets),
            intent=planned.intent,
            challenge=planned.challenge,
            check=planned.follow_key,
            source=source,
            fell_back=fell_back or replaced is not None,
            replaced=replaced,
        )
        return self.last_reply

    # --- decisions ---------------------------------------------------------------------------------------

    def _decide(self, intents: MessageIntents) -> PlannedReply:
        st, off = self.state, self.plan.off_script
        n = len(self.transcript.turns)
        if intents.end:
            return self._closing()
        if intents.has("questions_for_me") and self._at_end():
            return self._closing(off.questions_for_me.at_end, intent="questions_for_me")
        if intents.wrap_up or (st.phase == "wrap_up" and st.wrap_up_asked):
            if st.wrap_up_asked:
                return self._closing()
            self._enter("wrap_up")
            return self._wrap_up()
        if intents.has("questions_for_me"):
            lead = choose(off.questions_for_me.say, self.seed, n, "questions_for_me")
            return self._carry_on(intents, lead=lead, intent="questions_for_me")
        if intents.asks:
            return self._answer(intents)
        if intents.has("repeat"):
            return self._repeat(choose(off.repeat.say, self.seed, n, "repeat"), intent="repeat")
        if intents.has("rephrase"):
            return self._rephrase()
        if intents.has("time_left"):
            minutes = max(1, round(self.time_status().remaining_s / 60))
            text = choose(off.time_left.say, self.seed, n, "time_left").replace("{minutes}", str(minutes))
            return self._aside(text, "time_left")
        if intents.has("go_ahead"):
            if intents.raised is not None and intents.raised not in (st.phase, "wrap_up"):
                self._enter(intents.raised)
            return self._aside(choose(off.go_ahead.say, self.seed, n, "go_ahead"), "go_ahead")
        lead = choose(off.feedback.say, self.seed, n, "feedback") if intents.has("feedback") else None
        if not self._substantive(intents):
            small = [k for k in ("greeting", "how_are_you", "off_topic") if intents.has(k) or intents.short == k]
            if intents.short in ("dont_know", "pause", "thanks") and not small:
                small = [intents.short]
            if small:
                return self._small_turn(small, lead)
        return self._carry_on(intents, lead=lead, intent="feedback" if lead else None)

    def _carry_on(self, intents: MessageIntents, *, lead: str | None = None, intent: str | None = None) -> PlannedReply:
        """React to an answer: challenge what is wrong or weak, else acknowledge it and ask the next question."""
        answered = self.state.phase
        challenge = self._challenge(intents)
        if challenge is not None:
            return self._lead(challenge, lead, intent)
        planned = self._follow(intents) or self._probe()
        ack = None if planned.intent == "follow_topic" else self._acknowledge(answered)
        planned.text = _join(lead, ack, planned.text)
        planned.intent = intent or planned.intent
        return planned

    def _answer(self, intents: MessageIntents) -> PlannedReply:
        """Facts asked for, the refusal for a withheld figure, the plan's answer outside the scenario, and an
        assumption to state for anything else asked."""
        n = len(self.transcript.turns)
        topics = list(intents.facts)
        if intents.vague and not topics:  # "what is the requirement?": the facts of the topic at hand
            topics = [t for t in self.plan.phase(self.state.phase).facts if t in self._facts]
            self.state.asked_topics.extend(t for t in topics if t not in self.state.asked_topics)
        parts = [self._facts[t].answer for t in topics]
        if intents.vague and not topics:
            parts.append(choose(self.plan.assume, self.seed, n, "assume"))
        if intents.withheld:
            parts.append(choose(self.plan.cant_share, self.seed, n, "cant_share"))
        for oid in intents.outside:
            parts.append(choose(self._outside[oid].say, self.seed, n, "outside", oid))
        if intents.unknown:
            parts.append(choose(self.plan.assume, self.seed, n, "assume"))
        kind: ReplyKind = "fact" if topics else "cant_share" if intents.withheld else "assumption"
        intent = None
        if intents.withheld:
            intent = "withheld"
        elif intents.outside:
            intent = "outside:" + ",".join(intents.outside)
        elif intents.unknown and not topics:
            intent = "unknown"
        if intents.vague and not intents.facts:
            intent = intent or "vague"
        return PlannedReply(kind, _join(*parts), self.state.phase, facts=tuple(topics), intent=intent, keep_open=True)

    def _aside(self, text: str, intent: str) -> PlannedReply:
        """A reply that asks nothing new: the candidate goes on with the open question."""
        return PlannedReply("off_script", text, self.state.phase, intent=intent, keep_open=True)

    def _lead(self, planned: PlannedReply, lead: str | None, intent: str | None) -> PlannedReply:
        planned.text = _join(lead, planned.text)
        planned.intent = intent or planned.intent
        return planned

    def _small_turn(self, kinds: list[str], lead: str | None) -> PlannedReply:
        """A short message that is not an answer: "I don't know", "let me think", "thanks", or small talk ("hi",
        "how are you", the weather), each kind answered in turn, then back to the open question."""
        off = self.plan.off_script
        n = len(self.transcript.turns)
        kind = kinds[-1]
        if kind == "dont_know":
            return self._dont_know()
        if kind == "pause":
            return self._aside(choose(off.pause.say, self.seed, n, "pause"), "pause")
        if kind == "thanks" and self._at_end():
            return self._closing(intent="thanks")
        said = _join(*(choose(getattr(off, k).say, self.seed, n, k) for k in kinds))
        if self._open_probe() is not None and self.state.last_question:
            back = choose(off.back_to_question, self.seed, n, "back")
            return self._repeat(_join(lead, said, back), intent=kind)
        if self.state.last_question is None:  # nothing asked yet: the opening question stands
            return self._aside(_join(lead, said, choose(off.ready, self.seed, n, "ready")), kind)
        planned = self._probe()
        planned.text = _join(lead, said, planned.text)
        planned.intent = kind
        return planned

    def _dont_know(self) -> PlannedReply:
        """A pointer on the open question if it has had none yet (a hint asked for counts), else the next topic."""
        off = self.plan.off_script.dont_know
        n = len(self.transcript.turns)
        probe, key = self._open_probe(), self.state.open_probe
        if probe is not None and key is not None and not self.state.hints_by_probe.get(key, 0):
            lead = choose(off.say, self.seed, n, "dont_know")
            return PlannedReply(
                "off_script",
                _join(lead, probe.hints[0]),
                self.state.phase,
                hint_key=key,
                targets=probe.targets,
                intent="dont_know",
                keep_open=True,
            )
        if key is not None:
            self._give_up(key)
        planned = self._probe()
        planned.text = _join(choose(off.move_on, self.seed, n, "move_on"), planned.text)
        planned.intent = "dont_know"
        return planned

    def _give_up(self, key: str) -> None:
        """After "I don't know" twice, leave the topic: the probe and every probe of its phase that asks about
        the same things (or about what a broader probe on them asks), so "let's move on" does move on."""
        phase, probe = self.plan.probe(key)
        mine = set(probe.targets)
        near = {t for p in phase.probes if mine & set(p.targets) for t in p.targets}
        for p in phase.probes:
            k = probe_key(phase.id, p.id)
            if near & set(p.targets) and k not in self.state.given_up:
                self.state.given_up.append(k)

    def _repeat(self, lead: str, *, intent: str) -> PlannedReply:
        question = self.state.last_question or self.scenario.opening_prompt
        return PlannedReply(
            "repeat", _join(lead, question), self.state.phase, intent=intent, question=question, keep_open=True
        )

    def _rephrase(self) -> PlannedReply:
        """The open question in another of its phrasings (or its first hint, if it has no other)."""
        off = self.plan.off_script
        n = len(self.transcript.turns)
        probe = self._open_probe()
        last = self.state.last_question or ""
        if probe is None:
            return self._repeat(choose(off.repeat.say, self.seed, n, "repeat"), intent="rephrase")
        others = [p for p in probe.phrasings if p not in last] or [probe.hints[0]]
        question = choose(others, self.seed, n, "rephrase")
        lead = choose(off.rephrase.say, self.seed, n, "rephrase_lead")
        return PlannedReply(
            "repeat",
            _join(lead, question),
            self.state.phase,
            targets=probe.targets,
            intent="rephrase",
            question=question,
            keep_open=True,
        )

    def _substantive(self, intents: MessageIntents) -> bool:
        """The message is an answer: it brought a claim, or it is too long to be small talk."""
        latest = len(self.transcript.turns) - 1
        if intents.words > self.plan.off_script.max_words:
            return True
        claims = self.claims
        return any(c.turn == latest for c in (*claims.concepts, *claims.numbers, *claims.strategies, *claims.questions))

    def _at_end(self) -> bool:
        """Nothing is left to ask: wrap-up time, or every phase done or without an open question."""
        st = self.state
        if st.wrap_up_asked or st.phase == "wrap_up" or self.elapsed() >= self._wrap_at():
            return True
        return all(self._phase_done(self.plan.phase(p)) for p in PHASE_ORDER[:-1])

    # --- challenges --------------------------------------------------------------------------------------

    def _challenge(self, intents: MessageIntents) -> PlannedReply | None:
        """The first of: a misconception, an incorrect figure to walk through, a weak claim (these two unless the
        time left is needed for the phases not yet visited); none in wrap-up."""
        if self.state.phase == "wrap_up":
            return None
        st, ch = self.state, self._challenger
        n, latest = len(self.transcript.turns), len(self.transcript.turns) - 1
        found = ch.misconception(self.claims, latest, st.challenged, self.seed, n)
        if found is None and not (self._served(st.phase) and self._short_of_time()):  # these give way to phases ahead
            found = ch.follow_up(self.claims, self.checks, latest, st.followed_up, self.seed, n)
            found = found or ch.weak_claim(intents.statements, st.challenged, self.seed, n)
        if found is None:
            return None
        if found.kind == "follow_up":
            return PlannedReply("follow_up", found.text, st.phase, follow_key=found.key, question=found.text)
        return PlannedReply("challenge", found.text, st.phase, challenge=found.key, question=found.text)

    # --- questions ---------------------------------------------------------------------------------------

    def _skip(self) -> list[str]:
        """Probes not to ask: asked already, or given up."""
        return [*self.state.asked_probes, *self.state.given_up]

    def _covered(self) -> frozenset[str]:
        """What not to ask about: the claims' coverage, and the targets the candidate's words settled."""
        return self.state.coverage.targets() | set(self.state.heard)

    def _heard(self, statements: list[str]) -> list[str]:
        return [t for t, rx in self._heard_rx if any(rx.search(s) for s in statements)]

    def _open_probe(self) -> Probe | None:
        """The probe last asked, if the candidate has not answered it and nothing it asks about is covered."""
        key = self.state.open_probe
        if key is None:
            return None
        _, probe = self.plan.probe(key)
        return probe if is_open(probe, self._covered()) else None

    def _asked_in(self, phase: Phase) -> int:
        return sum(k.startswith(phase.id + "/") for k in self.state.asked_probes)

    def _phase_done(self, phase: Phase) -> bool:
        st = self.state
        if phase.id == "wrap_up":
            return False
        if phase.id in st.done_phases:
            return True
        if self._asked_in(phase) >= phase.max_probes:
            return True
        if phase.id == st.phase and self._served(phase.id) and self._short_of_time():
            return True
        return next_probe(phase, self._covered(), self._skip()) is None

    def _served(self, phase: PhaseId) -> bool:
        """The phase has had a question of its own (a probe, a follow-up or a challenge asked while in it)."""
        return any(e.phase == phase and e.asked for e in self.state.phase_log)

    def _short_of_time(self) -> bool:
        """At the pace of the answers so far, the time left before the wrap-up only gives one question to each
        phase still ahead: the current phase, having had one, makes way for them."""
        st = self.state
        answers = sum(t.role == "candidate" for t in self.transcript.turns)
        el = self.elapsed()
        if answers < 2 or el <= 0:
            return False
        ahead = [p for p in PHASE_ORDER[:-1] if p != st.phase and p not in st.done_phases and not self._served(p)]
        turns_left = (self._wrap_at() - el) / (el / answers)
        return turns_left <= len(ahead)

    def _probe(self) -> PlannedReply:
        """The current phase's biggest open gap; a phase with nothing open, or with its questions asked, is left
        for the next one that is not done; when none is left, the wrap-up."""
        st = self.state
        n = len(self.transcript.turns)
        while True:
            phase = self.plan.phase(st.phase)
            if phase.id == "wrap_up":
                return self._wrap_up()
            probe = None if self._phase_done(phase) else next_probe(phase, self._covered(), self._skip())
            if probe is None:
                self._leave(phase.id)
                continue
            key = probe_key(phase.id, probe.id)
            question = choose(probe.phrasings, self.seed, n, key)
            text = question
            if self._first_since_entry() and phase.intro:
                text = _join(choose(phase.intro, self.seed, n, phase.id, "intro"), question)
            return PlannedReply("probe", text, phase.id, probe=key, targets=probe.targets, question=question)

    def _follow(self, intents: MessageIntents) -> PlannedReply | None:
        """A question on the topic the candidate just moved to, when that is another phase's: named ("let's talk
        about failures") or covered by the answer more than the current phase was. A candidate who dives into the
        design before asking anything is first asked what they would clarify."""
        st = self.state
        current = self.plan.phase(st.phase)
        if current.id == "wrap_up":
            return None
        first_clarify = current.id == "clarification" and intents.raised is None and self._asked_in(current) == 0
        if first_clarify and not self._phase_done(current):
            return None
        new = st.coverage.new
        counts: dict[PhaseId, int] = {}
        for t in new:
            for pid in self.plan.phases_of(t):
                counts[pid] = counts.get(pid, 0) + 1
        here = counts.pop(current.id, 0)
        target: PhaseId | None = intents.raised if intents.raised != current.id else None
        if target is None and counts:
            best = max(counts.values())
            if best >= self.plan.follow_min_new and best > here:
                target = next(p for p in PHASE_ORDER if counts.get(p) == best)
        if target is None or target == "wrap_up":
            return None
        phase = self.plan.phase(target)
        if self._phase_done(phase):
            return None
        probe = next_probe(phase, self._covered(), self._skip())
        if probe is None:
            return None
        self._enter(target)
        n = len(self.transcript.turns)
        key = probe_key(phase.id, probe.id)
        question = choose(probe.phrasings, self.seed, n, key)
        if intents.raised == target:  # named: the phase's own opening
            lead = choose(phase.intro, self.seed, n, phase.id, "intro") if phase.intro else None
            intent = "raise_topic"
        else:
            lead = choose(self.plan.follow_topic, self.seed, n, "follow").replace("{topic}", phase.area)
            intent = "follow_topic"
        return PlannedReply(
            "probe", _join(lead, question), phase.id, probe=key, targets=probe.targets, question=question, intent=intent
        )

    def _acknowledge(self, answered: PhaseId) -> str | None:
        """What the answer just covered, in the plan's words: the group closest to the question it answered."""
        new = self.state.coverage.said
        if not new:
            return None
        acks = self.plan.acknowledgements
        mine = set(self.plan.phase(answered).targets)
        n = len(self.transcript.turns)
        groups = [g for g in acks.topics if any(t in new for t in g.targets)]
        if not groups:
            return choose(acks.other, self.seed, n, "ack")
        near = [g for g in groups if any(t in new and t in mine for t in g.targets)] or groups
        best = max(near, key=lambda g: sum(t in new for t in g.targets))  # the first of the largest
        return choose(best.say, self.seed, n, "ack", best.targets[0])

    def _wrap_up(self) -> PlannedReply:
        if self.state.wrap_up_asked:
            return self._closing()
        n = len(self.transcript.turns)
        text = choose(self.plan.wrap_up, self.seed, n, "wrap_up")
        return PlannedReply("wrap_up", text, "wrap_up", question=text)

    def _closing(self, options: list[str] | None = None, *, intent: str | None = None) -> PlannedReply:
        n = len(self.transcript.turns)
        text = choose(options or self.plan.closing, self.seed, n, "closing")
        return PlannedReply("closing", text, self.state.phase, intent=intent)

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
            self._leave(st.phase)

    def _wrap_at(self) -> float:
        return (self.plan.budget_minutes - self.plan.phase("wrap_up").minutes) * 60

    def _first_since_entry(self) -> bool:
        """No question asked since the current phase was entered (its intro is due)."""
        return not self.state.phase_log or self.state.phase_log[-1].asked == 0

    def _leave(self, phase: PhaseId) -> None:
        """Done with `phase`: on to the first phase in plan order that is not done (the wrap-up last)."""
        st = self.state
        if phase != "wrap_up" and phase not in st.done_phases:
            st.done_phases.append(phase)
        nxt = next((p for p in PHASE_ORDER[:-1] if p not in st.done_phases), "wrap_up")
        self._enter(nxt)

    def _enter(self, phase: PhaseId) -> None:
        """Start `phase` now. Its time is the plan's, scaled down when the interview is behind schedule so that
        the phases not yet done share what is left before wrap-up in the plan's proportions."""
        if phase == self.state.phase:
            return
        el = self.elapsed()
        planned = self.plan.phase(phase).minutes * 60
        if phase == "wrap_up":
            budget = max(0.0, self.plan.budget_minutes * 60 - el)
        else:
            ahead = [p for p in PHASE_ORDER[:-1] if p not in self.state.done_phases and p != self.state.phase]
            ahead = ahead if phase in ahead else [*ahead, phase]
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
