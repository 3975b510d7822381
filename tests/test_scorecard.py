"""The Markdown and plain-text scorecards render every section of a report in a reader's words (labels, readable
units, turns from 1, each quote once with its points), and the JSON rendering is byte-stable."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from grader.claims import Check
from grader.labels import category_label, quantity_label
from grader.report import CategoryScore, Evidence, FlagHit, Provenance, Report, SubScore
from grader.scorecard import (
    amount,
    evidence_groups,
    inline,
    render_json,
    render_markdown,
    render_text,
)

GOOD = Path(__file__).parent / "data" / "transcripts" / "good"


@pytest.fixture(autouse=True)
def _rubric_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until grader/rubric.py lands, the pipeline's provenance needs a rubric version from somewhere."""
    if importlib.util.find_spec("grader.rubric") is None:
        monkeypatch.setattr("grader.pipeline.rubric_version", lambda: "test-rubric")


def full_report() -> Report:
    return Report(
        transcript_id="cand-042",
        total=72.5,
        level="L5",
        recommendation="Hire",
        categories={
            "parallelism_strategy": CategoryScore(
                score=22,
                max=30,
                band="strong",
                subscores={
                    "strategy_choice": SubScore(
                        score=12,
                        max=15,
                        band="hybrid",
                        evidence=[
                            Evidence(
                                turn=3,
                                quote="TP=4 inside the node,\nPP=2 | across nodes",
                                prompted=True,
                                note="hybrid layout",
                            )
                        ],
                        reasons=["compared TP-only against hybrid"],
                    ),
                    "justification": SubScore(
                        score=10,
                        max=15,
                        band="good",
                        override={
                            "score": 10,
                            "note": "argued latency well",
                            "machine_score": 6,
                            "machine_band": "partial",
                            "reviewer": "ana",
                        },
                    ),
                },
            ),
            "fault_tolerance": CategoryScore(score=8, max=20, band="basic"),
        },
        checks=[
            Check(
                quantity="weights_total",
                claimed=350,
                unit="GB",
                expected=350,
                verdict="correct",
                turn=3,
                quote="weights are 350 GB",
                convention="as computed",
            ),
            Check(
                quantity="kv_total",
                claimed=40,
                unit="GB",
                expected=80.5,
                verdict="incorrect",
                turn=5,
                quote="KV is about 40 GB",
                diagnosis="off by 2x: used K only, not K and V",
                assumptions={"batch": 32, "context": 2048},
            ),
            Check(
                quantity="kv_per_gpu",
                claimed=5,
                unit="GB",
                expected=10.06,
                verdict="incorrect",
                turn=6,
                quote="so 5 GB a GPU",
                diagnosis="follows from 40 GB",
                consistent_with_earlier_error=True,
            ),
            Check(
                quantity="decode_latency",
                claimed=50,
                unit="ms",
                expected=None,
                verdict="unverifiable",
                turn=8,
                quote="target 50 ms",
                diagnosis="a target the candidate set, not a derived figure",
            ),
        ],
        red_flags=[
            FlagHit(
                id="no_fault_tolerance", turn=7, evidence="if a GPU dies we just restart", label="No fault tolerance"
            )
        ],
        green_flags=[
            FlagHit(id="asked_interconnect", turn=1, evidence="what interconnect do the nodes have?"),
            FlagHit(id="quantified_comm", turn=None, evidence="computed all-reduce volume"),
        ],
        extractor="rules (fallback: timeout after 30s, 4 attempts)",
        strengths=["Accurate memory arithmetic"],
        growth_areas=["Deeper fault tolerance planning"],
        feedback="Good understanding of distributed model serving.\n\nTo strengthen, plan for failures.",
        provenance=Provenance(
            grader_version="0.1.0",
            rubric_version="2",
            extractor="rules (fallback: timeout after 30s, 4 attempts)",
            model="gpt-4o-mini",
            endpoint="http://user:secret@127.0.0.1:8000/v1",
            prompt_hash="abcdef0123456789" * 4,
            transcript_hash="f" * 64,
            dropped_claims=2,
        ),
    )


def test_headline_and_fallback_extractor_is_prominent() -> None:
    md = render_markdown(full_report())
    assert md.startswith("# Scorecard: cand-042\n")
    assert "**Total: 72.5/100** · **Level:** L5 · **Recommendation:** Hire" in md
    head = md.split("## Scores")[0]
    assert "⚠ **Extractor: rules (fallback: timeout after 30s, 4 attempts)**" in head


def test_scores_table_shows_each_score_with_its_own_band_and_the_machine_beside_the_reviewer() -> None:
    md = render_markdown(full_report())
    assert "| Category | Criterion | Score | Band | Machine | Reviewer note |" in md
    assert "| **Parallelism strategy** |   | **22/30** | strong |   |   |" in md
    assert "|   | Strategy choice | 12/15 | hybrid |   |   |" in md
    # the reviewer's 10 with its band, the machine's 6 with the machine's band: never a score with another's band
    assert "|   | Justification | 10/15 | good | 6/15 (partial) | argued latency well (ana) |" in md
    assert f"| **{category_label('fault_tolerance')}** |   | **8/20** | basic |   |   |" in md, "the rubric's label"


