"""What a quantity is: the one definition every stage of grading reads.

A `Quantity` says what a number can state (its dimension, or the noun it counts), how a candidate names it (the
topic and scope cue tags of `grader.quantities.cues`), how to compute it from a configuration (a formula over
`ServingConfig`, the calculator doing the arithmetic), which of the configuration's fields it depends on (so the
checker varies only those: batch 16 or 32, NVLink 600 or 300 GB/s, 80 GB or 80 GiB), the mistakes that
produce a wrong value, what it is derived from (so a figure computed from an earlier wrong one is recognised),
and the rubric sub-criterion it counts in.

Kinds:
- `derived`: arithmetic from the facts and the candidate's assumptions; right or wrong.
- `fact`: a scenario fact restated (80 GB, 600 GB/s, 96 layers); right when it matches, wrong only when the
  wording pins it and it does not (200 GB/s for InfiniBand HDR).
- `input`: a choice the candidate makes (batch 16, 8 micro-batches, 2 stages); right when it is also the
  scenario's figure, otherwise unverifiable, never wrong.
- `band`: a judgement with a defensible range (activations 0.5-6 GB, a realistic per-token latency between the
  HBM floor and 5x it): inside is right, below a physical floor is wrong, above is unverifiable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from grader.calculator import ServingConfig

Dimension = Literal["bytes", "time", "rate", "fraction", "flop", "flops", "count", "throughput"]
Kind = Literal["derived", "fact", "input", "band"]


@dataclass(frozen=True)
class Band:
    """The range a defensible figure lies in (a `band` quantity's value); `typical` is what to show."""

    lo: float
    hi: float
    typical: float | None = None


Value = float | Band | list[tuple[float, str]]
"""One figure; a band; or several figures, one per legitimate convention, each with the convention's name."""


@dataclass(frozen=True)
class Mistake:
    """A known way to get a quantity wrong, recognised in a wrong figure.

    Either a ratio signature (claimed / right, e.g. 0.5 for parameters used as bytes) or a recomputation under a
    mistaken configuration (`override`, e.g. pp=1 for "divided by TP only"), which is the better diagnosis when
    the mistake's size depends on the configuration."""

    label: str
    ratio: float | None = None
    override: Mapping[str, object] | None = None
    when: Mapping[str, object] | None = None
    """The configuration the mistake is possible in (FP16's "parameters as bytes" is not INT8's)."""

    def applies(self, cfg: ServingConfig) -> bool:
        return not self.when or all(getattr(cfg, k) == v for k, v in self.when.items())

    def describe(self, cfg: ServingConfig) -> str:
        """The label with the configuration's figures put in ("divided by TP (4) only ...")."""
        return self.label.format(**cfg.model_dump())


@dataclass(frozen=True)
class Derivation:
    """How a quantity follows from others: `compute(parts, cfg)` with `parts` the values of `inputs` (quantity ids).

    The checker substitutes the candidate's own earlier figures for the parts: a figure that reproduces from
    them is consistent with what the candidate said (right if they were right, a carried-forward error if not)."""

    inputs: tuple[str, ...]
    compute: Callable[[Mapping[str, float], ServingConfig], float]


@dataclass(frozen=True, eq=False)
class Quantity:
    id: str
    label: str
    dimension: Dimension
    kind: Kind
    value: Callable[[ServingConfig], Value]
    depends: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    noun: str | None = None
    criterion: str | None = None
    mistakes: tuple[Mistake, ...] = ()
    derives_from: tuple[Derivation, ...] = ()
    floor: bool = False
    """A `band` whose low end is physics (a latency cannot beat the HBM floor): below it is wrong."""
    scoped_only: bool = False
    """A reading only where its scope is said ("100 users per GPU"), never a guess for an unscoped figure."""
    needs: tuple[str, ...] = ()
    """Assumptions that must be stated for the quantity to be judged (a bubble needs pipeline stages)."""
    default: bool = False
    """The member of its family a figure states when its words give no scope ("the weights are 175 GB": the
    total; "the all-reduce is 393 KB": the payload)."""
    ceiling: bool = False
    """A band whose high end is a limit and low end only caution: fewer than fit is conservative, not wrong."""
    strict_band: bool = False
    """A band whose high end is a limit (sequences that fit): no tolerance above it."""
    scenario_only: bool = False
    """A fact the candidate's assumptions do not change (the A100's 80 GB): evaluated on the scenario alone."""
    formula: str = ""
    group: str | None = None
    """The family, where it is not the first topic (the decode floor is named by HBM words, but is a latency)."""

    @property
    def family(self) -> str:
        """Quantities of one family share the words that name them: the first topic (kv, weights...), or for a
        count without one, the noun it counts (heads: the model's 96 and the 24 per GPU)."""
        return self.group or (self.topics[0] if self.topics else (self.noun or self.id))
