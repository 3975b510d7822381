"""Batch grading: a report per transcript, error rows instead of gaps, resumable reruns, stable summaries."""

from __future__ import annotations

import csv
import io
import shutil
import threading
from pathlib import Path

import pytest

from grader import pipeline
from grader.batch import (
    JOURNAL,
    MANIFEST,
    BatchRow,
    Manifest,
    ManifestEntry,
    assign_ids,
    expand_inputs,
    grade_batch,
    histogram,
    summarise,
)
from grader.claims import Claims
from grader.errors import ConfigError, TranscriptError
from grader.extract.base import ExtractionResult
from grader.extract.rules import RulesExtractor
from grader.report import CategoryScore, Report

DATA = Path(__file__).parent / "data" / "transcripts"
GOOD = ("project.yaml", "chat.json", "session.txt")
BAD = "yaml_syntax.yaml"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """3 good transcripts and 1 bad one."""
    d = tmp_path / "in"
    d.mkdir()
    for name in GOOD:
        shutil.copy(DATA / "good" / name, d / name)
    shutil.copy(DATA / "bad" / BAD, d / BAD)
    return d


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def mtimes(out: Path) -> dict[str, int]:
    return {
        p.name: p.stat().st_mtime_ns
        for p in out.iterdir()
        if p.suffix in (".json", ".md") and not p.name.startswith((".", "summary"))
    }


