"""Verify a candidate's numbers against the calculator, under the candidate's own assumptions.

Policy (shared/reference/serving-arithmetic.md §5-6):

- Expected values come from `calculator.reference()` with the scenario's facts overridden by what the candidate
  assumed (INT8 weights, batch 16, 4K context...): right is right for their assumptions.
- Every legitimate convention is a variant, and a claim inside any variant's tolerance is correct; the closest
  variant (by |ln(claim/variant)|) is the one reported: GB or GiB, NVLink 600 GB/s both ways or 300 per
  direction, bubble (p-1)/m or (p-1)/(m+p-1), all-reduce payload or ring bytes, the rubric's batch of 16 or the
  workload's 32 when the candidate named none.
- Tolerance by claim/expected: exact figures within [0.9, 1.1], figures said with "~"/"about" within
  [0.8, 1.25]; "50+ GB" is right when the truth is at least ~50, "under 1 ms" when it is at most ~1.
  Latencies are physical: below 0.9x the HBM floor is impossible however roughly said, above 5x the floor
  (with KV reads) is pessimistic. Activations are an assumption: 0.5-6 GB per GPU is defensible.
- Written arithmetic is redone first: "350/8 = 48 GB" is an arithmetic slip even though 48 is within 10% of
  43.75, because the candidate showed how they got it.
- An incorrect figure gets a diagnosis: a unit slip (bits for bytes, x1000), a known mistake signature from its
  ratio or from recomputing under the mistaken convention, a premise that is wrong under arithmetic that is
  right, or a figure that follows consistently from an earlier wrong one (then it is flagged, and the
  diagnosis names the root).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from grader.calculator import BYTES_PER_ELEMENT, Quantity, ServingConfig, ring_allreduce_factor
from grader.calculator import reference as _reference_uncached
from grader.claims import Check, NumericClaim
from grader.scenario import Scenario, default_scenario
from grader.units import UNITS, Dimension, Unit, in_unit, parse_unit

EXACT_TOLERANCE = (0.9, 1.1)
APPROX_TOLERANCE = (0.8, 1.25)
ARITHMETIC_TOLERANCE = 0.03  # written arithmetic is redone to 3%: "393 KB" for 393,216 B is right, 48 for 43.75 not
SIGNATURE_TOLERANCE = 0.05
LATENCY_FLOOR_MARGIN = 0.9
LATENCY_PESSIMISTIC = 5.0
ACTIVATION_BAND = (0.5e9, 6e9)
NCCL_LATENCY_S = 10e-6  # per small all-reduce; kipply and llm-analysis use ~8 us
MEASURED_NVLINK_BUSBW = 200e9  # nccl-tests on 8x A100-80GB
GIB_OVER_GB = 2**30 / 1e9
COMM_BATCHES = (16, 32)  # sequences per decode step in communication figures: the rubric's and the workload's


@lru_cache(maxsize=512)
def reference(cfg: ServingConfig) -> dict[str, Quantity]:
    """`calculator.reference`, memoised on the frozen config: one transcript asks for the same few configs
    hundreds of times (every claim, every variant, every carry-forward check)."""
    return _reference_uncached(cfg)


QUANTITY_DIMENSION: dict[str, Dimension] = {
    **{
        q: "bytes"
        for q in (
            "weights_total",
            "weights_per_gpu",
            "kv_per_token",
            "kv_per_token_per_gpu",
            "kv_per_sequence",
            "kv_total",
            "kv_per_gpu",
            "kv_block_per_gpu",
            "activations",
            "per_gpu_total",
            "free_per_gpu",
            "allreduce_message",
            "allreduce_ring_bytes",
            "allreduce_per_layer",
            "tp_volume_per_step",
            "tp_volume_per_token",
            "pp_handoff_bytes",
            "gpu_memory",
        )
    },
    **{
        q: "time"
        for q in (
            "tp_comm_time",
            "allreduce_time",
            "pp_handoff_time",
            "decode_latency",
            "decode_latency_per_stage",
            "kv_read_time",
            "prefill_time",
            "latency_target",
            "ttft_target",
        )
    },
    **{q: "rate" for q in ("nvlink_bandwidth", "infiniband_bandwidth", "pcie_bandwidth", "hbm_bandwidth")},
    **{q: "flop" for q in ("prefill_flops", "flops_per_token")},
    "gpu_flops": "flops",
    "bubble": "fraction",
    "heads_per_gpu": "count",
    "max_sequences": "count",
    "min_gpus": "count",
}
_BANDED = (
    "decode_latency",
    "decode_latency_per_stage",
    "kv_read_time",
    "tp_comm_time",
    "allreduce_time",
    "pp_handoff_time",
    "prefill_time",
    "bubble",
)
_TARGETS = ("latency_target", "ttft_target")
_DECODE = ("decode_latency", "decode_latency_per_stage")

_OVERRIDABLE = ("tp", "pp", "dp", "batch", "context", "micro_batches", "weight_precision", "kv_precision")
COMM_QUANTITIES = frozenset(
    {
        "allreduce_message",
        "allreduce_ring_bytes",
        "allreduce_per_layer",
        "tp_volume_per_step",
        "tp_volume_per_token",
        "tp_comm_time",
        "allreduce_time",
        "pp_handoff_bytes",
        "pp_handoff_time",
    }
)
# Workload figures a candidate may fix inside their own arithmetic ("12,288 x 16 x 2"): when a claim is off,
# the bare counts written beside it are tried as that assumption. Parallel degrees and precisions are never
# re-solved: those are design choices the candidate must state, and guessing them would excuse real mistakes.
_RESOLVABLE: dict[str, tuple[str, ...]] = {
    **{q: ("comm_batch",) for q in COMM_QUANTITIES},
    **{q: ("batch", "context") for q in ("kv_total", "kv_per_gpu", "per_gpu_total")},
    "kv_per_sequence": ("context",),
    "bubble": ("micro_batches",),
    "prefill_flops": ("prefill_tokens",),
    "prefill_time": ("prefill_tokens",),
}
_FIELD_RANGE = {
    "comm_batch": (1, 4096),
    "batch": (1, 4096),
    "context": (128, 1_048_576),
    "micro_batches": (1, 512),
    "prefill_tokens": (16, 1_048_576),
}

# Ratio signatures (claimed / correct) of known mistakes, by the quantities they apply to. Mistakes whose value
# depends on the configuration (precision, PP, scope) are recomputed instead: see `_mistake_variants`.
_WEIGHTS = ("weights_total", "weights_per_gpu")
_KV = ("kv_per_token", "kv_per_sequence", "kv_total", "kv_per_gpu", "kv_per_token_per_gpu")
_AR_SCALED = ("allreduce_per_layer", "tp_volume_per_step", "tp_volume_per_token", "tp_comm_time")
SIGNATURES: list[tuple[float, str, tuple[str, ...]]] = [
    (8.0, "bits used as bytes (x8)", _WEIGHTS + _KV),
    (16.0, "bits used as bytes (x16)", _WEIGHTS + _KV),
    (0.5, "K and V: the factor 2 is missing", _KV),
    (0.5, "the 2 bytes per FP16 element are missing", _KV),
    (0.25, "both the K/V factor 2 and the 2 bytes per element are missing", _KV),
    (1 / 96, "the layer count (96) is missing", _KV),
    (4.0, "the FFN width (4 x d_model) used instead of the hidden size", _KV),
    (0.125, "divided by 8 GPUs twice, or bits and bytes mixed", ("kv_per_gpu", "weights_per_gpu")),
    (
        1 / 1.5,
        "payload only: the ring all-reduce sends 2(n-1)/n = 1.5x it per GPU (n=4)",
        ("allreduce_ring_bytes", *_AR_SCALED),
    ),
    (
        1 / 1.75,
        "payload only: the ring all-reduce sends 2(n-1)/n = 1.75x it per GPU (n=8)",
        ("allreduce_ring_bytes", *_AR_SCALED),
    ),
    (0.5, "one all-reduce per layer counted; inference has two (attention and MLP)", _AR_SCALED),
    (2.0, "four all-reduces per layer (training's forward + backward); inference has two", _AR_SCALED),
    (
        4.0,
        "all-reduce sized on the FFN activation (4 x d_model) instead of the hidden size",
        ("allreduce_message", "allreduce_ring_bytes", "allreduce_per_layer", "tp_volume_per_step"),
    ),
    (8.0, "InfiniBand's 200 Gb/s read as 200 GB/s (bits for bytes)", ("infiniband_bandwidth",)),
    (1.5, "NVLink 4 (H100, 900 GB/s) figures used for an A100", ("nvlink_bandwidth",)),
    (3.0, "training's 6P FLOPs per token used (a forward pass is 2P)", ("prefill_flops", "flops_per_token")),
    (0.5, "P FLOPs per token used instead of 2P", ("prefill_time", "prefill_flops", "flops_per_token")),
    (0.5, "sparse TFLOPS (624) used; LLM math uses the dense 312", ("prefill_time",)),
    (8.0, "one GPU's HBM bandwidth used instead of the TP group's aggregate", ("decode_latency",)),
    (2.0, "the sparse (structured-sparsity) TFLOPS; LLM math uses the dense figure", ("gpu_flops",)),
]


@dataclass
class Variant:
    label: str
    low: float
    high: float | None = None  # a band when set: any value in [low, high] is right
    typical: float | None = None  # what to show as "expected" for a band of judgement (activations)

    def accepts(
        self, claimed: float, tol: tuple[float, float], lower_bound: bool = False, upper_bound: bool = False
    ) -> bool:
        lo, hi = self.low, self.high if self.high is not None else self.low
        if lower_bound:  # "50+ GB": right when the truth is at least about that much
            return hi >= claimed * tol[0]
        if upper_bound:  # "under 1 ms": right when the truth is at most about that much
            return lo <= claimed * tol[1]
        return lo * tol[0] <= claimed <= hi * tol[1]

    def distance(self, claimed: float) -> float:
        """|ln(claim / variant)|, 0 inside a band: how the closest accepted convention is chosen."""
        lo, hi = self.low, self.high if self.high is not None else self.low
        if claimed <= 0 or lo <= 0:
            return math.inf
        if lo <= claimed <= hi:
            return 0.0
        return min(abs(math.log(claimed / lo)), abs(math.log(claimed / hi)))

    def point(self) -> float:
        """The figure to show as "expected": for a band its floor, the physically meaningful end, unless the
        band is a judgement with a typical value."""
        return self.typical if self.typical is not None else self.low


@dataclass
class CheckContext:
    """What the checker remembers while it walks a transcript: the candidate's own figures, for carry-forward."""

    carried: dict[tuple[str, str, str], float] = field(default_factory=dict)
    wrong: dict[tuple[str, str, str], Check] = field(default_factory=dict)  # -> the root mistake behind a figure

    @staticmethod
    def key(quantity: str, cfg: ServingConfig) -> tuple[str, str, str]:
        """Figures are carried per precision: an INT4 weights total stated in passing must not replace the
        FP16 one that later figures are computed from."""
        return quantity, cfg.weight_precision, cfg.kv_precision


