"""Expert labels for graded interviews: what a team says the grader should have found.

The schema is the one `shared/corpus/README.md` documents: one entry per transcript with the acceptable total,
levels, recommendations and category ranges, the numbers the candidate states in order with a verdict each, and
conditions on the flags. A hiring team writes the same file for a few of its own interviews to measure how far
the grader agrees with its interviewers. Labels are data people type: a mistake points at its file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

from grader.datafile import load_yaml_model
from grader.errors import GraderError, RubricError

LabelVerdict = Literal["correct", "incorrect", "unverifiable"]


class LabelsError(GraderError):
    """A labels file that does not match the schema, or names a transcript that is not there."""


class LabelledNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turn: int = Field(ge=0)
    claimed: float
    unit: str
    verdict: LabelVerdict
    quantity: str | None = None
    what: str | None = None


def _range(v: object) -> object:
    if isinstance(v, list) and len(v) == 2 and v[0] > v[1]:
        raise ValueError(f"range [{v[0]}, {v[1]}] runs backwards")
    return v


class TranscriptLabels(BaseModel):
    """Everything labelled about one transcript; every part is optional, so a team can label only totals."""

    model_config = ConfigDict(extra="forbid")

    file: str
    total: tuple[float, float] | None = None
    level: list[str] = Field(default_factory=list)
    recommendation: list[str] = Field(default_factory=list)
    categories: dict[str, tuple[float, float]] = Field(default_factory=dict)
    checks: list[LabelledNumber] = Field(default_factory=list)
    red_flags_include: list[str] = Field(default_factory=list)
    red_flags_exclude: list[str] = Field(default_factory=list)
    green_flags_include: list[str] = Field(default_factory=list)
    green_flags_exclude: list[str] = Field(default_factory=list)
    green_flags_min: int | None = None
    green_flags_max: int | None = None
    red_flags_min: int | None = None
    red_flags_max: int | None = None

    _check_total = field_validator("total", mode="before")(_range)

    @field_validator("categories", mode="before")
    @classmethod
    def _check_categories(cls, v: object) -> object:
        if isinstance(v, dict):
            for r in v.values():
                _range(r)
        return v


class LabelsFile(RootModel[dict[str, TranscriptLabels]]):
    pass


class LabelledTranscript(BaseModel):
    """One transcript id, the file it names (resolved beside the labels) and its labels."""

    model_config = ConfigDict(frozen=True)

    id: str
    path: Path
    labels: TranscriptLabels
    labels_file: Path


def load_labels(directory: str | Path) -> list[LabelledTranscript]:
    """Every transcript named by `DIR/labels*.yaml`, in file then entry order.

    A directory without labels, a malformed entry or a transcript file that does not exist is a `LabelsError`
    naming the file (and line): an evaluation that silently measured fewer interviews would overstate trust.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise LabelsError("not a directory", path=directory)
    files = sorted(directory.glob("labels*.yaml")) + sorted(directory.glob("labels*.yml"))
    if not files:
        raise LabelsError("no labels*.yaml here (see the schema in `python -m grader eval --help`)", path=directory)
    out: list[LabelledTranscript] = []
    seen: set[str] = set()
    for f in files:
        try:
            parsed = load_yaml_model(f, LabelsFile)
        except RubricError as exc:  # the data-file loader speaks of rubrics; here it is a labels file
            raise LabelsError(exc.message, path=exc.path, line=exc.line) from None
        for tid, labels in parsed.root.items():
            if tid in seen:
                raise LabelsError(f"transcript {tid!r} is labelled twice", path=f)
            seen.add(tid)
            path = directory / labels.file
            if not path.is_file():
                raise LabelsError(f"{tid}: file {labels.file!r} not found beside the labels", path=f)
            out.append(LabelledTranscript(id=tid, path=path, labels=labels, labels_file=f))
    return out
