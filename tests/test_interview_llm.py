"""LLM mode: tokens stream in order from an OpenAI-compatible server on 127.0.0.1, the system prompt carries the
phase and no reference arithmetic, and any failure (before or during the stream) records the offline reply
while the candidate's message stays in the transcript."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from grader.interview import InterviewEngine
from grader.interview.llm import LLMInterviewer
from grader.interview.probes import PHASE_ORDER
from tests.fake_openai_server import FakeOpenAIServer
from tests.test_interview_engine import FakeClock, leaks, no_analysis


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with FakeOpenAIServer() as s:
        yield s


class DroppingServer:
    """Answers a streaming chat request with `keep` SSE chunks, then drops the connection mid-body."""

    def __init__(self, chunks: list[str], keep: int = 2) -> None:
        owner = self
        self.requests: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in chunks[:keep]:
                    event = {
                        "id": "x",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": "m",
                        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                    }
                    data = f"data: {json.dumps(event)}\n\n".encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                # no terminating chunk, no [DONE]: the peer just goes away
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> DroppingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _engine(seed: int = 1, clock: FakeClock | None = None) -> InterviewEngine:
    e = InterviewEngine(seed=seed, analyse=no_analysis, clock=clock or FakeClock())
    e.start()
    return e


def _llm(engine: InterviewEngine, base_url: str) -> LLMInterviewer:
    return LLMInterviewer(engine, model="fake-model", base_url=base_url, api_key="test-key", timeout_s=5)


def _offline_reply(seed: int, lines: list[str]) -> str:
    e = _engine(seed)
    for line in lines:
        r = e.reply(line)
    return r.text


def test_streamed_tokens_arrive_in_order_and_are_recorded(server: FakeOpenAIServer) -> None:
    chunks = ["Inside a node", " it's NVLink", " through NVSwitch", "."]
    server.enqueue_stream(chunks)
    e = _engine()
    stream = _llm(e, server.base_url).stream_reply("What interconnect do the nodes have?")
    assert e.transcript.turns[-1].content == "What interconnect do the nodes have?"  # recorded before the call
    tokens = list(stream)
    assert tokens == chunks
    assert stream.reply is not None
    assert stream.reply.source == "llm" and not stream.reply.fell_back and stream.reply.kind == "fact"
    assert e.transcript.turns[-1].content == "".join(chunks)
    assert [t.role for t in e.transcript.turns] == ["interviewer", "candidate", "interviewer"]
    sent = server.requests[0]
    assert sent["stream"] is True
    assert [m["role"] for m in sent["messages"]] == ["system", "assistant", "user"]


def test_system_prompt_carries_phase_facts_and_plan_but_no_reference_arithmetic(server: FakeOpenAIServer) -> None:
    clock = FakeClock()
    e = _engine(clock=clock)
    llm = _llm(e, server.base_url)
    said = ""
    for minutes, line in [
        (0, "What interconnect do we have?"),
        (6, "I'd use tensor parallelism."),
        (13, "All-reduce over NVLink."),
        (9, "Failover to a replica."),
    ]:
        clock.advance(minutes)
        server.enqueue_stream(["Okay."])
        said += " " + line
        llm.stream_reply(line).finish()
        system = server.requests[-1]["messages"][0]["content"]
        assert f"Phase: {e.phase}" in system
        assert "600 GB/s" in system  # the facts are data in the prompt...
        assert "only when asked" in system.lower() or "only when the candidate" in system.lower()
        assert not leaks(system, said), leaks(system, said)  # ...the reference arithmetic is not
    assert e.phase == "fault_tolerance"


@pytest.mark.parametrize("phase", PHASE_ORDER)
def test_system_prompt_of_every_phase_has_no_reference_figure(phase: str) -> None:
    e = _engine()
    e.state.phase = phase  # type: ignore[assignment]
    planned = e.prepare("Let me continue with the design.")
    system = LLMInterviewer(e, chat=object()).system_prompt(planned)
    assert f"Phase: {phase}" in system
    assert not leaks(system, "")


def test_failure_mid_stream_falls_back_to_the_offline_reply() -> None:
    line = "What interconnect do the nodes have?"
    with DroppingServer(["Inside a node ", "it is NVLink ", "at a speed I invent"], keep=2) as srv:
        e = _engine(seed=4)
        stream = _llm(e, srv.base_url).stream_reply(line)
        tokens = list(stream)
    assert tokens == ["Inside a node ", "it is NVLink "]  # streamed, then the connection dropped
    assert stream.reply is not None and stream.reply.fell_back and stream.reply.source == "offline"
    assert stream.error is not None
    offline = _offline_reply(4, [line])
    assert stream.reply.text == offline
    turns = e.transcript.turns
    assert [t.content for t in turns[1:]] == [line, offline]  # the partial text is discarded, the message kept


def test_endpoint_down_before_the_stream_falls_back() -> None:
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    e = _engine(seed=2)
    stream = _llm(e, f"http://127.0.0.1:{port}/v1").stream_reply("I'd start with 8-way tensor parallelism.")
    assert list(stream) == []
    assert stream.reply is not None and stream.reply.fell_back
    assert stream.reply.text == _offline_reply(2, ["I'd start with 8-way tensor parallelism."])
    assert e.transcript.turns[1].content == "I'd start with 8-way tensor parallelism."


def test_http_error_falls_back(server: FakeOpenAIServer) -> None:
    server.enqueue_error(500)
    e = _engine()
    reply = _llm(e, server.base_url).reply("What's the latency target?")
    assert reply.fell_back and "300 ms" in reply.text


def test_engine_responder_words_the_reply_and_falls_back(server: FakeOpenAIServer) -> None:
    e = InterviewEngine(seed=1, analyse=no_analysis, clock=FakeClock())
    llm = _llm(e, server.base_url)
    e.responder = llm.respond
    e.start()
    server.enqueue_stream(["Tell me ", "more."])
    r = e.reply("I'd use tensor parallelism.")
    assert (r.text, r.source, r.fell_back) == ("Tell me more.", "llm", False)
    server.enqueue_error(500)
    r = e.reply("And pipeline parallelism across nodes.")
    assert r.fell_back and r.source == "offline" and r.kind == "probe"


def test_closing_a_stream_early_records_the_offline_reply(server: FakeOpenAIServer) -> None:
    server.enqueue_stream(["one ", "two ", "three"])
    e = _engine()
    stream = _llm(e, server.base_url).stream_reply("What's the latency target?")
    assert next(stream) == "one "
    stream.close()
    assert stream.reply is not None and stream.reply.fell_back
    assert "300 ms" in e.transcript.turns[-1].content


def test_settings_supply_model_and_endpoint(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("COACH_LLM_MODEL", "interviewer-model")
    server.enqueue_stream(["Hello."])
    e = _engine()
    assert LLMInterviewer(e).reply("I'd use tensor parallelism.").source == "llm"
    assert server.requests[0]["model"] == "interviewer-model"
