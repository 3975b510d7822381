"""One call from a transcript to what it shows: claims (rules extractor) and checked numbers.

The interview engine calls this after every candidate turn, so it is the offline path only: fast, no network.
"""

from __future__ import annotations

from grader.checker import check_claims
from grader.claims import Check, Claims
from grader.extract.rules import RulesExtractor
from grader.transcript import Transcript

_RULES = RulesExtractor()


def analyse(transcript: Transcript) -> tuple[Claims, list[Check]]:
    claims = _RULES.extract(transcript)
    return claims, check_claims(claims.numbers)