@dataclass
class _Claim:
    """A claim with everything the checks need worked out once."""

    claim: NumericClaim
    unit: Unit
    base: float  # the claimed value in base units
    tol: tuple[float, float]
    assumptions: dict[str, float | int | str]  # the candidate's, without the extractor's '_' flags
    quantities: list[str]  # the claim's quantity, then the alternatives its words allow
    lower_bound: bool
    upper_bound: bool
    guessed: bool
    inherited: frozenset[str]  # assumptions carried from earlier sentences, not stated with this figure

    @property
    def quantity(self) -> str:
        return self.claim.quantity


def _parse(claim: NumericClaim) -> _Claim | str:
    """The claim worked out, or why it cannot be checked."""
    unit = UNITS["count"] if claim.unit == "count" else parse_unit(claim.unit)
    if unit is None:
        return f"unknown unit {claim.unit!r}"
    if claim.quantity not in QUANTITY_DIMENSION:
        return "not a quantity the checker knows"
    dim = QUANTITY_DIMENSION[claim.quantity]
    if unit.dimension != dim:
        return f"{claim.unit} does not measure a {dim} quantity"
    flags = claim.assumptions
    tol = APPROX_TOLERANCE if claim.approx else EXACT_TOLERANCE
    if claim.quantity in _DECODE:
        tol = (LATENCY_FLOOR_MARGIN, tol[1])  # nothing runs faster than the floor, however roughly said
    alternatives = [q for q in str(flags.get("_alternatives", "")).split(",") if q in QUANTITY_DIMENSION]
    if unit.bits and dim == "bytes":
        alternatives = []  # "350 Gb" of weights is a unit slip, not 43.75 GB per GPU
    return _Claim(
        claim=claim,
        unit=unit,
        base=claim.value * unit.factor,
        tol=tol,
        assumptions={k: v for k, v in flags.items() if not k.startswith("_")},
        quantities=[claim.quantity, *alternatives],
        lower_bound=bool(flags.get("_lower_bound")),
        upper_bound=bool(flags.get("_upper_bound")),
        guessed=bool(flags.get("_guessed")),
        inherited=frozenset(str(flags.get("_inherited", "")).split(",")) - {""},
    )


