"""Every quantity the grader knows, defined once.

The number reader ranks a figure's readings by these entries' cue tags, the checker computes their values
under the candidate's assumptions and every legitimate convention, scoring counts them in the sub-criterion
they name, the `calc` table prints them and the LLM extractor is offered their ids. Adding a quantity is one
entry here plus its golden cases in tests/data/reference_table.yaml.

Formulas call `grader.calculator`, which stays the arithmetic; an entry says which `ServingConfig` fields its
value depends on, so the checker varies only those (batch 16 or 32, NVLink 600 or 300 GB/s, 80 GB or 80 GiB).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from grader import calculator as calc
from grader.calculator import ServingConfig
from grader.quantities.model import Band, Derivation, Mistake, Quantity

GIB = 2**30
MEMORY = "memory_calculation"
BANDWIDTH = "bandwidth_calculation"
LATENCY = "memory_calculation"  # the rubric scores latency arithmetic with the memory arithmetic (2b)


# --- helpers: the calculator's functions on one config --------------------------------------------------------


def _wb(c: ServingConfig) -> float:
    return calc.bytes_per_element(c.weight_precision)


def _kb(c: ServingConfig) -> float:
    return calc.bytes_per_element(c.kv_precision)


def _ab(c: ServingConfig) -> float:
    return calc.bytes_per_element(c.activation_precision)


def weights_total(c: ServingConfig) -> float:
    return calc.weights_total_bytes(params=c.params, weight_bytes=_wb(c))


def weights_per_gpu(c: ServingConfig) -> float:
    return calc.weights_per_gpu_bytes(params=c.params, weight_bytes=_wb(c), tp=c.tp, pp=c.pp)


def _kv_shape(c: ServingConfig) -> dict[str, float]:
    return dict(layers=c.layers, kv_heads=c.kv_heads, head_dim=c.head_dim, kv_bytes=_kb(c))


def kv_per_token(c: ServingConfig) -> float:
    return calc.kv_bytes_per_token(**_kv_shape(c))  # type: ignore[arg-type]


def kv_per_token_per_gpu(c: ServingConfig) -> float:
    return calc.kv_bytes_per_token_per_gpu(**_kv_shape(c), tp=c.tp, pp=c.pp)  # type: ignore[arg-type]


def kv_total(c: ServingConfig) -> float:
    return kv_per_token(c) * c.context * c.batch


def kv_per_gpu(c: ServingConfig) -> float:
    return kv_per_token_per_gpu(c) * c.context * c.batch


def memory_as_gib(c: ServingConfig) -> float:
    """The card's label read in GiB: the A100's "80 GB" is the 80 GiB nvidia-smi reports (81,920 MiB)."""
    return c.gpu_memory_bytes / 1e9 * GIB


def _gpu_memories(c: ServingConfig) -> list[tuple[float, str]]:
    """The card's memory as decimal gigabytes and as the GiB nvidia-smi reports."""
    label = f"{c.gpu_memory_bytes / 1e9:g}"
    return [(c.gpu_memory_bytes, f"{label} GB"), (memory_as_gib(c), f"{label} GiB (nvidia-smi)")]


def _activations(c: ServingConfig) -> Band:
    """The activation budget is an assumption: anything from 0.5 to 6 GB per GPU is defensible."""
    return Band(0.5e9, 6e9, 5e9)


def _weights_plus_kv(c: ServingConfig) -> float:
    return weights_per_gpu(c) + kv_per_gpu(c)


def _per_gpu_total(c: ServingConfig) -> Band:
    """Weights + KV + activations per GPU: with the activations the candidate stated, or anything in the
    defensible band; runtime overhead (CUDA context, NCCL buffers) may be folded in, up to ~4 GB more."""
    base = _weights_plus_kv(c)
    stated = c.stated_activation_bytes
    if stated is not None:
        return Band(base + stated, base + stated + 4e9, base + stated)
    return Band(base + 0.5e9, base + 10e9, base + 5e9)


def _free_after_weights(c: ServingConfig) -> list[tuple[float, str]]:
    out = []
    for mem, label in _gpu_memories(c):
        out.append((mem - weights_per_gpu(c), f"{label} - weights"))
    return out


def _headroom(c: ServingConfig) -> list[tuple[float, str]]:
    """What is left after weights, KV and activations (negative when it does not fit)."""
    act = c.stated_activation_bytes if c.stated_activation_bytes is not None else c.activation_bytes
    return [
        (mem - _weights_plus_kv(c) - act, f"{label} - weights - KV - activations") for mem, label in _gpu_memories(c)
    ]


def _seq_capacity(c: ServingConfig) -> Band:
    """Full-context sequences whose KV fits beside the weights on every GPU: from vLLM's practice (90% of 80 GiB
    minus the profiled peak) to the idealised byte count (80 GiB, only the activations the candidate stated)."""
    per_seq = kv_per_token_per_gpu(c) * c.context
    stated = c.stated_activation_bytes or 0.0
    hi = (memory_as_gib(c) - weights_per_gpu(c) - stated) / per_seq
    lo = (0.9 * memory_as_gib(c) - weights_per_gpu(c) - max(stated, c.activation_bytes)) / per_seq
    return Band(max(0.0, math.floor(lo)), max(0.0, hi), max(0.0, (c.gpu_memory_bytes - weights_per_gpu(c)) / per_seq))


def _token_capacity(c: ServingConfig) -> Band:
    b = _seq_capacity(c)
    return Band(b.lo * c.context, b.hi * c.context, (b.typical or b.hi) * c.context)


def links(c: ServingConfig) -> list[tuple[float, str]]:
    """The link the TP group's traffic crosses, in each legitimate convention: NVLink's 600 GB/s both ways or
    300 each way; InfiniBand HDR's 25 GB/s per GPU (or a node's 8 NICs together); PCIe Gen4's 32 each way or 64."""
    if c.link == "ib":
        return [
            (c.ib_bandwidth, "InfiniBand HDR, 25 GB/s per GPU"),
            (c.ib_bandwidth * c.gpus_per_node, "8 NICs per node"),
        ]
    if c.link == "pcie":
        return [
            (c.pcie_bandwidth, "PCIe Gen4, 32 GB/s per direction"),
            (2 * c.pcie_bandwidth, "PCIe Gen4, 64 GB/s both ways"),
        ]
    return [
        (c.link_bandwidth, f"{c.link_bandwidth / 1e9:g} GB/s (both directions)"),
        (c.link_bandwidth_per_direction, f"{c.link_bandwidth_per_direction / 1e9:g} GB/s (per direction)"),
    ]


def allreduce_message(c: ServingConfig) -> float:
    return calc.allreduce_message_bytes(hidden=c.hidden, batch=c.comm_batch, act_bytes=_ab(c))


def _ring(c: ServingConfig) -> float:
    return calc.ring_allreduce_bytes_per_gpu(message_bytes=allreduce_message(c), n=c.tp)


def _per_layer(c: ServingConfig) -> list[tuple[float, str]]:
    n = calc.ALLREDUCES_PER_LAYER_INFERENCE
    return [(_ring(c) * n, "ring bytes per GPU x 2"), (allreduce_message(c) * n, "payload x 2")]


