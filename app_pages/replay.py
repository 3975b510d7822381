"""Replay: step through a graded transcript turn by turn, with each claim, check, flag and piece of evidence at
the turn it comes from, the reviewer's override form beside it and the scorecard below.

The transcript and the turn are in the URL (`replay?file=l5_solid.yaml&turn=9`, the turn counted from 1 as on
the page), so a reload, a bookmark or a link from a scorecard's evidence opens the same place.

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

from app_ui import grading, resources, sessions, state
from app_ui.scorecard_view import GREEN_FLAG, RED_FLAG, download_buttons, render_headline, render_scorecard
from app_ui.text import CHAT_AVATARS, CHAT_ROLES, md_text, replay_href
from grader.atomic import write_atomic
from grader.claims import Check, Claims
from grader.errors import GraderError
from grader.labels import (
    category_label,
    concept_label,
    misconception_label,
    quantity_label,
    topic_label,
)
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
from grader.scorecard import (
    VERDICT_MARKS,
    amount,
    check_diagnosis,
    flag_name,
    flag_where,
    inline,
    note_words,
    num,
    quote,
    score_text,
    sub_name,
)
from grader.transcript import Transcript

SUFFIXES = (".yaml", ".yml", ".json", ".txt", ".md")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
FILE_PARAM, TURN_PARAM = "file", "turn"
EXPECTED_FORMATS = (
    "A transcript is YAML or JSON with a `turns:` list whose items have `role` (interviewer or candidate) and "
    "`content` (the text), a JSON chat log (`messages` with `role` and `content`), or text or Markdown whose "
    "lines start `Interviewer:` and `Candidate:`."
)


# --- finding transcripts -----------------------------------------------------------------------------------


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


def list_transcripts(root: Path, sessions_dir: Path) -> list[Path]:
    """Transcript files under `root` (recursively, no hidden files, no override sidecars), sorted; practice
    sessions (under `sessions`, inside `root` or not) only when finished."""
    folder = sessions_dir.resolve()
    out = [p for p in _walk(root) if not p.resolve().is_relative_to(folder)] if root.is_dir() else []
    out += sessions.finished(sessions_dir)
    return sorted(set(out), key=lambda p: display_name(p, root))


def display_name(path: Path, root: Path) -> str:
    return sessions.listed_name(path, root)


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
    """Everything the grade rests on, by the 0-based turn it comes from, in plain words."""
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
        if cc.misconception:
            notes[cc.turn].claims.append(f"misconception: {misconception_label(cc.misconception)}")
        else:
            notes[cc.turn].claims.append(f"{concept_label(cc.concept)} {cc.level}")
    for q in claims.questions:
        notes[q.turn].claims.append(f"asked about {topic_label(q.topic)}")
    for s in claims.strategies:
        layout = " x ".join(f"{k.upper()}{v}" for k, v in (("tp", s.tp), ("pp", s.pp), ("dp", s.dp)) if v)
        why = f", because of {', '.join(s.justified_by)}" if s.justified_by else ""
        notes[s.turn].claims.append(f"strategy {layout or '(no degrees given)'}{why}")
    for n in claims.numbers:
        notes[n.turn].claims.append(f"{quantity_label(n.quantity)} = {amount(n.value, n.unit)}")
    return dict(notes)


def draw_notes(n: TurnNotes, report: Report) -> None:
    lines = []
    for c in n.checks:
        mark = VERDICT_MARKS.get(c.verdict, "?")
        line = (
            f"- {mark} **{inline(quantity_label(c.quantity))}**: claimed {amount(c.claimed, c.unit)}, "
            f"expected {amount(c.expected, c.unit)} ({c.verdict})"
        )
        if diagnosis := check_diagnosis(c):
            line += f" — {inline(diagnosis)}"
        lines.append(line)
    for f in n.red:
        lines.append(f"- {RED_FLAG} red flag **{inline(flag_name(f))}** — {quote(None, flag_where(f)[1])}")
    for f in n.green:
        lines.append(f"- {GREEN_FLAG} green flag **{inline(flag_name(f))}** — {quote(None, flag_where(f)[1])}")
    grouped: dict[tuple[str, str, str], list[Evidence]] = {}
    for cid, sid, ev in n.evidence:  # one line per sub-criterion and quote, with everything it showed
        grouped.setdefault((cid, sid, ev.quote), []).append(ev)
    for (cid, sid, text), evs in grouped.items():
        sub = report.categories[cid].subscores[sid]
        name = inline(category_label(cid)) + ("" if sid == cid else f" › {inline(sub_name(cid, sid))}")
        shows = list(dict.fromkeys(note_words(ev.note) for ev in evs if ev.note))
        note = f" — {inline('; '.join(shows))}" if shows else ""
        prompted = any(ev.prompted for ev in evs) and not any("after a prompt" in s for s in shows)
        lines.append(
            f"- evidence for **{name}** ({num(sub.score)}/{num(sub.max)}){' *(prompted)*' if prompted else ''}: "
            f"{quote(None, text)}{note}"
        )
    if n.claims:
        lines.append("- found here: " + "; ".join(inline(c) for c in n.claims))
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
        f"Saved: {inline(category_label(ov.category))} › {inline(sub_name(ov.category, ov.subcriterion))} = "
        f"{num(ov.score)} (in {inline(side.name)})",
    )


def on_remove_override(path: str, category: str, subcriterion: str) -> None:
    try:
        kept = [o for o in load_overrides(path) if (o.category, o.subcriterion) != (category, subcriterion)]
        save_overrides(path, kept)
    except (OverrideError, OSError) as exc:
        msg = exc.one_line() if isinstance(exc, OverrideError) else str(exc)
        state.notify(state.REPLAY_NOTICES, "error", msg)
        return
    state.notify(
        state.REPLAY_NOTICES,
        "info",
        f"Removed the override of {inline(category_label(category))} › {inline(sub_name(category, subcriterion))}.",
    )


def _step(delta: int, last: int) -> None:
    """Previous / Next: the turn (counted from 1) moves by one, within 1..last."""
    ss = st.session_state
    ss[state.REPLAY_TURN] = min(max(int(ss.get(state.REPLAY_TURN, 1)) + delta, 1), last)


def _jump(turn: int) -> None:
    st.session_state[state.REPLAY_TURN] = turn


# --- the URL -----------------------------------------------------------------------------------------------


def url_state() -> tuple[str | None, int | None]:
    """(file, turn) the URL names; the turn as shown (from 1), None when missing or not a number."""
    file = st.query_params.get(FILE_PARAM) or None
    raw = st.query_params.get(TURN_PARAM)
    try:
        turn = int(raw) if raw is not None else None
    except ValueError:
        turn = None
    return file, turn


def url_changed() -> bool:
    """Whether the URL names another place than the one this session last showed (a first visit, a reload
    of a bookmark, a link from the scorecard): then the URL wins over the widgets."""
    return url_state() != st.session_state[state.REPLAY_URL_SEEN]


def write_url(file: str, turn: int) -> None:
    if url_state() != (file, turn):
        st.query_params.update({FILE_PARAM: file, TURN_PARAM: str(turn)})
    st.session_state[state.REPLAY_URL_SEEN] = (file, turn)


# --- drawing -----------------------------------------------------------------------------------------------


def choose_transcript() -> tuple[Path, str] | None:
    """The transcript to replay and its name in the list, from the folder (or the URL) or an upload; None
    (with the reason shown) when there is none."""
    ss = st.session_state
    root = resources.transcripts_dir()
    files = list_transcripts(root, resources.sessions_dir())
    names = {display_name(p, root): p for p in files}
    wanted, _ = url_state()
    if url_changed() and wanted is not None:
        if wanted in names:
            ss[state.REPLAY_SOURCE] = "folder"
            ss[state.REPLAY_FILE] = wanted
        else:
            st.warning(f"“{inline(wanted)}” is not in the transcripts folder; showing another transcript.")
    pick, chooser = st.columns([1, 3], vertical_alignment="bottom")
    source = pick.radio(
        "Source",
        ["folder", "upload"],
        key=state.REPLAY_SOURCE,
        format_func={"folder": "Transcripts folder", "upload": "Upload a file"}.get,
        label_visibility="collapsed",
    )
    if source == "upload":
        with chooser:
            return _uploaded(root)
    if not files:
        chooser.info("No transcripts in the transcripts folder yet. Finish a practice interview or upload a file.")
        return None
    if ss.get(state.REPLAY_FILE) not in names:
        ss[state.REPLAY_FILE] = next(iter(names))
    choice = chooser.selectbox("Transcript", list(names), key=state.REPLAY_FILE)
    return names[choice], choice


def _uploaded(root: Path) -> tuple[Path, str] | None:
    ss = st.session_state
    up = st.file_uploader(
        "Transcript (YAML, JSON, text or Markdown)", type=[s.lstrip(".") for s in SUFFIXES], key=state.REPLAY_UPLOAD
    )
    if up is None:
        st.caption(
            "An upload is kept in the transcripts folder (under uploads/) so that reviewer overrides can be saved "
            "beside it. " + EXPECTED_FORMATS
        )
        return None
    saved = ss[state.REPLAY_SAVED_UPLOADS]
    if up.file_id in saved and Path(saved[up.file_id]).is_file():
        path = Path(saved[up.file_id])
        return path, display_name(path, root)
    from grader.loaders import load_transcript_bytes

    data = up.getvalue()
    try:
        load_transcript_bytes(data, name=up.name)
    except GraderError as exc:
        st.error(exc.one_line())
        st.caption(EXPECTED_FORMATS)
        return None
    try:
        path = keep_upload(data, up.name, resources.uploads_dir())
    except OSError as exc:
        st.error(f"Could not keep the upload in the transcripts folder: {exc.strerror or exc}")
        return None
    saved[up.file_id] = str(path)
    return path, display_name(path, root)


def draw_stepper(transcript: Transcript, notes: dict[int, TurnNotes], report: Report) -> int:
    """Previous, Next, Next with findings, the turn slider, the conversation up to the turn and what was
    graded at it. Turns are counted from 1, as people count them. Returns the turn shown."""
    ss = st.session_state
    last = len(transcript.turns)
    ss[state.REPLAY_TURN] = min(max(int(ss.get(state.REPLAY_TURN, 1)), 1), last)
    prev, nxt, find = st.columns([1, 1, 2])
    prev.button(
        "◀ Previous",
        on_click=_step,
        args=(-1, last),
        disabled=ss[state.REPLAY_TURN] <= 1,
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
    later = [t + 1 for t in sorted(notes) if t + 1 > ss[state.REPLAY_TURN] and notes[t]]
    find.button(
        "Next turn with findings ▶▶",
        on_click=_jump,
        args=(later[0] if later else last,),
        disabled=not later,
        key="replay_next_finding",
        width="stretch",
    )
    if last > 1:
        st.slider("Turn", 1, last, key=state.REPLAY_TURN)
    shown = ss[state.REPLAY_TURN]
    index = shown - 1

    with st.container(height=430, autoscroll=True):
        for i, t in enumerate(transcript.turns[: index + 1]):
            with st.chat_message(CHAT_ROLES[t.role], avatar=CHAT_AVATARS[t.role]):
                st.caption(f"turn {i + 1} · {t.role}" + (" · hint" if t.hint else ""))
                st.markdown(md_text(t.content))
                if i < index and (n := notes.get(i)):
                    st.caption(n.summary())
    current = transcript.turns[index]
    with st.container(border=True):
        st.markdown(f"**Turn {shown} of {last}** · {current.role}")
        n = notes.get(index)
        if n:
            draw_notes(n, report)
        else:
            st.caption("Nothing graded comes from this turn.")
    return shown


def draw_review(path: Path, machine: Report, overrides: list[Override]) -> None:
    ss = st.session_state
    st.markdown("##### Reviewer override")
    if not machine.categories:
        st.caption("This report has no category scores yet, so there is nothing to override.")
        return
    cats = list(machine.categories)
    if ss.get(state.REPLAY_OV_CATEGORY) not in cats:
        ss[state.REPLAY_OV_CATEGORY] = cats[0]
    cat_id = st.selectbox("Category", cats, key=state.REPLAY_OV_CATEGORY, format_func=category_label)
    subs = list(machine.categories[cat_id].subscores)
    if ss.get(state.REPLAY_OV_SUB) not in subs:
        ss[state.REPLAY_OV_SUB] = subs[0]
    sub_id = st.selectbox("Sub-criterion", subs, key=state.REPLAY_OV_SUB, format_func=lambda sid: sub_name(cat_id, sid))
    sub = machine.categories[cat_id].subscores[sub_id]
    existing = next((o for o in overrides if (o.category, o.subcriterion) == (cat_id, sub_id)), None)
    target = f"{path}:{cat_id}.{sub_id}"
    if ss.get(state.REPLAY_OV_FOR) != target:  # a new selection: start from its current score and note
        ss[state.REPLAY_OV_FOR] = target
        ss[state.REPLAY_OV_SCORE] = float(existing.score if existing else sub.score)
        ss[state.REPLAY_OV_NOTE] = existing.note if existing else ""
    mine = f" · reviewer: **{num(existing.score)}**/{num(sub.max)}" if existing else ""
    st.markdown(f"Machine: **{inline(score_text(sub.score, sub.max, sub.band))}**{mine}")
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
    st.caption(
        f"Saved beside the transcript, in {inline(sidecar_path(path).name)}; the machine's scores stay in the report."
    )
    for ov in overrides:
        msub = machine.categories.get(ov.category, None)
        was = msub.subscores[ov.subcriterion] if msub and ov.subcriterion in msub.subscores else None
        who = f" ({inline(ov.reviewer)})" if ov.reviewer else ""
        machine_text = inline(score_text(was.score, was.max, was.band)) if was else "—"
        st.markdown(
            f"✎ **{inline(category_label(ov.category))} › {inline(sub_name(ov.category, ov.subcriterion))}**: "
            f"{num(ov.score)}{who}; machine {machine_text} — {inline(ov.note)}"
        )
        st.button(
            "Remove",
            key=f"replay_rm_{ov.category}_{ov.subcriterion}",
            on_click=on_remove_override,
            args=(str(path), ov.category, ov.subcriterion),
            type="tertiary",
            icon=":material/delete:",
        )


@st.cache_data(show_spinner=False, max_entries=256)
def _load(path: str, mtime_ns: int, size: int) -> Transcript:
    """A transcript file, parsed once per version (the arguments after the path only key the cache)."""
    from grader.loaders import load_transcript

    return load_transcript(path)


def load(path: Path) -> Transcript:
    st_ = path.stat()
    return _load(str(path), st_.st_mtime_ns, st_.st_size)


def render() -> None:
    ss = st.session_state
    st.title("Replay")
    chosen = choose_transcript()
    state.show_notices(state.REPLAY_NOTICES)
    if chosen is None:
        return
    path, name = chosen
    try:
        transcript = load(path)
    except (GraderError, OSError) as exc:
        st.error(exc.one_line() if isinstance(exc, GraderError) else f"{name}: {exc.strerror or exc}")
        return
    if ss[state.REPLAY_LOADED] != str(path):  # another transcript: its first turn, or the turn the URL names
        ss[state.REPLAY_LOADED] = str(path)
        wanted_file, wanted_turn = url_state()
        ss[state.REPLAY_TURN] = wanted_turn if wanted_file == name and wanted_turn else 1
    elif url_changed() and url_state()[0] == name and url_state()[1]:
        ss[state.REPLAY_TURN] = url_state()[1]
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

    render_headline(report, machine=machine if overrides else None)
    left, right = st.columns([3, 2], gap="large")
    with left:
        shown = draw_stepper(transcript, turn_notes(report, graded.claims), report)
    write_url(name, shown)
    with right:
        with st.container(border=True):
            draw_review(path, machine, overrides)
        st.markdown("##### Export" + (" (with reviewer overrides)" if overrides else ""))
        download_buttons(report, None, key="replay", stem=Path(path).stem)
    st.divider()
    st.subheader("Scorecard")
    render_scorecard(
        report,
        machine=machine if overrides else None,
        turn_href=lambda turn: replay_href(name, turn),
        headline=False,
    )


if __name__ == "__main__":
    render()
