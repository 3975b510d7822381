"""Replay: step through a graded transcript turn by turn, with each claim, check, flag and piece of evidence at
the turn it comes from, the scorecard beside it, and reviewer overrides of any sub-criterion.

Transcripts come from the transcripts folder (recursively; practice sessions only once finished) or from an
upload. An upload that loads is kept as `<transcripts>/uploads/<stem>-<hash>.<ext>` (by content, so the same
file uploaded again finds its overrides), and its overrides sidecar lives beside that copy, as for any other
transcript: `<file>.overrides.yaml` (see grader/overrides.py).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from app_ui import grading, resources, state
from app_ui.scorecard_view import GREEN_FLAG, RED_FLAG, amount, download_buttons, render_scorecard
from app_ui.text import CHAT_AVATARS, CHAT_ROLES, md_text
from grader.atomic import write_atomic
from grader.claims import Check, Claims
from grader.errors import GraderError
from grader.overrides import (
    Override,
    OverrideError,
    apply_overrides,
    check_override,
    is_sidecar,
    load_overrides,
    save_overrides,
    sidecar_path,
)
from grader.report import Evidence, FlagHit, Report
from grader.scorecard import VERDICT_MARKS, inline, label, num, quote
from grader.transcript import Transcript

SUFFIXES = (".yaml", ".yml", ".json", ".txt", ".md")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# --- finding transcripts -----------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=2000)
def session_finished(path: str, mtime_ns: int, size: int) -> bool:
    """Whether a saved practice session was finished (the interviewer closed it) with at least one answer to
    grade; cached per file version."""
    from grader.interview import InterviewEngine
    from grader.loaders import load_transcript

    try:
        transcript = load_transcript(path, in_progress=True)
        if not transcript.candidate_turns() or transcript.turns[-1].role != "interviewer" or transcript.turns[-1].hint:
            return False
        return InterviewEngine.resume(transcript).finished
    except Exception:
        return False


def _is_finished(path: Path) -> bool:
    st_ = path.stat()
    return session_finished(str(path), st_.st_mtime_ns, st_.st_size)


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            p = Path(dirpath) / name
            if name.startswith(".") or is_sidecar(p) or p.suffix.lower() not in SUFFIXES:
                continue
            found.append(p)
    return found


def list_transcripts(root: Path, sessions: Path) -> list[Path]:
    """Transcript files under `root` (recursively, no hidden files, no override sidecars), sorted; practice
    sessions (under `sessions`, inside `root` or not) only when finished."""
    sessions = sessions.resolve()
    out = [p for p in _walk(root) if not p.resolve().is_relative_to(sessions)] if root.is_dir() else []
    if sessions.is_dir():
        out += [p for p in _walk(sessions) if p.suffix.lower() in (".yaml", ".yml") and _is_finished(p)]
    return sorted(set(out), key=lambda p: display_name(p, root))


def display_name(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return f"sessions/{path.name}"


def keep_upload(data: bytes, name: str, folder: Path) -> Path:
    """Store an uploaded transcript (already known to load) under `folder` by content; the same bytes always
    land on the same path. Written atomically."""
    base = Path(name).name
    stem = _UNSAFE.sub("_", Path(base).stem).strip("._-")[:60] or "upload"
    suffix = Path(base).suffix.lower() if Path(base).suffix.lower() in SUFFIXES else ".txt"
    path = folder / f"{stem}-{hashlib.sha256(data).hexdigest()[:10]}{suffix}"
    if path.is_file() and path.read_bytes() == data:
        return path
    return write_atomic(path, data)


# --- what each turn shows ----------------------------------------------------------------------------------


@dataclass
class TurnNotes:
    checks: list[Check] = field(default_factory=list)
    red: list[FlagHit] = field(default_factory=list)
    green: list[FlagHit] = field(default_factory=list)
    evidence: list[tuple[str, str, Evidence]] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.checks or self.red or self.green or self.evidence or self.claims)

    def summary(self) -> str:
        parts = []
        if self.checks:
            wrong = sum(c.verdict == "incorrect" for c in self.checks)
            parts.append(
                f"{len(self.checks)} check{'s' if len(self.checks) != 1 else ''}" + (f" ({wrong} ✗)" if wrong else "")
            )
        if self.red:
            parts.append(f"{len(self.red)} red flag{'s' if len(self.red) != 1 else ''}")
        if self.green:
            parts.append(f"{len(self.green)} green flag{'s' if len(self.green) != 1 else ''}")
        if self.evidence:
            parts.append(f"evidence for {len({(c, s) for c, s, _ in self.evidence})} criteria")
        if self.claims:
            parts.append(f"{len(self.claims)} claim{'s' if len(self.claims) != 1 else ''}")
        return " · ".join(parts)


def turn_notes(report: Report, claims: Claims) -> dict[int, TurnNotes]:
    """Everything the grade rests on, by the 0-based turn it comes from."""
    notes: dict[int, TurnNotes] = defaultdict(TurnNotes)
    for c in report.checks:
        notes[c.turn].checks.append(c)
    for f in report.red_flags:
        if f.turn is not None:
            notes[f.turn].red.append(f)
    for f in report.green_flags:
        if f.turn is not None:
            notes[f.turn].green.append(f)
    for cid, cat in report.categories.items():
        for sid, sub in cat.subscores.items():
            for ev in sub.evidence:
                notes[ev.turn].evidence.append((cid, sid, ev))
    for cc in claims.concepts:
        extra = f" ({cc.misconception})" if cc.misconception else ""
        notes[cc.turn].claims.append(f"concept {cc.concept.replace('_', ' ')}: {cc.level}{extra}")
    for q in claims.questions:
        notes[q.turn].claims.append(f"asked about {q.topic.replace('_', ' ')}")
    for s in claims.strategies:
        layout = ", ".join(f"{k.upper()}={v}" for k, v in (("tp", s.tp), ("pp", s.pp), ("dp", s.dp)) if v)
        why = f"; because of {', '.join(s.justified_by)}" if s.justified_by else ""
        notes[s.turn].claims.append(f"strategy {layout or '(unspecified)'}{why}")
    for n in claims.numbers:
        notes[n.turn].claims.append(f"number {n.quantity.replace('_', ' ')} = {amount(n.value, n.unit)}")
    return dict(notes)


def draw_notes(n: TurnNotes, report: Report) -> None:
    lines = []
    for c in n.checks:
        mark = VERDICT_MARKS.get(c.verdict, "?")
        line = (
            f"- {mark} **{label(c.quantity)}**: claimed {inline(amount(c.claimed, c.unit))}, "
            f"expected {inline(amount(c.expected, c.unit))} ({c.verdict})"
        )
        if c.diagnosis:
            line += f" — {inline(c.diagnosis)}"
        if c.consistent_with_earlier_error:
            line += " *(follows from an earlier error, not penalised twice)*"
        lines.append(line)
    for f in n.red:
        lines.append(f"- {RED_FLAG} red flag **{inline(f.label or f.id)}** — {quote(None, f.evidence)}")
    for f in n.green:
        lines.append(f"- {GREEN_FLAG} green flag **{inline(f.label or f.id)}** — {quote(None, f.evidence)}")
    for cid, sid, ev in n.evidence:
        sub = report.categories[cid].subscores[sid]
        name = label(cid) if sid == cid else f"{label(cid)} › {label(sid)}"
        note = f" — {inline(ev.note)}" if ev.note else ""
        prompted = " *(prompted)*" if ev.prompted else ""
        lines.append(
            f"- evidence for **{name}** ({num(sub.score)}/{num(sub.max)}){prompted}: {quote(None, ev.quote)}{note}"
        )
    if n.claims:
        lines.append("- claims: " + "; ".join(inline(c) for c in n.claims))
    st.markdown("\n".join(lines))


# --- overrides (callbacks) ---------------------------------------------------------------------------------


def on_save_override(path: str, machine: Report) -> None:
    ss = st.session_state
    try:
        ov = Override(
            category=ss[state.REPLAY_OV_CATEGORY],
            subcriterion=ss[state.REPLAY_OV_SUB],
            score=float(ss[state.REPLAY_OV_SCORE]),
            note=ss[state.REPLAY_OV_NOTE] or "",
            reviewer=ss[state.REPLAY_OV_REVIEWER] or None,
        )
        check_override(machine, ov)
        current = load_overrides(path)
        side = save_overrides(path, [*current, ov])
    except OverrideError as exc:
        state.notify(state.REPLAY_NOTICES, "error", exc.one_line())
        return
    except ValueError as exc:  # pydantic: a blank note, a bad score
        errors = getattr(exc, "errors", None)
        msg = errors()[0]["msg"] if callable(errors) else str(exc)
        state.notify(state.REPLAY_NOTICES, "error", f"Override not saved: {msg}")
        return
    except OSError as exc:
        state.notify(state.REPLAY_NOTICES, "error", f"Override not saved: {exc.strerror or exc}")
        return
    state.notify(
        state.REPLAY_NOTICES,
        "success",
        f"Saved: {label(ov.category)} › {label(ov.subcriterion)} = {num(ov.score)} (in {side.name})",
    )


def on_remove_override(path: str, category: str, subcriterion: str) -> None:
    try:
        kept = [o for o in load_overrides(path) if (o.category, o.subcriterion) != (category, subcriterion)]
        save_overrides(path, kept)
    except (OverrideError, OSError) as exc:
        msg = exc.one_line() if isinstance(exc, OverrideError) else str(exc)
        state.notify(state.REPLAY_NOTICES, "error", msg)
        return
    state.notify(state.REPLAY_NOTICES, "info", f"Removed the override of {label(category)} › {label(subcriterion)}.")


def _step(delta: int, last: int) -> None:
    ss = st.session_state
    ss[state.REPLAY_TURN] = min(max(int(ss.get(state.REPLAY_TURN, 0)) + delta, 0), last)


def _jump(turn: int) -> None:
    st.session_state[state.REPLAY_TURN] = turn


# --- drawing -----------------------------------------------------------------------------------------------


def choose_transcript() -> Path | None:
    """The transcript to replay, from the folder or an upload; None (with the reason shown) when there is none."""
    ss = st.session_state
    source = st.radio(
        "Source",
        ["folder", "upload"],
        key=state.REPLAY_SOURCE,
        horizontal=True,
        format_func={"folder": "Transcripts folder", "upload": "Upload a file"}.get,
        label_visibility="collapsed",
    )
    root = resources.transcripts_dir()
    if source == "upload":
        up = st.file_uploader(
            "Transcript (YAML, JSON, text or Markdown)", type=[s.lstrip(".") for s in SUFFIXES], key=state.REPLAY_UPLOAD
        )
        if up is None:
            st.info(
                "Upload a transcript to replay it. It is kept under "
                f"`{resources.uploads_dir()}` so that reviewer overrides can be saved beside it."
            )
            return None
        saved = ss[state.REPLAY_SAVED_UPLOADS]
        if up.file_id in saved and Path(saved[up.file_id]).is_file():
            return Path(saved[up.file_id])
        from grader.loaders import load_transcript_bytes

        data = up.getvalue()
        try:
            load_transcript_bytes(data, name=up.name)
        except GraderError as exc:
            st.error(exc.one_line())
            return None
        try:
            path = keep_upload(data, up.name, resources.uploads_dir())
        except OSError as exc:
            st.error(f"Could not keep the upload in {resources.uploads_dir()}: {exc.strerror or exc}")
            return None
        saved[up.file_id] = str(path)
        return path
    files = list_transcripts(root, resources.sessions_dir())
    if not files:
        st.info(f"No transcripts in `{root}` yet. Finish a practice interview or upload a file.")
        return None
    names = {display_name(p, root): p for p in files}
    if ss.get(state.REPLAY_FILE) not in names:
        ss[state.REPLAY_FILE] = next(iter(names))
    choice = st.selectbox("Transcript", list(names), key=state.REPLAY_FILE)
    return names[choice]


def draw_stepper(transcript: Transcript, notes: dict[int, TurnNotes], report: Report) -> None:
    ss = st.session_state
    last = len(transcript.turns) - 1
    ss[state.REPLAY_TURN] = min(max(int(ss.get(state.REPLAY_TURN, 0)), 0), last)
    prev, nxt, find = st.columns([1, 1, 2])
    prev.button(
        "◀ Previous",
        on_click=_step,
        args=(-1, last),
        disabled=ss[state.REPLAY_TURN] <= 0,
        key="replay_prev",
        width="stretch",
    )
    nxt.button(
        "Next ▶",
        on_click=_step,
        args=(1, last),
        disabled=ss[state.REPLAY_TURN] >= last,
        key="replay_next",
        width="stretch",
    )
    later = [t for t in sorted(notes) if t > ss[state.REPLAY_TURN] and notes[t]]
    find.button(
        "Next turn with findings ▶▶",
        on_click=_jump,
        args=(later[0] if later else last,),
        disabled=not later,
        key="replay_next_finding",
        width="stretch",
    )
    if last > 0:
        st.slider("Turn", 0, last, key=state.REPLAY_TURN)
    turn = ss[state.REPLAY_TURN]

    with st.container(height=430, autoscroll=True):
        for i, t in enumerate(transcript.turns[: turn + 1]):
            with st.chat_message(CHAT_ROLES[t.role], avatar=CHAT_AVATARS[t.role]):
                st.caption(f"turn {i} · {t.role}" + (" · hint" if t.hint else ""))
                st.markdown(md_text(t.content))
                if i < turn and (n := notes.get(i)):
                    st.caption(n.summary())
    current = transcript.turns[turn]
    with st.container(border=True):
        st.markdown(f"**Turn {turn} of {last}** · {current.role}")
        n = notes.get(turn)
        if n:
            draw_notes(n, report)
        else:
            st.caption("Nothing graded comes from this turn.")


def draw_review(path: Path, machine: Report, overrides: list[Override]) -> None:
    ss = st.session_state
    st.markdown("##### Reviewer override")
    if not machine.categories:
        st.caption("This report has no category scores yet, so there is nothing to override.")
        return
    cats = list(machine.categories)
    if ss.get(state.REPLAY_OV_CATEGORY) not in cats:
        ss[state.REPLAY_OV_CATEGORY] = cats[0]
    c1, c2 = st.columns(2)
    cat_id = c1.selectbox("Category", cats, key=state.REPLAY_OV_CATEGORY, format_func=label)
    subs = list(machine.categories[cat_id].subscores)
    if ss.get(state.REPLAY_OV_SUB) not in subs:
        ss[state.REPLAY_OV_SUB] = subs[0]
    sub_id = c2.selectbox("Sub-criterion", subs, key=state.REPLAY_OV_SUB, format_func=label)
    sub = machine.categories[cat_id].subscores[sub_id]
    existing = next((o for o in overrides if (o.category, o.subcriterion) == (cat_id, sub_id)), None)
    target = f"{path}:{cat_id}.{sub_id}"
    if ss.get(state.REPLAY_OV_FOR) != target:  # a new selection: start from its current score and note
        ss[state.REPLAY_OV_FOR] = target
        ss[state.REPLAY_OV_SCORE] = float(existing.score if existing else sub.score)
        ss[state.REPLAY_OV_NOTE] = existing.note if existing else ""
    band = f" ({inline(sub.band)})" if sub.band else ""
    mine = f" · reviewer: **{num(existing.score)}**/{num(sub.max)}" if existing else ""
    st.markdown(f"Machine: **{num(sub.score)}**/{num(sub.max)}{band}{mine}")
    st.number_input(
        f"Reviewer score (0–{num(sub.max)})",
        min_value=0.0,
        max_value=float(sub.max),
        step=0.5,
        key=state.REPLAY_OV_SCORE,
    )
    st.text_area(
        "Note (required)",
        key=state.REPLAY_OV_NOTE,
        height=80,
        placeholder="Why the machine's score is wrong, citing the turn",
    )
    st.text_input("Reviewer (optional)", key=state.REPLAY_OV_REVIEWER)
    st.button(
        "Save override",
        type="primary",
        on_click=on_save_override,
        args=(str(path), machine),
        key="replay_ov_save",
        icon=":material/save:",
    )
    st.caption(f"Overrides are saved to `{sidecar_path(path)}`; the machine's scores stay in the report.")
    for ov in overrides:
        msub = machine.categories.get(ov.category, None)
        was = msub.subscores[ov.subcriterion].score if msub and ov.subcriterion in msub.subscores else None
        who = f" ({inline(ov.reviewer)})" if ov.reviewer else ""
        st.markdown(
            f"✎ **{label(ov.category)} › {label(ov.subcriterion)}**: {num(ov.score)} "
            f"(machine {num(was)}){who} — {inline(ov.note)}"
        )
        st.button(
            "Remove",
            key=f"replay_rm_{ov.category}_{ov.subcriterion}",
            on_click=on_remove_override,
            args=(str(path), ov.category, ov.subcriterion),
            type="tertiary",
            icon=":material/delete:",
        )


def render() -> None:
    ss = st.session_state
    st.title("Replay")
    path = choose_transcript()
    state.show_notices(state.REPLAY_NOTICES)
    if path is None:
        return
    from grader.loaders import load_transcript

    try:
        transcript = load_transcript(path)
    except GraderError as exc:
        st.error(exc.one_line())
        return
    if ss[state.REPLAY_LOADED] != str(path):
        ss[state.REPLAY_LOADED] = str(path)
        ss[state.REPLAY_TURN] = 0
    try:
        with st.spinner("Grading…"):
            graded = grading.graded(transcript)
    except GraderError as exc:
        st.error(exc.one_line())
        return
    machine = graded.report
    try:
        overrides = load_overrides(path)
        report = apply_overrides(machine, overrides)
    except OverrideError as exc:
        st.error(f"Overrides not applied: {exc.one_line()}")
        overrides, report = [], machine

    left, right = st.columns([11, 9], gap="large")
    with left:
        draw_stepper(transcript, turn_notes(report, graded.claims), report)
    with right:
        with st.container(border=True):
            draw_review(path, machine, overrides)
        st.markdown("##### Export" + (" (with reviewer overrides)" if overrides else ""))
        download_buttons(report, None, key="replay", stem=Path(path).stem)
        render_scorecard(report, machine=machine if overrides else None, compact=True)


if __name__ == "__main__":
    render()
