"""What a wrong figure does fit: the lesson a candidate takes from the scorecard.

In order: a unit said in bits for a size; a known mistake of the quantity (a recomputation under the mistaken
configuration, or a ratio signature, all of those an ambiguous ratio fits); the same quantity under another
precision or link than the one in force ("155 GB is the KV cache at INT8; you assumed FP16"); a neighbouring
quantity of its family (the per-step volume called per token); a slip of a thousand in the unit. A diagnosis
that only names the expected value is not a known mistake, and for a restated fact it is not enough to call the
figure wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.checking.readings import APPROX_TOLERANCE, Reading, config, readings, values
from grader.claims import NumericClaim
from grader.quantities.model import Quantity
from grader.quantities.registry import of_dimension
from grader.units import UNITS, parse_unit

SIGNATURE_TOLERANCE = 0.05
_PRECISIONS = ("fp16", "int8", "fp8", "int4", "fp32")
_LINKS = {"pcie": "over PCIe", "ib": "over InfiniBand"}
_BIGGER = {"B": "KB", "KB": "MB", "MB": "GB", "GB": "TB", "us": "ms", "ms": "s", "KiB": "MiB", "MiB": "GiB"}
_SMALLER = {v: k for k, v in _BIGGER.items()}


def fmt(value_base: float, unit: str) -> str:
    u = parse_unit(unit)
    factor = u.factor if u is not None else 1.0
    return f"{value_base / factor:,.4g} {unit}"


def diagnose(claim: NumericClaim, base: float, primary: Reading, candidates: Sequence[Quantity]) -> tuple[str, bool]:
    """(what the figure fits, whether that is a known mistake rather than only the expected value)."""
    q = primary.quantity
    expected = fmt(primary.value, claim.unit)
    ratio = base / primary.value if primary.value else None
    sig_tol = max(SIGNATURE_TOLERANCE, 1 - APPROX_TOLERANCE[0]) if claim.approx else SIGNATURE_TOLERANCE
    u = parse_unit(claim.unit)
    if u is not None and u.bits and q.dimension == "bytes":
        bytes_unit = claim.unit[:-1] + "B"
        if ratio and abs(ratio * 8 - 1) <= 0.1:
            return f"unit slip: {claim.unit} is bits; the figure is right in bytes ({bytes_unit})", True
        return f"unit slip: {claim.unit} is bits, and sizes are bytes; expected about {expected}", True
    for cand in candidates:
        for m in cand.mistakes:
            if m.override is not None and m.applies(primary.config):
                cfg = config(primary.config, tuple(sorted(m.override.items())))
                if any(v and abs(base / v - 1) <= 0.1 for v, *_ in values(cand.id, cfg)):
                    return f"{m.describe(primary.config)}; expected about {expected}", True
    signatures = [
        m.describe(primary.config)
        for cand in candidates[:1]
        for m in cand.mistakes
        if m.ratio is not None and m.applies(primary.config) and ratio and abs(ratio / m.ratio - 1) <= sig_tol
    ]
    if signatures:
        return f"{' or '.join(dict.fromkeys(signatures))}; expected about {expected}", True
    if "floor" in q.topics and ratio and ratio < 0.9:
        return f"below the physical floor of {expected}", True
    other = _other_assumption(base, q, primary)
    if other:
        return f"{other}; expected about {expected}", True
    for sib in of_dimension(q.dimension, q.noun):
        if sib in candidates or sib.kind == "input" or sib.scenario_only or sib.family != q.family:
            continue
        if any(not r.band and r.value and abs(base / r.value - 1) <= 0.1 for r in readings(claim, sib)):
            return f"that is the {sib.label.lower()}, not the {q.label.lower()}; expected about {expected}", True
    if ratio and q.kind != "fact":
        for factor, units in ((1e-3, _BIGGER), (1e3, _SMALLER)):
            if abs(ratio / factor - 1) <= SIGNATURE_TOLERANCE and claim.unit in units and units[claim.unit] in UNITS:
                return f"unit slip (x1000): {claim.value:g} is right in {units[claim.unit]}, not {claim.unit}", True
        for factor, what in ((8, "bits and bytes mixed (x8)"), (1 / 8, "bits and bytes mixed (/8)")):
            if abs(ratio / factor - 1) <= SIGNATURE_TOLERANCE:
                return f"{what}; expected about {expected}", True
    return f"expected about {expected}", False


def _other_assumption(base: float, q: Quantity, primary: Reading) -> str | None:
    """The same quantity under another precision or link than the one in force (for a figure, not a range:
    some precision always lands in a range somewhere)."""
    cfg = primary.config
    for f in ("kv_precision", "weight_precision"):
        if f not in q.depends or q.kind == "band":
            continue
        for p in _PRECISIONS:
            if p == getattr(cfg, f):
                continue
            if any(v and abs(base / v - 1) <= 0.05 for v, *_ in values(q.id, config(cfg, ((f, p),)))):
                what = "KV" if f == "kv_precision" else "weights"
                return (
                    f"that is the {q.label.lower()} with {p.upper()} {what}; in force: {str(getattr(cfg, f)).upper()}"
                )
    if "link" in q.depends:
        for link, words in _LINKS.items():
            if link == cfg.link:
                continue
            for v, lo, hi, band, _ in values(q.id, config(cfg, (("link", link),))):
                if (band and lo * 0.9 <= base <= hi * 1.1) or (not band and v and abs(base / v - 1) <= 0.1):
                    return (
                        f"that is the {q.label.lower()} {words} (a PCIe-class link)"
                        if link == "pcie"
                        else (f"that is the {q.label.lower()} {words}")
                    )
    return None
