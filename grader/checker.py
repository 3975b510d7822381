"""Verify a candidate's numbers against the calculator, under the candidate's own assumptions.

Policy (shared/reference/serving-arithmetic.md §5-6):

- Expected values come from `calculator.reference()` with the scenario's facts overridden by what the candidate
  assumed (INT8 weights, batch 16, 4K context...): right is right for their assumptions.
- Every legitimate convention is a variant, and a claim inside any variant's tolerance is correct: GB or GiB,
  NVLink 600 GB/s both ways or 300 per direction, bubble (p-1)/m or (p-1)/(m+p-1), all-reduce payload or ring
  bytes, the rubric's batch of 16 or the workload's 32 when the candidate named none.
- Tolerance by |claim/expected|: exact figures within 10%, figures said with "~"/"about" within [0.8, 1.25].
  Latencies are physical: below 0.9x the HBM floor is impossible, above 5x the floor (with KV reads) is
  pessimistic. Activations are an assumption: 0.5-6 GB per GPU is defensible.
- An incorrect figure gets a diagnosis: a unit slip (bits for bytes, x1000), a known mistake signature from its
  ratio, a premise that is wrong under arithmetic that is right, or a figure that follows consistently from an
  earlier wrong one (then it is flagged, not punished again).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from grader.calculator import ServingConfig, reference, ring_allreduce_factor
from grader.claims import Check, NumericClaim
from grader.scenario import Scenario, default_scenario
from grader.units import UNITS, Dimension, in_unit, parse_unit

EXACT_TOLERANCE = (0.9, 1.1)
APPROX_TOLERANCE = (0.8, 1.25)
SIGNATURE_TOLERANCE = 0.05
LATENCY_FLOOR_MARGIN = 0.9
LATENCY_PESSIMISTIC = 5.0
ACTIVATION_BAND = (0.5e9, 6e9)
NCCL_LATENCY_S = 10e-6  # per small all-reduce; kipply and llm-analysis use ~8 us
MEASURED_NVLINK_BUSBW = 200e9  # nccl-tests on 8x A100-80GB
GIB_OVER_GB = 2**30 / 1e9

QUANTITY_DIMENSION: dict[str, Dimension] = {
    **{q: "bytes" for q in (
        "weights_total", "weights_per_gpu", "kv_per_token", "kv_per_token_per_gpu", "kv_per_sequence", "kv_total",
        "kv_per_gpu", "activations", "per_gpu_total", "free_per_gpu", "allreduce_message", "allreduce_ring_bytes",
        "allreduce_per_layer", "tp_volume_per_step", "tp_volume_per_token", "pp_handoff_bytes", "gpu_memory")},
    **{q: "time" for q in (
        "tp_comm_time", "pp_handoff_time", "decode_latency", "prefill_time", "latency_target", "ttft_target")},
    **{q: "rate" for q in ("nvlink_bandwidth", "infiniband_bandwidth", "pcie_bandwidth", "hbm_bandwidth")},
    "bubble": "fraction",
    "heads_per_gpu": "count",
    "max_sequences": "count",
    "min_gpus": "count",
}

_OVERRIDABLE = ("tp", "pp", "dp", "batch", "context", "micro_batches", "weight_precision", "kv_precision")
_COMM = {"allreduce_message", "allreduce_ring_bytes", "allreduce_per_layer", "tp_volume_per_step",
         "tp_volume_per_token", "tp_comm_time", "pp_handoff_bytes", "pp_handoff_time"}
# Workload figures a candidate may fix inside their own arithmetic ("12,288 x 16 x 2"): when a claim is off,
# the bare counts written beside it are tried as that assumption. Parallel degrees and precisions are never
# re-solved: those are design choices the candidate must state, and guessing them would excuse real mistakes.
_RESOLVABLE: dict[str, tuple[str, ...]] = {
    **{q: ("comm_batch",) for q in _COMM},
    **{q: ("batch", "context") for q in ("kv_total", "kv_per_gpu", "per_gpu_total")},
    "kv_per_sequence": ("context",),
    "bubble": ("micro_batches",),
}
_FIELD_RANGE = {"comm_batch": (1, 4096), "batch": (1, 4096), "context": (128, 1_048_576), "micro_batches": (1, 512)}

# Ratio signatures (claimed / correct) of known mistakes, by the quantities they apply to.
_WEIGHTS = ("weights_total", "weights_per_gpu", "decode_latency")
_KV = ("kv_per_token", "kv_per_sequence", "kv_total", "kv_per_gpu", "kv_per_token_per_gpu")
SIGNATURES: list[tuple[float, str, tuple[str, ...]]] = [
    (0.5, "parameters used as bytes: FP16 weights are 2 bytes per parameter", _WEIGHTS),
    (2.0, "FP32 (4 bytes) used instead of FP16 (2 bytes)", _WEIGHTS),
    (8.0, "bits used as bytes (x8)", _WEIGHTS + _KV),
    (16.0, "bits used as bytes (x16)", _WEIGHTS + _KV),
    (0.5, "K and V: the factor 2 is missing", _KV),
    (0.5, "the 2 bytes per FP16 element are missing", _KV),
    (0.25, "both the K/V factor 2 and the 2 bytes per element are missing", _KV),
    (1 / 96, "the layer count (96) is missing", _KV),
    (4.0, "the FFN width (4 x d_model) used instead of the hidden size", _KV),
    (8.0, "not divided across the 8 GPUs that the weights were divided over", ("kv_per_gpu",)),
    (0.125, "divided by 8 GPUs twice, or bits and bytes mixed", ("kv_per_gpu", "weights_per_gpu")),
    (1 / 1.5, "payload only: the ring all-reduce sends 2(n-1)/n = 1.5x it per GPU (n=4)", ("allreduce_ring_bytes", "allreduce_per_layer", "tp_volume_per_step", "tp_comm_time")),
    (1 / 1.75, "payload only: the ring all-reduce sends 2(n-1)/n = 1.75x it per GPU (n=8)", ("allreduce_ring_bytes", "allreduce_per_layer", "tp_volume_per_step", "tp_comm_time")),
    (0.5, "one all-reduce per layer counted; inference has two (attention and MLP)", ("allreduce_per_layer", "tp_volume_per_step", "tp_volume_per_token", "tp_comm_time")),
    (2.0, "four all-reduces per layer (training's forward + backward); inference has two", ("allreduce_per_layer", "tp_volume_per_step", "tp_volume_per_token", "tp_comm_time")),
    (4.0, "all-reduce sized on the FFN activation (4 x d_model) instead of the hidden size", ("allreduce_message", "allreduce_ring_bytes", "allreduce_per_layer", "tp_volume_per_step")),
    (0.125, "InfiniBand's 200 read as GB/s: HDR is 200 Gb/s = 25 GB/s", ("pp_handoff_time", "tp_comm_time")),
    (8.0, "InfiniBand's 200 Gb/s read as 200 GB/s (bits for bytes)", ("infiniband_bandwidth",)),
    (1.5, "NVLink 4 (H100, 900 GB/s) figures used for an A100", ("nvlink_bandwidth",)),
    (2.0, "sparse TFLOPS used; LLM math uses the dense figure", ("prefill_time",)),
    (3.0, "training's 6P FLOPs per token used for prefill (inference is 2P)", ("prefill_time",)),
    (0.5, "P FLOPs per token used instead of 2P", ("prefill_time",)),
    (8.0, "one GPU's HBM bandwidth used instead of the TP group's aggregate", ("decode_latency",)),
]


@dataclass
class Variant:
    label: str
    low: float
    high: float | None = None  # a band when set: any value in [low, high] is right

    def accepts(self, claimed: float, tol: tuple[float, float], lower_bound: bool) -> bool:
        lo, hi = self.low, self.high if self.high is not None else self.low
        if lower_bound:  # "50+ GB": right when the truth is at least about that much
            return hi >= claimed * tol[0]
        return lo * tol[0] <= claimed <= hi * tol[1]

    def point(self) -> float:
        """The figure to show as "expected": for a band its floor, the physically meaningful end."""
        return self.low


@dataclass
class CheckContext:
    """What the checker remembers while it walks a transcript: the candidate's own figures, for carry-forward."""

    carried: dict[str, float] = field(default_factory=dict)
    wrong: dict[str, Check] = field(default_factory=dict)  # quantity -> the root mistake behind its figure


