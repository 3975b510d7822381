"""One registry of quantities feeds every stage, and agrees with the reference arithmetic.

1. The registry itself: ids unique, every entry documented (label, dimension, kind), its cue tags, configuration
   fields, mistakes, derivations and rubric criterion all naming things that exist.
2. Every stage names only registry ids: the rubric (evidence, flags, discrepancy checks), scoring's quantity
   sets, any hand-kept quantity set in grader/, the LLM vocabulary and prompt, the interview plan, the checker's
   and the reader's golden cases, and the `calc` table (which lists exactly the registry).
3. The registry's values are pinned to the reference arithmetic: every row of tests/data/reference_table.yaml
   that names a quantity with a registry twin holds for the twin, and every `calculator.reference()` quantity
   with a twin agrees with it under the scenario and three variants.

Twins: the same id, or one of RENAMED (the reference's older names). Where the two legitimately mean different
things the twin is the registry's figure for the reference's meaning: the reference's `decode_latency` is the
HBM floor (`decode_floor`); the registry's `decode_latency` is the realistic band above it.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from grader import calc_table, scoring
from grader.calculator import ServingConfig, reference
from grader.claims import Assumptions
from grader.quantities import cues, model
from grader.quantities.model import Band, Value
from grader.quantities.registry import _ALL, REGISTRY
from grader.rubric import Rubric, default_rubric
from tests.test_calculator import ROWS, UNITS, GoldenRow

ROOT = Path(__file__).resolve().parents[2]
GRADER = ROOT / "grader"
CHECKER_CASES = ROOT / "tests" / "data" / "checker_cases.yaml"
READER_CASES = ROOT / "tests" / "reading" / "test_reader_cases.py"

RENAMED: dict[str, str] = {
    "free_per_gpu": "free_after_weights",
    "decode_latency": "decode_floor",
    "decode_latency_with_kv": "decode_floor_with_kv",
    "prefill_time": "prefill_floor",
    "kv_block_per_gpu": "kv_block",
    "tp_comm_time": "tp_comm_wire_time",
}
"""`calculator.reference()` name -> the registry id of the same figure."""

NO_TWIN: dict[str, str] = {
    "fits": "a verdict, not a figure: the checker judges a claim's `claims_fit` against per_gpu_total",
}
"""`calculator.reference()` names with no registry quantity, and why."""

FIELD_OF: dict[str, str] = {"activation_bytes": "stated_activation_bytes"}
"""A reference row's activation budget is the deployment's own: the registry reads it as a stated budget, as the
checker does with a candidate's (grader/checking/readings.py)."""

CONFIGS: dict[str, dict[str, object]] = {
    "scenario": {},
    "tp4_pp2": {"tp": 4, "pp": 2},
    "int8_weights": {"weight_precision": "int8"},
    "batch16": {"batch": 16},
}

KNOWN_DISAGREEMENTS: dict[tuple[str, str], str] = {}
"""(quantity, config) pairs where reference() and the registry are known to differ, each with the reason. Empty:
the one found (chunked prefill under PP) is now a convention of `prefill_floor`."""


def _twin(name: str) -> str:
    return RENAMED.get(name, name)


def _cfg(overrides: dict[str, object]) -> ServingConfig:
    fields = dict(overrides)
    for field, registry_field in FIELD_OF.items():
        if field in fields:
            fields[registry_field] = fields[field]
    return ServingConfig.from_scenario(**fields)


def _holds(x: float, value: Value, rel_tol: float) -> bool:
    """A figure agrees with a registry value: equal to it, to one of its conventions, or inside its band."""
    if isinstance(value, Band):
        return value.lo * (1 - rel_tol) - 1e-12 <= x <= value.hi * (1 + rel_tol) + 1e-12
    if isinstance(value, list):
        return any(math.isclose(x, v, rel_tol=rel_tol, abs_tol=1e-12) for v, _ in value)
    return math.isclose(x, float(value), rel_tol=rel_tol, abs_tol=1e-12)