def _per_step(c: ServingConfig) -> list[tuple[float, str]]:
    n = calc.ALLREDUCES_PER_LAYER_INFERENCE
    out = [
        (_ring(c) * n * c.layers, "ring bytes per GPU, all layers"),
        (allreduce_message(c) * n * c.layers, "payload, all layers"),
    ]
    if c.pp > 1:
        out.append((_ring(c) * n * c.layers / c.pp, "ring bytes per GPU, one stage's layers"))
    return out


def _per_token_volume(c: ServingConfig) -> list[tuple[float, str]]:
    return [(v / c.comm_batch, f"{label} / {c.comm_batch} sequences") for v, label in _per_step(c)]


def _tp_comm_time(c: ServingConfig) -> Band:
    """All-reduce time per decode step (or per stage): from wire time at the fastest convention of the link
    (NVLink's bidirectional 600 GB/s: the rubric's 0.19 ms) to measured bus bandwidth (~2/3 of one direction)
    plus a fixed 10 us per call (30 us across InfiniBand) for the 2 x layers small all-reduces."""
    bws = [bw for bw, _ in links(c)]
    n_step = calc.ALLREDUCES_PER_LAYER_INFERENCE * c.layers
    per_call = 40e-6 if c.link == "ib" else 20e-6
    lo = allreduce_message(c) * n_step / c.pp / max(bws)
    hi = _ring(c) * n_step / (min(bws) / 2) + n_step * per_call
    return Band(lo, hi, _ring(c) * n_step / max(bws))


