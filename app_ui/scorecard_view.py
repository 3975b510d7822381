"""The scorecard on screen: headline, category chart, scores with reviewer overrides, evidence, numeric checks,
flags and feedback. It renders whatever the report holds: a report without category scores shows "not scored"
and its checks, never 0/100.

Text from a transcript is untrusted and goes through `grader.scorecard.inline`/`quote` before `st.markdown`;
tables (`st.dataframe`) show plain text and need no escaping.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from grader.claims import Check
from grader.report import Report, SubScore
from grader.scorecard import (
    VERDICT_MARKS,
    amount,
    inline,
    is_scored,
    label,
    num,
    quote,
    render_json,
    render_markdown,
)
from grader.transcript import Transcript

_GOOD, _MID, _LOW, _TRACK = "#2e7d5b", "#d39b1d", "#c0392b", "#e8e8e8"
# Streamlit's own icon font, not emoji: headless and minimal systems often have no emoji font.
RED_FLAG = ":red[:material/flag:]"
GREEN_FLAG = ":green[:material/flag:]"


def machine_score(sub: SubScore) -> float:
    if sub.override and isinstance(sub.override.get("machine_score"), int | float):
        return float(sub.override["machine_score"])
    return sub.score


# --- data frames (pure: tested without a browser) ----------------------------------------------------------


def category_frame(report: Report) -> pd.DataFrame:
    rows = [
        {
            "category": label(cid),
            "id": cid,
            "score": cat.score,
            "max": cat.max,
            "percent": round(100 * cat.score / cat.max) if cat.max else 0,
        }
        for cid, cat in report.categories.items()
    ]
    return pd.DataFrame(rows, columns=["category", "id", "score", "max", "percent"])


def subscore_frame(report: Report) -> pd.DataFrame:
    rows = []
    for cid, cat in report.categories.items():
        for sid, sub in cat.subscores.items():
            ov = sub.override or {}
            rows.append(
                {
                    "category": label(cid),
                    "criterion": label(sid) if sid != cid else "—",
                    "score": sub.score,
                    "max": sub.max,
                    "band": sub.band or "",
                    "machine": machine_score(sub) if ov else None,
                    "reviewer note": str(ov.get("note", "")) if ov else "",
                }
            )
    return pd.DataFrame(rows, columns=["category", "criterion", "score", "max", "band", "machine", "reviewer note"])


def checks_frame(checks: list[Check]) -> pd.DataFrame:
    rows = []
    for c in checks:
        diagnosis = c.diagnosis or ""
        if c.verdict == "correct" and c.convention and c.convention != "as computed":
            diagnosis = f"convention: {c.convention}" + (f"; {diagnosis}" if diagnosis else "")
        if c.consistent_with_earlier_error:
            diagnosis = "follows from an earlier error (not penalised twice)" + (f"; {diagnosis}" if diagnosis else "")
        rows.append(
            {
                "turn": c.turn,
                "quantity": c.quantity.replace("_", " "),
                "claimed": amount(c.claimed, c.unit),
                "expected": amount(c.expected, c.unit),
                "verdict": f"{VERDICT_MARKS.get(c.verdict, '?')} {c.verdict}",
                "diagnosis": diagnosis,
                "quote": c.quote,
            }
        )
    return pd.DataFrame(rows, columns=["turn", "quantity", "claimed", "expected", "verdict", "diagnosis", "quote"])


def category_chart(report: Report) -> alt.LayerChart | None:
    """Horizontal bars: each category's score over a track as long as its maximum."""
    df = category_frame(report)
    if df.empty:
        return None
    df["label"] = [f"{num(s)}/{num(m)}" for s, m in zip(df["score"], df["max"], strict=True)]
    df["colour"] = [_GOOD if p >= 80 else _MID if p >= 50 else _LOW for p in df["percent"]]
    y = alt.Y("category:N", sort=None, title=None, axis=alt.Axis(labelLimit=220))
    base = alt.Chart(df).encode(y=y)
    track = base.mark_bar(color=_TRACK, cornerRadiusEnd=3).encode(
        x=alt.X("max:Q", title="points", scale=alt.Scale(domain=[0, float(df["max"].max())])),
        tooltip=[alt.Tooltip("category:N"), alt.Tooltip("max:Q", title="max")],
    )
    bar = base.mark_bar(cornerRadiusEnd=3).encode(
        x="score:Q",
        color=alt.Color("colour:N", scale=None, legend=None),
        tooltip=[alt.Tooltip("category:N"), alt.Tooltip("score:Q"), alt.Tooltip("max:Q")],
    )
    text = base.mark_text(align="left", dx=4, color="#333").encode(x="max:Q", text="label:N")
    return (track + bar + text).properties(height=34 * len(df) + 20)


