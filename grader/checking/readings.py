"""A figure's readings: the registry's quantities its words allow, evaluated under every configuration in view.

The configurations are the one in force, the scenario's defaults where the candidate did not state otherwise
with the figure, the configurations the sentence names (what-ifs, counts its arithmetic uses) and the layouts
the candidate named anywhere. A quantity varies only the fields it depends on, so a figure is tried against a
few dozen values, not thousands. Every value is cached by (quantity, configuration).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from grader.calculator import ServingConfig
from grader.claims import NumericClaim
from grader.quantities.model import Band, Quantity
from grader.quantities.registry import REGISTRY
from grader.units import parse_unit

EXACT_TOLERANCE = (0.9, 1.1)
APPROX_TOLERANCE = (0.8, 1.25)
FACT_TOLERANCE = (0.985, 1.015)
"""A fact restated is said as it is (80 GB, 600 GB/s, ~2 TB/s), however loosely the sentence puts it."""
ARITHMETIC_TOLERANCE = 0.03
"""Arithmetic is redone to 3%: "393 KB" for 393,216 B is the same number, 48 for 43.75 is not."""
STRICT_EDGE = 1.03
"""How far above a limit's high end a figure may round (a capacity of 30.8 sequences is "about 31")."""
FLOOR_MARGIN = 0.9
MAX_CONFIGS = 64
GIB_OVER_GB = 2**30 / 1e9

_FIELD_OF = {"activation_bytes": "stated_activation_bytes"}
_OWN_ONLY = frozenset({"stated_activation_bytes", "link", "gpus_in_view"})
"""Fields where what the candidate stated replaces the scenario's figure rather than joining it."""
_RESOLVABLE = {
    "batch": (1, 4096),
    "comm_batch": (1, 1_048_576),
    "context": (128, 1_048_576),
    "prefill_tokens": (16, 1_048_576),
    "micro_batches": (1, 512),
}
"""Workload figures a candidate may fix inside their own arithmetic ("4.72 MB x 2048 x 8"): the numbers of the
figure's sentence are tried as these. Degrees and precisions are never solved for: those the candidate states."""


@dataclass(frozen=True)
class Reading:
    """One quantity's value under one configuration and one convention."""

    quantity: Quantity
    value: float
    lo: float
    hi: float
    band: bool
    convention: str
    config: ServingConfig

    def describe(self) -> str:
        where = describe_config(self.quantity, self.config)
        return f"{self.quantity.label}: {self.convention}" + (f" ({where})" if where else "")


@lru_cache(maxsize=1)
def scenario() -> ServingConfig:
    return ServingConfig.from_scenario()


def describe_config(q: Quantity, cfg: ServingConfig) -> str:
    """The parts of a configuration a quantity depends on, as a reader would say them."""
    base = scenario()
    parts = []
    if {"tp", "pp"} & set(q.depends):
        parts.append(f"TP{cfg.tp} x PP{cfg.pp}" if cfg.pp > 1 else f"TP{cfg.tp}")
    names = {
        "weight_precision": "weights",
        "kv_precision": "KV",
        "batch": "sequences",
        "context": "tokens of context",
        "comm_batch": "sequences per step",
        "micro_batches": "micro-batches",
        "prefill_tokens": "prompt tokens",
        "kv_heads": "KV heads",
    }
    for f, label in names.items():
        if f in q.depends:
            v = getattr(cfg, f)
            if f.endswith("precision"):
                parts.append(f"{str(v).upper()} {label}")
            elif v != getattr(base, f) or f in ("batch", "comm_batch"):
                parts.append(f"{v} {label}")
    if "stated_activation_bytes" in q.depends and cfg.stated_activation_bytes is not None:
        parts.append(f"{cfg.stated_activation_bytes / 1e9:g} GB activations")
    if "link" in q.depends and cfg.link != "nvlink":
        parts.append({"ib": "over InfiniBand", "pcie": "over PCIe"}[cfg.link])
    return ", ".join(parts)


def _numbers(claim: NumericClaim) -> list[float]:
    """The numbers of the figure's written arithmetic ("4.72 MB x 2048 x 8")."""
    out: list[float] = []
    if claim.expression:
        import re

        for m in re.finditer(r"\d[\d,]*(?:\.\d+)?", claim.expression):
            try:
                out.append(float(m.group(0).replace(",", "")))
            except ValueError:
                continue
    return out


