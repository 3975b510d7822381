"""`python -m grader calc` and `grade` as a user runs them: in a subprocess, checking what is printed."""

from __future__ import annotations

import argparse
import io
import json
import math
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from grader import calc_table, cli
from grader.calculator import BYTES_PER_ELEMENT, ServingConfig
from grader.errors import RubricError
from grader.quantities.model import Band
from grader.quantities.model import Quantity as RegistryQuantity
from grader.quantities.registry import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
GOOD_TRANSCRIPTS = Path(__file__).parent / "data" / "transcripts" / "good"

VARIANT = ["--tp", "4", "--pp", "2", "--batch", "32", "--context", "4096", "--kv-precision", "int8"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def block(text: str, qid: str, quantities: Mapping[str, RegistryQuantity] = REGISTRY) -> str:
    """The printed lines of one registry quantity: its labelled line and the convention lines under it."""
    label = quantities[qid].label
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"  {label}  ")), None)
    assert start is not None, f"no row for {qid} ({label!r})"
    end = start + 1
    while end < len(lines) and lines[end].startswith(" " * (len(label) + 4)):
        end += 1
    return "\n".join(lines[start:end])


def test_calc_default_prints_the_scenario_figures() -> None:
    out = run("calc")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    text = out.stdout
    assert text.splitlines()[0] == "175B, TP8 x PP1, FP16 weights, FP16 KV, batch 32, context 2048"
    for qid, figure in (
        ("weights_total", "350 GB (326 GiB)"),
        ("weights_per_gpu", "43.75 GB (40.75 GiB)"),
        ("kv_per_token", "4,718,592 B"),
        ("kv_total", "309.2 GB (288 GiB)"),  # 32 x 2048
        ("kv_per_gpu", "38.65 GB (36 GiB)"),
        ("per_gpu_total", "87.4 GB"),  # typical, with its range beside it
        ("per_gpu_total", "range 82.9 GB - 92.4 GB"),
        ("free_after_weights", "36.25 GB"),  # 80 GB - 43.75 GB ...
        ("free_after_weights", "42.15 GB"),  # ... and 80 GiB - 43.75 GB: both conventions
        ("allreduce_ring_bytes", "688,128 B"),  # ring bytes at 8-way
        ("decode_floor", "21.46 ms"),
        ("decode_floor", "21.88 ms"),  # at ~2.0 TB/s
        ("decode_floor_with_kv", "40.41 ms"),
        ("prefill_flops", "716.8 TFLOP"),
        ("prefill_floor", "287.2 ms"),  # on 8 GPUs
        ("compute_bound_batch", "153"),  # roofline ridge
        ("downtime_budget", "43.2 min"),
        ("hbm_bandwidth", "2.039 TB/s"),
    ):
        assert figure in block(text, qid), (qid, figure)
    assert "Conventions" in text
    footer = text.split("Conventions", 1)[1]
    for convention in ("300 GB/s per direction", "(p-1)/(m+p-1)", "(p-1)/m", "GiB", "does NOT fit in 80 GB"):
        assert convention in footer, convention


def test_calc_variant_tp4_pp2_context_4096_int8_kv() -> None:
    out = run("calc", *VARIANT)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.splitlines()[0] == "175B, TP4 x PP2, FP16 weights, INT8 KV, batch 32, context 4096"
    for qid, figure in (
        ("weights_per_gpu", "43.75 GB"),  # PP does not change it at 8 GPUs
        ("kv_per_token", "2,359,296 B"),  # INT8 KV per token: half of FP16
        ("kv_per_token_per_gpu", "294,912 B"),
        ("kv_total", "309.2 GB"),  # 32 x 4096 at 1 B = 32 x 2048 at 2 B
        ("kv_per_gpu", "38.65 GB"),
        ("allreduce_ring_bytes", "589,824 B"),  # ring bytes at 4-way
        ("allreduce_per_layer", "1,179,648 B"),  # 2 per layer
        ("tp_volume_per_step", "113.2 MB"),
        ("tp_comm_wire_time", "0.189 ms"),  # at 600 GB/s
        ("tp_comm_wire_time", "0.377 ms"),  # at 300 GB/s per direction
        ("pp_handoff_time", "0.655 us"),
        ("bubble", "11.11%"),  # p=2 m=8, share of wall time
        ("bubble", "12.5%"),  # ... relative to ideal
        ("decode_floor", "42.91 ms"),  # TP4 x PP2: the stages run in turn
        ("stage_floor", "21.46 ms"),
        ("heads_per_gpu", "24"),
    ):
        assert figure in block(text, qid), (qid, figure)


