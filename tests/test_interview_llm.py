"""LLM mode: tokens stream in order from an OpenAI-compatible server on 127.0.0.1, the system prompt carries the
phase and no reference arithmetic, facts come from the engine, every reply is capped and checked, and any
failure (before or during the stream, or of a guard) records the offline reply while the candidate's message
stays in the transcript."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from grader.interview import InterviewEngine
from grader.interview.guards import ReplyLimits, estimate_tokens
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


PROBE_LINE = "I'd start with 8-way tensor parallelism inside a node."


def _planned_text(seed: int, lines: list[str]) -> str:
    """What the offline engine plans (and says) after `lines`: a wording of it passes the guards."""
    return _offline_reply(seed, lines)


def test_streamed_tokens_arrive_in_order_and_are_recorded(server: FakeOpenAIServer) -> None:
    planned = _planned_text(1, [PROBE_LINE])
    chunks = ["Okay. ", *(w + " " for w in planned.split())]
    server.enqueue_stream(chunks)
    e = _engine()
    stream = _llm(e, server.base_url).stream_reply(PROBE_LINE)
    assert e.transcript.turns[-1].content == PROBE_LINE  # recorded before the call
    tokens = list(stream)
    assert tokens == chunks
    assert stream.reply is not None
    assert stream.reply.source == "llm" and not stream.reply.fell_back and stream.reply.kind == "probe"
    assert stream.reply.replaced is None and e.transcript.turns[-1].replaced is None
    assert e.transcript.turns[-1].content == "".join(chunks).strip()
    assert [t.role for t in e.transcript.turns] == ["interviewer", "candidate", "interviewer"]
    sent = server.requests[0]
    assert sent["stream"] is True
    assert [m["role"] for m in sent["messages"]] == ["system", "assistant", "user"]
    # the token cap goes to the server both ways (OpenAI reads one name, llama.cpp's server the other)
    assert sent["max_completion_tokens"] == 200 and sent["max_tokens"] == 200


def test_a_clarifying_question_is_answered_with_the_engines_facts(server: FakeOpenAIServer) -> None:
    e = _engine(seed=3)
    stream = _llm(e, server.base_url).stream_reply("What interconnect do the nodes have?")
    tokens = list(stream)
    facts = _offline_reply(3, ["What interconnect do the nodes have?"])
    assert tokens == [facts] and "600 GB/s" in facts
    assert stream.reply is not None and stream.reply.kind == "fact"
    assert (stream.reply.source, stream.reply.fell_back, stream.reply.replaced) == ("offline", False, None)
    assert server.count == 0  # the model is not asked to word the scenario's facts


def test_system_prompt_carries_phase_facts_and_plan_but_no_reference_arithmetic(server: FakeOpenAIServer) -> None:
    clock = FakeClock()
    e = _engine(clock=clock)
    llm = _llm(e, server.base_url)
    said = ""
    for minutes, line in [
        (0, "Let me start with the requirements."),
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
    with DroppingServer(["Let us ", "talk about ", "something I invent"], keep=2) as srv:
        e = _engine(seed=4)
        stream = _llm(e, srv.base_url).stream_reply(PROBE_LINE)
        tokens = list(stream)
    assert tokens == ["Let us ", "talk about "]  # streamed, then the connection dropped
    assert stream.reply is not None and stream.reply.fell_back and stream.reply.source == "offline"
    assert stream.error is not None and stream.reply.replaced is None  # an endpoint failure, not a guard
    offline = _offline_reply(4, [PROBE_LINE])
    assert stream.reply.text == offline
    turns = e.transcript.turns
    assert [t.content for t in turns[1:]] == [PROBE_LINE, offline]  # the partial text is discarded, the message kept


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
    reply = _llm(e, server.base_url).reply(PROBE_LINE)
    assert reply.fell_back and reply.text == _offline_reply(1, [PROBE_LINE])


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
    assert r.fell_back and r.source == "offline" and r.kind == "probe" and r.replaced is None
    server.enqueue_stream(["So that is 350 GB ", "of weights."])
    r = e.reply("Then I'd replicate it.")
    assert r.fell_back and r.replaced is not None and "reference figure" in r.replaced
    assert e.transcript.turns[-1].replaced == r.replaced
    r = e.reply("What's the latency target?")  # facts: the engine's words, no request
    assert r.kind == "fact" and r.source == "offline" and not r.fell_back and server.pending == 0


def test_closing_a_stream_early_records_the_offline_reply(server: FakeOpenAIServer) -> None:
    server.enqueue_stream(["one ", "two ", "three"])
    e = _engine()
    stream = _llm(e, server.base_url).stream_reply(PROBE_LINE)
    assert next(stream) == "one "
    stream.close()
    assert stream.reply is not None and stream.reply.fell_back
    assert e.transcript.turns[-1].content == _offline_reply(1, [PROBE_LINE])


def test_settings_supply_model_endpoint_and_caps(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("COACH_LLM_MODEL", "interviewer-model")
    monkeypatch.setenv("COACH_INTERVIEWER_MAX_TOKENS", "64")
    server.enqueue_stream(["Hello."])
    e = _engine()
    assert LLMInterviewer(e).reply("I'd use tensor parallelism.").source == "llm"
    assert server.requests[0]["model"] == "interviewer-model"
    assert server.requests[0]["max_tokens"] == 64


# --- guards: what a weak model streams is capped and checked before it is recorded ----------------------

MENDATANG = "What is the expected return on investment (ROI) from this system? mendatang\n menneske\n"


def _guarded(
    server: FakeOpenAIServer, line: str = PROBE_LINE, seed: int = 1, **limits: Any
) -> tuple[InterviewEngine, Any, list[str], float]:
    e = _engine(seed=seed)
    llm = LLMInterviewer(
        e,
        model="fake-model",
        base_url=server.base_url,
        api_key="k",
        timeout_s=5,
        limits=ReplyLimits(**{"max_tokens": 200, "max_seconds": 5.0, **limits}),
    )
    start = time.monotonic()
    stream = llm.stream_reply(line)
    tokens = list(stream)
    return e, stream, tokens, time.monotonic() - start


@pytest.mark.parametrize(
    ("chunks", "reason"),
    [
        ([MENDATANG] * 300, "longer than"),  # the 14,000 characters of the issue: stopped early
        (["Okay, ", "okay, ", "okay, ", "okay, ", "okay."], "degenerate"),
        (["Wie würden Sie ", "das Modell auf ", "die GPUs verteilen?"], "another language"),
        (["好的。", "请继续。"], "another script"),
        (["The weights alone are 350 GB, ", "so how do you split them?"], "reference figure"),
        (["With 12 nodes, ", "how would you split it?"], "a number nobody said"),
        (["", " ", ""], "empty reply"),
    ],
    ids=["runaway", "repetition", "german", "cjk", "leak", "invented-number", "empty"],
)
def test_a_reply_that_fails_a_guard_is_replaced_and_recorded_as_such(
    server: FakeOpenAIServer, chunks: list[str], reason: str
) -> None:
    server.enqueue_stream(chunks)
    e, stream, tokens, _ = _guarded(server)
    reply = stream.reply
    offline = _offline_reply(1, [PROBE_LINE])
    assert reply is not None and reply.fell_back and reply.source == "offline"
    assert reply.replaced is not None and reason in reply.replaced, reply.replaced
    assert reply.text == offline and e.transcript.turns[-1].content == offline
    assert e.transcript.turns[-1].replaced == reply.replaced  # the transcript says it happened, and why
    assert estimate_tokens("".join(tokens), len(tokens)) <= 200  # what was streamed stayed within the cap


def test_the_stream_stops_at_the_token_cap_without_reading_the_rest(server: FakeOpenAIServer) -> None:
    server.enqueue_stream([f"w{i} " for i in range(5000)])
    _e, stream, tokens, _ = _guarded(server, max_tokens=50, length_ratio=1000)
    assert len(tokens) == 50 and stream.replaced == "longer than the 50-token cap"


def test_the_wall_clock_cap_ends_a_slow_stream(server: FakeOpenAIServer) -> None:
    server.enqueue_stream(["Let's ", "move ", "on ", "slowly ", "now."], every_s=0.4)
    _e, stream, tokens, elapsed = _guarded(server, max_seconds=0.6)
    assert stream.replaced == "took longer than 0.6s"
    assert elapsed < 1.5 and len(tokens) < 5


def test_the_wall_clock_cap_ends_a_server_that_never_answers(server: FakeOpenAIServer) -> None:
    server.enqueue_delay(5.0, then_text="too late")
    _e, stream, tokens, elapsed = _guarded(server, max_seconds=0.5)
    assert tokens == [] and stream.replaced == "took longer than 0.5s" and elapsed < 1.5


def test_a_follow_up_may_quote_the_candidates_figure(server: FakeOpenAIServer) -> None:
    line = "The weights are 350 GB, so each of 8 GPUs holds 43.75 GB."
    server.enqueue_stream(["Can you walk me ", "through the 350 GB?"])
    _e, stream, _tokens, _ = _guarded(server, line=line)
    assert stream.reply is not None and stream.reply.source == "llm", stream.replaced


def test_a_replaced_turn_round_trips_through_the_saved_file(server: FakeOpenAIServer, tmp_path: Path) -> None:
    from grader.loaders import load_transcript
    from grader.store import save_transcript_atomic

    server.enqueue_stream([MENDATANG] * 3)
    e, stream, _tokens, _ = _guarded(server)
    path = tmp_path / "s.yaml"
    save_transcript_atomic(e.transcript, path)
    assert "replaced:" in path.read_text()
    saved = load_transcript(path, in_progress=True)
    assert saved.turns[-1].replaced == stream.replaced
    resumed = InterviewEngine.resume(saved, seed=1, analyse=no_analysis, clock=FakeClock())
    assert resumed.transcript.turns[-1].replaced == stream.replaced


def test_instructions_go_in_the_user_message_for_servers_that_drop_system_messages(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue_stream(["Okay."])
    e = _engine()
    llm = LLMInterviewer(e, model="m", base_url=server.base_url, api_key="k", timeout_s=5, system_role="user")
    llm.reply(PROBE_LINE)
    sent = server.requests[0]["messages"]
    assert [m["role"] for m in sent] == ["assistant", "user"]
    assert "Your next turn" in sent[-1]["content"] and sent[-1]["content"].endswith(PROBE_LINE)


def test_a_question_the_scenario_cannot_answer_is_the_engines_too(server: FakeOpenAIServer) -> None:
    e = _engine(seed=2)
    reply = _llm(e, server.base_url).reply("What GPU driver version do the nodes run?")
    assert reply.kind == "assumption" and reply.source == "offline" and not reply.fell_back
    assert reply.text == _offline_reply(2, ["What GPU driver version do the nodes run?"])
    assert server.count == 0


@pytest.mark.parametrize(
    "line",
    ["Can you repeat the question?", "Can we use H100s?", "How much memory do the weights need?", "Let me think."],
)
def test_off_script_turns_are_the_engines_words_too(server: FakeOpenAIServer, line: str) -> None:
    e = _engine(seed=2)
    reply = _llm(e, server.base_url).reply(line)
    assert reply.kind in ("repeat", "assumption", "cant_share", "off_script")
    assert reply.source == "offline" and not reply.fell_back and server.count == 0
    assert reply.text == _offline_reply(2, [line])


def test_a_worded_challenge_that_judges_the_answer_is_replaced(server: FakeOpenAIServer) -> None:
    line = "Kubernetes will scale automatically."
    server.enqueue_stream(["That's correct! ", "But what would Kubernetes scale here?"])
    _e, stream, _tokens, _ = _guarded(server, line=line)
    assert stream.reply is not None and stream.reply.kind == "challenge"
    assert stream.reply.replaced is not None and "judges" in stream.reply.replaced
    assert stream.reply.text == _offline_reply(1, [line])
