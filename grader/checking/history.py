"""What the candidate said before a figure, for the figures that follow from it.

Two ways a figure follows from earlier ones. A registry derivation: the quantity's formula with the candidate's
own earlier figures put in for its parts ("4.8 GB per sequence" from their "2.36 MB per token"). Or arithmetic
said aloud in the same turn: a figure scaled by a number of its sentence, bytes over a rate, a sum or
difference of the turn's figures ("43.75 weights, 19 KV and 5 GB of activations: about 68 GB"). A figure that
follows from a wrong one is that error carried forward: flagged, and not charged again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.checking.readings import ARITHMETIC_TOLERANCE, configs_for, scenario, tolerance, values
from grader.claims import Check, NumericClaim
from grader.quantities.model import Derivation, Quantity
from grader.quantities.registry import REGISTRY


@dataclass
class Said:
    quantity: str
    base: float
    check: Check


@dataclass
class Figure:
    base: float
    dimension: str
    check: Check


class History:
    """The last figure of each quantity, and the current turn's figures in order."""

    RECENT = 8

    KEPT = 4

    def __init__(self) -> None:
        self._said: dict[str, list[Said]] = {}
        self.recent: list[Figure] = []

    def add(self, check: Check, base: float, dimension: str) -> None:
        """Figures a later one may be computed from: judged ones, and the candidate's own inputs and budgets."""
        q = check.quantity
        if q is not None and (check.verdict != "unverifiable" or REGISTRY[q].kind in ("input", "band")):
            self._said[q] = [*self._said.get(q, []), Said(q, base, check)][-self.KEPT :]
        if self.recent and self.recent[-1].check.turn != check.turn:
            self.recent = []
        self.recent = [*self.recent, Figure(base, dimension, check)][-self.RECENT :]

    def get(self, qid: str) -> Said | None:
        said = self._said.get(qid)
        return said[-1] if said else None

    def all(self, qid: str) -> list[Said]:
        """This quantity's figures, latest first (a later figure may follow from any of them)."""
        return list(reversed(self._said.get(qid, [])))


def from_earlier(
    claim: NumericClaim, base: float, candidates: Sequence[Quantity], history: History
) -> tuple[Quantity, list[Said], float] | None:
    """A derivation of a candidate quantity that reproduces the figure from the candidate's earlier figures."""
    lo_t, hi_t = tolerance(claim)
    for q in candidates:
        for d in q.derives_from:
            for said in _combinations(claim, d.inputs, history):
                found = _derive(claim, base, q, d, said, lo_t, hi_t)
                if found is not None:
                    return found
    return None


def _combinations(claim: NumericClaim, inputs: tuple[str, ...], history: History) -> list[list[Said | None]]:
    """The candidate's figures for a derivation's parts: the latest of each, and an older one only where the latest
    was said under other assumptions (a right total said again clears an earlier wrong one; an INT4 total said
    in passing does not). A part they never said is None."""
    stated = claim.assumptions.stated()

    def same(s: Said) -> bool:
        fields = ("weight_precision", "kv_precision")
        return all(
            s.check.assumptions.get(k, getattr(scenario(), k)) == stated.get(k, getattr(scenario(), k)) for k in fields
        )

    options: list[list[Said | None]] = []
    for i in inputs:
        said = history.all(i)
        if not said:
            options.append([None])
            continue
        options.append([said[0]] + ([] if same(said[0]) else [s for s in said[1:] if same(s)][:1]))
    out: list[list[Said | None]] = [[]]
    for opts in options:
        out = [[*prefix, o] for prefix in out for o in opts]
    return [c for c in out if any(c)]


def _derive(
    claim: NumericClaim,
    base: float,
    q: Quantity,
    d: Derivation,
    said: list[Said | None],
    lo_t: float,
    hi_t: float,
) -> tuple[Quantity, list[Said], float] | None:
    """One derivation with one choice of earlier figures, under each configuration in view; the parts the
    candidate did not say are the configuration's own."""
    for cfg in configs_for(claim, q):
        parts: dict[str, float] = {}
        for qid, s in zip(d.inputs, said, strict=True):
            if s is not None:
                parts[qid] = s.base
                continue
            vals = values(qid, cfg if not REGISTRY[qid].scenario_only else scenario())
            if not vals:
                break
            parts[qid] = vals[0][0]
        if len(parts) != len(d.inputs):
            continue
        try:
            v = d.compute(parts, cfg)
        except (ZeroDivisionError, ValueError, KeyError):
            continue
        if v and _close(base, v, claim, lo_t, hi_t):
            return q, [s for s in said if s is not None], v
    return None


def _close(base: float, v: float, claim: NumericClaim, lo_t: float, hi_t: float) -> bool:
    if claim.bound == "lower":  # "50+ GB" follows from a figure of at least about 50
        return v >= base * lo_t
    if claim.bound == "upper":
        return v <= base * hi_t
    return lo_t <= base / v <= hi_t


def own_arithmetic(claim: NumericClaim, base: float, dimension: str, history: History) -> list[Check] | None:
    """The figures of this turn (and the sentence's numbers) the figure follows from by one step of arithmetic
    said aloud: scaled by a number ("10 back to back, about 8 s"), bytes over a rate, or the sum or difference of
    two or three figures. Of several explanations, one through a wrong figure wins: that error carried on."""
    tol = 0.08 if claim.approx else ARITHMETIC_TOLERANCE
    recent = [f for f in history.recent if f.check.turn == claim.turn]

    def close(v: float) -> bool:
        return v > 0 and abs(base / v - 1) <= tol

    same = [
        f
        for f in recent
        if f.dimension == dimension
        and f.base > 0
        and not close(f.base)
        and (dimension != "count" or f.check.unit == claim.unit)
    ]
    found: list[list[Check]] = []
    for f in same if dimension != "count" else []:
        for n in (n for n in claim.operands if n >= 2):
            if close(f.base * n) or close(f.base / n):
                found.append([f.check])
    if dimension == "time":
        for b in (f for f in recent if f.dimension == "bytes"):
            for r in (f for f in recent if f.dimension == "rate" and f.base > 0):
                if close(b.base / r.base):
                    found.append([b.check, r.check])
    last = same[-4:]
    for i, a in enumerate(last):
        for b in last[i + 1 :]:
            if close(a.base + b.base) or close(abs(a.base - b.base)):
                found.append([a.check, b.check])
    for i in range(len(last) - 2):
        if close(sum(f.base for f in last[i : i + 3])):
            found.append([f.check for f in last[i : i + 3]])
    if not found:
        return None
    return next((f for f in found if any(c.verdict == "incorrect" for c in f)), found[0])
