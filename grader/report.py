"""The report contract: what `grade --json` prints and what the app renders. Extra fields are welcome,
the contract's fields are never renamed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.claims import Check

Level = Literal["L6", "L5", "L4", "below L4"]
Recommendation = Literal["Strong Hire", "Hire", "No Hire"]


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turn: int
    quote: str
    note: str | None = None
    prompted: bool = False


class SubScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: float
    max: float
    band: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    override: dict | None = Field(None, description="a reviewer's override: {score, note, machine_score}")


class CategoryScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: float
    max: float
    band: str | None = None
    subscores: dict[str, SubScore] = Field(default_factory=dict)


class FlagHit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    turn: int | None
    evidence: str
    label: str | None = None


class Provenance(BaseModel):
    """Enough to reproduce and re-score a report."""

    model_config = ConfigDict(extra="forbid")

    grader_version: str
    rubric_version: str
    extractor: str
    model: str | None = None
    endpoint: str | None = None
    method: str | None = None
    prompt_hash: str | None = None
    transcript_hash: str
    dropped_claims: int = 0


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transcript_id: str
    total: float = 0.0
    level: Level = "below L4"
    recommendation: Recommendation = "No Hire"
    categories: dict[str, CategoryScore] = Field(default_factory=dict)
    checks: list[Check] = Field(default_factory=list)
    red_flags: list[FlagHit] = Field(default_factory=list)
    green_flags: list[FlagHit] = Field(default_factory=list)
    extractor: str = "rules"
    strengths: list[str] = Field(default_factory=list)
    growth_areas: list[str] = Field(default_factory=list)
    feedback: str | None = None
    injection_attempts: list[Evidence] = Field(
        default_factory=list, description="candidate sentences addressed to the grader; removed before grading"
    )
    provenance: Provenance | None = None
