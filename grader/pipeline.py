"""Transcript in, report out: the one path the CLI, the app, batch grading and the interviewer share.

A transcript is untrusted, so every path starts the same way: sentences addressed to the grader are removed
(`grader.injection`) before any extractor reads the text. `grade()` is that path (report and claims);
`grade_transcript()` is its report; `analyse()` is the interviewer's live view of it (claims and checked
numbers after every answer, no scoring). Nothing else in the package runs an extractor on a transcript.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from grader import __version__
from grader.checker import check_claims
from grader.checking.history import History
from grader.claims import Check, Claims, NumericClaim
from grader.errors import ConfigError
from grader.extract.base import ClaimExtractor, ExtractionResult, run_extractor
from grader.extract.rules import RulesExtractor
from grader.injection import neutralise_injections
from grader.loaders import load_transcript
from grader.report import Evidence, Provenance, Report
from grader.scoring import score
from grader.transcript import Transcript

if TYPE_CHECKING:  # settings load pydantic-settings; only the LLM path needs them
    from grader.settings import Settings

ExtractorName = Literal["rules", "llm"]


def make_extractor(name: ExtractorName = "rules", settings: Settings | None = None) -> ClaimExtractor:
    """The rules extractor, or the LLM extractor with rules as its fallback (imported only when asked for)."""
    if name == "rules":
        return RulesExtractor()
    if settings is None:
        from grader.settings import get_settings

        settings = get_settings()
    if not settings.llm_configured:
        raise ConfigError("the LLM extractor needs COACH_LLM_BASE_URL (vLLM, Ollama...) or COACH_LLM_API_KEY")
    from grader.extract.llm import LLMExtractor

    return LLMExtractor(settings, fallback=RulesExtractor())


def rubric_version() -> str:
    from grader.rubric import default_rubric

    return str(default_rubric().version)


@dataclass(frozen=True)
class Graded:
    """A report and the claims it was scored from (Replay shows each claim at its turn)."""

    report: Report
    claims: Claims


def _score(transcript: Transcript, result: ExtractionResult, injection_attempts: list[Evidence]) -> Report:
    """Score what an extractor found. Numbers always go through the checker, whoever extracted them."""
    checks = check_claims(result.claims.numbers)
    report = score(transcript, result.claims, checks)
    return report.model_copy(
        update={
            "extractor": result.extractor,
            "injection_attempts": injection_attempts,
            "provenance": Provenance(
                grader_version=__version__,
                rubric_version=rubric_version(),
                extractor=result.extractor,
                model=result.model,
                endpoint=result.endpoint,
                method=result.method,
                prompt_hash=result.prompt_hash,
                transcript_hash=transcript.content_hash(),
                dropped_claims=result.dropped,
            ),
        }
    )


def grade(
    transcript: Transcript, *, extractor: ExtractorName | ClaimExtractor = "rules", settings: Settings | None = None
) -> Graded:
    """Grade one transcript: injections removed, claims extracted once, numbers checked, scored."""
    ext = make_extractor(extractor, settings) if isinstance(extractor, str) else extractor
    clean, attempts = neutralise_injections(transcript)
    result = run_extractor(ext, clean)
    return Graded(report=_score(clean, result, attempts), claims=result.claims)


def grade_transcript(
    transcript: Transcript, *, extractor: ExtractorName | ClaimExtractor = "rules", settings: Settings | None = None
) -> Report:
    """The report of `grade()`: what the CLI prints, batch writes and the interviewer ends with."""
    return grade(transcript, extractor=extractor, settings=settings).report


def grade_file(
    path: str | Path, *, extractor: ExtractorName | ClaimExtractor = "rules", settings: Settings | None = None
) -> Report:
    return grade_transcript(load_transcript(path), extractor=extractor, settings=settings)


_LIVE_RULES: RulesExtractor | None = None


class LiveChecks:
    """The checker's verdicts on lists of figures that grow at their end (interviews, after each answer): for
    each list the verdicts already given and the history they built are kept, so only its new figures are
    checked. Lists are told apart by their first figure (up to `KEPT` interviews at once); a list that does not
    extend the one kept for it is checked from the start."""

    KEPT = 32

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chains: dict[tuple[object, ...], tuple[list[NumericClaim], History, list[Check]]] = {}

    def check(self, claims: list[NumericClaim]) -> list[Check]:
        if not claims:
            return []
        first = claims[0]
        key = (first.turn, first.quote, first.value, first.unit)
        with self._lock:
            seen, history, checks = self._chains.pop(key, None) or ([], History(), [])
            if len(claims) < len(seen) or any(a is not b and a != b for a, b in zip(seen, claims, strict=False)):
                seen, history, checks = [], History(), []
            check_claims(claims[len(seen) :], history, checks)
            if len(self._chains) >= self.KEPT:
                self._chains.pop(next(iter(self._chains)))
            self._chains[key] = (list(claims), history, checks)
            return list(checks)


_LIVE_CHECKS = LiveChecks()


def analyse(transcript: Transcript) -> tuple[Claims, list[Check]]:
    """The interviewer's live grading after each answer: the same injection removal and rules extractor as
    `grade()`, then the checker, without scoring. One extractor and one checker for the process, so an answer
    costs its own turn: each turn's claims are memoised, the numbers reader resumes after the last turn it
    read, and the checker after the last figure it judged."""
    global _LIVE_RULES
    if _LIVE_RULES is None:
        _LIVE_RULES = RulesExtractor()
    clean, _ = neutralise_injections(transcript)
    claims = _LIVE_RULES.extract(clean)
    return claims, _LIVE_CHECKS.check(claims.numbers)
