"""`python -m grader batch`: exit 0 when all graded, 1 with error rows (one stderr line each), 2 for usage."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main

DATA = Path(__file__).parent / "data" / "transcripts"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    d = tmp_path / "good"
    d.mkdir()
    for name in ("project.yaml", "chat.json"):
        shutil.copy(DATA / "good" / name, d / name)
    return d


def test_all_graded_exits_0(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["batch", str(good), "--out", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert f"2 graded, 0 error(s): {out / 'summary.md'}" in captured.out
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == {
        "chat.json",
        "chat.md",
        "project.json",
        "project.md",
        "summary.csv",
        "summary.jsonl",
        "summary.md",
    }

    assert main(["batch", str(good), "--out", str(out), "--no-progress"]) == 0
    assert "(2 unchanged, reused)" in capsys.readouterr().out


def test_error_rows_exit_1_with_one_line_each(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("yaml_syntax.yaml", "empty.yaml"):
        shutil.copy(DATA / "bad" / name, good / name)
    code = main(
        [
            "batch",
            str(good / "*.yaml"),
            str(good / "chat.json"),
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "3",
            "--no-progress",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert err[0] == f"error: {good / 'empty.yaml'}: empty file"
    assert err[1].startswith(f"error: {good / 'yaml_syntax.yaml'}:5: YAML syntax error: ")


@pytest.mark.parametrize(
    "args",
    [["--workers", "0"], ["--extractor", "gpt"], []],
    ids=["workers-0", "unknown-extractor", "no-out"],
)
def test_usage_errors_exit_2(good: Path, tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    out = [] if not args else ["--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as info:
        main(["batch", str(good), *out, *args])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("error: python -m grader batch: ")


def test_nothing_to_grade_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"error: nothing to grade ({tmp_path / 'missing'}: no such file or directory)\n"
    assert not (tmp_path / "out").exists()


def test_help_does_not_import_the_batch_module() -> None:
    code = "import sys, grader.cli; grader.cli.build_parser(); print('grader.batch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_file_without_a_transcript_suffix_is_refused(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("Interviewer: hi\nCandidate: root:x:0:0\n", encoding="utf-8")
    assert main(["batch", str(passwd), str(good), "--out", str(tmp_path / "out"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: {passwd}: not a transcript file name (expected *.yaml, *.yml, *.json, *.txt, *.md)\n"
    assert main(["batch", str(tmp_path / "pass*"), "--out", str(tmp_path / "o2"), "--no-progress"]) == 2
    assert "no transcript files match this pattern" in capsys.readouterr().err
