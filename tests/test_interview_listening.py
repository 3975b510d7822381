"""The interviewer listens: each reply reacts to the answer it follows, from the live claims and checks.

Most cases script the claims (an `analyse` stub), so they test the interviewer and not the extractor; the cases
from the issue that depend on words only (weak claims, a topic the candidate names) use the real pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from grader.claims import Check, Claims, ConceptClaim, NumericClaim, QuestionClaim, StrategyClaim
from grader.interview import InterviewEngine, default_plan
from grader.interview.guards import judges, leaks
from grader.interview.probes import is_covered
from grader.pipeline import analyse as real_analyse
from grader.transcript import Transcript
from tests.test_interview_engine import FakeClock, no_analysis

Analyse = Callable[[Transcript], tuple[Claims, list[Check]]]


def scripted(by_message: dict[str, Claims | tuple[Claims, list[Check]]]) -> Analyse:
    """Claims (and checks) for candidate messages, keyed by a phrase in them; turn indices filled in."""

    def analyse(t: Transcript) -> tuple[Claims, list[Check]]:
        out, checks = Claims(), []
        for i, turn in t.candidate_turns():
            for phrase, found in by_message.items():
                if phrase not in turn.content:
                    continue
                claims, more = found if isinstance(found, tuple) else (found, [])
                for field in ("concepts", "questions", "strategies", "numbers"):
                    getattr(out, field).extend(c.model_copy(update={"turn": i}) for c in getattr(claims, field))
                checks += [c.model_copy(update={"turn": i}) for c in more]
        return out, checks

    return analyse


def concept(cid: str, level: str = "explained", misconception: str | None = None) -> ConceptClaim:
    return ConceptClaim(turn=0, quote="q", concept=cid, level=level, misconception=misconception)  # type: ignore[arg-type]


def number(q: str, value: float = 1.0, unit: str = "GB", guessed: bool = False) -> NumericClaim:
    return NumericClaim(turn=0, quote=f"{value:g} {unit}", value=value, unit=unit, quantity=q, guessed=guessed)


def check(q: str, value: float, verdict: str, unit: str = "GB") -> Check:
    return Check(
        quantity=q, claimed=value, unit=unit, expected=None, verdict=verdict, turn=0, quote=f"{value:g} {unit}"
    )  # type: ignore[arg-type]


def engine(analyse: Analyse = no_analysis, clock: FakeClock | None = None, seed: int = 0) -> InterviewEngine:
    e = InterviewEngine(seed=seed, analyse=analyse, clock=clock or FakeClock())
    e.start()
    return e


def in_phase(e: InterviewEngine, phase: str) -> None:
    """Move the interview to `phase` the way a candidate would: by asking to."""
    cue = {"parallelism_memory": "the parallelism", "communication": "communication", "fault_tolerance": "failures",
           "memory_management": "memory management", "operations": "monitoring"}[phase]  # fmt: skip
    e.reply(f"Let's talk about {cue}.")
    assert e.phase == phase


# --- acknowledgement ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_an_answer_is_acknowledged_in_the_interviewers_words(seed: int) -> None:
    weights = Claims(numbers=[number("weights_total", 350), number("weights_per_gpu", 43.75)])
    e = engine(scripted({"weights are": weights}), seed=seed)
    e.reply("What interconnect do we have?")
    r = e.reply("The weights are 350 GB, so 43.75 GB on each of 8 GPUs.")
    said = next(g for g in default_plan().acknowledgements.topics if "quantity:weights_total" in g.targets).say
    assert any(r.text.startswith(a) for a in said), r.text
    first = r.text.split(". ")[0]
    assert not re.search(r"\d", first)  # never a figure, not even the candidate's
    assert judges(r.text, "") is None and "correct" not in r.text.lower()
    assert r.kind == "probe" and not set(r.targets) & {"quantity:weights_total", "quantity:weights_per_gpu"}


def test_nothing_new_gets_no_acknowledgement() -> None:
    e = engine()
    r = e.reply("Let me keep going.")
    acks = [a for g in default_plan().acknowledgements.topics for a in g.say] + default_plan().acknowledgements.other
    assert not any(r.text.startswith(a) for a in acks)


# --- never a question about what is covered --------------------------------------------------------------


def test_after_asking_about_availability_it_is_not_asked_about_again() -> None:
    """The issue: after 350 GB and TP4 x PP2 the interviewer asked what they'd want to know about availability
    and budget, though the candidate had just asked about availability."""
    e = engine(analyse=real_analyse)
    e.reply("What availability do we need, and what happens to requests in flight when a GPU dies?")
    r = e.reply("The weights are 350 GB in FP16. I'd use TP4 x PP2 inside a node, so 43.75 GB per GPU.")
    assert "availab" not in r.text.lower()
    assert r.probe != "clarification/reliability_questions"


def test_after_the_kv_cache_is_sized_the_kv_questions_are_not_asked() -> None:
    kv = Claims(numbers=[number("kv_total", 309)])
    e = engine(scripted({"309": kv}))
    in_phase(e, "parallelism_memory")
    r = e.reply("For 32 sequences at 2K that is about 309 GB across the node.")
    assert r.kind == "probe" and r.probe not in ("parallelism_memory/kv_memory", "parallelism_memory/kv_total")
    assert "quantity:kv_total" not in r.targets


@pytest.mark.parametrize("seed", range(6))
def test_no_probe_or_hint_is_ever_about_a_covered_target(seed: int) -> None:
    """A long random interview with claims appearing turn by turn: every question's targets were uncovered."""
    import random

    rng = random.Random(seed)
    plan = default_plan()
    targets = sorted({t for ph in plan.phases for p in ph.probes for t in p.targets})
    pool = [t.split("|")[0] for t in targets]
    table: dict[str, Claims] = {}
    lines = []
    for k in range(30):
        picked = rng.sample(pool, 3)
        claims = Claims()
        for t in picked:
            kind, tid = t.split(":", 1)
            if kind == "concept":
                claims.concepts.append(concept(tid))
            elif kind == "quantity":
                claims.numbers.append(number(tid))
            else:
                claims.questions.append(QuestionClaim(turn=0, quote="q", topic=tid))
        table[f"answer {k:02d}."] = claims
        lines.append(f"Here is answer {k:02d}.")
    clock = FakeClock()
    e = engine(scripted(table), clock=clock, seed=seed)
    for line in lines:
        if e.finished:
            break
        clock.advance(1.4)
        r = e.hint() if rng.random() < 0.2 else e.reply(line)
        covered = e.state.coverage.targets()
        if r.kind != "hint":  # claims of the answer just given count
            assert not [t for t in r.targets if is_covered(t, covered)], (r.kind, r.probe, r.text)
        else:
            assert not [t for t in r.targets if is_covered(t, covered)]
    assert len(e.phases_reached()) == 7