@lru_cache(maxsize=1024)
def _config_cached(items: tuple[tuple[str, object], ...], scenario_key: int) -> ServingConfig | None:
    try:
        return ServingConfig.from_scenario(_SCENARIOS[scenario_key], **dict(items))
    except ValueError:
        return None


_SCENARIOS: dict[int, Scenario] = {}


def _config(assumptions: dict[str, float | int | str], scenario: Scenario, **extra: object) -> ServingConfig | None:
    """The candidate's configuration: the scenario's facts with their stated assumptions (None if invalid)."""
    overrides: dict[str, object] = {k: assumptions[k] for k in _OVERRIDABLE if k in assumptions}
    if "batch" in overrides:
        overrides["comm_batch"] = overrides["batch"]
    overrides.update(extra)
    _SCENARIOS.setdefault(id(scenario), scenario)  # scenarios are few and live for the process
    return _config_cached(tuple(sorted(overrides.items(), key=lambda kv: kv[0])), id(scenario))


# --- accepted values -------------------------------------------------------------------------------------


def _variants(quantity: str, cfg: ServingConfig, scenario: Scenario, quote: str, context_stated: bool) -> list[Variant]:
    """The accepted values of one quantity under one configuration, main convention first."""
    if quantity in _BANDED:
        return _physical_variants(quantity, cfg, quote)
    ref = reference(cfg)
    if quantity in ref and quantity != "activations":  # the reference's 5 GB is a budget, not a derivation
        return _reference_variants(quantity, cfg, ref, scenario, context_stated)
    return _fact_variants(quantity, cfg, scenario, quote)


def _reference_variants(
    quantity: str, cfg: ServingConfig, ref: dict[str, Quantity], scenario: Scenario, context_stated: bool
) -> list[Variant]:
    main = ref[quantity].value
    if quantity == "max_sequences":
        hi = (80 * 2**30 - ref["weights_per_gpu"].value) / ref["kv_per_token_per_gpu"].value / cfg.context
        return [Variant("26-35 full sequences, by overhead and GB/GiB accounting", main * 0.93, hi)]
    out = [Variant("as computed", main)]
    if QUANTITY_DIMENSION.get(quantity) == "bytes":
        out += [
            Variant("a GiB figure labelled GB", main / GIB_OVER_GB),
            Variant("a GB figure labelled GiB", main * GIB_OVER_GB),
        ]
    if quantity == "free_per_gpu":
        out.append(Variant("80 GiB of memory", main + 80 * (GIB_OVER_GB - 1) * 1e9))
    if quantity in ("kv_total", "kv_per_gpu", "kv_per_sequence", "per_gpu_total") and not context_stated:
        alt = reference(cfg.model_copy(update={"context": scenario.workload.prompt_tokens}))[quantity].value
        out.append(Variant("prompt tokens only", alt))
    if quantity == "per_gpu_total":
        kv_w = ref["weights_per_gpu"].value + ref["kv_per_gpu"].value
        out.append(Variant("activations 0.5-6 GB", kv_w + ACTIVATION_BAND[0], kv_w + ACTIVATION_BAND[1]))
    return out


def _fact_variants(quantity: str, cfg: ServingConfig, scenario: Scenario, quote: str) -> list[Variant]:
    """Hardware facts and targets: accepted as the scenario states them, in either convention."""
    hw = scenario.hardware
    if quantity == "activations":
        return [Variant("0.5-6 GB per GPU", *ACTIVATION_BAND, typical=cfg.activation_bytes)]
    if quantity == "gpu_memory":
        return [Variant("80 GB", hw.gpu_memory_bytes), Variant("80 GiB", hw.gpu_memory_bytes * GIB_OVER_GB)]
    if quantity == "nvlink_bandwidth":
        return [
            Variant("both directions", hw.nvlink_bandwidth),
            Variant("per direction", hw.nvlink_bandwidth_per_direction),
        ]
    if quantity == "infiniband_bandwidth":
        out = [Variant("HDR per GPU", hw.infiniband_bandwidth)]
        if re.search(r"\bnode\b", quote, re.I):
            out.append(Variant("per node, 8 NICs", hw.infiniband_bandwidth * hw.gpus_per_node))
        return out
    if quantity == "pcie_bandwidth":
        return [Variant("per direction", hw.pcie_bandwidth), Variant("both directions", 2 * hw.pcie_bandwidth)]
    if quantity == "flops_per_token":
        return [Variant("2P: two FLOPs per parameter per token", 2 * cfg.params)]
    if quantity == "gpu_flops":
        return [Variant("dense FP16/BF16 tensor peak", hw.fp16_flops)]
    if quantity == "hbm_bandwidth":
        return [Variant("HBM2e", hw.hbm_bandwidth, 2.0e12 if hw.hbm_bandwidth > 2.0e12 else None)]
    if quantity == "latency_target":
        return [Variant("the scenario's P99 inter-token target", scenario.workload.p99_inter_token_latency_ms / 1e3)]
    if quantity == "ttft_target":
        return [Variant("the scenario's P99 time-to-first-token", scenario.workload.p99_time_to_first_token_s)]
    raise KeyError(quantity)


_IB_CUE = re.compile(r"InfiniBand|\bIB\b|\bHDR\b|across nodes|between nodes|inter-?node|\bNICs?\b", re.I)
_NVLINK_CUE = re.compile(r"NVLink|NVSwitch|intra-?node|same node|inside (?:a|the|one) node", re.I)


