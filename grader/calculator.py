"""Serving arithmetic for a dense transformer on GPUs: pure functions of named inputs.

Every figure the checker compares a candidate against is derived here from model and hardware facts, never
typed in. Conventions (see shared/reference/serving-arithmetic.md):

- sizes are bytes and bandwidths bytes per second, decimal (1 GB = 1e9 B); callers convert for display;
- "per step" is one decode step of the whole batch; "per token" divides it by the batch;
- link bandwidths are what the caller passes: the scenario's NVLink figure is 600e9 (both directions added),
  300e9 per direction; the checker tries both because both are in use;
- the pipeline bubble has two conventions, (p-1)/m relative to ideal time (Megatron-LM) and (p-1)/(m+p-1) as
  a fraction of wall time (GPipe); both are provided.

`ServingConfig` gathers the inputs with the scenario's facts as defaults, and `reference()` evaluates every
named quantity for one config: the `calc` CLI prints it, and the checker compares claims with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

from grader.scenario import Scenario, default_scenario

Precision = Literal["fp32", "fp16", "bf16", "fp8", "int8", "int4"]

BYTES_PER_ELEMENT: dict[str, float] = {
    "fp32": 4.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
}

ALLREDUCES_PER_LAYER_INFERENCE = 2
"""Megatron-style TP: one all-reduce after attention, one after the MLP, per layer per forward pass."""


SMALL_ALLREDUCE_LATENCY_S = 8e-6
"""Fixed cost of one small NCCL all-reduce (kipply, llm-analysis): at decode's ~1 MB messages it, not bandwidth,
dominates: 2 x 96 all-reduces x 8 us = 1.5 ms per step against 0.19-0.38 ms of wire time."""


def bytes_per_element(precision: str) -> float:
    return BYTES_PER_ELEMENT[precision.lower()]


def dense_params(*, layers: int, hidden: int, vocab: int = 0, context: int = 0) -> float:
    """Parameters of a GPT-style dense transformer with FFN = 4 x hidden (Megatron-LM, arXiv 2104.04473):
    P = 12 l h^2 (1 + 13/(12h) + (V+s)/(12 l h)). 12 l h^2 is the attention (4h^2) and MLP (8h^2) matrices; the
    rest is biases, layer norms and the token and position embeddings. The scenario's "175B" is 173.95B of
    matrices, 174.6B in all: a candidate's 175B and 174.6B differ by 0.2%, inside every tolerance."""
    return 12 * layers * hidden**2 * (1 + 13 / (12 * hidden) + (vocab + context) / (12 * layers * hidden))


# --- weights -------------------------------------------------------------------------------------------


def weights_total_bytes(*, params: float, weight_bytes: float) -> float:
    return params * weight_bytes


def weights_per_gpu_bytes(*, params: float, weight_bytes: float, tp: int, pp: int) -> float:
    """Each GPU holds 1/tp of each layer of 1/pp of the layers: weights divide by tp x pp, not by tp alone."""
    return weights_total_bytes(params=params, weight_bytes=weight_bytes) / (tp * pp)


# --- KV cache ------------------------------------------------------------------------------------------


def kv_bytes_per_token(*, layers: int, kv_heads: int, head_dim: int, kv_bytes: float) -> float:
    """K and V (the factor 2) for every layer. With MHA kv_heads x head_dim equals the hidden size."""
    return 2 * layers * kv_heads * head_dim * kv_bytes


def kv_bytes_per_sequence(*, layers: int, kv_heads: int, head_dim: int, kv_bytes: float, seq_len: int) -> float:
    return kv_bytes_per_token(layers=layers, kv_heads=kv_heads, head_dim=head_dim, kv_bytes=kv_bytes) * seq_len


def kv_total_bytes(*, layers: int, kv_heads: int, head_dim: int, kv_bytes: float, seq_len: int, batch: int) -> float:
    per_seq = kv_bytes_per_sequence(
        layers=layers, kv_heads=kv_heads, head_dim=head_dim, kv_bytes=kv_bytes, seq_len=seq_len
    )
    return per_seq * batch


