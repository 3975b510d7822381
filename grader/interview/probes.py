"""The interviewer's plan as validated data (rubric/interview.yaml), and the choices made from it.

- `next_probe()`: the open probe of a phase with the biggest gap. A probe is open while none of what it asks
  about is covered: the interviewer never asks about something the candidate has already said.
- `choose()`: one phrasing among several, picked by an RNG seeded from (seed, turn, key) so an interview is
  reproducible for a seed and a resumed session picks the same way as the original would have.

Targets are namespaced strings: `concept:kv_cache`, `question:interconnect`, `quantity:kv_total`. An entry
"kind:a|b" is covered by either. Every sentence the interviewer may say lives in the plan; a phrasing may only
use the placeholders its field allows (`{figure}` in follow-ups, `{topic}` where a topic label goes,
`{minutes}` in the time answer), so a stray brace is a load error, not a broken reply.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from grader.datafile import load_yaml_model
from grader.paths import RUBRIC_DIR

INTERVIEW_FILE = RUBRIC_DIR / "interview.yaml"

PhaseId = Literal[
    "clarification",
    "parallelism_memory",
    "communication",
    "fault_tolerance",
    "memory_management",
    "operations",
    "wrap_up",
]
PHASE_ORDER: tuple[PhaseId, ...] = get_args(PhaseId)

CONCEPT_IDS = frozenset(
    [
        "tensor_parallelism",
        "pipeline_parallelism",
        "data_parallelism",
        "hybrid_parallelism",
        "allreduce",
        "nvlink",
        "infiniband",
        "pcie",
        "kv_cache",
        "paged_attention",
        "kv_cache_sharding",
        "int8_quantization",
        "flash_attention",
        "heartbeats",
        "cuda_errors",
        "replica_failover",
        "reconfiguration",
        "checkpoint_restart",
        "kv_snapshots",
        "request_state_preservation",
        "graceful_degradation",
        "rto_rpo",
        "per_gpu_metrics",
        "queue_depth",
        "distributed_tracing",
        "staged_rollout",
        "autoscaling",
        "comm_compute_overlap",
        "topology_aware_placement",
        "nccl_tuning",
        "continuous_batching",
    ]
)
"""Concept ids a phase may target (the rubric's vocabulary, as agreed; this module does not read the rubric)."""
QUANTITY_NAMES = frozenset(
    [
        "weights_total",
        "weights_per_gpu",
        "kv_total",
        "kv_per_gpu",
        "tp_volume_per_step",
        "tp_comm_time",
        "decode_latency",
    ]
)
"""Numeric quantities a phase may target (names of grader.calculator.reference())."""

TARGET_KINDS = ("concept", "question", "quantity")

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}|[{}]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _placeholders(texts: Iterable[str], allowed: Iterable[str] = (), *, where: str = "") -> None:
    ok = set(allowed)
    for t in texts:
        for m in _PLACEHOLDER.finditer(t):
            if m.group(1) is None or m.group(1) not in ok:
                names = ", ".join(f"{{{a}}}" for a in sorted(ok)) or "none"
                raise ValueError(f"{where or 'phrasing'} has a placeholder it may not use (allowed: {names}): {t!r}")


def _compile_all(patterns: Iterable[str], where: str) -> None:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as e:
            raise ValueError(f"{where}: bad regular expression {p!r}: {e}") from None


def _split(targets: Iterable[str]) -> set[str]:
    """Every single "kind:id" named by `targets` ("kind:a|b" names two)."""
    out = set()
    for t in targets:
        kind, ids = t.split(":", 1)
        out |= {f"{kind}:{i}" for i in ids.split("|")}
    return out


def _check_target(target: str) -> None:
    kind, _, ids = target.partition(":")
    if kind not in TARGET_KINDS or not ids:
        raise ValueError(f"target {target!r} must be kind:id with kind one of {', '.join(TARGET_KINDS)}")
    known = {"concept": CONCEPT_IDS, "quantity": QUANTITY_NAMES}.get(kind)
    unknown = sorted(set(ids.split("|")) - known) if known is not None else []
    if unknown:
        raise ValueError(f"unknown {kind} id(s) in {target!r}: {', '.join(unknown)}")


class _Targets(_Strict):
    """What a phase or probe wants to hear. An entry "a|b" is covered by either a or b."""

    concepts: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    quantities: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_ids(self) -> _Targets:
        for t in self.targets:
            _check_target(t)
        return self

    @property
    def targets(self) -> tuple[str, ...]:
        return (
            *(f"concept:{c}" for c in self.concepts),
            *(f"question:{q}" for q in self.questions),
            *(f"quantity:{q}" for q in self.quantities),
        )