def _physical_variants(quantity: str, cfg: ServingConfig, quote: str = "") -> list[Variant]:
    """Bands for times, which have a floor set by physics and no single right answer above it."""
    ref = reference(cfg)
    if quantity == "decode_latency":
        lo, hi = ref["decode_latency"].value, ref["decode_latency_with_kv"].value * LATENCY_PESSIMISTIC
        return [Variant("at or above the HBM floor, under 5x it with KV reads", lo, hi)]
    if quantity == "decode_latency_per_stage":
        lo = ref["decode_latency"].value / cfg.pp
        return [
            Variant(
                "one stage's weights from HBM, under 5x it with KV reads",
                lo,
                ref["decode_latency_with_kv"].value / cfg.pp * LATENCY_PESSIMISTIC,
            )
        ]
    if quantity == "kv_read_time":
        kv = ref["decode_latency_with_kv"].value - ref["decode_latency"].value
        return [Variant("KV bytes over the aggregate HBM bandwidth; stages overlapped or in sequence", kv / cfg.pp, kv)]
    if quantity == "tp_comm_time":
        return [_tp_comm_band(ref, cfg, quote)]
    if quantity == "allreduce_time":
        ring = ref["allreduce_ring_bytes"].value
        return [
            Variant(
                "one all-reduce: bandwidth-only at 600 GB/s to busbw plus ~10 us latency",
                ring / cfg.link_bandwidth,
                ring / MEASURED_NVLINK_BUSBW + NCCL_LATENCY_S,
            )
        ]
    if quantity == "pp_handoff_time":
        return [_handoff_band(ref["pp_handoff_bytes"].value, cfg, quote)]
    if quantity == "prefill_time":
        return [
            Variant(
                "compute floor to 20% utilisation",
                ref["prefill_time"].value,
                ref["prefill_time"].value * LATENCY_PESSIMISTIC,
            )
        ]
    if quantity == "bubble":
        return [Variant("(p-1)/(m+p-1)", ref["bubble"].value), Variant("(p-1)/m", (cfg.pp - 1) / cfg.micro_batches)]
    return []


def _tp_comm_band(ref: dict[str, Quantity], cfg: ServingConfig, quote: str) -> Variant:
    """All-reduce time per step: on NVLink from the bandwidth-only figure at 600 GB/s to measured bus bandwidth
    plus ~10 us per call; over InfiniBand (TP across nodes, only when the candidate says so) at 25 GB/s with
    twice the per-call latency."""
    vol = ref["tp_volume_per_step"].value
    calls = ref["allreduces_per_step"].value
    nvlink_band = (vol / cfg.link_bandwidth, vol / MEASURED_NVLINK_BUSBW + NCCL_LATENCY_S * calls)
    ib_band = (vol / 25e9, vol / 20e9 + 2 * NCCL_LATENCY_S * calls)
    ib, nvlink = _IB_CUE.search(quote), _NVLINK_CUE.search(quote)
    if ib and not nvlink:
        return Variant("over InfiniBand HDR, 25 GB/s per GPU", *ib_band)
    if ib and nvlink:
        return Variant("NVLink or InfiniBand (both named)", nvlink_band[0], ib_band[1])
    return Variant("bandwidth-only at 600 GB/s to measured busbw plus latency", *nvlink_band)


def _handoff_band(nbytes: float, cfg: ServingConfig, quote: str) -> Variant:
    """The hand-off over the link the candidate named: NVLink (either direction convention, a few us of
    latency), InfiniBand HDR (25 GB/s per GPU), or anything between when they named neither."""
    ib, nvlink = _IB_CUE.search(quote), _NVLINK_CUE.search(quote)
    ib_time = nbytes / 25e9
    if ib and not nvlink:
        return Variant("over InfiniBand HDR, 25 GB/s", ib_time, ib_time + 5e-6)
    if nvlink and not ib:
        return Variant(
            "over NVLink, 600 or 300 GB/s",
            nbytes / cfg.link_bandwidth,
            nbytes / cfg.link_bandwidth_per_direction + 5e-6,
        )
    return Variant("NVLink to InfiniBand", nbytes / cfg.link_bandwidth, ib_time + 5e-6)


def _configs(c: _Claim, scenario: Scenario, quantity: str) -> Iterable[tuple[ServingConfig, dict]]:
    """The candidate's configuration, then the unstated-batch conventions for communication figures."""
    base = _config(c.assumptions, scenario)
    if base is None:
        return
    yield base, {}
    if quantity in COMM_QUANTITIES and ("batch" not in c.assumptions or "batch" in c.inherited):
        # no batch stated with the figure: the rubric's 16 sequences per step, or the workload's 32 (a batch
        # carried over from the KV arithmetic says nothing about the step the candidate is sizing now)
        for b in COMM_BATCHES:
            if b != base.comm_batch:
                yield base.model_copy(update={"comm_batch": b}), {"batch": b}


_BARE_COUNT = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\d.,]\d)(?:\s*([kK])(?![A-Za-z]))?"
    r"(?=\s*(?:$|[xX×](?![A-Za-z])|(?:tokens?|seqs?|sequences?|requests?|micro-?batch\w*|ctx|context|prompts?)\b"
    r"|-(?!way)|[^\w%μµ\s-]))"
)


def _bare_counts(text: str) -> list[int]:
    """Integers written without a unit ("x 16", "2K"): the premises a candidate can fix inside their own
    arithmetic. "2K" is 2,048 tokens."""
    out = set()
    for num, k in _BARE_COUNT.findall(text):
        n = int(num.replace(",", ""))
        out.add(n * 1024 if k else n)
    return sorted(out)


def _accepted(c: _Claim, scenario: Scenario) -> tuple[Variant, str, dict] | None:
    """The closest convention that accepts the claim, under the stated assumptions or a premise the
    candidate wrote beside it; None when none does."""
    best: tuple[float, int, Variant, str, dict] | None = None
    context_stated = "context" in c.assumptions
    for rank, quantity in enumerate(c.quantities):
        for cfg, extra in _configs(c, scenario, quantity):
            for v in _variants(quantity, cfg, scenario, c.claim.quote, context_stated):
                if v.accepts(c.base, c.tol, c.lower_bound, c.upper_bound):
                    bound = c.lower_bound or c.upper_bound  # a bound says nothing about which convention
                    key = (0.0 if bound else round(v.distance(c.base) + _label_penalty(v, c), 3), rank)
                    if best is None or key < best[:2]:
                        best = (*key, v, quantity, extra)
    if best is not None:
        return best[2], best[3], best[4]
    return _accepted_with_written_premise(c, scenario)


def _label_penalty(v: Variant, c: _Claim) -> float:
    """A rounded figure ("~1 MB") says nothing about GB vs GiB: name the mislabel only for exact figures."""
    return 1.0 if c.claim.approx and "labelled" in v.label else 0.0


