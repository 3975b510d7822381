"""LLM mode: the offline engine decides every turn, an OpenAI-compatible chat model words it, token by token.

The engine stays the source of truth: it records the candidate's message first (so nothing the candidate typed
is lost), plans the reply (facts asked for, probe, follow-up, wrap-up), and the model only rephrases that plan
under prompts/interviewer_system.md. A weak model cannot wreck the interview:

- the answer to a clarifying question (the facts asked for, an assumption to state, the refusal of a figure
  to work out), a hint, a repeated question and an off-script aside come from the engine, word for word; the
  model is not asked;
- each streamed reply is capped in tokens (sent as `max_tokens` and counted on the stream) and in wall-clock
  time, and stopped early once it is already too long or degenerate (`guards.check_partial`);
- the finished reply is checked before it is recorded (`guards.check_reply`: empty, repetitive, another
  language, far longer than planned, a verdict on the answer, a reference figure or a number nobody said).

A reply that fails, and any failure of the endpoint before or during the stream, records the offline wording
of the same planned turn instead; the `Reply` says `fell_back=True` and, for a failed check, `replaced=<why>`,
which the transcript keeps on the turn.

LangChain (`langchain_openai.ChatOpenAI`) is imported inside `LLMInterviewer`, never at module import.

    llm = LLMInterviewer(engine)
    stream = llm.stream_reply("I'd split the model with 8-way tensor parallelism.")
    for token in stream:
        print(token, end="")
    stream.reply            # the recorded Reply; if stream.reply.fell_back, show stream.reply.text instead
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from grader.interview.engine import InterviewEngine, PlannedReply, Reply
from grader.interview.guards import ReplyContext, ReplyLimits, check_partial, check_reply, estimate_tokens
from grader.interview.probes import choose

log = logging.getLogger(__name__)

PROMPT_NAME = "interviewer_system"

#: Planned turns whose text the engine gives verbatim. An answer to a clarifying question (the facts asked
#: for, an assumption to state, the refusal of a figure to work out) is never the model's to word: it could
#: only add facts that are wrong. Nor are hints, a repeated question or an off-script aside (small talk, a
#: pause, the time left): their words are the point, and a model adds nothing to them but risk.
ENGINE_WORDED = frozenset({"fact", "assumption", "cant_share", "hint", "repeat", "off_script"})


def _render(name: str, **variables: object) -> str:
    from grader.prompts import render_prompt

    return render_prompt(name, **variables)


def _text_of(content: Any) -> str:
    """A chunk's content: a string, or a list of content parts (some providers)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content if p)
    return ""


class ReplyRejected(RuntimeError):
    """The model's wording failed a guard; `replaced` says why (the engine records it on the turn)."""

    def __init__(self, replaced: str) -> None:
        super().__init__(replaced)
        self.replaced = replaced


_DONE = object()


class _Bounded:
    """The model's tokens, read on a worker thread so that a stalled server cannot hold the reply past its
    wall-clock cap: the reader waits at most until the deadline, then gives up (and tells the worker to close
    the stream as soon as it wakes)."""

    def __init__(self, source: Any, messages: list[Any], deadline: float) -> None:
        self._q: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._deadline = deadline
        self._thread = threading.Thread(target=self._pump, args=(source, messages), daemon=True, name="llm-reply")
        self._thread.start()

    def _pump(self, source: Any, messages: list[Any]) -> None:
        stream = None
        try:
            stream = source.stream(messages)
            for chunk in stream:
                if self._stop.is_set():
                    break
                self._q.put(_text_of(getattr(chunk, "content", "")))
        except BaseException as exc:  # delivered to the reader, which decides
            self._q.put(exc)
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # closing a broken stream may fail too; the reply is already decided
                    log.debug("closing the LLM stream failed: %s", exc)
            self._q.put(_DONE)

    def __iter__(self) -> Iterator[str]:
        try:
            while True:
                remaining = self._deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                try:
                    item = self._q.get(timeout=remaining)
                except queue.Empty:
                    raise TimeoutError from None
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._stop.set()


