"""The claims cache: content-addressed, atomic, corrupt files are misses."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.claims import CLAIMS_SCHEMA_VERSION, Claims, QuestionClaim
from grader.extract.cache import ClaimsCache, cache_key

BASE = dict(transcript_hash="t" * 64, prompt_hash="p" * 64, model="m", endpoint="http://e/v1", temperature=0.0, seed=7)
CLAIMS = Claims(questions=[QuestionClaim(turn=1, quote="What interconnect?", topic="interconnect")], dropped=2)


def test_key_is_stable_hex() -> None:
    k = cache_key(**BASE)
    assert k == cache_key(**BASE)
    assert len(k) == 64 and all(c in "0123456789abcdef" for c in k)


@pytest.mark.parametrize(
    "change",
    [
        {"transcript_hash": "u" * 64},
        {"prompt_hash": "q" * 64},
        {"model": "other"},
        {"endpoint": "http://other/v1"},
        {"temperature": 0.7},
        {"seed": None},
        {"schema_version": CLAIMS_SCHEMA_VERSION + "-next"},
        {"grader_version": "999"},
        {"extra": {"chunk_chars": 1}},
    ],
    ids=lambda d: next(iter(d)),
)
def test_every_input_changes_the_key(change: dict) -> None:
    assert cache_key(**{**BASE, **change}) != cache_key(**BASE)


def test_round_trip(tmp_path: Path) -> None:
    cache = ClaimsCache(tmp_path)
    key = cache_key(**BASE)
    assert cache.get(key) is None
    path = cache.put(key, CLAIMS, meta={"model": "m"})
    assert path.parent == tmp_path / "claims" and path.name == f"{key}.json"
    entry = cache.get(key)
    assert entry is not None and entry.claims == CLAIMS and entry.meta == {"model": "m"}
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temp file left behind"


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b'{"key": "x"}', b"\xff\xfe\x00"],
    ids=["empty", "bad-json", "wrong-shape", "binary"],
)
def test_corrupt_file_is_a_miss(tmp_path: Path, content: bytes) -> None:
    cache = ClaimsCache(tmp_path)
    key = cache_key(**BASE)
    cache.path(key).parent.mkdir(parents=True)
    cache.path(key).write_bytes(content)
    assert cache.get(key) is None
    cache.put(key, CLAIMS)  # and it is overwritten by the next good result
    assert cache.get(key) is not None


def test_a_file_under_the_wrong_key_is_a_miss(tmp_path: Path) -> None:
    cache = ClaimsCache(tmp_path)
    k1, k2 = cache_key(**BASE), cache_key(**{**BASE, "model": "x"})
    cache.put(k1, CLAIMS)
    cache.path(k2).write_bytes(cache.path(k1).read_bytes())
    assert cache.get(k2) is None


def test_keys_cannot_escape_the_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        ClaimsCache(tmp_path).path("../../etc/passwd")


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    def boom(src: str, dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    cache = ClaimsCache(tmp_path)
    with pytest.raises(OSError):
        cache.put(cache_key(**BASE), CLAIMS)
    assert list((tmp_path / "claims").iterdir()) == []


# --- the structured-output method memory -------------------------------------------------------------------


def test_method_memory_is_per_endpoint_and_model(tmp_path: Path) -> None:
    from grader.extract.cache import MethodMemory

    memory = MethodMemory(tmp_path)
    assert memory.get("http://e/v1", "m") is None
    memory.put("http://e/v1", "m", "json_mode")
    memory.put("http://e/v1", "other", "tools")
    again = MethodMemory(tmp_path)  # another process reads the same file
    assert again.get("http://e/v1", "m") == "json_mode" and again.get("http://e/v1", "other") == "tools"
    assert again.get("http://f/v1", "m") is None
    again.put("http://e/v1", "m", "text")
    assert MethodMemory(tmp_path).get("http://e/v1", "m") == "text"


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"entries": {"x": {"method": 1}}}', b"\xff\xfe"])
def test_an_unreadable_method_memory_is_empty(tmp_path: Path, content: bytes) -> None:
    from grader.extract.cache import MethodMemory

    (tmp_path / MethodMemory.FILE).write_bytes(content)
    memory = MethodMemory(tmp_path)
    assert memory.get("http://e/v1", "m") is None
    memory.put("http://e/v1", "m", "json_mode")  # and the next success replaces it
    assert memory.get("http://e/v1", "m") == "json_mode"


def test_a_method_memory_that_cannot_be_written_costs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.extract import cache

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(cache, "write_atomic", refuse)
    memory = cache.MethodMemory(tmp_path)
    memory.put("http://e/v1", "m", "json_mode")  # logged, not raised
    assert memory.get("http://e/v1", "m") is None