def _accepted_with_written_premise(c: _Claim, scenario: Scenario) -> tuple[Variant, str, dict] | None:
    counts = _bare_counts(f"{c.claim.expression or ''} {c.claim.quote}")
    for quantity in c.quantities:
        for field_name in _RESOLVABLE.get(quantity, ()):
            lo, hi = _FIELD_RANGE[field_name]
            for n in (n for n in counts if lo <= n <= hi):
                cfg = _config(c.assumptions, scenario, **{field_name: n})
                if cfg is None:
                    continue
                for v in _variants(quantity, cfg, scenario, c.claim.quote, True):
                    if v.accepts(c.base, c.tol, c.lower_bound, c.upper_bound):
                        label = Variant(f"{v.label}, {field_name}={n}", v.low, v.high, v.typical)
                        return label, quantity, {field_name: n}
    return None


# --- written arithmetic ---------------------------------------------------------------------------------

_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_EXPR_TOKEN = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<space>\s*)"
    r"(?P<unit>GB/s|Gb/s|TB/s|MB/s|GiB|MiB|KiB|GB|MB|KB|kB|TB|Gb|[kK](?![A-Za-z])|B(?![a-z])|bytes?|ms|us|μs|µs|s\b)?"
    r"|(?P<op>[()+\-*/×÷])|(?P<x>\bx\b)|(?P<word>[A-Za-z_][A-Za-z_0-9]*)"
)


def _operand(m: re.Match[str]) -> tuple[float, bool]:
    """One number of written arithmetic in base units, and whether it carried a unit.

    "175B" (no space) is billions of parameters and "2 B" bytes; "2K" tokens is 2,048."""
    value = float(m.group("num").replace(",", ""))
    unit = m.group("unit")
    if not unit:
        return value, False
    if unit in ("k", "K"):
        return value * 1024, False
    if unit == "B":
        return (value * 1e9, False) if not m.group("space") and value < 1000 else (value, False)
    if unit.lower().startswith("byte"):
        return value, False
    u = parse_unit(unit)
    return (value * u.factor, True) if u is not None else (value, False)


def evaluate_expression(expr: str) -> tuple[float, bool] | None:
    """Redo written arithmetic: '175GB/2/4' -> (21.875e9, True). Units become base units; words are dropped
    ('350GB FP16 / 8 GPUs'); '175B' (attached) is billions, '2 B' bytes, '2K' 2,048. Returns (value, whether
    any operand had a unit), or None when it is not arithmetic."""
    parts: list[str] = []
    has_unit = False
    expr = re.sub(r"\([A-Za-z][A-Za-z0-9 ]*\)", " ", expr)  # "2 bytes (FP16)": a label, not a bracket
    for m in _EXPR_TOKEN.finditer(expr):
        if m.group("num"):
            value, with_unit = _operand(m)
            has_unit |= with_unit
            parts.append(repr(value))
        elif m.group("op"):
            parts.append({"×": "*", "÷": "/"}.get(m.group("op"), m.group("op")))
        elif m.group("x"):
            parts.append("*")
    text = re.sub(r"^[-+*/ ]+", "", " ".join(parts).strip())
    if not text or not re.search(r"[-+*/]", text):
        return None
    try:
        return _eval(ast.parse(text, mode="eval").body), has_unit
    except (SyntaxError, ValueError, ZeroDivisionError, TypeError):
        return None


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand)
    raise ValueError("not arithmetic")


def _arithmetic(claim: NumericClaim, unit_factor: float) -> tuple[bool, float] | None:
    """(is the written arithmetic right, its result in the claim's unit), or None if there is none."""
    if not claim.expression:
        return None
    result = evaluate_expression(claim.expression)
    if result is None:
        return None
    value, has_unit = result
    # without units the operands are in the claim's unit ("350/8 = 43.75 GB") or in base units ("12,288 x 16
    # x 2 = 393 KB"); with units, in base units
    candidates = [value / unit_factor] if has_unit else [value, value / unit_factor]
    lo, hi = APPROX_TOLERANCE if claim.approx else (1 - ARITHMETIC_TOLERANCE, 1 + ARITHMETIC_TOLERANCE)
    for c in candidates:
        if c and lo <= claim.value / c <= hi:
            return True, c
    return False, candidates[0]


# --- carry-forward: figures computed consistently from an earlier wrong one ------------------------------

Derivation = Callable[[dict[str, float], ServingConfig], float]
DERIVATIONS: dict[str, list[tuple[tuple[str, ...], Derivation]]] = {
    "weights_per_gpu": [(("weights_total",), lambda c, g: c["weights_total"] / (g.tp * g.pp))],
    "free_per_gpu": [
        (("weights_per_gpu",), lambda c, g: g.gpu_memory_bytes - c["weights_per_gpu"]),
        (("weights_total",), lambda c, g: g.gpu_memory_bytes - c["weights_total"] / (g.tp * g.pp)),
    ],
    "kv_per_sequence": [(("kv_per_token",), lambda c, g: c["kv_per_token"] * g.context)],
    "kv_total": [
        (("kv_per_sequence",), lambda c, g: c["kv_per_sequence"] * g.batch),
        (("kv_per_token",), lambda c, g: c["kv_per_token"] * g.context * g.batch),
    ],
    "kv_per_gpu": [
        (("kv_total",), lambda c, g: c["kv_total"] / (g.tp * g.pp)),
        (("kv_per_token_per_gpu",), lambda c, g: c["kv_per_token_per_gpu"] * g.context * g.batch),
    ],
    "per_gpu_total": [
        (
            ("weights_per_gpu", "kv_per_gpu", "activations"),
            lambda c, g: c["weights_per_gpu"] + c["kv_per_gpu"] + c["activations"],
        )
    ],
    "allreduce_ring_bytes": [
        (("allreduce_message",), lambda c, g: c["allreduce_message"] * ring_allreduce_factor(n=g.tp))
    ],
    "allreduce_per_layer": [
        (("allreduce_ring_bytes",), lambda c, g: 2 * c["allreduce_ring_bytes"]),
        (("allreduce_message",), lambda c, g: 2 * c["allreduce_message"]),
    ],
    "tp_volume_per_step": [(("allreduce_per_layer",), lambda c, g: c["allreduce_per_layer"] * g.layers)],
    "tp_volume_per_token": [
        (("tp_volume_per_step",), lambda c, g: c["tp_volume_per_step"] / g.comm_batch),
        (("allreduce_per_layer",), lambda c, g: c["allreduce_per_layer"] * g.layers),
    ],
    "tp_comm_time": [
        (("tp_volume_per_step",), lambda c, g: c["tp_volume_per_step"] / g.link_bandwidth),
        (("tp_volume_per_token",), lambda c, g: c["tp_volume_per_token"] / g.link_bandwidth),
        (("tp_volume_per_step",), lambda c, g: c["tp_volume_per_step"] / g.link_bandwidth_per_direction),
        (("tp_volume_per_step", "nvlink_bandwidth"), lambda c, g: c["tp_volume_per_step"] / c["nvlink_bandwidth"]),
    ],
    "pp_handoff_time": [
        (("pp_handoff_bytes",), lambda c, g: c["pp_handoff_bytes"] / g.link_bandwidth),
        (("pp_handoff_bytes", "infiniband_bandwidth"), lambda c, g: c["pp_handoff_bytes"] / c["infiniband_bandwidth"]),
        (("pp_handoff_bytes", "nvlink_bandwidth"), lambda c, g: c["pp_handoff_bytes"] / c["nvlink_bandwidth"]),
    ],
    "decode_latency": [
        (("weights_total",), lambda c, g: c["weights_total"] / (g.tp * g.hbm_bandwidth)),
        (("weights_per_gpu",), lambda c, g: c["weights_per_gpu"] * g.pp / g.hbm_bandwidth),
    ],
}


