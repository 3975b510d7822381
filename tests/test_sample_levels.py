"""The sample interviews written for each level land in that level, with the offline grader."""

from __future__ import annotations

import pytest

from grader.paths import TRANSCRIPTS_DIR
from grader.pipeline import grade_file

LEVELS = {
    "l6_strong": ("L6", "Strong Hire"),
    "l5_solid": ("L5", None),
    "l4_basic": ("L4", None),
    "below_l4": ("below L4", "No Hire"),
}


@pytest.mark.parametrize("sample", sorted(LEVELS))
def test_sample_lands_in_its_level(sample: str) -> None:
    level, recommendation = LEVELS[sample]
    report = grade_file(TRANSCRIPTS_DIR / f"{sample}.yaml")
    assert report.level == level, f"{sample}: {report.total} is {report.level}"
    if recommendation:
        assert report.recommendation == recommendation


def test_levels_are_ordered_by_total() -> None:
    totals = [
        grade_file(TRANSCRIPTS_DIR / f"{s}.yaml").total for s in ("below_l4", "l4_basic", "l5_solid", "l6_strong")
    ]
    assert totals == sorted(totals)


def test_below_l4_carries_the_red_flags_that_sink_it() -> None:
    report = grade_file(TRANSCRIPTS_DIR / "below_l4.yaml")
    ids = {f.id for f in report.red_flags}
    assert {"single_gpu_solution", "unrealistic_latency"} <= ids
    assert len(ids) >= 3 and report.recommendation == "No Hire"