class Probe(_Targets):
    """One question of a phase, about its targets. It is asked only while none of them is covered."""

    id: str
    phrasings: list[str] = Field(min_length=1)
    hints: list[str] = Field(min_length=1, description="in order: each further hint on the same probe is more specific")

    @model_validator(mode="after")
    def _plain_text(self) -> Probe:
        _placeholders([*self.phrasings, *self.hints], where=f"probe {self.id}")
        if not self.targets:
            raise ValueError(f"probe {self.id!r} covers nothing: give it concepts, questions or quantities")
        return self


class Phase(_Targets):
    id: PhaseId
    title: str
    area: str = Field(description="how the interviewer names the phase's subject ('failures')")
    minutes: PositiveFloat
    max_probes: PositiveInt = Field(3, description="planned questions asked in the phase before it moves on")
    intro: list[str] = Field(default_factory=list, description="said before the phase's first probe")
    cues: list[str] = Field(
        default_factory=list, description="words that name the phase's area, for 'let's talk about ...' (regex)"
    )
    facts: list[str] = Field(
        default_factory=list, description="scenario fact topics a vague question in this phase asks for"
    )
    probes: list[Probe] = Field(default_factory=list)

    @model_validator(mode="after")
    def _probes_within_phase(self) -> Phase:
        _placeholders([*self.intro, self.area], where=f"phase {self.id} intro")
        _compile_all(self.cues, f"phase {self.id} cues")
        ids = [p.id for p in self.probes]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate probe id in phase {self.id}")
        mine = _split(self.targets)
        for p in self.probes:
            extra = sorted(_split(p.targets) - mine)
            if extra:
                raise ValueError(f"probe {p.id!r} targets {', '.join(extra)}, not listed for phase {self.id}")
        return self


class Acknowledgement(_Strict):
    """A short, neutral acknowledgement of what an answer covered (any of `targets`), in the interviewer's words."""

    targets: list[str] = Field(min_length=1)
    say: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> Acknowledgement:
        for t in self.targets:
            _check_target(t)
        _placeholders(self.say, where="acknowledgement")
        return self


class Acknowledgements(_Strict):
    topics: list[Acknowledgement] = Field(default_factory=list, description="first match wins")
    other: list[str] = Field(min_length=1, description="when the answer covered something no group names")

    @model_validator(mode="after")
    def _valid(self) -> Acknowledgements:
        _placeholders(self.other, where="acknowledgements.other")
        return self


class WeakClaim(_Strict):
    """A hand-wave the rubric does not name as a misconception ("Kubernetes will scale it automatically"), found
    in a statement of the candidate's last message, and the question that challenges it."""

    id: str
    patterns: list[str] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list, description="the same sentence says enough to drop it")
    phrasings: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> WeakClaim:
        _compile_all([*self.patterns, *self.unless], f"weak claim {self.id}")
        _placeholders(self.phrasings, where=f"weak claim {self.id}")
        return self


class Challenges(_Strict):
    max: NonNegativeInt = Field(4, description="misconceptions and weak claims challenged per interview")
    misconceptions: dict[str, list[str]] = Field(
        default_factory=dict, description="misconception id (the rubric's) -> questions that challenge it"
    )
    misconception_other: list[str] = Field(min_length=1, description="for a misconception not listed above")
    weak_claims: list[WeakClaim] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> Challenges:
        for mid, texts in self.misconceptions.items():
            if not texts:
                raise ValueError(f"misconception {mid!r} has no phrasing")
            _placeholders(texts, where=f"misconception {mid}")
        _placeholders(self.misconception_other, ["topic"], where="misconception_other")
        ids = [w.id for w in self.weak_claims]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate weak claim id")
        return self


class Outside(_Strict):
    """A request outside the scenario (other GPUs, another model, the software stack): the answer comes from the
    scenario's facts or turns the question back as an assumption to state."""

    id: str
    patterns: list[str] = Field(min_length=1)
    say: list[str] = Field(min_length=1)
    over_facts: bool = Field(False, description="when it matches, the sentence's fact topics are not answered")

    @model_validator(mode="after")
    def _valid(self) -> Outside:
        _compile_all(self.patterns, f"outside {self.id}")
        _placeholders(self.say, where=f"outside {self.id}")
        return self


class Said(_Strict):
    """Patterns that recognise an off-script turn, and what the interviewer says to it."""

    patterns: list[str] = Field(default_factory=list)
    say: list[str] = Field(min_length=1)


class QuestionsForMe(Said):
    at_end: list[str] = Field(min_length=1, description="when nothing is left to ask: the interview closes")