# --- rendering ---------------------------------------------------------------------------------------------


def render_headline(report: Report, machine: Report | None = None, *, compact: bool = False) -> None:
    """Total, level and recommendation as metric cards; `compact` (a narrow column) puts the total on its own
    row so no card is cut short."""
    scored = is_scored(report)
    delta = None
    if scored and machine is not None and abs(report.total - machine.total) > 1e-9:
        delta = f"{report.total - machine.total:+.1f} after review"
    if compact:
        c1 = st.container()
        c2, c3 = st.columns(2)
    else:
        c1, c2, c3 = st.columns(3)
    c1.metric("Total", f"{num(report.total)}/100" if scored else "—", delta=delta, border=True)
    c2.metric("Level", report.level if scored else "—", border=True)
    c3.metric("Recommendation", report.recommendation if scored else "—", border=True)
    if not scored:
        st.info("Not scored: this report has no category scores yet, only the numeric checks below.")
    extractor = report.provenance.extractor if report.provenance else report.extractor
    if "fallback" in extractor:
        st.warning(
            f"Extractor: {inline(extractor)}. The LLM extractor failed, so the rules extractor found the claims; "
            "concepts and reasoning may be under-credited."
        )


def _height(rows: int, cap: int = 16) -> int:
    """A table tall enough for its rows (up to `cap`, then it scrolls)."""
    return 38 + 35 * min(rows, cap)


def render_scores(report: Report) -> None:
    if not report.categories:
        return
    chart = category_chart(report)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    df = subscore_frame(report)
    overridden = df["machine"].notna().any()
    columns = ["category", "criterion", "score", "max", "band"] + (["machine", "reviewer note"] if overridden else [])
    st.dataframe(
        df[columns],
        hide_index=True,
        height=_height(len(df)),
        column_config={
            "score": st.column_config.NumberColumn(format="%g"),
            "max": st.column_config.NumberColumn(format="%g"),
            "machine": st.column_config.NumberColumn("machine score", format="%g"),
        },
    )


def render_evidence(report: Report) -> None:
    blocks = []
    for cid, cat in report.categories.items():
        for sid, sub in cat.subscores.items():
            if not (sub.evidence or sub.reasons or sub.override):
                continue
            name = label(cid) if sid == cid else f"{label(cid)} › {label(sid)}"
            lines = [f"**{name}** — {num(sub.score)}/{num(sub.max)}" + (f" ({inline(sub.band)})" if sub.band else "")]
            if sub.override:
                who = f" by {inline(str(sub.override['reviewer']))}" if sub.override.get("reviewer") else ""
                lines.append(
                    f"- ✎ reviewer{who}: {num(sub.score)} (machine {num(machine_score(sub))}) — "
                    f"{inline(str(sub.override.get('note', '')))}"
                )
            for ev in sub.evidence:
                line = f"- {quote(ev.turn, ev.quote)}" + (" *(prompted)*" if ev.prompted else "")
                lines.append(line + (f" — {inline(ev.note)}" if ev.note else ""))
            lines += [f"- {inline(r)}" for r in sub.reasons]
            blocks.append("\n".join(lines))
    if blocks:
        with st.expander(f"Evidence ({len(blocks)} criteria)", expanded=False):
            st.markdown("\n\n".join(blocks))


