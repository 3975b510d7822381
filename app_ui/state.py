"""Every `st.session_state` key the app uses, named once, and `init_state()`, the one place that gives them
their defaults. `app.py` calls it at the top of every run, before any page, so a page can read any key.

Keys marked *widget* belong to a widget (`key=`); Streamlit drops a widget's key on a run where the widget is
not drawn (another page), and `init_state` puts the default back. File uploaders cannot be given a value
through session state, so theirs are named here and never set.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from grader.interview import InterviewEngine, PlannedReply

# --- Practice ----------------------------------------------------------------------------------------------
PRACTICE = "practice"  # PracticeSession | None: this browser session's interview (see below)
PRACTICE_NOTICES = "practice_notices"  # list[tuple[kind, text]]: shown once on the next run, then cleared
PRACTICE_CHAT = "practice_chat"  # widget: st.chat_input

# --- grading, shared by the pages --------------------------------------------------------------------------
REPORTS = "reports"  # OrderedDict[str, Graded]: reports by extractor + transcript id + content hash
REPORTS_KEPT = 24

# --- Replay ------------------------------------------------------------------------------------------------
REPLAY_SOURCE = "replay_source"  # widget: "folder" | "upload"
REPLAY_FILE = "replay_file"  # widget: relative path of the chosen transcript
REPLAY_UPLOAD = "replay_upload"  # widget (file uploader; never set)
REPLAY_SAVED_UPLOADS = "replay_saved_uploads"  # dict[file_id, str]: an upload already copied to uploads/
REPLAY_LOADED = "replay_loaded"  # str | None: path of the transcript shown; a change resets the turn
REPLAY_TURN = "replay_turn"  # widget: the turn shown, counted from 1 as on the page and in the URL
REPLAY_URL_SEEN = "replay_url_seen"  # (file, turn) | None: the place last shown and written to the URL
REPLAY_OV_FOR = "replay_ov_for"  # str | None: the transcript + sub-criterion the override form was filled for
REPLAY_OV_CATEGORY = "replay_ov_category"  # widget
REPLAY_OV_SUB = "replay_ov_sub"  # widget
REPLAY_OV_SCORE = "replay_ov_score"  # widget
REPLAY_OV_NOTE = "replay_ov_note"  # widget
REPLAY_OV_REVIEWER = "replay_ov_reviewer"  # widget
REPLAY_NOTICES = "replay_notices"  # list[tuple[kind, text]]

# --- Batch -------------------------------------------------------------------------------------------------
BATCH_SOURCE = "batch_source"  # widget: "folder" | "upload"
BATCH_UPLOADS = "batch_uploads"  # widget (file uploader; never set)
BATCH_FOLDER = "batch_folder"  # widget: a folder (or file, or glob) to grade; None until the page fills it in
BATCH_SESSIONS = "batch_sessions"  # widget: also grade finished practice sessions
BATCH_UPLOADED = "batch_uploaded"  # widget: also grade transcripts uploaded to Replay
BATCH_WORKERS = "batch_workers"  # widget
BATCH_EXTRACTOR = "batch_extractor"  # widget: "rules" | "llm"
BATCH_OUTCOME = "batch_outcome"  # BatchOutcome | None: rows, summary.csv and the zip of a finished batch
BATCH_ERROR = "batch_error"  # str | None

_DEFAULTS: dict[str, Any] = {
    PRACTICE: None,
    PRACTICE_NOTICES: list,
    REPORTS: OrderedDict,
    REPLAY_SOURCE: "folder",
    REPLAY_SAVED_UPLOADS: dict,
    REPLAY_LOADED: None,
    REPLAY_TURN: 1,
    REPLAY_URL_SEEN: None,
    REPLAY_OV_FOR: None,
    REPLAY_OV_NOTE: "",
    REPLAY_OV_REVIEWER: "",
    REPLAY_NOTICES: list,
    BATCH_SOURCE: "folder",
    BATCH_FOLDER: None,
    BATCH_SESSIONS: False,
    BATCH_UPLOADED: False,
    BATCH_WORKERS: 1,
    BATCH_EXTRACTOR: "rules",
    BATCH_OUTCOME: None,
    BATCH_ERROR: None,
}


@dataclass
class PracticeSession:
    """One browser session's interview, kept under `PRACTICE` as one object changed in place.

    Every read or write of `st.session_state` is a point where Streamlit may stop the run (the user acted
    again), so the Practice page reads this object once and changes only its attributes while it changes the
    interview: the engine, the reply still to be recorded and the file version can never disagree.
    """

    sid: str
    engine: InterviewEngine
    llm: bool = False
    pending: PlannedReply | None = None  # the reply to the last answer, planned but not recorded yet
    version: tuple[int, int, int] | None = None  # the session file as this session last wrote or read it


def init_state() -> None:
    """Give every key its default, once per session (and again for a widget key Streamlit dropped)."""
    ss = st.session_state
    for key, default in _DEFAULTS.items():
        if key not in ss:
            ss[key] = default() if callable(default) else default


def notify(key: str, kind: str, text: str) -> None:
    """Queue a message ("success", "info", "warning", "error") for the next run of a page."""
    st.session_state[key].append((kind, text))


def show_notices(key: str) -> None:
    """Show and clear the queued messages."""
    for kind, text in st.session_state[key]:
        getattr(st, kind)(text)
    st.session_state[key] = []
