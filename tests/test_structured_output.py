"""The pieces of structured-output adaptation that need no server: reading JSON out of a reply, lenient
validation item by item, and telling a refused format from a transient failure."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from pydantic import BaseModel, ConfigDict

from grader.extract.structured import (
    UnparseableOutput,
    is_refusal,
    is_transient,
    max_tokens_kwargs,
    parse_json_text,
    validate_lenient,
)


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quote: str
    turn: int
    note: str | None


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Item]
    tags: list[str]


GOOD = {"items": [{"quote": "q", "turn": 1, "note": None}], "tags": ["a"]}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(GOOD),
        "```json\n" + json.dumps(GOOD) + "\n```",
        "Here you go: " + json.dumps(GOOD) + " Hope that helps {not json}.",
        "{broken " + json.dumps(GOOD),
    ],
    ids=["bare", "fenced", "prose-around", "junk-before"],
)
def test_the_first_json_object_is_read(text: str) -> None:
    value, dropped = parse_json_text(text, Answer)
    assert value == Answer.model_validate(GOOD) and dropped == 0


@pytest.mark.parametrize("text", ["", "   ", "no json here", "[1, 2]", '{"items": "nope"}', '{"items": [], "x": 1}'])
def test_what_is_not_the_schema_is_unparseable(text: str) -> None:
    with pytest.raises(UnparseableOutput):
        parse_json_text(text, Answer)


def test_lenient_validation_fills_empties_and_drops_bad_items() -> None:
    value, dropped = validate_lenient({"items": [{"quote": "q", "turn": 2}, {"quote": "r", "turn": "two"}]}, Answer)
    assert value == Answer(items=[Item(quote="q", turn=2, note=None)], tags=[])
    assert dropped == 1


def _status_error(status: int, message: str) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(status, request=request, json={"error": {"message": message}})
    cls = {400: openai.BadRequestError, 422: openai.UnprocessableEntityError, 429: openai.RateLimitError}.get(
        status, openai.InternalServerError
    )
    return cls(message, response=response, body={"error": {"message": message}})


@pytest.mark.parametrize(
    ("status", "message", "refusal", "transient"),
    [
        (500, "Input should be 'text' or 'json_object' at ('body', 'response_format', 'type')", True, False),
        (500, "CUDA out of memory", False, True),
        (503, "overloaded", False, True),
        (400, "json_schema is not supported", True, False),
        (422, "unprocessable tools", True, False),
        (400, "Requested tokens exceed context window of 8192", False, False),
        (429, "slow down", False, True),
    ],
)
def test_refusals_and_transient_failures(status: int, message: str, refusal: bool, transient: bool) -> None:
    e = _status_error(status, message)
    assert (is_refusal(e), is_transient(e)) == (refusal, transient)


def test_the_token_cap_reaches_servers_that_read_either_name() -> None:
    assert max_tokens_kwargs(None, None) == {} and max_tokens_kwargs("http://x/v1", None) == {}
    assert max_tokens_kwargs(None, 100) == {"max_tokens": 100}  # OpenAI: max_completion_tokens only
    assert max_tokens_kwargs("http://127.0.0.1:8765/v1", 100) == {"max_tokens": 100, "extra_body": {"max_tokens": 100}}
