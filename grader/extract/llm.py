"""The LLM claim extractor: the one module that talks to a model (through langchain-openai).

The model's answer is data: schema-constrained JSON (`ExtractionOutput`), validated, mapped onto the
rubric's vocabulary, and grounded quote by quote against the transcript (`grounding.ground_claims`). It
never produces a score. The transcript is untrusted: it goes in the user message as delimited data with its
angle brackets neutralised, and the system prompt says nothing inside it is an instruction.

How the answer is asked for adapts to the endpoint (`structured`): JSON schema, JSON mode, a tool call or
plain text, whichever the server takes, remembered per endpoint and model. Failures are results, not
exceptions: transient errors (429, 5xx, timeouts) are retried with backoff, a refused format moves to the next
way of asking, and when nothing works the `fallback` extractor runs and the label reads
`rules (fallback: <reason>)`. The provenance names endpoint, model and method either way. Successful
extractions are cached on disk (`cache.ClaimsCache`).

langchain/openai are imported inside functions (in `structured`), so importing this module is cheap;
nothing in the core imports it at import time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.claims import Claims, ConceptClaim, NumericClaim, QuestionClaim, StrategyClaim
from grader.extract.base import (
    ALTERNATIVES,
    JUSTIFICATIONS,
    ClaimExtractor,
    ExtractionResult,
    Term,
    Vocabulary,
)
from grader.extract.cache import ClaimsCache, MethodMemory, cache_key
from grader.extract.grounding import ground_claims, mentions_from
from grader.extract.numbers import assumptions_from, reconcile
from grader.extract.structured import StructuredCaller, StructuredOutputFailed
from grader.prompts import PromptTemplate, load_prompt
from grader.reading.reader import read_numbers
from grader.settings import Settings
from grader.transcript import Transcript

log = logging.getLogger(__name__)

PROMPT_NAME = "extract_claims"

# --- the response model: what the model must return (OpenAI strict-schema compatible: every field required,
# --- no free-form dicts). Evidence first: quote, then turn, then what it shows.


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConceptOut(_Out):
    quote: str = Field(description="verbatim span from one candidate turn")
    turn: int = Field(description="index attribute of that candidate turn")
    concept: str = Field(description="a concept id from the list")
    level: Literal["mentioned", "explained", "misconception"]
    misconception: str | None = Field(description="misconception id when level is 'misconception', else null")


class QuestionOut(_Out):
    quote: str = Field(description="the candidate's question, verbatim")
    turn: int = Field(description="index attribute of that candidate turn")
    topic: str = Field(description="a topic id from the list")


class StrategyOut(_Out):
    quote: str = Field(description="verbatim span proposing the layout")
    turn: int = Field(description="index attribute of that candidate turn")
    tp: int | None = Field(description="tensor-parallel degree, null if not said")
    pp: int | None = Field(description="pipeline-parallel degree (stages), null if not said")
    dp: int | None = Field(description="data-parallel degree (replicas), null if not said")
    justified_by: list[str] = Field(description="any of: " + ", ".join(JUSTIFICATIONS))
    alternatives: list[str] = Field(description="strategies compared against, any of: " + ", ".join(ALTERNATIVES))


class AssumptionOut(_Out):
    name: str = Field(description="e.g. precision, batch, context, tp, pp, kv_precision")
    value: str = Field(description="as said, e.g. 'fp16', '32', '2048'")


class NumberOut(_Out):
    quote: str = Field(description="verbatim span containing the number")
    turn: int = Field(description="index attribute of that candidate turn")
    quantity: str | None = Field(description="a quantity id from the list, or null when none fits")
    named: bool = Field(description="the words next to the number say what it is (not only the topic around it)")
    value: float = Field(description="the number as stated")
    unit: str = Field(
        description="as said: GB, GiB, MB, KB, B, TB, GB/s, Gb/s, TB/s, s, ms, us, %, count, tokens, sequences, heads"
    )
    approx: bool = Field(description="said with ~, about, roughly, around")
    bound: str | None = Field(description="'lower' for '50+ GB' or 'over 50 GB', 'upper' for 'under 1 ms', else null")
    assumptions: list[AssumptionOut] = Field(description="assumptions stated for this number")
    expression: str | None = Field(description="the arithmetic as written or said, e.g. '175GB/2/4', else null")
    claims_fit: bool | None = Field(description="the sentence says it fits in memory (true) or not (false), else null")


class ExtractionOutput(_Out):
    """The structured answer requested from the model."""

    concepts: list[ConceptOut]
    questions: list[QuestionOut]
    strategies: list[StrategyOut]
    numbers: list[NumberOut]


def schema_notes() -> str:
    """One line per field of the response model, from the models' own descriptions (so they cannot drift)."""
    lines = []
    for key, model in (
        ("concepts", ConceptOut),
        ("questions", QuestionOut),
        ("strategies", StrategyOut),
        ("numbers", NumberOut),
    ):
        fields = "; ".join(
            f"{name}: {f.description}" if f.description else name for name, f in model.model_fields.items()
        )
        lines.append(f"- {key}[]: {fields}")
    return "\n".join(lines)


