"""Grade every labelled transcript and measure the agreement: the core of `python -m grader eval`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.evaluation.agreement import Agreement, agreement
from grader.evaluation.labels import LabelledTranscript, load_labels
from grader.report import Report

FIGURE_HELP = {
    "false_alarms": "labelled correct or unverifiable, called incorrect (of those judged)",
    "precision": "of our incorrect verdicts, the share labelled incorrect",
    "recall": "of the numbers labelled incorrect, the share we call incorrect",
    "coverage": "of the derived numbers labelled correct, the share we confirm",
    "totals": "transcripts whose total is in the labelled range",
    "levels": "transcripts whose level is a labelled one",
    "recommendations": "transcripts whose recommendation is a labelled one",
    "categories": "category scores in the labelled range",
    "flags": "flag conditions met (include, exclude, min, max)",
}


def evaluate(directories: Sequence[str | Path], *, extractor: str = "rules") -> tuple[Agreement, list[Report]]:
    """Grade the transcripts named by each directory's labels and compare. A transcript that cannot be loaded is
    an error for the whole evaluation: its labels would silently drop out of every figure."""
    from grader.pipeline import grade_file

    labelled: list[LabelledTranscript] = []
    for d in directories:
        labelled.extend(load_labels(d))
    reports = [grade_file(t.path, extractor=extractor) for t in labelled]  # type: ignore[arg-type]
    return agreement(zip(labelled, reports, strict=True)), reports


def _cell(agg: Agreement, name: str) -> str:
    r = getattr(agg, name)
    if r.value is None:
        return "n/a"
    return f"{100 * r.value:5.1f}%  ({r.hits}/{r.total})"


def render_text(
    agg: Agreement, *, floors: dict[str, float] | None = None, ceilings: dict[str, float] | None = None
) -> str:
    floors, ceilings = floors or {}, ceilings or {}
    lines = [
        f"{agg.transcripts} transcripts, {agg.numbers} labelled numbers, {agg.matched} matched to a check",
        "",
        f"{'figure':<16} {'value':<22} {'gate':<8} meaning",
    ]
    for name in Agreement.FIGURES:
        gate = ""
        if name in floors:
            gate = f">= {100 * floors[name]:g}%"
        elif name in ceilings:
            gate = f"<= {100 * ceilings[name]:g}%"
        lines.append(f"{name:<16} {_cell(agg, name):<22} {gate:<8} {FIGURE_HELP[name]}")
    if agg.unlabelled_incorrect:
        lines.append(f"(and {agg.unlabelled_incorrect} incorrect verdicts on numbers the labels do not list)")
    lines += ["", f"disagreements ({len(agg.disagreements)}):"]
    lines += [f"  {d.line()}" for d in agg.disagreements]
    return "\n".join(lines) + "\n"


def to_json(agg: Agreement) -> dict[str, Any]:
    figures = {
        name: {"value": getattr(agg, name).value, "hits": getattr(agg, name).hits, "total": getattr(agg, name).total}
        for name in Agreement.FIGURES
    }
    return {
        "transcripts": agg.transcripts,
        "numbers": agg.numbers,
        "matched": agg.matched,
        "figures": figures,
        "unlabelled_incorrect": agg.unlabelled_incorrect,
        "disagreements": [{"transcript": d.transcript, "turn": d.turn, "what": d.what} for d in agg.disagreements],
    }


def render_json(agg: Agreement) -> str:
    return json.dumps(to_json(agg), indent=2)
