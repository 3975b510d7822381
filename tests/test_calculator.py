"""The serving arithmetic, pinned.

1. Golden rows (tests/data/reference_table.yaml): every figure of the scenario's reference table and of
   serving-arithmetic.md §3, one test per row, through reference() or a named calculator function.
2. The rubric's worked examples: the figures that are right, and, as `test_rubric_prose_is_wrong_*`, the
   figures the arithmetic contradicts (the grader must never reward them).
3. Properties that hold for every configuration, not only the scenario's.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import math
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from grader import calculator
from grader.calculator import ServingConfig, reference
from grader.datafile import load_yaml_model

GOLDEN_FILE = Path(__file__).parent / "data" / "reference_table.yaml"

UNITS: dict[str, float] = {
    "B": 1.0,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "KiB": 2.0**10,
    "MiB": 2.0**20,
    "GiB": 2.0**30,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "%": 1e-2,
    "fraction": 1.0,
    "count": 1.0,
    "bool": 1.0,
    "FLOP": 1.0,
    "GFLOP": 1e9,
    "TFLOP": 1e12,
    "FLOP/B": 1.0,
    "e9": 1e9,
}

GB = 1e9
GIB = 2.0**30
MS = 1e-3
GPU_80GB = 80e9
GPU_80GIB = 80 * GIB


class GoldenRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    function: str | None = None
    quantity: str | None = None
    inputs: dict[str, int | float | str] = Field(default_factory=dict)
    overrides: dict[str, int | float | str] = Field(default_factory=dict)
    expected: float
    unit: Literal[tuple(UNITS)]  # type: ignore[valid-type]
    rel_tol: float = Field(ge=0, le=0.05)
    source: str = Field(min_length=5)

    @field_validator("inputs", "overrides")
    @classmethod
    def _numbers_not_strings(cls, values: dict[str, int | float | str]) -> dict[str, int | float | str]:
        """YAML 1.1 reads `175.0e9` (no exponent sign) as a string: coerce anything numeric back to a number."""
        out: dict[str, int | float | str] = {}
        for key, value in values.items():
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    value = float(value)
            out[key] = value
        return out

    @model_validator(mode="after")
    def _one_target(self) -> GoldenRow:
        if (self.function is None) == (self.quantity is None):
            raise ValueError("give exactly one of `function` and `quantity`")
        if self.function is not None and self.overrides:
            raise ValueError("`overrides` go with `quantity`; a `function` takes `inputs`")
        if self.quantity is not None and self.inputs:
            raise ValueError("`inputs` go with `function`; a `quantity` takes `overrides`")
        return self


class GoldenTable(RootModel[list[GoldenRow]]):
    pass


ROWS = load_yaml_model(GOLDEN_FILE, GoldenTable).root


def evaluate(row: GoldenRow) -> float:
    if row.quantity is not None:
        return float(reference(ServingConfig.from_scenario(**row.overrides))[row.quantity].value)
    assert row.function is not None
    fn = getattr(calculator, row.function)
    return float(fn(**row.inputs))


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_golden_row(row: GoldenRow) -> None:
    actual = evaluate(row) / UNITS[row.unit]
    assert math.isclose(actual, row.expected, rel_tol=row.rel_tol, abs_tol=1e-12 if row.expected == 0 else 0.0), (
        f"{row.id}: calculator gives {actual:.6g} {row.unit}, the source says {row.expected:g} {row.unit} "
        f"(rel_tol {row.rel_tol:g}; {row.source})"
    )


def test_golden_ids_are_unique() -> None:
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_golden_table_names_real_targets() -> None:
    names = set(reference(ServingConfig.from_scenario()))
    fields = set(ServingConfig.model_fields)
    for row in ROWS:
        if row.quantity is not None:
            assert row.quantity in names, f"{row.id}: no quantity {row.quantity!r} in reference()"
            assert set(row.overrides) <= fields, f"{row.id}: unknown overrides {set(row.overrides) - fields}"
        else:
            assert callable(getattr(calculator, str(row.function), None)), f"{row.id}: no function {row.function!r}"


def test_every_reference_quantity_is_pinned() -> None:
    """A quantity added to reference() needs a golden row: the checker grades candidates against it."""
    pinned = {r.quantity for r in ROWS}
    missing = [name for name in reference(ServingConfig.from_scenario()) if name not in pinned]
    assert not missing, f"add rows to {GOLDEN_FILE.name} for: {missing}"


def test_golden_table_covers_both_sources() -> None:
    sources = " ".join(r.source for r in ROWS)
    assert sum(r.source.startswith("scenario.md") for r in ROWS) >= 30
    assert sum(r.source.startswith("§3") for r in ROWS) >= 30
    assert "§4" in sources


def test_calculator_functions_take_keyword_only_inputs() -> None:
    """Named inputs only: `weights_per_gpu_bytes(params=..., weight_bytes=..., tp=..., pp=...)` cannot be
    called with two integers in the wrong order."""
    positional_ok = {"bytes_per_element", "reference"}
    for name, fn in inspect.getmembers(calculator, inspect.isfunction):
        if fn.__module__ != calculator.__name__ or name.startswith("_") or name in positional_ok:
            continue
        params = inspect.signature(fn).parameters.values()
        assert all(p.kind is p.KEYWORD_ONLY for p in params), f"{name} takes positional arguments"


# --- the rubric's worked examples ---------------------------------------------------------------------------


def ref(**overrides: object) -> dict[str, float]:
    return {k: q.value for k, q in reference(ServingConfig.from_scenario(**overrides)).items()}


def accepted(claim: float, truth: float, *, approx: bool) -> bool:
    """serving-arithmetic.md §5: exact figures within [0.9, 1.1] of the truth, "~" figures within [0.8, 1.25]."""
    lo, hi = (0.8, 1.25) if approx else (0.9, 1.1)
    return lo <= claim / truth <= hi


def accepted_in_gb_or_gib(claim_gb: float, truth_bytes: float, *, approx: bool) -> bool:
    """A size claim read as GB or as GiB: the checker evaluates both conventions."""
    return any(accepted(claim_gb * unit, truth_bytes, approx=approx) for unit in (GB, GIB))


def test_rubric_memory_350gb_fp16_weights() -> None:
    assert ref()["weights_total"] == 350 * GB


def test_rubric_memory_43_75gb_per_gpu_with_8way_tp() -> None:
    assert ref(tp=8, pp=1)["weights_per_gpu"] == 43.75 * GB


def test_rubric_memory_int4_87_5gb_total_and_about_11gb_per_gpu() -> None:
    r = ref(weight_precision="int4")
    assert r["weights_total"] == 87.5 * GB
    assert math.isclose(r["weights_per_gpu"], 10.9375 * GB)
    assert accepted(11 * GB, r["weights_per_gpu"], approx=True)
    assert accepted(11 * GB, r["weights_per_gpu"], approx=False)


def test_rubric_bandwidth_393kb_payload_590kb_ring_1_18mb_per_layer() -> None:
    r = ref(tp=4, pp=2, comm_batch=16)
    assert r["allreduce_message"] == 12_288 * 16 * 2 == 393_216
    assert r["allreduce_ring_bytes"] == 393_216 * 1.5 == 589_824
    assert r["allreduce_per_layer"] == 2 * 589_824
    assert accepted(393e3, r["allreduce_message"], approx=False)
    assert accepted(590e3, r["allreduce_ring_bytes"], approx=False)
    assert accepted(1.18e6, r["allreduce_per_layer"], approx=False)


def test_rubric_bandwidth_113mb_over_96_layers() -> None:
    r = ref(tp=4, pp=2, comm_batch=16)
    assert r["tp_volume_per_step"] == 1_179_648 * 96
    assert accepted(113e6, r["tp_volume_per_step"], approx=False)


def test_rubric_bandwidth_0_19ms_is_the_600gbs_convention() -> None:
    """The arithmetic holds at the bidirectional 600 GB/s; per direction (300 GB/s) it is 0.38 ms."""
    assert accepted(0.19 * MS, ref(tp=4, pp=2)["tp_comm_time"], approx=False)
    assert accepted(0.38 * MS, ref(tp=4, pp=2, link_bandwidth=300e9)["tp_comm_time"], approx=False)
    assert not accepted(0.19 * MS, ref(tp=4, pp=2, link_bandwidth=300e9)["tp_comm_time"], approx=True)


def test_rubric_pp_handoff_393kb_0_65us() -> None:
    r = ref(tp=4, pp=2, comm_batch=16)
    assert r["pp_handoff_bytes"] == 393_216
    assert accepted(0.65e-6, r["pp_handoff_time"], approx=False)


def test_rubric_memory_management_24_heads_per_gpu_at_4way_tp() -> None:
    assert ref(tp=4, pp=2)["heads_per_gpu"] == 24


def test_rubric_example1_43_75gb_with_pure_tp() -> None:
    assert ref(tp=8, pp=1)["weights_per_gpu"] == 43.75 * GB


def test_rubric_example1_about_1mb_per_allreduce_at_batch_32() -> None:
    r = ref(tp=4, pp=2, comm_batch=32)
    assert accepted(1e6, r["allreduce_ring_bytes"], approx=True)


def test_rubric_example1_bubble_about_10pct_for_2_stages_8_micro_batches() -> None:
    wall = calculator.bubble_fraction_of_wall(pp=2, micro_batches=8)
    relative = calculator.bubble_relative(pp=2, micro_batches=8)
    assert accepted(0.10, wall, approx=True) and accepted(0.10, relative, approx=True)
    # ... and it would be wrong at four stages, by either convention
    assert not accepted(0.10, calculator.bubble_fraction_of_wall(pp=4, micro_batches=8), approx=True)
    assert not accepted(0.10, calculator.bubble_relative(pp=4, micro_batches=8), approx=True)


def test_rubric_example1_80ms_per_token_is_plausible_for_tp4_pp2() -> None:
    """Above the HBM floor (42.9 ms) and within 4x of it: 80 ms is the floor at ~54% bandwidth utilisation."""
    floor = ref(tp=4, pp=2)["decode_latency"]
    assert floor <= 80 * MS <= 4 * floor


def test_rubric_red_flag_10ms_per_token_is_below_the_hbm_floor() -> None:
    """The rubric's red flag is right: 10 ms/token is under the floor on one 8xA100 node even with INT8."""
    assert ref()["decode_latency"] > 2 * 10 * MS
    assert ref(weight_precision="int8")["decode_latency"] > 10 * MS
    assert ref(weight_precision="int4")["decode_latency"] < 10 * MS


