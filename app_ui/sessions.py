"""Saved practice sessions as the pages see them: finished or not, how far they got. Practice lists the
unfinished ones to resume, Replay and Batch take the finished ones.

Whether a session is finished is the interviewer's decision (it closed the interview). A closing line after
the last reply (the candidate pressed "End and grade") shows it in the file; otherwise the interview is rebuilt
(`InterviewEngine.resume`), which costs a few hundred milliseconds for a long session. Either answer is cached
per file version (path, mtime, size), once per process for every browser session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import streamlit as st

SESSION_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SessionInfo:
    path: str
    sid: str
    finished: bool
    answers: int
    last_at: datetime | None
    readable: bool = True


@st.cache_data(show_spinner=False, max_entries=5000)
def session_info(path: str, mtime_ns: int, size: int) -> SessionInfo:
    """What a saved session holds, for this version of its file (the arguments after the path only key the
    cache). A file that does not load is an unreadable, unfinished session."""
    from grader.interview import InterviewEngine
    from grader.loaders import load_transcript

    sid = Path(path).stem
    try:
        transcript = load_transcript(path, in_progress=True)
    except Exception:
        return SessionInfo(path, sid, finished=False, answers=0, last_at=None, readable=False)
    answers = len(transcript.candidate_turns())
    last_at = next((t.at for t in reversed(transcript.turns) if t.at is not None), None) or transcript.started_at
    turns = transcript.turns
    finished = False
    if answers and turns[-1].role == "interviewer" and not turns[-1].hint:
        if turns[-2].role == "interviewer":  # a closing line after the last reply: "End and grade"
            finished = True
        else:  # the last answer's reply may have closed the interview: only the interviewer knows
            try:
                finished = InterviewEngine.resume(transcript).finished
            except Exception:
                finished = False
    return SessionInfo(path, sid, finished=finished, answers=answers, last_at=last_at)


def info_for(path: Path) -> SessionInfo | None:
    try:
        st_ = path.stat()
    except OSError:
        return None
    return session_info(str(path), st_.st_mtime_ns, st_.st_size)


def session_files(folder: Path) -> list[Path]:
    """The session files in `folder` (not recursive: the app writes `<id>.yaml` there), newest first."""
    try:
        entries = [e for e in os.scandir(folder) if e.is_file() and not e.name.startswith(".")]
    except OSError:
        return []
    files = [e for e in entries if Path(e.name).suffix.lower() in SESSION_SUFFIXES and ".overrides." not in e.name]
    files.sort(key=lambda e: e.stat().st_mtime_ns, reverse=True)
    return [Path(e.path) for e in files]


def unfinished(folder: Path, *, exclude: str | None = None, limit: int = 20) -> list[SessionInfo]:
    """Sessions with at least one answer that the interviewer has not closed, newest first."""
    out = []
    for path in session_files(folder):
        info = info_for(path)
        if info is None or info.sid == exclude or info.finished or not info.answers or not info.readable:
            continue
        out.append(info)
        if len(out) >= limit:
            break
    return out


def finished(folder: Path) -> list[Path]:
    """Finished sessions with at least one answer, newest first."""
    return [p for p in session_files(folder) if (i := info_for(p)) is not None and i.finished]


def listed_name(path: Path, root: Path) -> str:
    """A transcript's name in the Replay list and its URL: its path under the transcripts folder; a session
    kept outside it is `sessions/<file>`."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return f"sessions/{path.name}"