def _primary(value: Value) -> float | None:
    if isinstance(value, Band):
        return value.typical if value.typical is not None else value.lo
    if isinstance(value, list):
        return float(value[0][0]) if value else None
    return float(value)


# --- 1. the registry itself -----------------------------------------------------------------------------------


def test_ids_are_unique_and_keyed_by_themselves() -> None:
    ids = [q.id for q in _ALL]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert all(key == q.id for key, q in REGISTRY.items())
    assert len(REGISTRY) == len(_ALL)


@pytest.mark.parametrize("qid", list(REGISTRY))
def test_every_quantity_is_documented(qid: str) -> None:
    q = REGISTRY[qid]
    assert q.id.isidentifier() and q.id == q.id.lower()
    assert q.label.strip() and q.label[0].isupper(), "a label to show"
    assert q.dimension in typing.get_args(model.Dimension)
    assert q.kind in typing.get_args(model.Kind)
    if q.dimension == "count":
        assert q.noun, "a count names what it counts, or no figure can be read as it (of_dimension)"


def test_labels_are_distinct() -> None:
    """The calc table and the report show labels: two quantities with one label could not be told apart."""
    labels = [q.label for q in _ALL]
    assert len(labels) == len(set(labels)), sorted({x for x in labels if labels.count(x) > 1})


def test_every_cue_tag_a_quantity_names_exists() -> None:
    bad = [(q.id, t) for q in _ALL for t in q.topics if t not in cues.TOPICS]
    bad += [(q.id, s) for q in _ALL for s in q.scopes if s not in cues.SCOPES]
    bad += [(q.id, q.group) for q in _ALL if q.group and q.group not in cues.TOPICS]
    assert not bad, f"tags not in grader/quantities/cues.py: {bad}"


def test_foreign_topics_are_only_on_the_candidates_inputs() -> None:
    """cues.FOREIGN lists topics the registry does not compute; a derived or fact quantity carrying one would be
    a figure the reader gives up on before the checker sees it."""
    bad = [(q.id, t) for q in _ALL for t in q.topics if t in cues.FOREIGN and q.kind != "input"]
    assert not bad


def test_configuration_fields_a_quantity_names_exist() -> None:
    fields = set(ServingConfig.model_fields)
    bad = [(q.id, f) for q in _ALL for f in q.depends if f not in fields]
    bad += [(q.id, f) for q in _ALL for f in q.needs if f not in Assumptions.model_fields]
    bad += [
        (q.id, m.label, k)
        for q in _ALL
        for m in q.mistakes
        for k in (*(m.override or {}), *(m.when or {}))
        if k not in fields
    ]
    assert not bad


def test_mistakes_describe_themselves_for_any_config() -> None:
    for overrides in CONFIGS.values():
        cfg = _cfg(overrides)
        for q in _ALL:
            for m in q.mistakes:
                assert m.describe(cfg).strip(), (q.id, m.label)
                assert m.ratio is not None or m.override is not None, (q.id, m.label)


def test_derivations_name_registry_quantities() -> None:
    bad = [(q.id, i) for q in _ALL for d in q.derives_from for i in d.inputs if i not in REGISTRY]
    assert not bad


@pytest.mark.parametrize("config", list(CONFIGS))
def test_derivations_reproduce_the_quantity_from_its_parts(config: str) -> None:
    """A derivation fed the registry's own values of its parts gives one of the quantity's values (on the link
    the parts' traffic crosses): the formula and the derivation are one arithmetic. Parts that are the candidate's
    inputs (a storage rate) are any value the candidate chooses, so those derivations are not compared."""
    cfg = _cfg(CONFIGS[config])
    links = typing.get_args(ServingConfig.model_fields["link"].annotation)
    failures = []
    for q in _ALL:
        for d in q.derives_from:
            if any(REGISTRY[i].kind == "input" for i in d.inputs):
                continue
            parts = {i: _primary(REGISTRY[i].value(cfg)) for i in d.inputs}
            assert all(v is not None for v in parts.values()), (q.id, d.inputs)
            got = d.compute(parts, cfg)  # type: ignore[arg-type]
            variants = [cfg.model_copy(update={"link": link}) for link in links] if "link" in q.depends else [cfg]
            if not any(_holds(got, q.value(v), 1e-6) for v in variants):
                failures.append((q.id, d.inputs, got, q.value(cfg)))
    assert not failures