def test_checks_count_turns_from_one_and_name_quantities_in_words() -> None:
    md = render_markdown(full_report())
    assert "1 correct, 2 incorrect, 1 unverifiable." in md
    kv_total = quantity_label("kv_total")
    assert (
        f"| 2 | 6 | {inline(kv_total)} | 40 GB | 80.5 GB | ✗ incorrect | off by 2x: used K only, not K and V | "
        "batch 32, context 2,048 | “KV is about 40 GB” |"
    ) in md, "turn 5 of the report is the 6th turn"
    assert f"| 1 | 4 | {inline(quantity_label('weights_total'))} | 350 GB | 350 GB | ✓ correct |" in md
    row3 = next(line for line in md.splitlines() if line.startswith("| 3 |"))
    assert "↳ follows from an earlier error" in row3 and "follows from 40 GB" in row3
    assert "| 9 | " in next(line for line in md.splitlines() if line.startswith("| 4 |"))
    assert "kv_total" not in md and "weights_total" not in md


def test_flags_show_labels_and_plain_words_never_ids() -> None:
    report = full_report()
    report.red_flags.append(
        FlagHit(
            id="no_tensor_parallelism",
            turn=None,
            label="Doesn't know what tensor parallelism is",
            evidence="not shown anywhere: tensor_parallelism never reaches level explained, or a "
            "tensor_parallelism misconception (tp_splits_layers_between_gpus, tp_no_communication).",
        )
    )
    md = render_markdown(report)
    red = md.split("## Red flags")[1].split("##")[0]
    assert "- **No fault tolerance** — turn 8: “if a GPU dies we just restart”" in red
    assert "(no_fault_tolerance)" not in red
    assert (
        "**Doesn't know what tensor parallelism is** — Not shown anywhere: Tensor parallelism was never explained"
        in red
    )
    assert "tp_splits_layers_between_gpus" not in md and "tensor_parallelism" not in md
    green = md.split("## Green flags")[1].split("##")[0]
    assert "- **Asked interconnect** — turn 2: “what interconnect do the nodes have?”" in green
    assert "- **Quantified comm** — computed all-reduce volume" in green


def test_strengths_growth_feedback_evidence_and_provenance() -> None:
    md = render_markdown(full_report())
    assert "## Strengths\n\n- Accurate memory arithmetic" in md
    assert "## Growth areas\n\n- Deeper fault tolerance planning" in md
    assert "## Feedback\n\nGood understanding of distributed model serving.\n\nTo strengthen, plan for failures." in md
    assert "### Parallelism strategy › Strategy choice: 12/15 (hybrid)" in md
    assert "- turn 4: “TP=4 inside the node, PP=2 \\| across nodes” — (prompted) hybrid layout" in md
    assert "- compared TP-only against hybrid" in md
    assert "- ✎ reviewer (ana): 10/15, machine 6/15 (partial): argued latency well" in md
    footer = md.split("---\n\n")[-1]
    assert "extractor **rules (fallback: timeout after 30s, 4 attempts)**" in footer
    assert "model gpt-4o-mini" in footer and "prompt abcdef012345 " in footer
    assert "rubric 2" in footer and "grader 0.1.0" in footer and "2 ungrounded claim(s) dropped" in footer
    assert "secret" not in md and "endpoint http://127.0.0.1:8000/v1" in footer
    assert "Turns are numbered from 1" in footer


def test_evidence_shows_each_quote_once_with_the_points_it_earned() -> None:
    """Scoring writes a point's reason and its evidence note from one string: they meet again beside the quote."""
    long = "The weights are 175B x 2 bytes = 350 GB, so with 8-way tensor parallelism each GPU holds 43.75 GB."
    sub = SubScore(
        score=9,
        max=10,
        band="Outstanding",
        evidence=[
            Evidence(turn=3, quote=long, note="asked about architecture"),
            Evidence(turn=3, quote=long, note="asked about precision"),
            Evidence(turn=3, quote=long, note="weights_per_gpu 43.75 GB: correct"),
            Evidence(turn=5, quote="How are the GPUs connected?", note="asked about interconnect"),
        ],
        reasons=[
            "+2 asked about architecture",
            "+0.5 asked about precision",
            "+2 asked about interconnect",
            "+10 memory figures stated",
            "capped at 10: the sub-criterion's maximum",
        ],
    )
    groups, rest = evidence_groups(sub)
    assert [(g.turn, g.quote) for g in groups] == [(3, long), (5, "How are the GPUs connected?")]
    assert groups[0].points == ("+2 asked about architecture", "+0.5 asked about precision")
    assert groups[0].notes == (f"{quantity_label('weights_per_gpu')} 43.75 GB: correct",)
    assert groups[1].points == ("+2 asked about interconnect",)
    assert rest == ["+10 memory figures stated", "capped at 10: the sub-criterion's maximum"]

    report = Report(
        transcript_id="t", total=9, categories={"requirements": CategoryScore(score=9, max=10, subscores={"x": sub})}
    )
    md = render_markdown(report)
    assert md.count(long) == 1, "the long quote is shown once"
    assert f"- turn 4: “{long}” — +2 asked about architecture; +0.5 asked about precision; " in md


