"""A small OpenAI-compatible chat server for tests: real HTTP on 127.0.0.1, scripted answers, recorded requests.

The real `openai` client and `langchain-openai` talk to it, so retries, timeouts, structured output and
streaming are exercised end to end without the internet.

    server.enqueue_json({...})          # a chat.completion whose message content is that JSON
    server.enqueue_text("Hi")           # plain content; streamed as SSE chunks if the request asks to stream
    server.enqueue_stream(["Hel", "lo"])  # explicit SSE chunks (or served whole to a non-streaming request)
    server.enqueue_stream(chunks, every_s=0.5)  # ...half a second apart
    server.enqueue_error(429, retry_after=0)  /  server.enqueue_error(500)
    server.enqueue_auth_echo(401)       # an error whose message quotes the request's Authorization header
    server.enqueue_delay(2.0)           # hold the request (past the client's timeout), then HTTP 504
    server.enqueue_delay(0.2, then_text="slow but fine")  # a slow success
    server.enqueue_malformed()          # content that is not JSON
    server.enqueue_tool_call({...})     # a chat.completion whose message is one tool call with these arguments
    server.refuse("json_schema", 500)   # refuse every request asking for that structured-output way, as
                                        #   llama.cpp's server does (500 naming response_format); see REFUSALS
    server.requests                     # every request body (dicts), in order; `server.count` is their number

When the queue is empty the server answers HTTP 400 "no scripted response left" (not retried by clients).
Use the `fake_openai` fixture, or `with FakeOpenAIServer() as server:`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")

#: What real servers answer to a structured-output way they do not take (the message is what names it).
REFUSALS = {
    "json_schema": "1 validation error: ('body', 'response_format', 'type'): Input should be 'text' or 'json_object'",
    "json_mode": "response_format of type 'json_object' is not supported by this model",
    "tools": "this model does not support tools",
}


def request_method(body: dict[str, Any]) -> str:
    """Which structured-output way a request asks for: json_schema, json_mode, tools or text."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return "json_schema"
    if fmt.get("type") == "json_object":
        return "json_mode"
    if body.get("tools"):
        return "tools"
    return "text"


@dataclass
class Scripted:
    kind: str  # content | stream | error | echo_auth | delay
    content: str = ""
    chunks: list[str] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    seconds: float = 0.0
    finish_reason: str = "stop"
    tool_args: dict[str, Any] | str | None = None


