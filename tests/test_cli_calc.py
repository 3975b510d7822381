"""`python -m grader calc` and `grade` as a user runs them: in a subprocess, checking what is printed."""

from __future__ import annotations

import argparse
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from grader import calc_table, cli
from grader.calculator import BYTES_PER_ELEMENT, ServingConfig, reference
from grader.errors import RubricError

ROOT = Path(__file__).resolve().parent.parent
GOOD_TRANSCRIPTS = Path(__file__).parent / "data" / "transcripts" / "good"

VARIANT = ["--tp", "4", "--pp", "2", "--batch", "32", "--context", "4096", "--kv-precision", "int8"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_calc_default_prints_the_scenario_figures() -> None:
    out = run("calc")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    text = out.stdout
    assert text.splitlines()[0] == "175B, TP8 x PP1, FP16 weights, FP16 KV, batch 32, context 2048"
    for figure in (
        "350 GB (326 GiB)",  # weights
        "43.75 GB (40.75 GiB)",  # weights per GPU
        "4,718,592 B",  # KV per token
        "309.2 GB (288 GiB)",  # KV, 32 x 2048
        "38.65 GB (36 GiB)",  # KV per GPU
        "87.4 GB",  # per-GPU total
        "NO",  # ... does not fit in 80 GB
        "688,128 B",  # ring bytes at 8-way
        "21.46 ms",  # decode floor
        "40.41 ms",  # ... with KV reads
        "716.8 TFLOP",
        "287.2 ms",  # prefill on 8 GPUs
        "153",  # roofline ridge
    ):
        assert figure in text, figure
    assert "Conventions" in text
    for convention in ("300 GB/s per direction", "(p-1)/(m+p-1)", "(p-1)/m", "GiB"):
        assert convention in text.split("Conventions", 1)[1], convention


def test_calc_variant_tp4_pp2_context_4096_int8_kv() -> None:
    out = run("calc", *VARIANT)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.splitlines()[0] == "175B, TP4 x PP2, FP16 weights, INT8 KV, batch 32, context 4096"
    for figure in (
        "43.75 GB",  # weights per GPU: PP does not change it at 8 GPUs
        "2,359,296 B",  # INT8 KV per token: half of FP16
        "294,912 B",  # ... per GPU
        "309.2 GB",  # 32 x 4096 at 1 B = 32 x 2048 at 2 B
        "38.65 GB",  # per GPU
        "589,824 B",  # ring bytes at 4-way
        "1,179,648 B",  # 2 per layer
        "113.2 MB",  # per decode step
        "0.189 ms",  # at 600 GB/s
        "0.377 ms",  # at 300 GB/s, in the conventions
        "0.655 us",  # PP hand-off
        "11.11%",  # bubble, p=2 m=8 (wall)
        "12.5%",  # ... (relative)
        "42.91 ms",  # decode floor, TP4 x PP2
    ):
        assert figure in text, figure
    assert "Attention heads per GPU" in text and " 24 " in text


@pytest.mark.parametrize("args", [[], VARIANT], ids=["default", "variant"])
def test_calc_json_matches_reference(args: list[str]) -> None:
    out = run("calc", "--json", *args)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    overrides = cli.calc_overrides(cli.build_parser().parse_args(["calc", *args]))
    expected = reference(ServingConfig.from_scenario(**overrides))
    assert list(data) == list(expected)
    for name, q in expected.items():
        row = data[name]
        assert set(row) == {"label", "value", "unit", "formula"}
        assert (row["label"], row["unit"], row["formula"]) == (q.label, q.unit, q.formula)
        assert math.isclose(row["value"], q.value, rel_tol=1e-15, abs_tol=0), name


@pytest.mark.parametrize(
    "args",
    [
        ["--tp", "0"],
        ["--tp", "four"],
        ["--weight-precision", "fp64"],
        ["--utilisation", "1.5"],
        ["--gpu-memory-gb", "-80"],
        ["--bogus"],
    ],
    ids=["tp-zero", "tp-word", "precision", "utilisation", "negative-memory", "unknown-flag"],
)
def test_calc_bad_flag_value_exits_2_with_one_line(args: list[str]) -> None:
    out = run("calc", *args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in out.stderr


def test_no_command_is_a_usage_error() -> None:
    out = run()
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1


def test_calc_flags_map_to_config_fields_in_base_units() -> None:
    args = cli.build_parser().parse_args(
        ["calc", "--gpu-memory-gb", "85.9", "--hbm-tbps", "2.0", "--link-gbps", "300", "--activations-gb", "0"]
    )
    assert cli.calc_overrides(args) == {
        "gpu_memory_bytes": 85.9e9,
        "hbm_bandwidth": 2.0e12,
        "link_bandwidth": 300e9,
        "pp_link_bandwidth": 300e9,  # the stage link follows unless given
        "activation_bytes": 0.0,
    }
    args = cli.build_parser().parse_args(["calc", "--link-gbps", "600", "--pp-link-gbps", "25"])
    assert cli.calc_overrides(args)["pp_link_bandwidth"] == 25e9


def test_cli_precisions_mirror_the_calculator() -> None:
    assert set(cli.PRECISIONS) == set(BYTES_PER_ELEMENT)


def test_importing_the_cli_is_light() -> None:
    """`python -m grader --help` must not pay for pydantic, rich or yaml: handlers import them."""
    code = "import sys, grader.cli; print(','.join(m for m in ('pydantic', 'rich', 'yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_rich_table_renders_the_same_rows() -> None:
    cfg = ServingConfig.from_scenario(tp=4, pp=2)
    quantities = reference(cfg)
    buf = io.StringIO()
    calc_table.render_rich(cfg, quantities, buf)
    text = buf.getvalue()
    assert calc_table.header(cfg) in text
    assert "43.75 GB (40.75 GiB)" in text and "Conventions" in text


def test_unplaced_quantities_are_shown_under_other() -> None:
    quantities = reference(ServingConfig.from_scenario())
    shown = [q.name for _, qs in calc_table.sections(quantities) for q in qs]
    assert sorted(shown) == sorted(quantities)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (350e9, "B", "350 GB (326 GiB)"),
        (4_718_592, "B", "4.719 MB (4.5 MiB) = 4,718,592 B"),
        (0.021456, "s", "21.46 ms"),
        (0.000189, "s", "0.189 ms"),
        (6.5536e-7, "s", "0.655 us"),
        (1 / 9, "fraction", "11.11%"),
        (716.8e12, "FLOP", "716.8 TFLOP"),
        (61459, "count", "61,459"),
        (0.0, "bool", "NO"),
    ],
)
def test_value_formats(value: float, unit: str, text: str) -> None:
    from grader.calculator import Quantity

    assert calc_table.format_value(Quantity("x", "x", value, unit, "")) == text  # type: ignore[arg-type]


