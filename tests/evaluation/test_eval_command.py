"""`python -m grader eval` on a labelled set small enough to check by hand (tests/data/eval): the figures, the
disagreement lines, the JSON and the gates. The grader's quality is measured on ../shared/corpus instead."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cli
from grader.evaluation.agreement import Agreement
from grader.evaluation.labels import LabelsError, load_labels
from grader.evaluation.run import evaluate, to_json

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "data" / "eval"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", "eval", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_figures_of_the_tiny_set_are_the_ones_worked_out_by_hand() -> None:
    agg, reports = evaluate([TINY])
    assert [r.transcript_id for r in reports] == ["right", "wrong"]
    got = {name: (getattr(agg, name).hits, getattr(agg, name).total) for name in Agreement.FIGURES}
    # numbers: 4 labelled correct (none called wrong), the 2 labelled incorrect both caught; the derived correct
    # ones are 350 and 43.75 (the GPU count and NVLink's 600 GB/s are scenario facts, not derived)
    assert got["false_alarms"] == (0, 4)
    assert got["precision"] == (2, 2) and got["recall"] == (2, 2)
    assert got["coverage"] == (2, 2)
    # scores: "right" has a range every grade meets, "wrong" one no grade of it meets
    assert got["totals"] == (1, 2)
    assert got["categories"] == (1, 1) and got["flags"] == (1, 1)
    assert [d.transcript for d in agg.disagreements] == ["wrong"]


def test_the_command_prints_the_table_and_one_line_per_disagreement() -> None:
    out = run(str(TINY))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "2 transcripts, 6 labelled numbers, 6 matched to a check"
    assert any(line.startswith("false_alarms") and "(0/4)" in line for line in lines)
    assert any(line.startswith("totals") and "50.0%" in line for line in lines)
    assert "disagreements (1):" in lines
    assert lines[-1].strip().startswith("wrong: total") and "label 99-100" in lines[-1]


def test_json_is_the_same_figures() -> None:
    out = run(str(TINY), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data == to_json(evaluate([TINY])[0])
    assert data["figures"]["recall"] == {"value": 1.0, "hits": 2, "total": 2}


@pytest.mark.parametrize(
    ("gate", "code"),
    [
        (["--min", "recall=1"], 0),
        (["--min", "totals=90%"], 1),  # 50% of totals in range
        (["--min", "false_alarms=0"], 0),  # a floor on false alarms is a ceiling: 0% <= 0%
        (["--max", "coverage=0.5"], 1),
    ],
)
def test_gates_set_the_exit_code_and_name_what_is_not_met(gate: list[str], code: int) -> None:
    out = run(str(TINY), *gate)
    assert out.returncode == code, out.stderr
    assert ("not met:" in out.stderr) == bool(code)


def test_a_bad_gate_is_one_clear_error() -> None:
    out = run(str(TINY), "--min", "speed=0.9")
    assert out.returncode == 2 and "expected FIGURE=VALUE" in out.stderr


def test_the_cli_knows_the_figures_the_agreement_computes() -> None:
    assert cli.EVAL_FIGURES == Agreement.FIGURES


def test_a_label_for_a_missing_transcript_names_the_labels_file(tmp_path: Path) -> None:
    (tmp_path / "labels.yaml").write_text("ghost:\n  file: ghost.yaml\n", encoding="utf-8")
    with pytest.raises(LabelsError) as e:
        load_labels(tmp_path)
    assert "labels.yaml" in str(e.value) and "ghost.yaml" in str(e.value)