class DontKnow(Said):
    move_on: list[str] = Field(min_length=1, description="said when the hint was already given: next question")


class OffScript(_Strict):
    """Turns that are not an answer. Each is recognised by its patterns (case-insensitive) in a message that
    brings no claim of its own, except the questions (repeat, rephrase, questions for me, feedback, time left,
    go ahead), which are recognised in any question sentence."""

    max_words: PositiveInt = Field(25, description="a longer message is an answer, whatever phrases it contains")
    repeat: Said
    rephrase: Said
    questions_for_me: QuestionsForMe
    feedback: Said
    time_left: Said
    go_ahead: Said
    dont_know: DontKnow
    pause: Said
    greeting: Said
    how_are_you: Said
    thanks: Said
    off_topic: Said
    back_to_question: list[str] = Field(min_length=1, description="before an open question asked again")
    ready: list[str] = Field(min_length=1, description="after small talk when nothing has been asked yet")

    @model_validator(mode="after")
    def _valid(self) -> OffScript:
        for name in type(self).model_fields:
            item = getattr(self, name)
            if isinstance(item, Said):
                _compile_all(item.patterns, f"off_script.{name}")
                texts = [*item.say, *getattr(item, "at_end", []), *getattr(item, "move_on", [])]
                _placeholders(texts, ["minutes"] if name == "time_left" else [], where=f"off_script.{name}")
        _placeholders([*self.back_to_question, *self.ready], where="off_script")
        return self


class Withheld(_Strict):
    """A question that asks the interviewer for a figure the candidate is there to work out (each pattern ties a
    request for an amount to a derived quantity). Only these get the refusal."""

    patterns: list[str] = Field(min_length=1)
    say: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> Withheld:
        _compile_all(self.patterns, "withheld")
        _placeholders(self.say, where="withheld.say")
        return self


class IntentPatterns(_Strict):
    question_cues: list[str] = Field(min_length=1)
    meta: list[str] = Field(default_factory=list)
    raise_topic: list[str] = Field(default_factory=list, description="'let's talk about', 'moving on to' (regex)")
    vague: list[str] = Field(default_factory=list, description="'what is the requirement?': the phase's facts")
    wrap_up: list[str] = Field(default_factory=list)
    end: list[str] = Field(default_factory=list)
    fillers: str = ""

    @model_validator(mode="after")
    def _compiles(self) -> IntentPatterns:
        for name in ("question_cues", "meta", "raise_topic", "vague", "wrap_up", "end"):
            _compile_all(getattr(self, name), name)
        _compile_all([self.fillers], "fillers")
        return self