def test_every_criterion_a_quantity_scores_in_is_a_rubric_subcriterion(rubric: Rubric) -> None:
    subs = {sub.id for _, sub in rubric.iter_subcriteria()}
    assert {q.criterion for q in _ALL if q.criterion} <= subs


@pytest.mark.parametrize("config", list(CONFIGS))
def test_every_value_is_finite_and_of_its_shape(config: str) -> None:
    cfg = _cfg(CONFIGS[config])
    for q in _ALL:
        value = q.value(cfg)
        if isinstance(value, Band):
            figures = [value.lo, value.hi, *([value.typical] if value.typical is not None else [])]
            assert value.lo <= value.hi, q.id
            assert value.typical is None or value.lo <= value.typical <= value.hi * (1 + 1e-9) or q.ceiling, q.id
        elif isinstance(value, list):
            figures = [float(v) for v, _ in value]
            assert all(isinstance(label, str) and label for _, label in value), q.id
        else:
            figures = [float(value)]
        assert all(math.isfinite(x) for x in figures), q.id


# --- 2. every stage names registry ids ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return default_rubric()


def _conditions(rubric: Rubric) -> Iterator[typing.Any]:
    for _, sub in rubric.iter_subcriteria():
        for band in sub.bands:
            for _, _, cond in band.evidence.conditions():
                yield cond
    for group in (rubric.red_flags, rubric.green_flags):
        for flag in group.flags:
            for _, _, cond in flag.trigger.conditions():
                yield cond


def test_the_rubric_names_only_registry_quantities(rubric: Rubric) -> None:
    named = {qid for cond in _conditions(rubric) for qid in cond.quantities}
    assert named, "the rubric's evidence names quantities"
    assert named <= set(REGISTRY), sorted(named - set(REGISTRY))


def test_the_rubrics_discrepancy_checks_name_registry_quantities(rubric: Rubric) -> None:
    """A discrepancy's `expr` is over quantity values and ServingConfig fields: the quantities are registry ids."""
    fields = set(ServingConfig.model_fields)
    named = {n for d in rubric.discrepancies for n in d.check.names} - fields
    assert named and named <= set(REGISTRY), sorted(named - set(REGISTRY))


def test_scorings_quantity_sets_are_registry_ids() -> None:
    sets = {
        name: value
        for name, value in vars(scoring).items()
        if name.endswith("_QUANTITIES") and isinstance(value, frozenset | set)
    }
    assert {"COMM_QUANTITIES", "MEMORY_QUANTITIES", "LINK_QUANTITIES", "WEIGHT_QUANTITIES", "KV_QUANTITIES"} <= set(
        sets
    )
    for name, ids in sets.items():
        assert ids, f"scoring.{name} is empty: no registry entry has the criterion/family it selects"
        assert ids <= set(REGISTRY), (name, sorted(ids - set(REGISTRY)))


def _hand_kept_ids() -> Iterator[tuple[str, int, str]]:
    """Quantity ids written out in grader/: `REGISTRY["x"]`, `REGISTRY.get("x")` and literal members of a
    module-level `*QUANTIT*` set, tuple or list (checker._FIT_QUANTITIES, interview.probes.QUANTITY_NAMES)."""
    for path in sorted(GRADER.rglob("*.py")):
        if path.parent.name == "quantities":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Name)
                and node.value.id == "REGISTRY"
                and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str)
            ):
                yield rel, node.lineno, node.slice.value
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "REGISTRY"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                yield rel, node.lineno, node.args[0].value
        for stmt in tree.body:
            targets = (
                stmt.targets
                if isinstance(stmt, ast.Assign)
                else [stmt.target]
                if isinstance(stmt, ast.AnnAssign)
                else []
            )
            if not any(isinstance(t, ast.Name) and "QUANTIT" in t.id for t in targets):
                continue
            for elt in _literal_members(stmt.value):  # type: ignore[union-attr, arg-type]
                yield rel, elt.lineno, elt.value


