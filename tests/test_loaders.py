"""Every transcript format loads to the same turns; every bad file fails with one error naming file and line.

The fixtures under tests/data/transcripts/ are golden cases: good/ holds the same four-turn interview in each
format, bad/ one broken file per failure, and expected.json what each must produce.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.errors import TranscriptError
from grader.loaders import MAX_TRANSCRIPT_BYTES, load_transcript, load_transcript_bytes, parse_transcript

DATA = Path(__file__).parent / "data" / "transcripts"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
CONVERSATION = [(t["role"], t["content"]) for t in EXPECTED["conversation"]]
GOOD = sorted(EXPECTED["good"].items())
BAD = sorted(EXPECTED["bad"].items())


def _raises(call: Callable[..., object], *args: object, **kwargs: object) -> TranscriptError:
    with pytest.raises(TranscriptError) as info:
        call(*args, **kwargs)
    return info.value


# --- golden fixtures ---------------------------------------------------------------------------------------


def test_every_fixture_has_an_expectation() -> None:
    assert {p.name for p in (DATA / "good").iterdir()} == set(EXPECTED["good"])
    assert {p.name for p in (DATA / "bad").iterdir()} == set(EXPECTED["bad"])


@pytest.mark.parametrize(("name", "expected"), GOOD, ids=[n for n, _ in GOOD])
def test_good_fixture_loads_the_interview(name: str, expected: dict) -> None:
    path = DATA / "good" / name
    t = load_transcript(path)
    assert [(turn.role, turn.content) for turn in t.turns] == CONVERSATION
    assert [turn.line for turn in t.turns] == expected["lines"]
    assert t.id == expected["id"]
    assert t.source == str(path)


def test_every_format_gives_the_same_content_hash() -> None:
    hashes = {load_transcript(DATA / "good" / name).content_hash() for name, _ in GOOD}
    assert len(hashes) == 1


@pytest.mark.parametrize("name", ["project.yaml", "project.json"])
def test_project_format_keeps_its_metadata(name: str) -> None:
    t = load_transcript(DATA / "good" / name)
    assert t.candidate == "practice run"
    assert t.started_at is not None and t.started_at.isoformat() == "2026-11-20T14:03:00+00:00"
    assert t.turns[1].at is not None and t.turns[1].at.isoformat() == "2026-11-20T14:03:41+00:00"
    assert [turn.hint for turn in t.turns] == [False, False, True, False]


@pytest.mark.parametrize(("name", "expected"), GOOD, ids=[n for n, _ in GOOD])
def test_upload_reads_like_the_file(name: str, expected: dict) -> None:
    data = (DATA / "good" / name).read_bytes()
    t = load_transcript_bytes(data, name=name)
    assert [(turn.role, turn.content, turn.line) for turn in t.turns] == [
        (role, content, line) for (role, content), line in zip(CONVERSATION, expected["lines"], strict=True)
    ]
    assert t.source == name


@pytest.mark.parametrize("via", ["path", "upload"])
@pytest.mark.parametrize(("name", "expected"), BAD, ids=[n for n, _ in BAD])
def test_bad_fixture_fails_with_file_and_line(name: str, expected: dict, via: str) -> None:
    path = DATA / "bad" / name
    if via == "path":
        where, err = str(path), _raises(load_transcript, path)
    else:
        where, err = name, _raises(load_transcript_bytes, path.read_bytes(), name=name)
    assert err.path == where
    assert err.line == expected["line"]
    assert expected["message"] in err.message
    prefix = f"{where}:{err.line}: " if err.line is not None else f"{where}: "
    assert str(err) == prefix + err.message
    assert "\n" not in str(err)


# --- files that are not transcripts at all -----------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    err = _raises(load_transcript, tmp_path / "nope.yaml")
    assert err.path == str(tmp_path / "nope.yaml")
    assert "no such file" in err.message


def test_directory(tmp_path: Path) -> None:
    err = _raises(load_transcript, tmp_path)
    assert err.path == str(tmp_path)
    assert "directory" in err.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert "not a regular file" in _raises(load_transcript, fifo).message


def test_huge_file_is_refused_from_stat_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, nothing on disk

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the size check must come before any read")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    err = _raises(load_transcript, big)
    assert err.path == str(big)
    assert "50.0 MB" in err.message and "at most 2 MB" in err.message


def test_file_just_under_the_limit_is_read(tmp_path: Path) -> None:
    body = "Interviewer: Where do you start?\nCandidate: " + "x" * (MAX_TRANSCRIPT_BYTES - 100) + "\n"
    path = tmp_path / "long.txt"
    path.write_text(body, encoding="utf-8")
    assert len(load_transcript(path).turns[1].content) == MAX_TRANSCRIPT_BYTES - 100


def test_oversized_upload_is_refused() -> None:
    err = _raises(load_transcript_bytes, b"x" * (MAX_TRANSCRIPT_BYTES + 1), name="big.txt")
    assert err.path == "big.txt" and "at most 2 MB" in err.message


def test_oversized_text_is_refused() -> None:
    err = _raises(parse_transcript, "x" * (MAX_TRANSCRIPT_BYTES + 1), name="paste", fmt="text")
    assert err.path == "paste" and "at most 2 MB" in err.message


def test_nul_in_text_is_refused() -> None:
    err = _raises(parse_transcript, "Interviewer: hi\x00\nCandidate: yo", name="paste.txt", fmt="text")
    assert "binary" in err.message


@pytest.mark.parametrize(
    ("name", "text"),
    [("deep.json", "[" * 100_000), ("deep.yaml", "turns: " + "[" * 100_000)],
    ids=["json", "yaml"],
)
def test_absurd_nesting_is_an_error_not_a_crash(name: str, text: str) -> None:
    err = _raises(parse_transcript, text, name=name, fmt="auto" if name.endswith("json") else "yaml")
    assert err.path == name


def test_unknown_format_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown transcript format"):
        parse_transcript("Interviewer: hi", name="x", fmt="docx")


# --- formats in detail -------------------------------------------------------------------------------------

LABELS = [
    ("Interviewer: Where?\nCandidate: Here.", [("interviewer", "Where?"), ("candidate", "Here.")]),
    ("INTERVIEWER:Where?\ncandidate:  Here.", [("interviewer", "Where?"), ("candidate", "Here.")]),
    ("**Interviewer:** Where?\n**Candidate:** Here.", [("interviewer", "Where?"), ("candidate", "Here.")]),
    ("**Interviewer**: Where?\n__Candidate:__ Here.", [("interviewer", "Where?"), ("candidate", "Here.")]),
    (
        "Interviewer (00:03:12): Where?\nCandidate (00:03:20): Here.",
        [("interviewer", "Where?"), ("candidate", "Here.")],
    ),
    ("Q: Where?\nA: Here.", [("interviewer", "Where?"), ("candidate", "Here.")]),
    (
        "Interviewer: Where?\nCandidate: Two options:\nA: tensor parallel\nQ: is not a label here either",
        [("interviewer", "Where?"), ("candidate", "Two options:\nA: tensor parallel\nQ: is not a label here either")],
    ),
    (
        "Interviewer: Where?\nCandidate: First.\n\n\n   indented code\nCandidates: is not a label",
        [("interviewer", "Where?"), ("candidate", "First.\n\n\n   indented code\nCandidates: is not a label")],
    ),
    ("Interviewer: Where?\r\nCandidate: Here.  \r\n  \r\n", [("interviewer", "Where?"), ("candidate", "Here.")]),
    ("\ufeffInterviewer: Where?\nCandidate: Here.", [("interviewer", "Where?"), ("candidate", "Here.")]),
]


@pytest.mark.parametrize(
    ("text", "turns"),
    LABELS,
    ids=["plain", "case", "bold", "bold-before-colon", "timestamps", "qa", "style-lock", "blank-lines", "crlf", "bom"],
)
def test_text_labels(text: str, turns: list[tuple[str, str]]) -> None:
    t = parse_transcript(text, name="notes.md", fmt="md")
    assert [(turn.role, turn.content) for turn in t.turns] == turns


SNIFFED = [
    ('[{"role": "assistant", "content": "Where?"}, {"role": "user", "content": "Here."}]', [1, 1]),
    (
        '  {"turns": [\n {"role": "interviewer", "content": "Where?"},\n {"role": "candidate", "content": "Here."}]}',
        [2, 3],
    ),
    ("# saved session\nturns:\n- role: interviewer\n  content: Where?\n- role: candidate\n  content: Here.\n", [3, 5]),
    ("Interviewer: Where?\n\nCandidate: Here.\n", [1, 3]),
]


@pytest.mark.parametrize("name", ["upload", "upload.log"])
@pytest.mark.parametrize(("text", "lines"), SNIFFED, ids=["json-list", "json-object", "yaml", "text"])
def test_unknown_suffix_is_sniffed(text: str, lines: list[int], name: str) -> None:
    t = load_transcript_bytes(text.encode(), name=name)
    assert [(turn.role, turn.content, turn.line) for turn in t.turns] == [
        ("interviewer", "Where?", lines[0]),
        ("candidate", "Here.", lines[1]),
    ]
    assert t.id == "upload"


def test_json_positions_are_best_effort() -> None:
    """JSON that YAML cannot compose (an escaped emoji) still loads; its errors name the turn instead."""
    messages = [{"role": "assistant", "content": "Where? \U0001f600"}, {"role": "user", "content": "Here."}]
    t = parse_transcript(json.dumps(messages, indent=1), name="chat.json", fmt="json")
    assert [turn.line for turn in t.turns] == [None, None]
    messages.append({"role": "moderator", "content": "Time."})
    err = _raises(parse_transcript, json.dumps(messages, indent=1), name="chat.json", fmt="json")
    assert err.line is None
    assert err.message == "turn 3: unknown role 'moderator' (expected interviewer or candidate)"


def test_yaml_dates_in_text_fields_stay_text() -> None:
    text = "id: 2026-11-20\ncandidate: 2026-11-20\nturns:\n- role: candidate\n  content: 2026-11-20\n"
    t = parse_transcript(text, name="dates.yaml", fmt="yaml")
    assert (t.id, t.candidate, t.turns[0].content) == ("2026-11-20", "2026-11-20", "2026-11-20")


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("turns:\n- role: interviewer\n  content: Where do you start?\n", "yaml"),
        ("turns: []\n", "yaml"),
        ("Interviewer: Where do you start?\n", "text"),
    ],
    ids=["interviewer-only", "no-turns", "text"],
)
def test_in_progress_session_loads_without_an_answer(text: str, fmt: str) -> None:
    t = parse_transcript(text, name="session.yaml", fmt=fmt, in_progress=True)
    assert all(turn.role == "interviewer" for turn in t.turns)
    with pytest.raises(TranscriptError):
        parse_transcript(text, name="session.yaml", fmt=fmt)


# --- hostile files: what a transcript may expand to ----------------------------------------------------------


def alias_turns_bomb(path: Path, repeats: int = 100_000, words: int = 9_800) -> Path:
    """The security review's 320 kB case: one anchored turn, then `repeats` aliases of it (1.96 GB of text)."""
    with path.open("w", encoding="utf-8") as f:
        f.write("turns:\n- role: interviewer\n  content: Where do you start?\n")
        f.write(f'- &t {{role: candidate, content: "{"x " * words}"}}\n')
        f.write("- *t\n" * repeats)
    return path