def _config(assumptions: dict[str, float | int | str], scenario: Scenario, **extra: object) -> ServingConfig | None:
    overrides = {k: assumptions[k] for k in _OVERRIDABLE if k in assumptions}
    if "batch" in overrides:
        overrides["comm_batch"] = overrides["batch"]
    overrides.update(extra)
    try:
        return ServingConfig.from_scenario(scenario, **overrides)
    except ValueError:
        return None


def _variants(quantity: str, cfg: ServingConfig, scenario: Scenario, quote: str,
              batch_stated: bool, context_stated: bool) -> list[Variant]:
    """The accepted values of one quantity under one configuration, main convention first."""
    ref = reference(cfg)
    hw = scenario.hardware
    dim = QUANTITY_DIMENSION[quantity]
    if quantity in ref:
        main = ref[quantity].value
        out = [Variant("as computed", main)]
        if dim == "bytes":
            out.append(Variant("a GiB figure labelled GB", main / GIB_OVER_GB))
        if quantity == "free_per_gpu":
            out.append(Variant("80 GiB of memory", main + 80 * (GIB_OVER_GB - 1) * 1e9))
        if quantity in ("kv_total", "kv_per_gpu", "kv_per_sequence", "per_gpu_total") and not context_stated:
            alt = reference(cfg.model_copy(update={"context": scenario.workload.prompt_tokens}))[quantity].value
            out.append(Variant("prompt tokens only", alt))
        if quantity == "per_gpu_total":
            kv_w = ref["weights_per_gpu"].value + ref["kv_per_gpu"].value
            out.append(Variant("activations 0.5-6 GB", kv_w + ACTIVATION_BAND[0], kv_w + ACTIVATION_BAND[1]))
        if quantity == "max_sequences":
            hi = (80 * 2**30 - ref["weights_per_gpu"].value) / ref["kv_per_token_per_gpu"].value / cfg.context
            out = [Variant("26-35 full sequences, by overhead and GB/GiB accounting", main * 0.93, hi)]
        return out
    if quantity == "activations":
        return [Variant("0.5-6 GB per GPU", *ACTIVATION_BAND)]
    if quantity == "gpu_memory":
        return [Variant("80 GB", hw.gpu_memory_bytes), Variant("80 GiB", hw.gpu_memory_bytes * GIB_OVER_GB)]
    if quantity == "nvlink_bandwidth":
        return [Variant("both directions", hw.nvlink_bandwidth),
                Variant("per direction", hw.nvlink_bandwidth_per_direction)]
    if quantity == "infiniband_bandwidth":
        out = [Variant("HDR per GPU", hw.infiniband_bandwidth)]
        if re.search(r"\bnode\b", quote, re.I):
            out.append(Variant("per node, 8 NICs", hw.infiniband_bandwidth * hw.gpus_per_node))
        return out
    if quantity == "pcie_bandwidth":
        return [Variant("per direction", hw.pcie_bandwidth), Variant("both directions", 2 * hw.pcie_bandwidth)]
    if quantity == "hbm_bandwidth":
        return [Variant("HBM2e", hw.hbm_bandwidth, 2.0e12 if hw.hbm_bandwidth > 2.0e12 else None)]
    if quantity == "latency_target":
        return [Variant("the scenario's P99 inter-token target", scenario.workload.p99_inter_token_latency_ms / 1e3)]
    if quantity == "ttft_target":
        return [Variant("the scenario's P99 time-to-first-token", scenario.workload.p99_time_to_first_token_s)]
    raise KeyError(quantity)


