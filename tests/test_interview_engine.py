"""The offline interviewer: facts only when asked, probes to the biggest gap, follow-ups that quote the
candidate, a time plan, determinism per seed, resume from a saved transcript, and no reference figure ever
said by the interviewer before the candidate said it."""

from __future__ import annotations

import random
import re
from itertools import pairwise
from pathlib import Path

import pytest

from grader.calculator import ServingConfig, reference
from grader.claims import Check, Claims, ConceptClaim, NumericClaim
from grader.errors import RubricError
from grader.interview import InterviewEngine, InterviewOver, default_plan, load_plan
from grader.interview.guards import forbidden_figures, judges, leaks
from grader.interview.intents import IntentDetector
from grader.interview.probes import PHASE_ORDER
from grader.loaders import load_transcript
from grader.pipeline import analyse as real_analyse
from grader.scenario import default_scenario
from grader.store import save_transcript_atomic
from grader.transcript import Transcript

PLAN_FILE = Path(__file__).resolve().parent.parent / "rubric" / "interview.yaml"


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, minutes: float) -> None:
        self.t += minutes * 60


def no_analysis(transcript: Transcript) -> tuple[Claims, list[Check]]:
    return Claims(), []


def engine(seed: int = 0, **kw) -> InterviewEngine:
    kw.setdefault("analyse", no_analysis)
    kw.setdefault("clock", FakeClock())
    e = InterviewEngine(seed=seed, **kw)
    e.start()
    return e


# --- forbidden figures: the reference arithmetic, formatted the ways people write it ---------------------
# (grader.interview.guards holds the list: the LLM interviewer's guards check every reply against it too)


def test_forbidden_list_is_derived_and_covers_the_known_figures() -> None:
    figs = forbidden_figures()
    for must in ("43.75", "38.65", "309", "4,718,592", "21.46", "0.19", "113", "11%", "1/9", "21.875", "350"):
        assert must in figs, must
    assert len(figs) > 100
    assert leaks("So the KV cache is 309 GB, or 38.65 GB per GPU.", "") == ["309", "38.65"]
    assert leaks("Walk me through how you got 309 GB.", "I think it's 309 GB in total.") == []
    assert leaks("You have 4 nodes, 32 GPUs, at launch.", "") == []