def kv_heads_per_gpu(*, kv_heads: int, tp: int) -> float:
    """KV heads split across the TP group; when there are fewer KV heads than GPUs they are replicated (vLLM)."""
    return max(1.0, kv_heads / tp)


def kv_bytes_per_token_per_gpu(
    *, layers: int, kv_heads: int, head_dim: int, kv_bytes: float, tp: int, pp: int
) -> float:
    heads = kv_heads_per_gpu(kv_heads=kv_heads, tp=tp)
    return 2 * (layers / pp) * heads * head_dim * kv_bytes


def kv_per_gpu_bytes(
    *, layers: int, kv_heads: int, head_dim: int, kv_bytes: float, seq_len: int, batch: int, tp: int, pp: int
) -> float:
    per_tok = kv_bytes_per_token_per_gpu(
        layers=layers, kv_heads=kv_heads, head_dim=head_dim, kv_bytes=kv_bytes, tp=tp, pp=pp
    )
    return per_tok * seq_len * batch


# --- activations and the per-GPU budget ---------------------------------------------------------------


def activation_bytes_estimate(*, batch: int, seq_len: int, hidden: int, ffn: int, tp: int, act_bytes: float) -> float:
    """Peak transient activations per GPU in a whole-batch prefill with FlashAttention: the residual stream
    (replicated across the TP group) plus this GPU's slice of the FFN intermediate. An estimate, not a law:
    the rubric budgets ~5 GB, and anything from 0.5 to 6 GB is defensible."""
    tokens = batch * seq_len
    return tokens * (hidden + ffn / tp) * act_bytes


def per_gpu_total_bytes(*, weights: float, kv: float, activations: float, overhead: float = 0.0) -> float:
    return weights + kv + activations + overhead


def fits(*, total_bytes: float, gpu_memory_bytes: float) -> bool:
    return total_bytes <= gpu_memory_bytes


def max_tokens_in_kv(
    *, gpu_memory_bytes: float, weights_per_gpu: float, activations: float, overhead: float, kv_per_token_per_gpu: float
) -> int:
    """Most tokens (summed over concurrent sequences) whose KV fits beside the weights on each GPU."""
    free = gpu_memory_bytes - weights_per_gpu - activations - overhead
    return max(0, math.floor(free / kv_per_token_per_gpu))


def heads_per_gpu(*, heads: int, tp: int) -> float:
    return heads / tp


def kv_block_bytes_per_gpu(*, kv_per_token_per_gpu: float, block_tokens: int = 16) -> float:
    """One paged-KV block on one GPU (vLLM's `get_cache_block_size`, 16 tokens by default). A paged server
    allocates KV in whole blocks, so its capacity is counted in blocks of this size, not in bytes."""
    return kv_per_token_per_gpu * block_tokens


