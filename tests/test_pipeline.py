"""The one path from a transcript to a report: provenance, the extractor choice, and the CLI around it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader import __version__
from grader.errors import ConfigError
from grader.loaders import load_transcript
from grader.paths import TRANSCRIPTS_DIR
from grader.pipeline import grade_file, grade_transcript
from grader.report import Report
from grader.rubric import default_rubric

SAMPLE = TRANSCRIPTS_DIR / "calibration_outstanding.yaml"


def test_report_records_what_reproduces_it() -> None:
    report = grade_file(SAMPLE)
    p = report.provenance
    assert p is not None
    assert (p.extractor, p.grader_version, p.rubric_version) == ("rules", __version__, default_rubric().version)
    assert len(p.transcript_hash) == 64 and report.extractor == "rules"


def test_choosing_the_llm_without_an_endpoint_is_a_config_error_not_a_silent_fallback() -> None:
    with pytest.raises(ConfigError, match="COACH_LLM_BASE_URL"):
        grade_transcript(load_transcript(SAMPLE), extractor="llm")


def test_cli_grade_json_is_the_report_contract() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(SAMPLE), "--json"], capture_output=True, text=True, check=True
    )
    data = json.loads(out.stdout)
    Report.model_validate(data)
    assert set(data) >= {
        "transcript_id",
        "total",
        "level",
        "recommendation",
        "categories",
        "checks",
        "red_flags",
        "green_flags",
        "extractor",
    }
    check = next(c for c in data["checks"] if c["claimed"] == 21.875)
    assert check["verdict"] == "incorrect" and check["unit"] == "GB" and check["expected"] == pytest.approx(43.75)


def test_cli_llm_without_endpoint_exits_2_with_one_line() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(SAMPLE), "--extractor", "llm"], capture_output=True, text=True
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ")