def _options(claim: NumericClaim, q: Quantity) -> dict[str, list[object]]:
    """For each field the quantity depends on, the values to try, the one in force first.

    A field stated with the figure holds; one carried over from earlier sentences (or not stated) also admits
    the scenario's value; the sentence's what-ifs and numbers add theirs."""
    base = scenario()
    stated = {_FIELD_OF.get(k, k): v for k, v in claim.assumptions.stated().items()}
    inherited = {_FIELD_OF.get(k, k) for k in claim.inherited}
    considered = [{_FIELD_OF.get(k, k): v for k, v in a.stated().items()} for a in claim.considered]
    numbers = _numbers(claim)
    opts: dict[str, list[object]] = {}
    for f in q.depends:
        if f in ("tp", "pp"):
            continue
        vals: list[object] = [stated[f]] if f in stated else []
        if f not in stated or (f in inherited and f not in _OWN_ONLY):
            vals.append(getattr(base, f))
        vals += [c[f] for c in considered if f in c]
        if f in _RESOLVABLE:
            lo, hi = _RESOLVABLE[f]
            vals += [int(n) for n in numbers if n == int(n) and lo <= n <= hi]
        if f == "comm_batch" and "comm_batch" not in stated:
            vals += [32, stated.get("batch", 32)]  # the rubric's example batch (16, the default) and the workload's
        if f == "prefill_tokens" and "prefill_tokens" not in stated:
            vals += [1024, 1000, 2048]  # the scenario's ~1K prompts, or a full context
        if (
            f == "context"
            and q.family == "kv"
            and "context" not in stated
            and not any("context" in c for c in considered)
        ):
            vals.append(1024)  # the prompt alone, when the candidate did not say how full the cache is
        opts[f] = list(dict.fromkeys(v for v in vals if v is not None)) or [getattr(base, f)]
    if {"tp", "pp"} & set(q.depends):
        layouts = []
        if "tp" in stated or "pp" in stated:
            layouts.append((int(stated.get("tp", base.tp if "pp" not in stated else 1)), int(stated.get("pp", 1))))
        layouts += [(int(c.get("tp", 1)), int(c.get("pp", 1))) for c in considered if "tp" in c or "pp" in c]
        if not layouts or {"tp", "pp"} & inherited:
            layouts.append((base.tp, base.pp))
        opts["layout"] = list(dict.fromkeys(layouts))
    return opts


def configs_for(claim: NumericClaim, q: Quantity) -> list[ServingConfig]:
    """The configurations a quantity is evaluated under for this figure, the one in force first."""
    base = scenario()
    if q.scenario_only or not q.depends:
        return [base]
    opts = _options(claim, q)
    keys = list(opts)
    out = []
    for combo in itertools.islice(itertools.product(*(opts[k] for k in keys)), MAX_CONFIGS):
        update: dict[str, object] = {}
        for k, v in zip(keys, combo, strict=True):
            if k == "layout":
                update["tp"], update["pp"] = v  # type: ignore[misc]
            else:
                update[k] = v
        out.append(config(base, tuple(sorted(update.items()))))
    return out


@lru_cache(maxsize=4096)
def config(base: ServingConfig, update: tuple[tuple[str, object], ...]) -> ServingConfig:
    return base.model_copy(update=dict(update))


@lru_cache(maxsize=65536)
def values(qid: str, cfg: ServingConfig) -> tuple[tuple[float, float, float, bool, str], ...]:
    """(value, low, high, band?, convention) of one quantity under one configuration; () where undefined."""
    q = REGISTRY[qid]
    try:
        v = q.value(cfg)
    except (ZeroDivisionError, ValueError, KeyError, TypeError):
        return ()
    if isinstance(v, Band):
        typical = v.typical if v.typical is not None else v.hi
        return ((typical, v.lo, v.hi, True, q.formula or "defensible range"),)
    if isinstance(v, list):
        return tuple((float(x), float(x), float(x), False, label) for x, label in v)
    return ((float(v), float(v), float(v), False, q.formula or q.label),)


_READINGS: dict[tuple[object, ...], tuple[Reading, ...]] = {}
_READINGS_SIZE = 2048  # a grade asks for a few hundred; a batch worker must not grow


