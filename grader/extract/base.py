"""The extraction seam: a `ClaimExtractor` turns a transcript into `Claims`; `ExtractionResult` says how.

Any object with a `name` and an `extract(transcript) -> Claims` method is an extractor (the rules extractor,
the LLM extractor, a test fake). `run_extractor()` gives every one of them the same result record, so the
report's provenance reads the same whichever produced the claims.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from grader.claims import Claims
from grader.quantities.registry import REGISTRY
from grader.transcript import Transcript

#: Quantity names a NumericClaim may carry: exactly the registry's (anything else is recorded as no quantity).
NUMERIC_QUANTITIES: tuple[str, ...] = tuple(REGISTRY)

#: Allowed values of StrategyClaim.justified_by and StrategyClaim.alternatives.
JUSTIFICATIONS: tuple[str, ...] = ("memory", "latency", "communication", "bubble", "cost", "scalability")
ALTERNATIVES: tuple[str, ...] = ("tp_only", "pp_only", "dp", "hybrid", "single_gpu")


@runtime_checkable
class ClaimExtractor(Protocol):
    """Anything that reads a transcript and returns claims. It never scores."""

    name: str

    def extract(self, transcript: Transcript) -> Claims: ...


class ExtractionResult(BaseModel):
    """Claims plus where they came from: the fields of the report's provenance."""

    model_config = ConfigDict(extra="forbid")

    claims: Claims
    extractor: str = Field(description="'rules', 'llm:gpt-4o-mini', or 'rules (fallback: <reason>)'")
    model: str | None = None
    endpoint: str | None = None
    prompt_hash: str | None = Field(None, description="sha256 of the rendered system prompt")
    transcript_hash: str | None = None
    dropped: int = Field(0, description="claims returned whose quote is not in a candidate turn (or off-vocabulary)")
    method: str | None = Field(
        None,
        description="how structured output was asked for: json_schema, json_mode, tools or text (a+b when chunks differed; the last tried, on fallback)",
    )
    cached: bool = False
    fallback_reason: str | None = None
    errors: list[str] = Field(default_factory=list, description="what went wrong on the way, one short line each")


def run_extractor(extractor: ClaimExtractor, transcript: Transcript) -> ExtractionResult:
    """One result record for any extractor: the LLM extractor's own `run()`, or a plain `extract()` wrapped."""
    run = getattr(extractor, "run", None)
    if callable(run):
        result = run(transcript)
        if isinstance(result, ExtractionResult):
            return result
    claims = extractor.extract(transcript)
    return ExtractionResult(
        claims=claims,
        extractor=extractor.name,
        transcript_hash=transcript.content_hash(),
        dropped=claims.dropped,
    )


@dataclass(frozen=True)
class Term:
    id: str
    label: str = ""


@dataclass(frozen=True)
class Vocabulary:
    """The ids an extractor may use. Read from the rubric at call time (`from_rubric()`), or given in tests."""

    concepts: tuple[Term, ...]
    topics: tuple[Term, ...]
    misconceptions: tuple[Term, ...] = ()
    quantities: tuple[str, ...] = NUMERIC_QUANTITIES

    @classmethod
    def of(
        cls,
        concepts: Iterable[str | tuple[str, str]],
        topics: Iterable[str | tuple[str, str]],
        misconceptions: Iterable[str | tuple[str, str]] = (),
    ) -> Vocabulary:
        """Build from ids or (id, label) pairs."""

        def terms(items: Iterable[str | tuple[str, str]]) -> tuple[Term, ...]:
            return tuple(Term(i) if isinstance(i, str) else Term(*i) for i in items)

        return cls(concepts=terms(concepts), topics=terms(topics), misconceptions=terms(misconceptions))

    @classmethod
    def from_rubric(cls, rubric: Any = None) -> Vocabulary:
        """The rubric's concept ids and clarifying-question topics (and misconception ids, if it lists any)."""
        if rubric is None:
            from grader.rubric import default_rubric  # lazily: the rubric module may load YAML

            rubric = default_rubric()

        def terms(items: Any) -> tuple[Term, ...]:
            return tuple(Term(str(x.id), str(getattr(x, "label", "") or "")) for x in (items or ()))

        return cls(
            concepts=terms(rubric.concepts),
            topics=terms(rubric.question_topics),
            misconceptions=terms(getattr(rubric, "misconceptions", None)),
        )

    @property
    def concept_ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.concepts)

    @property
    def topic_ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.topics)

    @property
    def misconception_ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.misconceptions)

    def label(self, kind: str, term_id: str) -> str:
        pool = {"concept": self.concepts, "question": self.topics}.get(kind, ())
        return next((t.label for t in pool if t.id == term_id), "")