def _bullets(terms: tuple[Term, ...]) -> str:
    lines = [f"   - {t.id}" + (f" ({t.label})" if t.label else "") for t in terms]
    return "\n".join(lines) or "   (none)"


def render_system_prompt(vocabulary: Vocabulary, template: PromptTemplate | None = None) -> str:
    template = template or load_prompt(PROMPT_NAME)
    return template.render(
        concepts=_bullets(vocabulary.concepts),
        topics=_bullets(vocabulary.topics),
        quantities="   " + ", ".join(vocabulary.quantities),
        schema_notes=schema_notes(),
    )


# --- the transcript as data ---------------------------------------------------------------------------

_NEUTRAL = str.maketrans({"<": "‹", ">": "›"})


def neutralise(text: str) -> str:
    """Turn content cannot open or close a delimiter: `<` and `>` become `‹` and `›`."""
    return text.translate(_NEUTRAL)


def render_turn(index: int, role: str, content: str) -> str:
    return f'<turn index="{index}" role="{role}">\n{neutralise(content)}\n</turn>'


def render_transcript(
    transcript: Transcript, indexes: list[int] | None = None, part: tuple[int, int] | None = None
) -> str:
    """The user message: the chosen turns (all by default) inside one `<transcript>` element."""
    indexes = list(range(len(transcript.turns))) if indexes is None else indexes
    attrs = f' part="{part[0]}" of="{part[1]}"' if part and part[1] > 1 else ""
    body = "\n".join(render_turn(i, transcript.turns[i].role, transcript.turns[i].content) for i in indexes)
    return f"<transcript{attrs}>\n{body}\n</transcript>"


def chunk_turns(transcript: Transcript, max_chars: int) -> list[list[int]]:
    """Split the turns into chunks of about `max_chars` rendered characters, never inside a turn.

    A chunk that starts with a candidate turn is preceded by the interviewer turn before it (an overlap of one
    turn, for context; claims come only from candidate turns, so nothing is extracted twice). Chunks without
    a candidate turn are left out: there is nothing to extract from them.
    """
    turns = transcript.turns
    chunks: list[list[int]] = []
    current: list[int] = []
    size = 0
    last_interviewer: int | None = None
    for i, turn in enumerate(turns):
        cost = len(turn.content) + 48
        has_candidate = any(turns[j].role == "candidate" for j in current)
        if current and has_candidate and size + cost > max_chars:
            chunks.append(current)
            current, size = [], 0
            if turn.role == "candidate" and last_interviewer is not None:
                current, size = [last_interviewer], len(turns[last_interviewer].content) + 48
        current.append(i)
        size += cost
        if turn.role == "interviewer":
            last_interviewer = i
    if any(turns[j].role == "candidate" for j in current):
        chunks.append(current)
    return chunks


# --- from the model's answer to Claims ------------------------------------------------------------------