def readings(claim: NumericClaim, q: Quantity) -> Iterator[Reading]:
    # memoised by what configs_for() reads of the claim: the checker asks for the same readings many times
    key = (q, claim.assumptions, tuple(claim.inherited), tuple(claim.considered), claim.expression)
    hit = _READINGS.get(key)
    if hit is None:
        hit = tuple(
            Reading(q, value, lo, hi, band, label, cfg)
            for cfg in configs_for(claim, q)
            for value, lo, hi, band, label in values(q.id, cfg)
        )
        if len(_READINGS) >= _READINGS_SIZE:
            _READINGS.clear()
        _READINGS[key] = hit
    return iter(hit)


def tolerance(claim: NumericClaim) -> tuple[float, float]:
    return APPROX_TOLERANCE if claim.approx else EXACT_TOLERANCE


def _byte_twins(claim: NumericClaim, base: float) -> list[tuple[float, str]]:
    """The figure read with the other byte convention, both ways ("326 GB" for the 326 GiB it is; "350 GiB"
    for the 350 GB it is): GB and GiB are both in use, and a candidate mixes their labels."""
    u = parse_unit(claim.unit)
    if u is None or u.dimension != "bytes" or u.bits or u.factor < 5e8:  # GB/GiB and TB/TiB: sizes said loosely
        return []
    twin = GIB_OVER_GB if u.factor < 5e11 else 2**40 / 1e12
    return [(base * twin, "a GiB figure labelled GB"), (base / twin, "a GB figure labelled GiB")]


def accepts(base: float, r: Reading, claim: NumericClaim) -> str | None:
    """Whether a reading explains a figure (with its tolerance and bound): None if not, else "" or the name of
    the unit convention it needed ("a GiB figure labelled GB"), whichever is the closer reading."""
    if _bits_for_bytes(claim, r):
        return None
    inside = [(distance(base, r), "")] if _inside(base, r, claim) else []
    if claim.bound is None:  # a unit mixed up is a precise figure in the other unit, not a loose one on top of it
        exact = FACT_TOLERANCE[1] - 1 if r.quantity.kind == "fact" else ARITHMETIC_TOLERANCE
        inside += [(d, how) for v, how in _byte_twins(claim, base) if (d := distance(v, r)) <= math.log(1 + exact)]
    return min(inside)[1] if inside else None


def _bits_for_bytes(claim: NumericClaim, r: Reading) -> bool:
    """A memory size is never said in bits: "350 Gb" of weights is a unit slip, whatever it matches."""
    u = parse_unit(claim.unit)
    return bool(u and u.bits and r.quantity.dimension == "bytes")


def _inside(claimed: float, r: Reading, claim: NumericClaim) -> bool:
    lo_t, hi_t = FACT_TOLERANCE if r.quantity.kind == "fact" and not r.band else tolerance(claim)
    if "floor" in r.quantity.topics:  # a physical floor is not beaten by saying "about"
        lo_t = max(lo_t, FLOOR_MARGIN)
    # a bound confirms what its words name ("50+ GB for the KV cache", "under 1 ms of all-reduce"); a bound whose
    # quantity is a guess ("under 4 percent waste") confirms nothing it happens to lie above or below
    if claim.bound == "lower" and not claim.guessed:  # "50+ GB": the truth is at least about 50
        return r.hi >= claimed * lo_t
    if claim.bound == "upper" and not claim.guessed:  # "under 1 ms": the truth is at most about 1
        return r.lo <= claimed * hi_t
    if r.band:
        lo = r.lo * (FLOOR_MARGIN if r.quantity.floor else lo_t)
        hi = r.hi * (STRICT_EDGE if r.quantity.strict_band else hi_t)
    else:
        lo, hi = sorted((r.value * lo_t, r.value * hi_t))
    if claimed == 0 or r.value == 0:
        return claimed == r.value
    return lo <= claimed <= hi


def distance(claimed: float, r: Reading) -> float:
    """|ln(claimed / reading)|; 0 inside a band."""
    if r.band and r.lo <= claimed <= r.hi:
        return 0.0
    target = r.value if not r.band else (r.lo if claimed < r.lo else r.hi)
    if claimed <= 0 or target <= 0:
        return math.inf if claimed != target else 0.0
    return abs(math.log(claimed / target))