def _physical_variants(quantity: str, cfg: ServingConfig) -> list[Variant]:
    """Bands for times, which have a floor set by physics and no single right answer above it."""
    ref = reference(cfg)
    if quantity == "decode_latency":
        lo, hi = ref["decode_latency"].value, ref["decode_latency_with_kv"].value * LATENCY_PESSIMISTIC
        return [Variant("at or above the HBM floor, under 5x it with KV reads", lo, hi)]
    if quantity == "tp_comm_time":
        vol = ref["tp_volume_per_step"].value
        lat = NCCL_LATENCY_S * ref["allreduces_per_step"].value
        return [Variant("bandwidth-only at 600 GB/s to measured busbw plus latency",
                        vol / cfg.link_bandwidth, vol / MEASURED_NVLINK_BUSBW + lat)]
    if quantity == "pp_handoff_time":
        b = ref["pp_handoff_bytes"].value
        return [Variant("NVLink to InfiniBand", b / cfg.link_bandwidth, b / 25e9 + 5e-6)]
    if quantity == "prefill_time":
        return [Variant("compute floor to 20% utilisation", ref["prefill_time"].value,
                        ref["prefill_time"].value * LATENCY_PESSIMISTIC)]
    if quantity == "bubble":
        return [Variant("(p-1)/(m+p-1)", ref["bubble"].value),
                Variant("(p-1)/m", (cfg.pp - 1) / cfg.micro_batches)]
    return []