def to_claims(out: ExtractionOutput, vocabulary: Vocabulary) -> Claims:
    """Map the answer onto the vocabulary. Off-vocabulary concepts/topics and invalid items are dropped and
    counted; an unlisted quantity becomes none (and the figure a guess); unlisted justifications/alternatives are
    left out."""
    dropped = 0
    concept_ids, topic_ids, misconception_ids = (
        vocabulary.concept_ids,
        vocabulary.topic_ids,
        vocabulary.misconception_ids,
    )
    quantities = set(vocabulary.quantities)
    concepts: list[ConceptClaim] = []
    questions: list[QuestionClaim] = []
    strategies: list[StrategyClaim] = []
    numbers: list[NumericClaim] = []

    def degree(v: int | None) -> int | None:
        return v if v is not None and v >= 1 else None

    for c in out.concepts:
        if c.concept not in concept_ids:
            dropped += 1
            continue
        misconception = c.misconception if c.level == "misconception" else None
        if misconception is not None and misconception_ids and misconception not in misconception_ids:
            misconception = None
        try:
            concepts.append(
                ConceptClaim(turn=c.turn, quote=c.quote, concept=c.concept, level=c.level, misconception=misconception)
            )
        except ValidationError:
            dropped += 1
    for q in out.questions:
        if q.topic not in topic_ids:
            dropped += 1
            continue
        try:
            questions.append(QuestionClaim(turn=q.turn, quote=q.quote, topic=q.topic))
        except ValidationError:
            dropped += 1
    for s in out.strategies:
        try:
            strategies.append(
                StrategyClaim(
                    turn=s.turn,
                    quote=s.quote,
                    tp=degree(s.tp),
                    pp=degree(s.pp),
                    dp=degree(s.dp),
                    justified_by=[j for j in dict.fromkeys(s.justified_by) if j in JUSTIFICATIONS],
                    alternatives=[a for a in dict.fromkeys(s.alternatives) if a in ALTERNATIVES],
                )
            )
        except ValidationError:
            dropped += 1
    for n in out.numbers:
        try:
            numbers.append(
                NumericClaim(
                    turn=n.turn,
                    quote=n.quote,
                    quantity=n.quantity if n.quantity in quantities else None,
                    guessed=not n.named or n.quantity not in quantities,
                    value=n.value,
                    unit=n.unit,
                    approx=n.approx,
                    bound=n.bound if n.bound in ("lower", "upper") else None,
                    assumptions=assumptions_from((a.name, a.value) for a in n.assumptions),
                    expression=n.expression or None,
                    claims_fit=n.claims_fit,
                )
            )
        except ValidationError:
            dropped += 1
    return Claims(concepts=concepts, questions=questions, strategies=strategies, numbers=numbers, dropped=dropped)


_LEVEL_RANK = {"mentioned": 0, "explained": 1, "misconception": 2}


def merge_claims(parts: list[Claims]) -> Claims:
    """Union of per-chunk claims, deduplicated by (kind, id, turn), in turn order. For one concept at one turn
    the strongest level wins (misconception > explained > mentioned); `dropped` is summed."""
    concepts: dict[tuple, ConceptClaim] = {}
    questions: dict[tuple, QuestionClaim] = {}
    strategies: dict[tuple, StrategyClaim] = {}
    numbers: dict[tuple, NumericClaim] = {}
    for part in parts:
        for c in part.concepts:
            key = (c.concept, c.turn)
            if key not in concepts or _LEVEL_RANK[c.level] > _LEVEL_RANK[concepts[key].level]:
                concepts[key] = c
        for q in part.questions:
            questions.setdefault((q.topic, q.turn), q)
        for s in part.strategies:
            strategies.setdefault((s.tp, s.pp, s.dp, s.turn), s)
        for n in part.numbers:
            numbers.setdefault((n.quantity, n.value, n.turn), n)

    def by_turn(items: dict) -> list:
        return sorted(items.values(), key=lambda c: c.turn)

    return Claims(
        concepts=by_turn(concepts),
        questions=by_turn(questions),
        strategies=by_turn(strategies),
        numbers=by_turn(numbers),
        dropped=sum(p.dropped for p in parts),
    )


# --- the extractor --------------------------------------------------------------------------------------