_FACT_DEFAULTS = {"activations": 5e9, "infiniband_bandwidth": 25e9, "nvlink_bandwidth": 600e9}


def _carried_from_error(
    quantity: str,
    claimed: float,
    cfg: ServingConfig,
    ctx: CheckContext,
    tol: tuple[float, float],
    lower_bound: bool = False,
) -> Check | None:
    """The earlier wrong check this figure follows from, if recomputing with the candidate's own figures
    gives it."""
    ref = reference(cfg)
    for inputs, fn in DERIVATIONS.get(quantity, []):
        keys = {i: CheckContext.key(i, cfg) for i in inputs}
        wrong = [ctx.wrong[keys[i]] for i in inputs if keys[i] in ctx.wrong]
        if not wrong:
            continue
        vals = {i: ctx.carried.get(keys[i], ref[i].value if i in ref else _FACT_DEFAULTS[i]) for i in inputs}
        try:
            v = fn(vals, cfg)
        except ZeroDivisionError:
            continue
        if v > 0 and (v >= claimed * tol[0] if lower_bound else tol[0] <= claimed / v <= tol[1]):
            return wrong[0]
    return None


# --- mistakes --------------------------------------------------------------------------------------------

# A figure that is right for a neighbouring scope: per step called per token, total called per GPU...
SCOPE_SLIPS: dict[str, list[tuple[str, str]]] = {
    "tp_volume_per_token": [
        ("tp_volume_per_step", "the per-step volume (all sequences of the batch) called per token")
    ],
    "tp_volume_per_step": [
        ("allreduce_per_layer", "one layer's traffic given for the whole step"),
        ("tp_volume_per_token", "a per-token figure given for the whole step"),
    ],
    "allreduce_per_layer": [("tp_volume_per_step", "the whole step's traffic called per layer")],
    "weights_per_gpu": [("weights_total", "not divided across the GPUs")],
    "weights_total": [("weights_per_gpu", "a per-GPU figure given as the total")],
    "kv_per_gpu": [("kv_total", "not divided across the GPUs that the weights were divided over")],
    "kv_total": [
        ("kv_per_gpu", "a per-GPU figure given as the total"),
        ("kv_per_sequence", "one sequence given as the whole batch"),
    ],
    "kv_per_sequence": [
        ("kv_per_token", "a per-token figure given per sequence"),
        ("kv_total", "the whole batch given per sequence"),
    ],
    "kv_per_token": [("kv_per_token_per_gpu", "a per-GPU share given for the whole model")],
}
_PRECISION_SLIPS: dict[tuple[str, str], str] = {
    ("fp16", "int8"): "parameters used as bytes: FP16 weights are 2 bytes per parameter",
    ("bf16", "int8"): "parameters used as bytes: BF16 weights are 2 bytes per parameter",
    ("fp16", "fp32"): "FP32 (4 bytes) used instead of FP16 (2 bytes)",
    ("bf16", "fp32"): "FP32 (4 bytes) used instead of BF16 (2 bytes)",
    ("int4", "int8"): "INT4 counted as 1 byte per parameter; it is half a byte",
    ("int8", "fp16"): "FP16's 2 bytes per parameter used, though INT8 weights (1 byte) were assumed",
    ("int4", "fp16"): "FP16's 2 bytes per parameter used, though INT4 weights (0.5 byte) were assumed",
}
_WEIGHT_BOUND = ("weights_total", "weights_per_gpu", "free_per_gpu", "decode_latency")


def _mistake_variants(quantity: str, cfg: ServingConfig, scenario: Scenario) -> list[tuple[str, float]]:
    """Values a known mistake produces under the candidate's own configuration."""
    ref = reference(cfg)
    out = [(label, ref[other].value) for other, label in SCOPE_SLIPS.get(quantity, []) if other in ref]
    if cfg.pp > 1 and quantity in ("weights_per_gpu", "kv_per_gpu", "kv_per_token_per_gpu", "free_per_gpu"):
        flat = reference(cfg.model_copy(update={"pp": 1}))[quantity].value
        out.append((f"divided by TP ({cfg.tp}) only; with {cfg.pp} pipeline stages each GPU holds 1/(TP x PP)", flat))
    if quantity in _WEIGHT_BOUND:
        for precision in BYTES_PER_ELEMENT:
            label = _PRECISION_SLIPS.get((cfg.weight_precision, precision))
            if label and quantity in ref:
                out.append((label, reference(cfg.model_copy(update={"weight_precision": precision}))[quantity].value))
    if quantity == "tp_comm_time":
        vol = ref["tp_volume_per_step"].value
        lat = NCCL_LATENCY_S * ref["allreduces_per_step"].value
        pcie = scenario.hardware.pcie_bandwidth
        out.append((f"the time of a PCIe-class link ({pcie / 1e9:g} GB/s), not NVLink", vol / pcie + lat))
    if quantity == "pp_handoff_time":
        out.append(("InfiniBand's 200 read as GB/s: HDR is 200 Gb/s = 25 GB/s", ref["pp_handoff_bytes"].value / 200e9))
    if quantity == "decode_latency":
        one_gpu = ref["weights_total"].value / cfg.hbm_bandwidth
        out.append(("one GPU's HBM bandwidth used instead of the TP group's aggregate", one_gpu))
    return out


