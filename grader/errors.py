"""Typed errors for bad *user* input.

Bad input (a transcript that will not parse, a malformed rubric) is an exception with one base class, so the
CLI and the app can turn any of them into one readable line. Bad *model* output is never an exception here:
it becomes a result (a fallback extractor, a dropped claim) that the report records.
"""

from __future__ import annotations

from pathlib import Path


class GraderError(Exception):
    """Base of every error the grader raises on purpose; the CLI prints it as one line and exits 2."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """`path:line: message`, with any API key in it redacted (a message may quote an endpoint's reply)."""
        from grader.redact import redact  # lazily: `python -m grader --help` imports this module

        where = self.path or ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        return redact(f"{where}: {self.message}" if where else self.message)


class TranscriptError(GraderError):
    """A transcript file that cannot be read as an interview."""


class RubricError(GraderError):
    """A rubric or scenario data file that does not match its schema."""


class PromptError(GraderError):
    """A prompt template with a missing or unused variable."""


class ConfigError(GraderError):
    """Settings that cannot work (for example an LLM mode with no endpoint)."""