def alias_content_bomb(path: Path, repeats: int = 20_000, words: int = 5_300) -> Path:
    """The 70 kB case: one chat turn whose content parts repeat one alias (212 MB of text)."""
    with path.open("w", encoding="utf-8") as f:
        f.write(f'parts:\n- &p {{type: text, text: "{"y " * words}"}}\n')
        f.write("messages:\n- role: assistant\n  content: Where?\n- role: user\n  content: [")
        f.write(", ".join(["*p"] * repeats) + "]\n")
    return path


def billion_laughs(path: Path) -> Path:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    lines.append("turns: *i")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make", "line", "what"),
    [
        (alias_turns_bomb, 2, "1,962,019,661 characters"),
        (alias_content_bomb, 7, "212,240,000 characters"),
        (billion_laughs, None, "expands to"),
    ],
    ids=["320kB-turns", "70kB-content", "billion-laughs"],
)
def test_alias_expansion_past_the_limits_is_refused_before_it_is_built(
    tmp_path: Path, make: Callable[[Path], Path], line: int | None, what: str
) -> None:
    path = make(tmp_path / "bomb.yaml")
    assert path.stat().st_size < MAX_TRANSCRIPT_BYTES  # within the byte limit: only expansion makes it big
    err = _raises(load_transcript, path)
    assert err.path == str(path) and "\n" not in str(err)
    assert what in err.message and "YAML aliases" in err.message
    if line is not None:
        assert err.line == line


