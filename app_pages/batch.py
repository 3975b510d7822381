"""Batch: grade many transcripts (uploads, or a folder inside the batch folder) the way `python -m grader batch` does:
`grader.batch.grade_batch` into a temporary output folder, with a progress bar fed by its callback. The table,
the histogram of totals, summary.csv and a zip of every report stay in the session after the folder is gone.

The folder box starts filled in with the batch folder itself. Practice sessions and transcripts uploaded to Replay
live inside it but are left out unless asked for (finished sessions only: an interview still going has nothing
to grade yet). Reviewer overrides saved in Replay are applied, and the table shows the machine's total beside
the reviewed one."""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app_ui import resources, sessions, state
from grader.batch import SUMMARY_JSONL, BatchRow, category_columns, grade_batch, summarise
from grader.errors import GraderError
from grader.labels import category_label, category_short

SUFFIXES = ("yaml", "yml", "json", "txt", "md")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BatchOutcome:
    rows: list[BatchRow]
    summary_csv: str
    summary_md: str
    zip_bytes: bytes
    seconds: float

    @property
    def errors(self) -> int:
        return sum(not r.ok for r in self.rows)


# --- pure helpers ------------------------------------------------------------------------------------------


def upload_names(names: Sequence[str]) -> list[str]:
    """Safe, unique file names for uploads (no folders; a clash gets -2, -3 before the extension)."""
    out: list[str] = []
    taken: set[str] = set()
    for raw in names:
        base = Path(raw.replace("\\", "/")).name
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, ""
        stem = _UNSAFE.sub("_", stem).strip("._-") or "transcript"
        suffix = "." + _UNSAFE.sub("_", ext).lower() if ext else ""
        name, n = f"{stem}{suffix}", 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}{suffix}"
        taken.add(name.lower())
        out.append(name)
    return out


def display_file(file: str, roots: Sequence[Path]) -> str:
    """A row's file as the user knows it: relative to the uploads or the folder they gave, else as it is."""
    for root in roots:
        with contextlib.suppress(ValueError):
            rel = Path(file).relative_to(root)
            return rel.as_posix() if str(rel) != "." else Path(file).name
    return file


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.expanduser().resolve())


def folder_input(folder: str, root: Path) -> Path:
    """What the folder field names: a path inside the batch folder (relative paths are relative to it). Whether
    it is inside is checked by grade_batch, before anything is listed."""
    path = Path(folder.strip())
    return path if path.is_absolute() else root / path


TABLE_WIDTHS = {"file": 250, "total": 55, "machine": 65, "level": 72, "recommendation": 100, "category": 62}
"""Column widths in px: with six categories and a machine column, 914 px, inside the 940 px a 1,400 px window
gives the page beside the sidebar, so the table never scrolls sideways."""


def rows_frame(rows: Sequence[BatchRow]) -> pd.DataFrame:
    """The table: one row per transcript, narrow enough for the page without scrolling sideways: the file,
    the total (and the machine's, when a reviewer changed one), level, recommendation, and the categories under
    short headers (the full names are their tooltips). An error row says "error" as its level (the messages are
    listed under the table); flags, wrong figures and the extractor are in summary.csv and in each report."""
    cats = category_columns(rows)
    reviewed = any(r.overrides for r in rows)
    records: list[dict[str, Any]] = []
    for r in rows:
        rec: dict[str, Any] = {"file": r.file, "total": r.total}
        if reviewed:
            rec["machine"] = r.machine_total if r.overrides else r.total
        rec.update({"level": r.level if r.ok else "error", "recommendation": r.recommendation})
        rec.update({category_short(c): r.categories.get(c) for c in cats})
        records.append(rec)
    columns = [
        "file",
        "total",
        *(["machine"] if reviewed else []),
        "level",
        "recommendation",
        *(category_short(c) for c in cats),
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def totals_histogram(rows: Sequence[BatchRow]) -> alt.Chart | None:
    totals = [r.total for r in rows if r.ok and r.total is not None]
    if not totals:
        return None
    df = pd.DataFrame({"total": totals})
    return (
        alt.Chart(df)
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X(
                "total:Q",
                bin=alt.Bin(extent=[0, 100], step=10),
                title="total (10-point bins)",
                scale=alt.Scale(domain=[0, 100]),
            ),
            y=alt.Y("count():Q", title="transcripts"),
            tooltip=[alt.Tooltip("count():Q", title="transcripts")],
        )
        .properties(height=220)
    )


