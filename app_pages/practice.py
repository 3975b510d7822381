"""Practice: a mock interview in the chat, saved after every turn, graded on the page when it ends.

The session id is in the URL (`?session=<id>`) and the transcript is rewritten atomically to
`<sessions dir>/<id>.yaml` after every turn from the first answer on (the candidate's turn is saved before the
page is drawn again, the interviewer's answer before it is shown), so a browser refresh or a server restart
picks the interview up with `InterviewEngine.resume`.

Streamlit may stop a run at any Streamlit call, including any read or write of `st.session_state`, when the
user acts again. So the interview lives in one `PracticeSession` object whose attributes change in place, the
candidate's message is recorded in a callback, and no session-state access sits between changing the
interview and saving it. Changes happen under a lock per session id, and a run first reloads the session from
disk if someone else (another tab on the same URL) saved it since this browser session did.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from app_ui import grading, resources, sessions, state
from app_ui.state import PracticeSession
from app_ui.text import CHAT_AVATARS, CHAT_ROLES, md_text, mmss, replay_href
from grader.errors import GraderError
from grader.interview import InterviewEngine, PlannedReply, Reply
from grader.scorecard import inline
from grader.transcript import Transcript

SESSION_PARAM = "session"
_SID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")  # fullmatch: "$" alone would pass "abc\n"


# --- sessions on disk --------------------------------------------------------------------------------------


def new_session_id(now: datetime | None = None) -> str:
    return f"{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def valid_session_id(sid: object) -> bool:
    """Only ids that are safe as a file name (no path separators, no dots)."""
    return isinstance(sid, str) and bool(_SID.fullmatch(sid))


def session_path(sid: str) -> Path:
    return resources.sessions_dir() / f"{sid}.yaml"


def seed_for(sid: str) -> int:
    """The interviewer's phrasing seed, from the session id, so a resumed interview continues alike."""
    return int(hashlib.sha256(sid.encode()).hexdigest()[:8], 16) % 10_000


def file_version(path: Path) -> tuple[int, int, int] | None:
    """What changes whenever the file is replaced (os.replace gives a new inode)."""
    try:
        s = os.stat(path)
    except OSError:
        return None
    return s.st_ino, s.st_mtime_ns, s.st_size


def save(session: PracticeSession) -> str | None:
    """Write the transcript now; the error as one line if that failed (the interview goes on in memory).
    Touches no session state: safe between changing the interview and the end of a callback."""
    from grader.store import save_transcript_atomic

    path = session_path(session.sid)
    try:
        save_transcript_atomic(session.engine.transcript, path)
    except GraderError as exc:
        return f"Could not save the session: {exc.one_line()}"
    except OSError as exc:
        return f"Could not save the session to {path}: {exc.strerror or exc}"
    session.version = file_version(path)
    return None


def _adopt(session: PracticeSession) -> PracticeSession:
    st.session_state[state.PRACTICE] = session
    if st.query_params.get(SESSION_PARAM) != session.sid:
        st.query_params[SESSION_PARAM] = session.sid
    return session


def start_new(sid: str | None = None) -> PracticeSession:
    """A new interview. Its file is written with the first answer (or hint, or end): a visit that never
    answers leaves no empty session behind, and the opening question is the same when asked again."""
    sid = sid or new_session_id()
    engine = InterviewEngine(seed=seed_for(sid), transcript_id=sid)
    engine.start()
    return _adopt(PracticeSession(sid, engine, llm=resources.llm_mode(resources.settings())))


def load(sid: str) -> PracticeSession:
    """The saved session, rebuilt (raises GraderError for a file that cannot be read). A trailing answer with
    no reply (the server died in between) is answered offline and saved."""
    from grader.loaders import load_transcript

    path = session_path(sid)
    version = file_version(path)
    transcript = load_transcript(path, in_progress=True)
    session = PracticeSession(sid, InterviewEngine.resume(transcript, seed=seed_for(sid)), version=version)
    if len(session.engine.transcript.turns) > len(transcript.turns):
        save(session)
    return session


