"""The checker, pinned by a golden table (tests/data/checker_cases.yaml): NumericClaim in, verdict, expected
value, accepted convention and diagnosis out. The table covers every row of the scenario's reference table,
each accepted convention, each mistake signature of serving-arithmetic.md §6 that applies to a checkable
quantity, unit slips, figures right for the candidate's own assumptions, physical limits, written arithmetic,
carry-forward of earlier mistakes and the tolerance policy at its edges. The tests below the table pin the
parts that are not a single claim: written arithmetic, the memo, and order of checking."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from grader import checker
from grader.checker import (
    APPROX_TOLERANCE,
    EXACT_TOLERANCE,
    LATENCY_FLOOR_MARGIN,
    QUANTITY_DIMENSION,
    check_claim,
    check_claims,
    evaluate_expression,
    reference,
)
from grader.claims import NumericClaim

CASES_FILE = Path(__file__).parent / "data" / "checker_cases.yaml"


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: str
    value: float
    unit: str
    approx: bool = False
    assumptions: dict[str, float | int | str] = Field(default_factory=dict)
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
    batch: int | None = None


def _load() -> list[CheckerCase]:
    rows = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    cases = [CheckerCase.model_validate(r) for r in rows]
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return cases


CASES = _load()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: CheckerCase) -> None:
    claims = [c.claim(turn=i) for i, c in enumerate(case.earlier)] + [case.claim.claim(turn=len(case.earlier))]
    check = check_claims(claims)[-1]
    assert check.verdict == case.verdict, check.diagnosis
    assert check.consistent_with_earlier_error is case.consistent, check.diagnosis
    if case.expected is not None:
        assert check.expected == pytest.approx(case.expected, rel=1e-3)
    if case.convention is not None:
        assert check.convention is not None and case.convention in check.convention
    if case.verdict == "correct":
        assert check.convention, "a correct figure names the convention that accepted it"
    if case.diagnosis is None:
        assert check.diagnosis is None
    elif case.diagnosis != "__unchecked__":
        wanted = [case.diagnosis] if isinstance(case.diagnosis, str) else case.diagnosis
        for text in wanted:
            assert check.diagnosis is not None and text in check.diagnosis, check.diagnosis
    elif case.verdict != "correct":
        assert check.diagnosis, "every incorrect or unverifiable figure says why"
    if case.batch is not None:
        assert check.assumptions.get("batch") == case.batch


def test_the_table_covers_every_quantity_the_checker_knows() -> None:
    covered = {c.claim.quantity for c in CASES}
    assert set(QUANTITY_DIMENSION) <= covered


def test_tolerance_constants() -> None:
    """The policy of serving-arithmetic.md §5, as numbers: the table's edge cases are built on these."""
    assert EXACT_TOLERANCE == (0.9, 1.1)
    assert APPROX_TOLERANCE == (0.8, 1.25)
    assert LATENCY_FLOOR_MARGIN == 0.9


def test_a_check_carries_quote_turn_and_assumptions() -> None:
    claim = NumericClaim(
        turn=7,
        quote="each GPU holds 21.875 GB",
        quantity="weights_per_gpu",
        value=21.875,
        unit="GB",
        assumptions={"weight_precision": "int8", "_alternatives": "weights_total"},
    )
    check = check_claim(claim)
    assert (check.turn, check.quote, check.claimed, check.unit) == (7, "each GPU holds 21.875 GB", 21.875, "GB")
    assert check.assumptions == {"weight_precision": "int8"}  # the extractor's '_' flags are not assumptions


def test_claims_are_checked_in_turn_order() -> None:
    """Carry-forward follows the interview, not the order an extractor happened to list the claims in."""
    later = NumericClaim(
        turn=5, quote="-", quantity="weights_per_gpu", value=21.875, unit="GB", assumptions={"tp": 4, "pp": 2}
    )
    root = NumericClaim(turn=3, quote="-", quantity="weights_total", value=175, unit="GB")
    checks = check_claims([later, root])
    assert [(c.turn, c.consistent_with_earlier_error) for c in checks] == [(3, False), (5, True)]


def test_reference_is_memoised_on_the_frozen_config() -> None:
    reference.cache_clear()
    claim = NumericClaim(turn=0, quote="-", quantity="weights_per_gpu", value=43.75, unit="GB", assumptions={"tp": 8})
    check_claims([claim] * 20)
    info = reference.cache_info()
    assert info.misses <= 3
    assert info.hits > info.misses


@pytest.mark.parametrize(
    ("expr", "value", "has_unit"),
    [
        ("350/8", 43.75, False),
        ("175GB/2/4", 21.875e9, True),
        ("350GB FP16 / 8 GPUs", 43.75e9, True),
        ("12,288 × 16 × 2", 393_216, False),
        ("2 x 96 x 12,288 x 2 bytes", 4_718_592, False),
        ("175B parameters × 2 bytes (FP16)", 350e9, False),
        ("2 x 175B x 2048", 716.8e12, False),
        ("4.72 MB x 2K x 32", 4.72e6 * 2048 * 32, True),
        ("113 MB / 600 GB/s", 113e6 / 600e9, True),
        ("350 GB / (8 x 2.039 TB/s)", 350e9 / (8 * 2.039e12), True),
        ("43.75 + 38.65 + 5", 87.4, False),
        ("80 - 43.75", 36.25, False),
        ("393 KB / 200 GB/s", 393e3 / 200e9, True),
    ],
)
def test_evaluate_expression(expr: str, value: float, has_unit: bool) -> None:
    result = evaluate_expression(expr)
    assert result is not None
    assert result[0] == pytest.approx(value, rel=1e-9)
    assert result[1] is has_unit


@pytest.mark.parametrize("expr", ["", "2(n-1)/n", "hidden_size × batch_size × 2 bytes", "350", "1/0", "import os"])
def test_not_arithmetic(expr: str) -> None:
    assert evaluate_expression(expr) is None


def test_arithmetic_tolerance_is_tighter_than_the_answer_tolerance() -> None:
    """48 is within 10% of 43.75, but '350/8 = 48' shows the division was done wrong."""
    assert checker.ARITHMETIC_TOLERANCE == 0.03
    claim = NumericClaim(turn=0, quote="-", quantity="weights_per_gpu", value=44.5, unit="GB", expression="350/8")
    assert check_claim(claim).verdict == "correct"  # 1.7% off: rounding, not a slip
    claim = claim.model_copy(update={"value": 45.5})
    check = check_claim(claim)
    assert check.verdict == "incorrect" and "arithmetic slip" in (check.diagnosis or "")


def test_sequences_that_fit_where_nothing_fits_is_incorrect_not_a_crash() -> None:
    """TP2 leaves 175 GB of weights per GPU: the expected count is 0, and a ratio against it must not divide by 0."""
    from grader.checker import check_claims
    from grader.claims import NumericClaim

    claim = NumericClaim(
        turn=1,
        quote="about 26 sequences fit",
        quantity="max_sequences",
        value=26,
        unit="count",
        approx=True,
        assumptions={"tp": 2, "pp": 1},
    )
    (check,) = check_claims([claim])
    assert check.verdict == "incorrect" and check.expected == 0