class ReplyStream(Iterator[str]):
    """The tokens of one interviewer turn. After iteration `reply` is the recorded Reply (`fell_back` when the
    model failed or its wording failed a guard, and the offline text was recorded instead of what was
    streamed; `replaced` then says why). Closing the stream early records the offline reply, so a turn is
    never left half-done."""

    def __init__(self, interviewer: LLMInterviewer, planned: PlannedReply) -> None:
        self.reply: Reply | None = None
        self.error: BaseException | None = None
        self.replaced: str | None = None
        self._interviewer = interviewer
        self._planned = planned
        self._gen = self._run()

    def __iter__(self) -> ReplyStream:
        return self

    def __next__(self) -> str:
        return next(self._gen)

    def close(self) -> None:
        """Stop streaming; if nothing was recorded yet, the offline reply is."""
        self._gen.close()
        if self.reply is None:
            self.reply = self._interviewer.engine.commit(self._planned, fell_back=True)

    def finish(self) -> Reply:
        """Drain the stream (if not yet) and return the recorded reply."""
        for _ in self:
            pass
        assert self.reply is not None
        return self.reply

    def _run(self) -> Iterator[str]:
        engine = self._interviewer.engine
        planned = self._planned
        if planned.kind in ENGINE_WORDED:  # the engine's words, recorded before they are shown
            self.reply = engine.commit(planned)
            yield self.reply.text
            return
        try:
            text = yield from self._interviewer.bounded_tokens(planned)
        except GeneratorExit:  # the caller stopped reading mid-stream
            self.reply = engine.commit(planned, fell_back=True)
            raise
        except ReplyRejected as rejected:
            log.warning("LLM interviewer reply replaced by the offline one: %s", rejected.replaced)
            self.replaced = rejected.replaced
            self.reply = engine.commit(planned, fell_back=True, replaced=rejected.replaced)
            return
        except Exception as exc:  # endpoint down, dropped stream: the offline engine answers
            log.warning("LLM interviewer failed, answering offline: %s", exc)
            self.error = exc
            self.reply = engine.commit(planned, fell_back=True)
            return
        self.reply = engine.commit(planned, text=text, source="llm")


