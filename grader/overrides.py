"""Reviewer overrides: a person's score for a sub-criterion, kept beside the machine's, never instead of it.

An override lives in a sidecar file next to its transcript, `<transcript file name>.overrides.yaml`
(`h01.yaml` -> `h01.yaml.overrides.yaml`; the full name, so `session.txt` and `session.md` in one folder keep
separate sidecars):

    # Reviewer overrides for h01.yaml (grader/overrides.py). The machine's scores stay in the report.
    transcript: h01.yaml
    overrides:
      - category: parallelism
        subcriterion: strategy
        score: 8
        note: Justified TP inside the node by NVLink bandwidth; the rules missed it.
        reviewer: ana
        at: 2026-11-27T11:40:00Z

The sidecar is written atomically (temp file in the same folder, fsync, `os.replace`), so a crash leaves the old
file or the new one. `apply_overrides(report, overrides)` returns a new report: each overridden `SubScore` takes
the reviewer's score and keeps the machine's in `SubScore.override = {score, note, machine_score, ...}`; the
category scores, the total, the level and the recommendation follow. A later override of the same
sub-criterion replaces an earlier one. Strengths, growth areas and feedback are left as the machine wrote them.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.atomic import write_atomic
from grader.datafile import _line_of
from grader.errors import GraderError
from grader.report import Level, Recommendation, Report

SIDECAR_SUFFIX = ".overrides.yaml"
MAX_SIDECAR_BYTES = 1024 * 1024
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_LEVEL_THRESHOLDS: tuple[tuple[float, str], ...] = ((85, "L6"), (70, "L5"), (55, "L4"), (0, "below L4"))


class OverrideError(GraderError):
    """An override that cannot apply (unknown sub-criterion, score out of range) or a sidecar that won't load."""


class Override(BaseModel):
    """One reviewer decision on one sub-criterion."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(description="category id, e.g. parallelism")
    subcriterion: str = Field(description="sub-criterion id within the category, e.g. strategy")
    score: float = Field(ge=0, description="the reviewer's points, 0..the sub-criterion's max")
    note: str = Field(description="why the reviewer disagrees with the machine; required")
    reviewer: str | None = None
    at: datetime = Field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    @field_validator("category", "subcriterion")
    @classmethod
    def _id(cls, v: str) -> str:
        v = v.strip()
        if not _ID.match(v):
            raise ValueError(f"{v!r} is not a rubric id (letters, digits, _ . -)")
        return v

    @field_validator("score")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("score must be a finite number")
        return v

    @field_validator("note")
    @classmethod
    def _note(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("a note is required: say why the machine's score is wrong")
        return v

    @field_validator("reviewer")
    @classmethod
    def _reviewer(cls, v: str | None) -> str | None:
        return (v.strip() or None) if v is not None else None

    @field_validator("at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        return v if v.tzinfo is not None else v.replace(tzinfo=UTC)

    @property
    def key(self) -> tuple[str, str]:
        return self.category, self.subcriterion


class OverrideFile(BaseModel):
    """The sidecar's shape."""

    model_config = ConfigDict(extra="forbid")

    transcript: str | None = Field(None, description="the transcript's file name, for a person reading the file")
    overrides: list[Override] = Field(default_factory=list)


# --- the sidecar -------------------------------------------------------------------------------------------


def sidecar_path(path: str | Path) -> Path:
    """`<dir>/<name>.overrides.yaml` for a transcript path; a sidecar path is returned as it is."""
    p = Path(path)
    return p if is_sidecar(p) else p.with_name(p.name + SIDECAR_SUFFIX)


def is_sidecar(path: str | Path) -> bool:
    return Path(path).name.endswith(SIDECAR_SUFFIX)


def latest(overrides: Iterable[Override]) -> list[Override]:
    """One override per sub-criterion, the last one given, in the order each sub-criterion first appeared."""
    out: dict[tuple[str, str], Override] = {}
    for ov in overrides:
        out[ov.key] = ov
    return list(out.values())


def load_overrides(path: str | Path) -> list[Override]:
    """The overrides for a transcript (or from a sidecar path); [] when there is no sidecar.

    Raises OverrideError naming the file and line for a sidecar that is not valid YAML or not an override list.
    """
    side = sidecar_path(path)
    try:
        size = side.stat().st_size
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise OverrideError(f"cannot read: {exc.strerror or exc}", path=side) from None
    if size > MAX_SIDECAR_BYTES:
        raise OverrideError(f"file is {size} bytes; an overrides file may be at most {MAX_SIDECAR_BYTES}", path=side)
    try:
        text = side.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OverrideError(f"cannot read: {exc}", path=side) from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise OverrideError(f"YAML syntax error: {getattr(exc, 'problem', exc)}", path=side, line=line) from None
    if data is None:
        return []
    try:
        return latest(OverrideFile.model_validate(data).overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise OverrideError(f"{field}: {first['msg']}{more}", path=side, line=_line_of(root, loc)) from None


def dump_overrides(overrides: Sequence[Override], transcript_name: str | None = None) -> str:
    data = OverrideFile(transcript=transcript_name, overrides=latest(overrides)).model_dump(mode="json")
    if data["transcript"] is None:
        data.pop("transcript")
    for ov in data["overrides"]:
        if ov.get("reviewer") is None:
            ov.pop("reviewer", None)
        if isinstance(ov["score"], float) and ov["score"].is_integer():
            ov["score"] = int(ov["score"])
    head = f"# Reviewer overrides for {transcript_name or 'a transcript'} (grader/overrides.py). "
    head += "The machine's scores stay in the report.\n"
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)


