"""What a transcript shows, as data: the output of every extractor (rules or LLM) and the input of scoring.

Each claim carries its evidence first (the 0-based turn and a verbatim quote from a candidate turn), so an
extractor's output can be checked against the transcript before anything is scored. Nothing here is a score.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ConceptLevel = Literal["mentioned", "explained", "misconception"]
Verdict = Literal["correct", "incorrect", "unverifiable"]

CLAIMS_SCHEMA_VERSION = "1"


class _Claim(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turn: int = Field(ge=0, description="0-based index of the candidate turn in the transcript")
    quote: str = Field(min_length=1, description="verbatim text from that candidate turn")
    prompted: bool = Field(False, description="the interviewer's previous turn asked about this topic")


class ConceptClaim(_Claim):
    concept: str = Field(description="a concept id from the rubric's vocabulary")
    level: ConceptLevel
    misconception: str | None = Field(None, description="the misconception id when level is 'misconception'")


class QuestionClaim(_Claim):
    topic: str = Field(description="a clarifying-question topic id from the rubric (interconnect, cost, ...)")


class StrategyClaim(_Claim):
    tp: int | None = Field(None, ge=1)
    pp: int | None = Field(None, ge=1)
    dp: int | None = Field(None, ge=1)
    justified_by: list[str] = Field(
        default_factory=list, description="memory | latency | communication | bubble | cost | scalability"
    )
    alternatives: list[str] = Field(
        default_factory=list, description="other strategies compared: tp_only, pp_only, dp, hybrid, single_gpu"
    )


class NumericClaim(_Claim):
    """A number the candidate stated, and the assumptions in force when they stated it."""

    quantity: str = Field(description="a quantity name from grader.calculator.reference(), or 'unknown'")
    value: float
    unit: str = Field(description="as said: GB, GiB, MB, KB, B, TB, GB/s, Gb/s, TB/s, s, ms, us, %, count")
    approx: bool = Field(False, description="said with ~, about, roughly: the wider tolerance applies")
    assumptions: dict[str, float | int | str] = Field(default_factory=dict)
    expression: str | None = Field(None, description="written arithmetic that produced it, e.g. '175GB/2/4'")
    claims_fit: bool | None = Field(None, description="the sentence says the configuration fits (True) or not (False)")


class Claims(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concepts: list[ConceptClaim] = Field(default_factory=list)
    questions: list[QuestionClaim] = Field(default_factory=list)
    strategies: list[StrategyClaim] = Field(default_factory=list)
    numbers: list[NumericClaim] = Field(default_factory=list)
    dropped: int = Field(0, description="claims an extractor returned whose quote is not in a candidate turn")


class Check(BaseModel):
    """The checker's verdict on one numeric claim; the report's `checks` rows."""

    model_config = ConfigDict(extra="forbid")

    quantity: str
    claimed: float
    unit: str
    expected: float | None
    verdict: Verdict
    turn: int
    quote: str
    assumptions: dict[str, float | int | str] = Field(default_factory=dict)
    diagnosis: str | None = None
    convention: str | None = Field(None, description="the accepted convention, for a correct claim")
    consistent_with_earlier_error: bool = Field(
        False, description="follows from an earlier wrong figure; not punished twice"
    )
