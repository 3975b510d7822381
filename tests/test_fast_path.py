"""The fast path grades exactly as plain `re` does: every sample and every corpus interview, report for report.

Both sides run the same code in the same process; only the matching engine differs (grader/matching.py:
`re` runs every pattern, the others skip those whose literals are absent). Nothing here is compared with a
golden file: the scoring moves, and what must not move is the difference between the two paths (none).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import matching
from grader.checker import check_claims
from grader.errors import TranscriptError
from grader.extract.rules import RulesExtractor
from grader.loaders import load_transcript
from grader.paths import ROOT, TRANSCRIPTS_DIR
from grader.pipeline import analyse, grade
from grader.transcript import Transcript

CORPUS = ROOT.parent / "shared" / "corpus"
SUFFIXES = {".yaml", ".yml", ".json", ".txt", ".md"}


def _files() -> list[Path]:
    folders = [TRANSCRIPTS_DIR, ROOT / "tests" / "data" / "transcripts" / "good", CORPUS]
    return sorted(
        p
        for folder in folders
        if folder.is_dir()
        for p in folder.iterdir()
        if p.suffix in SUFFIXES and p.name != "README.md" and not p.name.startswith("labels")
    )


FILES = _files()
FAST = [
    pytest.param(
        "ahocorasick",
        marks=pytest.mark.skipif(matching._ahocorasick() is None, reason="pyahocorasick is not installed"),
    ),
    "trie",
]


def _load(path: Path) -> Transcript:
    try:
        return load_transcript(path)
    except TranscriptError as exc:
        pytest.skip(f"not a transcript: {exc.one_line()}")


def _graded(transcript: Transcript, engine: str) -> tuple[str, str]:
    with matching.use_engine(engine):
        graded = grade(transcript, extractor=RulesExtractor())
    return graded.report.model_dump_json(), graded.claims.model_dump_json()


def test_the_corpus_is_there() -> None:
    """The comparison below covers the shared corpus too; say so when it is missing rather than pass quietly."""
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is not here (it sits beside the checkout)")
    assert len([p for p in FILES if p.parent == CORPUS]) >= 20


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reports_are_byte_identical_to_plain_re(path: Path, engine: str) -> None:
    transcript = _load(path)
    reference = _graded(transcript, "re")
    assert _graded(transcript, engine) == reference


@pytest.mark.parametrize("path", [p for p in FILES if p.parent == TRANSCRIPTS_DIR][:3], ids=lambda p: p.name)
def test_live_analysis_turn_by_turn_equals_a_fresh_one(path: Path) -> None:
    """The interviewer's analysis grows a turn at a time and reuses what it read; at every turn it must equal
    reading that prefix from nothing with plain `re`."""
    transcript = _load(path)
    for n in range(1, len(transcript.turns) + 1):
        prefix = transcript.model_copy(update={"turns": transcript.turns[:n]})
        claims, checks = analyse(prefix)
        with matching.use_engine("re"):
            fresh = RulesExtractor().extract(prefix)
        assert claims.model_dump_json() == fresh.model_dump_json(), n
        assert [c.model_dump_json() for c in checks] == [c.model_dump_json() for c in check_claims(fresh.numbers)]