def _literal_members(node: ast.AST) -> Iterator[ast.Constant]:
    """The string members of literal sets, lists and tuples a set is built from: `frozenset({...})`, `{...}`,
    `A | {...}`; not the strings a comprehension compares with (families, dimensions)."""
    if isinstance(node, ast.Set | ast.List | ast.Tuple):
        yield from (e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    elif (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("frozenset", "set", "tuple")
    ):
        for arg in node.args:
            yield from _literal_members(arg)
    elif isinstance(node, ast.BinOp):
        yield from _literal_members(node.left)
        yield from _literal_members(node.right)


def test_quantity_ids_written_out_in_the_grader_are_registry_ids() -> None:
    found = list(_hand_kept_ids())
    assert any(path.endswith("checker.py") for path, _, _ in found), "the scan sees checker._FIT_QUANTITIES"
    bad = [f"{path}:{line}: {qid!r}" for path, line, qid in found if qid not in REGISTRY]
    assert not bad


def test_the_llm_vocabulary_is_the_registry(rubric: Rubric) -> None:
    from grader.extract.base import NUMERIC_QUANTITIES, Vocabulary
    from grader.extract.llm import render_system_prompt

    assert tuple(REGISTRY) == NUMERIC_QUANTITIES
    vocabulary = Vocabulary.from_rubric(rubric)
    assert vocabulary.quantities == tuple(REGISTRY)
    assert Vocabulary.of(["c"], ["t"]).quantities == tuple(REGISTRY)
    prompt = render_system_prompt(vocabulary)
    listed = {w.strip() for line in prompt.splitlines() for w in line.split(",") if w.strip() in REGISTRY}
    assert listed == set(REGISTRY), sorted(set(REGISTRY) - listed)


def test_the_interview_plan_targets_registry_quantities() -> None:
    from grader.interview.probes import QUANTITY_NAMES

    assert QUANTITY_NAMES and set(REGISTRY) >= QUANTITY_NAMES, sorted(QUANTITY_NAMES - set(REGISTRY))


def test_the_checkers_golden_cases_name_registry_quantities() -> None:
    cases = yaml.safe_load(CHECKER_CASES.read_text(encoding="utf-8"))
    named: list[tuple[str, str]] = []
    for case in cases:
        for claim in (case["claim"], *case.get("earlier", [])):
            if claim.get("quantity") is not None:
                named.append((case["id"], claim["quantity"]))
            named += [(case["id"], alt) for alt in claim.get("alternatives", [])]
    assert len(named) > 100
    bad = [(cid, qid) for cid, qid in named if qid not in REGISTRY]
    assert not bad


def test_the_readers_golden_cases_name_registry_quantities() -> None:
    spec = importlib.util.spec_from_file_location("_reader_cases_for_registry", READER_CASES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    named = [(c.id, c.quantity) for c in module.CASES if c.quantity is not None]
    assert len(named) > 50
    bad = [(cid, qid) for cid, qid in named if qid not in REGISTRY]
    assert not bad


@pytest.mark.parametrize("config", list(CONFIGS))
def test_the_calc_table_lists_exactly_the_registry(config: str) -> None:
    cfg = _cfg(CONFIGS[config])
    rows = calc_table.evaluate(cfg)
    assert [r.quantity.id for r in rows] == list(REGISTRY)
    assert list(calc_table.to_json(rows)) == list(REGISTRY)
    shown = [r.quantity.id for _, rs in calc_table.sections(rows) for r in rs]
    assert sorted(shown) == sorted(REGISTRY)
    text = calc_table.render_text(cfg, rows)
    labelled = [line for line in text.splitlines() if line.startswith("  ") and not line.startswith("   ")]
    labelled = [line for line in labelled if not line.startswith("  - ")]  # the footer's bullets
    assert len(labelled) == len(REGISTRY)
    for q in REGISTRY.values():
        assert sum(line.startswith(f"  {q.label}  ") for line in labelled) == 1, q.id


def test_the_calc_table_shows_every_convention() -> None:
    cfg = ServingConfig.from_scenario(tp=4, pp=2)
    for row in calc_table.evaluate(cfg):
        value = row.quantity.value(cfg)
        if isinstance(value, list):
            assert [(f.value, f.convention) for f in row.figures] == [(float(v), label) for v, label in value]
        elif isinstance(value, Band):
            assert row.band == value


# --- 3. pinned to the reference arithmetic ----------------------------------------------------------------------


def test_every_reference_quantity_has_a_twin_or_a_reason() -> None:
    names = set(reference(ServingConfig.from_scenario()))
    missing = sorted(n for n in names if _twin(n) not in REGISTRY and n not in NO_TWIN)
    assert not missing, f"give these a registry twin or a NO_TWIN reason: {missing}"
    assert all(_twin(n) in REGISTRY for n in names - set(NO_TWIN))
    assert set(RENAMED) <= names and not set(NO_TWIN) & set(REGISTRY)


TWIN_ROWS = [r for r in ROWS if r.quantity is not None and r.quantity not in NO_TWIN]


def test_golden_rows_without_a_twin_are_the_documented_ones() -> None:
    skipped = {r.quantity for r in ROWS if r.quantity is not None and r.quantity in NO_TWIN}
    assert skipped <= set(NO_TWIN)
    assert len(TWIN_ROWS) >= 100


@pytest.mark.parametrize("row", TWIN_ROWS, ids=[r.id for r in TWIN_ROWS])
def test_golden_row_holds_for_the_registry(row: GoldenRow) -> None:
    """The scenario's and serving-arithmetic.md's figure, as the registry's twin computes it under the row's
    configuration: the figure itself, one of its conventions, or inside its band, to the row's rounding."""
    assert row.quantity is not None
    qid = _twin(row.quantity)
    value = REGISTRY[qid].value(_cfg(row.overrides))
    expected = row.expected * UNITS[row.unit]
    assert _holds(expected, value, max(row.rel_tol, 1e-9)), (
        f"{row.id}: the source says {row.expected:g} {row.unit}; registry {qid} gives {value} ({row.source})"
    )


@pytest.mark.parametrize(
    ("name", "config"),
    [
        pytest.param(
            name,
            config,
            marks=pytest.mark.xfail(reason=KNOWN_DISAGREEMENTS[(name, config)], strict=True)
            if (name, config) in KNOWN_DISAGREEMENTS
            else (),
        )
        for config in CONFIGS
        for name in reference(ServingConfig.from_scenario())
        if name not in NO_TWIN
    ],
)
def test_reference_and_registry_agree(name: str, config: str) -> None:
    """The older list of quantities (`calculator.reference()`, still the golden table's and the rubric
    discrepancies' arithmetic) and the registry give the same figure: equal, one of the registry's conventions,
    or inside its band."""
    cfg = ServingConfig.from_scenario(**CONFIGS[config])
    ref = reference(cfg)[name].value
    twin = REGISTRY[_twin(name)].value(cfg)
    assert _holds(float(ref), twin, 1e-9), f"reference {name} = {ref}; registry {_twin(name)} = {twin}"


def test_the_scenarios_headline_figures_are_the_registrys_first_conventions() -> None:
    """Where the registry lists conventions, its first is the scenario's own figure (what `calc` and a report
    quote): 600 GB/s both ways, 2.039 TB/s, (p-1)/(m+p-1), ring bytes, 80 GB decimal."""
    cfg = ServingConfig.from_scenario(tp=4, pp=2)
    ref = reference(cfg)
    for name in ("free_per_gpu", "decode_latency", "tp_comm_time", "bubble", "tp_volume_per_step", "kv_block_per_gpu"):
        assert math.isclose(_primary(REGISTRY[_twin(name)].value(cfg)) or 0.0, ref[name].value, rel_tol=1e-9), name