def _all_variants(quantity: str, cfg: ServingConfig, scenario: Scenario, quote: str,
                  batch_stated: bool, context_stated: bool) -> list[Variant]:
    phys = _physical_variants(quantity, cfg)
    if quantity in ("decode_latency", "tp_comm_time", "pp_handoff_time", "prefill_time", "bubble"):
        return phys
    return _variants(quantity, cfg, scenario, quote, batch_stated, context_stated)


def _configs(claim: NumericClaim, scenario: Scenario, quantity: str) -> Iterable[tuple[ServingConfig, dict]]:
    """The candidate's configuration, then the unstated-batch conventions for communication figures."""
    a = claim.assumptions
    base = _config(a, scenario)
    if base is None:
        return
    yield base, {}
    if quantity in _COMM and "batch" not in a:
        for b in (16, 32):
            if b != base.comm_batch:
                yield base.model_copy(update={"comm_batch": b}), {"batch": b}


_BARE_COUNT = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\d.,]*\s*(?:[KMGT]i?[Bb]|B\b|bytes|ms|us|μs|s\b|%|[kK]\b|x\b|-way))"
)


def _bare_counts(text: str) -> list[int]:
    """Integers written without a unit: the premises a candidate can fix inside their own arithmetic."""
    return sorted({int(n.replace(",", "")) for n in _BARE_COUNT.findall(text)})


def _tolerance(claim: NumericClaim) -> tuple[float, float]:
    return APPROX_TOLERANCE if claim.approx else EXACT_TOLERANCE


# --- written arithmetic ---------------------------------------------------------------------------------

_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
}
_EXPR_TOKEN = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<unit>GB/s|Gb/s|TB/s|MB/s|GiB|GB|MB|KB|kB|TB|Gb|B(?![a-z])|bytes?|ms|us|μs|s\b)?"
    r"|(?P<op>[()+\-*/×÷])|(?P<x>\bx\b)|(?P<word>[A-Za-z_][A-Za-z_0-9]*)"
)


def evaluate_expression(expr: str) -> tuple[float, bool] | None:
    """Redo written arithmetic: '175GB/2/4' -> (21.875e9, True). Units become base units; words are dropped
    ('350GB FP16 / 8 GPUs'); a trailing 'B' after a bare number is billions ('175B x 0.5 bytes'). Returns
    (value, whether any operand had a unit), or None when it is not arithmetic."""
    parts: list[str] = []
    has_unit = False
    for m in _EXPR_TOKEN.finditer(expr):
        if m.group("num"):
            value = float(m.group("num").replace(",", ""))
            unit = m.group("unit")
            if unit == "B" and value < 1000:
                value *= 1e9  # 175B parameters
            elif unit and unit.lower().startswith("byte"):
                pass
            elif unit:
                u = parse_unit(unit)
                if u is not None:
                    value, has_unit = value * u.factor, True
            parts.append(repr(value))
        elif m.group("op"):
            parts.append({"×": "*", "÷": "/"}.get(m.group("op"), m.group("op")))
        elif m.group("x"):
            parts.append("*")
    text = " ".join(parts).strip()
    text = re.sub(r"^[-+*/ ]+", "", text)
    if not text or not re.search(r"[-+*/]", text):
        return None
    try:
        tree = ast.parse(text, mode="eval")
        return _eval(tree.body), has_unit
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


