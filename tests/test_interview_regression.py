"""The simulated-candidate regression suite: the candidate turns of every interview in the shared corpus
(../shared/corpus, 20 expert-labelled interviews in YAML, JSON, Markdown and text) and of transcripts/*.yaml,
replayed into the offline interviewer (grader.interview.replay). For each one: no reference figure said before
the candidate said it, no question about a topic the claims show covered, no probe of a figure the checker
confirmed, the refusal only after a request for a figure, no verdict on an answer, and every phase reached in
the interviews long enough to have a reply per phase.

The corpus lives outside the repository; without it (a fresh clone elsewhere) those cases skip and the samples
still run. `COACH_CORPUS_DIR` points elsewhere.
"""

from __future__ import annotations

import os
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from grader.claims import Check, Claims, ConceptClaim, NumericClaim
from grader.interview.engine import InterviewEngine, Reply
from grader.interview.probes import PHASE_ORDER
from grader.interview.replay import Audit, Replayed, Step, asks_for_a_figure, audit, replay, transcript_files
from grader.loaders import load_transcript
from grader.paths import ROOT, TRANSCRIPTS_DIR
from grader.transcript import Transcript, Turn

CORPUS = Path(os.environ.get("COACH_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
CORPUS_FILES = transcript_files(CORPUS)
SAMPLE_FILES = transcript_files(TRANSCRIPTS_DIR)


@cache
def audited(path: Path) -> Audit:
    return audit(replay(load_transcript(path), name=path.stem))


def _check(a: Audit) -> None:
    assert not a.problems, "\n".join(a.problems)
    assert a.replies > 0
    assert a.unreplayed == 0 or a.kinds["closing"] == 1  # every turn replayed, or the interview was closed
    if a.complete:
        assert a.phases == list(PHASE_ORDER), a.phases


@pytest.mark.skipif(not CORPUS_FILES, reason=f"no shared corpus at {CORPUS} (set COACH_CORPUS_DIR)")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.stem for p in CORPUS_FILES])
def test_corpus_interview_replays_cleanly(path: Path) -> None:
    _check(audited(path))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.stem for p in SAMPLE_FILES])
def test_sample_interview_replays_cleanly(path: Path) -> None:
    _check(audited(path))


@pytest.mark.skipif(not CORPUS_FILES, reason=f"no shared corpus at {CORPUS}")
def test_the_corpus_is_all_there_in_every_format() -> None:
    assert len(CORPUS_FILES) >= 20
    assert {p.suffix for p in CORPUS_FILES} >= {".yaml", ".json", ".md", ".txt"}
    audits = [audited(p) for p in CORPUS_FILES]
    assert sum(a.complete for a in audits) >= 18  # all but the interview cut short
    kinds = Counter(k for a in audits for k in a.kinds.elements())
    # the interviewer did its whole job on them, not only the safe part
    # (loose floors: the checker's verdicts keep changing; this is that the reactions happen at all)
    assert kinds["probe"] > 100 and kinds["follow_up"] >= 3 and kinds["challenge"] >= 5 and kinds["fact"] >= 40


# --- the audit itself: each check fires on what it is there to catch --------------------------------------


def _run(steps: list[tuple[str, Reply, frozenset[str], list[Check]]], n_candidate: int = 2) -> Replayed:
    turns = [Turn(role="interviewer", content="Go.")]
    for _ in range(n_candidate):
        turns += [Turn(role="candidate", content="x"), Turn(role="interviewer", content="y")]
    engine = InterviewEngine(analyse=lambda t: (Claims(), []), clock=lambda: 0.0)
    said = ""
    out = []
    for message, reply, covered, checks in steps:
        said += "\n" + message
        out.append(Step(message, reply, covered, checks, said))
    return Replayed("fake", Transcript(id="fake", turns=turns), engine, out, 0)


def _reply(text: str, kind: str = "probe", **kw) -> Reply:
    return Reply(text=text, phase="parallelism_memory", kind=kind, turn=2, **kw)  # type: ignore[arg-type]


def test_the_audit_catches_a_re_ask_a_leak_a_bad_refusal_a_verdict_and_a_probed_confirmed_figure() -> None:
    ok = Check(quantity="kv_total", claimed=309, unit="GB", expected=309.2, verdict="correct", turn=1, quote="309 GB")
    run = _run(
        [
            (
                "Weights are 350 GB.",
                _reply("How much do the weights take?", targets=["quantity:weights_total"]),
                frozenset({"quantity:weights_total"}),
                [],
            ),
            ("Let me go on.", _reply("So the KV cache is 309 GB, isn't it?"), frozenset(), []),
            (
                "Can we use H100s?",
                _reply("That's one for you to work out. Take me through how you'd get it.", kind="cant_share"),
                frozenset(),
                [],
            ),
            ("TP8.", _reply("Correct. What about replicas?"), frozenset(), []),
            (
                "KV is 309 GB.",
                _reply("Walk me through 309 GB.", kind="follow_up", check="1:kv_total:309"),
                frozenset(),
                [ok],
            ),
        ]
    )
    a = audit(run)
    assert len(a.reasks) == 1 and "weights_total" in a.reasks[0]
    assert len(a.leaks) == 1 and "309" in a.leaks[0]
    assert len(a.bad_refusals) == 1 and "H100" in a.bad_refusals[0]
    assert len(a.judgements) == 1
    assert len(a.confirmed_probes) == 1
    assert not a.complete and "phases never reached" not in " ".join(a.problems)


def test_a_complete_interview_that_misses_a_phase_is_a_problem() -> None:
    run = _run([("Hello there.", _reply("Go on."), frozenset(), [])], n_candidate=len(PHASE_ORDER))
    a = audit(run)
    assert a.complete and a.problems == ["phases never reached: " + ", ".join(PHASE_ORDER[1:])]


@pytest.mark.parametrize(
    ("message", "asks"),
    [
        ("What's the KV cache size?", True),
        ("How much memory do the weights need?", True),
        ("Can we use H100s?", False),
        ("What's your favourite movie?", False),
        ("The KV cache is 309 GB.", False),
    ],
)
def test_what_counts_as_asking_for_a_figure(message: str, asks: bool) -> None:
    assert asks_for_a_figure(message) is asks


def test_covered_in_the_audit_comes_from_the_claims_not_from_the_interviewer() -> None:
    from grader.interview.replay import claimed_coverage

    claims = Claims(
        concepts=[
            ConceptClaim(turn=1, quote="q", concept="paged_attention", level="explained"),
            ConceptClaim(turn=1, quote="q", concept="kv_cache", level="misconception", misconception="kv_negligible"),
        ],
        numbers=[NumericClaim(turn=1, quote="q", value=350, unit="GB", quantity="weights_total")],
    )
    got = claimed_coverage(claims, [])
    assert got == {"concept:paged_attention", "quantity:weights_total"}  # a misconception covers nothing