def test_rubric_prose_is_wrong_kv_8gb_per_gpu_is_38_65gb() -> None:
    """Rubric 2b and 5: "KV cache (32 seqs, 2K ctx): ~8 GB" per GPU. The arithmetic gives 38.65 GB (36 GiB),
    at TP8 and at TP4 x PP2 alike (2 x 48 layers x 24 heads x 128 x 2 B = 589,824 B per token per GPU)."""
    assert ref(tp=4, pp=2)["kv_per_token_per_gpu"] == 2 * 48 * 24 * 128 * 2 == 589_824
    for tp, pp in ((8, 1), (4, 2)):
        r = ref(tp=tp, pp=pp)
        assert math.isclose(r["kv_per_gpu"], 38.65 * GB, rel_tol=2e-4)
        assert not accepted_in_gb_or_gib(8, r["kv_per_gpu"], approx=True)
    assert math.isclose(8 * GB / ref()["kv_per_gpu"], 0.207, rel_tol=0.01)


def test_rubric_prose_is_wrong_total_57gb_is_about_87gb_and_does_not_fit() -> None:
    """Rubric 2b: "Total: ~57 GB < 80 GB". With its own 5 GB of activations the total is 87.4 GB: over 80 GB
    and over 80 GiB (85.9 GB). 57 GB is what the wrong 8 GB of KV adds up to."""
    r = ref(activation_bytes=5e9)
    assert math.isclose(r["per_gpu_total"], 87.4 * GB, rel_tol=1e-3)
    assert r["fits"] == 0.0
    assert ref(activation_bytes=5e9, gpu_memory_bytes=GPU_80GIB)["fits"] == 0.0
    assert not accepted_in_gb_or_gib(57, r["per_gpu_total"], approx=True)
    assert math.isclose(r["weights_per_gpu"] + 8 * GB + 5 * GB, 56.75 * GB)  # the rubric's sum
    # 32 full 2K sequences do not fit in either reading of "80 GB"
    assert ref(activation_bytes=5e9)["max_sequences"] < 32
    assert ref(activation_bytes=5e9, gpu_memory_bytes=GPU_80GIB)["max_sequences"] < 32