def _arithmetic(claim: NumericClaim, claimed_base: float, unit_factor: float) -> tuple[bool, float] | None:
    """(is the written arithmetic right, its result in the claim's unit), or None if there is none."""
    if not claim.expression:
        return None
    result = evaluate_expression(claim.expression)
    if result is None:
        return None
    value, has_unit = result
    as_claimed = value / unit_factor if has_unit else value
    # without units the operands are in the claim's unit ("350/8 = 43.75 GB") or in base units ("12,288 x 16 x 2 = 393 KB")
    candidates = [as_claimed] if has_unit else [value, value / unit_factor]
    for c in candidates:
        if c and 0.97 <= claim.value / c <= 1.03 or (claim.approx and c and 0.8 <= claim.value / c <= 1.25):
            return True, c
    return False, candidates[0]


# --- carry-forward: figures computed consistently from an earlier wrong one ------------------------------

Derivation = Callable[[dict[str, float], ServingConfig], float]
DERIVATIONS: dict[str, list[tuple[tuple[str, ...], Derivation]]] = {
    "weights_per_gpu": [(("weights_total",), lambda c, g: c["weights_total"] / (g.tp * g.pp))],
    "free_per_gpu": [(("weights_per_gpu",), lambda c, g: g.gpu_memory_bytes - c["weights_per_gpu"]),
                     (("weights_total",), lambda c, g: g.gpu_memory_bytes - c["weights_total"] / (g.tp * g.pp))],
    "kv_per_sequence": [(("kv_per_token",), lambda c, g: c["kv_per_token"] * g.context)],
    "kv_total": [(("kv_per_sequence",), lambda c, g: c["kv_per_sequence"] * g.batch),
                 (("kv_per_token",), lambda c, g: c["kv_per_token"] * g.context * g.batch)],
    "kv_per_gpu": [(("kv_total",), lambda c, g: c["kv_total"] / (g.tp * g.pp)),
                   (("kv_per_token_per_gpu",), lambda c, g: c["kv_per_token_per_gpu"] * g.context * g.batch)],
    "per_gpu_total": [(("weights_per_gpu", "kv_per_gpu", "activations"),
                       lambda c, g: c["weights_per_gpu"] + c["kv_per_gpu"] + c["activations"])],
    "allreduce_ring_bytes": [(("allreduce_message",), lambda c, g: c["allreduce_message"] * ring_allreduce_factor(n=g.tp))],
    "allreduce_per_layer": [(("allreduce_ring_bytes",), lambda c, g: 2 * c["allreduce_ring_bytes"]),
                            (("allreduce_message",), lambda c, g: 2 * c["allreduce_message"])],
    "tp_volume_per_step": [(("allreduce_per_layer",), lambda c, g: c["allreduce_per_layer"] * g.layers)],
    "tp_volume_per_token": [(("tp_volume_per_step",), lambda c, g: c["tp_volume_per_step"] / g.comm_batch)],
    "tp_comm_time": [(("tp_volume_per_step",), lambda c, g: c["tp_volume_per_step"] / g.link_bandwidth),
                     (("tp_volume_per_token",), lambda c, g: c["tp_volume_per_token"] / g.link_bandwidth),
                     (("tp_volume_per_step",), lambda c, g: c["tp_volume_per_step"] / g.link_bandwidth_per_direction)],
    "pp_handoff_time": [(("pp_handoff_bytes",), lambda c, g: c["pp_handoff_bytes"] / g.link_bandwidth)],
    "decode_latency": [(("weights_total",), lambda c, g: c["weights_total"] / (g.tp * g.hbm_bandwidth)),
                       (("weights_per_gpu",), lambda c, g: c["weights_per_gpu"] * g.pp / g.hbm_bandwidth)],
}


