"""grader/pattern_cache.py: what earlier runs proved about the patterns saves work, and never changes an answer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from grader import matching, pattern_cache
from grader.errors import RubricError
from grader.paths import RUBRIC_FILE
from grader.rubric import PATTERN_FLAGS, load_rubric


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory and a process that knows nothing yet (as a new one would)."""
    monkeypatch.setenv("COACH_CACHE_DIR", str(tmp_path))
    pattern_cache.forget()
    yield tmp_path
    pattern_cache.forget()


def test_a_loaded_rubric_leaves_its_patterns_proven_and_analysed(fresh: Path) -> None:
    rubric = load_rubric()
    data = json.loads(pattern_cache.cache_file().read_text(encoding="utf-8"))
    rows = {(p, f): (ok, a) for p, f, ok, a in data["patterns"]}
    pattern = rubric.concepts[0].mention[0]
    assert rows[(pattern, PATTERN_FLAGS)][0] is True
    pattern_cache.forget()  # the next process
    assert pattern_cache.compiles(pattern, PATTERN_FLAGS)


def test_a_proven_pattern_is_not_compiled_again_at_load(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_rubric()
    pattern_cache.forget()
    compiled: list[str] = []
    from grader import rubric as rubric_module

    monkeypatch.setattr(rubric_module, "compile_pattern", lambda p: compiled.append(p) or re.compile(p))
    load_rubric()
    assert compiled == []


def test_an_invalid_pattern_is_still_an_error_naming_the_file(fresh: Path, tmp_path: Path) -> None:
    load_rubric()  # a warm cache must not let a new, broken pattern through
    text = RUBRIC_FILE.read_text(encoding="utf-8")
    broken = tmp_path / "rubric.yaml"
    first = load_rubric().concepts[0].mention[0]
    needle = next(line for line in text.splitlines() if first.replace("\\", "\\\\") in line or first in line)
    broken.write_text(text.replace(needle, needle.replace(needle.strip(), "- '(unclosed'"), 1), encoding="utf-8")
    with pytest.raises(RubricError, match="invalid regular expression"):
        load_rubric(broken)


def test_a_damaged_cache_file_is_ignored(fresh: Path) -> None:
    path = pattern_cache.cache_file()
    path.parent.mkdir(parents=True)
    path.write_text('{"patterns": [["x", 1, true', encoding="utf-8")
    assert not pattern_cache.compiles("x", 1)
    assert pattern_cache.analysis(r"\bKV cache\b", PATTERN_FLAGS) == matching.analyse(r"\bKV cache\b", PATTERN_FLAGS)


def test_analyses_read_back_equal_the_ones_worked_out(fresh: Path) -> None:
    patterns = [r"\bKV cache\b", r"\b(?:TP|tensor)\w* across\b", r"\bTP\s*=?\s*\d+", r"(a)\1"]
    worked = [pattern_cache.analysis(p, PATTERN_FLAGS) for p in patterns]
    pattern_cache.save()
    pattern_cache.forget()
    assert [pattern_cache.analysis(p, PATTERN_FLAGS) for p in patterns] == worked


def test_an_unwritable_cache_directory_costs_nothing_but_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("COACH_CACHE_DIR", str(blocker))
    pattern_cache.forget()
    try:
        assert load_rubric().concepts  # loads, validates, and quietly writes nothing
        assert not (blocker / "patterns").exists()
    finally:
        pattern_cache.forget()