def resume(sid: str) -> PracticeSession | None:
    """The saved session `sid`; None (with the error shown) when it cannot be read."""
    try:
        with resources.session_lock(sid):
            session = load(sid)
    except GraderError as exc:
        st.error(exc.one_line())
        return None
    session.llm = resources.llm_mode(resources.settings())
    if not session.engine.finished:
        n = sum(t.role == "candidate" for t in session.engine.transcript.turns)
        state.notify(state.PRACTICE_NOTICES, "info", f"Resumed session {sid}: {n} answers so far.")
    return _adopt(session)


def current_session() -> PracticeSession | None:
    """This browser session's interview: the one in memory, the one the URL names (resumed from disk), or a
    new one. None when the URL names a session file that cannot be read."""
    raw = st.query_params.get(SESSION_PARAM)
    session: PracticeSession | None = st.session_state[state.PRACTICE]
    if session is not None and raw in (None, session.sid):
        if raw is None:
            st.query_params[SESSION_PARAM] = session.sid
        return session
    if raw is not None:
        if not valid_session_id(raw):
            state.notify(
                state.PRACTICE_NOTICES, "warning", "The session id in the URL is not valid; started a new one."
            )
        elif session_path(raw).is_file():
            return resume(raw)
        else:  # nothing saved under this id yet (a refresh before the first answer): start it
            return start_new(raw)
    return start_new()


def refresh(session: PracticeSession) -> str | None:
    """Reload the interview if its file was replaced by someone else (another tab on the same URL) since this
    session last wrote or read it; a message saying so, or None. Call with the session's lock held; touches no
    session state."""
    version = file_version(session_path(session.sid))
    if version is None or version == session.version:
        return None
    try:
        reloaded = load(session.sid)
    except GraderError:
        return None  # keep what is in memory; the next save replaces the unreadable file
    session.engine, session.version, session.pending = reloaded.engine, reloaded.version, None
    return "This session was continued elsewhere; showing the saved state."


# --- callbacks (run before the page, so the page draws the new state) ------------------------------------
#
# The candidate's message is recorded and saved in `on_submit`, before the page is drawn again, so a run that
# Streamlit stops cannot lose it. The interviewer's reply to it is planned there (`pending`) and recorded by
# the page (streamed, in LLM mode); if that run is stopped first, the next run or action records it.


def _commit_pending(session: PracticeSession) -> None:
    """Record a reply still pending from a stopped run, worded by the offline interviewer."""
    if session.pending is not None:
        planned, session.pending = session.pending, None
        session.engine.commit(planned)


def _act(action: str, message: str = "") -> None:
    """Apply one user action under the session's lock; session state is read before and written after."""
    session: PracticeSession | None = st.session_state[state.PRACTICE]
    if session is None:
        return
    with resources.session_lock(session.sid):
        note = refresh(session)
        _commit_pending(session)
        engine = session.engine
        if not engine.finished:
            if action == "answer":
                session.pending = engine.prepare(message)
            elif action == "hint":
                engine.hint()
            else:
                engine.end()
        err = save(session)
    for kind, text in (("info", note), ("error", err)):
        if text:
            state.notify(state.PRACTICE_NOTICES, kind, text)


def on_submit() -> None:
    message = st.session_state.get(state.PRACTICE_CHAT)
    if isinstance(message, str) and message.strip():
        _act("answer", message)


def on_hint() -> None:
    _act("hint")


def on_end() -> None:
    _act("end")


def on_new() -> None:
    st.session_state[state.PRACTICE] = None
    if SESSION_PARAM in st.query_params:
        del st.query_params[SESSION_PARAM]


def on_resume(sid: str) -> None:
    """Open a saved, unfinished session (from the list a new interview shows); the run resumes it from disk."""
    st.session_state[state.PRACTICE] = None
    st.query_params[SESSION_PARAM] = sid


# --- the interviewer's reply -------------------------------------------------------------------------------


