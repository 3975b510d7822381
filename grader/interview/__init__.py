"""The mock interviewer: an offline engine (facts, probes, follow-ups, time plan) and thin LLM/terminal adapters.

Importing this package loads nothing heavy: the names below resolve on first use (PEP 562), so the CLI can
build its `interview` arguments without loading the engine, and no LLM client loads until it is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    **{
        n: "grader.interview.engine"
        for n in (
            "Coverage",
            "InterviewEngine",
            "InterviewOver",
            "InterviewState",
            "PhaseCoverage",
            "PlannedReply",
            "Reply",
            "TimeStatus",
        )
    },
    **{n: "grader.interview.probes" for n in ("PHASE_ORDER", "InterviewPlan", "default_plan", "load_plan")},
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