def _wire_time(c: ServingConfig) -> list[tuple[float, str]]:
    """Bandwidth-only all-reduce time per step (and per stage), each legitimate link convention and volume."""
    n = calc.ALLREDUCES_PER_LAYER_INFERENCE * c.layers
    out = []
    for bw, bw_label in links(c):
        for calls, scope in (
            ((n, "all layers"), (n // c.pp, "one stage's layers")) if c.pp > 1 else ((n, "all layers"),)
        ):
            out.append((_ring(c) * calls / bw, f"ring bytes x {calls} / {bw_label}, {scope}"))
            out.append((allreduce_message(c) * calls / bw, f"payload x {calls} / {bw_label}, {scope}"))
    return out


def _latency_term(c: ServingConfig) -> Band:
    """The fixed cost of the step's small all-reduces: 5-20 us each on NVLink (kipply, llm-analysis: ~8 us; more
    under load), 15-40 us across InfiniBand; per stage when a pipeline stage is what is timed."""
    n = calc.ALLREDUCES_PER_LAYER_INFERENCE * c.layers
    lo_call, hi_call = (15e-6, 40e-6) if c.link == "ib" else (5e-6, 20e-6)
    return Band(n / c.pp * lo_call, n * hi_call, n * c.allreduce_latency_s)


def _allreduce_time(c: ServingConfig) -> Band:
    """One TP all-reduce: from its wire time at the fastest convention of the link to measured bus bandwidth plus
    the fixed cost of a small collective (5-20 us on NVLink, up to 40 us across InfiniBand)."""
    bws = [bw for bw, _ in links(c)]
    per_call = 40e-6 if c.link == "ib" else 20e-6
    return Band(allreduce_message(c) / max(bws), _ring(c) / (min(bws) / 2) + per_call, _ring(c) / max(bws) + 8e-6)


def _handoff(c: ServingConfig) -> list[tuple[float, str]]:
    return [
        (calc.pp_handoff_bytes(hidden=c.hidden, batch=c.comm_batch, act_bytes=_ab(c)), f"hidden x {c.comm_batch} x 2 B")
    ]


def _handoff_time(c: ServingConfig) -> list[tuple[float, str]]:
    nbytes = calc.pp_handoff_bytes(hidden=c.hidden, batch=c.comm_batch, act_bytes=_ab(c))
    options = (
        (c.link_bandwidth, "NVLink both directions"),
        (c.link_bandwidth_per_direction, "NVLink per direction"),
        (c.ib_bandwidth, "InfiniBand HDR per GPU"),
        (c.ib_bandwidth * c.tp, "InfiniBand, scattered over the TP group's NICs"),
    )
    if c.pp_link_bandwidth not in {bw for bw, _ in options}:  # a stage link given outright (`calc --pp-link-gbps`)
        options = (*options, (c.pp_link_bandwidth, "the stage link"))
    return [(nbytes / bw, f"{nbytes / 1e3:.0f} KB / {bw / 1e9:g} GB/s ({label})") for bw, label in options]


def _bubble(c: ServingConfig) -> list[tuple[float, str]]:
    return [
        (calc.bubble_fraction_of_wall(pp=c.pp, micro_batches=c.micro_batches), "(p-1)/(m+p-1), share of wall time"),
        (calc.bubble_relative(pp=c.pp, micro_batches=c.micro_batches), "(p-1)/m, relative to ideal (Megatron)"),
    ]


def _hbm(c: ServingConfig) -> list[tuple[float, str]]:
    return [(c.hbm_bandwidth, f"{c.hbm_bandwidth / 1e12:g} TB/s"), (2.0e12, "~2.0 TB/s")]


def decode_floor(c: ServingConfig) -> list[tuple[float, str]]:
    """Weights read once per step over the TP group's HBM; PP stages run one after another, so the stage count
    cancels (W/pp per stage over tp GPUs, times pp stages)."""
    return [
        (
            calc.decode_step_floor_s(weight_bytes_total=weights_total(c), hbm_bandwidth=bw, tp=c.tp),
            f"weights / (tp x {label})",
        )
        for bw, label in _hbm(c)
    ]


def decode_floor_with_kv(c: ServingConfig) -> list[tuple[float, str]]:
    return [
        (
            calc.decode_step_floor_s(
                weight_bytes_total=weights_total(c), hbm_bandwidth=bw, tp=c.tp, kv_bytes_read=kv_total(c)
            ),
            f"(weights + KV) / (tp x {label})",
        )
        for bw, label in _hbm(c)
    ]


def _stage_floor(c: ServingConfig) -> list[tuple[float, str]]:
    return [(v / c.pp, f"{label}, one of {c.pp} stages") for v, label in decode_floor(c)]


def _kv_read_time(c: ServingConfig) -> list[tuple[float, str]]:
    return [(kv_total(c) / (c.tp * bw), f"KV total / (tp x {label})") for bw, label in _hbm(c)] + [
        (kv_total(c) / (c.tp * c.pp * bw), f"KV total / (tp x pp x {label})") for bw, label in _hbm(c)
    ]


def _decode_estimate(c: ServingConfig) -> Band:
    """A realistic per-token latency under the workload: each step reads every weight and the KV cache of the
    sequences in flight, at least their ~1K-token prompts, from HBM; so no faster than that floor (0.9x of it is
    the checker's margin), and no slower than 5x the floor with full-context KV (20% bandwidth utilisation)."""
    prompt = calc.kv_bytes_per_token(**_kv_shape(c)) * 1024 * c.batch  # type: ignore[arg-type]
    lo = min(
        calc.decode_step_floor_s(weight_bytes_total=weights_total(c), hbm_bandwidth=bw, tp=c.tp, kv_bytes_read=prompt)
        for bw, _ in _hbm(c)
    )
    hi = max(v for v, _ in decode_floor_with_kv(c))
    return Band(lo, 5 * hi, 2 * lo)


def _prefill_tokens(c: ServingConfig) -> list[tuple[int, str]]:
    return [(c.prefill_tokens, f"{c.prefill_tokens} tokens")]


def _prefill_flops(c: ServingConfig) -> list[tuple[float, str]]:
    return [(calc.prefill_flops(params=c.params, tokens=t), f"2 x params x {label}") for t, label in _prefill_tokens(c)]


def _prefill_floor(c: ServingConfig) -> list[tuple[float, str]]:
    """A prompt's prefill at peak: through the stages in turn, each on its tp GPUs (2P x tokens / (tp x peak));
    with pipeline stages, also chunked so every stage works at once (2P x tokens / (tp x pp x peak), what a
    chunked, pipelined prefill approaches); and at a share of peak when one is given (`calc --utilisation`)."""
    shares = (1.0, c.utilisation) if c.utilisation < 1 else (1.0,)
    out = [
        (
            calc.prefill_flops(params=c.params, tokens=t) / (c.tp * c.fp16_flops * u),
            f"2P x {label} / (tp x peak)" if u == 1 else f"2P x {label} / (tp x {u:.0%} of peak)",
        )
        for u in shares
        for t, label in _prefill_tokens(c)
    ]
    if c.pp > 1:
        out += [
            (
                calc.prefill_flops(params=c.params, tokens=t) / (c.tp * c.pp * c.fp16_flops),
                f"2P x {label} / (tp x pp x peak), chunked",
            )
            for t, label in _prefill_tokens(c)
        ]
    return out


def _prefill_estimate(c: ServingConfig) -> Band:
    lo = min(v for v, _ in _prefill_floor(c))
    return Band(lo, 5 * lo, 2 * lo)


def _replicas(c: ServingConfig) -> list[tuple[float, str]]:
    gpus = c.tp * c.pp
    return [(c.nodes * c.gpus_per_node // gpus, f"{c.nodes * c.gpus_per_node} GPUs / {gpus} per replica")]


def _monthly_downtime(c: ServingConfig) -> list[tuple[float, str]]:
    budget = 1 - 0.999
    return [
        (30 * 86400 * budget, "30-day month"),
        (30.44 * 86400 * budget, "average month"),
        (31 * 86400 * budget, "31-day month"),
        (365 * 86400 * budget, "per year"),
        (7 * 86400 * budget, "per week"),
        (86400 * budget, "per day"),
    ]


# --- mistakes shared by a family ------------------------------------------------------------------------------

KV_MISTAKES = (
    Mistake("K and V: the factor 2 is missing", ratio=0.5),
    Mistake("the 2 bytes per FP16 element are missing", ratio=0.5, when={"kv_precision": "fp16"}),
    Mistake("both the K/V factor 2 and the 2 bytes per element are missing", ratio=0.25, when={"kv_precision": "fp16"}),
    Mistake("the layer count (96) is missing", ratio=1 / 96),
    Mistake("the FFN width (4 x d_model) used instead of the hidden size", ratio=4.0),
    Mistake("bits used as bytes (x8)", ratio=8.0),
)
_FP16 = {"weight_precision": "fp16"}
WEIGHT_MISTAKES = (
    Mistake("parameters used as bytes: FP16 is 2 bytes per parameter", ratio=0.5, when=_FP16),
    Mistake("FP32 (4 bytes) used instead of FP16", ratio=2.0, when=_FP16),
    Mistake("INT4 counted as 1 byte per parameter (it is half a byte)", ratio=2.0, when={"weight_precision": "int4"}),
    Mistake("bits used as bytes (x8)", ratio=8.0),
    Mistake("bits used as bytes (x16)", ratio=16.0, when=_FP16),
)
AR_PAYLOAD_ONLY = (
    Mistake("payload only: the ring all-reduce sends 2(n-1)/n = 1.5x it per GPU (n=4)", ratio=1 / 1.5),
    Mistake("payload only: the ring all-reduce sends 2(n-1)/n = 1.75x it per GPU (n=8)", ratio=1 / 1.75),
)
AR_COUNT = (
    Mistake("one all-reduce per layer counted; inference has two (attention and MLP)", ratio=0.5),
    Mistake("four all-reduces per layer (training's forward + backward); inference has two", ratio=2.0),
    Mistake("all-reduce sized on the FFN activation (4 x d_model) instead of the hidden size", ratio=4.0),
)
PARAMS_AS_BYTES = Mistake(
    "parameters used as bytes: FP16 is 2 bytes per parameter", override={"weight_precision": "int8"}, when=_FP16
)
NOT_DIVIDED = Mistake("not divided across the GPUs: that is the whole model's figure", override={"tp": 1, "pp": 1})
TP_ONLY = Mistake(
    "divided by TP ({tp}) only; with {pp} pipeline stages each GPU holds 1/(TP x PP) of it", override={"pp": 1}
)


def _d(inputs: tuple[str, ...], fn) -> Derivation:  # type: ignore[no-untyped-def]
    return Derivation(inputs, fn)


def _per(parts: Mapping[str, float], key: str, c: ServingConfig) -> float:
    return parts[key] / (c.tp * c.pp)


# --- the registry --------------------------------------------------------------------------------------------

Q = Quantity
_ALL: list[Quantity] = [
    # model facts
    Q(
        "params",
        "Parameters",
        "count",
        "fact",
        lambda c: c.params,
        ("params",),
        ("weights",),
        noun="parameters",
        formula="175B (12 l h^2 = 173.95B of matrices; 174.6B in all)",
    ),
    Q(
        "layers",
        "Transformer layers",
        "count",
        "fact",
        lambda c: c.layers,
        (),
        ("weights",),
        noun="layers",
        scenario_only=True,
    ),
    Q("hidden", "Hidden size (d_model)", "count", "fact", lambda c: c.hidden, (), noun="hidden", scenario_only=True),
    Q("heads", "Attention heads", "count", "fact", lambda c: c.heads, (), noun="heads", scenario_only=True),
    Q("head_dim", "Head dimension", "count", "fact", lambda c: c.head_dim, (), noun="head_dim", scenario_only=True),
    Q("ffn", "FFN inner size", "count", "fact", lambda c: c.ffn, (), noun="ffn", scenario_only=True),
    Q(
        "vocab",
        "Vocabulary",
        "count",
        "fact",
        lambda c: [(50257.0, "50,257"), (50000.0, "~50K")],
        (),
        noun="vocab",
        scenario_only=True,
    ),
    Q(
        "max_context",
        "Maximum context",
        "count",
        "fact",
        lambda c: [(2048.0, "2,048"), (2000.0, "~2K")],
        (),
        ("kv", "prefill"),
        noun="tokens",
        scenario_only=True,
    ),
    Q(
        "prompt_length",
        "Typical prompt",
        "count",
        "fact",
        lambda c: [(1024.0, "~1K"), (1000.0, "~1,000")],
        (),
        ("prefill",),
        noun="tokens",
        scenario_only=True,
    ),
    Q(
        "concurrent_sequences",
        "Concurrent sequences per replica",
        "count",
        "fact",
        lambda c: 32.0,
        (),
        ("workload",),
        ("per_replica",),
        noun="sequences",
        scenario_only=True,
    ),
    Q(
        "bytes_per_element",
        "Bytes per element",
        "bytes",
        "fact",
        lambda c: [
            (_wb(c), f"{c.weight_precision} weights"),
            (_kb(c), f"{c.kv_precision} KV"),
            (2.0, "FP16"),
            (1.0, "INT8/FP8"),
            (0.5, "INT4"),
            (4.0, "FP32"),
        ],
        ("weight_precision", "kv_precision"),
        ("element_size",),
        (),
        default=True,
    ),
    # hardware facts
    Q(
        "gpu_memory",
        "GPU memory",
        "bytes",
        "fact",
        _gpu_memories,
        (),
        ("gpu_memory",),
        ("per_gpu",),
        scenario_only=True,
        default=True,
    ),
    Q(
        "node_memory",
        "Memory of one node",
        "bytes",
        "fact",
        lambda c: [(c.gpus_per_node * m, f"{c.gpus_per_node} x {label}") for m, label in _gpu_memories(c)],
        (),
        ("gpu_memory",),
        ("per_node", "total"),
        scenario_only=True,
    ),
    Q(
        "memory_of_gpus",
        "Memory of the GPUs counted",
        "bytes",
        "derived",
        lambda c: (
            [(v * c.gpus_in_view, f"{c.gpus_in_view} x {label}") for v, label in _gpu_memories(c)]
            if c.gpus_in_view
            else []
        ),
        ("gpus_in_view",),
        ("gpu_memory", "minimum", "capacity"),
        ("total", "per_node", "per_replica"),
    ),
    Q("gpus_per_node", "GPUs per node", "count", "fact", lambda c: 8.0, (), noun="gpus", scenario_only=True),
    Q(
        "gpus_total",
        "GPUs at launch",
        "count",
        "fact",
        lambda c: 32.0,
        (),
        (),
        ("total",),
        noun="gpus",
        scenario_only=True,
    ),
    Q("nodes", "Nodes at launch", "count", "fact", lambda c: 4.0, (), noun="nodes", scenario_only=True),
    Q("nics_per_node", "NICs per node", "count", "fact", lambda c: 8.0, (), ("ib",), noun="nics", scenario_only=True),
    Q(
        "hbm_bandwidth",
        "HBM bandwidth per GPU",
        "rate",
        "fact",
        _hbm,
        (),
        ("hbm",),
        ("per_gpu",),
        scenario_only=True,
        default=True,
    ),
    Q(
        "hbm_bandwidth_aggregate",
        "HBM bandwidth of the TP group or node",
        "rate",
        "derived",
        lambda c: [(v * n, f"{n} x {label}") for v, label in _hbm(c) for n in sorted({c.tp, 8, c.tp * c.pp})],
        ("tp", "pp"),
        ("hbm",),
        ("total", "per_node", "per_replica", "per_stage"),
    ),
    Q(
        "nvlink_bandwidth",
        "NVLink bandwidth per GPU",
        "rate",
        "fact",
        lambda c: [
            (c.link_bandwidth, f"{c.link_bandwidth / 1e9:g} GB/s, both directions"),
            (c.link_bandwidth_per_direction, f"{c.link_bandwidth_per_direction / 1e9:g} GB/s per direction"),
        ],
        (),
        ("nvlink",),
        ("per_gpu",),
        criterion=BANDWIDTH,
        scenario_only=True,
        mistakes=(Mistake("NVLink 4 (H100, 900 GB/s) figures used for an A100", ratio=1.5),),
        default=True,
    ),
    Q(
        "ib_bandwidth",
        "InfiniBand HDR per GPU",
        "rate",
        "fact",
        lambda c: [
            (c.ib_bandwidth, f"{c.ib_bandwidth * 8 / 1e9:g} Gb/s = {c.ib_bandwidth / 1e9:g} GB/s per GPU"),
            (c.ib_bandwidth / 2, "HDR100"),
            (0.92 * c.ib_bandwidth, "~92% of the line rate, achievable"),
        ],
        (),
        ("ib",),
        ("per_gpu",),
        criterion=BANDWIDTH,
        scenario_only=True,
        mistakes=(Mistake("InfiniBand's 200 Gb/s read as 200 GB/s (bits for bytes)", ratio=8.0),),
        default=True,
    ),
    Q(
        "ib_bandwidth_node",
        "InfiniBand per node",
        "rate",
        "fact",
        lambda c: [(c.gpus_per_node * c.ib_bandwidth, f"{c.gpus_per_node} x {c.ib_bandwidth / 1e9:g} GB/s per node")],
        (),
        ("ib",),
        ("per_node", "total"),
        criterion=BANDWIDTH,
        scenario_only=True,
    ),
    Q(
        "pcie_bandwidth",
        "PCIe Gen4 x16",
        "rate",
        "band",
        lambda c: Band(c.pcie_bandwidth / 2, 2 * c.pcie_bandwidth, c.pcie_bandwidth),  # Gen3 .. Gen5, x16
        (),
        ("pcie",),
        criterion=BANDWIDTH,
        scenario_only=True,
    ),
    Q(
        "gpu_flops",
        "Dense FP16 tensor throughput per GPU",
        "flops",
        "fact",
        lambda c: [(c.fp16_flops, f"{c.fp16_flops / 1e12:g} TFLOPS dense FP16")],
        (),
        ("compute",),
        ("per_gpu",),
        scenario_only=True,
        mistakes=(Mistake("the sparse (structured-sparsity) TFLOPS; LLM math uses the dense figure", ratio=2.0),),
        default=True,
    ),
    Q(
        "group_flops",
        "Dense FP16 throughput of the TP group or node",
        "flops",
        "derived",
        lambda c: [
            (c.fp16_flops * n, f"{n} x {c.fp16_flops / 1e12:g} TFLOPS")
            for n in sorted({c.tp, c.gpus_per_node, c.tp * c.pp})
        ],
        ("tp", "pp"),
        ("compute",),
        ("total", "per_node", "per_replica", "per_stage"),
    ),
    # workload facts and targets
    Q(
        "itl_target",
        "P99 inter-token latency target",
        "time",
        "fact",
        lambda c: 0.3,
        (),
        ("target", "decode", "latency"),
        scenario_only=True,
    ),
    Q(
        "ttft_target",
        "P99 time-to-first-token target",
        "time",
        "fact",
        lambda c: 2.0,
        (),
        ("target", "prefill"),
        scenario_only=True,
    ),
    Q(
        "availability",
        "Monthly availability target",
        "fraction",
        "fact",
        lambda c: 0.999,
        (),
        ("availability",),
        scenario_only=True,
    ),
    Q(
        "rto",
        "Replica recovery target",
        "time",
        "fact",
        lambda c: 300.0,
        (),
        ("recovery", "target"),
        scenario_only=True,
    ),
    Q(
        "downtime_budget",
        "Downtime allowed at 99.9%",
        "time",
        "derived",
        _monthly_downtime,
        (),
        ("availability",),
        scenario_only=True,
    ),
    # memory
    Q(
        "weights_total",
        "Weights, total",
        "bytes",
        "derived",
        weights_total,
        ("weight_precision",),
        ("weights",),
        ("total", "per_replica", "per_node"),
        criterion=MEMORY,
        mistakes=WEIGHT_MISTAKES,
        formula="params x bytes per weight",
        default=True,
    ),
    Q(
        "weights_per_gpu",
        "Weights per GPU",
        "bytes",
        "derived",
        weights_per_gpu,
        ("weight_precision", "tp", "pp"),
        ("weights",),
        ("per_gpu",),
        criterion=MEMORY,
        mistakes=(TP_ONLY, NOT_DIVIDED, *WEIGHT_MISTAKES),
        derives_from=(_d(("weights_total",), lambda p, c: _per(p, "weights_total", c)),),
        formula="weights / (tp x pp)",
    ),
    Q(
        "weights_per_stage",
        "Weights per pipeline stage",
        "bytes",
        "derived",
        lambda c: weights_total(c) / c.pp,
        ("weight_precision", "pp"),
        ("weights",),
        ("per_stage",),
        criterion=MEMORY,
        derives_from=(_d(("weights_total",), lambda p, c: p["weights_total"] / c.pp),),
    ),
    Q(
        "min_gpus",
        "GPUs needed for the weights alone",
        "count",
        "derived",
        lambda c: float(
            calc.min_gpus_for_weights(weight_bytes_total=weights_total(c), gpu_memory_bytes=c.gpu_memory_bytes)
        ),
        ("weight_precision",),
        ("minimum", "weights"),
        noun="gpus",
        criterion=MEMORY,
    ),
    Q(
        "kv_per_token",
        "KV cache per token",
        "bytes",
        "derived",
        kv_per_token,
        ("kv_precision", "kv_heads"),
        ("kv",),
        ("per_token",),
        criterion=MEMORY,
        mistakes=KV_MISTAKES,
        formula="2 (K,V) x layers x kv heads x head dim x bytes",
    ),
    Q(
        "kv_per_token_per_layer",
        "KV cache per token per layer",
        "bytes",
        "derived",
        lambda c: kv_per_token(c) / c.layers,
        ("kv_precision", "kv_heads"),
        ("kv",),
        ("per_token", "per_layer"),
        criterion=MEMORY,
        mistakes=KV_MISTAKES,
    ),
    Q(
        "kv_per_token_per_gpu",
        "KV cache per token per GPU",
        "bytes",
        "derived",
        kv_per_token_per_gpu,
        ("kv_precision", "kv_heads", "tp", "pp"),
        ("kv",),
        ("per_token", "per_gpu"),
        criterion=MEMORY,
        mistakes=KV_MISTAKES,
        derives_from=(_d(("kv_per_token",), lambda p, c: _per(p, "kv_per_token", c)),),
    ),
    Q(
        "kv_per_sequence",
        "KV cache per sequence",
        "bytes",
        "derived",
        lambda c: kv_per_token(c) * c.context,
        ("kv_precision", "kv_heads", "context"),
        ("kv",),
        ("per_sequence",),
        criterion=MEMORY,
        mistakes=KV_MISTAKES,
        derives_from=(_d(("kv_per_token",), lambda p, c: p["kv_per_token"] * c.context),),
    ),
    Q(
        "kv_per_sequence_per_gpu",
        "KV cache per sequence per GPU",
        "bytes",
        "derived",
        lambda c: kv_per_token_per_gpu(c) * c.context,
        ("kv_precision", "kv_heads", "context", "tp", "pp"),
        ("kv",),
        ("per_sequence", "per_gpu"),
        criterion=MEMORY,
        mistakes=KV_MISTAKES,
        derives_from=(_d(("kv_per_sequence",), lambda p, c: _per(p, "kv_per_sequence", c)),),
    ),
    Q(
        "kv_total",
        "KV cache, all sequences",
        "bytes",
        "derived",
        kv_total,
        ("kv_precision", "kv_heads", "context", "batch"),
        ("kv",),
        ("total", "per_replica", "per_node"),
        criterion=MEMORY,
        mistakes=KV_MISTAKES,
        derives_from=(
            _d(("kv_per_sequence",), lambda p, c: p["kv_per_sequence"] * c.batch),
            _d(("kv_per_token",), lambda p, c: p["kv_per_token"] * c.context * c.batch),
        ),
        formula="KV per token x context x sequences",
        default=True,
    ),
    Q(
        "kv_per_gpu",
        "KV cache per GPU",
        "bytes",
        "derived",
        kv_per_gpu,
        ("kv_precision", "kv_heads", "context", "batch", "tp", "pp"),
        ("kv",),
        ("per_gpu",),
        criterion=MEMORY,
        mistakes=(*KV_MISTAKES, NOT_DIVIDED, TP_ONLY),
        derives_from=(
            _d(("kv_total",), lambda p, c: _per(p, "kv_total", c)),
            _d(("kv_per_sequence",), lambda p, c: _per(p, "kv_per_sequence", c) * c.batch),
            _d(("kv_per_token_per_gpu",), lambda p, c: p["kv_per_token_per_gpu"] * c.context * c.batch),
        ),
    ),
    Q(
        "kv_block",
        "Paged-KV block",
        "bytes",
        "derived",
        lambda c: [
            (kv_per_token_per_gpu(c) * c.block_tokens, f"{c.block_tokens} tokens per GPU"),
            (kv_per_token(c) * c.block_tokens, f"{c.block_tokens} tokens, whole model"),
        ],
        ("kv_precision", "kv_heads", "tp", "pp"),
        ("block", "kv"),
        ("per_gpu",),
        criterion=MEMORY,
    ),
    Q(
        "tokens_in_flight",
        "Tokens held in the KV cache",
        "count",
        "derived",
        lambda c: float(c.batch * c.context),
        ("batch", "context"),
        ("kv", "capacity"),
        ("total",),
        noun="tokens",
    ),
    Q(
        "activations",
        "Activations per GPU (budget)",
        "bytes",
        "input",
        _activations,
        (),
        ("activations", "overhead"),
        ("per_gpu",),
        criterion=MEMORY,
        default=True,
        formula="a defensible budget, 0.5-6 GB per GPU",
    ),
    Q(
        "decode_hidden_states",
        "Hidden states of one layer boundary (decode)",
        "bytes",
        "derived",
        lambda c: [
            (c.hidden * c.batch * _ab(c), f"hidden x {c.batch} x 2 B"),
            (c.hidden * c.comm_batch * _ab(c), f"hidden x {c.comm_batch} x 2 B"),
        ],
        ("batch", "comm_batch"),
        ("activations", "pp_handoff"),
        ("per_layer",),
        criterion=MEMORY,
    ),
    Q(
        "weights_plus_kv_per_gpu",
        "Weights + KV cache per GPU",
        "bytes",
        "derived",
        _weights_plus_kv,
        ("weight_precision", "kv_precision", "kv_heads", "context", "batch", "tp", "pp"),
        ("memory_total", "weights", "kv"),
        ("per_gpu",),
        criterion=MEMORY,
        derives_from=(_d(("weights_per_gpu", "kv_per_gpu"), lambda p, c: p["weights_per_gpu"] + p["kv_per_gpu"]),),
    ),
    Q(
        "per_gpu_total",
        "Per-GPU total (weights + KV + activations)",
        "bytes",
        "band",
        _per_gpu_total,
        ("weight_precision", "kv_precision", "kv_heads", "context", "batch", "tp", "pp", "stated_activation_bytes"),
        ("memory_total", "weights", "kv", "activations"),
        ("per_gpu",),
        criterion=MEMORY,
        derives_from=(
            _d(
                ("weights_per_gpu", "kv_per_gpu", "activations"),
                lambda p, c: p["weights_per_gpu"] + p["kv_per_gpu"] + p["activations"],
            ),
            _d(
                ("weights_plus_kv_per_gpu", "activations"), lambda p, c: p["weights_plus_kv_per_gpu"] + p["activations"]
            ),
        ),
        default=True,
    ),
    Q(
        "free_after_weights",
        "Free memory per GPU after the weights",
        "bytes",
        "derived",
        _free_after_weights,
        ("weight_precision", "tp", "pp"),
        ("free", "headroom", "kv"),
        ("per_gpu",),
        criterion=MEMORY,
        mistakes=(TP_ONLY, PARAMS_AS_BYTES),  # what is left is not a multiple of the weights: recomputed, no ratio
        derives_from=(_d(("weights_per_gpu",), lambda p, c: c.gpu_memory_bytes - p["weights_per_gpu"]),),
        default=True,
    ),
    Q(
        "headroom",
        "Headroom per GPU after weights, KV and activations",
        "bytes",
        "derived",
        _headroom,
        ("weight_precision", "kv_precision", "kv_heads", "context", "batch", "tp", "pp", "stated_activation_bytes"),
        ("headroom", "free"),
        ("per_gpu",),
        criterion=MEMORY,
        group="free",
        derives_from=(_d(("per_gpu_total",), lambda p, c: c.gpu_memory_bytes - p["per_gpu_total"]),),
        default=True,
    ),
    Q(
        "max_sequences",
        "Full-context sequences that fit",
        "count",
        "band",
        _seq_capacity,
        ("weight_precision", "kv_precision", "kv_heads", "context", "tp", "pp", "stated_activation_bytes"),
        ("capacity", "kv"),
        ("per_replica",),
        noun="sequences",
        criterion=MEMORY,
        strict_band=True,
        ceiling=True,
        default=True,
    ),
    Q(
        "sequences_per_gpu",
        "Full-context sequences per GPU of a replica",
        "count",
        "band",
        lambda c: (lambda b: Band(b.lo / (c.tp * c.pp), b.hi / (c.tp * c.pp), (b.typical or b.hi) / (c.tp * c.pp)))(
            _seq_capacity(c)
        ),
        ("weight_precision", "kv_precision", "kv_heads", "context", "tp", "pp", "stated_activation_bytes"),
        ("capacity", "workload"),
        ("per_gpu",),
        noun="sequences",
        criterion=MEMORY,
        strict_band=True,
        ceiling=True,
        scoped_only=True,
    ),
    Q(
        "max_tokens",
        "Tokens whose KV fits",
        "count",
        "band",
        _token_capacity,
        ("weight_precision", "kv_precision", "kv_heads", "context", "tp", "pp", "stated_activation_bytes"),
        ("capacity", "kv"),
        ("per_replica",),
        noun="tokens",
        criterion=MEMORY,
        strict_band=True,
        ceiling=True,
    ),
    # parallel layout
    Q(
        "gpus_per_replica",
        "GPUs per replica",
        "count",
        "input",
        lambda c: float(c.tp * c.pp),
        ("tp", "pp"),
        (),
        ("per_replica",),
        noun="gpus",
    ),
    Q(
        "gpus_per_stage",
        "GPUs per pipeline stage",
        "count",
        "input",
        lambda c: float(c.tp),
        ("tp",),
        (),
        ("per_stage",),
        noun="gpus",
    ),
    Q(
        "heads_per_gpu",
        "Attention heads per GPU",
        "count",
        "derived",
        lambda c: c.heads / c.tp,
        ("tp",),
        (),
        ("per_gpu",),
        noun="heads",
        criterion=MEMORY,
    ),
    Q(
        "kv_heads_per_gpu",
        "KV heads per GPU",
        "count",
        "derived",
        lambda c: calc.kv_heads_per_gpu(kv_heads=c.kv_heads, tp=c.tp),
        ("tp", "kv_heads"),
        ("kv",),
        ("per_gpu",),
        noun="heads",
        criterion=MEMORY,
    ),
    Q("kv_heads", "KV heads", "count", "input", lambda c: float(c.kv_heads), ("kv_heads",), ("kv",), (), noun="heads"),
    Q(
        "layers_per_stage",
        "Layers per pipeline stage",
        "count",
        "derived",
        lambda c: c.layers / c.pp,
        ("pp",),
        (),
        ("per_stage", "per_gpu"),
        noun="layers",
    ),
    Q("replicas", "Model replicas", "count", "derived", _replicas, ("tp", "pp"), (), ("total",), noun="replicas"),
    Q("stages", "Pipeline stages", "count", "input", lambda c: float(c.pp), ("pp",), ("pp_handoff",), noun="stages"),
    Q(
        "pp_handoffs",
        "Stage boundaries a token crosses",
        "count",
        "derived",
        lambda c: float(c.pp - 1),
        ("pp",),
        ("pp_handoff",),
        ("per_step", "per_token"),
        noun="handoffs",
    ),
    Q(
        "micro_batches",
        "Micro-batches",
        "count",
        "input",
        lambda c: float(c.micro_batches),
        ("micro_batches",),
        ("bubble",),
        noun="micro_batches",
    ),
    Q("batch", "Sequences per batch", "count", "input", lambda c: float(c.batch), ("batch",), (), noun="sequences"),
    Q(
        "context",
        "Context in force",
        "count",
        "input",
        lambda c: float(c.context),
        ("context",),
        ("kv",),
        noun="tokens",
    ),
    # communication
    Q(
        "allreduce_message",
        "TP all-reduce payload",
        "bytes",
        "derived",
        allreduce_message,
        ("comm_batch", "activation_precision"),
        ("allreduce", "comm"),
        ("per_allreduce",),
        criterion=BANDWIDTH,
        mistakes=AR_COUNT[2:],
        formula="hidden x sequences in the step x 2 B",
        default=True,
    ),
    Q(
        "allreduce_ring_bytes",
        "Ring all-reduce bytes per GPU",
        "bytes",
        "derived",
        _ring,
        ("comm_batch", "tp"),
        ("allreduce", "comm"),
        ("per_allreduce", "per_gpu"),
        criterion=BANDWIDTH,
        mistakes=(*AR_PAYLOAD_ONLY, AR_COUNT[2]),
        derives_from=(
            _d(("allreduce_message",), lambda p, c: p["allreduce_message"] * calc.ring_allreduce_factor(n=c.tp)),
        ),
    ),
    Q(
        "allreduce_per_layer",
        "TP bytes per GPU per layer",
        "bytes",
        "derived",
        _per_layer,
        ("comm_batch", "tp"),
        ("allreduce", "comm"),
        ("per_layer",),
        criterion=BANDWIDTH,
        mistakes=(*AR_PAYLOAD_ONLY, *AR_COUNT),
        derives_from=(
            _d(("allreduce_ring_bytes",), lambda p, c: 2 * p["allreduce_ring_bytes"]),
            _d(("allreduce_message",), lambda p, c: 2 * p["allreduce_message"]),
        ),
    ),
    Q(
        "allreduces_per_layer",
        "All-reduces per layer",
        "count",
        "derived",
        lambda c: 2.0,
        (),
        ("allreduce",),
        ("per_layer",),
        noun="allreduces",
        criterion=BANDWIDTH,
        mistakes=(
            Mistake("one all-reduce per layer; inference has two (attention and MLP)", ratio=0.5),
            Mistake("four per layer is training (forward + backward); inference has two", ratio=2.0),
        ),
        default=True,
    ),
    Q(
        "allreduces_per_step",
        "All-reduces per decode step",
        "count",
        "derived",
        lambda c: (
            [(2.0 * c.layers, "2 x all layers")]
            + ([(2.0 * c.layers / c.pp, "2 x one stage's layers")] if c.pp > 1 else [])
        ),
        ("pp",),
        ("allreduce",),
        ("per_step", "per_token", "per_stage"),
        noun="allreduces",
        criterion=BANDWIDTH,
        mistakes=(Mistake("one all-reduce per layer; inference has two (attention and MLP)", ratio=0.5),),
    ),
    Q(
        "tp_volume_per_step",
        "TP traffic per GPU per decode step",
        "bytes",
        "derived",
        _per_step,
        ("comm_batch", "tp", "pp"),
        ("allreduce", "comm"),
        ("per_step",),
        criterion=BANDWIDTH,
        mistakes=(*AR_PAYLOAD_ONLY, *AR_COUNT),
        derives_from=(
            _d(("allreduce_ring_bytes",), lambda p, c: 2 * c.layers * p["allreduce_ring_bytes"]),
            _d(("allreduce_per_layer",), lambda p, c: c.layers * p["allreduce_per_layer"]),
            _d(("allreduce_message",), lambda p, c: 2 * c.layers * p["allreduce_message"]),
        ),
    ),
    Q(
        "tp_volume_per_token",
        "TP traffic per GPU per token",
        "bytes",
        "derived",
        _per_token_volume,
        ("comm_batch", "tp", "pp"),
        ("allreduce", "comm"),
        ("per_token",),
        criterion=BANDWIDTH,
        derives_from=(_d(("tp_volume_per_step",), lambda p, c: p["tp_volume_per_step"] / c.comm_batch),),
    ),
    Q(
        "tp_comm_wire_time",
        "TP all-reduce wire time per decode step",
        "time",
        "derived",
        _wire_time,
        ("comm_batch", "tp", "pp", "link"),
        ("allreduce", "comm", "nvlink"),
        ("per_step", "per_token", "per_stage"),
        criterion=BANDWIDTH,
        derives_from=(
            _d(
                ("tp_volume_per_step", "nvlink_bandwidth"), lambda p, c: p["tp_volume_per_step"] / p["nvlink_bandwidth"]
            ),
            _d(("tp_volume_per_step", "ib_bandwidth"), lambda p, c: p["tp_volume_per_step"] / p["ib_bandwidth"]),
            _d(
                ("allreduce_ring_bytes", "nvlink_bandwidth"),
                lambda p, c: 2 * c.layers * p["allreduce_ring_bytes"] / p["nvlink_bandwidth"],
            ),
            _d(
                ("allreduce_message", "nvlink_bandwidth"),
                lambda p, c: 2 * c.layers * p["allreduce_message"] / p["nvlink_bandwidth"],
            ),
        ),
    ),
    Q(
        "tp_comm_time",
        "TP all-reduce time per decode step (realistic)",
        "time",
        "band",
        _tp_comm_time,
        ("comm_batch", "tp", "pp", "link"),
        ("allreduce", "comm", "nvlink"),
        ("per_step", "per_token", "per_stage"),
        criterion=BANDWIDTH,
        default=True,
    ),
    Q(
        "tp_latency_term",
        "Fixed latency of the step's all-reduces",
        "time",
        "band",
        _latency_term,
        ("pp", "link"),
        ("allreduce", "comm", "latency"),
        ("per_step", "per_token", "per_stage"),
        criterion=BANDWIDTH,
        derives_from=(
            _d(
                ("allreduces_per_step", "allreduce_latency"),
                lambda p, c: p["allreduces_per_step"] * p["allreduce_latency"],
            ),
        ),
    ),
    Q(
        "allreduce_latency",
        "Fixed cost of one small all-reduce",
        "time",
        "input",
        lambda c: Band(3e-6, 15e-6, 8e-6),
        (),
        ("allreduce", "latency"),
        ("per_allreduce",),
    ),
    Q(
        "allreduce_time",
        "Time of one TP all-reduce",
        "time",
        "band",
        _allreduce_time,
        ("comm_batch", "tp", "link"),
        ("allreduce", "comm"),
        ("per_allreduce",),
        criterion=BANDWIDTH,
    ),
    Q(
        "pp_handoff_bytes",
        "PP hand-off per stage boundary",
        "bytes",
        "derived",
        _handoff,
        ("comm_batch",),
        ("pp_handoff", "comm"),
        ("per_step",),
        criterion=BANDWIDTH,
        default=True,
    ),
    Q(
        "pp_handoff_time",
        "PP hand-off time",
        "time",
        "derived",
        _handoff_time,
        ("comm_batch", "tp"),
        ("pp_handoff", "comm"),
        ("per_step",),
        criterion=BANDWIDTH,
        derives_from=(
            _d(("pp_handoff_bytes", "ib_bandwidth"), lambda p, c: p["pp_handoff_bytes"] / p["ib_bandwidth"]),
            _d(("pp_handoff_bytes", "nvlink_bandwidth"), lambda p, c: p["pp_handoff_bytes"] / p["nvlink_bandwidth"]),
        ),
        default=True,
    ),
    Q(
        "bubble",
        "Pipeline bubble",
        "fraction",
        "derived",
        _bubble,
        ("pp", "micro_batches"),
        ("bubble",),
        (),
        criterion=BANDWIDTH,
        default=True,
        needs=("pp",),
    ),
    # latency
    Q(
        "decode_floor",
        "Decode step floor (weights from HBM)",
        "time",
        "derived",
        decode_floor,
        ("weight_precision", "tp"),
        ("hbm", "floor", "decode", "latency"),
        ("per_token", "per_step"),
        criterion=LATENCY,
        group="decode",
        mistakes=(
            Mistake("one GPU's HBM bandwidth used instead of the TP group's aggregate", ratio=8.0),
            Mistake("parameters used as bytes: FP16 is 2 bytes per parameter", ratio=0.5),
        ),
        derives_from=(
            _d(("weights_per_gpu", "hbm_bandwidth"), lambda p, c: c.pp * p["weights_per_gpu"] / p["hbm_bandwidth"]),
            _d(
                ("weights_total", "hbm_bandwidth_aggregate"),
                lambda p, c: p["weights_total"] / p["hbm_bandwidth_aggregate"],
            ),
        ),
    ),
    Q(
        "stage_floor",
        "Decode floor of one pipeline stage",
        "time",
        "derived",
        _stage_floor,
        ("weight_precision", "tp", "pp"),
        ("hbm", "floor", "decode", "latency"),
        ("per_stage",),
        criterion=LATENCY,
        group="decode",
        derives_from=(
            _d(("weights_per_gpu", "hbm_bandwidth"), lambda p, c: p["weights_per_gpu"] / p["hbm_bandwidth"]),
        ),
    ),
    Q(
        "decode_floor_with_kv",
        "Decode step floor incl. KV reads",
        "time",
        "derived",
        decode_floor_with_kv,
        ("weight_precision", "kv_precision", "kv_heads", "context", "batch", "tp"),
        ("hbm", "floor", "decode", "kv"),
        ("per_token", "per_step"),
        criterion=LATENCY,
        group="decode",
    ),
    Q(
        "kv_read_time",
        "Time to read the KV cache per step",
        "time",
        "derived",
        _kv_read_time,
        ("kv_precision", "kv_heads", "context", "batch", "tp", "pp"),
        ("kv", "hbm", "decode", "latency"),
        ("per_step",),
        criterion=LATENCY,
        group="decode",
    ),
    Q(
        "decode_latency",
        "Per-token latency (realistic)",
        "time",
        "band",
        _decode_estimate,
        ("weight_precision", "kv_precision", "kv_heads", "context", "batch", "tp"),
        ("decode", "latency", "estimate"),
        ("per_token", "per_step"),
        criterion=LATENCY,
        floor=True,
        default=True,
    ),
    Q(
        "flops_per_param",
        "FLOPs per parameter per token (forward)",
        "flop",
        "fact",
        lambda c: 2.0,
        (),
        ("compute",),
        ("per_param",),
        scenario_only=True,
        mistakes=(Mistake("training's 6 FLOPs per parameter used (a forward pass is 2)", ratio=3.0),),
    ),
    Q(
        "flops_per_token",
        "FLOPs per token (forward)",
        "flop",
        "derived",
        lambda c: 2 * c.params,
        (),
        ("compute", "prefill"),
        ("per_token",),
        mistakes=(
            Mistake("training's 6P FLOPs per token used (a forward pass is 2P)", ratio=3.0),
            Mistake("P FLOPs per token used instead of 2P", ratio=0.5),
        ),
    ),
    Q(
        "prefill_flops",
        "Prefill FLOPs",
        "flop",
        "derived",
        _prefill_flops,
        ("prefill_tokens",),
        ("compute", "prefill"),
        ("per_sequence",),
        mistakes=(Mistake("training's 6P FLOPs per token used (a forward pass is 2P)", ratio=3.0),),
        default=True,
    ),
    Q(
        "prefill_floor",
        "Prefill time at peak FLOPS",
        "time",
        "derived",
        _prefill_floor,
        ("prefill_tokens", "tp"),
        ("prefill", "compute", "latency"),
        ("per_sequence",),
        criterion=LATENCY,
        mistakes=(
            Mistake("sparse TFLOPS (624) used; LLM math uses the dense 312", ratio=0.5),
            Mistake("P FLOPs per token used instead of 2P", ratio=0.5),
        ),
    ),
    Q(
        "ttft",
        "Time to first token (realistic)",
        "time",
        "band",
        _prefill_estimate,
        ("prefill_tokens", "tp"),
        ("prefill", "latency", "estimate"),
        ("per_sequence",),
        criterion=LATENCY,
        floor=True,
        default=True,
    ),
    Q(
        "compute_bound_batch",
        "Decode batch where compute catches up",
        "count",
        "derived",
        lambda c: calc.compute_bound_batch(peak_flops=c.fp16_flops, hbm_bandwidth=c.hbm_bandwidth, weight_bytes=_wb(c)),
        ("weight_precision",),
        ("roofline", "compute"),
        (),
        noun="sequences",
    ),
    Q(
        "throughput",
        "Decode throughput of a replica",
        "throughput",
        "band",
        lambda c: (lambda b: Band(c.batch / b.hi, c.batch / b.lo, c.batch / (b.typical or b.lo)))(_decode_estimate(c)),
        ("weight_precision", "kv_precision", "kv_heads", "context", "batch", "tp"),
        ("throughput", "decode"),
        ("per_node", "per_replica", "total"),
        criterion=LATENCY,
        ceiling=True,
        default=True,
        formula="sequences in the batch / per-token latency",
    ),
    # operations
    Q(
        "weight_load_time",
        "Loading a GPU's weights over PCIe",
        "time",
        "band",
        # at the link's rate down to ~3/8 of it (what host-to-device copies achieve), typically ~78%
        lambda c: Band(
            weights_per_gpu(c) / c.pcie_bandwidth,
            weights_per_gpu(c) / (0.375 * c.pcie_bandwidth),
            weights_per_gpu(c) / (0.78 * c.pcie_bandwidth),
        ),
        ("weight_precision", "tp", "pp"),
        ("load", "weights", "pcie"),
        ("per_gpu",),
        floor=True,
        derives_from=(
            _d(("weights_per_gpu", "pcie_bandwidth"), lambda p, c: p["weights_per_gpu"] / p["pcie_bandwidth"]),
            _d(("weights_per_gpu", "storage_bandwidth"), lambda p, c: p["weights_per_gpu"] / p["storage_bandwidth"]),
            _d(("weights_total", "storage_bandwidth"), lambda p, c: p["weights_total"] / p["storage_bandwidth"]),
        ),
        default=True,
    ),
    Q(
        "storage_bandwidth",
        "Storage or network read rate",
        "rate",
        "input",
        lambda c: Band(0.5e9, 50e9, 5e9),
        (),
        ("storage", "load"),
        (),
    ),
    Q(
        "capacity_loss",
        "Capacity lost with one replica down",
        "fraction",
        "derived",
        lambda c: [(1 / v, f"1 of {v:g} replicas") for v, _ in _replicas(c) if v],
        ("tp", "pp"),
        ("recovery", "capacity"),
        (),
    ),
    Q(
        "n_plus_one_load",
        "Load ceiling that survives losing a replica",
        "fraction",
        "derived",
        lambda c: [(1 - 1 / v, f"{v - 1:g} of {v:g} replicas") for v, _ in _replicas(c) if v > 1],
        ("tp", "pp"),
        ("recovery", "capacity"),
        (),
    ),
]

REGISTRY: dict[str, Quantity] = {q.id: q for q in _ALL}
if len(REGISTRY) != len(_ALL):  # pragma: no cover - a duplicate id is a typo in this file
    raise RuntimeError("duplicate quantity id in the registry")


def of_dimension(dimension: str, noun: str | None = None) -> list[Quantity]:
    """The quantities a figure of this dimension (and, for a count, this noun) may state."""
    return [q for q in _ALL if q.dimension == dimension and (dimension != "count" or q.noun == noun)]


def by_criterion(criterion: str) -> frozenset[str]:
    return frozenset(q.id for q in _ALL if q.criterion == criterion)


def by_topic(topic: str) -> frozenset[str]:
    return frozenset(q.id for q in _ALL if topic in q.topics)
