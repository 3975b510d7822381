"""A report as a Markdown scorecard (what `grade` prints and the app shows), as plain text (the terminal
interview's last screen) or as canonical JSON.

Every rendering is a pure function of the `Report` (and of the rubric's labels): no clock, no environment, so
the same report renders to the same bytes every time. The Markdown renders whatever the report holds; a
section with nothing in it says so instead of disappearing, and a report without category scores is shown as
*not scored*, never as 0/100.

What a reader sees is in their words, not the grader's: ids become the rubric's labels (`grader.labels`),
figures get a unit a person would say (226.5 MB, not 226,500 KB), each piece of evidence is one quote with the
points it earned beside it, and turns are numbered as people count them, from 1 (the JSON report keeps the
contract's 0-based `turn` fields). A score's band is always the band of the score shown next to it.

Quotes and other text that came from a transcript are untrusted: every such string is put on one line and its
Markdown specials are escaped (a candidate's `~350 GB` must not strike through, `$2` must not start LaTeX in
Streamlit, a `|` must not split a table cell); the plain text drops control characters (no terminal escapes).
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from grader.claims import Check
from grader.labels import (
    as_words,
    category_label,
    criterion_label,
    flag_not_shown,
    plain,
    quantity_label,
)
from grader.report import CategoryScore, Evidence, FlagHit, Report, SubScore

VERDICT_MARKS = {"correct": "✓", "incorrect": "✗", "unverifiable": "?"}
EARLIER_ERROR_MARK = "↳ follows from an earlier error (not penalised twice)"
NOT_SHOWN = "not shown anywhere: "
TURNS_NOTE = "Turns are numbered from 1, as in the app (the JSON report's turn fields count from 0)."
_MD_SPECIALS = re.compile(r"([\\`*\[\]<>|~$])")
_BLOCK_START = re.compile(r"^(?:#{1,6}|[+-]|\d{1,9}[.)])(?=\s|$)")  # would open a heading or a list
_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_POINTS = re.compile(r"^([+-]\d+(?:\.\d+)?)\s+(.*)$", re.S)
_GROWTH_TURN = re.compile(r"^Turn (\d+): ")
_FIGURE_NOTE = re.compile(
    r"^([a-z][a-z0-9_]*) (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?) (\S*): (correct|incorrect|unverifiable)$"
)


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
        _bullets("Growth areas", [growth_text(g) for g in report.growth_areas]),
        _feedback(report.feedback),
        _provenance(report),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


# --- text helpers ------------------------------------------------------------------------------------------


def inline(text: str) -> str:
    """Untrusted text on one line with Markdown specials escaped: safe in a table cell or a bullet."""
    escaped = _MD_SPECIALS.sub(r"\\\1", _WS.sub(" ", text).strip())
    return _BLOCK_START.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], escaped, count=1)


def one_line(text: str) -> str:
    """Untrusted text on one line for a terminal: control characters (escape sequences, bidi overrides)
    dropped, whitespace collapsed."""
    return _WS.sub(" ", _CONTROL.sub("", text)).strip()


def turn_number(turn: int) -> int:
    """The turn as people count it (the report's turns are 0-based positions)."""
    return turn + 1


def quote(turn: int | None, text: str) -> str:
    """`turn 4: “…”`, the form every piece of evidence takes; `turn` is the report's 0-based position."""
    q = f"“{inline(text)}”"
    return f"turn {turn_number(turn)}: {q}" if turn is not None else q


def label(identifier: str | None) -> str:
    """An id as words, escaped: `parallelism_strategy` -> `Parallelism strategy`; a check of no known quantity
    has no id (None)."""
    return inline(as_words(identifier)) if identifier else "(unnamed)"


def num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{round(value, 2):g}"


def score_text(score: float, max_: float, band: str | None = None) -> str:
    """`8/10 (Strong)`: a score with the band of that very score."""
    return f"{num(score)}/{num(max_)}" + (f" ({band})" if band else "")


# --- figures as a person says them -------------------------------------------------------------------------

_FAMILIES: tuple[tuple[tuple[str, float], ...], ...] = (
    (("B", 1), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15)),
    (("B", 1), ("KiB", 2**10), ("MiB", 2**20), ("GiB", 2**30), ("TiB", 2**40), ("PiB", 2**50)),
    (("B/s", 1), ("KB/s", 1e3), ("MB/s", 1e6), ("GB/s", 1e9), ("TB/s", 1e12)),
    (("b/s", 1), ("Kb/s", 1e3), ("Mb/s", 1e6), ("Gb/s", 1e9), ("Tb/s", 1e12)),
    (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1)),
    (("FLOPs", 1), ("GFLOPs", 1e9), ("TFLOPs", 1e12), ("PFLOPs", 1e15)),
)
_ALIASES = {"µs": "us", "μs": "us", "Gbps": "Gb/s", "GBps": "GB/s", "sec": "s", "FLOP": "FLOPs", "TFLOP": "TFLOPs"}
_SHOWN = {"us": "µs"}
_COUNTS = ("count", "", "tokens", "sequences", "GPUs", "requests")