def zip_reports(out_dir: Path, extra: dict[str, str]) -> bytes:
    """Every report and scorecard in `out_dir` (not the manifest), plus `extra` files, as one zip in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(out_dir.iterdir()):
            if p.is_file() and not p.name.startswith(".") and p.name not in extra and p.name != SUMMARY_JSONL:
                zf.write(p, arcname=f"reports/{p.name}")
        for name, text in extra.items():
            zf.writestr(f"reports/{name}", text)
    return buf.getvalue()


def skipped_folders(include_sessions: bool, include_uploads: bool) -> list[Path]:
    """What a folder search leaves out: practice sessions (finished ones come back as named files when asked
    for) and Replay's uploads, unless asked for."""
    return [resources.sessions_dir(), *([] if include_uploads else [resources.uploads_dir()])]


def run_batch(
    uploads: Sequence[Any],
    folder: str,
    workers: int,
    extractor: str,
    *,
    include_sessions: bool = False,
    include_uploads: bool = False,
) -> BatchOutcome:
    """Grade into a temporary folder with a progress bar; raise GraderError for a batch that cannot start.
    The bar is gone when this returns or raises."""
    started = time.perf_counter()
    bar = st.empty()
    try:
        return _run_batch(bar, started, uploads, folder, workers, extractor, include_sessions, include_uploads)
    finally:
        bar.empty()


def _run_batch(
    bar: Any,
    started: float,
    uploads: Sequence[Any],
    folder: str,
    workers: int,
    extractor: str,
    include_sessions: bool,
    include_uploads: bool,
) -> BatchOutcome:
    bar.progress(0.0, text="Starting…")

    def progress(done: int, total: int, id: str) -> None:
        bar.progress(done / total if total else 1.0, text=f"Graded {done} of {total}: {id}")

    s = resources.settings()
    root = s.batch_root
    with tempfile.TemporaryDirectory(prefix="coach-batch-") as tmp:
        inputs: list[str] = []
        upload_dir = Path(tmp) / "uploads"
        if uploads:
            upload_dir.mkdir()
            for up, name in zip(uploads, upload_names([u.name for u in uploads]), strict=True):
                (upload_dir / name).write_bytes(up.getvalue())
                inputs.append(str(upload_dir / name))  # one by one: the table keeps the upload order
        if folder.strip():
            inputs.append(str(folder_input(folder, root)))
            if include_sessions:  # the finished ones, by name (a folder search leaves the folder out)
                inside = [p for p in sessions.finished(resources.sessions_dir()) if _inside(p, root)]
                inputs += [str(p) for p in reversed(inside)]
        out = Path(tmp) / "out"
        result = grade_batch(
            inputs,
            out,
            workers=workers,
            extractor=extractor,
            settings=s if extractor == "llm" else None,
            time_limit_s=s.batch_file_timeout_s,
            progress=progress,
            roots=[root, upload_dir],  # anyone with the URL can type here: only the batch folder is readable
            skip_dirs=skipped_folders(include_sessions, include_uploads) if folder.strip() else (),
        )
        shown_from = [upload_dir, *([folder_input(folder, root)] if folder.strip() else []), root]
        rows = [r.model_copy(update={"file": display_file(r.file, shown_from)}) for r in result.rows]
        csv_text, md_text = summarise(rows)
        zip_bytes = zip_reports(out, {"summary.csv": csv_text, "summary.md": md_text})
    return BatchOutcome(rows, csv_text, md_text, zip_bytes, time.perf_counter() - started)


# --- page --------------------------------------------------------------------------------------------------


