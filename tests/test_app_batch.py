"""Batch page through AppTest: uploads or a folder go through grader.batch.grade_batch, one table row per
transcript (errors included), and the downloads hold summary.csv and every report."""

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
    assert table["error"].isna().all()
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
    files = [
        ("project.yaml", (DATA / "good" / "project.yaml").read_bytes(), "text/yaml"),
        ("yaml_syntax.yaml", (DATA / "bad" / "yaml_syntax.yaml").read_bytes(), "text/yaml"),
    ]
    at.file_uploader(key="batch_uploads").set_value(files).run()
    at.button(key="batch_grade").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 2
    assert table["error"].notna().sum() == 1
    assert any("yaml_syntax.yaml" in w.value for w in at.warning)


def test_missing_folder_is_one_error_line(tmp_path: Path) -> None:
    at = batch_page()
    at.text_input(key="batch_folder").set_value(str(tmp_path / "nowhere")).run()
    at.button(key="batch_grade").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "nowhere" in at.error[0].value
    assert not at.dataframe


def test_grade_is_disabled_without_input() -> None:
    assert batch_page().button(key="batch_grade").disabled


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


def test_table_has_a_column_per_category(tmp_path: Path) -> None:
    result = grade_batch([str(DATA / "good" / "project.yaml")], tmp_path / "out", progress=False)
    df = rows_frame(result.rows)
    assert len(df) == 1
    assert {"id", "total", "level", "recommendation", "error"} <= set(df.columns)
    assert len(df.columns) == 10 + len(result.rows[0].categories)


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