def figure(value: float, digits: int = 4) -> str:
    """A number with at most `digits` significant digits, thousands separators and never an exponent."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{round(value, decimals):,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def human(value: float, unit: str) -> tuple[float, str]:
    """The value in the unit of its family that puts it between 1 and 10,000 (226,500 KB -> 226.5 MB;
    0.00038 s -> 0.38 ms); a figure already readable in its unit, or a unit we do not know, is left as it is."""
    unit = _ALIASES.get(unit, unit)
    if value == 0 or 0.01 <= abs(value) < 10_000 or not math.isfinite(value):
        return value, unit
    for family in _FAMILIES:
        scale = dict(family).get(unit)
        if scale is None:
            continue
        base = value * scale
        best = family[0]
        for name, factor in family:
            if abs(base) / factor >= 1:
                best = (name, factor)
        return base / best[1], best[0]
    return value, unit


def amount(value: float | None, unit: str) -> str:
    """A figure with its unit as a person says it: '43.75 GB', '226.5 MB', '11%', '1,228,800 tokens'; '—' for
    none. Markdown-safe."""
    if value is None:
        return "—"
    if unit in _COUNTS:
        text = _count(value)
        return text if unit in ("count", "") else f"{text} {inline(unit)}"
    if unit == "%":
        return f"{figure(value)}%"
    v, u = human(value, unit)
    return f"{figure(v)} {inline(_SHOWN.get(u, u))}"


def _count(value: float) -> str:
    """1,228,800 as it is; 175,000,000,000 as "175 billion" (a count of a billion and more in words)."""
    for factor, word in ((1e12, "trillion"), (1e9, "billion")):
        if abs(value) >= factor:
            return f"{figure(value / factor)} {word}"
    return f"{value:,.0f}" if float(value).is_integer() else figure(value)


def growth_text(text: str) -> str:
    """A growth area as written by scoring, with its turn counted from 1 ("Turn 7:" is the report's index)."""
    return _GROWTH_TURN.sub(lambda m: f"Turn {turn_number(int(m.group(1)))}: ", plain(text), count=1)


# --- evidence, one quote at a time -------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteGroup:
    """One quote of a sub-score's evidence, shown once, with every point it earned (`+2 asked about
    interconnect`) and what else it shows (`Weights per GPU 43.75 GB: correct`)."""

    turn: int
    quote: str
    prompted: bool
    points: tuple[str, ...]
    notes: tuple[str, ...]


def evidence_groups(sub: SubScore) -> tuple[list[QuoteGroup], list[str]]:
    """(the sub-score's quotes, each once, in order, with the points it earned; the points no quote earned,
    such as caps and "+10 memory figures stated"), all in plain words.

    A point belongs to a quote when the point's reason is the quote's note: scoring writes both from one
    string (`Tally.add`)."""
    parsed = [(m.group(2).strip() if (m := _POINTS.match(r)) else None, r) for r in sub.reasons]
    used = [False] * len(parsed)
    order: list[tuple[int, str]] = []
    found: dict[tuple[int, str], dict[str, object]] = {}
    for ev in sub.evidence:
        key = (ev.turn, _WS.sub(" ", ev.quote).strip())
        if key not in found:
            order.append(key)
            found[key] = {"prompted": False, "points": [], "notes": []}
        group = found[key]
        group["prompted"] = bool(group["prompted"]) or ev.prompted
        note = (ev.note or "").strip()
        match = next((i for i, (text, _) in enumerate(parsed) if not used[i] and text and text == note), None)
        points, notes = group["points"], group["notes"]
        assert isinstance(points, list) and isinstance(notes, list)
        if match is not None:
            used[match] = True
            points.append(plain(parsed[match][1]))
        elif note and note_words(note) not in notes and not any(text == note for text, _ in parsed):
            notes.append(note_words(note))
    groups = [
        QuoteGroup(
            turn=turn,
            quote=text,
            prompted=bool(found[(turn, text)]["prompted"]),
            points=tuple(found[(turn, text)]["points"]),  # type: ignore[arg-type]
            notes=tuple(found[(turn, text)]["notes"]),  # type: ignore[arg-type]
        )
        for turn, text in order
    ]
    rest = [plain(reason) for i, (_, reason) in enumerate(parsed) if not used[i]]
    return groups, rest


def note_words(note: str) -> str:
    """An evidence note in words: scoring's "weights_per_gpu 43.75 GB: correct" as "Weights per GPU 43.75 GB:
    correct" (the quantity's label, the figure in a readable unit)."""
    m = _FIGURE_NOTE.match(note)
    if m is None:
        return plain(note)
    return f"{quantity_label(m.group(1))} {amount(float(m.group(2)), m.group(3))}: {m.group(4)}".replace("\\", "")


def group_tail(group: QuoteGroup) -> str:
    """What follows a quote: its points, then what else it shows, then "(prompted)" unless a point says so."""
    said = "; ".join([*group.points, *group.notes])
    prompted = group.prompted and "after a prompt" not in said
    return ("(prompted) " if prompted else "") + said


# --- flags -------------------------------------------------------------------------------------------------


def flag_name(flag: FlagHit) -> str:
    return plain(flag.label) if flag.label else as_words(flag.id)


def flag_where(flag: FlagHit) -> tuple[int | None, str]:
    """(turn, the quote) for a flag raised by something said; (None, what never came up) for one raised by
    something never said, in words."""
    if flag.turn is not None:
        return flag.turn, flag.evidence
    if flag.evidence.startswith(NOT_SHOWN):
        return None, "Not shown anywhere: " + flag_not_shown(flag.id, flag.evidence[len(NOT_SHOWN) :])
    return None, plain(flag.evidence)


# --- scores and bands --------------------------------------------------------------------------------------


def machine_score(sub: SubScore) -> float:
    """The machine's score of an overridden sub-score (the override keeps it); the score otherwise."""
    if sub.override and isinstance(sub.override.get("machine_score"), int | float):
        return float(sub.override["machine_score"])
    return sub.score


def machine_band(sub: SubScore) -> str | None:
    if sub.override and "machine_band" in sub.override:
        band = sub.override.get("machine_band")
        return band if isinstance(band, str) else None
    return sub.band


def sub_name(cat_id: str, sub_id: str) -> str:
    """A sub-criterion's label; the category's when the category has one sub-criterion of the same id."""
    return category_label(cat_id) if sub_id == cat_id else criterion_label(cat_id, sub_id)


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
    header = ["Category", "Criterion", "Score", "Band"] + (["Machine", "Reviewer note"] if overrides else [])
    align = ["---", "---", "---:", "---"] + (["---", "---"] if overrides else [])
    rows: list[list[str]] = []
    for cat_id, cat in categories.items():
        single = list(cat.subscores) == [cat_id]  # its one sub-criterion's row, just below, shows the band
        rows.append(
            [
                f"**{inline(category_label(cat_id))}**",
                "",
                f"**{num(cat.score)}/{num(cat.max)}**",
                "" if single else inline(cat.band or ""),
            ]
            + (["", ""] if overrides else [])
        )
        for sub_id, sub in cat.subscores.items():
            row = ["", inline(sub_name(cat_id, sub_id)), f"{num(sub.score)}/{num(sub.max)}", inline(sub.band or "")]
            if overrides:
                row += _override_cells(sub)
            rows.append(row)
    return "## Scores\n\n" + _table(header, rows, align)


def _override_cells(sub: SubScore) -> list[str]:
    """(the machine's score with its own band, the reviewer's note) for an overridden sub-score."""
    if not sub.override:
        return ["", ""]
    machine = inline(score_text(machine_score(sub), sub.max, machine_band(sub)))
    who = sub.override.get("reviewer")
    note = inline(str(sub.override.get("note") or ""))
    return [machine, f"{note} ({inline(str(who))})" if who else note]


def _evidence(categories: dict[str, CategoryScore]) -> str:
    blocks = []
    for cat_id, cat in categories.items():
        for sub_id, sub in cat.subscores.items():
            if not (sub.evidence or sub.reasons or sub.override):
                continue
            name = inline(category_label(cat_id)) + (
                "" if sub_id == cat_id else f" › {inline(sub_name(cat_id, sub_id))}"
            )
            lines = [f"### {name}: {inline(score_text(sub.score, sub.max, sub.band))}", ""]
            if sub.override:
                who = f" ({inline(str(sub.override['reviewer']))})" if sub.override.get("reviewer") else ""
                lines.append(
                    f"- ✎ reviewer{who}: {num(sub.score)}/{num(sub.max)}, machine "
                    f"{inline(score_text(machine_score(sub), sub.max, machine_band(sub)))}: "
                    f"{inline(str(sub.override.get('note', '')))}"
                )
            groups, rest = evidence_groups(sub)
            for g in groups:
                tail = group_tail(g)
                lines.append(f"- {quote(g.turn, g.quote)}" + (f" — {inline(tail)}" if tail else ""))
            lines += [f"- {inline(reason)}" for reason in rest]
            blocks.append("\n".join(lines))
    return "## Evidence\n\n" + "\n\n".join(blocks) if blocks else ""


_LINKS = {"nvlink": "NVLink", "ib": "InfiniBand", "pcie": "PCIe"}


def assumptions_text(assumptions: dict[str, object]) -> str:
    """The configuration a figure was checked under, as a person writes it: "TP4, PP2, batch 32, context
    2,048, INT8 weights, activations 5 GB" (unescaped)."""

    def one(key: str, v: object) -> str:
        n = v if isinstance(v, int | float) else None
        if key in ("tp", "pp", "dp"):
            return f"{key.upper()}{v}"
        if key == "weight_precision":
            return f"{str(v).upper()} weights"
        if key == "kv_precision":
            return f"{str(v).upper()} KV cache"
        if key == "activation_bytes" and n is not None:
            return f"activations {amount(float(n), 'B')}"
        if key == "link":
            return f"over {_LINKS.get(str(v), str(v))}"
        words = {
            "batch": "batch {}",
            "context": "context {}",
            "comm_batch": "{} sequences per step",
            "micro_batches": "{} micro-batches",
            "prefill_tokens": "prefill of {} tokens",
            "kv_heads": "{} KV heads",
            "gpus_in_view": "{} GPUs",
        }
        shown = f"{n:,.0f}" if n is not None and float(n).is_integer() else str(v)
        return words[key].format(shown) if key in words else f"{key.replace('_', ' ')} {shown}"

    return ", ".join(one(str(k), v) for k, v in assumptions.items())


def check_diagnosis(c: Check) -> str:
    """The diagnosis column: the convention a right figure used, the earlier error a figure follows from."""
    diagnosis = plain(c.diagnosis or "")
    if c.verdict == "correct" and c.convention and c.convention != "as computed":
        diagnosis = f"convention: {plain(c.convention)}" + (f"; {diagnosis}" if diagnosis else "")
    if c.consistent_with_earlier_error:
        diagnosis = EARLIER_ERROR_MARK + (f"; {diagnosis}" if diagnosis else "")
    return diagnosis


def _checks(checks: list[Check]) -> str:
    if not checks:
        return "## Numeric checks\n\nNo numbers were checked."
    counts = {v: sum(c.verdict == v for c in checks) for v in VERDICT_MARKS}
    summary = f"{counts['correct']} correct, {counts['incorrect']} incorrect, {counts['unverifiable']} unverifiable."
    header = ["#", "Turn", "Quantity", "Claimed", "Expected", "Verdict", "Diagnosis", "Assumed", "Quote"]
    align = ["---:", "---:", "---", "---:", "---:", ":---:", "---", "---", "---"]
    rows = []
    for n, c in enumerate(checks, start=1):
        assumed = inline(assumptions_text(c.assumptions))
        rows.append(
            [
                str(n),
                str(turn_number(c.turn)),
                inline(quantity_label(c.quantity)),
                amount(c.claimed, c.unit),
                amount(c.expected, c.unit),
                f"{VERDICT_MARKS.get(c.verdict, '?')} {c.verdict}",
                inline(check_diagnosis(c)),
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
        turn, text = flag_where(f)
        where = quote(turn, text) if turn is not None else inline(text)
        lines.append(f"- **{inline(flag_name(f))}** — {where}")
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


def provenance_items(report: Report) -> list[str]:
    """extractor, model, endpoint, method, prompt, rubric, grader, transcript: unescaped."""
    p = report.provenance
    if p is None:
        return [f"extractor {report.extractor}", "no provenance recorded"]
    items = [f"extractor {p.extractor}"]
    if p.model:
        items.append(f"model {p.model}")
    if p.endpoint:
        items.append(f"endpoint {_endpoint(p.endpoint)}")
    if p.method:
        items.append(f"method {p.method}")
    if p.prompt_hash:
        items.append(f"prompt {p.prompt_hash[:12]}")
    items += [f"rubric {p.rubric_version}", f"grader {p.grader_version}", f"transcript {p.transcript_hash[:12]}"]
    if p.dropped_claims:
        items.append(f"{p.dropped_claims} ungrounded claim(s) dropped")
    return items


def _provenance(report: Report) -> str:
    p = report.provenance
    if p is None:
        return f"---\n\n*Provenance:* extractor {inline(report.extractor)}; no provenance recorded."
    items = [inline(x) for x in provenance_items(report)]
    items[0] = f"extractor **{inline(p.extractor)}**"
    return "---\n\n*Provenance:* " + " · ".join(items) + ". " + TURNS_NOTE


# --- plain text (the terminal) -----------------------------------------------------------------------------


def render_text(report: Report, width: int = 100) -> str:
    """The scorecard as plain text for a terminal: no Markdown tables, no markup; quotes on one line each,
    control characters removed. Evidence is left to the Markdown scorecard (`python -m grader grade`)."""
    out: list[str] = [f"Scorecard: {one_line(report.transcript_id)}", ""]
    if is_scored(report):
        out.append(f"Total {num(report.total)}/100 · Level {report.level} · Recommendation {report.recommendation}")
    else:
        out.append("Not scored: this report has no category scores, only the numeric checks below.")
    extractor = _extractor(report)
    if "fallback" in extractor:
        out += _wrap(
            f"Extractor: {one_line(extractor)}. The LLM extractor failed; the rules extractor found the "
            "claims, so concepts and reasoning may be under-credited.",
            width,
        )
    if report.categories:
        out += ["", "Scores"]
        name_width = max(len(sub_name(c, s)) + 2 for c, cat in report.categories.items() for s in cat.subscores)
        name_width = max(name_width, *(len(category_label(c)) for c in report.categories))
        for cat_id, cat in report.categories.items():
            single = len(cat.subscores) == 1 and cat_id in cat.subscores
            sub = cat.subscores.get(cat_id) if single else None
            band = (sub.band if sub else cat.band) or ""
            out.append(
                f"  {category_label(cat_id):<{name_width}}  {num(cat.score):>5}/{num(cat.max):<3} {band}".rstrip()
            )
            if single and sub is not None:
                if sub.override:
                    out.append(f"  {'':<{name_width}}  {_text_override(sub)}")
                continue
            for sub_id, s in cat.subscores.items():
                line = f"    {sub_name(cat_id, sub_id):<{name_width - 2}}  {num(s.score):>5}/{num(s.max):<3} {s.band or ''}"
                out.append(line.rstrip())
                if s.override:
                    out.append(f"    {'':<{name_width - 2}}  {_text_override(s)}")
    out += ["", "Numeric checks"]
    if not report.checks:
        out.append("  No numbers were checked.")
    else:
        counts = {v: sum(c.verdict == v for c in report.checks) for v in VERDICT_MARKS}
        out.append(
            f"  {counts['correct']} correct, {counts['incorrect']} incorrect, {counts['unverifiable']} unverifiable"
            + (" (the correct ones are in the Markdown scorecard)" if counts["correct"] else "")
        )
        for c in report.checks:
            if c.verdict == "correct":
                continue
            expected = f", expected {_text_amount(c.expected, c.unit)}" if c.expected is not None else ""
            head = (
                f"  turn {turn_number(c.turn):>3}  {VERDICT_MARKS.get(c.verdict, '?')} {quantity_label(c.quantity)}: "
                f"{_text_amount(c.claimed, c.unit)}{expected}"
            )
            diagnosis = check_diagnosis(c)
            out += _wrap(head + (f" ({one_line(diagnosis)})" if diagnosis else ""), width, indent="             ")
    for title, flags in (("Red flags", report.red_flags), ("Green flags", report.green_flags)):
        out += ["", f"{title} ({len(flags)})"]
        if not flags:
            out.append("  None.")
        for f in flags:
            turn, text = flag_where(f)
            where = f'turn {turn_number(turn)}: "{one_line(text)}"' if turn is not None else one_line(text)
            out += _wrap(f"  - {flag_name(f)}: {where}", width, indent="    ")
    if report.injection_attempts:
        out += ["", "Removed before grading (addressed to the grader)"]
        for ev in report.injection_attempts:
            out += _wrap(f'  - turn {turn_number(ev.turn)}: "{one_line(ev.quote)}"', width, indent="    ")
    for title, items in (
        ("Strengths", report.strengths),
        ("Growth areas", [growth_text(g) for g in report.growth_areas]),
    ):
        out += ["", title]
        out += [line for item in items for line in _wrap(f"  - {one_line(item)}", width, indent="    ")] or [
            "  None recorded."
        ]
    if report.feedback and report.feedback.strip():
        out += ["", "Feedback"]
        for paragraph in re.split(r"\n\s*\n", report.feedback.strip()):
            out += _wrap("  " + one_line(paragraph), width, indent="  ")
    out += ["", *_wrap(" · ".join(one_line(x) for x in provenance_items(report)), width), TURNS_NOTE]
    return "\n".join(out) + "\n"


def _text_amount(value: float | None, unit: str) -> str:
    return amount(value, unit).replace("\\", "")


def _text_override(sub: SubScore) -> str:
    assert sub.override is not None
    who = f" by {one_line(str(sub.override['reviewer']))}" if sub.override.get("reviewer") else ""
    machine = score_text(machine_score(sub), sub.max, machine_band(sub))
    return f"reviewed{who}; machine {machine}: {one_line(str(sub.override.get('note') or ''))}"


def _wrap(text: str, width: int, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, width=width, subsequent_indent=indent, break_on_hyphens=False) or [""]
