"""Judge every figure a candidate states by interpretation: right if a reading its words allow explains it.

For each figure, the readings are the registry's quantities its words allow (grader/checking/readings.py), each
computed under the assumptions in force, the scenario's defaults and the configurations the candidate named,
with every legitimate convention (GB or GiB, NVLink 600 GB/s both ways or 300 each way, bubble (p-1)/m or
(p-1)/(m+p-1), all-reduce payload or ring bytes, batch 16 or 32 for the all-reduce example). Then:

- written arithmetic is redone first: "350/8 = 48 GB" is a slip even though 48 is within 10% of 43.75;
- a figure that a reading explains is `correct`, and the check names that reading and its convention (unless
  its sentence says a configuration fits in memory that does not, or the other way round);
- a latency below the physics of the configuration in view is `incorrect` whatever arithmetic produced it;
- a figure that follows from the candidate's earlier figures is right with them, or carries their error
  (`consistent_with_earlier_error`: flagged, not charged again);
- a figure is `incorrect` otherwise only when its words name the quantity; the diagnosis names what it does fit
  (grader/checking/diagnosis.py);
- anything else is `unverifiable`: a false alarm costs more than a missed error. Facts restated (80 GB,
  600 GB/s, 96 layers) are wrong only with a known way of getting them wrong; inputs (batch 16, 2 stages) and
  targets the candidate sets never are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grader.calculator import ServingConfig
from grader.checking.diagnosis import diagnose, fmt
from grader.checking.history import History, from_earlier, own_arithmetic
from grader.checking.readings import (
    APPROX_TOLERANCE,
    ARITHMETIC_TOLERANCE,
    EXACT_TOLERANCE,
    FLOOR_MARGIN,
    Reading,
    accepts,
    distance,
    readings,
    scenario,
    values,
)
from grader.claims import Assumptions, Check, NumericClaim
from grader.quantities.model import Quantity
from grader.quantities.registry import REGISTRY, memory_as_gib, of_dimension
from grader.reading.arithmetic import result_candidates
from grader.units import COUNT_NOUNS, parse_unit

__all__ = ["APPROX_TOLERANCE", "EXACT_TOLERANCE", "History", "check_claim", "check_claims", "exact_readings"]

_SLIP = 0.05  # a written result this far from its own arithmetic is a slip, not rounding
_FIT_QUANTITIES = frozenset({"per_gpu_total", "weights_plus_kv_per_gpu", "weights_per_gpu"})


@dataclass(frozen=True)
class _Unit:
    dimension: str
    factor: float
    noun: str | None


def _unit(claim: NumericClaim) -> _Unit | None:
    u = claim.unit
    if u in COUNT_NOUNS or u == "count":
        return _Unit("count", 1.0, {"tokens": "tokens", "sequences": "sequences", "heads": "heads"}.get(u))
    p = parse_unit(u)
    return _Unit(p.dimension, p.factor, None) if p is not None else None


def _candidates(claim: NumericClaim, unit: _Unit) -> list[Quantity]:
    """The readings the words allow, best first, of the figure's dimension."""
    out = []
    for qid in dict.fromkeys(([claim.quantity] if claim.quantity else []) + list(claim.alternatives)):
        q = REGISTRY.get(qid)
        if q is not None and q.dimension == unit.dimension and (unit.noun is None or q.noun in (None, unit.noun)):
            out.append(q)
    return out


def _check(claim: NumericClaim, **kw: object) -> Check:
    return Check(
        quantity=kw.pop("quantity", claim.quantity),  # type: ignore[arg-type]
        claimed=claim.value,
        unit=claim.unit,
        turn=claim.turn,
        quote=claim.quote,
        assumptions=claim.assumptions.stated(),
        **kw,  # type: ignore[arg-type]
    )


def _unverifiable(claim: NumericClaim, why: str | None, **kw: object) -> Check:
    return _check(claim, expected=kw.pop("expected", None), verdict="unverifiable", diagnosis=why, **kw)


