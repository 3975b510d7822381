"""What the pages get from outside the session: settings, folders, LLM clients and the grader.

Clients are built by `@st.cache_resource` factories, once per process and shared by every session. Tests
replace a factory with `monkeypatch.setattr(resources, "interviewer_chat", fake)`: the pages always look
factories up on this module at call time, never import them by name.

Settings come from the environment (`COACH_*`, see grader/settings.py) with `.streamlit/secrets.toml` filling
in what the environment leaves unset. The API key is handed to clients and never shown, logged or used as a
cache key (a short hash of it is).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from grader import paths
from grader.extract.base import ClaimExtractor
from grader.settings import Settings, get_settings
from grader.transcript import Transcript

if TYPE_CHECKING:  # the pipeline loads the checker and the rubric: not before the first paint
    from grader.pipeline import Graded

SESSIONS_ENV = "COACH_SESSIONS_DIR"
TRANSCRIPTS_ENV = "COACH_TRANSCRIPTS_DIR"

# settings field -> names it may have in the environment or in secrets.toml (first found wins)
_SECRET_NAMES: dict[str, tuple[str, ...]] = {
    "llm_api_key": ("COACH_LLM_API_KEY", "OPENAI_API_KEY"),
    "llm_base_url": ("COACH_LLM_BASE_URL", "OPENAI_BASE_URL"),
    "llm_model": ("COACH_LLM_MODEL",),
    "interviewer_mode": ("COACH_INTERVIEWER_MODE",),
}


# --- folders -----------------------------------------------------------------------------------------------


def transcripts_dir() -> Path:
    """Where Replay looks for transcripts: $COACH_TRANSCRIPTS_DIR, else the project's transcripts/."""
    env = os.environ.get(TRANSCRIPTS_ENV, "").strip()
    return Path(env).expanduser() if env else paths.TRANSCRIPTS_DIR


def sessions_dir() -> Path:
    """Where practice sessions are saved: $COACH_SESSIONS_DIR, else <transcripts>/sessions."""
    env = os.environ.get(SESSIONS_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    if os.environ.get(TRANSCRIPTS_ENV, "").strip():
        return transcripts_dir() / "sessions"
    return paths.SESSIONS_DIR


def uploads_dir() -> Path:
    """Uploaded transcripts are kept here (by content hash) so their reviewer overrides have a home."""
    return transcripts_dir() / "uploads"


@st.cache_resource(show_spinner=False)
def session_lock(sid: str) -> threading.RLock:
    """One lock per practice session id, shared by every script run and browser tab this server has: whoever
    changes the interview or its file holds it."""
    return threading.RLock()


@st.cache_resource(show_spinner=False)
def prewarm_scorecard() -> threading.Thread:
    """Load what a scorecard needs (the grading pipeline, the rubric and its labels, the scorecard view) in
    the background, once per process, after a page has been drawn: the first paint does not wait for it, and
    the first scorecard, Replay or reopened session does not either."""

    def warm() -> None:
        import importlib

        importlib.import_module("app_ui.scorecard_view")
        importlib.import_module("grader.pipeline")
        from grader.labels import vocabulary

        vocabulary()

    thread = threading.Thread(target=warm, daemon=True)
    thread.start()
    return thread


# --- settings ----------------------------------------------------------------------------------------------


def _secrets() -> dict[str, Any]:
    """Top-level entries of secrets.toml; {} when there is none or it cannot be read. Never raises."""
    try:
        return {str(k): st.secrets[k] for k in st.secrets}
    except Exception:  # no secrets.toml (StreamlitSecretNotFoundError), a parse error, no runtime
        return {}


def settings() -> Settings:
    """Fresh settings: the environment first, then secrets.toml for anything the environment leaves unset."""
    secrets = _secrets()
    overrides: dict[str, object] = {}
    for field, names in _SECRET_NAMES.items():
        if any(os.environ.get(n, "").strip() for n in names):
            continue
        value = next((secrets[n] for n in names if isinstance(secrets.get(n), str) and secrets[n].strip()), None)
        if value is not None:
            overrides[field] = value
    return get_settings(**overrides)


def llm_mode(s: Settings) -> bool:
    """The LLM interviews and grades when one is configured, unless COACH_INTERVIEWER_MODE=offline."""
    return s.llm_configured and s.interviewer_mode != "offline"


def mode_label(s: Settings) -> str:
    if llm_mode(s):
        return f"LLM: {s.llm_model} at {_safe_endpoint(s.endpoint)}"
    return "Offline (scripted interviewer, rule-based grading)"


def _safe_endpoint(url: str) -> str:
    """An endpoint without any user:password@ part and without a query string (where keys sometimes go)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc, query="", fragment="")) if parts.netloc else url


def key_id(s: Settings) -> str:
    """A short hash standing for the API key in cache keys; never the key."""
    secret = s.llm_api_key.get_secret_value() if s.llm_api_key is not None else ""
    return hashlib.sha256(secret.encode()).hexdigest()[:12] if secret else "none"


# --- clients -----------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def interviewer_chat(model: str, base_url: str | None, key: str) -> Any:
    """The chat model that words the interviewer's turns, one per (model, endpoint, key) for all sessions."""
    from grader.interview.llm import LLMInterviewer

    s = settings()
    # LLMInterviewer builds the client (LangChain is imported only there); it needs no engine to do so.
    return LLMInterviewer(cast(Any, None), model=model, base_url=base_url, api_key=s.api_key_value()).chat


def chat_for(s: Settings) -> Any:
    return interviewer_chat(s.llm_model, s.llm_base_url, key_id(s))


@st.cache_resource(show_spinner=False)
def extractor(name: str, model: str | None = None, base_url: str | None = None, key: str = "none") -> ClaimExtractor:
    """The claim extractor grading uses: rules, or the LLM with rules as its fallback."""
    from grader import pipeline

    return pipeline.make_extractor("llm" if name == "llm" else "rules", settings() if name == "llm" else None)


def extractor_name(s: Settings) -> str:
    return "llm" if llm_mode(s) else "rules"


def extractor_for(s: Settings) -> ClaimExtractor:
    name = extractor_name(s)
    if name == "llm":
        return extractor("llm", s.llm_model, s.llm_base_url, key_id(s))
    return extractor("rules")


# --- grading -----------------------------------------------------------------------------------------------


def grade(transcript: Transcript, s: Settings | None = None) -> Graded:
    """Grade through the pipeline the CLI, batch and the interviewer use (injections removed first), with
    this server's extractor."""
    from grader.pipeline import grade as grade_with

    s = s or settings()
    return grade_with(transcript, extractor=extractor_for(s))
