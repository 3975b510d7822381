"""The mock interviewer: an offline engine (facts, probes, follow-ups, time plan) and thin LLM/terminal adapters.

Importing this package loads no LLM client: `grader.interview.llm` imports LangChain only when it is used.
"""

from grader.interview.engine import (
    Coverage,
    InterviewEngine,
    InterviewOver,
    InterviewState,
    PhaseCoverage,
    PlannedReply,
    Reply,
    TimeStatus,
)
from grader.interview.probes import PHASE_ORDER, InterviewPlan, default_plan, load_plan

__all__ = [
    "PHASE_ORDER",
    "Coverage",
    "InterviewEngine",
    "InterviewOver",
    "InterviewPlan",
    "InterviewState",
    "PhaseCoverage",
    "PlannedReply",
    "Reply",
    "TimeStatus",
    "default_plan",
    "load_plan",
]
