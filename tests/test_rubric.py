"""The rubric as data: its shape, its integrity checks, its arithmetic against the calculator, its vocabulary."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import pytest

from grader.calculator import ServingConfig, reference
from grader.errors import RubricError
from grader.paths import RUBRIC_FILE
from grader.rubric import (
    GREEN_FLAG_IDS,
    RED_FLAG_IDS,
    Rubric,
    compile_pattern,
    default_rubric,
    load_rubric,
    split_sentences,
)

SEED = Path("/work/shared/seeds/000_aaf901d17a4546e8.txt")


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return default_rubric()


# --- shape ---------------------------------------------------------------------------------------------


def test_loads_with_version_and_identity(rubric: Rubric) -> None:
    assert rubric.version == "1"
    assert rubric.id == "distributed-llm-serving"
    assert rubric.total_points == 100
    assert default_rubric() is rubric  # cached


def test_categories_and_points(rubric: Rubric) -> None:
    assert [(c.id, c.points) for c in rubric.categories] == [
        ("requirements", 10),
        ("parallelism", 30),
        ("communication", 20),
        ("fault_tolerance", 20),
        ("memory_management", 10),
        ("operations", 10),
    ]


@pytest.mark.parametrize(
    ("category", "subs"),
    [
        ("requirements", [("requirements", 10)]),
        ("parallelism", [("understanding", 10), ("memory_calculation", 10), ("strategy", 10)]),
        ("communication", [("bandwidth_calculation", 10), ("optimization", 10)]),
        ("fault_tolerance", [("detection", 7), ("recovery", 8), ("checkpointing", 5)]),
        ("memory_management", [("memory_management", 10)]),
        ("operations", [("operations", 10)]),
    ],
)
def test_subcriteria(rubric: Rubric, category: str, subs: list[tuple[str, int]]) -> None:
    assert [(s.id, s.points) for s in rubric.category(category).subcriteria] == subs


@pytest.mark.parametrize(
    ("ref", "bands"),
    [
        ("requirements", [("Outstanding", 9, 10), ("Acceptable", 5, 6), ("Weak", 0, 4)]),
        ("parallelism.understanding", [("Outstanding", 9, 10), ("Strong", 7, 8), ("Weak", 0, 5)]),
        ("parallelism.memory_calculation", [("Outstanding", 9, 10), ("Acceptable", 5, 7), ("Weak", 0, 4)]),
        ("parallelism.strategy", [("Outstanding", 9, 10), ("Strong", 6, 8), ("Weak", 0, 5)]),
        ("communication.bandwidth_calculation", [("Outstanding", 9, 10), ("Strong", 6, 8), ("Weak", 0, 5)]),
        ("communication.optimization", [("Outstanding", 9, 10), ("Strong", 6, 8), ("Weak", 0, 5)]),
        ("fault_tolerance.detection", [("Outstanding", 6, 7), ("Acceptable", 3, 5), ("Weak", 0, 2)]),
        ("fault_tolerance.recovery", [("Outstanding", 7, 8), ("Strong", 5, 6), ("Weak", 0, 4)]),
        ("fault_tolerance.checkpointing", [("Outstanding", 5, 5), ("Acceptable", 2, 3), ("Weak", 0, 1)]),
        ("memory_management", [("Outstanding", 9, 10), ("Strong", 6, 8), ("Weak", 0, 5)]),
        ("operations", [("Outstanding", 9, 10), ("Strong", 6, 8), ("Weak", 0, 5)]),
    ],
)
def test_bands_keep_the_rubric_ranges(rubric: Rubric, ref: str, bands: list[tuple[str, int, int]]) -> None:
    sub = rubric.subcriterion(ref)
    assert [(b.name, b.min, b.max) for b in sub.bands] == bands
    assert sub.bands[-1].evidence.fallback
    assert not any(b.evidence.fallback for b in sub.bands[:-1])


def test_gaps_are_the_rubrics(rubric: Rubric) -> None:
    gaps = {f"{c.id}.{s.id}": s.gaps for c, s in rubric.iter_subcriteria() if s.gaps}
    assert gaps == {
        "requirements.requirements": [(7, 8)],
        "parallelism.understanding": [(6, 6)],
        "parallelism.memory_calculation": [(8, 8)],
        "fault_tolerance.checkpointing": [(4, 4)],
    }
    sub = rubric.subcriterion("parallelism", "understanding")
    assert sub.band_for(6) is None
    assert sub.band_for(7).name == "Strong"


def test_outstanding_understanding_needs_all_three_types_explained(rubric: Rubric) -> None:
    ev = rubric.subcriterion("parallelism", "understanding").band("Outstanding").evidence
    first = ev.all_of[0]
    assert set(first.concepts) == {"tensor_parallelism", "pipeline_parallelism", "data_parallelism"}
    assert first.level == "explained" and first.min == 3
    assert any(c.concepts == ["parallelism_tradeoffs"] for c in ev.all_of)


def test_flag_ids_and_labels(rubric: Rubric) -> None:
    assert {f.id for f in rubric.red_flags.flags} == RED_FLAG_IDS
    assert {f.id for f in rubric.green_flags.flags} == GREEN_FLAG_IDS
    assert rubric.flag("single_gpu_solution").label == "Proposes single-GPU solution for 175B model"
    assert rubric.flag("references_papers").label == "References Megatron-LM, DeepSpeed, or similar"
    assert all(f.when for f in (*rubric.red_flags.flags, *rubric.green_flags.flags))


def test_question_topic_tiers(rubric: Rubric) -> None:
    assert {t.id for t in rubric.topics_in_tier("outstanding")} == {
        "architecture",
        "interconnect",
        "topology",
        "failure_requirements",
        "cost",
    }
    assert {t.id for t in rubric.topics_in_tier("acceptable")} == {"model_size", "latency_targets"}


def test_prompted_weight_and_buzzword_cap(rubric: Rubric) -> None:
    pw = rubric.prompted_weight
    assert 0 < pw.weight < 1
    assert set(pw.subcriteria) == {"parallelism.strategy", "communication.optimization"}
    assert set(pw.green_flags) == {"hybrid_parallelism_unprompted", "advanced_optimizations"}
    assert rubric.prompted_matters("hybrid_parallelism_unprompted")
    assert not rubric.prompted_matters("parallelism.memory_calculation")
    assert rubric.buzzword_cap_band("parallelism", "understanding").name == "Weak"
    assert rubric.buzzword_cap_band("fault_tolerance.detection").name == "Acceptable"
    assert rubric.buzzword_cap_band("memory_management").name == "Weak"
    assert rubric.buzzword_cap_band("parallelism.memory_calculation") is None


def test_lookups(rubric: Rubric) -> None:
    assert rubric.subcriterion("parallelism.strategy") is rubric.subcriterion("parallelism", "strategy")
    assert rubric.subcriterion("operations").id == "operations"
    assert rubric.concept("nvlink").label == "NVLink"
    concept, mis = rubric.misconception("pp_allreduce")
    assert concept.id == "pipeline_parallelism" and mis.explanation
    for lookup, bad in [
        (rubric.category, "nope"),
        (rubric.concept, "nope"),
        (rubric.flag, "nope"),
        (rubric.topic, "nope"),
        (rubric.discrepancy, "nope"),
        (rubric.misconception, "nope"),
    ]:
        with pytest.raises(KeyError):
            lookup(bad)
    with pytest.raises(KeyError):
        rubric.subcriterion("parallelism", "nope")


# --- levels and recommendations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "level"),
    [(0, "below_L4"), (54.9, "below_L4"), (55, "L4"), (69.9, "L4"), (70, "L5"), (84.9, "L5"), (85, "L6"), (100, "L6")],
)
def test_level_boundaries(rubric: Rubric, total: float, level: str) -> None:
    assert rubric.level_for(total).id == level


@pytest.mark.parametrize("total", [-0.1, 100.1])
def test_level_out_of_range(rubric: Rubric, total: float) -> None:
    with pytest.raises(ValueError):
        rubric.level_for(total)


@pytest.mark.parametrize(
    ("total", "red", "green", "expected"),
    [
        (95, 0, 0, "strong_hire"),
        (80, 0, 0, "strong_hire"),
        (79.9, 0, 0, "hire"),  # the rubric's 75-80 gap joins hire
        (60, 0, 0, "hire"),
        (59.9, 0, 0, "lean_no_hire"),
        (55, 0, 0, "lean_no_hire"),
        (54.9, 0, 0, "no_hire"),
        (95, 3, 9, "no_hire"),  # 3+ red flags: No Hire whatever the total
        (65, 0, 6, "strong_hire"),  # 6+ green flags, no red flag
        (65, 1, 6, "hire"),  # a red flag blocks the green-flag rule: back to the total
        (40, 2, 0, "no_hire"),
    ],
)
def test_recommendation(rubric: Rubric, total: float, red: int, green: int, expected: str) -> None:
    assert rubric.recommendation_for(total, red_flags=red, green_flags=green).id == expected


def test_feedback_templates(rubric: Rubric) -> None:
    strong = rubric.feedback_template("strong")
    text = strong.render(strategy="8-way tensor parallelism with 4 replicas", fault_tolerance="replica failover")
    assert "Your 8-way tensor parallelism with 4 replicas was well-justified" in text
    with pytest.raises(KeyError):
        strong.render(strategy="x")
    assert rubric.feedback_template("acceptable").render() == rubric.feedback_template("acceptable").rubric_text
    assert rubric.recommendation("hire").feedback == "acceptable"


# --- the arithmetic wins: discrepancies against the calculator -----------------------------------------


def _calculator_values(config: dict[str, object]) -> dict[str, float]:
    cfg = ServingConfig.from_scenario(**config)
    values = {k: float(v) for k, v in cfg.model_dump().items() if isinstance(v, int | float)}
    values.update({name: q.value for name, q in reference(cfg).items()})
    return values


@pytest.mark.parametrize("disc_id", [d.id for d in default_rubric().discrepancies])
def test_discrepancy_correct_value_matches_calculator(rubric: Rubric, disc_id: str) -> None:
    d = rubric.discrepancy(disc_id)
    computed = d.check.evaluate(_calculator_values(d.check.config))
    assert math.isclose(d.correct.base_value, computed, rel_tol=0.01), (d.correct, computed)
    # and the rubric's figure really is off (outside the exact-arithmetic tolerance)
    ratio = d.claimed.base_value / d.correct.base_value
    assert not 0.9 <= ratio <= 1.1, ratio


def test_discrepancies_cover_the_known_contradictions(rubric: Rubric) -> None:
    ids = {d.id for d in rubric.discrepancies}
    assert {
        "memory_kv_8gb",
        "memory_total_57gb",
        "tp_113mb_per_token",
        "tp_time_bidirectional",
        "tp8_ring_factor",
        "pp_time_600",
        "example1_weights_21875",
        "example1_kv_50gb",
        "example1_tp_comm_10ms",
        "memory_example_kv_8gb",
    } <= ids
    assert rubric.discrepancy("memory_kv_8gb").claimed.value == 8
    assert rubric.discrepancy("example1_weights_21875").correct.value == 43.75


def test_every_quantity_the_rubric_names_is_in_the_registry(rubric: Rubric) -> None:
    """One list of quantities: the rubric's evidence and flags refer to the registry's ids, and an unknown id
    fails the rubric at load time."""
    from grader.quantities.registry import REGISTRY

    named = {q for _, _, cond in _all_conditions(rubric) for q in cond.quantities}
    assert named and named <= set(REGISTRY)


def _all_conditions(rubric: Rubric):  # type: ignore[no-untyped-def]
    for _, sub in rubric.iter_subcriteria():
        for band in sub.bands:
            yield from band.evidence.conditions()
    for group in (rubric.red_flags, rubric.green_flags):
        for flag in group.flags:
            yield from flag.trigger.conditions()


def test_discrepancy_check_names_exist() -> None:
    values = _calculator_values({})
    for d in default_rubric().discrepancies:
        assert d.check.names <= set(values), d.id


# --- verbatim ------------------------------------------------------------------------------------------


def _normalise_seed(text: str) -> str:
    lines = []
    for line in text.splitlines():
        line = line.strip().replace("**", "")
        line = re.sub(r"^(?:```\w*|#+ |- \[ \] |- )", "", line)
        lines.append(line)
    return re.sub(r"\s+", " ", " ".join(lines))


@pytest.mark.skipif(not SEED.exists(), reason="the rubric's source text is not on this machine")
def test_rubric_text_is_verbatim(rubric: Rubric) -> None:
    seed = _normalise_seed(SEED.read_text(encoding="utf-8"))

    def norm(s: str) -> str:
        return re.sub(r"\s+", " ", s).strip()

    quoted: list[str] = []
    for cat, sub in rubric.iter_subcriteria():
        quoted += [cat.label, cat.focus]
        for band in sub.bands:
            quoted += [*band.descriptors, band.lead or "", band.example or ""]
    for group in (rubric.red_flags, rubric.green_flags):
        quoted += [group.heading] + [f.label for f in group.flags]
    for lv in rubric.levels[:-1]:
        quoted += [lv.label, *lv.must_demonstrate] + [b for bullets in lv.notes.values() for b in bullets]
    for fb in rubric.feedback:
        quoted += [fb.heading, fb.rubric_text, fb.recommendation_text, *fb.strengths, *fb.growth_areas]
    for kd in rubric.key_discriminators:
        quoted += [kd.title, kd.qualifier, *kd.points]
    for cal in rubric.calibration:
        quoted += [cal.title, cal.text, *cal.rubric_bullets]
    quoted += [r.rubric_text for r in rubric.rules] + [d.rubric_text for d in rubric.discrepancies]
    missing = [q for q in quoted if q and norm(q) not in seed]
    assert not missing


# --- integrity: a broken copy fails with file, field and line -------------------------------------------

_TEXT = RUBRIC_FILE.read_text(encoding="utf-8")


def _break(tmp_path: Path, old: str, new: str) -> tuple[Path, RubricError]:
    assert _TEXT.count(old) == 1, f"fixture text not unique: {old!r}"
    path = tmp_path / "rubric.yaml"
    path.write_text(_TEXT.replace(old, new), encoding="utf-8")
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    return path, info.value


@pytest.mark.parametrize(
    ("old", "new", "field", "line_has"),
    [
        pytest.param(
            "      - id: understanding\n        label: Understanding of Parallelism Types\n        points: 10\n",
            "      - id: understanding\n        label: Understanding of Parallelism Types\n        points: 12\n",
            "categories.1.points",
            "points: 30",
            id="sub-criteria do not add up to the category",
        ),
        pytest.param(
            "  - id: operations\n    label: Operations & Monitoring\n    points: 10\n"
            "    focus: Deployment, debugging, scaling\n    subcriteria:\n      - id: operations\n"
            "        label: Operations & Monitoring\n        points: 10\n",
            "  - id: operations\n    label: Operations & Monitoring\n    points: 11\n"
            "    focus: Deployment, debugging, scaling\n    subcriteria:\n      - id: operations\n"
            "        label: Operations & Monitoring\n        points: 11\n",
            "categories",
            "- id: requirements",
            id="categories do not add up to 100",
        ),
        pytest.param(
            "    - id: no_fault_tolerance\n",
            "    - id: no_fault_toleranse\n",
            "red_flags.flags.5.id",
            "no_fault_toleranse",
            id="unknown red flag id",
        ),
        pytest.param(
            "    - id: references_papers\n",
            "    - id: cites_papers\n",
            "green_flags.flags.4.id",
            "cites_papers",
            id="unknown green flag id",
        ),
        pytest.param(
            "      - '\\bheart-?beats?\\b'\n",
            "      - '\\bheart-?beats?(\\b'\n",
            "concepts.",
            "heart-?beats?(",
            id="pattern that does not compile",
        ),
        pytest.param(
            "                - {concepts: [kv_cache_sharding], level: explained}\n",
            "                - {concepts: [kv_cache_shardin], level: explained}\n",
            "categories.4.subcriteria.0.bands.0.evidence.all_of.0.concepts.0",
            "kv_cache_shardin",
            id="unknown concept reference",
        ),
        pytest.param(
            "                - {misconceptions: [drop_in_flight]}\n              note: >-\n",
            "                - {misconceptions: [drop_requests]}\n              note: >-\n",
            "evidence.unless.0.misconceptions.0",
            "drop_requests",
            id="unknown misconception reference",
        ),
        pytest.param(
            "          - {quantities: [decode_latency, decode_floor, decode_floor_with_kv], verdict: incorrect, max_ratio: 0.9}\n",
            "          - {quantities: [decode_speed], verdict: incorrect, max_ratio: 0.9}\n",
            "red_flags.flags.6.trigger.all_of.0.quantities.0",
            "decode_speed",
            id="unknown quantity",
        ),
        pytest.param(
            "          - name: Strong\n            min: 5\n            max: 6\n",
            "          - name: Strong\n            min: 5\n            max: 6\n            colour: blue\n",
            "categories.3.subcriteria.1.bands.1.colour",
            "colour: blue",
            id="extra field",
        ),
        pytest.param(
            "        points: 5\n        # GAP",
            "        points: 4\n        # GAP",
            "categories.3.points",
            "points: 20",
            id="band max above the sub-criterion's points",
        ),
        pytest.param(
            "    max: 69\n",
            "    max: 68\n",
            "levels.2.max",
            "max: 68",
            id="levels not contiguous",
        ),
        pytest.param(
            '    rubric_text: "KV cache (32 seqs, 2K ctx): ~8 GB"\n',
            '    rubric_text: "KV cache (32 seqs, 2K ctx): ~9 GB"\n',
            "discrepancies.0.rubric_text",
            "~9 GB",
            id="discrepancy quote not in the rubric",
        ),
        pytest.param(
            "    template: >-\n      Excellent work on the distributed serving design. Your {strategy} was",
            "    template: >-\n      Excellent work on the distributed serving design. Your {strategy_name} was",
            "feedback.0",
            "id: strong",
            id="template placeholder not declared",
        ),
        pytest.param(
            "    feedback: acceptable\n",
            "    feedback: okay\n",
            "recommendations.1.feedback",
            "feedback: okay",
            id="unknown feedback template",
        ),
        pytest.param(
            "    check: {config: {tp: 8, pp: 1}, expr: kv_per_gpu}\n  - id: memory_total_57gb",
            "    check: {config: {tp: 8, pp: 1}, expr: __import__('os')}\n  - id: memory_total_57gb",
            "discrepancies.0.check.expr",
            "__import__",
            id="discrepancy expression is not arithmetic",
        ),
    ],
)
def test_broken_copy_is_rejected(tmp_path: Path, old: str, new: str, field: str, line_has: str) -> None:
    path, err = _break(tmp_path, old, new)
    assert err.path == str(path)
    assert field.rstrip(":") in err.message
    assert err.line is not None
    assert line_has in path.read_text(encoding="utf-8").splitlines()[err.line - 1]
    assert str(path) in str(err)


def test_band_range_above_points_is_named(tmp_path: Path) -> None:
    old = "          - name: Outstanding\n            min: 6\n            max: 7\n"
    _, err = _break(tmp_path, old, old.replace("max: 7", "max: 8"))
    assert "categories.3.subcriteria.0.bands.0.max" in err.message
    assert "exceeds" in err.message


def test_condition_needs_exactly_one_kind(tmp_path: Path) -> None:
    old = "                - {concepts: [kv_cache_sharding], level: explained}\n"
    _, err = _break(tmp_path, old, "                - {concepts: [kv_cache_sharding], questions: [cost]}\n")
    assert "categories.4.subcriteria.0.bands.0.evidence.all_of.0" in err.message
    assert "exactly one" in err.message


def test_missing_file_and_yaml_syntax(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match="cannot read"):
        load_rubric(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: '1'\ncategories: [\n", encoding="utf-8")
    with pytest.raises(RubricError, match="YAML syntax"):
        load_rubric(bad)


# --- patterns ------------------------------------------------------------------------------------------


def test_every_pattern_compiles_case_insensitively(rubric: Rubric) -> None:
    patterns = [p for t in rubric.question_topics for p in t.patterns]
    for c in rubric.concepts:
        patterns += c.mention + c.mechanism + [p for m in c.misconceptions for p in m.patterns]
    assert len(patterns) > 400
    for p in patterns:
        assert compile_pattern(p).flags & re.IGNORECASE


def test_patterns_compile_once(rubric: Rubric) -> None:
    c = rubric.concept("tensor_parallelism")
    assert c.mention_patterns is c.mention_patterns
    # one alternation per list, so a sentence is scanned once per concept, and it matches what each does
    assert len(c.mention_patterns) == 1
    for p in c.mention:
        assert bool(c.mention_patterns[0].search("split each layer")) >= bool(
            compile_pattern(p).search("split each layer")
        )


def test_patterns_are_fast_on_long_turns(rubric: Rubric) -> None:
    sentence = (
        "we use tensor parallel TP with all-reduce over NVLink at 600 GB/s and pipeline stages across "
        "nodes over InfiniBand at 200 Gb/s while the KV cache is sharded by heads " * 6
    )
    text = ". ".join([sentence] * 10)
    start = time.perf_counter()
    rubric.match_concepts(text)
    rubric.match_misconceptions(text)
    assert time.perf_counter() - start < 2.0


def test_split_sentences() -> None:
    assert split_sentences("Weights are 43.75 GB per GPU. KV is 38.65 GB; total 87 GB!\nNext line, e.g. this") == [
        "Weights are 43.75 GB per GPU.",
        "KV is 38.65 GB;",
        "total 87 GB!",
        "Next line, e.g. this",
    ]


BUZZWORDS = "We'll use TP, PP, DP, PagedAttention, FlashAttention, NVLink and InfiniBand."

CONCEPT_CASES = [
    # (sentence, concept, expected: "explained" = mechanism, "mentioned" = name only, None = nothing)
    ("We use TP and PP.", "tensor_parallelism", "mentioned"),
    ("We use TP and PP.", "pipeline_parallelism", "mentioned"),
    (
        "We split each layer's weight matrices across the 4 GPUs and all-reduce the partial outputs.",
        "tensor_parallelism",
        "explained",
    ),
    ("Tensor parallelism shards every weight matrix across the GPUs in a node.", "tensor_parallelism", "explained"),
    ("Megatron-style column-parallel then row-parallel linear layers.", "tensor_parallelism", "explained"),
    ("The 96 attention heads are split across the 4 GPUs.", "tensor_parallelism", "explained"),
    ("We'll do 8-way tensor parallel.", "tensor_parallelism", "mentioned"),
    ("TP4 inside each node.", "tensor_parallelism", "mentioned"),
    ("TP does two all-reduces per layer over NVLink.", "tensor_parallelism", "explained"),
    ("I'd start by asking about the model.", "tensor_parallelism", None),
    (
        "Pipeline parallelism puts layers 0-47 on the first node and 48-95 on the second.",
        "pipeline_parallelism",
        "explained",
    ),
    (
        "Split the layers across two stages and send the activations to the next stage.",
        "pipeline_parallelism",
        "explained",
    ),
    ("With 8 micro-batches the pipeline stays busy.", "pipeline_parallelism", "explained"),
    ("Pipeline parallel is an option.", "pipeline_parallelism", "mentioned"),
    ("Each of the 4 nodes runs a full copy of the model.", "data_parallelism", "explained"),
    ("Four replicas serve independent requests behind a load balancer.", "data_parallelism", "explained"),
    ("We add data parallelism.", "data_parallelism", "mentioned"),
    ("2-way PP x 4-way TP.", "hybrid_parallelism", "mentioned"),
    (
        "TP within a node over NVLink and pipeline stages across nodes over InfiniBand.",
        "hybrid_parallelism",
        "explained",
    ),
    ("Pure 8-way TP has excessive all-reduce overhead.", "parallelism_tradeoffs", "explained"),
    ("There are trade-offs.", "parallelism_tradeoffs", "mentioned"),
    ("The model is too big for one GPU.", "model_distribution", "mentioned"),
    ("350 GB of weights cannot fit in 80 GB.", "model_distribution", "explained"),
    ("A ring all-reduce sends 2(n-1)/n of the data per GPU.", "allreduce", "explained"),
    ("Then there's an all-reduce.", "allreduce", "mentioned"),
    ("NVLink gives 600 GB/s per GPU.", "nvlink", "explained"),
    ("We need NVLink.", "nvlink", "mentioned"),
    ("NVLink is roughly 10x faster than PCIe.", "nvlink", "explained"),
    ("NVLink is roughly 10x faster than PCIe.", "pcie", "explained"),
    ("All 8 GPUs talk through the NVSwitch at full bandwidth.", "nvswitch", "explained"),
    ("Between nodes we have InfiniBand HDR at 200 Gb/s, which is 25 GB/s.", "infiniband", "explained"),
    ("We'd use IB.", "infiniband", "mentioned"),
    ("Use PagedAttention with 16-token blocks to reduce fragmentation.", "paged_attention", "explained"),
    ("We'll run vLLM.", "paged_attention", "mentioned"),
    ("With 4-way TP each GPU stores the KV cache for its 24 heads.", "kv_cache_sharding", "explained"),
    ("The KV cache is sharded.", "kv_cache_sharding", "mentioned"),
    ("The KV cache stores keys and values for every layer.", "kv_cache", "explained"),
    ("KV cache is 2 x 96 layers x 12288 x 2 bytes per token.", "kv_cache", "explained"),
    ("INT8 weights halve memory to 175 GB.", "int8_quantization", "explained"),
    ("Maybe INT4.", "int4_quantization", "mentioned"),
    ("INT4 with GPTQ needs a quality evaluation.", "int4_quantization", "explained"),
    ("Quantize the KV cache to FP8 so twice as many sequences fit.", "kv_quantization", "explained"),
    ("FlashAttention tiles the computation in SRAM.", "flash_attention", "explained"),
    ("Heartbeats every 10 seconds; three missed heartbeats mark the worker dead.", "heartbeats", "explained"),
    ("We'd add heartbeats.", "heartbeats", "mentioned"),
    ("We watch for Xid 79 and double-bit ECC errors via DCGM.", "cuda_errors", "explained"),
    ("Catch CUDA errors.", "cuda_errors", "mentioned"),
    ("Monitor memory usage over time to catch leaks.", "memory_leak_monitoring", "explained"),
    ("Run periodic nccl-tests between nodes to check bandwidth.", "network_checks", "explained"),
    (
        "Health checks at the GPU level, the process level and the replica level.",
        "multi_level_health_checks",
        "explained",
    ),
    ("Basic health checks.", "multi_level_health_checks", "mentioned"),
    ("A 30 s timeout on each decode step marks the worker as hung.", "timeout_detection", "explained"),
    ("Fail over to a healthy replica.", "replica_failover", "explained"),
    ("Failover.", "replica_failover", "mentioned"),
    ("Reshard the model onto the remaining healthy GPUs.", "reconfiguration", "explained"),
    ("Checkpoint and restart as a last resort, reloading weights from local NVMe.", "checkpoint_restart", "explained"),
    ("Just restart it.", "checkpoint_restart", "mentioned"),
    ("Snapshot the KV cache to host memory every 64 tokens.", "kv_snapshots", "explained"),
    (
        "We store the prompt and the generated tokens so far, so we can resume on another replica.",
        "request_state_preservation",
        "explained",
    ),
    ("Checkpointing more often costs bandwidth but loses less work.", "checkpoint_frequency", "explained"),
    ("Shed low-priority traffic and cap max tokens while capacity is reduced.", "graceful_degradation", "explained"),
    ("RTO under 5 minutes, RPO of zero for accepted requests.", "rto_rpo", "explained"),
    ("Per-GPU utilization, memory and temperature from DCGM.", "per_gpu_metrics", "explained"),
    ("Track all-reduce latency and pipeline hand-off time.", "comm_latency_metrics", "explained"),
    ("Queue depth per replica drives autoscaling.", "queue_depth", "explained"),
    ("Break down latency into queueing, prefill and decode.", "latency_breakdown", "explained"),
    ("Propagate a trace ID through the router, the scheduler and every stage.", "distributed_tracing", "explained"),
    (
        "Canary to 5% of traffic, then roll out one replica at a time with automatic rollback.",
        "staged_rollout",
        "explained",
    ),
    (
        "Autoscale replicas based on queue depth, knowing a cold start takes minutes to load 350 GB.",
        "autoscaling",
        "explained",
    ),
    ("Overlap the all-reduce with the next layer's matmul.", "comm_compute_overlap", "explained"),
    ("Keep each TP group within a node.", "topology_aware_placement", "explained"),
    ("I'd keep tensor parallelism inside the node.", "topology_aware_placement", "explained"),
    ("We won't put TP on the same node as the router.", "topology_aware_placement", None),
    ("Tune NCCL_ALGO and NCCL_PROTO for small messages.", "nccl_tuning", "explained"),
    ("Continuous batching admits new requests at every decode step.", "continuous_batching", "explained"),
    ("A draft model proposes tokens that the big model verifies in one pass.", "speculative_decoding", "explained"),
    ("The pipeline bubble is (p-1)/m, about 12% with 8 micro-batches.", "pipeline_bubble", "explained"),
    ("Like in the Megatron-LM paper.", "megatron", "explained"),
    ("Megatron.", "megatron", "mentioned"),
    ("ZeRO partitions optimizer states across data-parallel ranks.", "zero_deepspeed", "explained"),
    ("We want zero downtime deployments.", "zero_deepspeed", None),
    ("GPipe.", "gpipe", "mentioned"),
    ("We could also use MoE.", "moe", "mentioned"),
    *[
        (BUZZWORDS, c, "mentioned")
        for c in (
            "tensor_parallelism",
            "pipeline_parallelism",
            "data_parallelism",
            "paged_attention",
            "flash_attention",
            "nvlink",
            "infiniband",
        )
    ],
]


@pytest.mark.parametrize(("sentence", "concept", "expected"), CONCEPT_CASES)
def test_concept_evidence_level(rubric: Rubric, sentence: str, concept: str, expected: str | None) -> None:
    assert rubric.concept(concept).level_in(sentence) == expected
    assert rubric.match_concepts(sentence).get(concept) == expected


MISCONCEPTIONS_FIRE = [
    ("Pipeline parallelism needs an all-reduce after every layer.", "pp_allreduce"),
    ("We all-reduce between the pipeline stages.", "pp_allreduce"),
    (
        "With pipeline parallelism each GPU holds less memory for weights than with pure TP on the same 8 GPUs.",
        "pp_reduces_weights_vs_tp",
    ),
    ("Pipeline parallelism reduces per-token latency.", "pp_reduces_latency"),
    ("With tensor parallelism, each GPU gets 12 of the 96 layers.", "tp_splits_layers_between_gpus"),
    ("Tensor parallelism needs no communication between GPUs.", "tp_no_communication"),
    ("We'd run 32-way tensor parallelism across all 4 nodes.", "tp_across_nodes"),
    ("Data parallelism splits the model across GPUs.", "dp_splits_model"),
    ("We can serve the whole model on a single A100.", "single_gpu_fits"),
    ("A single GPU can hold the 175B model.", "single_gpu_fits"),
    ("NVLink connects the four nodes.", "nvlink_across_nodes"),
    ("We use inter-node NVLink for the pipeline.", "nvlink_across_nodes"),
    ("InfiniBand HDR gives us 200 GB/s per GPU.", "ib_in_GBps"),
    ("InfiniBand is faster than NVLink.", "ib_faster_than_nvlink"),
    ("TP over PCIe is fine.", "pcie_fine_for_tp"),
    ("Each GPU stores the full KV cache for all 96 heads.", "kv_not_sharded"),
    ("The KV cache is replicated on every GPU in the TP group.", "kv_not_sharded"),
    ("The KV cache is negligible compared to the weights.", "kv_negligible"),
    ("After each step we all-reduce the weights across GPUs.", "allreduce_weights"),
    ("And the all-reduces are basically free on NVLink.", "comm_negligible"),
    ("GPUs are pretty reliable these days, so this isn't something that happens often.", "failures_negligible"),
    ("It's such a rare event that I wouldn't over-engineer it.", "failures_negligible"),
    ("PagedAttention packs it tightly anyway, so in practice it's even less.", "paged_attention_shrinks_kv"),
    ("Honestly, communication is negligible on an NVSwitch box.", "comm_negligible"),
    ("INT4 takes one byte per parameter, so 175 GB.", "int4_one_byte"),
    ("PagedAttention compresses the KV cache.", "paged_attention_shrinks_kv"),
    ("FlashAttention reduces the KV cache size.", "flash_reduces_kv"),
    ("After a failure we re-shard onto the remaining 7 GPUs.", "tp7_reconfig"),
    ("Then we switch to 7-way TP.", "tp7_reconfig"),
    ("In-flight requests are just dropped when a GPU fails.", "drop_in_flight"),
    ("This model is a mixture of experts, so we use expert parallelism.", "moe_dense_model"),
]

MISCONCEPTIONS_QUIET = [
    ("TP needs an all-reduce after every layer, while PP only sends activations to the next stage.", "pp_allreduce"),
    ("Unlike PP, TP does an all-reduce after every layer.", "pp_allreduce"),
    ("There is no all-reduce between pipeline stages.", "pp_allreduce"),
    ("On the same 8 GPUs, PP does not reduce weights per GPU compared to TP.", "pp_reduces_weights_vs_tp"),
    ("Pipeline parallelism improves throughput but not latency.", "pp_reduces_latency"),
    ("Pipeline parallelism doesn't reduce latency.", "pp_reduces_latency"),
    ("With tensor parallelism each GPU holds a slice of every layer.", "tp_splits_layers_between_gpus"),
    ("Pipeline parallelism needs no all-reduce, only point-to-point sends.", "tp_no_communication"),
    ("Tensor parallelism can't work without communication.", "tp_no_communication"),
    ("We avoid 16-way TP across nodes because InfiniBand is 12x slower.", "tp_across_nodes"),
    ("We won't run TP across nodes.", "tp_across_nodes"),
    ("16-way TP across nodes would be slow.", "tp_across_nodes"),
    ("Data parallelism replicates the model; it doesn't split the model.", "dp_splits_model"),
    ("Data parallelism doesn't split the model.", "dp_splits_model"),
    ("It won't fit on a single GPU.", "single_gpu_fits"),
    ("The 175B model cannot fit on one A100.", "single_gpu_fits"),
    ("A single GPU can hold only 80 GB.", "single_gpu_fits"),
    ("We can't fit it on a single GPU.", "single_gpu_fits"),
    ("Each stage runs on a single GPU.", "single_gpu_fits"),
    ("NVLink within a node, InfiniBand between nodes.", "nvlink_across_nodes"),
    ("Inside a node GPUs talk over NVLink; between nodes we use InfiniBand.", "nvlink_across_nodes"),
    ("NVLink for TP, and across nodes InfiniBand.", "nvlink_across_nodes"),
    ("NVLink does not connect nodes.", "nvlink_across_nodes"),
    ("InfiniBand HDR is 200 Gb/s, so 25 GB/s per GPU.", "ib_in_GBps"),
    ("With 8 HDR NICs that's 200 GB/s per node.", "ib_in_GBps"),
    ("NVLink is about 12x faster than InfiniBand.", "ib_faster_than_nvlink"),
    ("NVLink gives ~10x the bandwidth of PCIe, so TP over PCIe would be slow.", "pcie_fine_for_tp"),
    ("The KV cache is sharded by heads: each GPU keeps 24 heads.", "kv_not_sharded"),
    ("Each GPU holds the full KV cache for its own heads.", "kv_not_sharded"),
    ("With GQA the KV cache is replicated across every GPU when there are fewer KV heads than GPUs.", "kv_not_sharded"),
    ("The KV cache is not negligible: 309 GB at 32 sequences of 2K.", "kv_negligible"),
    ("We all-reduce the activations, not the weights.", "allreduce_weights"),
    ("INT4 is half a byte per parameter, vs one byte for INT8.", "int4_one_byte"),
    ("PagedAttention cuts fragmentation of the KV cache.", "paged_attention_shrinks_kv"),
    ("FlashAttention does not shrink the KV cache.", "flash_reduces_kv"),
    ("FlashAttention reduces KV reads.", "flash_reduces_kv"),
    ("96 heads don't divide by 7, so we fall back to 4-way TP.", "tp7_reconfig"),
    ("In-flight requests are lost, so the router retries them on a healthy replica.", "drop_in_flight"),
    ("The model is dense, not MoE.", "moe_dense_model"),
    ("This model is not a mixture of experts.", "moe_dense_model"),
]


@pytest.mark.parametrize(("sentence", "misconception"), MISCONCEPTIONS_FIRE)
def test_misconception_fires(rubric: Rubric, sentence: str, misconception: str) -> None:
    concept, mis = rubric.misconception(misconception)
    assert mis.matches(sentence)
    assert (concept.id, mis.id) in rubric.match_misconceptions(sentence)


@pytest.mark.parametrize(("sentence", "misconception"), MISCONCEPTIONS_QUIET)
def test_misconception_quiet_on_correct_statement(rubric: Rubric, sentence: str, misconception: str) -> None:
    _, mis = rubric.misconception(misconception)
    assert not mis.matches(sentence)


def test_every_misconception_has_a_firing_case(rubric: Rubric) -> None:
    covered = {m for _, m in MISCONCEPTIONS_FIRE}
    assert covered == {m.id for c in rubric.concepts for m in c.misconceptions}


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("How many layers and what hidden size does the model have?", "architecture"),
        ("What's the interconnect between GPUs, NVLink?", "interconnect"),
        ("How many GPUs per node, and how many nodes do we have?", "topology"),
        ("What availability do we need, and should in-flight requests survive a GPU failure?", "failure_requirements"),
        ("Is there a budget or cost constraint?", "cost"),
        ("What's the P99 latency target?", "latency_targets"),
        ("How big is the model?", "model_size"),
        ("How many concurrent users, and how long are prompts?", "workload"),
        ("Are the weights FP16 or can we quantize?", "precision"),
    ],
)
def test_question_topics(rubric: Rubric, question: str, topic: str) -> None:
    assert topic in rubric.match_topics(question)
    assert rubric.topic(topic).matches(question)


# --- calibration ---------------------------------------------------------------------------------------


def test_calibration_examples(rubric: Rubric) -> None:
    assert [(c.id, c.expected_score, c.out_of) for c in rubric.calibration] == [
        ("example_1", 28, 30),
        ("example_2", 18, 30),
        ("example_3", 8, 30),
    ]
    ex1, ex2, ex3 = (rubric.match_concepts(c.text) for c in rubric.calibration)
    parallel = ("tensor_parallelism", "pipeline_parallelism", "data_parallelism")
    # Example 1: TP and PP explained, hybrid named; no DP (the snippet never explains replicas)
    assert ex1["tensor_parallelism"] == ex1["pipeline_parallelism"] == "explained"
    assert "hybrid_parallelism" in ex1 and "data_parallelism" not in ex1
    # Example 2: TP explained (split each layer, all-reduce to combine), nothing about PP
    assert ex2["tensor_parallelism"] == "explained" and "pipeline_parallelism" not in ex2
    # Example 3: knows the model must be split, names no parallelism type
    assert not any(p in ex3 for p in parallel) and "model_distribution" in ex3
    assert set(rubric.calibration[0].discrepancies) == {
        "example1_free_20gb",
        "example1_weights_21875",
        "example1_kv_50gb",
        "example1_tp_comm_10ms",
    }
