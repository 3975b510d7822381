"""Grade a transcript once per content: reports are kept in session state under the extractor, the transcript's
id and its content hash, so a rerun (a click, a slider step) never grades again."""

from __future__ import annotations

import streamlit as st

from app_ui import resources, state
from grader.transcript import Transcript


def cache_key(transcript: Transcript, extractor: str) -> str:
    return f"{extractor}:{transcript.id}:{transcript.content_hash()}"


def graded(transcript: Transcript) -> resources.Graded:
    """The report (and claims) for this transcript, graded now only if this session has not graded it yet."""
    s = resources.settings()
    name = resources.extractor_name(s)
    if name == "llm":
        name = f"llm:{s.llm_model}"
    key = cache_key(transcript, name)
    cache = st.session_state[state.REPORTS]
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    result = resources.grade(transcript, s)
    cache[key] = result
    while len(cache) > state.REPORTS_KEPT:
        cache.popitem(last=False)
    return result