def _carried_from_error(quantity: str, claimed: float, cfg: ServingConfig, ctx: CheckContext,
                        tol: tuple[float, float], lower_bound: bool = False) -> Check | None:
    """The earlier wrong check this figure follows from, if recomputing with the candidate's own figures
    gives it."""
    ref = reference(cfg)
    for inputs, fn in DERIVATIONS.get(quantity, []):
        wrong = [ctx.wrong[i] for i in inputs if i in ctx.wrong]
        if not wrong:
            continue
        vals = {i: ctx.carried.get(i, ref[i].value if i in ref else 5e9) for i in inputs}
        try:
            v = fn(vals, cfg)
        except ZeroDivisionError:
            continue
        if v > 0 and (v >= claimed * tol[0] if lower_bound else tol[0] <= claimed / v <= tol[1]):
            return wrong[0]
    return None


# --- the checker ----------------------------------------------------------------------------------------


def check_claim(claim: NumericClaim, ctx: CheckContext | None = None, scenario: Scenario | None = None) -> Check:
    """One claim's verdict, expected value in the claim's unit, and diagnosis."""
    scenario = scenario or default_scenario()
    ctx = ctx if ctx is not None else CheckContext()
    assumptions = {k: v for k, v in claim.assumptions.items() if not k.startswith("_")}
    alternatives = [q for q in str(claim.assumptions.get("_alternatives", "")).split(",") if q]
    lower_bound = bool(claim.assumptions.get("_lower_bound"))
    quantities = [claim.quantity, *alternatives]

    def result(verdict: str, expected_base: float | None, quantity: str, diagnosis: str | None = None,
               convention: str | None = None, consistent: bool = False, extra: dict | None = None) -> Check:
        expected = None
        if expected_base is not None and unit is not None:
            expected = round(in_unit(expected_base, unit.canonical) if unit.canonical in UNITS else expected_base, 6)
            expected = float(f"{expected:.4g}")
        return Check(
            quantity=quantity, claimed=claim.value, unit=claim.unit, expected=expected, verdict=verdict,  # type: ignore[arg-type]
            turn=claim.turn, quote=claim.quote, assumptions={**assumptions, **(extra or {})},
            diagnosis=diagnosis, convention=convention, consistent_with_earlier_error=consistent,
        )

    unit = parse_unit(claim.unit) if claim.unit != "count" else UNITS["count"]
    if unit is None or claim.quantity not in QUANTITY_DIMENSION:
        return result("unverifiable", None, claim.quantity, "not a quantity the checker knows" if unit else f"unknown unit {claim.unit!r}")
    dim = QUANTITY_DIMENSION[claim.quantity]
    if unit.dimension != dim:
        return result("unverifiable", None, claim.quantity, f"{claim.unit} does not measure a {dim} quantity")
    claimed_base = claim.value * unit.factor
    tol = _tolerance(claim)
    if claim.quantity == "decode_latency":
        tol = (LATENCY_FLOOR_MARGIN, tol[1])  # nothing runs faster than the floor, however roughly said
    quote_numbers = _bare_counts(f"{claim.expression or ''} {claim.quote}")

    # 1. right under the candidate's assumptions, in any accepted convention (or a premise named in the quote)
    for quantity in quantities:
        for cfg, extra in _configs(claim, scenario, quantity):
            for v in _all_variants(quantity, cfg, scenario, claim.quote, "batch" in assumptions, "context" in assumptions):
                if v.accepts(claimed_base, tol, lower_bound):
                    return _with_fit(result("correct", v.point(), quantity, convention=v.label, extra=extra), claim, cfg, unit)
        for field_name in _RESOLVABLE.get(quantity, ()):
            lo, hi = _FIELD_RANGE[field_name]
            for n in (n for n in quote_numbers if lo <= n <= hi):
                cfg = _config(assumptions, scenario, **{field_name: n})
                if cfg is None:
                    continue
                for v in _all_variants(quantity, cfg, scenario, claim.quote, True, True):
                    if v.accepts(claimed_base, tol, lower_bound):
                        return result("correct", v.point(), quantity, convention=f"{v.label}, {field_name}={n}",
                                      extra={field_name: n})

    # 2. wrong: say how
    quantity = claim.quantity
    cfg = _config(assumptions, scenario)
    if cfg is None:
        return result("unverifiable", None, quantity, "the stated assumptions are not a valid configuration")
    main = _all_variants(quantity, cfg, scenario, claim.quote, "batch" in assumptions, "context" in assumptions)[0]
    expected_base = main.point()
    if quantity == "latency_target" or quantity == "ttft_target":
        return result("unverifiable", expected_base, quantity, "a target the candidate set, not a derived figure")
    reasons: list[str] = []
    ratio = claimed_base / expected_base if expected_base else math.inf
    consistent = False
    earlier = _carried_from_error(quantity, claimed_base, cfg, ctx, tol, lower_bound)
    arith = _arithmetic(claim, claimed_base, unit.factor)
    if arith is not None and not arith[0]:
        reasons.append(f"arithmetic slip: {claim.expression} = {arith[1]:.4g}, not {claim.value:g}")
    if earlier is not None:
        consistent = True
        reasons.append(f"premise wrong: {earlier.quantity.replace('_', ' ')} is {earlier.expected:g} {earlier.unit}, "
                       f"not {earlier.claimed:g} {earlier.unit} (turn {earlier.turn}"
                       f"{': ' + earlier.diagnosis if earlier.diagnosis else ''}); "
                       + ("the arithmetic is right; " if arith and arith[0] else "") + "not counted again")
    elif arith is not None and arith[0]:
        reasons.append("premise wrong, arithmetic right")
    if unit.bits and dim in ("bytes", "rate") and main.accepts(claimed_base * 8, tol, lower_bound):
        reasons.append(f"unit slip: {claim.unit} is bits; the figure is right in bytes ({claim.unit.replace('b', 'B')})")
    for factor, label in ((1e3, "x1000 unit slip (e.g. MB for GB)"), (1e-3, "x1000 unit slip (e.g. GB for MB)")):
        if not reasons and not lower_bound and main.accepts(claimed_base / factor, tol, lower_bound):
            reasons.append(label)
    for variant_cfg, _ in _configs(claim, scenario, quantity):
        for label, value in _mistake_variants(quantity, variant_cfg, scenario):
            if value and tol[0] <= claimed_base / value <= tol[1]:
                reasons.append(label)
    if not consistent:
        targets = [(quantity, ratio)] + [
            (alt, claimed_base / _all_variants(alt, cfg, scenario, claim.quote, True, True)[0].point())
            for alt in alternatives
        ]
        for target, r in targets:
            for sig, label, applies in SIGNATURES:
                if target in applies and abs(r / sig - 1) <= SIGNATURE_TOLERANCE:
                    reasons.append(label if target == quantity else f"as {target.replace('_', ' ')}: {label}")
    if quantity == "decode_latency" and ratio < 1:
        reasons.insert(0, "below the physical floor: every weight is read from HBM once per step, at best "
                          f"{reference(cfg)['decode_latency'].value * 1e3:.1f} ms with TP{cfg.tp}")
    elif quantity == "decode_latency":
        reasons.insert(0, "pessimistic: more than 5x the HBM floor with KV reads")
    if not reasons:
        span = _fmt(main.low, unit.canonical) + (f" to {_fmt(main.high, unit.canonical)}" if main.high else "")
        reasons.append(f"expected about {span}" + (f" ({main.label})" if main.label != "as computed" else ""))
        for alt in alternatives:
            alt_main = _all_variants(alt, cfg, scenario, claim.quote, "batch" in assumptions, "context" in assumptions)[0]
            reasons.append(f"or {_fmt(alt_main.point(), unit.canonical)} as {alt.replace('_', ' ')}")
    return _with_fit(result("incorrect", expected_base, quantity, "; ".join(dict.fromkeys(reasons)), consistent=consistent), claim, cfg, unit)


