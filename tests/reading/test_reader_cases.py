"""Sentence-level reading and checking: what a figure states and the verdict it gets, for the ways candidates
write and say numbers (units glued on, spoken, bounds, written arithmetic, self-corrections, labels, tables),
and the configuration in force around it (hypotheticals, switches, a precision bound to its number).

Each case is a short candidate answer and the one figure it checks, found by value and unit. The expected
quantity and verdict are an expert's reading of the sentence, not the grader's output: a case that changes is a
reading that changed."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from grader.checker import check_claims
from grader.claims import Check, NumericClaim
from grader.reading.reader import read_numbers
from grader.transcript import Transcript, Turn


def transcript(*candidate_turns: str) -> Transcript:
    """An interview with the given candidate turns, each answered by a neutral interviewer prompt."""
    turns = [Turn(role="interviewer", content="Design a system to serve a 175B model on 8x A100 80GB nodes.")]
    for i, text in enumerate(candidate_turns):
        if i:
            turns.append(Turn(role="interviewer", content="Go on."))
        turns.append(Turn(role="candidate", content=text))
    return Transcript(id="t", turns=turns)


@dataclass
class Case:
    id: str
    turns: tuple[str, ...]
    value: float
    unit: str
    quantity: str | None
    verdict: str
    approx: bool = False
    bound: str | None = None
    assumptions: dict = field(default_factory=dict)  # stated with the figure, with these values
    turn: int | None = None  # the transcript turn of the figure, when several turns say it


def c(
    id: str, text: str | tuple[str, ...], value: float, unit: str, quantity: str | None, verdict: str, **kw: object
) -> Case:
    return Case(id, (text,) if isinstance(text, str) else text, value, unit, quantity, verdict, **kw)  # type: ignore[arg-type]


CASES = [
    c(
        "43.75GB_attached",
        "Per GPU with 8-way TP the weights are 43.75GB.",
        43.75,
        "GB",
        "weights_per_gpu",
        "correct",
        assumptions={"tp": 8},
    ),
    c("approx_44_gigs", "That's ~44 gigs of weights per GPU.", 44, "GB", "weights_per_gpu", "correct", approx=True),
    c(
        "350_gigabytes",
        "In FP16 that's 350 gigabytes of weights.",
        350,
        "GB",
        "weights_total",
        "correct",
        assumptions={"weight_precision": "fp16"},
    ),
    c("0.19ms_allreduce", "The TP all-reduces take 0.19ms per decode step.", 0.19, "ms", "tp_comm_time", "correct"),
    c("200_Gb/s_ib", "InfiniBand HDR is 200 Gb/s per GPU.", 200, "Gb/s", "ib_bandwidth", "correct"),
    c("200_Gbps_nic", "Each HDR NIC does 200 Gbps.", 200, "Gb/s", "ib_bandwidth", "correct"),
    c("25_GB/s_ib", "Between nodes that is 25 GB/s per GPU over InfiniBand.", 25, "GB/s", "ib_bandwidth", "correct"),
    c("2_TB/s_hbm", "HBM bandwidth is 2 TB/s per GPU.", 2, "TB/s", "hbm_bandwidth", "correct"),
    c(
        "eleven_percent_bubble",
        "With 2 pipeline stages and 8 micro-batches the bubble is eleven percent.",
        11,
        "%",
        "bubble",
        "correct",
        assumptions={"pp": 2, "micro_batches": 8},
    ),
    c("4.5_MiB_kv_token", "The KV cache per token is 4.5 MiB.", 4.5, "MiB", "kv_per_token", "correct"),
    c(
        "0.65_μs_greek_mu",
        "The hand-off between pipeline stages takes 0.65 μs over NVLink.",
        0.65,
        "us",
        "pp_handoff_time",
        "correct",
    ),
    c(
        "0.65_µs_micro_sign",
        "Passing the hidden states to the next stage takes 0.65 µs.",
        0.65,
        "us",
        "pp_handoff_time",
        "correct",
    ),
    c(
        "1.5_us_one_allreduce",
        "The latency of one small all-reduce is about 1.5 us.",
        1.5,
        "us",
        "allreduce_time",
        "correct",
        approx=True,
    ),
    c("326_GiB", "That is 326 GiB of weights.", 326, "GiB", "weights_total", "correct"),
    c(
        "word_number_gigabytes",
        "Roughly forty-four gigabytes of weights per GPU.",
        44,
        "GB",
        "weights_per_gpu",
        "correct",
        approx=True,
    ),
    c("350_Gb_unit_slip_kept_as_bits", "The weights are 350 Gb in FP16.", 350, "Gb", "weights_total", "incorrect"),
    c("operand_350GB", "Memory: 350GB FP16 / 8 GPUs = 43.75 GB per GPU.", 350, "GB", "weights_total", "correct"),
    c("result_43.75", "Memory: 350GB FP16 / 8 GPUs = 43.75 GB per GPU.", 43.75, "GB", "weights_per_gpu", "correct"),
    c(
        "result_approx_11",
        "INT4: 175B × 0.5 bytes = 87.5 GB total.\nPer GPU: 87.5/8 = ~11 GB",
        11,
        "GB",
        "weights_per_gpu",
        "correct",
        approx=True,
        assumptions={"weight_precision": "int4"},
    ),
    c(
        "result_kv_bytes",
        "KV cache: 2 x 96 x 12,288 x 2 bytes = 4,718,592 bytes per token.",
        4718592,
        "B",
        "kv_per_token",
        "correct",
    ),
    c(
        "result_premise_wrong",
        "With 2-way PP × 4-way TP, each GPU holds 175GB/2/4 = 21.875 GB of weights.",
        21.875,
        "GB",
        "weights_per_gpu",
        "incorrect",
        assumptions={"tp": 4, "pp": 2},
    ),
    c(
        "operand_175GB_is_a_total",
        "With 2-way PP × 4-way TP, each GPU holds 175GB/2/4 = 21.875 GB of weights.",
        175,
        "GB",
        "weights_total",
        "incorrect",
    ),
    c("slip_350/8=48", "Per GPU: 350/8 = 48 GB of weights.", 48, "GB", "weights_per_gpu", "incorrect"),
    c(
        "prefill_flops",
        "Prefill of a 2K prompt: 2 x 175B x 2048 = 717 TFLOP.",
        717,
        "TFLOP",
        "prefill_flops",
        "correct",
    ),
    c(
        "comm_time_expression",
        "With TP4 x PP2 the TP all-reduce traffic is 113 MB per step.\nTime: 113 MB / 600 GB/s = 0.19 ms per token",
        0.19,
        "ms",
        "tp_comm_wire_time",
        "correct",
    ),
    c(
        "sum_is_a_total",
        "43.75 + 38.65 + 5 = 87.4 GB per GPU, which does not fit in 80 GB.",
        87.4,
        "GB",
        "per_gpu_total",
        "correct",
    ),
    c("minus_is_free", "That leaves 80 - 43.75 = 36.25 GB per GPU.", 36.25, "GB", "free_after_weights", "correct"),
    c(
        "50+_lower_bound",
        "With TP4 x PP2 that is giving us 50+ GB for KV cache.",
        50,
        "GB",
        "free_after_weights",
        "incorrect",
        bound="lower",
    ),
    c("over_lower_bound", "That leaves over 36 GB free per GPU.", 36, "GB", "free_after_weights", "correct"),
    c(
        "under_upper_bound",
        "The hand-off takes under 20 us over InfiniBand.",
        20,
        "us",
        "pp_handoff_time",
        "correct",
        bound="upper",
    ),
    c(
        "less_than_is_not_approx",
        "The all-reduces cost less than 2 ms per step.",
        2,
        "ms",
        "tp_comm_time",
        "correct",
        bound="upper",
    ),
    c(
        "pure_tp_is_hypothetical",
        ("I'll use 4-way TP and 2-way PP.", "With pure TP each GPU would hold 43.75 GB of weights."),
        43.75,
        "GB",
        "weights_per_gpu",
        "correct",
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
        "correct",
        assumptions={"tp": 4, "pp": 2},
        turn=5,
    ),
    c(
        "instead_of_keeps_the_decision",
        "I'd use TP4 x PP2 instead of pure TP8; each GPU holds 43.75 GB of weights.",
        43.75,
        "GB",
        "weights_per_gpu",
        "correct",
        assumptions={"tp": 4, "pp": 2},
    ),
    c(
        "if_clause_is_hypothetical",
        ("If we used 8-way PP the bubble would be large.", "The weights are 43.75 GB per GPU."),
        43.75,
        "GB",
        "weights_per_gpu",
        "correct",
    ),
    c(
        "alternative_is_hypothetical",
        ("I'll use TP4 x PP2.", "I'd keep TP8 as the alternative to benchmark.", "The weights are 43.75 GB per GPU."),
        43.75,
        "GB",
        "weights_per_gpu",
        "correct",
        assumptions={"tp": 4, "pp": 2},
    ),
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
        "correct",
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
        "correct",
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
        "correct",
        assumptions={"tp": 8, "batch": 16, "context": 4096, "weight_precision": "int8"},
    ),
    c(
        "mentioned_precision_holds_for_its_turn",
        ("INT4: 175B × 0.5 bytes = 87.5 GB total.", "Each GPU holds 43.75 GB of weights."),
        43.75,
        "GB",
        "weights_per_gpu",
        "correct",
    ),
    c(
        "precision_binds_to_its_number",
        "In FP32 the weights would be 700 GB, so FP16 is 350 GB.",
        700,
        "GB",
        "weights_total",
        "correct",
        assumptions={"weight_precision": "fp32"},
    ),
    c(
        "kv_precision_not_weights",
        "With an FP8 KV cache it halves to about 19.3 GB per GPU.",
        19.3,
        "GB",
        "kv_per_gpu",
        "correct",
        approx=True,
        assumptions={"kv_precision": "fp8"},
    ),
    c(
        "prompt_tokens_are_not_context",
        "Prefill: 2 x 175B x 1K tokens = 358 TFLOP for a typical prompt.",
        358,
        "TFLOP",
        "prefill_flops",
        "correct",
    ),
    c(
        "kv_total",
        "Total KV for 32 sequences of 2K is ~309 GB, so ~38.7 GB per GPU.",
        309,
        "GB",
        "kv_total",
        "correct",
        approx=True,
        assumptions={"batch": 32, "context": 2048},
    ),
    c(
        "kv_per_gpu",
        "Total KV for 32 sequences of 2K is ~309 GB, so ~38.7 GB per GPU.",
        38.7,
        "GB",
        "kv_per_gpu",
        "correct",
        approx=True,
        assumptions={"batch": 32, "context": 2048},
    ),
    c(
        "kv_per_token_per_gpu",
        "KV per token per GPU is 589,824 bytes with TP8.",
        589824,
        "B",
        "kv_per_token_per_gpu",
        "correct",
        assumptions={"tp": 8},
    ),
    c("kv_per_sequence", "A full 2K sequence is 9.66 GB of KV cache.", 9.66, "GB", "kv_per_sequence", "correct"),
    c("kv_block", "A 16-token block of KV is 9.4 MB per GPU.", 9.4, "MB", "kv_per_sequence_per_gpu", "correct"),
    c(
        "kv_scope_carries_down_a_list",
        "Per GPU with 8-way TP: 350/8 = 43.75 GB\nKV cache (32 seqs, 2K ctx): ~8 GB",
        8,
        "GB",
        "kv_per_gpu",
        "incorrect",
        approx=True,
    ),
    c(
        "one_gpu_belongs_to_the_80GB",
        "That's more than the 80 GB on one GPU, so INT4 makes it 87.5 GB.",
        87.5,
        "GB",
        "weights_total",
        "correct",
    ),
    c(
        "kv_multiplied_operand_is_per_token",
        "The KV cache is 4.72 MB x 2048 x 32 = 309 GB.",
        4.72,
        "MB",
        "kv_per_token",
        "correct",
    ),
    c(
        "per_step_volume",
        "With TP4 x PP2 the TP traffic is 113 MB per step, about 7 MB per token.",
        113,
        "MB",
        "tp_volume_per_step",
        "correct",
    ),
    c(
        "per_token_volume",
        "With TP4 x PP2 the TP traffic is 113 MB per step, about 7 MB per token.",
        7,
        "MB",
        "tp_volume_per_token",
        "correct",
        approx=True,
    ),
    c(
        "rubric_per_token_label",
        "With TP4 x PP2, TP all-reduce per layer:\n- 2 per layer: 1.18 MB\n- 96 layers: 113 MB per token",
        113,
        "MB",
        "tp_volume_per_token",
        "incorrect",
    ),
    c(
        "per_layer",
        "With TP4 x PP2, TP all-reduce per layer:\n- 2 per layer: 1.18 MB\n- 96 layers: 113 MB per token",
        1.18,
        "MB",
        "allreduce_per_layer",
        "correct",
        assumptions={"tp": 4, "pp": 2},
    ),
    c(
        "ring_bytes_named",
        "With 4-way TP and the ring each GPU sends 590 KB per all-reduce.",
        590,
        "KB",
        "allreduce_ring_bytes",
        "correct",
    ),
    c("payload_named", "The all-reduce payload is 393 KB.", 393, "KB", "allreduce_message", "correct"),
    c(
        "unlabelled_allreduce_either",
        "With TP4 x PP2 that is ~1 MB per all-reduce.",
        1,
        "MB",
        "allreduce_ring_bytes",
        "correct",
        approx=True,
    ),
    c(
        "pp_handoff_time",
        "The PP hand-off takes about 16 us over InfiniBand, while the all-reduces take 0.38 ms per step at 300 GB/s.",
        16,
        "us",
        "pp_handoff_time",
        "correct",
        approx=True,
    ),
    c(
        "tp_time_in_same_sentence",
        "The PP hand-off takes about 16 us over InfiniBand, while the all-reduces take 0.38 ms per step at 300 GB/s.",
        0.38,
        "ms",
        "tp_comm_wire_time",
        "correct",
    ),
    c(
        "nvlink_rate_in_allreduce_clause",
        "The PP hand-off takes about 16 us over InfiniBand, while the all-reduces take 0.38 ms per step at 300 GB/s.",
        300,
        "GB/s",
        "nvlink_bandwidth",
        "correct",
    ),
    c(
        "pp_handoff_bytes",
        "Hidden states: 393 KB per transfer between stages.",
        393,
        "KB",
        "pp_handoff_bytes",
        "correct",
    ),
    c(
        "ten_us_each_is_one_allreduce",
        "A 393 KB all-reduce is latency-bound, roughly 8 to 10 us each.",
        10,
        "us",
        "allreduce_latency",
        "correct",
    ),
    c("decode_latency", "I expect ~80 ms per token.", 80, "ms", "decode_latency", "correct", approx=True),
    c("latency_target", "This meets our <300ms P99 requirement.", 300, "ms", "itl_target", "correct", bound="upper"),
    c("ttft_target", "Time to first token should be under 2 s.", 2, "s", "prefill_floor", "correct", bound="upper"),
    c(
        "per_stage_floor",
        "Each GPU reads its 43.75 GB of weights at 2 TB/s, that is 21.5 ms per stage.",
        21.5,
        "ms",
        "stage_floor",
        "correct",
    ),
    c(
        "kv_read_time",
        "At batch 32 the KV reads add another 19 ms or so.",
        19,
        "ms",
        "kv_read_time",
        "correct",
        approx=True,
        assumptions={"batch": 32},
    ),
    c(
        "prefill_time_so_about",
        "On 8 GPUs that's 0.14 s at full utilisation, so about 0.3 s in prefill practice.",
        0.3,
        "s",
        "ttft",
        "correct",
        approx=True,
    ),
    c("fits_claimed", "Total: ~57 GB < 80 GB ✓", 57, "GB", "weights_plus_kv_per_gpu", "incorrect", approx=True),
    c("gpu_memory_after_lt", "Total: ~57 GB < 80 GB ✓", 80, "GB", "gpu_memory", "correct", bound="upper"),
    c("gpu_memory_has", "The A100 has 80 GB of memory.", 80, "GB", "gpu_memory", "correct"),
    c(
        "gpu_memory_room_in",
        "Each GPU holds 43.75 GB of weights, which leaves plenty of room in 80 GB.",
        80,
        "GB",
        "gpu_memory",
        "correct",
    ),
    c(
        "restated_in_gib",
        "The weights are 350 GB, which is about 326 GiB.",
        326,
        "GiB",
        "weights_total",
        "correct",
        approx=True,
    ),
    c(
        "restated_gpu_memory",
        "Not even in the 80 GiB that nvidia-smi reports, which is about 85.9 GB.",
        85.9,
        "GB",
        "gpu_memory",
        "correct",
        approx=True,
    ),
    c("min_gpus", "We need at least 5 GPUs just for the weights.", 5, "count", "min_gpus", "correct", bound="lower"),
    c("gpu_flops", "The A100 peak is 312 TFLOPS dense.", 312, "TFLOPS", "gpu_flops", "correct"),
    c(
        "soft_wrapped_line",
        "The pipeline hand-off carries the hidden states of the batch, that is 393 KB, and over\nInfiniBand it takes about 16 us.",
        16,
        "us",
        "pp_handoff_time",
        "correct",
        approx=True,
    ),
    c(
        "heads_per_gpu",
        "With TP4 each GPU handles 24 heads.",
        24,
        "heads",
        "heads_per_gpu",
        "correct",
        assumptions={"tp": 4},
    ),
    c(
        "max_sequences",
        "With TP4 x PP2 only about 26 full 2K sequences fit.",
        26,
        "sequences",
        "max_sequences",
        "correct",
        approx=True,
    ),
    c(
        "target_said_as_a_budget",
        "With TP4 x PP2, with a few prompts queued the 2-second TTFT budget disappears.",
        2,
        "s",
        "ttft_target",
        "correct",
    ),
    c(
        "chunked_prefill_under_pp",
        "With TP4 x PP2 and chunked prefill, a 1K prompt takes about 0.3 s at peak.",
        0.3,
        "s",
        "ttft",  # above the chunked floor (0.287 s), inside the realistic range
        "correct",
        approx=True,
    ),
]


def the(case: Case) -> tuple[NumericClaim, Check]:
    claims = read_numbers(transcript(*case.turns))
    hits = [
        (cl, ch)
        for cl, ch in zip(claims, check_claims(claims), strict=True)
        if cl.value == case.value and cl.unit == case.unit and (case.turn is None or cl.turn == case.turn)
    ]
    assert len(hits) == 1, [(cl.value, cl.unit, cl.quantity) for cl in claims]
    return hits[0]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    claim, check = the(case)
    assert (check.quantity, check.verdict) == (case.quantity, case.verdict), check.diagnosis or check.convention
    assert (claim.approx, claim.bound) == (case.approx, case.bound)
    stated = claim.assumptions.stated()
    assert {k: stated.get(k) for k in case.assumptions} == case.assumptions