def test_calc_flags_the_registry_reads_change_the_table() -> None:
    """Every calc flag reaches a figure: the activation budget the totals, the stage link the hand-off, the
    utilisation the prefill time, the card's memory the fit."""
    out = run(
        "calc", "--activations-gb", "0", "--pp-link-gbps", "50", "--utilisation", "0.5", "--gpu-memory-gb", "85.9"
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.splitlines()[0].endswith(", activations 0 GB")
    assert "82.4 GB" in block(text, "per_gpu_total")  # 43.75 + 38.65, no activations
    assert "7.864 us" in block(text, "pp_handoff_time") and "(the stage link)" in block(text, "pp_handoff_time")
    assert "574.4 ms" in block(text, "prefill_floor") and "50% of peak" in block(text, "prefill_floor")
    assert "fits in 85.9 GB" in text.split("Conventions", 1)[1]


@pytest.mark.parametrize("args", [[], VARIANT], ids=["default", "variant"])
def test_calc_json_is_the_registry(args: list[str]) -> None:
    out = run("calc", "--json", *args)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    overrides = cli.calc_overrides(cli.build_parser().parse_args(["calc", *args]))
    cfg = ServingConfig.from_scenario(**overrides)
    assert list(data) == list(REGISTRY)
    for qid, q in REGISTRY.items():
        row = data[qid]
        assert set(row) == {
            "label", "kind", "dimension", "unit", "section", "formula", "value", "band", "conventions", "error"
        }  # fmt: skip
        assert (row["label"], row["kind"], row["dimension"], row["formula"]) == (
            q.label,
            q.kind,
            q.dimension,
            q.formula,
        )
        assert row["unit"] == calc_table.UNITS[q.dimension]
        value = q.value(cfg)
        if isinstance(value, Band):
            assert row["band"] == {"lo": value.lo, "hi": value.hi, "typical": value.typical}, qid
            assert row["value"] == (value.typical if value.typical is not None else value.lo), qid
        elif isinstance(value, list):
            conventions = [{"value": float(v), "label": label} for v, label in value]
            assert row["conventions"] == conventions and row["band"] is None, qid
            assert row["value"] == (float(value[0][0]) if value else None), qid
        else:
            assert math.isclose(row["value"], float(value), rel_tol=1e-15, abs_tol=0), qid
            assert row["conventions"] == [] and row["band"] is None, qid


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
        "stated_activation_bytes": 0.0,  # the budget given is the deployment's own, as a candidate's stated one
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
    rows = calc_table.evaluate(cfg)
    buf = io.StringIO()
    calc_table.render_rich(cfg, rows, buf)
    text = buf.getvalue()
    assert calc_table.header(cfg) in text
    assert "43.75 GB (40.75 GiB)" in text and "Conventions" in text
    assert "42.91 ms" in text and "11.11%" in text and "12.5%" in text


def test_every_registry_quantity_is_shown_once() -> None:
    rows = calc_table.evaluate(ServingConfig.from_scenario())
    shown = [r.quantity.id for _, rs in calc_table.sections(rows) for r in rs]
    assert sorted(shown) == sorted(REGISTRY) and len(shown) == len(set(shown))


def test_inputs_and_facts_have_their_own_sections() -> None:
    rows = calc_table.evaluate(ServingConfig.from_scenario())
    by_section = {title: {r.quantity.id for r in rs} for title, rs in calc_table.sections(rows)}
    assert by_section[calc_table.INPUTS] == {q.id for q in REGISTRY.values() if q.kind == "input"}
    assert {q.id for q in REGISTRY.values() if q.kind == "fact"} <= by_section[calc_table.FACTS]
    computed = set().union(*(ids for t, ids in by_section.items() if t not in (calc_table.INPUTS, calc_table.FACTS)))
    assert all(REGISTRY[i].kind in ("derived", "band") for i in computed)


def test_a_new_registry_entry_appears_without_editing_the_table() -> None:
    """Sections come from the registry's metadata: an entry of a known family joins its section, one of a new
    family gets a section of its own; none is dropped."""
    kin = RegistryQuantity("kv_per_page", "KV cache per page", "bytes", "derived", lambda c: 2.0**21, topics=("kv",))
    stranger = RegistryQuantity(
        "teleport_time", "Teleport time", "time", "band", lambda c: Band(1e-3, 3e-3, 2e-3), topics=("teleport",)
    )
    quantities = {**REGISTRY, kin.id: kin, stranger.id: stranger}
    cfg = ServingConfig.from_scenario()
    rows = calc_table.evaluate(cfg, quantities)
    groups = dict(calc_table.sections(rows))
    assert "kv_per_page" in {r.quantity.id for r in groups["KV cache"]}
    assert [r.quantity.id for r in groups["Teleport"]] == ["teleport_time"]
    text = calc_table.render_text(cfg, rows)
    assert "2 ms" in block(text, "teleport_time", quantities)
    assert "range 1 ms - 3 ms" in block(text, "teleport_time", quantities)
    assert "2.097 MB (2 MiB)" in block(text, "kv_per_page", quantities)


def test_a_quantity_without_a_value_for_the_config_says_so() -> None:
    rows = calc_table.evaluate(ServingConfig.from_scenario())  # no GPU count in view: memory_of_gpus is empty
    row = next(r for r in rows if r.quantity.id == "memory_of_gpus")
    assert row.figures == () and row.primary is None
    assert calc_table.lines(row)[0].value == "-" and "not defined" in calc_table.lines(row)[0].note
    assert calc_table.to_json([row])["memory_of_gpus"]["value"] is None


def test_a_quantity_whose_arithmetic_fails_shows_why_not_a_number() -> None:
    broken = RegistryQuantity("per_nothing", "Bytes per nothing", "bytes", "derived", lambda c: c.tp / 0.0)
    rows = calc_table.evaluate(ServingConfig.from_scenario(), {broken.id: broken})
    (row,) = rows
    assert row.figures == () and row.error is not None and "ZeroDivisionError" in row.error
    (line,) = calc_table.lines(row)
    assert line.value == "-" and "ZeroDivisionError" in line.note
    assert calc_table.to_json(rows)["per_nothing"]["value"] is None


@pytest.mark.parametrize(
    ("value", "dimension", "text"),
    [
        (350e9, "bytes", "350 GB (326 GiB)"),
        (4_718_592, "bytes", "4.719 MB (4.5 MiB) = 4,718,592 B"),
        (-7.405e9, "bytes", "-7.405 GB (-6.896 GiB)"),
        (0.021456, "time", "21.46 ms"),
        (0.000189, "time", "0.189 ms"),
        (6.5536e-7, "time", "0.655 us"),
        (2592.0, "time", "43.2 min"),
        (31536.0, "time", "8.76 h"),
        (1 / 9, "fraction", "11.11%"),
        (716.8e12, "flop", "716.8 TFLOP"),
        (2.496e15, "flops", "2.496 PFLOPS"),
        (2.039e12, "rate", "2.039 TB/s"),
        (25e9, "rate", "25 GB/s"),
        (61459, "count", "61,459"),
        (175e9, "count", "175B"),
        (517.2, "throughput", "517.2 tokens/s"),
    ],
)
def test_value_formats(value: float, dimension: str, text: str) -> None:
    assert calc_table.format_value(value, dimension) == text


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