def _mistakes(c: _Claim, scenario: Scenario) -> list[str]:
    """Known mistakes that, redone under the candidate's configuration, give their figure."""
    out = []
    for cfg, _ in _configs(c, scenario, c.quantity):
        for label, value in _mistake_variants(c.quantity, cfg, scenario):
            if value and c.tol[0] <= c.base / value <= c.tol[1]:
                out.append(label)
    return out


def _signatures(c: _Claim, cfg: ServingConfig, scenario: Scenario) -> list[str]:
    """Known mistakes whose ratio (claimed / correct) the claim shows, for its quantity, or failing that for
    the alternatives its words allow."""
    out: list[str] = []
    for target in c.quantities:
        if out:
            break
        main = _variants(target, cfg, scenario, c.claim.quote, True)[0].point()
        if not main:
            continue
        r = c.base / main
        lo, hi = c.tol if c.claim.approx else (1 - SIGNATURE_TOLERANCE, 1 + SIGNATURE_TOLERANCE)
        for sig, label, applies in SIGNATURES:
            if target in applies and lo <= r / sig <= hi:
                out.append(label if target == c.quantity else f"as {target.replace('_', ' ')}: {label}")
    return out


def _unit_slips(c: _Claim, main: Variant) -> list[str]:
    """Bits written for bytes, or a x1000 prefix slip, that would make the figure right."""
    dim = QUANTITY_DIMENSION[c.quantity]
    if c.unit.bits and dim in ("bytes", "rate") and main.accepts(c.base * 8, c.tol):
        return [f"unit slip: {c.claim.unit} is bits; the figure is right in bytes ({c.claim.unit.replace('b', 'B')})"]
    if c.lower_bound or c.upper_bound:
        return []
    for factor, label in ((1e3, "x1000 unit slip (e.g. MB for GB)"), (1e-3, "x1000 unit slip (e.g. GB for MB)")):
        if main.accepts(c.base / factor, c.tol):
            return [label]
    return []


def _physical_notes(c: _Claim, cfg: ServingConfig, main: Variant) -> list[str]:
    """Latencies below what physics allows, or far above what the hardware does."""
    if c.quantity not in _DECODE and c.quantity != "prefill_time":
        return []
    ratio = c.base / main.point() if main.point() else float("inf")
    if c.quantity in _DECODE:
        if ratio < 1:
            return [
                "below the physical floor: every weight is read from HBM once per step, at best "
                f"{reference(cfg)['decode_latency'].value * 1e3:.1f} ms with TP{cfg.tp}"
            ]
        if main.high and c.base > main.high * c.tol[1]:
            return [
                f"pessimistic: more than {LATENCY_PESSIMISTIC:g}x the HBM floor with KV reads "
                f"({main.high * 1e3 / LATENCY_PESSIMISTIC:.0f} ms)"
            ]
    if c.quantity == "prefill_time" and ratio < 1:
        return [
            f"below the compute floor: 2P FLOPs per token at 100% of {cfg.gpus} x "
            f"{cfg.fp16_flops / 1e12:g} TFLOPS is {main.point():.3g} s"
        ]
    return []


# --- the checker ----------------------------------------------------------------------------------------


def _check(
    c: _Claim,
    verdict: str,
    expected_base: float | None,
    quantity: str,
    diagnosis: str | None = None,
    convention: str | None = None,
    consistent: bool = False,
    extra: dict | None = None,
) -> Check:
    expected = None
    if expected_base is not None:
        expected = float(f"{in_unit(expected_base, c.unit.canonical):.4g}")
    return Check(
        quantity=quantity,
        claimed=c.claim.value,
        unit=c.claim.unit,
        expected=expected,
        verdict=verdict,  # type: ignore[arg-type]
        turn=c.claim.turn,
        quote=c.claim.quote,
        assumptions={**c.assumptions, **(extra or {})},
        diagnosis=diagnosis,
        convention=convention,
        consistent_with_earlier_error=consistent,
    )


def _unverifiable(claim: NumericClaim, why: str) -> Check:
    return Check(
        quantity=claim.quantity,
        claimed=claim.value,
        unit=claim.unit,
        expected=None,
        verdict="unverifiable",
        turn=claim.turn,
        quote=claim.quote,
        assumptions={k: v for k, v in claim.assumptions.items() if not k.startswith("_")},
        diagnosis=why,
    )


def check_claim(claim: NumericClaim, ctx: CheckContext | None = None, scenario: Scenario | None = None) -> Check:
    """One claim's verdict, expected value in the claim's unit, and diagnosis."""
    scenario = scenario or default_scenario()
    ctx = ctx if ctx is not None else CheckContext()
    c = _parse(claim)
    if isinstance(c, str):
        return _unverifiable(claim, c)
    cfg = _config(c.assumptions, scenario)
    if cfg is None:
        return _unverifiable(claim, "the stated assumptions are not a valid configuration")
    if c.quantity == "bubble" and cfg.pp == 1 and not c.guessed:
        return _unverifiable(claim, "a pipeline bubble, but no pipeline stages were stated")
    arith = _arithmetic(claim, c.unit.factor)
    if arith is None or arith[0]:
        hit = _accepted(c, scenario)
        if hit is not None and not _shown_mistake(c, scenario, arith):
            v, quantity, extra = hit
            return _with_fit(_check(c, "correct", v.point(), quantity, convention=v.label, extra=extra), claim, cfg)
    if c.quantity in _TARGETS:
        main = _variants(c.quantity, cfg, scenario, claim.quote, True)[0]
        return _check(c, "unverifiable", main.point(), c.quantity, "a target the candidate set, not a derived figure")
    return _with_fit(_diagnose(c, cfg, ctx, scenario, arith), claim, cfg)


_SHOWN_BY_WORDS = {
    "decode_latency": re.compile(r"\b(?:one|a single|single|one GPU's)\s+GPU", re.I),
    "prefill_time": re.compile(r"\bsparse\b", re.I),
}


def _shown_mistake(c: _Claim, scenario: Scenario, arith: tuple[bool, float] | None) -> bool:
    """A time inside its wide band that the candidate's own arithmetic or words show came from a known mistake
    ("350 GB / 2 TB/s = 175 ms": one GPU's bandwidth). The band is for estimates; a derivation is checked."""
    if c.quantity not in _SHOWN_BY_WORDS:
        return False
    words = _SHOWN_BY_WORDS[c.quantity].search(c.claim.quote)
    if not (words or (arith is not None and arith[0])):
        return False
    return bool(_mistakes(c, scenario))


