"""Structured output that works on every OpenAI-compatible server: ask in the way the endpoint takes.

Servers differ in how they can be made to answer JSON. OpenAI and vLLM take `response_format: json_schema`;
llama.cpp's servers take `json_object` with a `schema` (turned into a grammar) and answer HTTP 500 to anything
else; Ollama and LM Studio each take their own subset of schema, JSON mode and tool calling. So one request is
tried in these ways, in order:

1. `json_schema`: `response_format: {"type": "json_schema", ...}` (strict), parsed by the client;
2. `json_mode`: `response_format: {"type": "json_object", "schema": ...}`, with the schema in the prompt too;
3. `tools`: one forced function call whose parameters are the schema;
4. `text`: no format at all; the JSON object is read out of the reply's text, schema in the prompt.

A response that says the way is not supported (HTTP 400/422, or a 5xx whose body names the format) is a
deterministic refusal: it is never retried, the next way is tried at once, and the way that worked is
remembered per endpoint and model (`cache.MethodMemory`) so the next run starts there. An answer that does not
validate moves on to the next way too (the same request at temperature 0 mostly gets the same answer).
Transient failures (429, other 5xx, timeouts, dropped connections) are retried with exponential backoff
(tenacity, `settings.llm_max_retries` times) in the same way; when they run out nothing else is tried.

Whichever way answered, the answer is validated against the same pydantic model. This module knows nothing of
what the model describes: the extractor gives it a pydantic class and gets an instance back.
langchain/openai/tenacity are imported inside functions, so importing this module is cheap.
"""

from __future__ import annotations

import json
import logging
import re
import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from grader.extract.cache import MethodMemory
from grader.settings import Settings

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable
    from tenacity import RetryCallState

log = logging.getLogger(__name__)

Method = Literal["json_schema", "json_mode", "tools", "text"]
METHODS: tuple[Method, ...] = ("json_schema", "json_mode", "tools", "text")
#: The ways that put the schema in the prompt (the server does not see it, or may not enforce it).
PROMPTED: frozenset[Method] = frozenset({"json_mode", "text"})
JSON_PROMPT = "json_answer"

M = TypeVar("M", bound=BaseModel)

# What a refusal of the format says about itself, when a server answers it with a 5xx.
_FORMAT_WORDS = re.compile(r"response_format|json_schema|json_object|tool_choice|\btools?\b|function", re.I)
_CONTEXT_WORDS = re.compile(r"context (length|window)|too long|maximum context|exceeds? the", re.I)


# --- failures ---------------------------------------------------------------------------------------------


class UnparseableOutput(Exception):
    """The model answered, but not with an object that validates against the schema."""

    def __init__(self, message: str, *, cut_off: bool = False) -> None:
        super().__init__(message)
        self.cut_off = cut_off


class _Attempts(Exception):
    """The last error of one way of asking, and how many attempts it took."""

    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


