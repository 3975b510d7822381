"""How far the grader agrees with expert labels: the figures of `shared/corpus/README.md`, computed from reports.

Numbers are matched first: each labelled number to the report's check with the same value and unit (within
0.6% after unit conversion), in order, preferring a check in the labelled turn. Then:

- false alarms: labelled correct or unverifiable, called `incorrect`; a share of the labelled correct or
  unverifiable numbers the checker judged (called correct or incorrect);
- precision: of the checker's `incorrect` verdicts on labelled numbers, the share labelled incorrect;
- recall: of the numbers labelled incorrect, the share called incorrect (an unmatched one is missed);
- coverage: of the derived numbers labelled correct (not a fact or input repeated back), the share confirmed;
- totals, levels, recommendations: transcripts inside the labelled range or set;
- categories, flags: labelled category ranges met; flag include/exclude/min/max conditions met.

A false alarm costs more than a missed error, so the figures that gate a release are the ones a candidate
feels first: false alarms and precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from grader.claims import Check
from grader.evaluation.labels import LabelledNumber, LabelledTranscript
from grader.report import Report
from grader.units import base_value

MATCH_TOLERANCE = 0.006

# Labels that restate a fact of the scenario or an input the candidate chose: a checker may leave them unjudged,
# so coverage, which asks for confirmed *derived* figures, does not count them.
_INPUT_WORDS = ("scenario fact", "(fact)", "fact:", "chosen by", "assumed by", "configuration")


def is_input_label(label: LabelledNumber) -> bool:
    what = (label.what or "").lower()
    return any(w in what for w in _INPUT_WORDS)


@dataclass
class NumberRow:
    """One labelled number and what the report said about it (None when no check matched)."""

    transcript: str
    label: LabelledNumber
    check: Check | None

    @property
    def ours(self) -> str:
        return self.check.verdict if self.check else "not found"


@dataclass
class Disagreement:
    transcript: str
    what: str
    turn: int | None = None

    def line(self) -> str:
        where = f"{self.transcript} turn {self.turn}" if self.turn is not None else self.transcript
        return f"{where}: {self.what}"


@dataclass
class Ratio:
    hits: int = 0
    total: int = 0

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    def add(self, ok: bool) -> None:
        self.total += 1
        self.hits += int(ok)


@dataclass
class Agreement:
    """The figures, their counts, and every disagreement."""

    transcripts: int = 0
    numbers: int = 0
    matched: int = 0
    false_alarms: Ratio = field(default_factory=Ratio)
    precision: Ratio = field(default_factory=Ratio)
    recall: Ratio = field(default_factory=Ratio)
    coverage: Ratio = field(default_factory=Ratio)
    totals: Ratio = field(default_factory=Ratio)
    levels: Ratio = field(default_factory=Ratio)
    recommendations: Ratio = field(default_factory=Ratio)
    categories: Ratio = field(default_factory=Ratio)
    flags: Ratio = field(default_factory=Ratio)
    disagreements: list[Disagreement] = field(default_factory=list)
    unlabelled_incorrect: int = 0

    FIGURES = (
        "false_alarms",
        "precision",
        "recall",
        "coverage",
        "totals",
        "levels",
        "recommendations",
        "categories",
        "flags",
    )
    LOWER_IS_BETTER = frozenset({"false_alarms"})

    def figure(self, name: str) -> float | None:
        return getattr(self, name).value


def _base(value: float, unit: str) -> tuple[str, float] | None:
    return base_value(value, unit)


def _close(a: float, b: float) -> bool:
    if a == b:
        return True
    return abs(a - b) <= MATCH_TOLERANCE * max(abs(a), abs(b))


def match_numbers(labels: list[LabelledNumber], checks: list[Check]) -> list[Check | None]:
    """For each label in order, the first unused check of the same value and unit, in its turn if possible,
    else the nearest turn."""
    keyed = [(_base(c.claimed, c.unit), c) for c in checks]
    used = [False] * len(checks)
    out: list[Check | None] = []
    for lab in labels:
        want = _base(lab.claimed, lab.unit)
        best: tuple[int, int] | None = None
        if want is not None:
            for i, (got, c) in enumerate(keyed):
                if used[i] or got is None or got[0] != want[0] or not _close(got[1], want[1]):
                    continue
                rank = (abs(c.turn - lab.turn), i)
                if best is None or rank < best:
                    best = rank
        if best is None:
            out.append(None)
            continue
        used[best[1]] = True
        out.append(checks[best[1]])
    return out


def _fmt(v: float) -> str:
    return f"{v:,.6g}" if abs(v) < 1e6 else f"{v:.4g}"


def _number_rows(t: LabelledTranscript, report: Report) -> list[NumberRow]:
    matched = match_numbers(t.labels.checks, report.checks)
    return [NumberRow(t.id, lab, chk) for lab, chk in zip(t.labels.checks, matched, strict=True)]


def _score_numbers(agg: Agreement, rows: Iterable[NumberRow]) -> None:
    for r in rows:
        agg.numbers += 1
        agg.matched += r.check is not None
        lab, ours = r.label, r.ours
        wrong_call = False
        if lab.verdict in ("correct", "unverifiable") and ours in ("correct", "incorrect"):
            agg.false_alarms.add(ours == "incorrect")
            wrong_call = ours == "incorrect"
        if ours == "incorrect":
            agg.precision.add(lab.verdict == "incorrect")
        if lab.verdict == "incorrect":
            agg.recall.add(ours == "incorrect")
            wrong_call = wrong_call or ours != "incorrect"
        if lab.verdict == "correct" and not is_input_label(lab):
            agg.coverage.add(ours == "correct")
            wrong_call = wrong_call or (ours != "correct" and r.check is None)
        if wrong_call or (lab.verdict == "correct" and ours == "unverifiable" and not is_input_label(lab)):
            q = r.check.quantity if r.check else "-"
            why = f" [{r.check.diagnosis}]" if r.check and r.check.diagnosis and ours == "incorrect" else ""
            agg.disagreements.append(
                Disagreement(
                    r.transcript,
                    f"{_fmt(lab.claimed)} {lab.unit}: ours {ours} ({q}){why}; label {lab.verdict}"
                    f" ({lab.quantity or '-'}: {lab.what or ''})",
                    lab.turn,
                )
            )


def _in(value: float, rng: tuple[float, float]) -> bool:
    return rng[0] - 1e-9 <= value <= rng[1] + 1e-9


def _score_outcome(agg: Agreement, t: LabelledTranscript, report: Report) -> None:
    lab = t.labels
    tid = t.id
    if lab.total is not None:
        ok = _in(report.total, lab.total)
        agg.totals.add(ok)
        if not ok:
            agg.disagreements.append(
                Disagreement(tid, f"total {report.total:g}; label {lab.total[0]:g}-{lab.total[1]:g}")
            )
    if lab.level:
        ok = report.level in lab.level
        agg.levels.add(ok)
        if not ok:
            agg.disagreements.append(Disagreement(tid, f"level {report.level}; label {' or '.join(lab.level)}"))
    if lab.recommendation:
        ok = report.recommendation in lab.recommendation
        agg.recommendations.add(ok)
        if not ok:
            agg.disagreements.append(
                Disagreement(tid, f"recommendation {report.recommendation}; label {' or '.join(lab.recommendation)}")
            )
    for cat, rng in lab.categories.items():
        got = report.categories.get(cat)
        ok = got is not None and _in(got.score, rng)
        agg.categories.add(ok)
        if not ok:
            score = f"{got.score:g}" if got else "missing"
            agg.disagreements.append(Disagreement(tid, f"category {cat} {score}; label {rng[0]:g}-{rng[1]:g}"))
    _score_flags(
        agg,
        tid,
        "red",
        {f.id for f in report.red_flags},
        lab.red_flags_include,
        lab.red_flags_exclude,
        lab.red_flags_min,
        lab.red_flags_max,
    )
    _score_flags(
        agg,
        tid,
        "green",
        {f.id for f in report.green_flags},
        lab.green_flags_include,
        lab.green_flags_exclude,
        lab.green_flags_min,
        lab.green_flags_max,
    )


def _score_flags(
    agg: Agreement,
    tid: str,
    colour: str,
    fired: set[str],
    include: list[str],
    exclude: list[str],
    lo: int | None,
    hi: int | None,
) -> None:
    for f in include:
        agg.flags.add(f in fired)
        if f not in fired:
            agg.disagreements.append(Disagreement(tid, f"{colour} flag {f} did not fire; label: fires"))
    for f in exclude:
        agg.flags.add(f not in fired)
        if f in fired:
            agg.disagreements.append(Disagreement(tid, f"{colour} flag {f} fired; label: must not"))
    n = len(fired)
    if lo is not None:
        agg.flags.add(n >= lo)
        if n < lo:
            agg.disagreements.append(Disagreement(tid, f"{n} {colour} flags; label: at least {lo}"))
    if hi is not None:
        agg.flags.add(n <= hi)
        if n > hi:
            agg.disagreements.append(Disagreement(tid, f"{n} {colour} flags; label: at most {hi}"))


def agreement(graded: Iterable[tuple[LabelledTranscript, Report]]) -> Agreement:
    """The figures over every (labels, report) pair."""
    agg = Agreement()
    for t, report in graded:
        agg.transcripts += 1
        rows = _number_rows(t, report)
        _score_numbers(agg, rows)
        labelled = {id(r.check) for r in rows if r.check is not None}
        agg.unlabelled_incorrect += sum(1 for c in report.checks if c.verdict == "incorrect" and id(c) not in labelled)
        _score_outcome(agg, t, report)
    return agg


def unmet(agg: Agreement, mins: dict[str, float], maxes: dict[str, float]) -> list[str]:
    """The floors (`--min`) and ceilings (`--max`) the figures miss, one line each."""
    out = []
    for name, floor in mins.items():
        v = agg.figure(name)
        if v is None or v + 1e-12 < floor:
            out.append(f"{name} {_pct(v)} is below the floor {_pct(floor)}")
    for name, ceiling in maxes.items():
        v = agg.figure(name)
        if v is None or v - 1e-12 > ceiling:
            out.append(f"{name} {_pct(v)} is above the ceiling {_pct(ceiling)}")
    return out


def _pct(v: float | None) -> str:
    return "n/a" if v is None or math.isnan(v) else f"{100 * v:.1f}%"