def _arithmetic(claim: NumericClaim, unit: _Unit) -> tuple[bool, float] | None:
    """(is the written arithmetic right, its result in the claim's unit), or None when there is none."""
    if not claim.expression:
        return None
    cands = result_candidates(claim.expression, unit.factor)
    if not cands:
        return None
    slack = (1 - APPROX_TOLERANCE[0]) if claim.approx else _SLIP
    for c in cands:
        if c and abs(claim.value / c - 1) <= slack:
            return True, c
    near = [c for c in cands if c and 0.5 <= claim.value / c <= 2]
    # a result far from the figure ("32 x 2K is about 309 GB": tokens, not bytes) is not its arithmetic at all
    return (False, near[0]) if near else None


def _best(matches: list[tuple[Reading, str]], candidates: list[Quantity], base: float) -> tuple[Reading, str]:
    """The reading the words put first among those that explain the figure exactly (to 3%), else among all; the
    words pick the family, the value its member ("43.75 + 38.65 + 5 = 87.4 GB": the total with activations)."""
    exact = math.log(1 + ARITHMETIC_TOLERANCE)
    return min(
        matches, key=lambda m: (distance(base, m[0]) > exact, candidates.index(m[0].quantity), distance(base, m[0]))
    )


def _own_total(q: Quantity, cfg: ServingConfig) -> float | None:
    """What a sentence about fitting compares with the card: the figure's own quantity ("the weights are well
    under 80 GB" is about the weights), the full per-GPU total for a total."""
    vals = [v for v, *_ in values(q.id, cfg)]
    return vals[0] if vals else None


def _fits(claim: NumericClaim, q: Quantity, best: Reading) -> Check | None:
    """A right figure in a sentence that says it fits when it does not (or the reverse)."""
    if claim.claims_fit is None or q.id not in _FIT_QUANTITIES:
        return None
    total = _own_total(q, best.config)
    if total is None:
        return None
    memory = best.config.gpu_memory_bytes
    shown = claim.value * (parse_unit(claim.unit) or parse_unit("B")).factor  # type: ignore[union-attr]
    if claim.claims_fit and total > memory_as_gib(best.config):  # over even the 80 GiB nvidia-smi shows
        why = f"does not fit: {shown / 1e9:.1f} GB per GPU is over {memory / 1e9:g} GB"
    elif claim.claims_fit is False and total < memory:
        why = f"it does fit: {shown / 1e9:.1f} GB per GPU is under {memory / 1e9:g} GB"
    else:
        return None
    return _check(claim, quantity=q.id, expected=total / 1e9, verdict="incorrect", diagnosis=why)


def _fit_note(claim: NumericClaim, primary: Reading) -> str:
    """For a wrong figure whose sentence says it fits: the real figure, and that it does not."""
    if not claim.claims_fit or primary.quantity.id not in _FIT_QUANTITIES:
        return ""
    q = primary.quantity if primary.quantity.id == "weights_per_gpu" else REGISTRY["per_gpu_total"]
    total = _own_total(q, primary.config)  # a wrong total "fits": whether the real one, activations and all, does
    if total is not None and total > memory_as_gib(primary.config):
        return f"; does not fit: {total / 1e9:.1f} GB per GPU is over {primary.config.gpu_memory_bytes / 1e9:g} GB"
    return ""


def _below_floor(claim: NumericClaim, base: float, candidates: Sequence[Quantity]) -> Check | None:
    """A latency whose words pin it as per-token (or time to first token) and that beats physics: below 0.9x the
    HBM (or peak-FLOPS) floor of every configuration in view."""
    if claim.guessed or not candidates or not candidates[0].floor:
        return None
    q = candidates[0]
    floors = [r for r in readings(claim, q) if r.band]
    if not floors or base >= FLOOR_MARGIN * min(r.lo for r in floors):
        return None
    lowest = min(floors, key=lambda r: r.lo)
    weights_only = [v for v, *_ in values("decode_floor", lowest.config)] if q.id == "decode_latency" else []
    extra = f" ({fmt(min(weights_only), claim.unit)} for the weights alone)" if weights_only else ""
    return _check(
        claim,
        quantity=q.id,
        expected=lowest.lo / (parse_unit(claim.unit) or parse_unit("s")).factor,  # type: ignore[union-attr]
        verdict="incorrect",
        diagnosis=f"below the physical floor of {fmt(lowest.lo, claim.unit)}{extra}: unrealistic",
    )


