"""The interviewer's plan as validated data (rubric/interview.yaml), and the two choices made from it.

- `next_probe()`: the unasked probe of a phase with the biggest gap (most targets not yet covered).
- `choose()`: one phrasing among several, picked by an RNG seeded from (seed, turn, key) so an interview is
  reproducible for a seed and a resumed session picks the same way as the original would have.

Targets are namespaced strings: `concept:kv_cache`, `question:interconnect`, `quantity:kv_total`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, field_validator, model_validator

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

_PLACEHOLDER = re.compile(r"[{}]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _no_placeholders(texts: Iterable[str]) -> None:
    for t in texts:
        if _PLACEHOLDER.search(t):
            raise ValueError(f"phrasing has a brace, which only follow_up may use as {{figure}}: {t!r}")


def _ids(targets: list[str]) -> set[str]:
    return {i for t in targets for i in t.split("|")}


class _Targets(_Strict):
    """What a phase or probe wants to hear. An entry "a|b" is covered by either a or b."""

    concepts: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    quantities: list[str] = Field(default_factory=list)

    @field_validator("concepts")
    @classmethod
    def _known_concepts(cls, v: list[str]) -> list[str]:
        unknown = sorted(_ids(v) - CONCEPT_IDS)
        if unknown:
            raise ValueError(f"unknown concept id(s): {', '.join(unknown)}")
        return v

    @field_validator("quantities")
    @classmethod
    def _known_quantities(cls, v: list[str]) -> list[str]:
        unknown = sorted(_ids(v) - QUANTITY_NAMES)
        if unknown:
            raise ValueError(f"unknown quantity name(s): {', '.join(unknown)}")
        return v

    @property
    def targets(self) -> tuple[str, ...]:
        return (
            *(f"concept:{c}" for c in self.concepts),
            *(f"question:{q}" for q in self.questions),
            *(f"quantity:{q}" for q in self.quantities),
        )


class Probe(_Targets):
    id: str
    min_missing: int = Field(1, ge=1, description="ask only when at least this many targets are still missing")
    phrasings: list[str] = Field(min_length=1)
    hints: list[str] = Field(min_length=1, description="in order: each further hint on the same probe is more specific")

    @model_validator(mode="after")
    def _plain_text(self) -> Probe:
        _no_placeholders([*self.phrasings, *self.hints])
        if not self.targets:
            raise ValueError(f"probe {self.id!r} covers nothing: give it concepts, questions or quantities")
        return self


class Phase(_Targets):
    id: PhaseId
    title: str
    minutes: PositiveFloat
    intro: list[str] = Field(default_factory=list, description="said before the phase's first probe")
    probes: list[Probe] = Field(default_factory=list)

    @model_validator(mode="after")
    def _probes_within_phase(self) -> Phase:
        _no_placeholders(self.intro)
        ids = [p.id for p in self.probes]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate probe id in phase {self.id}")
        mine = set(self.targets)
        for p in self.probes:
            extra = sorted(set(p.targets) - mine)
            if extra:
                raise ValueError(f"probe {p.id!r} targets {', '.join(extra)}, not listed for phase {self.id}")
        return self


class IntentPatterns(_Strict):
    question_cues: list[str] = Field(min_length=1)
    meta: list[str] = Field(default_factory=list)
    repeat: list[str] = Field(default_factory=list)
    wrap_up: list[str] = Field(default_factory=list)
    end: list[str] = Field(default_factory=list)
    fillers: str = ""

    @model_validator(mode="after")
    def _compiles(self) -> IntentPatterns:
        for name in ("question_cues", "meta", "repeat", "wrap_up", "end"):
            for p in getattr(self, name):
                try:
                    re.compile(p)
                except re.error as e:
                    raise ValueError(f"{name}: bad regular expression {p!r}: {e}") from None
        try:
            re.compile(self.fillers)
        except re.error as e:
            raise ValueError(f"fillers: bad regular expression: {e}") from None
        return self


class InterviewPlan(_Strict):
    budget_minutes: PositiveFloat = 45
    max_follow_ups: NonNegativeInt = 4
    phases: list[Phase]
    wrap_up: list[str] = Field(min_length=1)
    closing: list[str] = Field(min_length=1)
    cant_share: list[str] = Field(min_length=1)
    follow_up: list[str] = Field(min_length=1)
    generic_hints: list[str] = Field(min_length=1)
    quantity_labels: dict[str, str] = Field(default_factory=dict)
    intents: IntentPatterns

    @model_validator(mode="after")
    def _shape(self) -> InterviewPlan:
        ids = tuple(p.id for p in self.phases)
        if ids != PHASE_ORDER:
            raise ValueError(f"phases must be, in order: {', '.join(PHASE_ORDER)} (got {', '.join(ids)})")
        total = sum(p.minutes for p in self.phases)
        if abs(total - self.budget_minutes) > 1e-6:
            raise ValueError(f"phase minutes add up to {total:g}, budget_minutes is {self.budget_minutes:g}")
        _no_placeholders([*self.wrap_up, *self.closing, *self.cant_share, *self.generic_hints])
        _no_placeholders(self.quantity_labels.values())
        for t in self.follow_up:
            if "{figure}" not in t or _PLACEHOLDER.search(t.replace("{figure}", "")):
                raise ValueError(f"a follow_up phrasing must use {{figure}} and no other placeholder: {t!r}")
        return self

    def phase(self, phase_id: str) -> Phase:
        return self.phases[PHASE_ORDER.index(phase_id)]  # type: ignore[arg-type]

    def next_phase(self, phase_id: str) -> PhaseId:
        i = PHASE_ORDER.index(phase_id)  # type: ignore[arg-type]
        return PHASE_ORDER[min(i + 1, len(PHASE_ORDER) - 1)]

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


def next_probe(phase: Phase, covered: set[str] | frozenset[str], asked: Sequence[str]) -> Probe | None:
    """The unasked probe with the most uncovered targets (ties: the one listed first; a probe needs at least its
    `min_missing`); None if none is open."""
    best: Probe | None = None
    best_gap = 0
    for p in phase.probes:
        if probe_key(phase.id, p.id) in asked:
            continue
        gap = len(missing_targets(p, covered))
        if gap >= p.min_missing and gap > best_gap:
            best, best_gap = p, gap
    return best


def probe_key(phase_id: str, probe_id: str) -> str:
    return f"{phase_id}/{probe_id}"


def choose(options: Sequence[str], seed: int, *key: object) -> str:
    """One of `options`, the same one for the same seed and key (str seeds hash with SHA-512: stable across runs)."""
    if len(options) == 1:
        return options[0]
    rng = random.Random("|".join([str(seed), *map(str, key)]))
    return rng.choice(list(options))