class FakeOpenAIServer:
    def __init__(self) -> None:
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.unscripted = 0
        self.refusals: dict[str, tuple[int, str]] = {}
        self.refused = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting

    def enqueue_json(self, obj: Any, *, finish_reason: str = "stop") -> None:
        """A structured answer: `obj` (a dict or a pydantic model) as the message content."""
        text = obj.model_dump_json() if hasattr(obj, "model_dump_json") else json.dumps(obj)
        self._push(Scripted("content", content=text, finish_reason=finish_reason))

    def enqueue_text(self, text: str, *, finish_reason: str = "stop") -> None:
        self._push(Scripted("content", content=text, finish_reason=finish_reason))

    def enqueue_stream(self, chunks: list[str], *, every_s: float = 0.0) -> None:
        """SSE chunks, `every_s` seconds apart (a slow model that keeps talking)."""
        self._push(Scripted("stream", chunks=list(chunks), content="".join(chunks), seconds=every_s))

    def enqueue_error(self, status: int, *, retry_after: float | None = None, message: str | None = None) -> None:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        err_type = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status, "server_error")
        body = {"error": {"message": message or f"scripted HTTP {status}", "type": err_type, "code": err_type}}
        self._push(Scripted("error", status=status, headers=headers, body=body))

    def enqueue_auth_echo(self, status: int = 401, *, times: int = 1) -> None:
        """Refuse the key the way some servers do: an error whose message quotes the Authorization header."""
        for _ in range(times):
            self._push(Scripted("echo_auth", status=status))

    def enqueue_delay(self, seconds: float, *, then_text: str | None = None) -> None:
        """Hold the request `seconds`, then answer `then_text` (plain or streamed) or, without it, HTTP 504.
        The delayed answer never consumes another queued item, so a client retry gets the next one."""
        self._push(Scripted("delay", seconds=seconds, content=then_text or "", status=200 if then_text else 504))

    def enqueue_malformed(self, text: str = '{"concepts": [{"quote": "unterminated') -> None:
        self._push(Scripted("content", content=text))

    def enqueue_tool_call(self, args: Any) -> None:
        """A tool call answering a `tools` request: `args` (a dict or pydantic model) as its arguments, or a
        string sent as the arguments exactly (to script arguments that are not valid JSON)."""
        data = json.loads(args.model_dump_json()) if hasattr(args, "model_dump_json") else args
        self._push(Scripted("content", tool_args=data, finish_reason="tool_calls"))

    def refuse(self, method: str, status: int = 500, message: str | None = None) -> None:
        """Answer every request that asks for `method` (json_schema, json_mode, tools) with `status`, without
        using the script: a server that does not take that way of asking, ever."""
        self.refusals[method] = (status, message or REFUSALS[method])

    def _push(self, item: Scripted) -> None:
        with self._lock:
            self._queue.append(item)

    def _pop(self) -> Scripted | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    # -- lifecycle

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    owner: FakeOpenAIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send_json(
                200, {"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "tests"}]}
            )
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path not in CHAT_PATHS:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, {"error": {"message": "request body is not JSON", "type": "invalid_request_error"}})
            return
        owner = self.owner
        with owner._lock:
            owner.requests.append(body)
            owner.paths.append(self.path)
            refusal = owner.refusals.get(request_method(body))
            if refusal is not None:
                owner.refused += 1
        if refusal is not None:
            status, message = refusal
            kind = "internal_server_error" if status >= 500 else "invalid_request_error"
            self._send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})
            return
        item = owner._pop()
        try:
            if item is not None and item.kind == "delay":
                if owner._stop.wait(item.seconds):
                    return
                if item.status != 200:
                    body_504 = {"error": {"message": "scripted delay ended", "type": "timeout"}}
                    item = Scripted("error", status=item.status, body=body_504)
            self._answer(item, body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): expected
            pass

    def _answer(self, item: Scripted | None, body: dict[str, Any]) -> None:
        if item is None:
            self.owner.unscripted += 1
            self._send_json(400, {"error": {"message": "fake server: no scripted response left", "type": "test"}})
            return
        if item.kind == "error":
            self._send_json(item.status, item.body or {}, headers=item.headers)
            return
        if item.kind == "echo_auth":
            message = f"Incorrect API key provided: {self.headers.get('Authorization', '')}"
            error = {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}
            self._send_json(item.status, {"error": error})
            return
        model = body.get("model", "fake-model")
        if body.get("stream"):
            chunks = item.chunks or _split(item.content)
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._send_sse(
                model, chunks, item.finish_reason, usage, every_s=item.seconds if item.kind == "stream" else 0
            )
            return
        self._send_json(200, _completion(model, item.content, item.finish_reason, item.tool_args, body))

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_sse(self, model: str, chunks: list[str], finish_reason: str, usage: bool, every_s: float = 0) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        cid, created = f"chatcmpl-fake-{time.monotonic_ns()}", int(time.time())

        def event(delta: dict[str, Any], finish: str | None, extra: dict[str, Any] | None = None) -> None:
            chunk = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                **(extra or {}),
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant", "content": ""}, None)
        for piece in chunks:
            if every_s and self.owner._stop.wait(every_s):
                return
            event({"content": piece}, None)
        event({}, finish_reason)
        if usage:
            text = "".join(chunks)
            tail = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
            self.wfile.write(f"data: {json.dumps({**tail, 'choices': [], 'usage': _usage(text)})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _split(text: str) -> list[str]:
    """Stream plain content a few characters at a time (word boundaries kept)."""
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)] or [""]


def _usage(text: str) -> dict[str, int]:
    completion = max(1, len(text) // 4)
    return {"prompt_tokens": 10, "completion_tokens": completion, "total_tokens": 10 + completion}


def _completion(
    model: str,
    content: str,
    finish_reason: str,
    tool_args: dict[str, Any] | str | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_args is not None:
        tools = (body or {}).get("tools") or [{"function": {"name": "answer"}}]
        name = tools[0]["function"]["name"]
        arguments = tool_args if isinstance(tool_args, str) else json.dumps(tool_args)
        call = {"id": "call_fake", "type": "function", "function": {"name": name, "arguments": arguments}}
        message = {"role": "assistant", "content": None, "refusal": None, "tool_calls": [call]}
    return {
        "id": f"chatcmpl-fake-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": _usage(content),
    }


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    """A started FakeOpenAIServer (`.base_url` is http://127.0.0.1:<port>/v1); stopped after the test."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with FakeOpenAIServer() as server:
        yield server