# A figure that is right for a neighbouring scope: per step called per token, total called per GPU...
SCOPE_SLIPS: dict[str, list[tuple[str, str]]] = {
    "tp_volume_per_token": [("tp_volume_per_step", "the per-step volume (all sequences of the batch) called per token")],
    "tp_volume_per_step": [("allreduce_per_layer", "one layer's traffic given for the whole step"),
                           ("tp_volume_per_token", "a per-token figure given for the whole step")],
    "allreduce_per_layer": [("tp_volume_per_step", "the whole step's traffic called per layer")],
    "weights_per_gpu": [("weights_total", "not divided across the GPUs")],
    "weights_total": [("weights_per_gpu", "a per-GPU figure given as the total")],
    "kv_per_gpu": [("kv_total", "not divided across the GPUs that the weights were divided over")],
    "kv_total": [("kv_per_gpu", "a per-GPU figure given as the total"), ("kv_per_sequence", "one sequence given as the whole batch")],
    "kv_per_sequence": [("kv_per_token", "a per-token figure given per sequence"), ("kv_total", "the whole batch given per sequence")],
    "kv_per_token": [("kv_per_token_per_gpu", "a per-GPU share given for the whole model")],
}


def _mistake_variants(quantity: str, cfg: ServingConfig, scenario: Scenario) -> list[tuple[str, float]]:
    """Values a known mistake produces under the candidate's own configuration."""
    ref = reference(cfg)
    out = [(label, ref[other].value) for other, label in SCOPE_SLIPS.get(quantity, []) if other in ref]
    if cfg.pp > 1 and quantity in ("weights_per_gpu", "kv_per_gpu", "kv_per_token_per_gpu", "free_per_gpu"):
        flat = reference(cfg.model_copy(update={"pp": 1}))[quantity].value
        out.append((f"divided by TP ({cfg.tp}) only; with {cfg.pp} pipeline stages each GPU holds 1/(TP x PP)", flat))
    if quantity == "tp_comm_time":
        vol = ref["tp_volume_per_step"].value
        lat = NCCL_LATENCY_S * ref["allreduces_per_step"].value
        pcie = scenario.hardware.pcie_bandwidth
        out.append((f"the time of a PCIe-class link ({pcie / 1e9:g} GB/s), not NVLink", vol / pcie + lat))
    if quantity == "decode_latency":
        one_gpu = ref["weights_total"].value / cfg.hbm_bandwidth
        out.append(("one GPU's HBM bandwidth used instead of the TP group's aggregate", one_gpu))
    return out


