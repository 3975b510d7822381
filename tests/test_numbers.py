"""Rule-based number finding, sentence by sentence: which quantity each number states, its value and unit,
whether it was said roughly or as a bound, the written arithmetic behind it, and the assumptions in force.

Each case is a short candidate answer (one or more turns) and the one number it checks, found by value and
unit; every field is asserted, so a case fails when any part of the reading changes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from grader.numbers import FoundNumber, extract_numeric_claims, find_numbers
from grader.transcript import Transcript, Turn


def transcript(*candidate_turns: str) -> Transcript:
    """An interview with the given candidate turns, each answered by a neutral interviewer prompt."""
    turns = [Turn(role="interviewer", content="Design a system to serve a 175B model on 8x A100 80GB nodes.")]
    for i, text in enumerate(candidate_turns):
        if i:
            turns.append(Turn(role="interviewer", content="Go on."))
        turns.append(Turn(role="candidate", content=text))
    return Transcript(id="t", turns=turns)


def numbers(*candidate_turns: str) -> list[FoundNumber]:
    return find_numbers(transcript(*candidate_turns))


def the(found: list[FoundNumber], value: float, unit: str, turn: int | None = None) -> FoundNumber:
    hits = [f for f in found if f.value == value and f.unit == unit and (turn is None or f.turn == turn)]
    assert len(hits) == 1, f"expected one {value} {unit}, found {[(f.value, f.unit, f.quantities) for f in found]}"
    return hits[0]


@dataclass
class Case:
    id: str
    turns: tuple[str, ...]
    value: float
    unit: str
    quantity: str
    approx: bool = False
    lower: bool = False
    upper: bool = False
    assumptions: dict = field(default_factory=dict)  # must be present with these values
    absent: tuple[str, ...] = ()  # assumption keys that must not be in force
    expression: str | None = None
    operand: bool = False
    fit: bool | None = None
    alternatives: tuple[str, ...] = ()
    turn: int | None = None  # the transcript turn of the number, when several turns say it


def c(id: str, text: str | tuple[str, ...], value: float, unit: str, quantity: str, **kw: object) -> Case:
    return Case(id, (text,) if isinstance(text, str) else text, value, unit, quantity, **kw)  # type: ignore[arg-type]


CASES = [
    # --- every spelling, in a sentence ----------------------------------------------------------------
    c(
        "43.75GB_attached",
        "Per GPU with 8-way TP the weights are 43.75GB.",
        43.75,
        "GB",
        "weights_per_gpu",
        assumptions={"tp": 8},
    ),
    c("approx_44_gigs", "That's ~44 gigs of weights per GPU.", 44, "GB", "weights_per_gpu", approx=True),
    c(
        "350_gigabytes",
        "In FP16 that's 350 gigabytes of weights.",
        350,
        "GB",
        "weights_total",
        assumptions={"weight_precision": "fp16"},
        alternatives=("weights_per_gpu",),
    ),
    c("0.19ms_allreduce", "The TP all-reduces take 0.19ms per decode step.", 0.19, "ms", "tp_comm_time"),
    c("200_Gb/s_ib", "InfiniBand HDR is 200 Gb/s per GPU.", 200, "Gb/s", "infiniband_bandwidth"),
    c("200_Gbps_nic", "Each HDR NIC does 200 Gbps.", 200, "Gb/s", "infiniband_bandwidth"),
    c("25_GB/s_ib", "Between nodes that is 25 GB/s per GPU over InfiniBand.", 25, "GB/s", "infiniband_bandwidth"),
    c("2_TB/s_hbm", "HBM bandwidth is 2 TB/s per GPU.", 2, "TB/s", "hbm_bandwidth"),
    c(
        "eleven_percent_bubble",
        "With 2 pipeline stages and 8 micro-batches the bubble is eleven percent.",
        11,
        "%",
        "bubble",
        assumptions={"pp": 2, "micro_batches": 8},
    ),
    c(
        "4.5_MiB_kv_token",
        "The KV cache per token is 4.5 MiB.",
        4.5,
        "MiB",
        "kv_per_token",
        alternatives=("kv_per_token_per_gpu",),
    ),
    c(
        "0.65_μs_greek_mu",
        "The hand-off between pipeline stages takes 0.65 μs over NVLink.",
        0.65,
        "us",
        "pp_handoff_time",
    ),
    c(
        "0.65_µs_micro_sign",
        "Passing the hidden states to the next stage takes 0.65 µs.",
        0.65,
        "us",
        "pp_handoff_time",
    ),
    c(
        "1.5_us_one_allreduce",
        "The latency of one small all-reduce is about 1.5 us.",
        1.5,
        "us",
        "allreduce_time",
        approx=True,
    ),
    c("326_GiB", "That is 326 GiB of weights.", 326, "GiB", "weights_total", alternatives=("weights_per_gpu",)),
    c(
        "word_number_gigabytes",
        "Roughly forty-four gigabytes of weights per GPU.",
        44,
        "GB",
        "weights_per_gpu",
        approx=True,
    ),
    c(
        "350_Gb_unit_slip_kept_as_bits",
        "The weights are 350 Gb in FP16.",
        350,
        "Gb",
        "weights_total",
        alternatives=("weights_per_gpu",),
    ),
    # --- written arithmetic: operands and results -----------------------------------------------------
    c("operand_350GB", "Memory: 350GB FP16 / 8 GPUs = 43.75 GB per GPU.", 350, "GB", "weights_total", operand=True),
    c(
        "result_43.75",
        "Memory: 350GB FP16 / 8 GPUs = 43.75 GB per GPU.",
        43.75,
        "GB",
        "weights_per_gpu",
        expression="350GB FP16 / 8 GPUs",
    ),
    c(
        "result_approx_11",
        "INT4: 175B × 0.5 bytes = 87.5 GB total.\nPer GPU: 87.5/8 = ~11 GB",
        11,
        "GB",
        "weights_per_gpu",
        approx=True,
        expression="87.5/8",
        assumptions={"weight_precision": "int4"},
    ),
    c(
        "result_kv_bytes",
        "KV cache: 2 x 96 x 12,288 x 2 bytes = 4,718,592 bytes per token.",
        4_718_592,
        "B",
        "kv_per_token",
        expression="2 x 96 x 12,288 x 2 bytes",
        alternatives=("kv_per_token_per_gpu",),
    ),
    c(
        "result_premise_wrong",
        "With 2-way PP × 4-way TP, each GPU holds 175GB/2/4 = 21.875 GB of weights.",
        21.875,
        "GB",
        "weights_per_gpu",
        expression="175GB/2/4",
        assumptions={"tp": 4, "pp": 2},
    ),
    c(
        "operand_175GB_is_a_total",
        "With 2-way PP × 4-way TP, each GPU holds 175GB/2/4 = 21.875 GB of weights.",
        175,
        "GB",
        "weights_total",
        operand=True,
    ),
    c("slip_350/8=48", "Per GPU: 350/8 = 48 GB of weights.", 48, "GB", "weights_per_gpu", expression="350/8"),
    c(
        "prefill_flops",
        "Prefill of a 2K prompt: 2 x 175B x 2048 = 717 TFLOP.",
        717,
        "TFLOP",
        "prefill_flops",
        expression="2 x 175B x 2048",
    ),
    c(
        "comm_time_expression",
        "TP all-reduce traffic is 113 MB per step.\nTime: 113 MB / 600 GB/s = 0.19 ms per token",
        0.19,
        "ms",
        "tp_comm_time",
        expression="113 MB / 600 GB/s",
    ),
    c(
        "sum_is_a_total",
        "43.75 + 38.65 + 5 = 87.4 GB per GPU, which does not fit in 80 GB.",
        87.4,
        "GB",
        "per_gpu_total",
        expression="43.75 + 38.65 + 5",
        fit=False,
    ),
    c(
        "minus_is_free",
        "That leaves 80 - 43.75 = 36.25 GB per GPU.",
        36.25,
        "GB",
        "free_per_gpu",
        expression="80 - 43.75",
    ),
    # --- bounds -------------------------------------------------------------------------------------
    c("50+_lower_bound", "With TP4 x PP2 that is giving us 50+ GB for KV cache.", 50, "GB", "free_per_gpu", lower=True),
    c("over_lower_bound", "That leaves over 36 GB free per GPU.", 36, "GB", "free_per_gpu", lower=True),
    c("under_upper_bound", "The hand-off takes under 20 us over InfiniBand.", 20, "us", "pp_handoff_time", upper=True),
    c("less_than_is_not_approx", "The all-reduces cost less than 2 ms per step.", 2, "ms", "tp_comm_time", upper=True),
    # --- hypotheticals don't change the design --------------------------------------------------------
    c(
        "pure_tp_is_hypothetical",
        ("I'll use 4-way TP and 2-way PP.", "With pure TP each GPU would hold 43.75 GB of weights."),
        43.75,
        "GB",
        "weights_per_gpu",
        assumptions={"tp": 8, "pp": 1},
    ),
    c(
        "design_survives_pure_tp",
        (
            "I'll use 4-way TP and 2-way PP.",
            "With pure TP each GPU would hold 43.75 GB of weights.",
            "So each GPU holds 43.75 GB of weights in my design.",
        ),
        43.75,
        "GB",
        "weights_per_gpu",
        assumptions={"tp": 4, "pp": 2},
        turn=5,
    ),
    c(
        "instead_of_keeps_the_decision",
        "I'd use TP4 x PP2 instead of pure TP8; each GPU holds 43.75 GB of weights.",
        43.75,
        "GB",
        "weights_per_gpu",
        assumptions={"tp": 4, "pp": 2},
    ),
    c(
        "if_clause_is_hypothetical",
        ("If we used 8-way PP the bubble would be large.", "The weights are 43.75 GB per GPU."),
        43.75,
        "GB",
        "weights_per_gpu",
        absent=("pp", "tp"),
    ),
    c(
        "alternative_is_hypothetical",
        ("I'll use TP4 x PP2.", "I'd keep TP8 as the alternative to benchmark.", "The weights are 43.75 GB per GPU."),
        43.75,
        "GB",
        "weights_per_gpu",
        assumptions={"tp": 4, "pp": 2},
    ),
    # --- assumption changes in later turns stay in force ------------------------------------------------
    c(
        "fp16_tp8_first",
        (
            "I'll serve FP16 weights with 8-way TP. Each GPU holds 43.75 GB of weights.",
            "Let's switch to INT8 weights. Each GPU then holds 21.875 GB of weights.",
            "Say batch 16 with 4K context. The KV cache is 309 GB in total.",
        ),
        43.75,
        "GB",
        "weights_per_gpu",
        assumptions={"tp": 8, "weight_precision": "fp16"},
    ),
    c(
        "switch_to_int8",
        (
            "I'll serve FP16 weights with 8-way TP. Each GPU holds 43.75 GB of weights.",
            "Let's switch to INT8 weights. Each GPU then holds 21.875 GB of weights.",
            "Say batch 16 with 4K context. The KV cache is 309 GB in total.",
        ),
        21.875,
        "GB",
        "weights_per_gpu",
        assumptions={"tp": 8, "weight_precision": "int8"},
    ),
    c(
        "say_batch_16_with_4k",
        (
            "I'll serve FP16 weights with 8-way TP. Each GPU holds 43.75 GB of weights.",
            "Let's switch to INT8 weights. Each GPU then holds 21.875 GB of weights.",
            "Say batch 16 with 4K context. The KV cache is 309 GB in total.",
        ),
        309,
        "GB",
        "kv_total",
        assumptions={"tp": 8, "weight_precision": "int8", "batch": 16, "context": 4096},
    ),
    c(
        "mentioned_precision_holds_for_its_turn",
        ("INT4: 175B × 0.5 bytes = 87.5 GB total.", "Each GPU holds 43.75 GB of weights."),
        43.75,
        "GB",
        "weights_per_gpu",
        absent=("weight_precision",),
    ),
    c(
        "precision_binds_to_its_number",
        "In FP32 the weights would be 700 GB, so FP16 is 350 GB.",
        700,
        "GB",
        "weights_total",
        assumptions={"weight_precision": "fp32"},
        alternatives=("weights_per_gpu",),
    ),
    c(
        "kv_precision_not_weights",
        "With an FP8 KV cache it halves to about 19.3 GB per GPU.",
        19.3,
        "GB",
        "kv_per_gpu",
        approx=True,
        assumptions={"kv_precision": "fp8"},
        absent=("weight_precision",),
    ),
    c(
        "prompt_tokens_are_not_context",
        "Prefill: 2 x 175B x 1K tokens = 358 TFLOP for a typical prompt.",
        358,
        "TFLOP",
        "prefill_flops",
        absent=("context",),
        expression="2 x 175B x 1K tokens",
    ),
    # --- scope: per GPU vs total, per token vs per sequence ----------------------------------------------
    c(
        "kv_total",
        "Total KV for 32 sequences of 2K is ~309 GB, so ~38.7 GB per GPU.",
        309,
        "GB",
        "kv_total",
        approx=True,
        assumptions={"batch": 32, "context": 2048},
    ),
    c(
        "kv_per_gpu",
        "Total KV for 32 sequences of 2K is ~309 GB, so ~38.7 GB per GPU.",
        38.7,
        "GB",
        "kv_per_gpu",
        approx=True,
        assumptions={"batch": 32, "context": 2048},
    ),
    c(
        "kv_per_token_per_gpu",
        "KV per token per GPU is 589,824 bytes with TP8.",
        589_824,
        "B",
        "kv_per_token_per_gpu",
        assumptions={"tp": 8},
        alternatives=("kv_per_token",),
    ),
    c("kv_per_sequence", "A full 2K sequence is 9.66 GB of KV cache.", 9.66, "GB", "kv_per_sequence"),
    c("kv_block", "A 16-token block of KV is 9.4 MB per GPU.", 9.4, "MB", "kv_block_per_gpu"),
    c(
        "kv_scope_carries_down_a_list",
        "Per GPU with 8-way TP: 350/8 = 43.75 GB\nKV cache (32 seqs, 2K ctx): ~8 GB",
        8,
        "GB",
        "kv_per_gpu",
        approx=True,
        alternatives=("kv_total",),
    ),
    c(
        "one_gpu_belongs_to_the_80GB",
        "That's more than the 80 GB on one GPU, so INT4 makes it 87.5 GB.",
        87.5,
        "GB",
        "weights_total",
        alternatives=("weights_per_gpu",),
    ),
    c(
        "kv_multiplied_operand_is_per_token",
        "The KV cache is 4.72 MB x 2048 x 32 = 309 GB.",
        4.72,
        "MB",
        "kv_per_token",
        operand=True,
        alternatives=("kv_per_sequence", "kv_per_token_per_gpu"),
    ),
    # --- per token vs per step, all-reduce vs hand-off ---------------------------------------------------
    c("per_step_volume", "The TP traffic is 113 MB per step, about 7 MB per token.", 113, "MB", "tp_volume_per_step"),
    c(
        "per_token_volume",
        "The TP traffic is 113 MB per step, about 7 MB per token.",
        7,
        "MB",
        "tp_volume_per_token",
        approx=True,
    ),
    c(
        "rubric_per_token_label",
        "TP all-reduce per layer:\n- 2 per layer: 1.18 MB\n- 96 layers: 113 MB per token",
        113,
        "MB",
        "tp_volume_per_token",
    ),
    c(
        "per_layer",
        "TP all-reduce per layer:\n- 2 per layer: 1.18 MB\n- 96 layers: 113 MB per token",
        1.18,
        "MB",
        "allreduce_per_layer",
    ),
    c("ring_bytes_named", "With the ring each GPU sends 590 KB per all-reduce.", 590, "KB", "allreduce_ring_bytes"),
    c("payload_named", "The all-reduce payload is 393 KB.", 393, "KB", "allreduce_message"),
    c(
        "unlabelled_allreduce_either",
        "That is ~1 MB per all-reduce.",
        1,
        "MB",
        "allreduce_message",
        approx=True,
        alternatives=("allreduce_ring_bytes",),
    ),
    c(
        "pp_handoff_time",
        "The PP hand-off takes about 16 us over InfiniBand, while the all-reduces take 0.38 ms per step at 300 GB/s.",
        16,
        "us",
        "pp_handoff_time",
        approx=True,
    ),
    c(
        "tp_time_in_same_sentence",
        "The PP hand-off takes about 16 us over InfiniBand, while the all-reduces take 0.38 ms per step at 300 GB/s.",
        0.38,
        "ms",
        "tp_comm_time",
    ),
    c(
        "nvlink_rate_in_allreduce_clause",
        "The PP hand-off takes about 16 us over InfiniBand, while the all-reduces take 0.38 ms per step at 300 GB/s.",
        300,
        "GB/s",
        "nvlink_bandwidth",
    ),
    c("pp_handoff_bytes", "Hidden states: 393 KB per transfer between stages.", 393, "KB", "pp_handoff_bytes"),
    c(
        "ten_us_each_is_one_allreduce",
        "A 393 KB all-reduce is latency-bound, roughly 8 to 10 us each.",
        10,
        "us",
        "allreduce_time",
        approx=True,
    ),
    # --- latency and targets ------------------------------------------------------------------------------
    c("decode_latency", "I expect ~80 ms per token.", 80, "ms", "decode_latency", approx=True),
    c("latency_target", "This meets our <300ms P99 requirement.", 300, "ms", "latency_target", upper=True),
    c("ttft_target", "Time to first token should be under 2 s.", 2, "s", "ttft_target", upper=True),
    c(
        "per_stage_floor",
        "Each GPU reads its 43.75 GB of weights at 2 TB/s, that is 21.5 ms per stage.",
        21.5,
        "ms",
        "decode_latency_per_stage",
    ),
    c(
        "kv_read_time",
        "At batch 32 the KV reads add another 19 ms or so.",
        19,
        "ms",
        "kv_read_time",
        assumptions={"batch": 32},
    ),
    c(
        "prefill_time_so_about",
        "On 8 GPUs that's 0.14 s at full utilisation, so about 0.3 s in prefill practice.",
        0.3,
        "s",
        "prefill_time",
        approx=True,
    ),
    # --- memory facts and counts ----------------------------------------------------------------------
    c("fits_claimed", "Total: ~57 GB < 80 GB ✓", 57, "GB", "per_gpu_total", approx=True, fit=True),
    c("gpu_memory_after_lt", "Total: ~57 GB < 80 GB ✓", 80, "GB", "gpu_memory", upper=True),
    c("gpu_memory_has", "The A100 has 80 GB of memory.", 80, "GB", "gpu_memory"),
    c(
        "gpu_memory_room_in",
        "Each GPU holds 43.75 GB of weights, which leaves plenty of room in 80 GB.",
        80,
        "GB",
        "gpu_memory",
    ),
    c(
        "restated_in_gib",
        "The weights are 350 GB, which is about 326 GiB.",
        326,
        "GiB",
        "weights_total",
        approx=True,
        alternatives=("weights_per_gpu",),
    ),
    c(
        "restated_gpu_memory",
        "Not even in the 80 GiB that nvidia-smi reports, which is about 85.9 GB.",
        85.9,
        "GB",
        "gpu_memory",
        approx=True,
    ),
    c("heads_per_gpu", "With TP4 each GPU handles 24 heads.", 24, "count", "heads_per_gpu", assumptions={"tp": 4}),
    c("max_sequences", "Only about 26 full 2K sequences fit.", 26, "count", "max_sequences", approx=True),
    c("min_gpus", "We need at least 5 GPUs just for the weights.", 5, "count", "min_gpus"),
    c("gpu_flops", "The A100 peak is 312 TFLOPS dense.", 312, "TFLOPS", "gpu_flops"),
    c(
        "soft_wrapped_line",
        "The pipeline hand-off carries the hidden states of the batch, that is 393 KB, and over\n"
        "InfiniBand it takes about 16 us.",
        16,
        "us",
        "pp_handoff_time",
        approx=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_reading(case: Case) -> None:
    found = the(numbers(*case.turns), case.value, case.unit, case.turn)
    assert found.quantities[0] == case.quantity
    assert tuple(found.quantities[1:]) == case.alternatives
    assert (found.approx, found.lower_bound, found.upper_bound) == (case.approx, case.lower, case.upper)
    for key, value in case.assumptions.items():
        assert found.assumptions.get(key) == value, f"{key}: {found.assumptions}"
    for key in case.absent:
        assert key not in found.assumptions, f"{key} should not be in force: {found.assumptions}"
    assert found.expression == case.expression
    assert found.operand == case.operand
    assert found.claims_fit == case.fit


NOT_CLAIMS = [
    ("175B_parameters", "The model has 175B parameters."),
    ("2_bytes_per_param", "Each parameter is 2 bytes in FP16."),
    ("counts_without_units", "GPT-3 has 96 layers, 96 heads and a hidden size of 12,288."),
    ("negated", "I would not promise 10 ms per token."),
    ("availability", "99.9% availability means about 43 minutes of downtime a month."),
    ("heartbeat_interval", "Each worker heartbeats every 10 s."),
    ("a_few_hundred", "Prefill should take a few hundred milliseconds."),
    ("kv_per_layer", "Per layer the KV cache is 49 KB per token."),
    ("node_memory_8x80", "A node has 8x80 GB."),
    ("weights_reload", "Reloading the weights from NVMe takes 40 s."),
]


@pytest.mark.parametrize(("text",), [(t,) for _, t in NOT_CLAIMS], ids=[i for i, _ in NOT_CLAIMS])
def test_not_a_claim(text: str) -> None:
    assert numbers(text) == []


def test_interviewer_numbers_are_not_claims() -> None:
    t = Transcript(
        id="t",
        turns=[
            Turn(role="interviewer", content="NVLink is 600 GB/s and the weights are 350 GB."),
            Turn(role="candidate", content="Then each GPU holds 43.75 GB of weights."),
        ],
    )
    assert [(f.turn, f.value, f.unit) for f in find_numbers(t)] == [(1, 43.75, "GB")]


def test_a_figure_said_twice_in_a_turn_is_one_claim() -> None:
    found = numbers("Each GPU holds 43.75 GB of weights. Reading 43.75 GB of weights per GPU takes time.")
    assert [(f.value, f.quantities[0]) for f in found] == [(43.75, "weights_per_gpu")]


def test_an_operand_repeating_an_earlier_figure_is_not_a_new_claim() -> None:
    found = numbers("The KV cache is 4.72 MB per token.", "For 32 x 2K that's 4.72 MB x 2048 x 32 = 309 GB in total.")
    assert [(f.turn, f.value, f.unit, f.quantities[0]) for f in found] == [
        (1, 4.72, "MB", "kv_per_token"),
        (3, 309, "GB", "kv_total"),
    ]


def test_a_figure_referred_back_to_keeps_its_quantity() -> None:
    found = numbers("KV per token is 4.72 MB.", "Per GPU one token costs 589,824 bytes, an eighth of the 4.72 MB.")
    assert the(found, 4.72, "MB", turn=3).quantities[0] == "kv_per_token"


def test_positions_and_quote() -> None:
    text = "Sure. Memory: 350GB FP16 / 8 GPUs = 43.75 GB per GPU."
    found = the(numbers(text), 43.75, "GB")
    assert text[found.start : found.end] == "43.75 GB"
    assert found.quote == "Memory: 350GB FP16 / 8 GPUs = 43.75 GB per GPU."
    assert found.turn == 1


def test_claims_carry_flags_for_the_checker() -> None:
    claims = extract_numeric_claims(
        transcript("The weights are 350 GB.", "That gives us 50+ GB for KV cache.", "Each GPU gets 48 GB.")
    )
    assert [(c.quantity, c.value, c.unit) for c in claims] == [
        ("weights_total", 350, "GB"),
        ("free_per_gpu", 50, "GB"),
        ("weights_per_gpu", 48, "GB"),
    ]
    assert claims[0].assumptions["_alternatives"] == "weights_per_gpu"
    assert claims[1].assumptions["_lower_bound"] == 1
    assert claims[2].assumptions["_guessed"] == 1
    assert claims[2].assumptions["_alternatives"] == "kv_per_gpu,per_gpu_total,free_per_gpu"


def test_incremental_finder_reads_like_a_full_pass() -> None:
    """The interviewer's finder reuses each turn's context; it must find exactly what a fresh pass finds."""
    from grader.loaders import load_transcript
    from grader.numbers import NumberFinder, find_numbers
    from grader.paths import TRANSCRIPTS_DIR

    t = load_transcript(TRANSCRIPTS_DIR / "changing_assumptions.yaml")
    finder = NumberFinder()
    for end in range(1, len(t.turns) + 1):
        prefix = t.model_copy(update={"turns": t.turns[:end]})
        assert finder.find(prefix) == find_numbers(prefix)
    assert finder.find(t)  # and it found something to compare


def test_a_byte_figure_after_a_bubble_sentence_is_read_not_crashed() -> None:
    t = Transcript(
        id="x",
        turns=[
            Turn(role="interviewer", content="Go"),
            Turn(
                role="candidate",
                content="The pipeline bubble with 8 micro-batches and 2 stages is (p-1)/m = 12.5%.\n\n"
                "Decode is memory bound: reading 43.75 GB per GPU at 2 TB/s takes about 22 ms per token.",
            ),
        ],
    )
    found = {f.quantities[0] for f in find_numbers(t)}
    assert {"bubble", "decode_latency"} <= found