def plan_texts() -> list[str]:
    """Every sentence (or label) of the plan the interviewer may say, whatever section it is in."""
    spoken = {
        "phrasings", "hints", "intro", "say", "at_end", "move_on", "wrap_up", "closing", "assume", "follow_up",
        "follow_topic", "generic_hints", "back_to_question", "ready", "misconception_other", "other",
    }  # fmt: skip
    out: list[str] = []

    def walk(node: object, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, "misconception" if key == "misconceptions" else "label" if key.endswith("_labels") else k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in spoken | {"misconception", "label"}:
            out.append(node)

    walk(default_plan().model_dump())
    return out


def test_plan_texts_reach_every_section() -> None:
    texts = plan_texts()
    plan = default_plan()
    for must in (
        plan.assume[0],
        plan.cant_share[0],
        plan.off_script.dont_know.move_on[0],
        plan.challenges.misconceptions["single_gpu_fits"][0],
        plan.acknowledgements.other[0],
        plan.topic_labels["concept:nvlink"],
    ):
        assert must in texts
    assert len(texts) > 250


def test_no_phrasing_in_the_plan_states_a_reference_figure_or_a_verdict() -> None:
    for t in plan_texts():
        assert not leaks(t, ""), t
        assert judges(t, "") is None, t


# --- a scripted candidate -------------------------------------------------------------------------------

SCRIPT = [
    "What interconnect do the nodes have?",
    "How many layers, and what's the hidden size?",
    "What are the latency targets? And what availability do we need?",
    "I'll start with memory. The model won't fit on one GPU.",
    "I'd use tensor parallelism inside a node and pipeline parallelism across stages.",
    "The KV cache grows with batch and context.",
    "More replicas with data parallelism across nodes.",
    "All-reduce after attention and after the MLP, over NVLink.",
    "I'd keep TP inside the node; only pipeline traffic crosses InfiniBand.",
    "Overlap communication with compute.",
    "Decode is memory-bandwidth bound.",
    "Fail over to a healthy replica and replay the prompt plus generated tokens.",
    "Heartbeats and CUDA error monitoring.",
    "Snapshot the token ids; rebuild KV on the new replica.",
    "Shed load gracefully while a replica recovers.",
    "Shard the KV cache by heads; PagedAttention blocks.",
    "INT8 KV cache, continuous batching.",
    "Per-GPU metrics, queue depth, tracing.",
    "Canary rollout; autoscale on queue depth.",
    "In summary: TP in the node, PP across, replicas, failover.",
    "Thanks!",
]


def run_script(e: InterviewEngine, lines: list[str], clock: FakeClock | None = None, step_min: float = 0.0):
    replies = []
    for line in lines:
        if e.finished:
            break
        replies.append(e.reply(line))
        if clock is not None:
            clock.advance(step_min)
    return replies


def test_scripted_candidate_completes_a_full_interview() -> None:
    clock = FakeClock()
    e = engine(seed=7, clock=clock)
    replies = run_script(e, SCRIPT + ["One more detail on that."] * 20, clock, step_min=2.0)
    kinds = [r.kind for r in replies]
    assert len(replies) >= 12
    assert kinds[:3] == ["fact", "fact", "fact"]
    assert "probe" in kinds and "wrap_up" in kinds
    assert kinds[-1] == "closing" and e.finished
    visited = [p.phase for p in e.state.phase_log]
    assert visited[0] == "clarification" and visited[-1] == "wrap_up"
    assert len(set(visited)) >= 5
    roles = [t.role for t in e.transcript.turns]
    assert roles[0] == "interviewer"
    assert all(a != b for a, b in pairwise(roles)), "turns alternate"
    assert [r.turn for r in replies] == [i for i, t in enumerate(e.transcript.turns) if i and t.role == "interviewer"]
    with pytest.raises(InterviewOver):
        e.reply("one more thing")


def test_without_time_pressure_every_phase_is_probed_in_order() -> None:
    e = engine(seed=1)
    replies = run_script(e, ["I'd split the model over GPUs."] * 40)
    probed = [r.phase for r in replies if r.kind == "probe"]
    assert list(dict.fromkeys(probed)) == list(PHASE_ORDER[:-1])
    assert replies[-2].kind == "wrap_up" and replies[-1].kind == "closing"


# --- facts only when asked ------------------------------------------------------------------------------


def test_a_statement_reveals_nothing_and_the_question_reveals_the_fact() -> None:
    e = engine()
    r = e.reply("I'll assume NVLink between the GPUs in a node.")
    assert r.kind != "fact" and "600 GB/s" not in r.text
    r = e.reply("What interconnect do the nodes have?")
    assert r.kind == "fact" and "600 GB/s" in r.text


@pytest.mark.parametrize(
    ("message", "facts"),
    [
        ("I'll assume NVLink.", []),
        ("What we need is NVLink between the GPUs.", []),
        ("How we handle failures matters a lot.", []),
        ("What interconnect do the nodes have?", ["interconnect"]),
        ("Do the nodes have NVLink", ["interconnect"]),
        ("Tell me about the network between nodes.", ["interconnect"]),
        ("ok, so how many layers does the model have", ["layers"]),
        ("How many layers and what's the hidden size?", ["layers", "hidden_size"]),
        ("I'll assume NVLink. What's the latency target?", ["latency_target"]),
        ("What's the bandwidth between nodes?", ["interconnect"]),  # not hidden_size via "width"
        ("Is there an availability target?", ["failure_requirements"]),
        ("What's the budget in dollars per month?", ["cost"]),
    ],
)
def test_question_intents(message: str, facts: list[str]) -> None:
    d = IntentDetector(default_scenario().facts, default_plan())
    assert list(d.detect(message).facts) == facts


def test_several_questions_in_one_message_get_each_answer() -> None:
    e = engine()
    r = e.reply("What interconnect do the nodes have? Also, how many layers are there?")
    s = {f.topic: f.answer for f in default_scenario().facts}
    assert s["interconnect"] in r.text and s["layers"] in r.text
    assert r.text.index(s["interconnect"]) < r.text.index(s["layers"])


@pytest.mark.parametrize("seed", range(5))
def test_a_question_outside_the_facts_asks_for_an_assumption(seed: int) -> None:
    e = engine(seed)
    r = e.reply("What GPU driver version do we run?")
    assert r.kind == "assumption"
    assert r.text in default_plan().assume
    assert "assum" in r.text.lower()
    assert r.text not in default_plan().cant_share  # the refusal is for figures to work out only


def test_budget_question_gets_the_cost_fact() -> None:
    r = engine().reply("What's the budget in dollars per month?")
    assert r.kind == "fact" and "Fewer GPUs are preferred" in r.text


def test_meta_question_is_not_a_fact_request() -> None:
    r = engine().reply("I'd put TP inside the node. Does that make sense?")
    assert r.kind == "probe"


# --- probes go to the biggest gap -----------------------------------------------------------------------


def _claims_analyse(concepts: list[str] = (), quantities: list[str] = ()):
    def analyse(t: Transcript) -> tuple[Claims, list[Check]]:
        turns = t.candidate_turns()
        if not turns:
            return Claims(), []
        i, turn = turns[0]
        q = turn.content[:10]
        return (
            Claims(
                concepts=[ConceptClaim(turn=i, quote=q, concept=c, level="explained") for c in concepts],
                numbers=[NumericClaim(turn=i, quote=q, quantity=n, value=1.0, unit="GB") for n in quantities],
            ),
            [],
        )

    return analyse


def _to_phase(e: InterviewEngine, phase: str, clock: FakeClock) -> None:
    while e.phase != phase:
        clock.advance(0.5)
        e.reply("Let me keep going with the design.")


def test_probe_targets_the_biggest_gap() -> None:
    clock = FakeClock()
    e = engine(
        clock=clock,
        analyse=_claims_analyse(
            concepts=["tensor_parallelism", "pipeline_parallelism", "hybrid_parallelism"],
            quantities=["weights_total", "weights_per_gpu"],
        ),
    )
    _to_phase(e, "parallelism_memory", clock)
    r = e.last_reply
    assert r is not None and r.probe == "parallelism_memory/kv_memory"
    assert "KV cache" in r.text


def test_nothing_on_fault_tolerance_draws_the_gpu_failure_probe() -> None:
    clock = FakeClock()
    e = engine(clock=clock)
    for minutes in (5, 12, 8):  # each phase's time runs out in turn
        clock.advance(minutes + 0.01)
        e.reply("Moving on.")
    assert e.phase == "fault_tolerance"
    assert e.last_reply is not None and e.last_reply.probe == "fault_tolerance/gpu_dies"


def test_a_covered_phase_is_skipped() -> None:
    all_concepts = [c for ph in default_plan().phases for c in ph.concepts]
    clock = FakeClock()
    e = engine(
        clock=clock,
        analyse=_claims_analyse(
            concepts=all_concepts, quantities=[q for ph in default_plan().phases for q in ph.quantities]
        ),
    )
    for q in (
        "What interconnect do we have?",
        "How many layers?",
        "What's the latency target?",
        "What's the availability target?",
        "What about cost?",
        "How many nodes are there?",
        "What precision are the weights?",
        "How long are prompts?",
    ):
        e.reply(q)
    r = e.reply("Here is my design.")
    assert r.kind == "wrap_up"


# --- follow-ups on incorrect numbers --------------------------------------------------------------------


def wrong_number_analyse(value: str = "21.875", expected: float = 43.75, quantity: str = "weights_per_gpu"):
    def analyse(t: Transcript) -> tuple[Claims, list[Check]]:
        checks = []
        for i, turn in t.candidate_turns():
            m = re.search(re.escape(value), turn.content)
            if m:
                quote = turn.content[max(0, m.start() - 20) : m.end() + 15]
                checks.append(
                    Check(
                        quantity=quantity,
                        claimed=float(value.replace(",", "")),
                        unit="GB",
                        expected=expected,
                        verdict="incorrect",
                        turn=i,
                        quote=quote,
                    )
                )
        return Claims(), checks

    return analyse


@pytest.mark.parametrize("seed", range(8))
def test_wrong_number_draws_a_neutral_follow_up_quoting_the_candidate(seed: int) -> None:
    e = engine(seed, analyse=wrong_number_analyse())
    e.reply("I'd use 8-way tensor parallelism.")
    r = e.reply("With FP16 weights that's 21.875 GB per GPU, plenty of room.")
    assert r.kind == "follow_up"
    assert "21.875 GB" in r.text
    low = r.text.lower()
    assert "43.75" not in r.text and "wrong" not in low and "incorrect" not in low and "mistake" not in low
    # followed up once: the next turn moves on
    assert e.reply("I divided the total by 8.").kind != "follow_up"


def test_follow_up_skips_errors_that_follow_from_an_earlier_one() -> None:
    def analyse(t: Transcript) -> tuple[Claims, list[Check]]:
        i = len(t.turns) - 1
        return Claims(), [
            Check(
                quantity="kv_total",
                claimed=8,
                unit="GB",
                expected=309.2,
                verdict="incorrect",
                turn=i,
                quote="8 GB",
                consistent_with_earlier_error=True,
            )
        ]

    assert engine(analyse=analyse).reply("So the KV cache is 8 GB.").kind == "probe"


def test_follow_ups_are_capped() -> None:
    def analyse(t: Transcript) -> tuple[Claims, list[Check]]:
        i = len(t.turns) - 1
        return Claims(), [
            Check(
                quantity="kv_total", claimed=i, unit="GB", expected=309.2, verdict="incorrect", turn=i, quote=f"{i} GB"
            )
        ]

    e = engine(analyse=analyse)
    kinds = [e.reply(f"Another figure: {n} GB.").kind for n in range(10)]
    assert kinds.count("follow_up") == default_plan().max_follow_ups


# --- determinism ----------------------------------------------------------------------------------------


def _interviewer_turns(seed: int, lines: list[str]) -> list[str]:
    e = engine(seed)
    run_script(e, lines)
    return [t.content for t in e.transcript.turns if t.role == "interviewer"]


def test_same_seed_same_interview_and_other_seeds_vary() -> None:
    a = _interviewer_turns(3, SCRIPT)
    assert a == _interviewer_turns(3, SCRIPT)
    assert any(_interviewer_turns(s, SCRIPT) != a for s in range(4, 10))


# --- hints ----------------------------------------------------------------------------------------------


def test_hints_are_recorded_and_get_more_specific() -> None:
    e = engine()
    r0 = e.reply("I would use tensor parallelism.")
    h1 = e.hint()
    h2 = e.hint()
    assert h1.kind == h2.kind == "hint"
    turns = e.transcript.turns
    assert turns[h1.turn].hint and turns[h2.turn].hint and not turns[r0.turn].hint
    assert h1.text != h2.text
    assert e.state.hints_used == 2
    assert e.reply("OK, asking now: what interconnect?").kind == "fact"


# --- time -----------------------------------------------------------------------------------------------


def test_time_budget_moves_phases_and_ends_in_wrap_up() -> None:
    clock = FakeClock()
    e = engine(clock=clock)
    e.reply("What interconnect do we have?")
    assert e.phase == "clarification"
    st = e.time_status()
    assert st.budget_s == 45 * 60 and st.phase_budget_s == 5 * 60
    clock.advance(5.5)
    e.reply("What's the latency target?")  # a fact turn still moves the phase on
    assert e.phase == "parallelism_memory"
    r = e.reply("I'd start with the weights.")
    assert r.phase == "parallelism_memory" and r.kind == "probe"
    assert e.time_status().phase_elapsed_s == pytest.approx(0.0)
    clock.advance(12.5)
    assert e.reply("Next.").phase == "communication"
    clock.advance(24)  # 42 min in: wrap-up takes the last 3 minutes
    r = e.reply("Next.")
    assert r.kind == "wrap_up" and e.phase == "wrap_up"
    assert e.reply("My summary.").kind == "closing"
    assert e.time_status().remaining_s == pytest.approx(3 * 60)


def test_minutes_scale_the_plan() -> None:
    plan = default_plan().with_budget(30)
    assert sum(p.minutes for p in plan.phases) == pytest.approx(30)
    clock = FakeClock()
    e = engine(plan=plan, clock=clock)
    clock.advance(4)
    e.reply("Let's go.")
    assert e.phase == "parallelism_memory"


# --- ending ---------------------------------------------------------------------------------------------


def test_candidate_can_end_any_time() -> None:
    e = engine()
    e.reply("I'd use tensor parallelism.")
    r = e.reply("I'm done.")
    assert r.kind == "closing" and e.finished
    e2 = engine()
    assert e2.reply("Let's wrap up.").kind == "wrap_up"
    assert e2.reply("TP in a node, replicas across nodes.").kind == "closing"
    e3 = engine()
    t = e3.end()
    assert e3.finished and t.turns[-1].content in default_plan().closing
    assert e3.end() is t and len(t.turns) == 2


def test_im_done_inside_a_longer_answer_does_not_end() -> None:
    assert engine().reply("I'm done with memory, now the KV cache layout.").kind != "closing"


# --- resume ---------------------------------------------------------------------------------------------


def test_resume_from_a_saved_transcript_continues_in_the_right_phase(tmp_path: Path) -> None:
    clock = FakeClock()
    original = engine(seed=5, clock=clock)
    for line in SCRIPT[:8]:
        original.reply(line)
        clock.advance(1.5)
    original.hint()
    path = tmp_path / "session.yaml"
    save_transcript_atomic(original.transcript, path)

    restarted = FakeClock(50_000.0)
    resumed = InterviewEngine.resume(
        load_transcript(path, in_progress=True), seed=5, analyse=no_analysis, clock=restarted
    )
    assert resumed.phase == original.phase != "clarification"
    assert resumed.state.asked_probes == original.state.asked_probes
    assert resumed.state.hints_used == 1
    assert resumed.state.phase_log == original.state.phase_log
    assert len(resumed.transcript.turns) == len(original.transcript.turns)
    # the clock continues from the last saved turn, not from the restart
    assert resumed.time_status().elapsed_s == pytest.approx(original.state.elapsed_s, abs=1e-3)
    # and both go on identically
    for line in SCRIPT[8:14]:
        clock.advance(1.5)
        restarted.advance(1.5)
        a, b = original.reply(line), resumed.reply(line)
        assert (a.text, a.kind, a.phase) == (b.text, b.kind, b.phase)


def test_resume_answers_a_trailing_candidate_turn(tmp_path: Path) -> None:
    e = engine(seed=2)
    e.reply("What interconnect do we have?")
    e.prepare("What's the latency target?")  # the app crashed before the interviewer's turn was saved
    saved = Transcript.model_validate(e.transcript.model_dump())
    resumed = InterviewEngine.resume(saved, seed=2, analyse=no_analysis, clock=FakeClock())
    assert resumed.transcript.turns[-2].content == "What's the latency target?"
    assert resumed.last_reply is not None and resumed.last_reply.kind == "fact"
    assert "300 ms" in resumed.transcript.turns[-1].content


def test_resume_of_a_finished_interview_stays_finished() -> None:
    e = engine()
    e.reply("I'm done.")
    resumed = InterviewEngine.resume(e.transcript.model_copy(deep=True), analyse=no_analysis, clock=FakeClock())
    assert resumed.finished


def test_state_round_trips_as_json() -> None:
    e = engine()
    run_script(e, SCRIPT[:5])
    from grader.interview import InterviewState

    again = InterviewState.model_validate_json(e.state.model_dump_json())
    assert again == e.state


# --- no leak across many seeded runs --------------------------------------------------------------------

QUESTIONS = [
    "What interconnect do the nodes have?",
    "How many layers?",
    "What's the hidden size?",
    "How many heads?",
    "What's the latency target?",
    "What's the availability requirement?",
    "What about cost?",
    "How many nodes do we have?",
    "What precision are the weights in?",
    "How long are the prompts?",
    "What GPU driver version?",
    "What's the power budget per rack in kW?",
    "Which scheduler do you use?",
    "What's the KV cache size?",
    "How much memory do the weights need?",
    "What's the all-reduce time?",
    "What's the per-GPU memory requirement?",
    "What is the pipeline bubble?",
    "Can you repeat that?",
]
STATEMENTS = [
    "I'd use 8-way tensor parallelism in a node.",
    "Hybrid: 2-way PP x 4-way TP.",
    "Weights are 350 GB in FP16, so 43.75 GB per GPU.",
    "Weights are 300 GB, so 37.5 GB per GPU.",
    "KV cache is about 8 GB for 32 sequences.",
    "KV cache is roughly 309 GB total.",
    "All-reduce traffic is 113 MB per step, 0.19 ms at 600 GB/s.",
    "Bubble is about 11% with 8 micro-batches.",
    "Decode floor is around 21.46 ms per token.",
    "Each GPU holds 24 heads.",
    "Replicas across nodes.",
    "Heartbeats every 10 seconds; fail over to another replica.",
    "PagedAttention and INT8 KV.",
    "Monitor queue depth and per-GPU memory.",
    "Staged rollout with canaries.",
    "Let me think.",
]
NUM = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _noisy_analyse(t: Transcript) -> tuple[Claims, list[Check]]:
    """Flags every number the candidate says as incorrect, with the reference value as `expected`."""
    ref = reference(ServingConfig.from_scenario(tp=4, pp=2))
    names = ["weights_per_gpu", "kv_total", "tp_volume_per_step", "decode_latency"]
    checks = []
    for i, turn in t.candidate_turns():
        for k, m in enumerate(NUM.finditer(turn.content)):
            name = names[k % len(names)]
            checks.append(
                Check(
                    quantity=name,
                    claimed=float(m.group().replace(",", "")),
                    unit="GB",
                    expected=ref[name].value / 1e9,
                    verdict="incorrect",
                    turn=i,
                    quote=turn.content,
                )
            )
    return Claims(), checks


def test_no_reference_figure_leaks_across_200_seeded_runs() -> None:
    kinds: set[str] = set()
    for seed in range(200):
        rng = random.Random(seed)
        clock = FakeClock()
        e = InterviewEngine(seed=seed, analyse=_noisy_analyse if seed % 2 else no_analysis, clock=clock)
        said = ""
        checked = [e.start()]
        for _ in range(rng.randint(12, 30)):
            if e.finished:
                break
            clock.advance(rng.choice([0.2, 1, 2, 4]))
            if rng.random() < 0.1:
                r = e.hint()
            else:
                line = rng.choice(QUESTIONS if rng.random() < 0.4 else STATEMENTS)
                said += " " + line
                r = e.reply(line)
            found = leaks(r.text, said)
            assert not found, (seed, r.kind, r.text, found)
            checked.append(r.text)
            kinds.add(r.kind)
        if not e.finished:
            e.end()
            assert not leaks(e.transcript.turns[-1].content, said)
        assert len(checked) > 5
    assert kinds >= {"fact", "probe", "follow_up", "hint", "cant_share", "assumption", "wrap_up", "closing"}


# --- the plan file --------------------------------------------------------------------------------------


def test_plan_loads_and_follows_the_rubric_categories() -> None:
    plan = load_plan(PLAN_FILE)
    assert [p.id for p in plan.phases] == list(PHASE_ORDER)
    assert plan.budget_minutes == 45
    assert all(len(p.phrasings) >= 2 for ph in plan.phases for p in ph.probes if ph.id != "clarification")


def test_bad_plan_is_one_typed_error(tmp_path: Path) -> None:
    text = PLAN_FILE.read_text().replace('"Walk me through how you got {figure}."', '"Walk me through it."')
    bad = tmp_path / "interview.yaml"
    bad.write_text(text)
    with pytest.raises(RubricError, match="follow_up"):
        load_plan(bad)
    bad.write_text(PLAN_FILE.read_text().replace("concepts: [data_parallelism]", "concepts: [data_paralelism]"))
    with pytest.raises(RubricError, match="data_paralelism"):
        load_plan(bad)


# --- cost ---------------------------------------------------------------------------------------------


def test_each_answer_is_analysed_once_and_nothing_else_is() -> None:
    """Live grading is the per-turn cost: one `analyse` per candidate message, none for hints or the end."""
    calls: list[int] = []

    def counting(t: Transcript) -> tuple[Claims, list[Check]]:
        calls.append(len(t.turns))
        return real_analyse(t)

    e = engine(analyse=counting)
    lines = [x for pair in zip(STATEMENTS, QUESTIONS, strict=False) for x in pair][:12]
    for line in lines:
        e.reply(line)
    e.hint()
    e.end()
    assert len(calls) == len(lines)
    assert calls == sorted(calls)  # each call sees the transcript with the new message in it