def save_overrides(path: str | Path, overrides: Sequence[Override]) -> Path:
    """Write the sidecar for the transcript at `path` atomically and return its path. No overrides: the sidecar
    is removed, so a transcript without reviewer changes has no file beside it."""
    side = sidecar_path(path)
    current = latest(overrides)
    if not current:
        with contextlib.suppress(FileNotFoundError):
            side.unlink()
        return side
    transcript_name = None if is_sidecar(path) else Path(path).name
    text = dump_overrides(current, transcript_name)
    return write_atomic(side, text)


# --- applying ----------------------------------------------------------------------------------------------


def check_override(report: Report, override: Override) -> None:
    """Raise OverrideError unless the report has this sub-criterion and the score lies within 0..its max."""
    cat = report.categories.get(override.category)
    if cat is None:
        known = ", ".join(report.categories) or "none: this report is not scored"
        raise OverrideError(f"no category {override.category!r} in this report (categories: {known})")
    sub = cat.subscores.get(override.subcriterion)
    if sub is None:
        known = ", ".join(cat.subscores) or "none"
        raise OverrideError(
            f"no sub-criterion {override.subcriterion!r} in category {override.category!r} (sub-criteria: {known})"
        )
    if not 0 <= override.score <= sub.max:
        raise OverrideError(
            f"{override.category}.{override.subcriterion}: score {override.score:g} is outside 0..{sub.max:g}"
        )


def apply_overrides(report: Report, overrides: Sequence[Override], *, rubric: Any | None = None) -> Report:
    """A copy of `report` with the reviewer's sub-scores in place of the machine's.

    Each overridden sub-score keeps the machine's in `override.machine_score` (applying twice keeps the first
    machine score). A category's score moves by the sum of its sub-scores' changes and the total by the sum of
    the categories' changes (with the rubric's scoring, where categories and total are plain sums, this is the
    same as summing again; any adjustment the machine made on top of the sums is kept). Level and
    recommendation are recomputed from the new total with the rubric's thresholds (L6 85-100, L5 70-84,
    L4 55-69, below L4 under 55) and the recommendation rules. Raises OverrideError for an unknown
    sub-criterion, a score outside 0..max, or overrides on a report without category scores.
    """
    current = latest(overrides)
    if not current:
        return report
    if not report.categories:
        raise OverrideError("this report has no category scores to override")
    for ov in current:
        check_override(report, ov)
    rubric = rubric if rubric is not None else _rubric()

    categories = {cid: cat.model_copy(deep=True) for cid, cat in report.categories.items()}
    total = report.total
    for ov in current:
        cat = categories[ov.category]
        sub = cat.subscores[ov.subcriterion]
        previous = dict(sub.override or {})
        machine_score = previous.get("machine_score", sub.score)
        machine_band = previous.get("machine_band", sub.band)
        delta = ov.score - sub.score
        sub.score = ov.score
        sub.band = _band(rubric, ov.category, ov.subcriterion, ov.score, default=sub.band if delta == 0 else None)
        sub.override = {
            "score": ov.score,
            "note": ov.note,
            "machine_score": machine_score,
            "machine_band": machine_band,
            "reviewer": ov.reviewer,
            "at": ov.at.isoformat().replace("+00:00", "Z"),
        }
        new_cat = _clamp(round(cat.score + delta, 1), cat.max)
        total += new_cat - cat.score
        cat.score = new_cat
        if len(cat.subscores) == 1:
            cat.band = sub.band
    total = _clamp(round(total, 1), _total_points(rubric))
    return report.model_copy(
        update={
            "categories": categories,
            "total": total,
            "level": level_for(total, rubric),
            "recommendation": _recommendation(report, total, rubric),
        }
    )


def level_for(total: float, rubric: Any | None = None) -> str:
    """The contract's spelling of the level ("L6", "L5", "L4", "below L4") from the rubric's thresholds."""
    allowed = set(get_args(Level))
    if rubric is not None:
        with contextlib.suppress(Exception):
            lv = rubric.level_for(total)
            for name in (lv.id, lv.id.replace("_", " "), lv.label):
                if name in allowed:
                    return name
    return next(name for low, name in _LEVEL_THRESHOLDS if total >= low)


def _recommendation(report: Report, total: float, rubric: Any | None) -> str:
    """The rubric's recommendation for the new total and the report's flags (its rules first: 3+ red flags is
    No Hire), in the contract's words; a rubric recommendation the contract has no word for ("Lean No Hire")
    reports as "No Hire", as scoring does. The machine's recommendation when there is no rubric."""
    if rubric is None:
        return report.recommendation
    try:
        rec = rubric.recommendation_for(total, len(report.red_flags), len(report.green_flags))
    except Exception:
        return report.recommendation
    allowed = get_args(Recommendation)
    return next((name for name in (rec.label, rec.id) if name in allowed), "No Hire")


def _band(rubric: Any | None, cat_id: str, sub_id: str, score: float, *, default: str | None) -> str | None:
    if rubric is None:
        return default
    try:
        sub = rubric.subcriterion(cat_id, sub_id)
        # as scoring names it: a score in one of the rubric's gaps (7-8 between 5-6 and 9-10) is the band below
        band = sub.band_for(score) or next((b for b in sub.bands if b.max < score), sub.fallback)
    except (KeyError, AttributeError, IndexError):
        return default
    return band.name if band is not None else None


def _total_points(rubric: Any | None) -> float:
    return float(getattr(rubric, "total_points", 100) or 100)


def _clamp(value: float, upper: float) -> float:
    return min(max(value, 0.0), upper)


def _rubric() -> Any | None:
    """The default rubric, or None when it cannot be loaded (then the built-in thresholds apply)."""
    try:
        from grader.rubric import default_rubric

        return default_rubric()
    except Exception:
        return None