def reply_pending(session: PracticeSession) -> Reply | None:
    """Word, record and save the pending reply, then show it: what the browser has seen is on disk."""
    planned = session.pending
    if planned is None:
        return None
    with st.chat_message(CHAT_ROLES["interviewer"], avatar=CHAT_AVATARS["interviewer"]):
        st.caption(turn_caption(len(session.engine.transcript.turns), planned.kind == "hint"))
        reply = _llm_reply(session, planned) if session.llm else None
        if reply is None:
            reply = session.engine.commit(planned)
            session.pending = None
            err = save(session)
            if err:
                st.error(err)
            st.markdown(md_text(reply.text))
    return reply


def _llm_reply(session: PracticeSession, planned: PlannedReply) -> Reply | None:
    """Stream the LLM's wording; if it fails, the offline reply replaces what was streamed. None when no
    client can be built (the caller answers offline)."""
    from grader.interview.guards import ReplyLimits
    from grader.interview.llm import LLMInterviewer, ReplyStream

    settings = resources.settings()
    try:
        chat = resources.chat_for(settings)
    except Exception as exc:  # a client that cannot even be built: answer offline
        st.caption(f"LLM unavailable ({type(exc).__name__}); the offline interviewer answers.")
        return None
    interviewer = LLMInterviewer(
        session.engine, chat=chat, limits=ReplyLimits.from_settings(settings), system_role=settings.llm_system_role
    )
    stream = ReplyStream(interviewer, planned)
    try:
        box = st.empty()
        with box:
            st.write_stream(stream)
        reply = stream.finish()
    finally:
        if stream.reply is None:  # this run was stopped mid-stream (the user acted): record the offline reply
            stream.close()
        session.pending = None
        err = save(session)
    if err:
        st.error(err)
    box.markdown(md_text(reply.text))
    if reply.replaced:
        st.caption(replaced_caption(reply.replaced))
    elif reply.fell_back:
        st.caption("The LLM did not answer; this is the offline interviewer's reply.")
    return reply


def replaced_caption(reason: str) -> str:
    """What a turn whose LLM wording failed a guard says under it (the reason may quote the model: escaped)."""
    return f"The LLM's reply was replaced ({inline(reason)}); this is the offline interviewer's wording."


# --- drawing -----------------------------------------------------------------------------------------------


def turn_caption(index: int, hint: bool = False) -> str:
    """`turn 3` (counted from 1, as the scorecard's evidence counts them), `turn 4 · hint`."""
    return f"turn {index + 1}" + (" · hint" if hint else "")


def draw_turns(transcript: Transcript) -> None:
    for i, turn in enumerate(transcript.turns):
        with st.chat_message(CHAT_ROLES[turn.role], avatar=CHAT_AVATARS[turn.role]):
            st.caption(turn_caption(i, turn.hint))
            st.markdown(md_text(turn.content))
            if turn.replaced:
                st.caption(replaced_caption(turn.replaced))


def clock_text(engine: InterviewEngine) -> str:
    ts = engine.time_status()
    return (
        f"**{inline(ts.phase_title)}** · {mmss(ts.phase_elapsed_s)} of {mmss(ts.phase_budget_s)}  \n"
        f"{mmss(ts.elapsed_s)} elapsed · **{mmss(ts.remaining_s)} left**"
    )


@st.fragment(run_every=1.0)
def live_clock() -> None:
    """Phase and clock, redrawn every second on its own (a fragment: the chat is not drawn again)."""
    session: PracticeSession | None = st.session_state.get(state.PRACTICE)
    if session is None or session.engine.finished:
        return
    st.markdown(clock_text(session.engine))


def draw_status(engine: InterviewEngine) -> None:
    """The clock in the sidebar, so it stays in view while the chat scrolls; ticking while the interview runs."""
    if engine.finished:
        ts = engine.time_status()
        st.caption(f"Finished after {mmss(ts.elapsed_s)} · {len(engine.transcript.turns)} turns")
        return
    with st.sidebar:
        st.caption("Interview")
        live_clock()


def draw_coverage(engine: InterviewEngine) -> None:
    """What the interviewer has heard so far, per phase: topics, not points (the score comes at the end)."""
    st.caption("Topics covered so far")
    for pc in engine.phase_coverage():
        n = len(pc.covered) + len(pc.missing)
        if not n:
            continue
        here = "▸ " if pc.phase == engine.phase else ""
        st.progress(pc.fraction, text=f"{here}{inline(pc.title)}: {len(pc.covered)} of {n} topics")


