"""What is known about regular expressions from earlier runs: which compile, and what each needs to match.

A `grade` process reads a rubric of some 600 patterns and the quantities' cue words. Proving that each pattern
compiles (the rubric's validation) and reading each one's literals (grader/matching.py) costs more than the
grading itself, and the answer only changes when a pattern does. So both are kept in one JSON file under the
cache directory (`COACH_CACHE_DIR`, default `~/.cache/interview-coach`), named for the Python version and the
analysis version, keyed inside by pattern and flags. A rubric edit adds its new patterns; patterns no longer
used are dropped when the file is rewritten. A file that cannot be read is ignored, one that cannot be
written is not written: the cache only ever saves time.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from grader.matching import ANALYSIS_VERSION, Analysis, analyse

_lock = threading.Lock()
_loaded = False
_valid: set[tuple[str, int]] = set()
_analyses: dict[tuple[str, int], Analysis] = {}
_dirty = False


def cache_dir() -> Path:
    """The cache directory, as `Settings.cache_dir` has it, without importing pydantic-settings."""
    return Path(os.environ.get("COACH_CACHE_DIR") or "~/.cache/interview-coach").expanduser()


def cache_file() -> Path:
    v = sys.version_info
    return cache_dir() / "patterns" / f"py{v.major}.{v.minor}-analysis{ANALYSIS_VERSION}.json"


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
        for pattern, flags, compiles, analysis in data["patterns"]:
            key = (str(pattern), int(flags))
            if compiles:
                _valid.add(key)
            if analysis is not None:
                _analyses[key] = Analysis.from_json(analysis)
    except (OSError, ValueError, TypeError, KeyError):
        _valid.clear()
        _analyses.clear()


def compiles(pattern: str, flags: int) -> bool:
    """Whether the pattern is known to compile with these flags (from this run or an earlier one)."""
    with _lock:
        _load()
        return (pattern, flags) in _valid


def mark_compiles(pattern: str, flags: int) -> None:
    global _dirty
    with _lock:
        _load()
        if (pattern, flags) not in _valid:
            _valid.add((pattern, flags))
            _dirty = True


def analysis(pattern: str, flags: int) -> Analysis:
    """The pattern's literals and locality, read from the cache or worked out (and remembered)."""
    global _dirty
    with _lock:
        _load()
        hit = _analyses.get((pattern, flags))
    if hit is not None:
        return hit
    result = analyse(pattern, flags)
    with _lock:
        _analyses[(pattern, flags)] = result
        _dirty = True
    return result


def save(keep: set[tuple[str, int]] | None = None) -> None:
    """Write what is known, if anything new was learnt; `keep` limits the file to those patterns."""
    global _dirty
    with _lock:
        if not _dirty:
            return
        keys = (_valid | set(_analyses)) if keep is None else keep & (_valid | set(_analyses))
        rows: list[Any] = [
            [p, f, (p, f) in _valid, _analyses[(p, f)].to_json() if (p, f) in _analyses else None]
            for p, f in sorted(keys)
        ]
        _dirty = False
    try:
        from grader.atomic import write_atomic

        write_atomic(cache_file(), json.dumps({"patterns": rows}, ensure_ascii=False, separators=(",", ":")))
    except OSError:
        pass


def forget() -> None:
    """Drop what this process knows (tests: a fresh start, as a new process would have)."""
    global _loaded, _dirty
    with _lock:
        _valid.clear()
        _analyses.clear()
        _loaded = _dirty = False
