"""A report as a Markdown scorecard (what `grade` prints and the app shows) or as canonical JSON.

Both renderings are pure functions of the `Report`: no clock, no environment, so the same report renders to
the same bytes every time. The Markdown renders whatever the report holds; a section with nothing in it says
so instead of disappearing, and a report without category scores is shown as *not scored*, never as 0/100.

Quotes and other text that came from a transcript are untrusted: every such string is put on one line and its
Markdown specials are escaped (a candidate's `~350 GB` must not strike through, `$2` must not start LaTeX in
Streamlit, a `|` must not split a table cell).

Turn numbers are the report's own: 0-based positions in the transcript, as in the JSON.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from grader.claims import Check
from grader.report import CategoryScore, Evidence, FlagHit, Report, SubScore

VERDICT_MARKS = {"correct": "✓", "incorrect": "✗", "unverifiable": "?"}
EARLIER_ERROR_MARK = "↳ follows from an earlier error (not penalised twice)"
_MD_SPECIALS = re.compile(r"([\\`*\[\]<>|~$])")
_BLOCK_START = re.compile(r"^(?:#{1,6}|[+-]|\d{1,9}[.)])(?=\s|$)")  # would open a heading or a list
_WS = re.compile(r"\s+")


def is_scored(report: Report) -> bool:
    """True when scoring filled the categories; otherwise total, level and recommendation are placeholders."""
    return bool(report.categories)


def render_json(report: Report) -> str:
    """The report as indented JSON in the contract's field order; two calls give byte-identical text."""
    return report.model_dump_json(indent=2)


def render_markdown(report: Report) -> str:
    """The scorecard: headline, scores, evidence, numeric checks, flags, feedback and provenance."""
    parts = [
        _headline(report),
        _scores(report.categories),
        _evidence(report.categories),
        _checks(report.checks),
        _flags("Red flags", report.red_flags),
        _flags("Green flags", report.green_flags),
        _removed(report.injection_attempts),
        _bullets("Strengths", report.strengths),
        _bullets("Growth areas", report.growth_areas),
        _feedback(report.feedback),
        _provenance(report),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


# --- text helpers ------------------------------------------------------------------------------------------


def inline(text: str) -> str:
    """Untrusted text on one line with Markdown specials escaped: safe in a table cell or a bullet."""
    escaped = _MD_SPECIALS.sub(r"\\\1", _WS.sub(" ", text).strip())
    return _BLOCK_START.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], escaped, count=1)


def quote(turn: int | None, text: str) -> str:
    """`turn 3: “…”`, the form every piece of evidence takes."""
    q = f"“{inline(text)}”"
    return f"turn {turn}: {q}" if turn is not None else q


def label(identifier: str | None) -> str:
    """`parallelism_strategy` -> `Parallelism strategy`; a check of no known quantity has no id (None)."""
    words = (identifier or "").replace("_", " ").replace("-", " ").strip()
    return inline(words[:1].upper() + words[1:]) if words else "(unnamed)"


def _name(identifier: str, item: object) -> str:
    """The item's own label when the report carries one (an extra field), else one made from its id."""
    own = getattr(item, "label", None)
    return inline(own) if isinstance(own, str) and own.strip() else label(identifier)


def num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{round(value, 2):g}"


def amount(value: float | None, unit: str) -> str:
    """A figure with its unit as said: '43.75 GB', '11%', '24'; '—' for none."""
    if value is None:
        return "—"
    if unit in ("count", ""):
        return num(value)
    return f"{num(value)}%" if unit == "%" else f"{num(value)} {inline(unit)}"


def _table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --- sections ----------------------------------------------------------------------------------------------


def _headline(report: Report) -> str:
    lines = [f"# Scorecard: {inline(report.transcript_id)}", ""]
    if is_scored(report):
        lines.append(
            f"**Total: {num(report.total)}/100** · **Level:** {report.level} · "
            f"**Recommendation:** {report.recommendation}"
        )
    else:
        lines.append("**Total: —/100** · **Level:** — · **Recommendation:** —")
        lines += ["", "> Not scored: this report has no category scores, only the numeric checks below."]
    extractor = _extractor(report)
    if "fallback" in extractor:
        lines += [
            "",
            f"> ⚠ **Extractor: {inline(extractor)}**. The LLM extractor failed, so the claims were found by the "
            "rules extractor; concepts and reasoning may be under-credited.",
        ]
    return "\n".join(lines)


def _scores(categories: dict[str, CategoryScore]) -> str:
    if not categories:
        return ""
    overrides = any(sub.override for cat in categories.values() for sub in cat.subscores.values())
    header = ["Category", "Criterion", "Score", "Band"] + (["Override"] if overrides else [])
    align = ["---", "---", "---:", "---"] + (["---"] if overrides else [])
    rows: list[list[str]] = []
    for cat_id, cat in categories.items():
        rows.append(
            [f"**{_name(cat_id, cat)}**", "", f"**{num(cat.score)}/{num(cat.max)}**", inline(cat.band or "")]
            + ([""] if overrides else [])
        )
        for sub_id, sub in cat.subscores.items():
            machine = _machine_score(sub)
            row = ["", _name(sub_id, sub), f"{num(machine)}/{num(sub.max)}", inline(sub.band or "")]
            if overrides:
                row.append(_override(sub))
            rows.append(row)
    return "## Scores\n\n" + _table(header, rows, align)