class LLMInterviewer:
    """Streams the interviewer's turns from a chat model, with the offline engine as plan and fallback.

    Model, endpoint, key and caps come from `grader.settings.get_settings()` unless given here; `chat` replaces
    the client entirely (any object with `.stream(messages)` yielding chunks with `.content`).
    """

    def __init__(
        self,
        engine: InterviewEngine,
        *,
        chat: Any | None = None,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float | None = None,
        temperature: float | None = None,
        max_retries: int = 0,
        limits: ReplyLimits | None = None,
        system_role: str | None = None,
    ) -> None:
        self.engine = engine
        self._chat = chat
        self._limits = limits
        self._system_role = system_role
        self._config = dict(
            model=model,
            base_url=base_url,
            api_key=api_key,
            timeout_s=timeout_s,
            temperature=temperature,
            max_retries=max_retries,
        )

    @property
    def chat(self) -> Any:
        if self._chat is None:
            self._chat = self._build_chat()
        return self._chat

    @property
    def limits(self) -> ReplyLimits:
        if self._limits is None:
            from grader.settings import get_settings

            self._limits = ReplyLimits.from_settings(get_settings())
        return self._limits

    @property
    def system_role(self) -> str:
        if self._system_role is None:
            from grader.settings import get_settings

            self._system_role = get_settings().llm_system_role
        return self._system_role

    def _build_chat(self) -> Any:
        from langchain_openai import ChatOpenAI  # the one place LangChain is imported
        from pydantic import SecretStr

        from grader.extract.structured import max_tokens_kwargs
        from grader.settings import get_settings

        cfg = self._config
        settings = get_settings()
        api_key = cfg["api_key"] if cfg["api_key"] is not None else settings.api_key_value()
        base_url = cfg["base_url"] or settings.llm_base_url
        timeout = cfg["timeout_s"] if cfg["timeout_s"] is not None else settings.llm_timeout_s
        return ChatOpenAI(
            model=cfg["model"] or settings.llm_model,
            base_url=base_url,
            api_key=SecretStr(api_key),
            timeout=min(timeout, self.limits.max_seconds),
            temperature=cfg["temperature"] if cfg["temperature"] is not None else settings.llm_temperature,
            max_retries=cfg["max_retries"],  # interactive: fail fast, the offline engine answers
            streaming=True,
            **max_tokens_kwargs(base_url, self.limits.max_tokens),
        )

    # --- prompt --------------------------------------------------------------------------------------------

    def system_prompt(self, planned: PlannedReply) -> str:
        eng = self.engine
        facts = "\n".join(f"- {f.topic}: {f.answer}" for f in eng.scenario.facts)
        cov = next(c for c in eng.phase_coverage() if c.phase == planned.phase)
        coverage = f"covered: {', '.join(cov.covered) or 'nothing yet'}\nmissing: {', '.join(cov.missing) or 'nothing'}"
        assume = choose(eng.plan.assume, eng.seed, len(eng.transcript.turns), "assume")
        return _render(
            PROMPT_NAME,
            opening_prompt=eng.scenario.opening_prompt,
            facts=facts,
            phase=planned.phase,
            phase_title=eng.plan.phase(planned.phase).title,
            time_status=eng.time_status().describe(),
            coverage=coverage,
            assume=assume,
            next_kind=planned.kind,
            next_step=planned.text,
        )

    def messages(self, planned: PlannedReply) -> list[Any]:
        """The system prompt, then the conversation. With `llm_system_role=user` (servers whose chat format
        drops system messages, such as llama-cpp-python's `gemma`) the instructions lead the last user message
        instead, next to the turn they are about."""
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        system = self.system_prompt(planned)
        history: list[Any] = [
            AIMessage(content=t.content) if t.role == "interviewer" else HumanMessage(content=t.content)
            for t in self.engine.transcript.turns
        ]
        if self.system_role == "user" and history and isinstance(history[-1], HumanMessage):
            last = history.pop()
            return [*history, HumanMessage(content=f"{system}\n\n## The candidate's last message\n{last.content}")]
        return [SystemMessage(content=system), *history]

    # --- turns ---------------------------------------------------------------------------------------------

    def start(self) -> str:
        return self.engine.start()

    def stream_reply(self, message: str) -> ReplyStream:
        """Record the candidate's message now, then stream the interviewer's answer (see ReplyStream)."""
        planned = self.engine.prepare(message)
        return ReplyStream(self, planned)

    def reply(self, message: str) -> Reply:
        return self.stream_reply(message).finish()

    def hint(self) -> Reply:
        """Hints are short and fixed: the offline engine gives them."""
        return self.engine.hint()

    def bounded_tokens(self, planned: PlannedReply) -> Iterator[str]:
        """Stream the model's wording of `planned` within the caps; return the whole text if it passes the
        checks, raise `ReplyRejected` if not (and any endpoint error as it is)."""
        limits = self.limits
        ctx = ReplyContext.of(planned.text, self.engine.transcript.turns, instructions=self.system_prompt(planned))
        parts: list[str] = []
        chunks = 0
        started = time.monotonic()
        tokens = _Bounded(self.chat, self.messages(planned), started + limits.max_seconds)
        try:
            for token in tokens:
                if not token:
                    continue
                parts.append(token)
                chunks += 1
                text = "".join(parts)
                if estimate_tokens(text, chunks) > limits.max_tokens:
                    raise ReplyRejected(f"longer than the {limits.max_tokens}-token cap")
                if chunks % 8 == 0 and (reason := check_partial(text, ctx, limits)):
                    raise ReplyRejected(reason)
                yield token
        except TimeoutError:
            raise ReplyRejected(f"took longer than {limits.max_seconds:g}s") from None
        text = "".join(parts).strip()
        reason = check_reply(text, ctx, limits)
        if reason:
            raise ReplyRejected(reason)
        return text

    def respond(self, engine: InterviewEngine, planned: PlannedReply) -> str | None:
        """An `InterviewEngine` responder (non-streaming): the whole checked reply, None for the engine's own
        words (facts), or an exception to fall back (`ReplyRejected` says why)."""
        if planned.kind in ENGINE_WORDED:
            return None
        gen = self.bounded_tokens(planned)
        while True:
            try:
                next(gen)
            except StopIteration as done:
                return str(done.value)