def test_reports_summary_and_error_row(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = grade_batch([inbox], out, progress=False)

    assert (result.total, result.graded, result.errors, result.skipped) == (4, 3, 1, 0)
    assert result.exit_code == 1
    for stem in ("project", "chat", "session"):
        report = Report.model_validate_json((out / f"{stem}.json").read_text(encoding="utf-8"))
        assert report.provenance is not None and report.provenance.extractor == "rules"
        assert (out / f"{stem}.md").read_text(encoding="utf-8").startswith("# Scorecard: ")
    assert not (out / "yaml_syntax.json").exists()

    rows = read_csv(out / "summary.csv")
    assert [r["id"] for r in rows] == ["chat", "project", "session", "yaml_syntax"]  # sorted by path
    project = Report.model_validate_json((out / "project.json").read_text(encoding="utf-8"))
    columns = list(rows[0])
    assert columns[:5] == ["id", "file", "total", "level", "recommendation"]
    assert columns[5:-5] == list(project.categories)  # one per category, in the report's (rubric) order
    assert columns[-5:] == ["red_flags", "green_flags", "incorrect_checks", "extractor", "error"]
    bad = rows[3]
    assert bad["error"].startswith(f"{inbox / BAD}:5: YAML syntax error")
    assert bad["total"] == "" and bad["extractor"] == ""
    incorrect = sum(c.verdict == "incorrect" for c in project.checks)
    assert rows[1]["file"] == str(inbox / "project.yaml") and rows[1]["incorrect_checks"] == str(incorrect)
    assert rows[1]["extractor"] == "rules" and rows[1]["error"] == ""

    md = (out / "summary.md").read_text(encoding="utf-8")
    assert "4 transcripts: 3 graded, 1 error." in md
    assert "| yaml_syntax |" in md and "YAML syntax error" in md
    assert result.error_rows[0].error == bad["error"]


def test_rerun_skips_unchanged_and_regrades_changed(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    grade_batch([inbox], out, progress=False)
    before = mtimes(out)
    old_hash = Report.model_validate_json((out / "chat.json").read_bytes()).provenance.transcript_hash  # type: ignore[union-attr]
    summary_before = (out / "summary.csv").read_text(encoding="utf-8")

    again = grade_batch([inbox], out, progress=False)
    assert again.skipped == 3 and again.errors == 1
    assert mtimes(out) == before
    assert [r.skipped for r in again.rows] == [True, True, True, False]
    assert (out / "summary.csv").read_text(encoding="utf-8") == summary_before
    assert (out / MANIFEST).is_file() and not (out / JOURNAL).exists()

    text = (inbox / "chat.json").read_text(encoding="utf-8")
    (inbox / "chat.json").write_text(text.replace("350 GB", "700 GB"), encoding="utf-8")
    third = grade_batch([inbox], out, progress=False)
    assert third.skipped == 2
    assert [r.id for r in third.rows if r.ok and not r.skipped] == ["chat"]
    assert mtimes(out)["chat.json"] != before["chat.json"]
    assert mtimes(out)["project.json"] == before["project.json"]
    new = Report.model_validate_json((out / "chat.json").read_bytes())
    assert new.provenance is not None and new.provenance.transcript_hash != old_hash


def test_metadata_only_change_is_still_skipped(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    grade_batch([inbox], out, progress=False)
    path = inbox / "project.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('candidate: "practice run"', 'candidate: "x"'), encoding="utf-8"
    )
    assert grade_batch([inbox], out, progress=False).skipped == 3  # the content hash covers roles and text


def test_other_extractor_or_fallback_is_graded_again(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    grade_batch([inbox], out, progress=False)

    class Renamed(RulesExtractor):
        name = "rules-v2"

    assert grade_batch([inbox], out, extractor=Renamed(), progress=False).skipped == 0

    class FallingBack:
        name = "llm:fake"

        def extract(self, transcript: object) -> Claims:
            return Claims()

        def run(self, transcript: object) -> ExtractionResult:
            return ExtractionResult(claims=Claims(), extractor="rules (fallback: timeout)")

    first = grade_batch([inbox], out, extractor=FallingBack(), progress=False)
    assert first.skipped == 0 and all(r.fallback for r in first.rows if r.ok)
    assert "used the rules fallback" in (out / "summary.md").read_text(encoding="utf-8")
    assert grade_batch([inbox], out, extractor=FallingBack(), progress=False).skipped == 0


def test_interrupted_batch_resumes(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"

    def stop_after_two(done: int, total: int, id: str) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        grade_batch([inbox], out, progress=stop_after_two)
    resumed = grade_batch([inbox], out, progress=False)
    assert resumed.skipped == 2 and resumed.graded == 3


def test_journal_survives_a_kill(tmp_path: Path) -> None:
    """A kill -9 skips `save()`: the flushed journal lines are the record; a torn last line is ignored."""
    entry = ManifestEntry(id="a", hash="h", grader_version="v", extractor="rules", report="a.json")
    m = Manifest(tmp_path)
    m.record("/src/a.yaml", entry)
    m.record("/src/b.yaml", entry.model_copy(update={"id": "b", "report": "b.json"}))
    m._journal.close()  # type: ignore[union-attr]
    with (tmp_path / JOURNAL).open("a", encoding="utf-8") as f:
        f.write('{"key": "/src/c.yaml", "entr')
    loaded = Manifest(tmp_path).load()
    assert set(loaded.entries) == {"/src/a.yaml", "/src/b.yaml"}
    loaded.save()
    assert not (tmp_path / JOURNAL).exists()
    assert set(Manifest(tmp_path).load().entries) == {"/src/a.yaml", "/src/b.yaml"}


def test_workers_give_the_same_summary(inbox: Path, tmp_path: Path) -> None:
    for name in ("qa.txt", "timestamps.txt", "aliases.yml", "project.json", "session.md"):
        shutil.copy(DATA / "good" / name, inbox / name)
    one = grade_batch([inbox], tmp_path / "one", workers=1, progress=False)
    four = grade_batch([inbox], tmp_path / "four", workers=4, progress=False)
    assert one.rows == four.rows
    for name in ("summary.csv", "summary.md"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "four" / name).read_bytes()
    for name in (r.report_json for r in one.rows if r.report_json):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "four" / name).read_bytes()


def test_callback_once_per_item_from_the_calling_thread(inbox: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    threads: set[int] = set()

    def progress(done: int, total: int, id: str) -> None:
        calls.append((done, total, id))
        threads.add(threading.get_ident())

    grade_batch([inbox], tmp_path / "out", workers=4, progress=progress)
    assert [c[0] for c in calls] == [1, 2, 3, 4]
    assert {c[1] for c in calls} == {4}
    assert sorted(c[2] for c in calls) == ["chat", "project", "session", "yaml_syntax"]
    assert threads == {threading.get_ident()}


def test_unexpected_exception_is_an_error_row(inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = pipeline.grade_transcript

    def flaky(transcript, **kwargs):  # type: ignore[no-untyped-def]
        if transcript.id == "session":
            raise RuntimeError("scoring exploded")
        return real(transcript, **kwargs)

    monkeypatch.setattr(pipeline, "grade_transcript", flaky)
    result = grade_batch([inbox], tmp_path / "out", workers=1, progress=False)  # in-process, so the patch holds
    assert (result.graded, result.errors) == (2, 2)
    row = next(r for r in result.rows if r.id == "session")
    assert row.error == f"{inbox / 'session.txt'}: RuntimeError: scoring exploded"
    assert "RuntimeError: scoring exploded" in (tmp_path / "out" / "summary.csv").read_text(encoding="utf-8")


def test_a_source_that_turns_bad_loses_its_stale_report(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    grade_batch([inbox], out, progress=False)
    (inbox / "chat.json").write_text("{ not json", encoding="utf-8")
    result = grade_batch([inbox], out, progress=False)
    assert result.errors == 2 and not (out / "chat.json").exists() and not (out / "chat.md").exists()


def test_inputs_dirs_globs_hidden_and_out_dir(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "out").mkdir()
    for rel in (
        "b.yaml",
        "sub/a.txt",
        ".hidden/x.yaml",
        "out/old.json",
        "notes.csv",
        ".dot.yaml",
        "b.yaml.overrides.yaml",
    ):
        (root / rel).write_text("x", encoding="utf-8")
    files, missing = expand_inputs([root, str(root / "sub" / "*.txt"), root / "nope"], root / "out")
    assert [f.relative_to(root).as_posix() for f in files] == ["b.yaml", "sub/a.txt"]
    assert missing == [(str(root / "nope"), "no such file or directory")]
    with pytest.raises(ConfigError, match="nothing to grade"):
        grade_batch([root / "nope"], tmp_path / "o", progress=False)


def test_missing_input_is_an_error_row(inbox: Path, tmp_path: Path) -> None:
    result = grade_batch([inbox, tmp_path / "typo", inbox / "chat.json"], tmp_path / "out", progress=False)
    assert result.errors == 2 and len(result.rows) == 5  # chat.json is named twice, graded once
    assert result.rows[-1].error == f"{tmp_path / 'typo'}: no such file or directory"
    first = grade_batch([tmp_path / "typo", inbox], tmp_path / "out", progress=False)
    assert first.rows[0].file == str(tmp_path / "typo") and first.rows[1].id == "chat"  # rows in input order


def test_ids_are_unique_and_never_summary() -> None:
    paths = [Path("a/session.txt"), Path("a/session.md"), Path("b/session.md"), Path("summary.md"), Path("x y!.json")]
    assert assign_ids(paths) == ["session-txt", "session-md", "session-md-2", "summary-md", "x_y"]


def _scored(tid: str, total: float, cats: dict[str, float]) -> Report:
    return Report(
        transcript_id=tid,
        total=total,
        level="L5" if total >= 70 else "L4",
        recommendation="Hire",
        categories={k: CategoryScore(score=v, max=30) for k, v in cats.items()},
    )


def test_summarise_without_files() -> None:
    items = [
        _scored("a", 72.5, {"requirements": 8, "parallelism": 20}),
        ("b.yaml", _scored("b", 100, {"requirements": 10, "parallelism": 30, "memory": 10})),
        ("c.yaml", TranscriptError("empty file", path="c.yaml")),
        BatchRow(id="d", file="d.json", error="d.json: boom"),
    ]
    csv_text, md = summarise(items)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert list(rows[0])[5:8] == ["requirements", "parallelism", "memory"]
    assert (rows[0]["total"], rows[0]["level"], rows[0]["memory"]) == ("72.5", "L5", "")
    assert (rows[1]["id"], rows[1]["file"], rows[1]["memory"]) == ("b", "b.yaml", "10")
    assert rows[2]["error"] == "c.yaml: empty file"
    assert "| 2 | 86.2 | 86.2 | 72.5 | 100 |" in md
    assert "70-79  | " in md and "90-100 | " in md
    assert "| L5 | 2 |" in md and "| Hire | 2 |" in md
    assert "| c | c.yaml | c.yaml: empty file |" in md and "| d | d.json | d.json: boom |" in md


def test_histogram_bins() -> None:
    lines = histogram([0, 9.9, 10, 55, 100, 100], width=4).splitlines()
    assert len(lines) == 10
    assert lines[0] == " 0-9   | #### 2" and lines[1] == "10-19  | ## 1" and lines[5] == "50-59  | ## 1"
    assert lines[9] == "90-100 | #### 2" and lines[2] == "20-29  | 0"


def test_rich_progress_bar_runs(inbox: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = grade_batch([inbox], tmp_path / "out", workers=2, progress=True)
    assert result.total == 4
    assert capsys.readouterr().out == ""  # the bar goes to stderr, never into stdout


def test_rules_batches_use_processes_and_llm_batches_threads(tmp_path: Path) -> None:
    """The rules extractor is CPU-bound (processes use every core); an LLM waits on the network (threads)."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    from grader.batch import _Context, _executor
    from grader.extract.rules import RulesExtractor

    class Waiting:
        name = "llm:fake"

    rules = _Context(tmp_path, RulesExtractor(), "rules", None, "1")
    llm = _Context(tmp_path, Waiting(), "llm:fake", None, "1")  # type: ignore[arg-type]
    for ctx, workers, kind in (
        (rules, 2, ProcessPoolExecutor),
        (rules, 1, ThreadPoolExecutor),
        (llm, 8, ThreadPoolExecutor),
    ):
        with _executor(ctx, workers) as pool:
            assert isinstance(pool, kind)
