"""The scorecard on screen: headline, score by category, scores with reviewer overrides, evidence, numeric
checks, flags and feedback. It renders whatever the report holds: a report without category scores shows "not
scored" and its checks, never 0/100.

The words are the Markdown scorecard's (`grader.scorecard`): labels instead of ids, readable units, one quote
per piece of evidence with the points it earned, turns counted from 1. Where the page can show a turn (Replay),
each evidence quote links to it (`turn_href`).

Text from a transcript is untrusted and goes through `grader.scorecard.inline`/`quote` before `st.markdown`
and `st.table` (whose cells are Markdown too); the evidence block, which holds links, is HTML-escaped first.
`st.dataframe` shows plain text and needs no escaping.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import streamlit as st

from grader.claims import Check
from grader.labels import category_label, quantity_label
from grader.report import Report, SubScore
from grader.scorecard import (
    VERDICT_MARKS,
    amount,
    check_diagnosis,
    evidence_groups,
    flag_name,
    flag_where,
    group_tail,
    growth_text,
    inline,
    is_scored,
    machine_band,
    machine_score,
    num,
    provenance_items,
    quote,
    render_json,
    render_markdown,
    score_text,
    sub_name,
    turn_number,
)
from grader.transcript import Transcript

# Streamlit's own icon font, not emoji: headless and minimal systems often have no emoji font.
RED_FLAG = ":red[:material/flag:]"
GREEN_FLAG = ":green[:material/flag:]"

TurnHref = Callable[[int], str]
"""The address of a turn (given its 0-based index), for links from evidence to the transcript."""

__all__ = ["GREEN_FLAG", "RED_FLAG", "amount", "download_buttons", "machine_score", "render_scorecard"]


# --- tables (pure: tested without a browser) -------------------------------------------------------------
#
# Markdown tables in one st.markdown each, not st.dataframe or st.table: text wraps in its cell, so no label is
# ever cut short, and one Markdown element draws far faster in the browser than a data grid or a table of
# Markdown cells.


def category_rows(report: Report) -> list[tuple[str, float, float]]:
    """(label, score, max) per category, in the rubric's order."""
    return [(category_label(cid), cat.score, cat.max) for cid, cat in report.categories.items()]


def md_table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    """A Markdown table; every cell must already be escaped."""
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def subscore_table(report: Report) -> str:
    """One row per sub-criterion: its score with that score's band, and, when overridden, the machine's score
    with the machine's band and the reviewer's note."""
    overridden = any(sub.override for cat in report.categories.values() for sub in cat.subscores.values())
    rows = []
    for cid, cat in report.categories.items():
        for sid, sub in cat.subscores.items():
            row = [
                inline(category_label(cid)),
                inline(sub_name(cid, sid)) if sid != cid else "—",
                f"{num(sub.score)}/{num(sub.max)}",
                inline(sub.band or ""),
            ]
            if overridden:
                machine = inline(score_text(machine_score(sub), sub.max, machine_band(sub))) if sub.override else ""
                row += [machine, _note(sub)]
            rows.append(row)
    header = ["Category", "Criterion", "Score", "Band"] + (["Machine", "Reviewer note"] if overridden else [])
    align = ["---", "---", "---:", "---"] + (["---", "---"] if overridden else [])
    return md_table(header, rows, align)


def _note(sub: SubScore) -> str:
    if not sub.override:
        return ""
    who = sub.override.get("reviewer")
    note = inline(str(sub.override.get("note") or ""))
    return f"{note} ({inline(str(who))})" if who else note


def checks_table(checks: list[Check]) -> str:
    """Turn, quantity, claimed, expected, verdict, diagnosis and quote of each check."""
    rows = [
        [
            str(turn_number(c.turn)),
            inline(quantity_label(c.quantity)),
            amount(c.claimed, c.unit),
            amount(c.expected, c.unit),
            f"{VERDICT_MARKS.get(c.verdict, '?')} {c.verdict}",
            inline(check_diagnosis(c)),
            f"“{inline(c.quote)}”",
        ]
        for c in checks
    ]
    header = ["Turn", "Quantity", "Claimed", "Expected", "Verdict", "Diagnosis", "Quote"]
    return md_table(header, rows, ["---:", "---", "---:", "---:", "---", "---", "---"])


def evidence_markdown(report: Report, turn_href: TurnHref | None = None) -> str:
    """The evidence block: per sub-criterion, each quote once with a link to its turn and the points it
    earned. Safe for `st.markdown(..., unsafe_allow_html=True)`: all text is HTML-escaped, then Markdown-escaped;
    the only markup is the turn links."""
    blocks = []
    for cid, cat in report.categories.items():
        for sid, sub in cat.subscores.items():
            if not (sub.evidence or sub.reasons or sub.override):
                continue
            name = _safe(category_label(cid)) + ("" if sid == cid else f" › {_safe(sub_name(cid, sid))}")
            lines = [f"**{name}**: {_safe(score_text(sub.score, sub.max, sub.band))}", ""]
            if sub.override:
                who = f" {_safe(str(sub.override['reviewer']))}" if sub.override.get("reviewer") else ""
                machine = score_text(machine_score(sub), sub.max, machine_band(sub))
                lines.append(
                    f"- ✎ reviewer{who}: {num(sub.score)}/{num(sub.max)}, machine {_safe(machine)}: "
                    f"{_safe(str(sub.override.get('note', '')))}"
                )
            groups, rest = evidence_groups(sub)
            for g in groups:
                tail = group_tail(g)
                lines.append(
                    f"- {_turn_link(g.turn, turn_href)}: “{_safe(g.quote)}”" + (f" — {_safe(tail)}" if tail else "")
                )
            lines += [f"- {_safe(r)}" for r in rest]
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _safe(text: str) -> str:
    return inline(html.escape(text, quote=True))