def test_rubric_prose_is_wrong_113mb_per_token_is_per_step() -> None:
    """Rubric 3a: "96 layers: 113 MB per token". The message was built from 16 sequences, so 113 MB is one
    decode step of 16 tokens: 7.08 MB per token (and 0.19 ms is per step, not per token)."""
    r = ref(tp=4, pp=2, comm_batch=16)
    assert accepted(113e6, r["tp_volume_per_step"], approx=False)
    assert not accepted(113e6, r["tp_volume_per_token"], approx=True)
    assert math.isclose(r["tp_volume_per_token"], 7.08e6, rel_tol=1e-3)
    assert r["tp_volume_per_step"] / r["tp_volume_per_token"] == 16


def test_rubric_prose_is_wrong_example1_21_875gb_is_half_of_43_75gb() -> None:
    """Example 1: "with 2-way PP x 4-way TP, each GPU holds 175GB/2/4 = 21.875 GB ... giving us 50+ GB for KV".
    175 GB takes the parameter count as bytes (FP16 is 350 GB): claimed/true = 0.5, and for a fixed 8 GPUs PP
    does not reduce per-GPU weights at all. 21.875 GB is the INT8 figure; free memory is 36.25 GB, not 50+."""
    fp16 = ref(tp=4, pp=2)
    assert fp16["weights_per_gpu"] == 43.75 * GB == ref(tp=8, pp=1)["weights_per_gpu"]
    assert 21.875 * GB / fp16["weights_per_gpu"] == 0.5
    assert not accepted_in_gb_or_gib(21.875, fp16["weights_per_gpu"], approx=True)
    assert ref(tp=4, pp=2, weight_precision="int8")["weights_per_gpu"] == 21.875 * GB
    for capacity in (GPU_80GB, GPU_80GIB):
        assert capacity - fp16["weights_per_gpu"] < 50 * GB


