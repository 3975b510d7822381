"""LLM mode: the offline engine decides every turn, an OpenAI-compatible chat model words it, token by token.

The engine stays the source of truth: it records the candidate's message first (so nothing the candidate typed
is lost), plans the reply (facts asked for, probe, follow-up, wrap-up), and the model only rephrases that plan
under prompts/interviewer_system.md. If the endpoint fails before or during the stream, the partial text is
thrown away and the offline reply is recorded instead; the `Reply` says `fell_back=True`.

LangChain (`langchain_openai.ChatOpenAI`) is imported inside `LLMInterviewer`, never at module import.

    llm = LLMInterviewer(engine)
    stream = llm.stream_reply("What interconnect do the nodes have?")
    for token in stream:
        print(token, end="")
    stream.reply            # the recorded Reply; if stream.reply.fell_back, show stream.reply.text instead
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from grader.interview.engine import InterviewEngine, PlannedReply, Reply
from grader.interview.probes import choose

log = logging.getLogger(__name__)

PROMPT_NAME = "interviewer_system"


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


class ReplyStream(Iterator[str]):
    """The tokens of one interviewer turn. After iteration `reply` is the recorded Reply (`fell_back` when the
    model failed and the offline text was recorded instead of what was streamed). Closing the stream early
    records the offline reply, so a turn is never left half-done."""

    def __init__(self, interviewer: LLMInterviewer, planned: PlannedReply) -> None:
        self.reply: Reply | None = None
        self.error: BaseException | None = None
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
        parts: list[str] = []
        try:
            for chunk in self._interviewer.chat.stream(self._interviewer.messages(self._planned)):
                token = _text_of(getattr(chunk, "content", ""))
                if token:
                    parts.append(token)
                    yield token
            text = "".join(parts).strip()
            if not text:
                raise RuntimeError("the model returned an empty reply")
        except GeneratorExit:  # the caller stopped reading mid-stream
            self.reply = engine.commit(self._planned, fell_back=True)
            raise
        except Exception as exc:  # endpoint down, timeout, dropped stream: the offline engine answers
            log.warning("LLM interviewer failed, answering offline: %s", exc)
            self.error = exc
            self.reply = engine.commit(self._planned, fell_back=True)
            return
        self.reply = engine.commit(self._planned, text=text, source="llm")


class LLMInterviewer:
    """Streams the interviewer's turns from a chat model, with the offline engine as plan and fallback.

    Model, endpoint and key come from `grader.settings.get_settings()` unless given here; `chat` replaces the
    client entirely (any object with `.stream(messages)` yielding chunks with `.content`).
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
    ) -> None:
        self.engine = engine
        self._chat = chat
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

    def _build_chat(self) -> Any:
        from langchain_openai import ChatOpenAI  # the one place LangChain is imported
        from pydantic import SecretStr

        from grader.settings import get_settings

        cfg = self._config
        settings = get_settings()
        api_key = cfg["api_key"] if cfg["api_key"] is not None else settings.api_key_value()
        return ChatOpenAI(
            model=cfg["model"] or settings.llm_model,
            base_url=cfg["base_url"] or settings.llm_base_url,
            api_key=SecretStr(api_key),
            timeout=cfg["timeout_s"] if cfg["timeout_s"] is not None else settings.llm_timeout_s,
            temperature=cfg["temperature"] if cfg["temperature"] is not None else settings.llm_temperature,
            max_retries=cfg["max_retries"],  # interactive: fail fast, the offline engine answers
            streaming=True,
        )

    # --- prompt --------------------------------------------------------------------------------------------

    def system_prompt(self, planned: PlannedReply) -> str:
        eng = self.engine
        facts = "\n".join(f"- {f.topic}: {f.answer}" for f in eng.scenario.facts)
        cov = next(c for c in eng.phase_coverage() if c.phase == planned.phase)
        coverage = f"covered: {', '.join(cov.covered) or 'nothing yet'}\nmissing: {', '.join(cov.missing) or 'nothing'}"
        cant_share = choose(eng.plan.cant_share, eng.seed, len(eng.transcript.turns), "cant_share")
        return _render(
            PROMPT_NAME,
            opening_prompt=eng.scenario.opening_prompt,
            facts=facts,
            phase=planned.phase,
            phase_title=eng.plan.phase(planned.phase).title,
            time_status=eng.time_status().describe(),
            coverage=coverage,
            cant_share=cant_share,
            next_kind=planned.kind,
            next_step=planned.text,
        )

    def messages(self, planned: PlannedReply) -> list[Any]:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        msgs: list[Any] = [SystemMessage(content=self.system_prompt(planned))]
        for t in self.engine.transcript.turns:
            msgs.append(AIMessage(content=t.content) if t.role == "interviewer" else HumanMessage(content=t.content))
        return msgs

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

    def respond(self, engine: InterviewEngine, planned: PlannedReply) -> str:
        """An `InterviewEngine` responder (non-streaming): the whole reply, or an exception to fall back."""
        parts = [_text_of(getattr(c, "content", "")) for c in self.chat.stream(self.messages(planned))]
        text = "".join(parts).strip()
        if not text:
            raise RuntimeError("the model returned an empty reply")
        return text