def test_aliases_within_the_limits_still_load() -> None:
    text = (
        "turns:\n- role: interviewer\n  content: &q Where do you start?\n"
        "- role: candidate\n  content: &a With the weights.\n- role: interviewer\n  content: *q\n"
        "- role: candidate\n  content: *a\n"
    )
    t = parse_transcript(text, name="ok.yaml", fmt="yaml")
    assert [turn.content for turn in t.turns] == ["Where do you start?", "With the weights."] * 2


@pytest.mark.parametrize("fmt", ["yaml", "json", "text"])
def test_too_many_turns(fmt: str) -> None:
    from grader.loaders import MAX_TURNS

    n = MAX_TURNS + 2
    if fmt == "text":
        text = "".join(f"{'Q' if i % 2 == 0 else 'A'}: {i}\n" for i in range(n))
    else:
        turns = [{"role": "interviewer" if i % 2 == 0 else "candidate", "content": str(i)} for i in range(n)]
        text = (
            json.dumps({"turns": turns})
            if fmt == "json"
            else "turns:\n" + "".join(f"- {{role: {t['role']}, content: '{t['content']}'}}\n" for t in turns)
        )
    err = _raises(parse_transcript, text, name=f"many.{fmt}", fmt=fmt)
    assert f"at most {MAX_TURNS:,}" in err.message


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_nesting_past_the_limit_is_refused(fmt: str) -> None:
    from grader.loaders import MAX_DEPTH

    deep = "[" * (MAX_DEPTH + 5) + "1" + "]" * (MAX_DEPTH + 5)
    text = f'{{"turns": [], "candidate": {deep}}}'
    err = _raises(parse_transcript, text, name=f"deep.{fmt}", fmt=fmt)
    assert f"more than {MAX_DEPTH} levels" in err.message


def test_json_duplicate_key_without_positions_still_fails() -> None:
    """JSON that YAML cannot compose (an escaped emoji) gets no line, but the duplicate is still refused."""
    text = '{"turns": [{"role": "candidate", "content": "\\ud83d\\ude00", "content": "b"}]}'
    err = _raises(parse_transcript, text, name="dup.json", fmt="json")
    assert "given twice" in err.message


def test_cli_refuses_a_bomb_in_one_line_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    path = alias_turns_bomb(tmp_path / "bomb.yaml")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "grader", "grade", str(path)], capture_output=True, text=True)
    elapsed = time.monotonic() - started
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith(f"error: {path}:2: expands to ")
    assert elapsed < 30, "refused while loading, not after building 1.96 GB"  # generous: a shared CI machine
