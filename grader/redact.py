"""Keep API keys out of every message, log line and traceback the grader produces.

An endpoint may echo the request's `Authorization` header in its error body (`Incorrect API key provided:
Bearer sk-...`), and that body becomes the text of the client's exception, which is logged. So redaction
cannot rely on each call site remembering to do it; it happens where text leaves the process:

- `redact(text)` replaces the configured key's exact value (registered by `grader.settings` whenever settings
  carrying a key are built), and anything shaped like a key (`sk-...`, `Bearer <token>`, `api_key=...`).
- `install()` (idempotent; also done by `register_secret`) puts it in front of every log record of the process,
  from any logger, ours, openai's, httpx's or Streamlit's: the record's message and its traceback are
  redacted when the record is made, before any handler formats it. It also wraps `sys.excepthook`, so an
  uncaught exception's traceback is redacted too.
- `GraderError.one_line()` and batch error rows go through `redact` as well.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 4
"""Shorter "keys" are not secrets worth the name, and replacing them would mangle ordinary text."""

_TOKEN = re.compile(
    r"(?P<label>\b(?:api[_-]?key|x-api-key|authorization|access[_-]?token|secret)[\"']?\s*[:=]\s*[\"']?(?:Bearer\s+)?"
    r"|\bBearer\s+)"
    r"(?P<value>[A-Za-z0-9._~+/=\-]{6,})"
    r"|\b(?:sk|rk|pk)-[A-Za-z0-9_\-]{8,}",
    re.I,
)
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(value: str | None) -> None:
    """Redact this exact value from now on (the configured API key), and make sure redaction is installed."""
    if value and len(value) >= MIN_SECRET_CHARS:
        with _lock:
            _secrets.add(value)
    install()


def redact(text: str) -> str:
    """`text` with every registered secret and every key-shaped token replaced by `[redacted]`."""
    if not text:
        return text
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _TOKEN.sub(lambda m: f"{m['label']}{REDACTED}" if m["label"] else REDACTED, text)


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed %-format: leave it to the handler to report, as logging does
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean = redact(text)
        if clean != text:
            record.exc_text = clean  # logging.Formatter uses exc_text instead of formatting exc_info again
    return record


def install() -> None:
    """Redact every log record made from now on, and uncaught exceptions' tracebacks. Safe to call again."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return _redact_record(make(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        previous_hook = sys.excepthook

        def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
            if previous_hook is not sys.__excepthook__:
                previous_hook(kind, value, tb)
                return
            sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))

        sys.excepthook = excepthook