# --- phases move with coverage and with the candidate -----------------------------------------------------


def test_a_topic_the_candidate_moves_to_is_followed() -> None:
    ft = Claims(concepts=[concept("replica_failover"), concept("heartbeats"), concept("kv_snapshots")])
    e = engine(scripted({"fail over": ft}))
    in_phase(e, "communication")
    e.reply("All-reduce after every layer.")
    r = e.reply("If a GPU dies we detect it with heartbeats, fail over and resume from snapshots.")
    assert r.phase == "fault_tolerance" and r.intent == "follow_topic"
    leads = [t.replace("{topic}", "failures") for t in default_plan().follow_topic]
    assert r.text.startswith(tuple(leads)), r.text
    assert not set(r.targets) & {"concept:replica_failover", "concept:heartbeats", "concept:kv_snapshots"}


def test_a_candidate_who_covers_everything_reaches_the_wrap_up_without_the_clock() -> None:
    plan = default_plan()
    everything = Claims(
        concepts=[concept(c.split("|")[0]) for ph in plan.phases for c in ph.concepts],
        numbers=[number(q) for ph in plan.phases for q in ph.quantities],
        questions=[QuestionClaim(turn=0, quote="q", topic=q.split("|")[0]) for q in plan.phases[0].questions],
    )
    e = engine(scripted({"whole design": everything}))
    r = e.reply("Here is the whole design, from memory to monitoring.")
    assert r.kind == "wrap_up"
    assert e.phases_reached() == [p.id for p in plan.phases]  # each phase passed through, none asked again


def test_the_issue_case_communication_is_left_once_the_rest_is_covered() -> None:
    """The interview never left Communication although the candidate had covered fault tolerance, memory
    management and monitoring: now those phases are passed through without a question, and the interview
    reaches its wrap-up on answers alone."""
    plan = default_plan()
    later = ("fault_tolerance", "memory_management", "operations")
    rest = Claims(concepts=[concept(c) for p in later for c in plan.phase(p).concepts])
    e = engine(scripted({"everything else": rest}))
    in_phase(e, "communication")
    e.reply("Let me cover everything else: failures, memory management and monitoring.")
    for _ in range(12):
        if e.phase == "wrap_up":
            break
        e.reply("Let me keep going with the design.")
    assert e.phase == "wrap_up"
    assert set(later) <= set(e.phases_reached())
    assert not [k for k in e.state.asked_probes if k.split("/")[0] in later]
    assert sum(k.startswith("communication/") for k in e.state.asked_probes) <= plan.phase("communication").max_probes


# --- challenges -----------------------------------------------------------------------------------------


def test_kubernetes_will_scale_automatically_is_challenged() -> None:
    e = engine(analyse=real_analyse)
    e.reply("What's the latency target?")
    r = e.reply("Kubernetes will scale automatically.")
    assert r.kind == "challenge" and r.challenge == "automatic_scaling"
    assert not r.text.lower().startswith(("good", "great", "ok")) and judges(r.text, "") is None