def render_checks(checks: list[Check]) -> None:
    st.markdown("##### Numeric checks")
    if not checks:
        st.caption("No numbers were checked.")
        return
    counts = {v: sum(c.verdict == v for c in checks) for v in VERDICT_MARKS}
    st.caption(f"{counts['correct']} correct · {counts['incorrect']} incorrect · {counts['unverifiable']} unverifiable")
    st.dataframe(
        checks_frame(checks),
        hide_index=True,
        height=_height(len(checks), cap=12),
        column_config={
            "turn": st.column_config.NumberColumn(width="small"),
            "quote": st.column_config.TextColumn(width="large"),
            "diagnosis": st.column_config.TextColumn(width="medium"),
        },
    )


def render_flags(report: Report) -> None:
    red, green = st.columns(2)
    for col, title, flags, mark in (
        (red, "Red flags", report.red_flags, RED_FLAG),
        (green, "Green flags", report.green_flags, GREEN_FLAG),
    ):
        with col:
            st.markdown(f"##### {title} ({len(flags)})")
            if not flags:
                st.caption("None.")
                continue
            lines = []
            for f in flags:
                where = quote(f.turn, f.evidence) if f.turn is not None else inline(f.evidence)
                lines.append(f"- {mark} **{inline(f.label or f.id)}** — {where}")
            st.markdown("\n".join(lines))
    if report.injection_attempts:
        removed = "\n".join(f"- {quote(ev.turn, ev.quote)}" for ev in report.injection_attempts)
        st.warning(f"Removed before grading (addressed to the grader):\n\n{removed}")


def render_feedback(report: Report) -> None:
    if not (report.strengths or report.growth_areas or report.feedback):
        return
    strengths, growth = st.columns(2)
    with strengths:
        st.markdown("##### Strengths")
        st.markdown("\n".join(f"- {inline(s)}" for s in report.strengths) or "None recorded.")
    with growth:
        st.markdown("##### Growth areas")
        st.markdown("\n".join(f"- {inline(g)}" for g in report.growth_areas) or "None recorded.")
    if report.feedback:
        st.markdown("##### Feedback")
        st.markdown(inline(report.feedback))


def render_provenance(report: Report) -> None:
    p = report.provenance
    if p is None:
        st.caption(f"Extractor {report.extractor}; no provenance recorded.")
        return
    parts = [f"extractor {p.extractor}"] + ([f"model {p.model}"] if p.model else [])
    parts += [f"rubric {p.rubric_version}", f"grader {p.grader_version}", f"transcript {p.transcript_hash[:12]}"]
    st.caption(" · ".join(inline(x) for x in parts) + " · turn numbers are 0-based")


def render_scorecard(report: Report, *, machine: Report | None = None, compact: bool = False) -> None:
    """The whole scorecard; `machine` (the report before reviewer overrides) shows the change in the total;
    `compact` for a narrow column."""
    render_headline(report, machine, compact=compact)
    render_scores(report)
    render_evidence(report)
    render_checks(report.checks)
    render_flags(report)
    render_feedback(report)
    render_provenance(report)


def download_buttons(report: Report, transcript: Transcript | None, *, key: str, stem: str) -> None:
    """Transcript (YAML), scorecard (Markdown) and report (JSON), side by side; downloading does not rerun."""
    from grader.store import dump_transcript_yaml

    cols = st.columns(3 if transcript is not None else 2)
    i = 0
    if transcript is not None:
        cols[0].download_button(
            "Transcript (YAML)",
            dump_transcript_yaml(transcript),
            file_name=f"{stem}.yaml",
            mime="application/yaml",
            key=f"{key}_dl_yaml",
            on_click="ignore",
            icon=":material/download:",
        )
        i = 1
    cols[i].download_button(
        "Scorecard (Markdown)",
        render_markdown(report),
        file_name=f"{stem}.scorecard.md",
        mime="text/markdown",
        key=f"{key}_dl_md",
        on_click="ignore",
        icon=":material/download:",
    )
    cols[i + 1].download_button(
        "Report (JSON)",
        render_json(report) + "\n",
        file_name=f"{stem}.report.json",
        mime="application/json",
        key=f"{key}_dl_json",
        on_click="ignore",
        icon=":material/download:",
    )