class StructuredOutputFailed(Exception):
    """No way of asking produced a valid answer; `reason` is one line for the fallback label."""

    def __init__(self, reason: str, method: Method | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.method = method


def _error_text(e: BaseException) -> str:
    body = getattr(e, "body", None)
    try:
        body_text = json.dumps(body) if body is not None else ""
    except (TypeError, ValueError):
        body_text = str(body)
    return f"{getattr(e, 'message', '') or e} {body_text}"


def is_refusal(e: BaseException) -> bool:
    """The endpoint refused the way the request asked for structure: try another way, never the same again."""
    import openai

    if not isinstance(e, openai.APIStatusError):
        return False
    text = _error_text(e)
    if e.status_code in (400, 422):
        return not _CONTEXT_WORDS.search(text)  # a prompt too long for the model is refused whatever the format
    return e.status_code >= 500 and bool(_FORMAT_WORDS.search(text))


def is_unparseable(e: BaseException) -> bool:
    """The model answered but not with the schema: bad JSON, wrong shape, cut off by max_tokens, filtered."""
    import openai
    from langchain_core.exceptions import OutputParserException

    # The openai client validates json_schema output itself and raises pydantic's ValidationError.
    return isinstance(
        e,
        UnparseableOutput
        | ValidationError
        | json.JSONDecodeError
        | OutputParserException
        | openai.LengthFinishReasonError
        | openai.ContentFilterFinishReasonError,
    )


def is_transient(e: BaseException) -> bool:
    """Worth sending the same request again: rate limits, server trouble, timeouts, dropped connections."""
    import openai

    if isinstance(e, openai.RateLimitError | openai.APIConnectionError):  # APITimeoutError is a connection error
        return True
    if isinstance(e, openai.APIStatusError):
        return (e.status_code >= 500 or e.status_code in (408, 409)) and not is_refusal(e)
    return False


def retry_after_s(e: BaseException | None) -> float | None:
    response = getattr(e, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


def describe_failure(e: BaseException, settings: Settings) -> str:
    """A short reason for the fallback label."""
    import openai

    if isinstance(e, openai.RateLimitError):
        return "rate limited (HTTP 429)"
    if isinstance(e, openai.APITimeoutError):
        return f"timed out after {settings.llm_timeout_s:g}s"
    if isinstance(e, openai.APIConnectionError):
        return "connection failed"
    if isinstance(e, openai.AuthenticationError):
        return "authentication failed (HTTP 401)"
    if isinstance(e, openai.NotFoundError):
        return "model or endpoint not found (HTTP 404)"
    if isinstance(e, openai.APIStatusError):
        if is_refusal(e):
            return f"refused (HTTP {e.status_code})"
        return f"{'server error' if e.status_code >= 500 else 'request rejected'} (HTTP {e.status_code})"
    if isinstance(e, openai.LengthFinishReasonError) or (isinstance(e, UnparseableOutput) and e.cut_off):
        return "unparseable output (cut off at the token limit)"
    if is_unparseable(e):
        return "unparseable output"
    return f"unexpected error ({type(e).__name__})"


def _summary(tried: list[tuple[Method, str]]) -> str:
    """ "json_schema refused (HTTP 500); json_mode, tools, text unparseable output": methods grouped by reason."""
    by_reason: dict[str, list[str]] = {}
    for method, reason in tried:
        by_reason.setdefault(reason, []).append(method)
    return "; ".join(f"{', '.join(methods)} {reason}" for reason, methods in by_reason.items())


# --- JSON out of text --------------------------------------------------------------------------------------

_FENCE = re.compile(r"^```[\w-]*\s*\n?|\n?```\s*$")


def _first_object(text: str) -> Any:
    """The first JSON object in `text`: the whole text, or the first `{...}` that decodes (prose or a code
    fence around it is ignored)."""
    stripped = _FENCE.sub("", text.strip()).strip()
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", stripped):
        try:
            obj, _end = decoder.raw_decode(stripped, m.start())
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    raise UnparseableOutput("no JSON object in the reply")


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    if typing.get_origin(annotation) is list:
        (arg,) = typing.get_args(annotation) or (None,)
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _nullable(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(
        annotation
    )


def _fill(data: dict[str, Any], schema: type[BaseModel]) -> dict[str, Any]:
    """Add what weak models leave out: a missing list is empty, a missing nullable field is null."""
    out = dict(data)
    for name, field in schema.model_fields.items():
        if name in out:
            continue
        if typing.get_origin(field.annotation) is list:
            out[name] = []
        elif _nullable(field.annotation):
            out[name] = None
    return out


def validate_lenient(data: Any, schema: type[M]) -> tuple[M, int]:
    """`data` as `schema`, item by item: an invalid item of a top-level list is dropped and counted (one bad
    item does not cost the rest), missing empty fields are filled in. Anything else invalid is unparseable."""
    if not isinstance(data, dict):
        raise UnparseableOutput(f"expected a JSON object, got {type(data).__name__}")
    data = _fill(data, schema)
    dropped = 0
    for name, field in schema.model_fields.items():
        item_model = _list_item_model(field.annotation)
        if item_model is None or not isinstance(data.get(name), list):
            continue
        kept = []
        for item in data[name]:
            try:
                kept.append(item_model.model_validate(_fill(item, item_model) if isinstance(item, dict) else item))
            except ValidationError:
                dropped += 1
        data[name] = kept
    try:
        return schema.model_validate(data), dropped
    except ValidationError as e:
        raise UnparseableOutput(f"does not match the schema: {e.errors()[0]['msg']}") from e


def parse_json_text(text: str, schema: type[M]) -> tuple[M, int]:
    """The answer of a model that was asked for JSON in words: the first object in the text, validated."""
    if not text or not text.strip():
        raise UnparseableOutput("empty reply")
    return validate_lenient(_first_object(text), schema)


def _content_text(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content if p)
    return ""


# --- asking ----------------------------------------------------------------------------------------------


@dataclass
class Structured(Generic[M]):
    value: M
    method: Method
    dropped: int = 0


def json_instructions(schema: type[BaseModel]) -> str:
    """What `json_mode` and `text` add to the system prompt: the JSON schema itself."""
    from grader.prompts import render_prompt

    return render_prompt(JSON_PROMPT, schema=json.dumps(schema.model_json_schema(), separators=(",", ":")))


class StructuredCaller(Generic[M]):
    """Sends one (system, user) request for a `schema` answer, in the first way the endpoint takes.

    One caller per extractor: the ways refused during its life are not tried again, and the way that worked is
    written to `memory` (when given) for the next process.
    """

    def __init__(self, settings: Settings, schema: type[M], *, memory: MethodMemory | None = None) -> None:
        self.settings = settings
        self.schema = schema
        self.memory = memory
        self._refused: set[Method] = set()
        self._worked: Method | None = None
        self._runnables: dict[Method, Runnable] = {}
        self._instructions: str | None = None

    def order(self) -> list[Method]:
        """Ways to try: the one that worked (this run, else remembered), then the rest in the standard order."""
        first = self._worked
        if first is None and self.memory is not None:
            remembered = self.memory.get(self.settings.endpoint, self.settings.llm_model)
            first = remembered if remembered in METHODS else None  # type: ignore[assignment]
        ordered = [first, *METHODS] if first else list(METHODS)
        return [m for m in dict.fromkeys(ordered) if m is not None and m not in self._refused]

    def invoke(self, system: str, user: str, errors: list[str], *, label: str) -> Structured[M]:
        """The validated answer and the way that produced it; `StructuredOutputFailed` when none did.
        `errors` gets one short line per failed attempt."""
        tried: list[tuple[Method, str]] = []
        last: Method | None = None
        for method in self.order():
            last = method
            try:
                result = self._with_retries(method, system, user, errors, label=label)
            except _Attempts as failed:
                e = failed.error
                if is_refusal(e):
                    self._refused.add(method)
                    tried.append((method, describe_failure(e, self.settings)))
                    continue
                if is_unparseable(e):
                    tried.append((method, describe_failure(e, self.settings)))
                    continue
                reason = describe_failure(e, self.settings)
                reason = f"{reason}, {failed.attempts} attempts" if failed.attempts > 1 else reason
                if tried:
                    reason = f"{reason} (after {_summary(tried)})"
                raise StructuredOutputFailed(reason, method) from e
            self._remember(method)
            return result
        if not tried:
            raise StructuredOutputFailed("every structured-output method was refused earlier", last)
        raise StructuredOutputFailed("no structured-output method worked: " + _summary(tried), last)

    # -- internals

    def _remember(self, method: Method) -> None:
        if self._worked == method:
            return
        self._worked = method
        if self.memory is not None:
            self.memory.put(self.settings.endpoint, self.settings.llm_model, method)

    def _wait(self, state: RetryCallState) -> float:
        s = self.settings
        backoff = s.llm_backoff_base_s * 2 ** (state.attempt_number - 1)
        error = state.outcome.exception() if state.outcome else None
        return min(max(backoff, retry_after_s(error) or 0.0), s.llm_backoff_max_s)

    def _with_retries(self, method: Method, system: str, user: str, errors: list[str], *, label: str) -> Structured[M]:
        from tenacity import Retrying, retry_if_exception, stop_after_attempt

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.llm_max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(is_transient),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    n = attempt.retry_state.attempt_number
                    try:
                        return self._once(method, system, user)
                    except Exception as e:
                        log.warning("%s (%s) attempt %d failed: %.500s", label, method, n, e)
                        errors.append(f"{label} {method} attempt {n}: {describe_failure(e, self.settings)}")
                        raise
        except Exception as e:
            raise _Attempts(e, retrying.statistics.get("attempt_number", 1)) from e
        raise AssertionError("unreachable: Retrying either returns or raises")

    def _once(self, method: Method, system: str, user: str) -> Structured[M]:
        from langchain_core.messages import HumanMessage, SystemMessage

        if method in PROMPTED:
            if self._instructions is None:
                self._instructions = json_instructions(self.schema)
            system = f"{system}\n\n{self._instructions}"
        if self.settings.llm_system_role == "user":  # the chat format would drop a system message
            messages: list[Any] = [HumanMessage(content=f"{system}\n\n{user}")]
        else:
            messages = [SystemMessage(content=system), HumanMessage(content=user)]
        answer = self._runnable(method).invoke(messages)
        if method in ("json_schema", "tools"):
            parsed, error, raw = answer.get("parsed"), answer.get("parsing_error"), answer.get("raw")
            if error is None and isinstance(parsed, self.schema):
                return Structured(parsed, method)
            if (getattr(raw, "response_metadata", None) or {}).get("finish_reason") == "length":
                raise UnparseableOutput("cut off at the token limit", cut_off=True)
            calls = getattr(raw, "tool_calls", None) or []
            if calls:  # a tool call whose arguments did not validate strictly: item by item, as for text
                value, dropped = validate_lenient(calls[0].get("args"), self.schema)
                return Structured(value, method, dropped)
            broken = getattr(raw, "invalid_tool_calls", None) or []
            if broken:  # arguments that are not JSON as they stand (cut off, or wrapped in prose)
                value, dropped = parse_json_text(str(broken[0].get("args") or ""), self.schema)
                return Structured(value, method, dropped)
            if not _content_text(raw).strip():
                log.warning("unparseable %s output (%s)", method, error)
                raise UnparseableOutput(str(error) if error else "no parsed output")
            answer = raw  # some servers answer a tool request with the JSON as plain content
        if (getattr(answer, "response_metadata", None) or {}).get("finish_reason") == "length":
            raise UnparseableOutput("cut off at the token limit", cut_off=True)
        text = _content_text(answer)
        try:
            value, dropped = parse_json_text(text, self.schema)
        except UnparseableOutput:
            log.warning("unparseable %s output: %.500r", method, text)
            raise
        return Structured(value, method, dropped)

    def _runnable(self, method: Method) -> Runnable:
        if method not in self._runnables:
            llm = self._chat()
            if method == "json_schema":
                r: Runnable = llm.with_structured_output(self.schema, method="json_schema", include_raw=True)
            elif method == "tools":
                r = llm.with_structured_output(self.schema, method="function_calling", include_raw=True)
            elif method == "json_mode":
                schema = self.schema.model_json_schema()
                r = llm.bind(response_format={"type": "json_object", "schema": schema})
            else:
                r = llm
            self._runnables[method] = r
        return self._runnables[method]

    def _chat(self) -> Any:
        from langchain_openai import ChatOpenAI

        s = self.settings
        return ChatOpenAI(
            model=s.llm_model,
            base_url=s.llm_base_url,
            api_key=s.api_key_value(),
            temperature=s.llm_temperature,
            seed=s.llm_seed,
            timeout=s.llm_timeout_s,
            max_retries=0,  # tenacity owns retries
            use_responses_api=False,  # chat completions: what vLLM, Ollama and llama.cpp serve
            **max_tokens_kwargs(s.llm_base_url, s.llm_max_tokens),
        )


def max_tokens_kwargs(base_url: str | None, max_tokens: int | None) -> dict[str, Any]:
    """ChatOpenAI arguments that cap an answer at `max_tokens` on any server. LangChain sends the cap as
    `max_completion_tokens`, which OpenAI wants; some local servers read only the older `max_tokens`, so a
    non-OpenAI endpoint gets both."""
    if not max_tokens:
        return {}
    if base_url is None:
        return {"max_tokens": max_tokens}
    return {"max_tokens": max_tokens, "extra_body": {"max_tokens": max_tokens}}
