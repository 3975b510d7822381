"""Batch page through AppTest: uploads or a folder go through grader.batch.grade_batch, one table row per
transcript (errors included), and the downloads hold summary.csv and every report. The folder starts filled
in, practice sessions and Replay uploads stay out unless asked for, reviewer overrides are applied and shown,
and a batch that cannot start leaves no progress bar behind."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.batch import display_file, rows_frame, upload_names
from app_ui import resources
from grader.batch import grade_batch

APP = str(Path(__file__).resolve().parent.parent / "app.py")
DATA = Path(__file__).parent / "data" / "transcripts"
TIMEOUT = 60
THREE = ["project.yaml", "session.txt", "chat.json"]


@pytest.fixture(autouse=True)
def _dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_TRANSCRIPTS_DIR", str(tmp_path / "transcripts"))
    monkeypatch.setenv("COACH_SESSIONS_DIR", str(tmp_path / "transcripts" / "sessions"))
    monkeypatch.setenv("COACH_BATCH_ROOT", str(tmp_path))
    monkeypatch.setattr(resources, "_secrets", dict)  # offline, whatever a local secrets.toml says


def batch_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/batch.py").run()
    assert not at.exception
    return at


def upload(at: AppTest, names: list[str], folder: str = "good") -> AppTest:
    at.radio(key="batch_source").set_value("upload").run()
    files = [(n, (DATA / folder / n).read_bytes(), "application/octet-stream") for n in names]
    at.file_uploader(key="batch_uploads").set_value(files).run()
    return at


def test_three_uploads_make_three_rows(downloads: dict[str, Any]) -> None:
    at = upload(batch_page(), THREE)
    assert not at.button(key="batch_grade").disabled
    at.button(key="batch_grade").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) == 3
    assert list(table["file"]) == THREE, "uploads are listed by their own names, not a temp path"
    assert "error" not in set(table["level"]), "nothing failed"
    assert {m.label: m.value for m in at.metric}["Transcripts"] == "3"

    rows = list(csv.DictReader(io.StringIO(downloads["summary.csv"])))
    assert [r["file"] for r in rows] == THREE
    with zipfile.ZipFile(io.BytesIO(downloads["All reports (zip)"])) as zf:
        names = set(zf.namelist())
    assert {"reports/summary.csv", "reports/summary.md"} <= names
    assert {f"reports/{Path(n).stem}.json" for n in THREE} <= names
    assert {f"reports/{Path(n).stem}.md" for n in THREE} <= names
    assert not any(".manifest" in n for n in names)
    with zipfile.ZipFile(io.BytesIO(downloads["All reports (zip)"])) as zf:
        assert json.loads(zf.read("reports/project.json"))["transcript_id"]


def test_folder_path_grades_every_transcript_but_not_override_sidecars(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in THREE:
        shutil.copy(DATA / "good" / n, folder / n)
    (folder / "project.yaml.overrides.yaml").write_text("overrides: []\n", encoding="utf-8")
    at = batch_page()
    at.text_input(key="batch_folder").set_value(str(folder)).run()
    at.button(key="batch_grade").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 3
    assert sorted(Path(f).name for f in table["file"]) == sorted(THREE)
    assert not list(folder.glob("*.json.md")) and sorted(p.name for p in folder.iterdir()) == sorted(
        [*THREE, "project.yaml.overrides.yaml"]
    ), "grading writes nothing into the input folder"


def test_a_bad_file_is_an_error_row_not_a_crash() -> None:
    at = batch_page()
    at.radio(key="batch_source").set_value("upload").run()
    files = [
        ("project.yaml", (DATA / "good" / "project.yaml").read_bytes(), "text/yaml"),
        ("yaml_syntax.yaml", (DATA / "bad" / "yaml_syntax.yaml").read_bytes(), "text/yaml"),
    ]
    at.file_uploader(key="batch_uploads").set_value(files).run()
    at.button(key="batch_grade").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 2
    assert list(table["level"]).count("error") == 1
    assert any("yaml_syntax.yaml" in w.value for w in at.warning)


def test_missing_folder_is_one_error_line(tmp_path: Path) -> None:
    at = batch_page()
    at.text_input(key="batch_folder").set_value(str(tmp_path / "nowhere")).run()
    at.button(key="batch_grade").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "nowhere" in at.error[0].value
    assert not at.dataframe
    assert not at.get("progress"), "no progress bar is left above the error"


def test_grade_is_disabled_without_input() -> None:
    at = batch_page()
    at.radio(key="batch_source").set_value("upload").run()
    assert at.button(key="batch_grade").disabled
    at.radio(key="batch_source").set_value("folder").run()
    at.text_input(key="batch_folder").set_value("").run()
    assert at.button(key="batch_grade").disabled


def test_the_batch_folder_is_filled_in_and_grades_at_once(tmp_path: Path) -> None:
    for n in THREE:
        shutil.copy(DATA / "good" / n, tmp_path / n)
    at = batch_page()
    assert at.text_input(key="batch_folder").value == str(tmp_path), "the default is the batch folder itself"
    assert not at.button(key="batch_grade").disabled
    at.button(key="batch_grade").click().run()
    assert not at.exception
    assert sorted(at.dataframe[0].value["file"]) == sorted(THREE)
    assert not at.get("progress"), "the bar is gone once the table is there"


def _sessions_and_uploads(root: Path) -> None:
    from grader.interview import InterviewEngine
    from grader.store import save_transcript_atomic

    sessions = root / "transcripts" / "sessions"
    done = InterviewEngine(transcript_id="done")
    done.start()
    done.reply("The weights are 175B x 2 bytes = 350 GB in fp16.")
    save_transcript_atomic(done.end(), sessions / "done.yaml")
    going = InterviewEngine(transcript_id="going")
    going.start()
    going.reply("What interconnect do the nodes have?")
    save_transcript_atomic(going.transcript, sessions / "going.yaml")
    (root / "transcripts" / "uploads").mkdir(parents=True)
    shutil.copy(DATA / "good" / "qa.txt", root / "transcripts" / "uploads" / "qa-0123456789.txt")
    shutil.copy(DATA / "good" / "project.yaml", root / "transcripts" / "project.yaml")


def test_sessions_and_uploads_are_left_out_unless_asked_for(tmp_path: Path) -> None:
    _sessions_and_uploads(tmp_path)
    at = batch_page()
    at.button(key="batch_grade").click().run()
    assert not at.exception
    assert list(at.dataframe[0].value["file"]) == ["transcripts/project.yaml"]

    at.checkbox(key="batch_sessions").check().run()
    at.checkbox(key="batch_uploaded").check().run()
    at.button(key="batch_grade").click().run()
    files = sorted(at.dataframe[0].value["file"])
    assert files == [
        "transcripts/project.yaml",
        "transcripts/sessions/done.yaml",
        "transcripts/uploads/qa-0123456789.txt",
    ]
    assert "transcripts/sessions/going.yaml" not in files, "an interview still going has nothing to grade yet"


def test_replay_overrides_are_applied_and_shown(tmp_path: Path, downloads: dict[str, Any]) -> None:
    from grader.loaders import load_transcript
    from grader.overrides import Override, save_overrides
    from grader.pipeline import grade_transcript

    shutil.copy(DATA / "good" / "project.yaml", tmp_path / "project.yaml")
    shutil.copy(DATA / "good" / "chat.json", tmp_path / "chat.json")
    machine = grade_transcript(load_transcript(tmp_path / "project.yaml"))
    cat_id, cat = next(iter(machine.categories.items()))
    sub_id, sub = next(iter(cat.subscores.items()))
    new = 0.0 if sub.score > 0 else float(sub.max)
    save_overrides(tmp_path / "project.yaml", [Override(category=cat_id, subcriterion=sub_id, score=new, note="n")])

    at = batch_page()
    at.button(key="batch_grade").click().run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("file")
    assert table.loc["project.yaml", "total"] == pytest.approx(machine.total + new - sub.score, abs=0.05)
    assert table.loc["project.yaml", "machine"] == pytest.approx(machine.total, abs=0.05)
    assert table.loc["chat.json", "machine"] == table.loc["chat.json", "total"]
    assert any("1 with reviewer overrides" in c.value for c in at.caption)
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO(downloads["summary.csv"]))}
    assert float(rows["project.yaml"]["machine_total"]) == pytest.approx(machine.total, abs=0.05)
    assert rows["project.yaml"]["overrides"] == "1"


def test_the_cli_batch_applies_overrides_and_regrades_when_they_change(tmp_path: Path) -> None:
    from grader.overrides import Override, save_overrides
    from grader.report import Report

    shutil.copy(DATA / "good" / "project.yaml", tmp_path / "project.yaml")
    first = grade_batch([str(tmp_path / "project.yaml")], tmp_path / "out", progress=False).rows[0]
    assert first.overrides == 0 and first.machine_total is None
    cat_id, cat = next(
        iter(Report.model_validate_json((tmp_path / "out" / "project.json").read_text()).categories.items())
    )
    sub_id = next(iter(cat.subscores))
    save_overrides(tmp_path / "project.yaml", [Override(category=cat_id, subcriterion=sub_id, score=0, note="n")])
    second = grade_batch([str(tmp_path / "project.yaml")], tmp_path / "out", progress=False).rows[0]
    assert not second.skipped and second.overrides == 1 and second.machine_total == first.total
    report = Report.model_validate_json((tmp_path / "out" / "project.json").read_text())
    assert report.categories[cat_id].subscores[sub_id].override["machine_score"] is not None
    third = grade_batch([str(tmp_path / "project.yaml")], tmp_path / "out", progress=False).rows[0]
    assert third.skipped and third.total == second.total and third.machine_total == first.total
    (tmp_path / "project.yaml.overrides.yaml").write_text("overrides: [\n", encoding="utf-8")
    broken = grade_batch([str(tmp_path / "project.yaml")], tmp_path / "out", progress=False).rows[0]
    assert broken.error and "project.yaml.overrides.yaml" in broken.error


def test_upload_names_are_safe_and_unique() -> None:
    assert upload_names(["a.yaml", "A.yaml", "../../x.txt", "dir\\y.md", "we ird!.json", ".yaml"]) == [
        "a.yaml",
        "A-2.yaml",
        "x.txt",
        "y.md",
        "we_ird.json",
        "transcript.yaml",
    ]


def test_files_are_shown_relative_to_what_was_given(tmp_path: Path) -> None:
    assert display_file(str(tmp_path / "up" / "a.yaml"), [tmp_path / "up"]) == "a.yaml"
    assert display_file(str(tmp_path / "in" / "x" / "b.md"), [tmp_path / "up", tmp_path / "in"]) == "x/b.md"
    assert display_file(str(tmp_path / "in" / "c.json"), [tmp_path / "in" / "c.json"]) == "c.json"
    assert display_file("/elsewhere/d.txt", [tmp_path]) == "/elsewhere/d.txt"


def test_table_has_a_short_column_per_category_and_nothing_it_does_not_need(tmp_path: Path) -> None:
    from app_pages.batch import TABLE_WIDTHS
    from grader.labels import category_short

    result = grade_batch([str(DATA / "good" / "project.yaml")], tmp_path / "out", progress=False)
    df = rows_frame(result.rows)
    assert len(df) == 1
    cats = list(result.rows[0].categories)
    assert list(df.columns) == [
        "file",
        "total",
        "level",
        "recommendation",
        *(category_short(c) for c in cats),
    ], "no id beside the file, no machine total when no reviewer changed one"
    bad = grade_batch([str(DATA / "bad" / "yaml_syntax.yaml")], tmp_path / "out2", progress=False).rows
    assert list(rows_frame([*result.rows, *bad])["level"]) == [result.rows[0].level, "error"]
    widest = sum(TABLE_WIDTHS[k] for k in ("file", "total", "machine", "level", "recommendation"))
    assert widest + len(cats) * TABLE_WIDTHS["category"] <= 940, "fits beside the sidebar at 1,400 px"


@pytest.mark.parametrize("folder", ["/", "/etc", "/etc/pass*", "../", "/tmp/*/chat.json", "in/../../elsewhere"])
def test_folder_outside_the_batch_root_is_refused_in_one_line(tmp_path: Path, folder: str) -> None:
    """Anyone with the URL types here: nothing outside COACH_BATCH_ROOT is listed, read or graded."""
    elsewhere = tmp_path.parent / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    shutil.copy(DATA / "good" / "chat.json", elsewhere / "chat.json")
    at = batch_page()
    at.text_input(key="batch_folder").set_value(folder).run()
    at.button(key="batch_grade").click().run()
    assert not at.exception
    assert len(at.error) == 1
    assert "outside the batch folder" in at.error[0].value or "may not climb out" in at.error[0].value
    assert not at.dataframe, "no rows: not even the names of the files there"


def test_folder_is_relative_to_the_batch_root(tmp_path: Path) -> None:
    (tmp_path / "team" / "week1").mkdir(parents=True)
    for n in THREE:
        shutil.copy(DATA / "good" / n, tmp_path / "team" / "week1" / n)
    (tmp_path / "team" / "week1" / "notes").write_text("Interviewer: x\nCandidate: y\n", encoding="utf-8")
    at = batch_page()
    at.text_input(key="batch_folder").set_value("team").run()
    at.button(key="batch_grade").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["file"]) == sorted(f"week1/{n}" for n in THREE)