class LLMExtractor:
    """Claims from an OpenAI-compatible chat model; `fallback` (the rules extractor) when the model fails.

    `run()` returns the full `ExtractionResult`; `extract()` (the `ClaimExtractor` protocol) just its claims.
    `vocabulary` defaults to the rubric's, read at call time; `prompt` to `prompts/extract_claims.md`. How the
    answer is asked for (JSON schema, JSON mode, tool call or plain text) is `structured.StructuredCaller`'s
    business; which way worked is remembered in the cache directory unless `use_cache` is False.
    """

    def __init__(
        self,
        settings: Settings,
        fallback: ClaimExtractor,
        *,
        vocabulary: Vocabulary | None = None,
        prompt: PromptTemplate | None = None,
        cache: ClaimsCache | None = None,
        use_cache: bool = True,
        memory: MethodMemory | None = None,
    ) -> None:
        self.settings = settings
        self.fallback = fallback
        self._vocabulary = vocabulary
        self._prompt = prompt
        self.cache = (cache or ClaimsCache(settings.cache_dir)) if use_cache else None
        self.memory = (memory or MethodMemory(settings.cache_dir)) if use_cache else memory
        self._caller: StructuredCaller[ExtractionOutput] | None = None

    @property
    def name(self) -> str:
        return f"llm:{self.settings.llm_model}"

    @property
    def caller(self) -> StructuredCaller[ExtractionOutput]:
        if self._caller is None:
            self._caller = StructuredCaller(self.settings, ExtractionOutput, memory=self.memory)
        return self._caller

    def extract(self, transcript: Transcript) -> Claims:
        return self.run(transcript).claims

    def run(self, transcript: Transcript) -> ExtractionResult:
        s = self.settings
        transcript_hash = transcript.content_hash()
        if not s.llm_configured:
            return self._fall_back(transcript, "no LLM configured", [])
        vocabulary = self._vocabulary or Vocabulary.from_rubric()
        system = render_system_prompt(vocabulary, self._prompt)
        p_hash = hashlib.sha256(system.encode()).hexdigest()
        key = cache_key(
            transcript_hash=transcript_hash,
            prompt_hash=p_hash,
            model=s.llm_model,
            endpoint=s.endpoint,
            temperature=s.llm_temperature,
            seed=s.llm_seed,
            extra={"chunk_chars": s.llm_chunk_chars, "response_schema": _response_schema_hash()},
        )
        provenance = dict(model=s.llm_model, endpoint=s.endpoint, prompt_hash=p_hash, transcript_hash=transcript_hash)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            method = hit.meta.get("method")
            return ExtractionResult(
                claims=hit.claims,
                extractor=self.name,
                dropped=hit.claims.dropped,
                cached=True,
                method=method if isinstance(method, str) else None,
                **provenance,
            )
        errors: list[str] = []
        methods: list[str] = []
        try:
            claims = self._extract(transcript, system, vocabulary, errors, methods)
        except StructuredOutputFailed as f:
            return self._fall_back(transcript, f.reason, errors, method=f.method)
        claims = claims.model_copy(update={"numbers": reconcile(claims.numbers, read_numbers(transcript))})
        method = "+".join(dict.fromkeys(methods)) or None
        if self.cache is not None:
            try:
                self.cache.put(key, claims, meta={"extractor": self.name, "method": method, **provenance})
            except OSError as e:  # a read-only cache dir costs a re-run later, nothing else
                log.warning("could not write the claims cache: %s", e)
        return ExtractionResult(
            claims=claims, extractor=self.name, dropped=claims.dropped, errors=errors, method=method, **provenance
        )

    # -- internals

    def _fall_back(
        self, transcript: Transcript, reason: str, errors: list[str], *, method: str | None = None
    ) -> ExtractionResult:
        """The fallback's claims, labelled with why; the provenance still names what was tried (model,
        endpoint, method), but no prompt hash: the claims did not come from that prompt."""
        log.warning("LLM extraction failed (%s); using the %s extractor", reason, self.fallback.name)
        claims = self.fallback.extract(transcript)
        s = self.settings
        tried = dict(model=s.llm_model, endpoint=s.endpoint) if s.llm_configured else {}
        return ExtractionResult(
            claims=claims,
            extractor=f"{self.fallback.name} (fallback: {reason})",
            transcript_hash=transcript.content_hash(),
            dropped=claims.dropped,
            fallback_reason=reason,
            errors=errors,
            method=method,
            **tried,
        )

    def _extract(
        self, transcript: Transcript, system: str, vocabulary: Vocabulary, errors: list[str], methods: list[str]
    ) -> Claims:
        chunks = chunk_turns(transcript, self.settings.llm_chunk_chars)
        if not chunks:
            return Claims()
        mentions = mentions_from(vocabulary)
        parts = []
        for n, indexes in enumerate(chunks, start=1):
            user = render_transcript(transcript, indexes, part=(n, len(chunks)))
            answer = self.caller.invoke(system, user, errors, label=f"chunk {n}/{len(chunks)}")
            methods.append(answer.method)
            claims = to_claims(answer.value, vocabulary)
            if answer.dropped:  # items that did not validate, left out by the lenient parse
                claims = claims.model_copy(update={"dropped": claims.dropped + answer.dropped})
            parts.append(ground_claims(claims, transcript, mentions=mentions))
        return merge_claims(parts)


def _response_schema_hash() -> str:
    blob = json.dumps(ExtractionOutput.model_json_schema(), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
