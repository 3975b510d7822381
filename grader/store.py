"""Durable storage for practice sessions.

The app rewrites a session's transcript after every turn, so a crash or a kill mid-write must leave the old
file or the new one, never half of each; and what it writes must be readable YAML a person can open and edit.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from grader.atomic import write_atomic
from grader.loaders import load_transcript, parse_transcript
from grader.transcript import Transcript, Turn

_YAML_SUFFIXES = {".yaml", ".yml"}


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line text as `|` blocks, so a saved answer reads like the answer, not like one escaped string."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None  # PyYAML falls back to quoting where a block cannot hold the text
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _represent_str)


def dump_transcript_yaml(t: Transcript) -> str:
    """The project's YAML format. `source` and each turn's `line` describe a file, not the interview, so they
    are left out (the loader recomputes them), as are unset fields and `hint: false`."""
    data: dict[str, Any] = t.model_dump(exclude_none=True, exclude={"source": True, "turns": {"__all__": {"line"}}})
    for turn in data["turns"]:
        if not turn.get("hint"):
            turn.pop("hint", None)
    # No line wrapping: a hard-wrapped plain scalar reads as one line to YAML but not to a person editing it.
    return yaml.dump(data, Dumper=_ReadableDumper, sort_keys=False, allow_unicode=True, width=math.inf)


def save_transcript_atomic(t: Transcript, path: str | Path) -> Transcript:
    """Replace `path` with `t` in one atomic step and return the transcript as the file now reads.

    The text is parsed back before anything touches the disk, so a transcript the loader would refuse (an
    empty turn, say) raises TranscriptError and leaves the old file as it was.
    """
    path = Path(path)
    if path.suffix.lower() not in _YAML_SUFFIXES:
        raise ValueError(f"sessions are saved as YAML; {path.name} should end in .yaml")
    text = dump_transcript_yaml(t)
    saved = parse_transcript(text, name=str(path), fmt="yaml", in_progress=True)
    write_atomic(path, text, keep_mode=True)
    return saved


def append_turn(path: str | Path, turn: Turn) -> Transcript:
    """Add one turn to a saved session. Not locked: one session file has one writer (its browser session)."""
    current = load_transcript(path, in_progress=True)
    return save_transcript_atomic(current.model_copy(update={"turns": [*current.turns, turn]}), path)