@pytest.mark.parametrize(
    "line",
    [
        "I'd just put it on one GPU.",
        "Simplest is to load the model onto a single A100.",
        "One copy of the model per GPU.",
    ],
)
def test_one_gpu_is_challenged_without_the_answer(line: str) -> None:
    e = engine(analyse=real_analyse)
    r = e.reply(line)
    assert r.kind == "challenge" and r.challenge == "single_gpu_fits", r.text
    assert not leaks(r.text, line) and "80 GB" in r.text
    assert e.reply(line).challenge != "single_gpu_fits"  # once


def test_a_misconception_from_the_claims_is_challenged_with_its_own_question() -> None:
    wrong = Claims(concepts=[concept("kv_cache_sharding", "misconception", "kv_not_sharded")])
    e = engine(scripted({"Every GPU keeps": wrong}))
    r = e.reply("Every GPU keeps the whole KV cache.")
    assert r.kind == "challenge" and r.text in default_plan().challenges.misconceptions["kv_not_sharded"]


def test_a_misconception_the_plan_has_no_question_for_gets_the_general_one() -> None:
    wrong = Claims(concepts=[concept("nvlink", "misconception", "some_new_misconception")])
    e = engine(scripted({"NVLink": wrong}))
    r = e.reply("NVLink goes between the nodes too.")
    assert r.kind == "challenge" and "NVLink" in r.text and "{" not in r.text


def test_a_figure_the_checker_confirmed_is_never_probed() -> None:
    """The issue: "Can you show me the arithmetic behind 38.6 GB?" when 38.6 GB was right."""
    both = (
        Claims(numbers=[number("kv_per_gpu", 38.6)]),
        [check("kv_total", 38.6, "incorrect"), check("kv_per_gpu", 38.6, "correct")],
    )
    e = engine(scripted({"38.6": both}))
    r = e.reply("That's 38.6 GB of KV cache per GPU.")
    assert r.kind != "follow_up" and "38.6" not in r.text


def test_a_figure_whose_words_do_not_name_it_is_not_probed() -> None:
    guessed = (Claims(numbers=[number("kv_total", 12, guessed=True)]), [check("kv_total", 12, "incorrect")])
    e = engine(scripted({"12": guessed}))
    assert e.reply("So about 12 GB there.").kind != "follow_up"


def test_an_incorrect_named_figure_is_probed_quoting_the_candidate() -> None:
    wrong = (Claims(numbers=[number("kv_total", 12)]), [check("kv_total", 12, "incorrect")])
    e = engine(scripted({"12 GB": wrong}))
    r = e.reply("The KV cache is 12 GB in total.")
    assert r.kind == "follow_up" and "12 GB" in r.text and r.check is not None


# --- hints ----------------------------------------------------------------------------------------------


def test_no_hint_for_replicas_after_the_candidate_proposed_tp4_x_pp2_replicas() -> None:
    layout = Claims(strategies=[StrategyClaim(turn=0, quote="q", tp=4, pp=2, dp=4)])
    e = engine(scripted({"TP4 x PP2": layout}))
    in_phase(e, "parallelism_memory")
    e.reply("I'd run TP4 x PP2 replicas, four of them.")
    hints = [e.hint().text for _ in range(4)]
    scale_out = default_plan().phase("parallelism_memory").probes[-1].hints
    assert not set(hints) & set(scale_out), hints


def test_a_hint_is_on_the_open_question_until_it_is_covered() -> None:
    weights = Claims(numbers=[number("weights_total"), number("weights_per_gpu")])
    e = engine(scripted({"350": weights}))
    in_phase(e, "parallelism_memory")
    asked = e.last_reply
    assert asked is not None and asked.probe is not None
    _, probe = default_plan().probe(asked.probe)
    assert e.hint().text == probe.hints[0]
    e.reply("350 GB, 44 GB per GPU.")
    h = e.hint()
    assert h.text not in probe.hints and not [t for t in h.targets if t.startswith("quantity:weights")]


def test_what_the_candidate_said_stops_a_question_even_when_the_extractor_missed_it() -> None:
    """The issue's hint "think about running several copies of the whole model" after the candidate had said so:
    with no claim at all from the extractor, the words "four such replicas" still settle the question."""
    e = engine()  # no_analysis: the extractor reports nothing
    in_phase(e, "parallelism_memory")
    e.reply("I would run TP4 x PP2 inside one node, and four such replicas, one per node.")
    scale_out = default_plan().phase("parallelism_memory").probes[-1]
    assert scale_out.id == "scale_out"
    texts = [e.hint().text for _ in range(3)] + [e.reply("Let me keep going.").text for _ in range(4)]
    assert not set(texts) & {*scale_out.hints, *scale_out.phrasings}, texts
    assert "parallelism_memory/scale_out" not in e.state.asked_probes
    assert e.state.coverage.targets() == frozenset()  # what the candidate is shown as covered is the claims' alone