_OPERAND = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*([KMGT]i?B(?:/s)?|[KMGT]b/s|ms|us|µs|s)\b")


def _wrong_operand(claim: NumericClaim, history: History) -> Check | None:
    """An operand with a unit in the figure's written arithmetic that is an earlier wrong figure of the candidate's."""
    if not claim.expression:
        return None
    for m in _OPERAND.finditer(claim.expression):
        u = parse_unit(m.group(2))
        if u is None:
            continue
        value = float(m.group(1).replace(",", "")) * u.factor
        for f in reversed(history.recent):
            if (
                f.check.verdict == "incorrect"
                and f.base
                and abs(value / f.base - 1) <= 0.01
                and not (f.check.diagnosis or "").startswith("said again")
            ):
                return f.check
    return None


def _carried(claim: NumericClaim, q: Quantity | None, root: Check) -> Check:
    expected = next((v for v, *_ in values(q.id, scenario())), None) if q is not None else None
    if root.consistent_with_earlier_error and root.diagnosis:  # name the first wrong figure, not the one between
        return _check(
            claim,
            quantity=q.id if q else claim.quantity,
            expected=None,
            verdict="incorrect",
            diagnosis=root.diagnosis,
            consistent_with_earlier_error=True,
        )
    root_q = REGISTRY.get(root.quantity or "")
    what = root_q.label.lower().replace(",", "") if root_q else "earlier figure"
    if root.expected is not None:
        why = f"premise wrong: the {what} is {root.expected:,.4g} {root.unit}, not {root.claimed:g} {root.unit}"
    else:
        why = f"follows from the earlier {root.claimed:g} {root.unit} for the {what}"
    mistake = (root.diagnosis or "").split("; expected about")[0]
    if mistake and not mistake.startswith(("expected about", "premise wrong")):
        why += f" ({mistake})"
    why += "; the arithmetic is right, the error is not counted again"
    u = parse_unit(claim.unit)
    return _check(
        claim,
        quantity=q.id if q else claim.quantity,
        expected=expected / u.factor if expected is not None and u is not None else None,
        verdict="incorrect",
        diagnosis=why,
        consistent_with_earlier_error=True,
    )