def test_figures_are_in_units_people_say() -> None:
    assert amount(226_500, "KB") == "226.5 MB"
    assert amount(2.265e5, "KB") == "226.5 MB"
    assert amount(0.00038, "s") == "380 µs"
    assert amount(43.75, "GB") == "43.75 GB"
    assert amount(393, "KB") == "393 KB"
    assert amount(175e9, "count") == "175 billion"
    assert amount(1_228_800, "tokens") == "1,228,800 tokens"
    assert amount(12_500, "GB/s") == "12.5 TB/s"
    assert amount(11.0, "%") == "11%"
    assert amount(None, "GB") == "—"
    for value, unit in ((2.265e5, "KB"), (1.5e-7, "s"), (3.5e14, "FLOPs"), (7e12, "B")):
        assert "e+" not in amount(value, unit) and "e-" not in amount(value, unit)


def test_plain_text_scorecard_has_no_markup_and_no_control_characters() -> None:
    report = full_report()
    report.checks[1].quote = "KV is \x1b[31mabout\x1b[0m 40 GB"
    text = render_text(report)
    assert text.startswith("Scorecard: cand-042\n")
    assert "Total 72.5/100 · Level L5 · Recommendation Hire" in text
    assert "|---" not in text and "**" not in text and "## " not in text and "\x1b" not in text
    assert "Justification" in text and "reviewed by ana; machine 6/15 (partial): argued latency well" in text
    assert "turn   6  ✗" in text, "checks that are not correct are listed with their turn, counted from 1"
    assert "No fault tolerance: turn 8" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_quotes_cannot_break_tables_or_markup() -> None:
    report = full_report()
    report.checks[0].quote = "a | b\nc ~350 GB costs $2 <b>x</b> [link](http://x)"
    md = render_markdown(report)
    row = next(line for line in md.splitlines() if line.startswith("| 1 |"))
    assert "“a \\| b c \\~350 GB costs \\$2 \\<b\\>x\\</b\\> \\[link\\](http://x)”" in row
    assert len(re.split(r"(?<!\\)\|", row)) == 9 + 2  # nine cells, whatever the quote held
    assert inline("# not a heading") == "\\# not a heading"
    assert inline("1. not a list") == "1\\. not a list"
    assert inline("- not a bullet") == "\\- not a bullet"
    assert inline("0.1.0") == "0.1.0"


def test_unscored_report_shows_no_placeholder_score() -> None:
    md = render_markdown(Report(transcript_id="t", checks=[]))
    assert "**Total: —/100** · **Level:** — · **Recommendation:** —" in md
    assert "Not scored" in md and "0/100" not in md
    assert "No numbers were checked." in md and "## Red flags\n\nNone." in md
    assert "no provenance recorded" in md


def test_no_fallback_warning_for_a_normal_extractor() -> None:
    report = full_report()
    report.provenance.extractor = report.extractor = "llm:gpt-4o-mini"  # type: ignore[union-attr]
    assert "⚠" not in render_markdown(report)


def test_rendering_is_deterministic() -> None:
    a, b = full_report(), full_report()
    assert render_markdown(a) == render_markdown(b)
    assert render_json(a).encode() == render_json(b).encode()
    assert Report.model_validate_json(render_json(a)) == a


def test_renders_a_real_pipeline_report() -> None:
    from grader.pipeline import grade_file

    report = grade_file(GOOD / "project.yaml")
    md = render_markdown(report)
    assert "# Scorecard: h01-example" in md
    weights = next(c for c in report.checks if c.quantity == "weights_total")
    assert f"| {weights.turn + 1} | {inline(quantity_label('weights_total'))} | 350 GB | 350 GB | ✓ correct |" in md
    assert render_json(report) == render_json(grade_file(GOOD / "project.yaml"))


def test_a_check_of_no_known_quantity_renders() -> None:
    """The checker leaves `quantity` None for a figure it cannot place ("not a quantity the checker knows")."""
    check = Check(
        quantity=None, claimed=3, unit="x", expected=None, verdict="unverifiable", turn=1, quote="about 3x faster"
    )
    md = render_markdown(Report(transcript_id="t", checks=[check]))
    assert "Unnamed figure" in md and "about 3x faster" in md