def _machine_score(sub: SubScore) -> float:
    if sub.override and isinstance(sub.override.get("machine_score"), int | float):
        return float(sub.override["machine_score"])
    return sub.score


def _override(sub: SubScore) -> str:
    if not sub.override:
        return ""
    value = sub.override.get("score", sub.score)
    text = f"**{num(value)}/{num(sub.max)}**" if isinstance(value, int | float) else inline(str(value))
    note = sub.override.get("note")
    return f"{text} (reviewer): {inline(str(note))}" if note else f"{text} (reviewer)"


def _evidence_line(ev: Evidence) -> str:
    line = f"- {quote(ev.turn, ev.quote)}"
    if ev.prompted:
        line += " *(prompted)*"
    if ev.note:
        line += f" — {inline(ev.note)}"
    return line


def _evidence(categories: dict[str, CategoryScore]) -> str:
    blocks = []
    for cat_id, cat in categories.items():
        for sub_id, sub in cat.subscores.items():
            if not sub.evidence and not sub.reasons:
                continue
            lines = [f"### {_name(cat_id, cat)} › {_name(sub_id, sub)} ({num(_machine_score(sub))}/{num(sub.max)})", ""]
            lines += [_evidence_line(ev) for ev in sub.evidence]
            lines += [f"- {inline(reason)}" for reason in sub.reasons]
            blocks.append("\n".join(lines))
    return "## Evidence\n\n" + "\n\n".join(blocks) if blocks else ""


def _checks(checks: list[Check]) -> str:
    if not checks:
        return "## Numeric checks\n\nNo numbers were checked."
    counts = {v: sum(c.verdict == v for c in checks) for v in VERDICT_MARKS}
    summary = f"{counts['correct']} correct, {counts['incorrect']} incorrect, {counts['unverifiable']} unverifiable."
    header = ["#", "Turn", "Quantity", "Claimed", "Expected", "Verdict", "Diagnosis", "Assumed", "Quote"]
    align = ["---:", "---:", "---", "---:", "---:", ":---:", "---", "---", "---"]
    rows = []
    for n, c in enumerate(checks, start=1):
        diagnosis = inline(c.diagnosis or "")
        if c.verdict == "correct" and c.convention and c.convention != "as computed":
            diagnosis = f"convention: {inline(c.convention)}" + (f"; {diagnosis}" if diagnosis else "")
        if c.consistent_with_earlier_error:
            diagnosis = f"{EARLIER_ERROR_MARK}" + (f"; {diagnosis}" if diagnosis else "")
        assumed = ", ".join(f"{inline(str(k))}={inline(str(v))}" for k, v in c.assumptions.items())
        rows.append(
            [
                str(n),
                str(c.turn),
                label(c.quantity),
                amount(c.claimed, c.unit),
                amount(c.expected, c.unit),
                f"{VERDICT_MARKS.get(c.verdict, '?')} {c.verdict}",
                diagnosis,
                assumed,
                f"“{inline(c.quote)}”",
            ]
        )
    return "## Numeric checks\n\n" + summary + "\n\n" + _table(header, rows, align)


def _flags(title: str, flags: list[FlagHit]) -> str:
    if not flags:
        return f"## {title}\n\nNone."
    lines = []
    for f in flags:
        name = f"**{inline(f.label)}** ({inline(f.id)})" if f.label else f"**{inline(f.id)}**"
        where = quote(f.turn, f.evidence) if f.turn is not None else inline(f.evidence)
        lines.append(f"- {name} — {where}")
    return f"## {title}\n\n" + "\n".join(lines)


def _removed(attempts: list[Evidence]) -> str:
    """Sentences addressed to the grader: removed before grading, shown so a reviewer sees the attempt."""
    if not attempts:
        return ""
    lines = [f"- {quote(ev.turn, ev.quote)}" for ev in attempts]
    return "## Removed before grading (addressed to the grader)\n\n" + "\n".join(lines)


def _bullets(title: str, items: list[str]) -> str:
    if not items:
        return f"## {title}\n\nNone recorded."
    return f"## {title}\n\n" + "\n".join(f"- {inline(item)}" for item in items)


def _feedback(text: str | None) -> str:
    if not text or not text.strip():
        return ""
    paragraphs = [inline(p) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "## Feedback\n\n" + "\n\n".join(paragraphs)


def _extractor(report: Report) -> str:
    return report.provenance.extractor if report.provenance else report.extractor


def _endpoint(url: str) -> str:
    """The endpoint without any user:password@ part."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _provenance(report: Report) -> str:
    p = report.provenance
    if p is None:
        return f"---\n\n*Provenance:* extractor {inline(report.extractor)}; no provenance recorded."
    items = [f"extractor **{inline(p.extractor)}**"]
    if p.model:
        items.append(f"model {inline(p.model)}")
    if p.endpoint:
        items.append(f"endpoint {inline(_endpoint(p.endpoint))}")
    if p.method:
        items.append(f"method {inline(p.method)}")
    if p.prompt_hash:
        items.append(f"prompt {inline(p.prompt_hash[:12])}")
    items += [
        f"rubric {inline(p.rubric_version)}",
        f"grader {inline(p.grader_version)}",
        f"transcript {inline(p.transcript_hash[:12])}",
    ]
    if p.dropped_claims:
        items.append(f"{p.dropped_claims} ungrounded claim(s) dropped")
    return "---\n\n*Provenance:* " + " · ".join(items) + ". Turn numbers are 0-based, as in the JSON report."