def draw_unfinished(current: str) -> None:
    """Interviews left unfinished, to pick up instead of starting afresh (shown before the first answer)."""
    found = sessions.unfinished(resources.sessions_dir(), exclude=current)
    if not found:
        return
    with st.expander(f"Unfinished interviews ({len(found)}): resume one", expanded=True):
        for info in found:
            when = f"{info.last_at:%Y-%m-%d %H:%M}" if info.last_at else info.sid
            st.button(
                f"{when} · {info.answers} answer{'s' if info.answers != 1 else ''} · {info.sid}",
                key=f"practice_resume_{info.sid}",
                on_click=on_resume,
                args=(info.sid,),
                type="tertiary",
                icon=":material/play_arrow:",
            )


def replay_name(sid: str) -> str:
    """This session's name in the Replay list."""
    return sessions.listed_name(session_path(sid), resources.transcripts_dir())


def draw_results(transcript: Transcript, sid: str) -> None:
    """Grade (once per transcript, see app_ui.grading) and show the scorecard with its downloads; every turn
    in it links to the session in Replay."""
    from app_ui.scorecard_view import download_buttons, render_category_bars, render_scorecard

    st.subheader("Scorecard")
    if not transcript.candidate_turns():
        st.info("There are no answers to grade. Start a new interview.")
        return
    try:
        with st.spinner("Grading…"):
            graded = grading.graded(transcript)
    except GraderError as exc:
        st.error(exc.one_line())
        return
    name = replay_name(sid)
    render_scorecard(graded.report, turn_href=lambda turn: replay_href(name, turn))
    download_buttons(graded.report, transcript, key="practice", stem=sid)
    if graded.report.categories:
        with st.sidebar:
            st.caption("Score by category")
            render_category_bars(graded.report, columns=1)


def render() -> None:
    head, new = st.columns([5, 1], vertical_alignment="bottom")
    head.title("Practice interview")
    new.button("New interview", on_click=on_new, icon=":material/add:", key="practice_new", width="stretch")
    session = current_session()
    if session is None:
        return
    st.caption(f"Session `{session.sid}` · every turn is saved as it happens")
    status = st.container()
    notices = st.container()

    chat_shown = False
    with resources.session_lock(session.sid):
        note = refresh(session)
        engine = session.engine
        if engine.finished:
            done = engine.transcript.model_copy(deep=True)
        else:
            done, chat_shown = None, True
            chat = st.container()
            controls = st.container(horizontal=True)
            with chat:
                draw_turns(engine.transcript)  # with the answer on_submit just recorded
                reply_pending(session)
            st.chat_input("Your answer", key=state.PRACTICE_CHAT, on_submit=on_submit)
            if engine.finished:  # the interviewer closed the interview with this reply
                done = engine.transcript.model_copy(deep=True)
            else:
                with controls:
                    st.button("Hint", on_click=on_hint, icon=":material/lightbulb:", key="practice_hint")
                    st.button(
                        "End and grade", on_click=on_end, type="primary", icon=":material/flag:", key="practice_end"
                    )
        with status:
            draw_status(engine)  # after the turn, so it counts it
        if not engine.finished:
            with st.sidebar:
                draw_coverage(engine)
        fresh = not engine.finished and not engine.transcript.candidate_turns()
    if note:
        state.notify(state.PRACTICE_NOTICES, "info", note)
    with notices:
        state.show_notices(state.PRACTICE_NOTICES)
        if fresh:
            draw_unfinished(session.sid)

    if done is not None:  # grading reads a copy, outside the lock
        draw_results(done, session.sid)
        if not chat_shown:
            with st.expander(f"Transcript ({len(done.turns)} turns)"):
                draw_turns(done)
    else:
        resources.prewarm_scorecard()


# Streamlit runs a page file as __main__; importing it (tests, tools) draws nothing.
if __name__ == "__main__":
    render()
