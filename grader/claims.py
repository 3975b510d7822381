"""What a transcript shows, as data: the output of every extractor (rules or LLM) and the input of scoring.

Each claim carries its evidence first (the 0-based turn and a verbatim quote from a candidate turn), so an
extractor's output can be checked against the transcript before anything is scored. Nothing here is a score.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ConceptLevel = Literal["mentioned", "explained", "misconception"]
Verdict = Literal["correct", "incorrect", "unverifiable"]

CLAIMS_SCHEMA_VERSION = "2"


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


Precision = Literal["fp32", "fp16", "bf16", "fp8", "int8", "int4"]
Bound = Literal["lower", "upper"]


class Assumptions(BaseModel):
    """The configuration a figure is stated under: what the candidate said, each field None when they did not
    say it (the scenario's value then applies). Field names are `ServingConfig`'s."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tp: int | None = Field(None, ge=1, le=1024)
    pp: int | None = Field(None, ge=1, le=1024)
    dp: int | None = Field(None, ge=1, le=100_000)
    batch: int | None = Field(None, ge=1, le=1_000_000, description="concurrent sequences")
    context: int | None = Field(None, ge=1, le=100_000_000, description="tokens per sequence")
    comm_batch: int | None = Field(None, ge=1, le=1_000_000, description="sequences in one decode step's all-reduce")
    micro_batches: int | None = Field(None, ge=1, le=100_000)
    prefill_tokens: int | None = Field(None, ge=1, le=100_000_000)
    weight_precision: Precision | None = None
    kv_precision: Precision | None = None
    kv_heads: int | None = Field(None, ge=1, le=4096)
    activation_bytes: float | None = Field(None, ge=0, description="the candidate's own activation budget per GPU")
    link: Literal["nvlink", "ib", "pcie"] | None = Field(None, description="the link the figure's traffic crosses")
    gpus_in_view: int | None = Field(None, ge=1, le=100_000, description="GPUs the sentence counts")

    def stated(self) -> dict[str, int | float | str]:
        """The fields the candidate set, for display and for overriding the scenario's configuration."""
        return self.model_dump(exclude_none=True)


class NumericClaim(_Claim):
    """A number the candidate stated, what the words around it say it is, and the configuration in force.

    `quantity` and `alternatives` are ids of `grader.quantities.REGISTRY`: the readings the wording allows, best
    first. `guessed` says the figure's own words did not name it (the reading comes from the sentence or the turn
    around it): the checker then never calls it wrong, only confirms it or leaves it unverifiable."""

    value: float
    unit: str = Field(description="as said: GB, GiB, MB, KB, B, GB/s, Gb/s, TB/s, s, ms, us, %, count, tokens...")
    approx: bool = Field(False, description="said with ~, about, roughly: the wider tolerance applies")
    bound: Bound | None = Field(None, description="'50+ GB', 'over 50 GB': lower; 'under 1 ms': upper")
    quantity: str | None = Field(None, description="the quantity the words name best, or None")
    alternatives: list[str] = Field(default_factory=list, description="other quantities the words allow")
    guessed: bool = Field(False, description="the quantity is inferred from the context, not named with the figure")
    assumptions: Assumptions = Field(default_factory=Assumptions)
    inherited: list[str] = Field(
        default_factory=list, description="assumption fields carried over from earlier sentences, not stated here"
    )
    considered: list[Assumptions] = Field(
        default_factory=list, description="other configurations named with the figure (what-ifs, counts nearby)"
    )
    expression: str | None = Field(None, description="written arithmetic that produced it, e.g. '175GB/2/4'")
    operands: list[float] = Field(
        default_factory=list, description="the other numbers of its sentence: factors of arithmetic done aloud"
    )
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

    quantity: str | None = Field(description="the reading the verdict is about (a registry id), None if none applies")
    claimed: float
    unit: str
    expected: float | None
    verdict: Verdict
    turn: int
    quote: str
    assumptions: dict[str, float | int | str] = Field(default_factory=dict)
    diagnosis: str | None = None
    convention: str | None = Field(None, description="the reading and convention that explain a correct figure")
    consistent_with_earlier_error: bool = Field(
        False, description="follows from an earlier wrong figure; not punished twice"
    )