def draw_outcome(outcome: BatchOutcome) -> None:
    rows = outcome.rows
    totals = [r.total for r in rows if r.ok and r.total is not None]
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Transcripts", len(rows), border=True)
    m2.metric("Graded", len(rows) - outcome.errors, border=True)
    m3.metric("Errors", outcome.errors, border=True)
    m4.metric("Mean total", f"{sum(totals) / len(totals):.1f}" if totals else "—", border=True)
    reviewed = sum(1 for r in rows if r.overrides)
    note = f" {reviewed} with reviewer overrides from Replay: their total is the reviewed one." if reviewed else ""
    extractors = sorted({r.extractor for r in rows if r.ok and r.extractor and not r.fallback})
    fallbacks = [r.file for r in rows if r.ok and r.fallback]
    if fallbacks:
        note += f" The rules fallback graded {len(fallbacks)} (the LLM failed): {', '.join(fallbacks)}."
    st.caption(
        f"Graded in {outcome.seconds:.1f} s with the {', '.join(extractors) or 'rules'} extractor.{note} Flags, "
        "wrong figures and every sub-score are in summary.csv and the reports."
    )
    df = rows_frame(rows)
    w = TABLE_WIDTHS
    config: dict[str, Any] = {
        "file": st.column_config.TextColumn(width=w["file"]),
        "total": st.column_config.NumberColumn(format="%g", width=w["total"]),
        "machine": st.column_config.NumberColumn(
            "machine", format="%g", width=w["machine"], help="the total before reviewer overrides"
        ),
        "level": st.column_config.TextColumn(width=w["level"]),
        "recommendation": st.column_config.TextColumn("recommend.", width=w["recommendation"], help="recommendation"),
    }
    for c in category_columns(rows):
        config[category_short(c)] = st.column_config.NumberColumn(
            format="%g", width=w["category"], help=f"{category_label(c)} (points)"
        )
    st.dataframe(df, hide_index=True, column_config=config, width="stretch", height=38 + 35 * min(len(df), 20))
    chart = totals_histogram(rows)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    else:
        st.info("No report has a total yet, so there is no histogram.")
    if outcome.errors:
        st.warning("\n".join(f"- {r.error}" for r in rows if not r.ok))
    d1, d2, _ = st.columns([1, 1, 2])
    d1.download_button(
        "summary.csv",
        outcome.summary_csv,
        file_name="summary.csv",
        mime="text/csv",
        key="batch_dl_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    d2.download_button(
        "All reports (zip)",
        outcome.zip_bytes,
        file_name="reports.zip",
        mime="application/zip",
        key="batch_dl_zip",
        on_click="ignore",
        icon=":material/download:",
    )


def render() -> None:
    ss = st.session_state
    st.title("Batch grading")
    st.caption("Grades with the same code as `python -m grader batch`; reports are kept in this session only.")
    s = resources.settings()
    source = st.radio(
        "Source",
        ["folder", "upload"],
        key=state.BATCH_SOURCE,
        horizontal=True,
        format_func={"folder": "A folder in the batch folder", "upload": "Upload files"}.get,
        label_visibility="collapsed",
    )
    uploads: list[Any] = []
    folder = ""
    include_sessions = include_uploads = False
    if source == "upload":
        uploads = (
            st.file_uploader("Transcripts", type=list(SUFFIXES), accept_multiple_files=True, key=state.BATCH_UPLOADS)
            or []
        )
    else:
        if ss.get(state.BATCH_FOLDER) is None:
            ss[state.BATCH_FOLDER] = str(s.batch_root)
        st.text_input(
            "Folder, file or glob",
            key=state.BATCH_FOLDER,
            help="Inside the batch folder (COACH_BATCH_ROOT); a relative path starts there. Globs: *.yaml, **/*.json.",
        )
        c1, c2 = st.columns(2)
        include_sessions = c1.checkbox("Include finished practice sessions", key=state.BATCH_SESSIONS)
        include_uploads = c2.checkbox("Include transcripts uploaded to Replay", key=state.BATCH_UPLOADED)
        folder = ss[state.BATCH_FOLDER] or ""
    c1, c2, _ = st.columns([1, 1, 2])
    options = ["rules", "llm"] if resources.llm_mode(s) else ["rules"]
    if ss.get(state.BATCH_EXTRACTOR) not in options:
        ss[state.BATCH_EXTRACTOR] = options[-1]
    extractor = c1.selectbox(
        "Extractor",
        options,
        key=state.BATCH_EXTRACTOR,
        format_func={"rules": "rules (offline)", "llm": f"LLM ({s.llm_model})"}.get,
    )
    workers = c2.number_input(
        "Workers",
        min_value=1,
        max_value=16,
        step=1,
        key=state.BATCH_WORKERS,
        help="Transcripts graded at once: threads for the LLM extractor, processes (one per core) for the rules one.",
    )
    if st.button(
        "Grade",
        type="primary",
        key="batch_grade",
        disabled=not (uploads or folder.strip()),
        icon=":material/play_arrow:",
    ):
        ss[state.BATCH_ERROR] = None
        try:
            ss[state.BATCH_OUTCOME] = run_batch(
                uploads,
                folder,
                int(workers),
                extractor,
                include_sessions=include_sessions,
                include_uploads=include_uploads,
            )
        except GraderError as exc:
            ss[state.BATCH_ERROR] = exc.one_line()
            ss[state.BATCH_OUTCOME] = None
    if ss[state.BATCH_ERROR]:
        st.error(ss[state.BATCH_ERROR])
    if ss[state.BATCH_OUTCOME] is not None:
        draw_outcome(ss[state.BATCH_OUTCOME])


if __name__ == "__main__":
    render()
