"""Every scorecard of the sample interviews and the expert-labelled corpus is in a reader's words: no rubric id,
turns counted from 1, no exponent in a figure, and every band beside a score is that score's band, before and
after a reviewer's override."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from grader.labels import vocabulary
from grader.loaders import load_transcript
from grader.overrides import Override, apply_overrides
from grader.pipeline import grade_transcript
from grader.report import Report
from grader.rubric import default_rubric
from grader.scorecard import render_markdown, render_text

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "transcripts").glob("*.yaml"))
SHARED = ROOT.parent / "shared" / "corpus"  # the expert-labelled interviews, where this checkout has them
CORPUS = sorted(p for p in SHARED.glob("[de][0-9]*") if p.suffix in (".yaml", ".json", ".txt", ".md"))
EXPONENT = re.compile(r"\d(?:\.\d+)?e[+-]\d")


@cache
def report_of(path: Path) -> Report:
    return grade_transcript(load_transcript(path))


def ids_in(text: str) -> set[str]:
    """Rubric ids (those with an underscore, which no reader writes) found in `text` outside quotes (what the
    candidate said is shown as said)."""
    known = {i for i in vocabulary().words() if "_" in i}
    ours = re.sub(r"“[^”]*”|\"[^\"]*\"", "", text)
    return {w for w in re.findall(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+", ours) if w in known}


@pytest.mark.parametrize("path", SAMPLES + CORPUS, ids=lambda p: p.name)
def test_scorecards_name_no_ids_and_count_turns_from_one(path: Path) -> None:
    report = report_of(path)
    for text in (render_markdown(report), render_text(report)):
        body = text.split("Provenance")[0]
        assert not ids_in(body), f"ids shown to a reader: {sorted(ids_in(body))}"
        assert not EXPONENT.search(body), EXPONENT.search(body)
    md = render_markdown(report)
    evidence = md.split("## Evidence")[1].split("## Numeric checks")[0] if "## Evidence" in md else ""
    for cat in report.categories.values():
        for sub in cat.subscores.values():
            for ev in sub.evidence:
                assert f"turn {ev.turn + 1}: “" in evidence
    for check in report.checks:
        assert re.search(rf"^\| \d+ \| {check.turn + 1} \| ", md, re.M), "checks count turns from 1"


def band_of(rubric: object, cat_id: str, sub_id: str, score: float) -> str:
    """The rubric's band for a score; in one of its gaps, the band below (the rubric never awards a gap)."""
    sub = rubric.subcriterion(cat_id, sub_id)  # type: ignore[attr-defined]
    band = sub.band_for(score) or next((b for b in sub.bands if b.max < score), sub.fallback)
    return str(band.name)


@pytest.mark.parametrize("path", SAMPLES[:4], ids=lambda p: p.name)
def test_every_band_is_the_band_of_the_score_beside_it(path: Path) -> None:
    rubric = default_rubric()
    machine = report_of(path)
    cat_id, cat = next((c, x) for c, x in machine.categories.items() if len(x.subscores) > 1)
    sub_id, sub = next(iter(cat.subscores.items()))
    new = 0.0 if sub.score >= sub.max / 2 else float(sub.max)
    reviewed = apply_overrides(machine, [Override(category=cat_id, subcriterion=sub_id, score=new, note="n")])
    for report in (machine, reviewed):
        md = render_markdown(report)
        for row in re.finditer(
            r"^\|   \| (?P<name>[^|]+) \| (?P<score>[\d.]+)/(?P<max>[\d.]+) \| (?P<band>[^|]*) \|", md, re.M
        ):
            name = row["name"].strip()
            sc = next(
                (c.id, s.id)
                for c in rubric.categories
                for s in c.subcriteria
                if (s.label if s.id != c.id else c.label) == name.replace("\\&", "&")
            )
            shown = row["band"].strip()
            assert shown == band_of(rubric, *sc, float(row["score"])), f"{name}: {row['score']} shown as {shown}"
    md = render_markdown(reviewed)
    machine_band = sub.band or ""
    assert f"| {sub.score:g}/{sub.max:g} ({machine_band}) |" in md, "the machine's score keeps the machine's band"