def check_claim(claim: NumericClaim, history: History | None = None) -> tuple[Check, float | None]:
    """The verdict on one figure, and its value in base units (None if its unit is unknown)."""
    history = history or History()
    unit = _unit(claim)
    if unit is None:
        return _unverifiable(claim, f"unknown unit {claim.unit!r}"), None
    base = claim.value * unit.factor
    candidates = _candidates(claim, unit)
    if claim.quantity and not candidates and REGISTRY.get(claim.quantity) is not None:
        dim = REGISTRY[claim.quantity].dimension
        return _unverifiable(claim, f"{claim.unit} does not measure a {dim} quantity"), base
    arith = _arithmetic(claim, unit)
    exact = any(
        not r.band and r.value and abs(base / r.value - 1) <= ARITHMETIC_TOLERANCE
        for q in candidates
        for r in readings(claim, q)
    )
    if arith is not None and not arith[0] and not exact:  # exactly a reading: the arithmetic was misheard, not wrong
        return _check(
            claim,
            expected=arith[1],
            verdict="incorrect",
            diagnosis=f"arithmetic slip: {claim.expression} = {arith[1]:,.4g}, not {claim.value:g}",
        ), base
    used = _wrong_operand(claim, history)
    if used is not None:  # "393 KB / 200 GB/s = 2 us" after a wrong 200 GB/s: that error carried, whatever matches
        return _carried(claim, candidates[0] if candidates else None, used), base
    pool = candidates
    if claim.bound and not claim.guessed and candidates:  # "50+ GB for the KV cache": a bound on what it names only
        pool = [q for q in candidates if q.family == candidates[0].family]
    matches = [(r, how) for q in pool for r in readings(claim, q) if (how := accepts(base, r, claim)) is not None]
    if not matches and claim.guessed and from_earlier(claim, base, candidates, history) is None:
        pool = [q for q in of_dimension(unit.dimension, unit.noun) if q not in candidates and q.kind != "band"]
        matches = [
            (r, "")
            for q in pool
            for r in readings(claim, q)
            if not r.band and r.value and abs(base / r.value - 1) <= ARITHMETIC_TOLERANCE
        ]
        candidates = [*candidates, *dict.fromkeys(r.quantity for r, _ in matches)]
    if matches and claim.guessed and all(distance(base, r) > math.log(EXACT_TOLERANCE[1]) for r, _ in matches):
        own = own_arithmetic(claim, base, unit.dimension, history)  # a loose reading loses to the candidate's sum
        if own is not None and any(c.verdict == "incorrect" for c in own):
            matches = []
    if matches:
        best, how = _best(matches, candidates, base)
        q = best.quantity
        if (
            claim.guessed
            and candidates
            and q.family != candidates[0].family
            and candidates[0].topics
            and distance(base, best) > math.log(1 + ARITHMETIC_TOLERANCE)
        ):
            # a guess whose words point to one family, matched loosely by another ("Around 90 gigs" for the
            # weights, near the weights + KV per GPU): a coincidence, not a confirmation
            return _unverifiable(claim, f"only a loose match with {q.label.lower()}", quantity=q.id), base
        scenario_value = any(v and abs(base / v - 1) <= 0.02 for v, *_ in values(q.id, scenario()))
        if q.kind == "input" and not best.band and not scenario_value:
            return _unverifiable(claim, "an input the candidate chose", quantity=q.id), base
        fit = _fits(claim, q, best)
        if fit is not None:
            return fit, base
        convention = best.describe() + (f"; {how}" if how else "")
        return _check(
            claim, quantity=q.id, expected=best.value / unit.factor, verdict="correct", convention=convention
        ), base
    floor = _below_floor(claim, base, candidates)
    if floor is not None:  # physics beats any arithmetic that arrives below it
        return floor, base
    earlier = from_earlier(claim, base, candidates, history)
    if earlier is not None:
        q, said, value = earlier
        wrong = [s for s in said if s.check.verdict == "incorrect"]
        if wrong:
            carried = _carried(claim, q, wrong[0].check)
            primary = next(iter(readings(claim, q)), None)
            note = _fit_note(claim, primary) if primary is not None else ""
            return carried.model_copy(update={"diagnosis": (carried.diagnosis or "") + note}), base
        if all(s.check.verdict == "correct" for s in said) and not q.floor:
            return _check(
                claim,
                quantity=q.id,
                expected=value / unit.factor,
                verdict="correct",
                convention=f"{q.label}: follows from your own figures",
            ), base
        return _unverifiable(claim, "follows from the candidate's own assumptions", quantity=q.id), base
    primary = next(iter(readings(claim, candidates[0])), None) if candidates else None
    known = primary is not None and not claim.guessed and diagnose(claim, base, primary, candidates)[1]
    own = None if known else own_arithmetic(claim, base, unit.dimension, history)
    if own is not None:  # a known mistake stays one, however consistently it is worked out
        wrong = [c for c in own if c.verdict == "incorrect"]
        if wrong:
            return _carried(claim, None, wrong[0]), base
        return _unverifiable(claim, "follows from the candidate's own figures"), base
    if claim.quantity is None and not candidates:
        return _unverifiable(claim, "not a quantity the checker knows"), base
    if not candidates or claim.guessed:
        return _unverifiable(claim, "the quantity is not named: the words do not say which it is"), base
    q = candidates[0]
    if q.kind == "input":
        return _unverifiable(claim, "an input the candidate chose", quantity=q.id), base
    if primary is None:
        return _unverifiable(claim, "no reading applies"), base
    missing = [
        f for f in q.needs if f not in claim.assumptions.stated() and not any(f in a.stated() for a in claim.considered)
    ]
    if missing:
        return _unverifiable(
            claim, f"no {'pipeline stages were' if missing == ['pp'] else ', '.join(missing) + ' was'} stated"
        ), base
    expected = primary.value / unit.factor
    if q.ceiling and primary.band and base < primary.lo:
        return _unverifiable(claim, "fewer than fit: conservative, not wrong", expected=expected), base
    if q.floor and primary.band and base > primary.hi:
        return _unverifiable(
            claim,
            f"pessimistic: more than 5x the floor ({fmt(primary.hi / 5, claim.unit)}), not wrong",
            expected=expected,
        ), base
    diagnosis, known = diagnose(claim, base, primary, candidates)
    if arith is not None and arith[0] and not known:
        # "5 times 80 is 400 GB ... for the weights": the arithmetic is right and its operands are no figure of
        # the candidate's known to be wrong, so it computes something other than the quantity its words suggest
        return _unverifiable(
            claim, f"the candidate's own arithmetic, right ({claim.expression}); not the {q.label.lower()}"
        ), base
    if arith is not None and arith[0]:
        diagnosis = f"premise wrong, arithmetic right: {diagnosis}"
    if q.kind == "fact" and not known:
        # a fact said differently (another GPU, a measured rate, a target of the candidate's own) is not an error
        # without a known way to have got it wrong (200 GB/s for 200 Gb/s InfiniBand)
        what = "a target the candidate set" if "target" in q.topics else "not the scenario's figure"
        return _unverifiable(claim, f"{what} ({diagnosis})", expected=expected), base
    return _check(claim, expected=expected, verdict="incorrect", diagnosis=diagnosis + _fit_note(claim, primary)), base