def test_rubric_prose_is_wrong_example1_10ms_tp_overhead_is_3x_too_high_for_nvlink() -> None:
    """Example 1: "~1 MB per all-reduce ... adds ~10 ms per forward pass". At batch 32, 192 all-reduces of
    1.18 MB per GPU are 226 MB: 0.75 ms at 300 GB/s per direction, plus ~1.5 ms of latency: about 2.3 ms."""
    r = ref(tp=4, pp=2, comm_batch=32, link_bandwidth=300e9)
    latency = calculator.transfer_time_s(
        nbytes=0, bandwidth=1.0, latency_s=calculator.SMALL_ALLREDUCE_LATENCY_S, count=int(r["allreduces_per_step"])
    )
    realistic = r["tp_comm_time"] + latency
    assert 2 * MS < realistic < 2.5 * MS
    assert 10 * MS / realistic > 3


# --- properties ---------------------------------------------------------------------------------------------

SPLITS_OF_8 = [(1, 8), (2, 4), (4, 2), (8, 1)]


@pytest.mark.parametrize("precision", list(calculator.BYTES_PER_ELEMENT))
def test_weights_per_gpu_at_fixed_8_gpus_is_independent_of_the_split(precision: str) -> None:
    wb = calculator.bytes_per_element(precision)
    values = {calculator.weights_per_gpu_bytes(params=175e9, weight_bytes=wb, tp=t, pp=p) for t, p in SPLITS_OF_8}
    via_reference = {ref(tp=t, pp=p, weight_precision=precision)["weights_per_gpu"] for t, p in SPLITS_OF_8}
    assert len(values) == 1 and values == via_reference
    assert values.pop() == 175e9 * wb / 8