def _fmt(value_base: float, canonical: str) -> str:
    return f"{in_unit(value_base, canonical):.4g} {canonical}"


def _with_fit(check: Check, claim: NumericClaim, cfg: ServingConfig, unit: object) -> Check:
    """A configuration claimed to fit that does not is wrong whatever its sum."""
    if claim.claims_fit is not True or check.quantity != "per_gpu_total":
        return check
    total = reference(cfg)["per_gpu_total"].value
    limit = cfg.gpu_memory_bytes * GIB_OVER_GB
    if total <= limit:
        return check
    note = f"does not fit: {total / 1e9:.1f} GB per GPU is over {cfg.gpu_memory_bytes / 1e9:g} GB (and 80 GiB)"
    return check.model_copy(update={"verdict": "incorrect", "diagnosis": "; ".join(filter(None, [check.diagnosis, note]))})


def check_claims(claims: list[NumericClaim], scenario: Scenario | None = None) -> list[Check]:
    """Check claims in transcript order, carrying each figure forward so a later one computed from an earlier
    mistake is recognised as consistent rather than punished again."""
    ctx = CheckContext()
    checks = []
    for claim in sorted(claims, key=lambda c: c.turn):
        check = check_claim(claim, ctx, scenario)
        checks.append(check)
        u = parse_unit(claim.unit)
        if u is not None and check.verdict != "unverifiable":
            ctx.carried[check.quantity] = claim.value * u.factor
            if check.verdict == "incorrect":
                root = _carried_from_error(check.quantity, claim.value * u.factor, _config(
                    {k: v for k, v in claim.assumptions.items() if not k.startswith("_")}, scenario or default_scenario())
                    or ServingConfig.from_scenario(), ctx, _tolerance(claim)) if check.consistent_with_earlier_error else None
                ctx.wrong[check.quantity] = root or check
            else:
                ctx.wrong.pop(check.quantity, None)
    return checks