def exact_readings(dimension: str, noun: str | None, value: float, assumptions: Assumptions | None = None) -> list[str]:
    """The quantities whose figure a value is, within 1%, under the scenario or the assumptions in force (what a
    candidate's written arithmetic computed: "175B x 0.5 bytes = 87.5 GB" in INT4). Bands and the candidate's
    inputs are never named this way."""
    claim = NumericClaim(turn=0, quote="-", value=value, unit="B", assumptions=assumptions or Assumptions())
    out = []
    for q in of_dimension(dimension, noun):
        if q.kind in ("input", "band"):
            continue
        if any(not r.band and r.value and abs(value / r.value - 1) <= 0.01 for r in readings(claim, q)):
            out.append(q.id)
    return out


def check_claims(
    claims: Iterable[NumericClaim], history: History | None = None, out: list[Check] | None = None
) -> list[Check]:
    """Every figure's verdict, in order; later figures may follow from earlier ones. `history` and `out` (the
    checks so far) continue an earlier call on the figures before these: both grow in place."""
    history = History() if history is None else history
    out = [] if out is None else out
    for claim in claims:
        check, base = check_claim(claim, history)
        first = next(
            (
                c
                for c in out
                if c.verdict == "incorrect"
                and (c.quantity, c.claimed, c.unit) == (check.quantity, check.claimed, check.unit)
            ),
            None,
        )
        if check.verdict == "incorrect" and first is not None and not check.consistent_with_earlier_error:
            # the same wrong figure said again ("393 KB / 200 GB/s" after "200 GB/s"): one mistake, charged once
            check = check.model_copy(
                update={"consistent_with_earlier_error": True, "diagnosis": f"said again: {check.diagnosis}"}
            )
        unit = _unit(claim)
        if base is not None and unit is not None:
            history.add(check, base, unit.dimension)
        out.append(check)
    return out
