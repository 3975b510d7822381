"""The checker, pinned by a golden table (tests/data/checker_cases.yaml): a numeric claim in, verdict, expected
value, accepted reading and diagnosis out. The table covers every row of the scenario's reference table, each
accepted convention, each mistake signature of serving-arithmetic.md §6 that applies to a checkable quantity,
unit slips, figures right for the candidate's own assumptions, physical limits, written arithmetic, figures
that follow from earlier ones and the tolerance policy at its edges. Claims here are what an extractor hands
over; tests/reading/ pins how the rules reader gets them from sentences."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from grader.checker import APPROX_TOLERANCE, EXACT_TOLERANCE, check_claims
from grader.claims import Assumptions, NumericClaim
from grader.reading.arithmetic import evaluate

CASES_FILE = Path(__file__).parent / "data" / "checker_cases.yaml"


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: str | None
    value: float
    unit: str
    approx: bool = False
    bound: Literal["lower", "upper"] | None = None
    guessed: bool = False
    alternatives: list[str] = Field(default_factory=list)
    assumptions: Assumptions = Field(default_factory=Assumptions)
    considered: list[Assumptions] = Field(default_factory=list)
    operands: list[float] = Field(default_factory=list)
    expression: str | None = None
    claims_fit: bool | None = None
    quote: str = "-"

    def claim(self, turn: int) -> NumericClaim:
        return NumericClaim(turn=turn, **self.model_dump())


class CheckerCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    claim: ClaimIn
    earlier: list[ClaimIn] = Field(default_factory=list)
    verdict: Literal["correct", "incorrect", "unverifiable"]
    expected: float | None = None
    convention: str | None = None
    diagnosis: str | list[str] | None = "__unchecked__"
    consistent: bool = False


def _load() -> list[CheckerCase]:
    rows = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    cases = [CheckerCase.model_validate(r) for r in rows]
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return cases


CASES = _load()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: CheckerCase) -> None:
    claims = [c.claim(turn=0) for c in case.earlier] + [case.claim.claim(turn=0)]
    check = check_claims(claims)[-1]
    assert check.verdict == case.verdict, check.diagnosis
    assert check.consistent_with_earlier_error is case.consistent, check.diagnosis
    if case.expected is not None:
        assert check.expected == pytest.approx(case.expected, rel=1e-3), check.diagnosis
    if case.convention is not None:
        assert check.convention and case.convention in check.convention, check.convention
    if case.diagnosis != "__unchecked__":
        if case.diagnosis is None:
            assert check.diagnosis is None
        else:
            wanted = [case.diagnosis] if isinstance(case.diagnosis, str) else case.diagnosis
            for part in wanted:
                assert check.diagnosis and part in check.diagnosis, check.diagnosis


def test_tolerances_are_the_policy() -> None:
    assert EXACT_TOLERANCE == (0.9, 1.1) and APPROX_TOLERANCE == (0.8, 1.25)


@pytest.mark.parametrize(
    ("expr", "value", "with_unit"),
    [
        ("175GB/2/4", 21.875e9, True),
        ("350/8", 43.75, False),
        ("2 x 96 x 12,288 x 2", 4718592, False),
        ("12,288 × 16 × 2 B", 393216, False),
        ("2 (K,V) × 96 layers × 12,288 × 2 B", 4718592, False),
        ("350 GB FP16 / 8 GPUs", 43.75e9, True),
        ("(43.75 + 38.65 + 5)", 87.4, False),
    ],
)
def test_written_arithmetic_is_redone(expr: str, value: float, with_unit: bool) -> None:
    got = evaluate(expr)
    assert got is not None and got[0] == pytest.approx(value) and got[1] is with_unit


def test_not_arithmetic_is_none() -> None:
    assert evaluate("just words") is None and evaluate("42") is None
