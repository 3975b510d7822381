"""Reviewer overrides: the reviewer's sub-score replaces the machine's in the totals while the machine's is kept
beside it; the sidecar round-trips, is written atomically and names the line of a mistake."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from grader.loaders import load_transcript
from grader.overrides import (
    Override,
    OverrideError,
    apply_overrides,
    is_sidecar,
    level_for,
    load_overrides,
    save_overrides,
    sidecar_path,
)
from grader.pipeline import grade_transcript
from grader.report import CategoryScore, FlagHit, Report, SubScore
from grader.rubric import default_rubric
from grader.scorecard import render_json, render_markdown

GOOD = Path(__file__).parent / "data" / "transcripts" / "good"


def report(total_of: dict[str, dict[str, tuple[float, float]]], **kw: object) -> Report:
    """A report whose categories and total are plain sums of the given (score, max) sub-scores."""
    cats = {}
    for cid, subs in total_of.items():
        subscores = {sid: SubScore(score=s, max=m, band="Weak") for sid, (s, m) in subs.items()}
        cats[cid] = CategoryScore(
            score=sum(s for s, _ in subs.values()), max=sum(m for _, m in subs.values()), subscores=subscores
        )
    total = round(sum(c.score for c in cats.values()), 1)
    return Report(transcript_id="t", total=total, level=level_for(total), categories=cats, **kw)  # type: ignore[arg-type]


RUBRIC_SHAPED = {
    "requirements": {"requirements": (8, 10)},
    "parallelism": {"understanding": (7, 10), "memory_calculation": (8, 10), "strategy": (7, 10)},
    "communication": {"bandwidth_calculation": (6, 10), "optimization": (6, 10)},
    "fault_tolerance": {"detection": (5, 7), "recovery": (5, 8), "checkpointing": (3, 5)},
    "memory_management": {"memory_management": (8, 10)},
    "operations": {"operations": (6, 10)},
}  # total 69: L4, one point below L5


def ov(cat: str, sub: str, score: float, note: str = "reviewer judgement", **kw: object) -> Override:
    return Override(category=cat, subcriterion=sub, score=score, note=note, **kw)  # type: ignore[arg-type]


# --- apply -------------------------------------------------------------------------------------------------


def test_override_replaces_the_sub_score_and_keeps_the_machine_score() -> None:
    machine = report(RUBRIC_SHAPED)
    out = apply_overrides(machine, [ov("parallelism", "strategy", 9, reviewer="ana")])
    sub = out.categories["parallelism"].subscores["strategy"]
    assert sub.score == 9
    assert sub.override is not None
    assert sub.override["score"] == 9
    assert sub.override["machine_score"] == 7
    assert sub.override["note"] == "reviewer judgement"
    assert sub.override["reviewer"] == "ana"
    assert out.categories["parallelism"].score == 24  # 22 + 2
    assert out.total == 71
    assert machine.categories["parallelism"].subscores["strategy"].score == 7  # the input is not changed
    assert machine.total == 69


def test_level_and_recommendation_follow_the_new_total() -> None:
    machine = report(RUBRIC_SHAPED)
    assert machine.level == "L4"
    up = apply_overrides(machine, [ov("operations", "operations", 7)])  # 70
    assert up.total == 70
    assert up.level == "L5"
    assert up.recommendation == "Hire"
    down = apply_overrides(machine, [ov("parallelism", "memory_calculation", 0)])  # 61
    assert down.level == "L4"
    assert down.recommendation == "Hire"
    lean = apply_overrides(machine, [ov("parallelism", "memory_calculation", 0), ov("operations", "operations", 0)])
    assert (lean.total, lean.level, lean.recommendation) == (55, "L4", "No Hire")  # the rubric's "Lean No Hire"
    way_down = apply_overrides(
        machine, [ov("parallelism", "memory_calculation", 0), ov("parallelism", "understanding", 0)]
    )
    assert way_down.total == 54
    assert way_down.level == "below L4"
    assert way_down.recommendation == "No Hire"


def test_band_is_recomputed_from_the_rubric_and_the_machine_band_kept() -> None:
    machine = report(RUBRIC_SHAPED)
    sub = default_rubric().subcriterion("parallelism", "strategy")
    top = sub.bands[0]
    out = apply_overrides(machine, [ov("parallelism", "strategy", top.max)])
    got = out.categories["parallelism"].subscores["strategy"]
    assert got.band == top.name
    assert got.override is not None and got.override["machine_band"] == "Weak"
    one = apply_overrides(machine, [ov("requirements", "requirements", 10)])
    assert one.categories["requirements"].band == one.categories["requirements"].subscores["requirements"].band


@pytest.mark.parametrize(
    ("total", "level"),
    [(100, "L6"), (85, "L6"), (84.9, "L5"), (70, "L5"), (69.9, "L4"), (55, "L4"), (54.9, "below L4"), (0, "below L4")],
)
def test_level_thresholds(total: float, level: str) -> None:
    assert level_for(total, default_rubric()) == level
    assert level_for(total) == level  # the built-in thresholds agree with the rubric's


def test_red_flags_still_decide_the_recommendation() -> None:
    flags = [FlagHit(id=f"f{i}", turn=1, evidence="x") for i in range(3)]
    machine = report(RUBRIC_SHAPED, red_flags=flags)
    out = apply_overrides(machine, [ov("operations", "operations", 10), ov("requirements", "requirements", 10)])
    assert out.total == 75
    assert out.recommendation == "No Hire"  # 3+ red flags: No Hire whatever the total


def test_later_override_of_the_same_sub_criterion_wins() -> None:
    machine = report(RUBRIC_SHAPED)
    out = apply_overrides(
        machine, [ov("operations", "operations", 9, note="first"), ov("operations", "operations", 2, note="second")]
    )
    sub = out.categories["operations"].subscores["operations"]
    assert (sub.score, sub.override and sub.override["note"]) == (2, "second")
    assert out.total == 65


def test_applying_twice_keeps_the_first_machine_score() -> None:
    machine = report(RUBRIC_SHAPED)
    once = apply_overrides(machine, [ov("operations", "operations", 9)])
    twice = apply_overrides(once, [ov("operations", "operations", 1)])
    sub = twice.categories["operations"].subscores["operations"]
    assert sub.score == 1
    assert sub.override is not None and sub.override["machine_score"] == 6
    assert twice.total == 64


def test_a_machine_adjustment_on_top_of_the_sums_is_kept() -> None:
    machine = report(RUBRIC_SHAPED)
    penalised = machine.model_copy(update={"total": 60.0})  # e.g. a penalty the scoring applied to the total
    out = apply_overrides(penalised, [ov("operations", "operations", 8)])
    assert out.total == 62


def test_no_overrides_is_the_same_report() -> None:
    machine = report(RUBRIC_SHAPED)
    assert apply_overrides(machine, []) is machine


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (lambda: ov("parallelism", "strategy", 10.5), "outside 0..10"),
        (lambda: ov("fault_tolerance", "checkpointing", 6), "outside 0..5"),
        (lambda: ov("nope", "strategy", 1), "no category 'nope'"),
        (lambda: ov("parallelism", "nope", 1), "no sub-criterion 'nope'"),
    ],
    ids=["above-max", "above-small-max", "unknown-category", "unknown-sub"],
)
def test_invalid_override_is_refused(override, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OverrideError, match=message):
        apply_overrides(report(RUBRIC_SHAPED), [override()])


def test_unscored_report_cannot_be_overridden() -> None:
    with pytest.raises(OverrideError, match="no category scores"):
        apply_overrides(Report(transcript_id="t"), [ov("parallelism", "strategy", 1)])


@pytest.mark.parametrize(
    "fields",
    [
        {"score": -1},
        {"score": float("nan")},
        {"note": "   "},
        {"category": "../etc"},
        {"unknown": 1},
    ],
    ids=["negative", "nan", "blank-note", "bad-id", "unknown-field"],
)
def test_override_model_validation(fields: dict[str, object]) -> None:
    data: dict[str, object] = {"category": "parallelism", "subcriterion": "strategy", "score": 5, "note": "n"}
    data.update(fields)
    with pytest.raises(ValidationError):
        Override(**data)  # type: ignore[arg-type]


def test_override_on_a_real_report_renders_in_the_scorecard() -> None:
    machine = grade_transcript(load_transcript(GOOD / "project.yaml"))
    assert machine.categories, "the scoring fills categories"
    cat_id, cat = next(iter(machine.categories.items()))
    sub_id, sub = next(iter(cat.subscores.items()))
    new = sub.max if sub.score < sub.max else 0.0
    out = apply_overrides(machine, [ov(cat_id, sub_id, new, note="Reviewer: credit the question at turn 1")])
    assert out.total == pytest.approx(machine.total + new - sub.score, abs=0.05)
    md = render_markdown(out)
    assert "Reviewer note" in md and "Reviewer: credit the question at turn 1" in md
    data = yaml.safe_load(render_json(out))
    got = data["categories"][cat_id]["subscores"][sub_id]
    assert got["score"] == new and got["override"]["machine_score"] == sub.score


# --- the sidecar -------------------------------------------------------------------------------------------


def test_sidecar_is_named_after_the_whole_file_name(tmp_path: Path) -> None:
    assert sidecar_path(tmp_path / "a.yaml") == tmp_path / "a.yaml.overrides.yaml"
    assert sidecar_path(tmp_path / "session.txt") != sidecar_path(tmp_path / "session.md")
    assert sidecar_path(tmp_path / "a.yaml.overrides.yaml") == tmp_path / "a.yaml.overrides.yaml"
    assert is_sidecar(tmp_path / "a.yaml.overrides.yaml") and not is_sidecar(tmp_path / "a.yaml")


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    transcript = tmp_path / "h01.yaml"
    at = datetime(2026, 11, 27, 11, 40, tzinfo=UTC)
    items = [
        ov("parallelism", "strategy", 8, note="TP justified by NVLink", reviewer="ana", at=at),
        ov("operations", "operations", 2.5, note="only named metrics", at=at),
    ]
    side = save_overrides(transcript, items)
    assert side == tmp_path / "h01.yaml.overrides.yaml"
    assert load_overrides(transcript) == items
    assert load_overrides(side) == items
    text = side.read_text(encoding="utf-8")
    assert text.startswith("# Reviewer overrides for h01.yaml")
    assert yaml.safe_load(text)["transcript"] == "h01.yaml"
    assert [p.name for p in tmp_path.iterdir()] == ["h01.yaml.overrides.yaml"]  # no temp file left


def test_saving_keeps_one_override_per_sub_criterion(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    save_overrides(path, [ov("operations", "operations", 1, note="a"), ov("operations", "operations", 2, note="b")])
    assert [(o.score, o.note) for o in load_overrides(path)] == [(2, "b")]


def test_no_overrides_removes_the_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    save_overrides(path, [ov("operations", "operations", 1)])
    assert sidecar_path(path).exists()
    save_overrides(path, [])
    assert not sidecar_path(path).exists()
    assert load_overrides(path) == []


def test_missing_sidecar_is_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(tmp_path / "nothing.yaml") == []


def test_a_failed_write_leaves_the_old_sidecar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.yaml"
    save_overrides(path, [ov("operations", "operations", 1, note="old")])
    before = sidecar_path(path).read_bytes()

    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_overrides(path, [ov("operations", "operations", 2, note="new")])
    assert sidecar_path(path).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.yaml.overrides.yaml"]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("overrides:\n  - category: parallelism\n    score: [\n", "YAML syntax error", None),
        ("overrides:\n  - category: parallelism\n    subcriterion: strategy\n    score: 5\n", "note", 2),
        (
            "overrides:\n  - category: parallelism\n    subcriterion: strategy\n    score: -2\n    note: x\n",
            "overrides.0.score",
            4,
        ),
        ("- just a list\n", "(top level)", 1),
        ("overrides: []\nextra: 1\n", "extra", 2),
    ],
    ids=["syntax", "missing-note", "negative-score", "not-a-mapping", "unknown-key"],
)
def test_malformed_sidecar_names_file_and_line(tmp_path: Path, text: str, message: str, line: int | None) -> None:
    path = tmp_path / "t.yaml"
    sidecar_path(path).write_text(text, encoding="utf-8")
    with pytest.raises(OverrideError) as info:
        load_overrides(path)
    err = info.value
    assert message in err.one_line()
    assert err.path == str(sidecar_path(path))
    if line is not None:
        assert err.line == line
    assert "\n" not in err.one_line()


def test_empty_sidecar_is_no_overrides(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    sidecar_path(path).write_text("# nothing yet\n", encoding="utf-8")
    assert load_overrides(path) == []


def test_overrides_module_imports_no_ui() -> None:
    import subprocess
    import sys

    code = "import sys, grader.overrides\nprint(','.join(m for m in sys.modules if m.split('.')[0] == 'streamlit'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
