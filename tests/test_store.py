"""Saved sessions read back as they were written, and a failed save never damages the previous file."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from grader import atomic
from grader.errors import TranscriptError
from grader.loaders import load_transcript
from grader.store import append_turn, dump_transcript_yaml, save_transcript_atomic
from grader.transcript import Transcript, Turn

GOOD = sorted(p.name for p in (Path(__file__).parent / "data" / "transcripts" / "good").iterdir())
GOOD_DIR = Path(__file__).parent / "data" / "transcripts" / "good"


def _session(*turns: Turn) -> Transcript:
    return Transcript(id="s1", turns=list(turns))


def _what_is_graded(t: Transcript) -> tuple:
    turns = [(x.role, x.content, x.at, x.hint) for x in t.turns]
    return t.id, t.scenario, t.candidate, t.started_at, turns


@pytest.mark.parametrize("name", GOOD)
def test_round_trip_of_every_format(name: str, tmp_path: Path) -> None:
    original = load_transcript(GOOD_DIR / name)
    path = tmp_path / "session.yaml"
    path.write_text(dump_transcript_yaml(original), encoding="utf-8")
    again = load_transcript(path)
    assert _what_is_graded(again) == _what_is_graded(original)
    assert again.content_hash() == original.content_hash()


TRICKY = [
    "yes",
    "123",
    "null",
    "2026-11-20",
    "key: value # not a comment",
    "- not a list",
    "'single' and \"double\" quotes",
    "  leading spaces on the first line\nthen normal",
    "tabs\tinside\nand lines",
    "unicode: 175B on 8× A100, ≈350 GB — fine 😀",
    "a very long single line " * 40,
    "ends with a colon:\n  indented block\n\n\nthree blank lines above",
]


@pytest.mark.parametrize("content", TRICKY, ids=range(len(TRICKY)))
def test_round_trip_of_tricky_content(content: str, tmp_path: Path) -> None:
    t = _session(Turn(role="interviewer", content="Where?"), Turn(role="candidate", content=content.strip()))
    path = tmp_path / "s.yaml"
    save_transcript_atomic(t, path)
    assert load_transcript(path).turns[1].content == content.strip()


def test_dump_is_readable_yaml() -> None:
    t = Transcript(
        id="s1",
        started_at=datetime(2026, 11, 20, 14, 3, tzinfo=UTC),
        source="somewhere.txt",
        turns=[
            Turn(role="interviewer", content="Where do you start?", line=3, hint=True),
            Turn(role="candidate", content="First the interconnect.\n\nThen the memory.", line=9),
        ],
    )
    text = dump_transcript_yaml(t)
    assert "content: |" in text
    assert "    First the interconnect.\n\n    Then the memory.\n" in text
    for absent in ("line:", "source:", "candidate:", "hint: false", "null"):
        assert absent not in text
    data = yaml.safe_load(text)
    assert data["turns"] == [
        {"role": "interviewer", "content": "Where do you start?", "hint": True},
        {"role": "candidate", "content": "First the interconnect.\n\nThen the memory."},
    ]
    assert "a very long line " * 20 in dump_transcript_yaml(
        _session(Turn(role="candidate", content="a very long line " * 20))
    ), "long lines are not hard-wrapped"


def test_save_writes_the_file_and_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "sessions" / "s1.yaml"  # the directory does not exist yet
    saved = save_transcript_atomic(_session(Turn(role="interviewer", content="Where?")), path)
    assert [p.name for p in path.parent.iterdir()] == ["s1.yaml"]
    assert saved.source == str(path)
    assert saved.turns[0].line == 4  # as the file now reads: id, scenario, turns, then the first turn
    assert load_transcript(path, in_progress=True).turns == saved.turns


@pytest.mark.parametrize("fails", ["replace", "fsync"])
def test_failed_save_keeps_the_previous_file(fails: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s1.yaml"
    save_transcript_atomic(_session(Turn(role="interviewer", content="Where?")), path)
    before = path.read_bytes()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, fails, boom)  # the one atomic writer every store goes through
    newer = _session(Turn(role="interviewer", content="Where?"), Turn(role="candidate", content="Here."))
    with pytest.raises(OSError, match="No space left"):
        save_transcript_atomic(newer, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s1.yaml"]


def test_save_refuses_what_the_loader_would_refuse(tmp_path: Path) -> None:
    path = tmp_path / "s1.yaml"
    save_transcript_atomic(_session(Turn(role="interviewer", content="Where?")), path)
    before = path.read_bytes()
    with pytest.raises(TranscriptError, match="empty content"):
        save_transcript_atomic(_session(Turn(role="candidate", content="   ")), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s1.yaml"]


def test_save_only_writes_yaml(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.yaml"):
        save_transcript_atomic(_session(Turn(role="candidate", content="Here.")), tmp_path / "s1.txt")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_save_keeps_the_permissions_of_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "s1.yaml"
    save_transcript_atomic(_session(Turn(role="interviewer", content="Where?")), path)
    path.chmod(0o640)
    save_transcript_atomic(_session(Turn(role="interviewer", content="Where now?")), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_append_turn_grows_a_session(tmp_path: Path) -> None:
    path = tmp_path / "s1.yaml"
    save_transcript_atomic(_session(Turn(role="interviewer", content="Where do you start?")), path)
    append_turn(path, Turn(role="candidate", content="With the interconnect.\nThen memory."))
    t = append_turn(path, Turn(role="interviewer", content="NVLink inside a node.", hint=True))
    assert [(x.role, x.content, x.hint) for x in t.turns] == [
        ("interviewer", "Where do you start?", False),
        ("candidate", "With the interconnect.\nThen memory.", False),
        ("interviewer", "NVLink inside a node.", True),
    ]
    assert _what_is_graded(load_transcript(path)) == _what_is_graded(t)
    assert [x.line for x in t.turns] == [x.line for x in load_transcript(path).turns]


def test_append_to_a_missing_session_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.yaml"
    with pytest.raises(TranscriptError, match="no such file") as info:
        append_turn(path, Turn(role="candidate", content="Here."))
    assert info.value.path == str(path)
    assert not path.exists()
