"""Batch grading: a report per transcript, error rows instead of gaps, resumable reruns, stable summaries."""

from __future__ import annotations

import csv
import io
import shutil
import threading
from pathlib import Path

import pytest

from grader.batch import (
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
    assert (out / MANIFEST).is_file()

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

    from tests.batch_helpers import RenamedRules

    assert grade_batch([inbox], out, extractor=RenamedRules(), progress=False).skipped == 0

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


def test_manifest_survives_a_kill(tmp_path: Path) -> None:
    """A kill -9 runs no `finally`: every record committed before it is there for the next run."""
    entry = ManifestEntry(id="a", hash="h", grader_version="v", extractor="rules", report="a.json")
    m = Manifest(tmp_path).load()
    m.record("/src/a.yaml", entry)
    m.record("/src/b.yaml", entry.model_copy(update={"id": "b", "report": "b.json"}))
    m.record("/src/b.yaml", None)
    loaded = Manifest(tmp_path).load()  # a second connection, while the first was never closed
    assert loaded.keys() == ["/src/a.yaml"] and loaded.get("/src/a.yaml") == entry
    assert loaded.get("/src/b.yaml") is None


def test_an_old_json_manifest_is_imported(tmp_path: Path) -> None:
    import json

    entry = ManifestEntry(id="a", hash="h", grader_version="v", extractor="rules", report="a.json")
    (tmp_path / ".manifest.json").write_text(
        json.dumps({"format": 1, "items": {"/src/a.yaml": entry.model_dump()}}), encoding="utf-8"
    )
    (tmp_path / ".manifest.jsonl").write_text(
        '{"key": "/src/b.yaml", "entry": null}\n{"key": "/src/c', encoding="utf-8"
    )
    assert Manifest(tmp_path).load().get("/src/a.yaml") == entry
    assert not (tmp_path / ".manifest.json").exists() and not (tmp_path / ".manifest.jsonl").exists()


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


def test_unexpected_exception_is_an_error_row(inbox: Path, tmp_path: Path) -> None:
    class Exploding:
        name = "exploding"

        def extract(self, transcript):  # type: ignore[no-untyped-def]
            if transcript.id == "session":
                raise RuntimeError("scoring exploded")
            return RulesExtractor().extract(transcript)

    result = grade_batch([inbox], tmp_path / "out", workers=1, extractor=Exploding(), progress=False)  # type: ignore[arg-type]
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


def test_rules_workers_keep_one_extractor_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker process unpickles the extractor once and grades all its tasks with it (its memo kept)."""
    import json
    import os

    from tests.batch_helpers import LOG_ENV, CountingRules

    inbox = tmp_path / "in"
    inbox.mkdir()
    for i in range(8):
        shutil.copy(DATA / "good" / "project.yaml", inbox / f"t{i}.yaml")
    log = tmp_path / "extract.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    result = grade_batch([inbox], tmp_path / "out", workers=2, extractor=CountingRules(), progress=False)
    assert result.graded == 8
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(calls) == 8
    pids = {c["pid"] for c in calls}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2, "graded in worker processes"
    assert len({c["uid"] for c in calls}) == len(pids), "one extractor per process, not one per task"
    assert max(c["tasks"] for c in calls) >= 4


# --- hostile inputs, time limits, concurrent batches and signals ---------------------------------------------


def test_a_file_past_the_time_limit_is_an_error_row_and_the_batch_goes_on(inbox: Path, tmp_path: Path) -> None:
    """Rules workers: the process grading it is killed and replaced; the files after it are graded."""
    import time

    from tests.batch_helpers import SlowRules

    shutil.copy(DATA / "good" / "project.yaml", inbox / "a_slow.yaml")
    started = time.monotonic()
    result = grade_batch([inbox], tmp_path / "out", extractor=SlowRules(), time_limit_s=2, progress=False)
    assert time.monotonic() - started < 45, "the 60 s transcript was stopped at the limit"
    rows = {r.id: r for r in result.rows}
    assert "per-file time limit of 2 s" in (rows["a_slow"].error or "")
    assert [r.id for r in result.rows if r.ok] == ["chat", "project", "session"], "graded after it"
    assert "a_slow" in (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")


def test_time_limit_on_threads(inbox: Path, tmp_path: Path) -> None:
    """Threads (the LLM extractor) cannot be killed: the row is an error, the batch ends, nothing late is written."""
    import threading

    release = threading.Event()

    class Hanging:
        name = "hanging"

        def extract(self, transcript):  # type: ignore[no-untyped-def]
            if transcript.id == "chat":
                release.wait(30)
            return RulesExtractor().extract(transcript)

    try:
        result = grade_batch([inbox], tmp_path / "out", extractor=Hanging(), time_limit_s=1, progress=False)  # type: ignore[arg-type]
    finally:
        release.set()
    chat = next(r for r in result.rows if r.id == "chat")
    assert chat.error is not None and "time limit" in chat.error
    assert result.graded == 2 and (tmp_path / "out" / "summary.csv").is_file()
    import time

    time.sleep(0.5)
    assert not (tmp_path / "out" / "chat.json").exists(), "the late result was discarded"


def test_hostile_file_in_a_batch_is_an_error_row(inbox: Path, tmp_path: Path) -> None:
    from tests.test_loaders import alias_content_bomb

    alias_content_bomb(inbox / "bomb.yaml")
    result = grade_batch([inbox], tmp_path / "out", progress=False)
    bomb = next(r for r in result.rows if r.id == "bomb")
    assert bomb.error is not None and "expands to 212,240,000 characters" in bomb.error
    assert result.graded == 3


def test_inputs_are_confined_to_the_roots(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    shutil.copy(DATA / "good" / "project.yaml", root / "sub" / "a.yaml")
    (root / "sub" / "passwd").write_text("Interviewer: x\nCandidate: y\n", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(DATA / "good" / "chat.json", outside / "theirs.json")
    (root / "sub" / "link.json").symlink_to(outside / "theirs.json")
    roots = [root]
    for bad in (
        outside,
        outside / "theirs.json",
        str(outside / "*.json"),
        str(root / ".." / "elsewhere" / "*"),
        str(root / "*" / ".." / ".." / "elsewhere"),
        "/etc",
        "/etc/pass*",
    ):
        with pytest.raises(ConfigError, match=r"outside the batch folder|may not climb out"):
            expand_inputs([bad], roots=roots)
    files, missing = expand_inputs([root, str(root / "sub" / "pass*")], roots=roots)
    assert files == [root / "sub" / "a.yaml"], "no symlink out of the root, no file without a transcript suffix"
    assert missing == [
        (str(root / "sub" / "pass*"), "no transcript files match this pattern (*.yaml, *.yml, *.json, *.txt, *.md)")
    ]
    with pytest.raises(ConfigError, match="outside the batch folder"):
        grade_batch([outside], tmp_path / "out", roots=roots, progress=False)


_BATCH_IN_CHILD = """
import sys
from pathlib import Path
from grader.batch import grade_batch
from tests.batch_helpers import SlowRules
grade_batch([sys.argv[1]], Path(sys.argv[2]), workers=int(sys.argv[3]), extractor=SlowRules(), time_limit_s=300,
            progress=False)
"""


def _children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def slow_inbox(tmp_path: Path) -> Path:
    d = tmp_path / "slow_in"
    d.mkdir()
    for i in range(6):
        shutil.copy(DATA / "good" / "project.yaml", d / f"slow{i}.yaml")
    return d


def _start_child_batch(inbox: Path, out: Path, workers: int):  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-c", _BATCH_IN_CHILD, str(inbox), str(out), str(workers)], cwd=root)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_children_of(proc.pid)) < workers:
        time.sleep(0.1)
    workers_seen = _children_of(proc.pid)
    time.sleep(2)  # the workers have their tasks
    return proc, workers_seen | _children_of(proc.pid)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find the worker processes")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_workers_end_with_the_batch(slow_inbox: Path, tmp_path: Path, sig: str) -> None:
    import signal
    import time

    proc, children = _start_child_batch(slow_inbox, tmp_path / "out", workers=2)
    try:
        assert len(children) >= 2, "the batch started its worker processes"
        proc.send_signal(getattr(signal, sig))
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(c) for c in children):
            time.sleep(0.1)
        assert not [c for c in children if _alive(c)], f"worker processes outlived the batch after {sig}"
    finally:
        proc.kill()
        for c in children:
            if _alive(c):
                import os

                os.kill(c, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find the worker processes")
def test_a_second_batch_on_the_same_out_is_refused_while_the_first_runs(
    slow_inbox: Path, inbox: Path, tmp_path: Path
) -> None:
    import signal

    out = tmp_path / "out"
    proc, _ = _start_child_batch(slow_inbox, out, workers=1)
    try:
        with pytest.raises(ConfigError, match="another batch is writing to this output folder"):
            grade_batch([inbox], out, progress=False)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    result = grade_batch([inbox], out, progress=False)  # the lock went with the process
    assert result.graded == 3
    assert {r.id for r in result.rows} == {"chat", "project", "session", "yaml_syntax"}
