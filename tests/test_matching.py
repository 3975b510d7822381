"""grader/matching.py: one pass for many patterns, and every answer equal to plain `re`'s.

The reference answers here are computed with `re` directly, not through the module, for every engine this
machine has (Aho-Corasick needs pyahocorasick; the trie engine is pure Python and always there).
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right

import pytest

from grader import matching
from grader.matching import FOLD_EXTRA, SEPARATOR, PatternSet, analyse, fold, use_engine

FLAGS = re.IGNORECASE | re.MULTILINE

ENGINES = [
    pytest.param(
        "ahocorasick",
        marks=pytest.mark.skipif(matching._ahocorasick() is None, reason="pyahocorasick is not installed"),
    ),
    "trie",
]

PATTERNS: dict[str, list[str]] = {
    "kv": [r"\bKV cache\b", r"\bkey[- ]value\b"],
    "tp": [r"\bTP\d*\b", r"\btensor[- ]?parallel\w*"],
    "spaced": [r"\bTP\s*=?\s*\d+", r"\b2\s*(?:x|×|\*)\s*(?:96|layers)\b"],
    "trailing_space": [r"\bfoo\s", r"\s+bar\b"],  # can take the separator's newline: not local
    "negated": [r"^(?:(?!\b(?:not|no)\b).)*\bIB\b.{0,40}\bfaster than NV-?Link"],
    "dot": [r"\bheart-?beat\w*\b.{0,60}\b(?:every|\d+\s*ms)\b"],
    "lookahead": [r"\bKV(?=\s)", r"\bcache(?!\w)"],
    "lookbehind": [r"(?<!page )\bcache[sd]?\b", r"(?<=\s)pool\b"],
    "anchors": [r"^so\b", r"\bdone$"],
    "weak": [r"\bN\s*\+\s*1\b", r"\$\d"],
    "nothing_to_find": [r"\d+\s*GB", r"[^x]y"],
    "case": [r"\bsequence\b", r"\bkelvin\b", r"\bInfiniBand\b"],
    "backref": [r"\b(\w+) \1\b"],
    "order": [r"\bab", r"\babc\w*"],  # where alternatives overlap, the alternation's order decides
    "order2": [r"bc\b", r"\bab"],
}

TEXTS = [
    "The KV cache per GPU is 38.7 GB. With TP=8 and 2 x 96 layers we are fine.",
    "I'd use tensor parallel\nism across the node. KV\x00 cache",
    "Not IB: NVLink is faster than IB. But IB is faster than NVLink? no. IB is faster than NV-Link",
    "Heartbeat every 5 s, heart-beats at 100 ms. Page cache is not the cache. cached. caches!",
    "so we are done. Done. so\ndone",
    "N + 1 spares, N+1, $5 per hour, ſequence İnfiniBand \u212aelvin, KELVIN",
    "foo bar foo\tbar foo",
    "the the cache cache, pool pool",
    "",
    "x",
    "abc abcd ab bc xbc abab",
]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()] or [text]


def _plain(patterns: list[str], flags: int) -> tuple[re.Pattern[str], ...]:
    try:
        return (re.compile("|".join(f"(?:{p})" for p in patterns), flags),)
    except re.error:
        return tuple(re.compile(p, flags) for p in patterns)


def _reference(patterns: list[str], segments: list[str], flags: int) -> tuple[list[int], list[int], list[list]]:
    compiled = _plain(patterns, flags)
    joined = SEPARATOR.join(segments)
    starts, pos = [], 0
    for s in segments:
        starts.append(pos)
        pos += len(s) + len(SEPARATOR)
    hits = sorted({bisect_right(starts, m.start()) - 1 for p in compiled for m in p.finditer(joined)})
    matching_ = [i for i, s in enumerate(segments) if any(p.search(s) for p in compiled)]
    spans = [[m.span() for p in compiled for m in p.finditer(s)] for s in segments]
    return hits, matching_, spans


def _answers(pset: PatternSet, name: str, segments: list[str]) -> tuple[list[int], list[int], list[list]]:
    scan = pset.scan(segments)
    return (
        scan.hits(name),
        scan.matching(name),
        [[m.span() for m in scan.finditer(name, i)] for i in range(len(segments))],
    )


@pytest.mark.parametrize("engine", [*ENGINES, "re"])
@pytest.mark.parametrize("text", TEXTS)
def test_every_answer_is_plain_re(engine: str, text: str) -> None:
    pset = PatternSet(PATTERNS, FLAGS)
    segments = _sentences(text)
    with use_engine(engine):
        for name, patterns in PATTERNS.items():
            assert _answers(pset, name, segments) == _reference(patterns, segments, FLAGS), name


@pytest.mark.parametrize("engine", ENGINES)
def test_random_texts_agree_with_plain_re(engine: str) -> None:
    """Texts stitched from the patterns' own words, separators and odd characters: wherever a literal almost
    matches, the prefilter must still leave every real match to `re`."""
    words = [
        *[
            "KV",
            "cache",
            "key-value",
            "TP",
            "TP8",
            "tensor",
            "parallel",
            "parallelism",
            "IB",
            "NVLink",
            "NV-Link",
            "faster",
            "than",
            "not",
            "no",
            "so",
            "done",
        ],
        *[
            "heartbeat",
            "every",
            "5",
            "ms",
            "foo",
            "bar",
            "pool",
            "page",
            "N",
            "+",
            "1",
            "$5",
            "2",
            "x",
            "96",
            "layers",
            "=",
            "GB",
            "y",
            "x",
            "sequence",
            "ſequence",
            "kelvin",
        ],
        "\u212aelvin",
        "abc",
        "ab",
        "bc",
        ".",
        ",",
        "\n",
        "\x00",
        "\t",
        "  ",
    ]
    rng = random.Random(10)
    pset = PatternSet(PATTERNS, FLAGS)
    with use_engine(engine):
        for _ in range(300):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 40)))
            segments = _sentences(text)
            for name, patterns in PATTERNS.items():
                assert _answers(pset, name, segments) == _reference(patterns, segments, FLAGS), (name, text)


def test_fold_extra_is_every_non_ascii_character_ignorecase_matches_to_ascii() -> None:
    everything = "".join(chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000)
    derived = {}
    for m in re.finditer(r"[a-z]", everything, re.IGNORECASE):
        c = m.group()
        if not c.isascii():
            derived[c] = next(a for a in "abcdefghijklmnopqrstuvwxyz" if re.fullmatch(a, c, re.IGNORECASE))
    assert derived == FOLD_EXTRA
    assert fold("İnfiniBand \u212aV ſ") == "infiniband kv s"
    assert len(fold("İ" * 5)) == 5  # one character for one: offsets hold


def test_analysis_reads_required_literals() -> None:
    assert analyse(r"\bKV cache\b", FLAGS).needs == (("kv cache",),)
    needs = analyse(r"\b(?:TP|tensor)\w* across\b", FLAGS).needs
    assert needs == ((" across",),)  # "tp" is too short to be worth a second test
    assert analyse(r"\bNV-?Link\b", FLAGS).needs == (("nv-link", "nvlink"),)
    assert analyse(r"\d+\s*\w+", FLAGS).needs == ()  # nothing any match must contain: always run
    assert analyse(r"\bto\b", FLAGS).needs == ()  # a word in every sentence is no information
    assert analyse(r"\bin (?=\d+\s*GB\b)", FLAGS).needs == (("gb",),)  # what a lookahead must see is in the text
    assert analyse(r"\bin (?!\d+\s*GB\b)", FLAGS).needs == ()  # ... but not what it must not see


@pytest.mark.parametrize(
    ("pattern", "local"),
    [
        (r"\bTP\s*=?\s*\d+", True),  # its \s can reach a newline, but no match can end or go on there
        (r"\bfoo\s", False),  # a match can end on the separator's newline
        (r"\s+foo", False),  # ... or start on it
        (r"foo\s*.", False),  # "foo\n\x00": a newline next to the NUL
        (r"^(?:(?!\bno\b).)*\bIB\b", True),
        (r"a(?=\s)", False),  # an assertion that looks at a newline
        (r"a(?!\w)", True),
        (r"\Afoo", False),
        (r".", False),  # could be the NUL alone
        (r"(a)\1", False),
    ],
)
def test_locality(pattern: str, local: bool) -> None:
    assert analyse(pattern, FLAGS).local is local


def test_engine_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_MATCHING", "re")
    assert matching.engine() == "re"
    monkeypatch.setenv("COACH_MATCHING", "trie")
    assert matching.engine() == "trie"
    monkeypatch.setenv("COACH_MATCHING", "nonsense")
    assert matching.engine() in ("ahocorasick", "trie")
    with use_engine("re"):
        assert matching.engine() == "re"
    with pytest.raises(ValueError, match="unknown matching engine"), use_engine("hyperscan"):
        pass


def test_without_pyahocorasick_the_trie_engine_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "_ahocorasick", lambda: None)
    monkeypatch.delenv("COACH_MATCHING", raising=False)
    assert matching.engine() == "trie"
    pset = PatternSet(PATTERNS, FLAGS)
    segments = _sentences(TEXTS[0])
    for name, patterns in PATTERNS.items():
        assert _answers(pset, name, segments) == _reference(patterns, segments, FLAGS)


def test_a_scan_runs_only_the_patterns_whose_literals_are_there() -> None:
    """The point of the prefilter: a pattern whose literals are absent is never run."""
    pset = PatternSet({"kv": [r"\bKV cache\b"], "ib": [r"\bInfiniBand\b"]}, FLAGS)
    with use_engine("trie"):
        scan = pset.scan(["The KV cache is 38.7 GB."])
        assert scan.hits("kv") == [0]
        assert scan.hits("ib") == []
    assert pset.entries["ib"].parts[0]._compiled is None  # never compiled, let alone run
