"""Grade a transcript once per content, for the whole server: a reload, a second tab, reopening a finished
session or replaying a transcript someone else already opened shows the report graded before, never grades
again.

Reports are kept under the extractor (and, for an LLM, its model, endpoint and key's hash), the transcript's
id and its content hash: in a store shared by every browser session of this process (bounded, most recent
first), and in the browser session itself. A report the LLM extractor could not produce (the rules fallback
graded it) stays in its browser session only, so another session asks the LLM again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import streamlit as st

from app_ui import resources, state
from grader.transcript import Transcript

SHARED_KEPT = 64


def cache_key(transcript: Transcript, extractor: str) -> str:
    return f"{extractor}:{transcript.id}:{transcript.content_hash()}"


@st.cache_resource(show_spinner=False)
def _shared() -> tuple[threading.Lock, OrderedDict[str, resources.Graded]]:
    """The process-wide store (one per server)."""
    return threading.Lock(), OrderedDict()


def _extractor_key() -> tuple[resources.Settings, str]:
    s = resources.settings()
    name = resources.extractor_name(s)
    if name == "llm":
        name = f"llm:{s.llm_model}:{s.llm_base_url}:{resources.key_id(s)}"
    return s, name


def graded(transcript: Transcript) -> resources.Graded:
    """The report (and claims) for this transcript, graded now only if this server has not graded it yet."""
    s, name = _extractor_key()
    key = cache_key(transcript, name)
    mine = st.session_state[state.REPORTS]
    if key in mine:
        mine.move_to_end(key)
        return mine[key]
    lock, shared = _shared()
    with lock:
        result = shared.get(key)
        if result is not None:
            shared.move_to_end(key)
    if result is None:
        result = resources.grade(transcript, s)
        extractor = result.report.provenance.extractor if result.report.provenance else result.report.extractor
        if "fallback" not in extractor:
            with lock:
                shared[key] = result
                while len(shared) > SHARED_KEPT:
                    shared.popitem(last=False)
    mine[key] = result
    while len(mine) > state.REPORTS_KEPT:
        mine.popitem(last=False)
    return result