class InterviewPlan(_Strict):
    budget_minutes: PositiveFloat = 45
    max_follow_ups: NonNegativeInt = 4
    phases: list[Phase]
    wrap_up: list[str] = Field(min_length=1)
    closing: list[str] = Field(min_length=1)
    assume: list[str] = Field(min_length=1, description="a question the scenario does not answer")
    follow_up: list[str] = Field(min_length=1)
    follow_topic: list[str] = Field(min_length=1, description="before a question on a topic the candidate raised")
    follow_min_new: PositiveInt = Field(
        2, description="targets of another phase an answer must newly cover to follow it"
    )
    generic_hints: list[str] = Field(min_length=1)
    quantity_labels: dict[str, str] = Field(default_factory=dict)
    topic_labels: dict[str, str] = Field(default_factory=dict, description="target -> how the interviewer names it")
    coverage_aliases: dict[str, list[str]] = Field(
        default_factory=dict,
        description="what else covers a plan target: 'kind:id' from the claims (concept, quantity, strategy) -> targets",
    )
    heard: dict[str, list[str]] = Field(
        default_factory=dict, description="target -> words that settle it for not asking (regex, statements only)"
    )
    acknowledgements: Acknowledgements
    challenges: Challenges
    outside: list[Outside] = Field(default_factory=list)
    withheld: Withheld
    fact_patterns: dict[str, list[str]] = Field(
        default_factory=dict, description="more patterns for the scenario's fact topics (regex, as in scenario.yaml)"
    )
    off_script: OffScript
    intents: IntentPatterns

    @model_validator(mode="after")
    def _shape(self) -> InterviewPlan:
        ids = tuple(p.id for p in self.phases)
        if ids != PHASE_ORDER:
            raise ValueError(f"phases must be, in order: {', '.join(PHASE_ORDER)} (got {', '.join(ids)})")
        total = sum(p.minutes for p in self.phases)
        if abs(total - self.budget_minutes) > 1e-6:
            raise ValueError(f"phase minutes add up to {total:g}, budget_minutes is {self.budget_minutes:g}")
        _placeholders([*self.wrap_up, *self.closing, *self.assume, *self.generic_hints])
        for topic, pats in self.fact_patterns.items():
            _compile_all(pats, f"fact_patterns.{topic}")
        _placeholders(self.quantity_labels.values(), where="quantity_labels")
        _placeholders(self.topic_labels.values(), where="topic_labels")
        _placeholders(self.follow_topic, ["topic"], where="follow_topic")
        for t in self.follow_up:
            if "{figure}" not in t:
                raise ValueError(f"a follow_up phrasing must use {{figure}}: {t!r}")
            _placeholders([t], ["figure"], where="follow_up")
        for t in self.topic_labels:
            _check_target(t)
        for target, pats in self.heard.items():
            _check_target(target)
            _compile_all(pats, f"heard.{target}")
        for source, targets in self.coverage_aliases.items():
            if ":" not in source:
                raise ValueError(f"coverage alias {source!r} must be kind:id")
            for t in targets:
                _check_target(t)
        return self

    @property
    def cant_share(self) -> list[str]:
        """The refusal's phrasings (only for a withheld figure)."""
        return self.withheld.say

    def phase(self, phase_id: str) -> Phase:
        return self.phases[PHASE_ORDER.index(phase_id)]  # type: ignore[arg-type]

    def next_phase(self, phase_id: str) -> PhaseId:
        i = PHASE_ORDER.index(phase_id)  # type: ignore[arg-type]
        return PHASE_ORDER[min(i + 1, len(PHASE_ORDER) - 1)]

    def phases_of(self, target: str) -> list[PhaseId]:
        """The phases that list `target` (a plan target), in order."""
        return [p.id for p in self.phases if target in p.targets]

    def probe(self, key: str) -> tuple[Phase, Probe]:
        phase_id, probe_id = key.split("/", 1)
        phase = self.phase(phase_id)
        return phase, next(p for p in phase.probes if p.id == probe_id)

    def label(self, target: str) -> str:
        """How the interviewer names a target ("tensor parallelism"); the id in words if the plan has no label."""
        if target in self.topic_labels:
            return self.topic_labels[target]
        return target.split(":", 1)[1].split("|")[0].replace("_", " ")

    def with_budget(self, minutes: float) -> InterviewPlan:
        """The same plan with every phase's minutes scaled so that they add up to `minutes`."""
        if minutes <= 0:
            raise ValueError("the time budget must be positive")
        k = minutes / self.budget_minutes
        phases = [p.model_copy(update={"minutes": p.minutes * k}) for p in self.phases]
        return self.model_copy(update={"budget_minutes": minutes, "phases": phases})


def load_plan(path: str | Path = INTERVIEW_FILE) -> InterviewPlan:
    """rubric/interview.yaml as an `InterviewPlan`; a schema error is one RubricError naming file and line."""
    return load_yaml_model(path, InterviewPlan)


@lru_cache(maxsize=1)
def default_plan() -> InterviewPlan:
    return load_plan()


def is_covered(target: str, covered: set[str] | frozenset[str]) -> bool:
    """`target` is "kind:id" or "kind:id1|id2" (either one covers it)."""
    kind, ids = target.split(":", 1)
    return any(f"{kind}:{i}" in covered for i in ids.split("|"))


def missing_targets(probe: Probe | Phase, covered: set[str] | frozenset[str]) -> list[str]:
    return [t for t in probe.targets if not is_covered(t, covered)]


def is_open(probe: Probe, covered: set[str] | frozenset[str]) -> bool:
    """A probe may be asked only while nothing it asks about is covered."""
    return not any(is_covered(t, covered) for t in probe.targets)


def open_probes(phase: Phase, covered: set[str] | frozenset[str], asked: Sequence[str]) -> list[Probe]:
    return [p for p in phase.probes if probe_key(phase.id, p.id) not in asked and is_open(p, covered)]


def next_probe(phase: Phase, covered: set[str] | frozenset[str], asked: Sequence[str]) -> Probe | None:
    """The open, unasked probe with the most targets, i.e. the biggest gap (ties: the one listed first)."""
    best: Probe | None = None
    for p in open_probes(phase, covered, asked):
        if best is None or len(p.targets) > len(best.targets):
            best = p
    return best


def probe_key(phase_id: str, probe_id: str) -> str:
    return f"{phase_id}/{probe_id}"


def choose(options: Sequence[str], seed: int, *key: object) -> str:
    """One of `options`, the same one for the same seed and key (str seeds hash with SHA-512: stable across runs)."""
    if len(options) == 1:
        return options[0]
    rng = random.Random("|".join([str(seed), *map(str, key)]))
    return rng.choice(list(options))
