"""Cutting candidate text into sentences, the unit every pattern and every quote is taken from.

Transcripts arrive hard-wrapped (YAML blocks, exported chat logs), so a newline inside a prose line is not a
sentence break; a decimal point ("43.75") and "e.g." never are. Sentences are returned as slices of the
original text, so a quote is always verbatim; matchers squash whitespace before they search.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s")
_BREAK = re.compile(r"(?<=[.!?;])(?<!\.\.\.)\s+|(?<=\.\.\.)\s+(?=[A-Z])|\n+")
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|vs|approx|etc)\.$", re.I)


@lru_cache(maxsize=2048)
def unwrap(text: str) -> str:
    """Soft line wraps become spaces (same length, so offsets hold): a newline inside a long prose line is
    not a sentence break. Short lines ("Memory: 350 GB"), lines that end a sentence or a heading, and the
    start of a list item keep their breaks."""
    lines = text.split("\n")
    out = []
    for line, nxt in itertools.pairwise(lines):
        soft = (
            len(line.strip()) >= 60
            and bool(nxt.strip())
            and not _LIST_ITEM.match(nxt)
            and not line.lstrip().startswith("|")
            and not nxt.lstrip().startswith("|")
            and not line.rstrip().endswith((":", ".", "!", "?"))
        )
        out.append(line + (" " if soft else "\n"))
    return "".join(out) + lines[-1]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, stripped of surrounding whitespace. A turn is split once: injection
    removal, the rules extractor and the numbers reader each ask for the same turn's sentences."""
    return list(_sentence_spans(text))


@lru_cache(maxsize=2048)
def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    flat = unwrap(text)
    spans, pos = [], 0
    for m in _BREAK.finditer(flat):
        if _ABBREVIATION.search(flat[pos : m.start()]):
            continue
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(flat)))
    out = []
    for a, b in spans:
        chunk = text[a:b]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            out.append((a + lead, a + len(chunk.rstrip())))
    return tuple(out)


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, verbatim (a soft-wrapped sentence keeps its newline)."""
    return [text[a:b] for a, b in sentence_spans(text)]


def squash(text: str) -> str:
    """Whitespace folded to single spaces, for matching patterns written with plain spaces."""
    return " ".join(text.split())