# --- registry and error handling ----------------------------------------------------------------------------


def test_commands_are_registered_in_one_dict() -> None:
    assert {"calc", "grade"} <= set(cli.COMMANDS)
    help_text = cli.build_parser().format_help()
    assert "calc" in help_text and "grade" in help_text


def test_a_grader_error_in_any_command_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(args: argparse.Namespace) -> int:
        raise RubricError("categories.memory: field required", path="rubric/x.yaml", line=7)

    monkeypatch.setitem(cli.COMMANDS, "boom", cli.Command("fails", lambda p: None, boom))
    assert cli.main(["boom"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "error: rubric/x.yaml:7: categories.memory: field required\n"
    assert captured.out == ""


def test_grade_missing_file_exits_2_with_one_line() -> None:
    out = run("grade", "no/such/transcript.md", "--json")
    assert out.returncode == 2
    assert out.stderr.splitlines() == ["error: no/such/transcript.md: no such file"]


def _a_good_transcript() -> Path:
    files = sorted(p for p in GOOD_TRANSCRIPTS.glob("*") if p.is_file()) if GOOD_TRANSCRIPTS.is_dir() else []
    if not files:
        pytest.skip(f"no transcripts in {GOOD_TRANSCRIPTS.relative_to(ROOT)} yet")
    return files[0]


def test_grade_json_parses_into_a_report() -> None:
    pytest.importorskip("grader.pipeline")
    from grader.report import Report

    path = _a_good_transcript()
    out = run("grade", str(path), "--json")
    assert out.returncode == 0, out.stderr
    report = Report.model_validate_json(out.stdout)
    assert report.transcript_id
    same = run("grade", str(path), "--format", "json")
    assert Report.model_validate_json(same.stdout).total == report.total


def test_grade_markdown_scorecard() -> None:
    pytest.importorskip("grader.pipeline")
    pytest.importorskip("grader.scorecard")
    out = run("grade", str(_a_good_transcript()), "--format", "md")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()