def vllm_num_gpu_blocks(
    *, gpu_memory_bytes: float, peak_memory_bytes: float, block_bytes: float, gpu_memory_utilization: float = 0.9
) -> int:
    """KV blocks vLLM allocates per GPU (`determine_num_available_blocks`, v0.5/0.6): the share of memory it may
    use, minus the profiled peak (weights + activations), in whole blocks. The realistic capacity figure: about
    26 full 2K sequences for the scenario, where the idealised byte count says 30-35."""
    return max(0, math.floor((gpu_memory_bytes * gpu_memory_utilization - peak_memory_bytes) // block_bytes))


# --- communication -------------------------------------------------------------------------------------


def allreduce_message_bytes(*, hidden: int, batch: int, act_bytes: float, tokens_per_sequence: int = 1) -> float:
    """The payload S of one TP all-reduce: the layer output for every token in flight (1 per sequence in decode)."""
    return hidden * batch * tokens_per_sequence * act_bytes


def ring_allreduce_factor(*, n: int) -> float:
    """Bytes each GPU sends in a ring all-reduce, as a multiple of the payload: 2(n-1)/n (NCCL busbw)."""
    return 2 * (n - 1) / n


def ring_allreduce_bytes_per_gpu(*, message_bytes: float, n: int) -> float:
    return message_bytes * ring_allreduce_factor(n=n)


def tp_volume_per_step_bytes(
    *,
    layers: int,
    message_bytes: float,
    tp: int,
    pp: int = 1,
    per_gpu: bool = True,
    allreduces_per_layer: int = ALLREDUCES_PER_LAYER_INFERENCE,
) -> float:
    """Bytes one GPU sends for TP all-reduces in one decode step, over all layers of the model.

    With pipeline stages each GPU only runs layers/pp, but the step still crosses every layer in sequence, so
    the time on the critical path counts all layers; this returns the whole-model figure (pp kept for callers
    that want per-stage volume via `layers/pp`)."""
    del pp  # documented above: the critical path crosses every layer whatever the stage count
    per_ar = ring_allreduce_bytes_per_gpu(message_bytes=message_bytes, n=tp) if per_gpu else message_bytes
    return per_ar * allreduces_per_layer * layers


def transfer_time_s(*, nbytes: float, bandwidth: float, latency_s: float = 0.0, count: int = 1) -> float:
    """Bandwidth time plus an optional per-message latency (about 8 us per small NCCL all-reduce)."""
    return nbytes / bandwidth + latency_s * count


def pp_handoff_bytes(*, hidden: int, batch: int, act_bytes: float) -> float:
    """Hidden states passed from one pipeline stage to the next, per decode step."""
    return hidden * batch * act_bytes


# --- pipeline bubble ----------------------------------------------------------------------------------


def bubble_relative(*, pp: int, micro_batches: int) -> float:
    """(p-1)/m: bubble time relative to ideal compute time (Megatron-LM)."""
    return (pp - 1) / micro_batches


def bubble_fraction_of_wall(*, pp: int, micro_batches: int) -> float:
    """(p-1)/(m+p-1): the share of wall time the pipeline idles (GPipe)."""
    return (pp - 1) / (micro_batches + pp - 1)


# --- latency and compute ------------------------------------------------------------------------------


def decode_step_floor_s(
    *, weight_bytes_total: float, hbm_bandwidth: float, tp: int, kv_bytes_read: float = 0.0
) -> float:
    """Memory-bound lower bound of one decode step: every weight (and, optionally, every cached KV byte) is
    read from HBM once. The tp GPUs of a stage read in parallel; pp stages run one after another, so the
    stage count cancels: W/pp per stage over tp GPUs, times pp stages, is W/tp."""
    return (weight_bytes_total + kv_bytes_read) / (tp * hbm_bandwidth)


def roofline_ridge_flops_per_byte(*, peak_flops: float, hbm_bandwidth: float) -> float:
    """Arithmetic intensity at which compute time equals HBM time (153 FLOP/B on an A100). A decode step does
    2 FLOPs per weight per sequence on weights read once, so with FP16 weights its intensity is about the batch:
    decode stays memory-bound, and the HBM floor stays the right bound, until the batch nears the ridge."""
    return peak_flops / hbm_bandwidth


def compute_bound_batch(*, peak_flops: float, hbm_bandwidth: float, weight_bytes: float) -> float:
    """Decode batch at which the step turns compute-bound: 2 x batch FLOPs per weight of `weight_bytes` bytes
    reaches the ridge. 153 sequences with FP16 weights, half that with INT8 (fewer bytes per FLOP)."""
    return roofline_ridge_flops_per_byte(peak_flops=peak_flops, hbm_bandwidth=hbm_bandwidth) * weight_bytes / 2


def attention_flops_per_token(*, layers: int, hidden: int, seq_len: int) -> float:
    """QK^T and AV against a context of seq_len: 2 matmuls x 2 FLOPs x s x d per layer (non-causal; a causal
    prefill averages half). 9.7 GFLOP at 2K beside 2P = 350 GFLOP: why `prefill_flops` leaves it out."""
    return 4 * seq_len * hidden * layers


def prefill_flops(*, params: float, tokens: int) -> float:
    """2 FLOPs per parameter per token for a forward pass (attention's 4*s*d*L is second order at 2K)."""
    return 2 * params * tokens


def compute_time_s(*, flops: float, n_gpus: int, peak_flops: float, utilisation: float = 1.0) -> float:
    return flops / (n_gpus * peak_flops * utilisation)


def min_gpus_for_weights(*, weight_bytes_total: float, gpu_memory_bytes: float) -> int:
    return math.ceil(weight_bytes_total / gpu_memory_bytes)


# --- one config, every quantity -----------------------------------------------------------------------


class ServingConfig(BaseModel):
    """Named inputs of the arithmetic. `from_scenario()` fills them from the scenario's facts; a candidate's
    stated assumptions override single fields (INT8 weights, 4K context, batch 16 ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    params: PositiveFloat
    layers: PositiveInt
    hidden: PositiveInt
    heads: PositiveInt
    kv_heads: PositiveInt
    head_dim: PositiveInt
    ffn: PositiveInt
    weight_precision: Precision = "fp16"
    kv_precision: Precision = "fp16"
    activation_precision: Precision = "fp16"
    tp: PositiveInt = 8
    pp: PositiveInt = 1
    dp: PositiveInt = 1
    batch: PositiveInt = 32
    context: PositiveInt = 2048
    comm_batch: PositiveInt = Field(16, description="sequences per decode step in the all-reduce example")
    micro_batches: PositiveInt = 8
    gpu_memory_bytes: PositiveFloat
    hbm_bandwidth: PositiveFloat
    fp16_flops: PositiveFloat
    link_bandwidth: PositiveFloat = Field(description="TP link, as the scenario states it (NVLink 600e9)")
    link_bandwidth_per_direction: PositiveFloat
    pp_link_bandwidth: PositiveFloat = Field(description="link between pipeline stages")
    activation_bytes: float = Field(5e9, ge=0, description="the rubric's ~5 GB activation budget per GPU")
    prefill_tokens: PositiveInt = 2048
    utilisation: float = Field(1.0, gt=0, le=1)
    nodes: PositiveInt = 4
    gpus_per_node: PositiveInt = 8
    ib_bandwidth: PositiveFloat = Field(25e9, description="InfiniBand HDR per GPU: 200 Gb/s = 25 GB/s")
    pcie_bandwidth: PositiveFloat = Field(32e9, description="PCIe Gen4 x16, per direction")
    allreduce_latency_s: PositiveFloat = Field(8e-6, description="fixed cost of one small NCCL all-reduce")
    block_tokens: PositiveInt = Field(16, description="tokens per paged-KV block (vLLM's default)")
    gpus_in_view: int | None = Field(None, ge=1, description="GPUs a sentence counts ('5 A100s give 400 GB')")
    link: Literal["nvlink", "ib", "pcie"] = Field("nvlink", description="the link the TP group's traffic crosses")
    stated_activation_bytes: float | None = Field(
        None, ge=0, description="the candidate's own activation budget per GPU, when they stated one"
    )

    @classmethod
    def from_scenario(cls, scenario: Scenario | None = None, **overrides: object) -> ServingConfig:
        s = scenario or default_scenario()
        m, h = s.model, s.hardware
        base: dict[str, object] = dict(
            params=m.params,
            layers=m.layers,
            hidden=m.hidden,
            heads=m.heads,
            kv_heads=m.kv_heads,
            head_dim=m.head_dim,
            ffn=m.ffn,
            weight_precision=m.weight_precision,
            context=m.max_context,
            batch=s.workload.max_concurrent_sequences,
            gpu_memory_bytes=h.gpu_memory_bytes,
            hbm_bandwidth=h.hbm_bandwidth,
            fp16_flops=h.fp16_flops,
            link_bandwidth=h.nvlink_bandwidth,
            link_bandwidth_per_direction=h.nvlink_bandwidth_per_direction,
            pp_link_bandwidth=h.nvlink_bandwidth,
            tp=h.gpus_per_node,
            nodes=h.nodes,
            gpus_per_node=h.gpus_per_node,
            ib_bandwidth=h.infiniband_bandwidth,
            pcie_bandwidth=h.pcie_bandwidth,
        )
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)

    @property
    def gpus(self) -> int:
        return self.tp * self.pp


@dataclass(frozen=True)
class Quantity:
    """One computed figure: `value` in base units (B, B/s, s, count, fraction) and how it was derived."""

    name: str
    label: str
    value: float
    unit: Literal["B", "B/s", "s", "count", "fraction", "FLOP", "bool"]
    formula: str


def reference(cfg: ServingConfig) -> dict[str, Quantity]:
    """Every quantity the checker knows, for one configuration, in a fixed order (the `calc` table's)."""
    wb = bytes_per_element(cfg.weight_precision)
    kb = bytes_per_element(cfg.kv_precision)
    ab = bytes_per_element(cfg.activation_precision)
    kv_shape = dict(layers=cfg.layers, kv_heads=cfg.kv_heads, head_dim=cfg.head_dim, kv_bytes=kb)

    w_total = weights_total_bytes(params=cfg.params, weight_bytes=wb)
    w_gpu = weights_per_gpu_bytes(params=cfg.params, weight_bytes=wb, tp=cfg.tp, pp=cfg.pp)
    kv_tok = kv_bytes_per_token(**kv_shape)
    kv_seq = kv_bytes_per_sequence(**kv_shape, seq_len=cfg.context)
    kv_all = kv_total_bytes(**kv_shape, seq_len=cfg.context, batch=cfg.batch)
    kv_tok_gpu = kv_bytes_per_token_per_gpu(**kv_shape, tp=cfg.tp, pp=cfg.pp)
    kv_gpu = kv_per_gpu_bytes(**kv_shape, seq_len=cfg.context, batch=cfg.batch, tp=cfg.tp, pp=cfg.pp)
    total_gpu = per_gpu_total_bytes(weights=w_gpu, kv=kv_gpu, activations=cfg.activation_bytes)
    max_tok = max_tokens_in_kv(
        gpu_memory_bytes=cfg.gpu_memory_bytes,
        weights_per_gpu=w_gpu,
        activations=cfg.activation_bytes,
        overhead=0.0,
        kv_per_token_per_gpu=kv_tok_gpu,
    )
    msg = allreduce_message_bytes(hidden=cfg.hidden, batch=cfg.comm_batch, act_bytes=ab)
    ring = ring_allreduce_bytes_per_gpu(message_bytes=msg, n=cfg.tp)
    step_vol = tp_volume_per_step_bytes(layers=cfg.layers, message_bytes=msg, tp=cfg.tp)
    handoff = pp_handoff_bytes(hidden=cfg.hidden, batch=cfg.comm_batch, act_bytes=ab)
    floor = decode_step_floor_s(weight_bytes_total=w_total, hbm_bandwidth=cfg.hbm_bandwidth, tp=cfg.tp)
    floor_kv = decode_step_floor_s(
        weight_bytes_total=w_total, hbm_bandwidth=cfg.hbm_bandwidth, tp=cfg.tp, kv_bytes_read=kv_all
    )
    p_flops = prefill_flops(params=cfg.params, tokens=cfg.prefill_tokens)
    tp_pp = f"tp={cfg.tp} x pp={cfg.pp}"
    q = [
        Quantity("weights_total", "Weights, total", w_total, "B", f"params x {wb:g} B ({cfg.weight_precision})"),
        Quantity("weights_per_gpu", "Weights per GPU", w_gpu, "B", f"weights / ({tp_pp})"),
        Quantity(
            "min_gpus",
            "GPUs needed for weights alone",
            min_gpus_for_weights(weight_bytes_total=w_total, gpu_memory_bytes=cfg.gpu_memory_bytes),
            "count",
            "ceil(weights / GPU memory)",
        ),
        Quantity(
            "kv_per_token",
            "KV cache per token",
            kv_tok,
            "B",
            f"2 (K,V) x {cfg.layers} layers x {cfg.kv_heads} kv heads x {cfg.head_dim} x {kb:g} B",
        ),
        Quantity(
            "kv_per_sequence",
            f"KV cache per {cfg.context}-token sequence",
            kv_seq,
            "B",
            f"KV per token x {cfg.context}",
        ),
        Quantity(
            "kv_total", f"KV cache, {cfg.batch} seqs x {cfg.context}", kv_all, "B", f"KV per sequence x {cfg.batch}"
        ),
        Quantity(
            "kv_per_token_per_gpu",
            "KV cache per token per GPU",
            kv_tok_gpu,
            "B",
            f"KV per token / ({tp_pp})"
            if cfg.kv_heads >= cfg.tp
            else f"{cfg.kv_heads} kv heads < tp: 1 head per GPU (replicated), layers / pp",
        ),
        Quantity("kv_per_gpu", "KV cache per GPU", kv_gpu, "B", f"KV per token per GPU x {cfg.context} x {cfg.batch}"),
        Quantity(
            "kv_block_per_gpu",
            "Paged-KV block (16 tokens) per GPU",
            kv_block_bytes_per_gpu(kv_per_token_per_gpu=kv_tok_gpu),
            "B",
            "KV per token per GPU x 16 (vLLM block)",
        ),
        Quantity(
            "activations",
            "Activations per GPU (budget)",
            cfg.activation_bytes,
            "B",
            "assumed; prefill estimate "
            + f"{activation_bytes_estimate(batch=cfg.batch, seq_len=cfg.context, hidden=cfg.hidden, ffn=cfg.ffn, tp=cfg.tp, act_bytes=ab) / 1e9:.2f} GB",
        ),
        Quantity(
            "free_per_gpu",
            "Free memory per GPU after weights",
            cfg.gpu_memory_bytes - w_gpu,
            "B",
            "GPU memory - weights/GPU",
        ),
        Quantity(
            "per_gpu_total",
            "Per-GPU total (weights + KV + activations)",
            total_gpu,
            "B",
            "weights/GPU + KV/GPU + activations",
        ),
        Quantity(
            "fits",
            f"Fits in {cfg.gpu_memory_bytes / 1e9:g} GB",
            float(fits(total_bytes=total_gpu, gpu_memory_bytes=cfg.gpu_memory_bytes)),
            "bool",
            "per-GPU total <= GPU memory",
        ),
        Quantity(
            "max_tokens",
            "Most concurrent tokens whose KV fits",
            max_tok,
            "count",
            "(GPU memory - weights/GPU - activations) / KV per token per GPU",
        ),
        Quantity(
            "max_sequences",
            f"Most concurrent {cfg.context}-token sequences",
            max_tok / cfg.context,
            "count",
            f"max tokens / {cfg.context}",
        ),
        Quantity(
            "heads_per_gpu",
            "Attention heads per GPU",
            heads_per_gpu(heads=cfg.heads, tp=cfg.tp),
            "count",
            f"{cfg.heads} / tp",
        ),
        Quantity(
            "allreduce_message",
            f"TP all-reduce payload (batch {cfg.comm_batch}, decode)",
            msg,
            "B",
            f"hidden x batch x {ab:g} B",
        ),
        Quantity(
            "allreduce_ring_bytes",
            f"Ring all-reduce bytes per GPU ({cfg.tp}-way)",
            ring,
            "B",
            f"payload x 2(n-1)/n = x{ring_allreduce_factor(n=cfg.tp):g}",
        ),
        Quantity(
            "allreduce_per_layer",
            "TP bytes per GPU per layer (2 all-reduces)",
            ring * ALLREDUCES_PER_LAYER_INFERENCE,
            "B",
            "ring bytes x 2",
        ),
        Quantity(
            "allreduces_per_step",
            "All-reduces per decode step",
            ALLREDUCES_PER_LAYER_INFERENCE * cfg.layers,
            "count",
            f"2 x {cfg.layers} layers",
        ),
        Quantity(
            "tp_volume_per_step", "TP traffic per GPU per decode step", step_vol, "B", f"per layer x {cfg.layers}"
        ),
        Quantity(
            "tp_volume_per_token",
            "TP traffic per GPU per token",
            step_vol / cfg.comm_batch,
            "B",
            f"per step / batch {cfg.comm_batch}",
        ),
        Quantity(
            "tp_comm_time",
            "TP all-reduce time per decode step",
            transfer_time_s(nbytes=step_vol, bandwidth=cfg.link_bandwidth),
            "s",
            f"volume / {cfg.link_bandwidth / 1e9:g} GB/s",
        ),
        Quantity("pp_handoff_bytes", "PP hand-off per stage boundary per step", handoff, "B", "hidden x batch x bytes"),
        Quantity(
            "pp_handoff_time",
            "PP hand-off time",
            transfer_time_s(nbytes=handoff, bandwidth=cfg.pp_link_bandwidth),
            "s",
            f"hand-off / {cfg.pp_link_bandwidth / 1e9:g} GB/s",
        ),
        Quantity(
            "bubble",
            f"Pipeline bubble, p={cfg.pp}, m={cfg.micro_batches}",
            bubble_fraction_of_wall(pp=cfg.pp, micro_batches=cfg.micro_batches),
            "fraction",
            f"(p-1)/(m+p-1); (p-1)/m = {bubble_relative(pp=cfg.pp, micro_batches=cfg.micro_batches):.3f}",
        ),
        Quantity(
            "decode_latency",
            "Decode step floor (weights from HBM)",
            floor,
            "s",
            f"weights / (tp x {cfg.hbm_bandwidth / 1e12:g} TB/s); pp stages run in sequence",
        ),
        Quantity(
            "decode_latency_with_kv",
            f"Decode step floor incl. KV reads (batch {cfg.batch})",
            floor_kv,
            "s",
            "(weights + KV total) / (tp x HBM bandwidth)",
        ),
        Quantity(
            "compute_bound_batch",
            "Decode batch where compute catches up (roofline ridge)",
            compute_bound_batch(peak_flops=cfg.fp16_flops, hbm_bandwidth=cfg.hbm_bandwidth, weight_bytes=wb),
            "count",
            f"ridge {cfg.fp16_flops / 1e12:g} TFLOPS / {cfg.hbm_bandwidth / 1e12:g} TB/s (FLOP/B)"
            f" x {wb:g} B per weight / 2 FLOP per weight",
        ),
        Quantity(
            "prefill_flops", f"Prefill FLOPs, {cfg.prefill_tokens} tokens", p_flops, "FLOP", "2 x params x tokens"
        ),
        Quantity(
            "prefill_time",
            f"Prefill time on {cfg.gpus} GPUs at {cfg.utilisation:.0%}",
            compute_time_s(flops=p_flops, n_gpus=cfg.gpus, peak_flops=cfg.fp16_flops, utilisation=cfg.utilisation),
            "s",
            f"FLOPs / ({cfg.gpus} x {cfg.fp16_flops / 1e12:g} TFLOPS x utilisation)",
        ),
    ]
    return {x.name: x for x in q}