def test_kv_per_gpu_at_fixed_8_gpus_is_independent_of_the_split_for_mha() -> None:
    assert len({ref(tp=t, pp=p)["kv_per_gpu"] for t, p in SPLITS_OF_8}) == 1


@pytest.mark.parametrize("pp", range(1, 9))
@pytest.mark.parametrize("m", [1, 2, 3, 4, 8, 16, 32])
def test_bubble_conventions_relate_by_m_plus_p_minus_1_over_m(pp: int, m: int) -> None:
    relative = calculator.bubble_relative(pp=pp, micro_batches=m)
    wall = calculator.bubble_fraction_of_wall(pp=pp, micro_batches=m)
    assert math.isclose(relative, wall * (m + pp - 1) / m, rel_tol=1e-12, abs_tol=1e-15)
    assert wall <= relative and 0 <= wall < 1


@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_decode_floor_is_independent_of_pp_at_fixed_tp(tp: int) -> None:
    """Each stage's tp GPUs read W/pp; the pp stages run one after another: W/tp whatever pp is."""
    floors = {ref(tp=tp, pp=pp)["decode_latency"] for pp in (1, 2, 4, 8)}
    with_kv = {ref(tp=tp, pp=pp)["decode_latency_with_kv"] for pp in (1, 2, 4, 8)}
    assert len(floors) == 1 and len(with_kv) == 1
    assert math.isclose(floors.pop(), 350e9 / (tp * 2.039e12))


@pytest.mark.parametrize(("kv_heads", "tp"), list(itertools.product([1, 2, 8, 96], [1, 2, 4, 8, 16])))
def test_gqa_kv_heads_are_replicated_when_fewer_than_tp(kv_heads: int, tp: int) -> None:
    """vLLM: each GPU holds max(1, n_kv/tp) KV heads. Below one head per GPU the heads are copied, so the
    per-GPU KV stops shrinking with tp and the GPUs together hold more than one copy of the cache."""
    r = ref(kv_heads=kv_heads, tp=tp, pp=1)
    per_gpu_heads = calculator.kv_heads_per_gpu(kv_heads=kv_heads, tp=tp)
    assert per_gpu_heads == max(1.0, kv_heads / tp)
    assert r["kv_per_token_per_gpu"] == 2 * 96 * per_gpu_heads * 128 * 2
    summed = r["kv_per_token_per_gpu"] * tp
    if kv_heads >= tp:
        assert math.isclose(summed, r["kv_per_token"])
    else:
        assert math.isclose(summed, r["kv_per_token"] * tp / kv_heads)  # tp/kv_heads copies


def test_mqa_per_gpu_kv_equals_the_whole_token_at_any_tp() -> None:
    for tp in (1, 2, 4, 8):
        r = ref(kv_heads=1, tp=tp, pp=1)
        assert r["kv_per_token_per_gpu"] == r["kv_per_token"] == 49_152


def test_reference_values_are_finite_for_variants() -> None:
    variants = [
        {},
        {"tp": 4, "pp": 2, "context": 4096, "kv_precision": "int8"},
        {"tp": 1, "pp": 1, "weight_precision": "int4", "kv_heads": 8},
        {"tp": 16, "pp": 4, "batch": 1, "micro_batches": 1},
    ]
    for overrides in variants:
        for name, value in ref(**overrides).items():
            assert math.isfinite(value), (overrides, name, value)
            assert value >= 0 or name == "free_per_gpu", (overrides, name, value)


def test_vllm_capacity_is_about_26_sequences() -> None:
    block = ref()["kv_block_per_gpu"]
    blocks = calculator.vllm_num_gpu_blocks(
        gpu_memory_bytes=GPU_80GIB, peak_memory_bytes=45.7e9, block_bytes=block, gpu_memory_utilization=0.9
    )
    assert round(blocks * 16 / 2048) == 26