def _turn_link(turn: int, turn_href: TurnHref | None) -> str:
    shown = f"turn {turn_number(turn)}"
    if turn_href is None:
        return shown
    return f'<a href="{html.escape(turn_href(turn), quote=True)}" target="_self">{shown}</a>'


# --- rendering ---------------------------------------------------------------------------------------------


def render_headline(report: Report, machine: Report | None = None, *, compact: bool = False) -> None:
    """Total, level and recommendation as metric cards; `compact` (a narrow column) puts the total on its own
    row so no card is cut short."""
    scored = is_scored(report)
    delta = None
    if scored and machine is not None and abs(report.total - machine.total) > 1e-9:
        delta = f"{report.total - machine.total:+.1f} after review (machine {num(machine.total)})"
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


def render_category_bars(report: Report, *, columns: int = 2) -> None:
    """Each category's score against its maximum, as the same neutral bars the Practice sidebar uses."""
    rows = category_rows(report)
    if not rows:
        return
    cols = st.columns(columns) if columns > 1 else [st.container()]
    for i, (name, score, max_) in enumerate(rows):
        with cols[i % len(cols)]:
            st.progress(
                min(max(score / max_, 0.0), 1.0) if max_ else 0.0, text=f"{inline(name)}: **{num(score)}/{num(max_)}**"
            )


def render_scores(report: Report, *, compact: bool = False) -> None:
    if not report.categories:
        return
    render_category_bars(report, columns=1 if compact else 2)
    st.markdown(subscore_table(report))


def render_evidence(report: Report, turn_href: TurnHref | None = None) -> None:
    text = evidence_markdown(report, turn_href)
    if text:
        n = sum(1 for cat in report.categories.values() for s in cat.subscores.values() if s.evidence or s.reasons)
        with st.expander(f"Evidence ({n} criteria): each quote, the points it earned and its turn", expanded=False):
            st.markdown(text, unsafe_allow_html=True)


def render_checks(checks: list[Check]) -> None:
    st.markdown("##### Numeric checks")
    if not checks:
        st.caption("No numbers were checked.")
        return
    counts = {v: sum(c.verdict == v for c in checks) for v in VERDICT_MARKS}
    st.caption(f"{counts['correct']} correct · {counts['incorrect']} incorrect · {counts['unverifiable']} unverifiable")
    doubtful = [c for c in checks if c.verdict != "correct"]
    if doubtful:
        st.markdown(checks_table(doubtful))
    right = [c for c in checks if c.verdict == "correct"]
    if right:
        with st.expander(f"The {len(right)} correct figure{'s' if len(right) != 1 else ''}", expanded=not doubtful):
            st.markdown(checks_table(right))


def render_flags(report: Report, turn_href: TurnHref | None = None) -> None:
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
                turn, text = flag_where(f)
                where = f"{_turn_link(turn, turn_href)}: “{_safe(text)}”" if turn is not None else _safe(text)
                lines.append(f"- {mark} **{_safe(flag_name(f))}** — {where}")
            st.markdown("\n".join(lines), unsafe_allow_html=True)
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
        st.markdown("\n".join(f"- {inline(growth_text(g))}" for g in report.growth_areas) or "None recorded.")
    if report.feedback:
        st.markdown("##### Feedback")
        st.markdown(inline(report.feedback))


def render_provenance(report: Report) -> None:
    st.caption(" · ".join(inline(x) for x in provenance_items(report)))


def render_scorecard(
    report: Report, *, machine: Report | None = None, turn_href: TurnHref | None = None, headline: bool = True
) -> None:
    """The whole scorecard; `machine` (the report before reviewer overrides) shows the change in the total;
    `turn_href` makes every turn a link; `headline=False` when the page shows the headline elsewhere."""
    if headline:
        render_headline(report, machine)
    render_scores(report)
    render_evidence(report, turn_href)
    render_checks(report.checks)
    render_flags(report, turn_href)
    render_feedback(report)
    render_provenance(report)


def download_buttons(report: Report, transcript: Transcript | None, *, key: str, stem: str) -> None:
    """Transcript (YAML), scorecard (Markdown) and report (JSON), side by side; downloading does not rerun."""
    from grader.store import dump_transcript_yaml

    row = st.container(horizontal=True)  # buttons keep their whole label and wrap to a new line instead
    if transcript is not None:
        row.download_button(
            "Transcript (YAML)",
            dump_transcript_yaml(transcript),
            file_name=f"{stem}.yaml",
            mime="application/yaml",
            key=f"{key}_dl_yaml",
            on_click="ignore",
            icon=":material/download:",
        )
    row.download_button(
        "Scorecard (Markdown)",
        render_markdown(report),
        file_name=f"{stem}.scorecard.md",
        mime="text/markdown",
        key=f"{key}_dl_md",
        on_click="ignore",
        icon=":material/download:",
    )
    row.download_button(
        "Report (JSON)",
        render_json(report) + "\n",
        file_name=f"{stem}.report.json",
        mime="application/json",
        key=f"{key}_dl_json",
        on_click="ignore",
        icon=":material/download:",
    )