def _diagnose(
    c: _Claim, cfg: ServingConfig, ctx: CheckContext, scenario: Scenario, arith: tuple[bool, float] | None
) -> Check:
    """The verdict on a claim no convention accepts: incorrect, and why (or unverifiable for a figure whose
    quantity was only guessed and whose arithmetic is not wrong)."""
    quantity = c.quantity
    main = _variants(quantity, cfg, scenario, c.claim.quote, "context" in c.assumptions)[0]
    reasons: list[str] = []
    if arith is not None and not arith[0]:
        reasons.append(f"arithmetic slip: {c.claim.expression} = {arith[1]:.4g}, not {c.claim.value:g}")
    elif c.guessed:
        named = ", ".join(q.replace("_", " ") for q in c.quantities)
        return _check(c, "unverifiable", None, quantity, f"the quantity is not named; not any of: {named}")
    earlier = _carried_from_error(quantity, c.base, cfg, ctx, c.tol, c.lower_bound)
    if earlier is not None and quantity in _DECODE and c.base < main.point() * c.tol[0]:
        # below the physical floor is its own error (the rubric's "unrealistic latency" red flag), even when a
        # wrong premise would give it: name the premise, count the latency
        reasons.append(
            f"follows from the earlier {earlier.quantity.replace('_', ' ')} of {earlier.claimed:g} "
            f"{earlier.unit} (turn {earlier.turn})"
        )
        earlier = None
    if earlier is not None:
        why = _root_reason(earlier)
        reasons.append(
            f"premise wrong: {earlier.quantity.replace('_', ' ')} is {earlier.expected:g} {earlier.unit}, "
            f"not {earlier.claimed:g} {earlier.unit} (turn {earlier.turn}{': ' + why if why else ''}); "
            + ("the arithmetic is right; " if arith and arith[0] else "")
            + "not counted again"
        )
    elif arith is not None and arith[0]:
        reasons.append("premise wrong, arithmetic right")
    reasons += _physical_notes(c, cfg, main)
    if earlier is None and not (arith is not None and not arith[0]):
        reasons += _unit_slips(c, main)
    if earlier is None and not any(r.startswith(("unit slip", "x1000")) for r in reasons):
        # the root or the slip is named already; a signature would only say the same again. A mistake redone
        # under the candidate's configuration is more specific than a bare ratio, so it goes first.
        reasons += _mistakes(c, scenario) or _signatures(c, cfg, scenario)
    reasons.append(_expected_text(c, cfg, scenario, main))
    return _check(
        c, "incorrect", main.point(), quantity, "; ".join(dict.fromkeys(reasons)), consistent=earlier is not None
    )


def _root_reason(root: Check) -> str:
    """What was wrong with the root figure, without its "expected about" (the premise sentence says it)."""
    parts = [p for p in (root.diagnosis or "").split("; ") if not p.startswith("expected about")]
    return "; ".join(parts)


def _expected_text(c: _Claim, cfg: ServingConfig, scenario: Scenario, main: Variant) -> str:
    canonical = c.unit.canonical
    span = _fmt(main.low, canonical) + (f" to {_fmt(main.high, canonical)}" if main.high else "")
    text = f"expected about {span}" + (f" ({main.label})" if main.label != "as computed" else "")
    for alt in c.quantities[1:]:
        alt_main = _variants(alt, cfg, scenario, c.claim.quote, "context" in c.assumptions)[0]
        text += f", or {_fmt(alt_main.point(), canonical)} as {alt.replace('_', ' ')}"
    return text


def _fmt(value_base: float, canonical: str) -> str:
    return f"{in_unit(value_base, canonical):.4g} {canonical}"


def _with_fit(check: Check, claim: NumericClaim, cfg: ServingConfig) -> Check:
    """A configuration claimed to fit that does not is wrong whatever its sum (and one claimed not to fit that
    does is wrong the other way)."""
    if claim.claims_fit is None or check.quantity != "per_gpu_total":
        return check
    total = reference(cfg)["per_gpu_total"].value
    if check.verdict == "correct" and check.expected is not None:  # their sum under an accepted convention
        total = claim.value * (parse_unit(claim.unit) or UNITS["GB"]).factor
    limit = cfg.gpu_memory_bytes * GIB_OVER_GB
    if claim.claims_fit and total > limit:
        note = (
            f"does not fit: {total / 1e9:.1f} GB per GPU is over {cfg.gpu_memory_bytes / 1e9:g} GB "
            f"(and over 80 GiB = {limit / 1e9:.1f} GB)"
        )
    elif not claim.claims_fit and total <= cfg.gpu_memory_bytes:
        note = f"it does fit: {total / 1e9:.1f} GB per GPU is under {cfg.gpu_memory_bytes / 1e9:g} GB"
    else:
        return check
    return check.model_copy(
        update={
            "verdict": "incorrect",
            "convention": None,
            "diagnosis": "; ".join(filter(None, [check.diagnosis, note])),
        }
    )


def check_claims(claims: list[NumericClaim], scenario: Scenario | None = None) -> list[Check]:
    """Check claims in transcript order, carrying each figure forward so a later one computed from an earlier
    mistake is recognised as consistent rather than punished again."""
    scenario = scenario or default_scenario()
    ctx = CheckContext()
    checks = []
    for claim in sorted(claims, key=lambda c: c.turn):
        check = check_claim(claim, ctx, scenario)
        checks.append(check)
        _remember(ctx, claim, check, scenario)
    return checks


def _remember(ctx: CheckContext, claim: NumericClaim, check: Check, scenario: Scenario) -> None:
    """Carry the candidate's figure forward; a wrong one is remembered with its root mistake."""
    u = parse_unit(claim.unit)
    if u is None or check.verdict == "unverifiable":
        return
    value = claim.value * u.factor
    cfg = _config({k: v for k, v in check.assumptions.items() if not k.startswith("_")}, scenario)
    cfg = cfg or ServingConfig.from_scenario(scenario)
    key = CheckContext.key(check.quantity, cfg)
    ctx.carried[key] = value
    if check.verdict == "correct":
        ctx.wrong.pop(key, None)
        return
    root = None
    if check.consistent_with_earlier_error:
        tol = APPROX_TOLERANCE if claim.approx else EXACT_TOLERANCE
        root = _carried_from_error(check.quantity, value, cfg, ctx, tol)
    ctx.wrong[key] = root or check
