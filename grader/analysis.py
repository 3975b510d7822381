"""One call from a transcript to what it shows: claims (from the chosen extractor) and checked numbers.

The interview engine calls this after every candidate turn; grading calls it once per transcript.
"""

from __future__ import annotations

from grader.claims import Check, Claims
from grader.transcript import Transcript


def analyse(transcript: Transcript) -> tuple[Claims, list[Check]]:
    """Offline (rules) extraction plus the checker. Placeholder until the rules extractor lands."""
    return Claims(), []
