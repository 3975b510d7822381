"""The grading rubric as a validated model: categories, bands, flags, levels, vocabulary and their patterns.

`rubric/distributed_llm_serving.yaml` holds the whole rubric as data; this module gives it a strict schema
(`extra="forbid"`, frozen) and checks its integrity on load, so a hand edit that breaks a sum, a reference or a
regular expression fails with one `RubricError` naming the file, the line and the field:

- sub-criterion points add up to their category's, and category points to `total_points` (100);
- every band lies within 0..its sub-criterion's points, bands do not overlap (gaps are allowed: the rubric has
  them), the top band reaches the maximum and the lowest band is the fallback starting at 0;
- red and green flag ids are exactly `RED_FLAG_IDS` and `GREEN_FLAG_IDS`;
- every concept, misconception, question topic, quantity, discrepancy, sub-criterion, feedback and
  recommendation id referenced anywhere exists;
- every pattern compiles with `re.IGNORECASE`;
- every discrepancy's `rubric_text` is quoted from the rubric's own verbatim text, and every feedback template
  reproduces the rubric's text when its placeholders take the rubric's values;
- levels are contiguous from 0 to `total_points`.

Patterns are compiled once per loaded rubric and kept on the model; `default_rubric()` caches the loaded
rubric, so the rules extractor can run `match_concepts` after every interview turn without recompiling.
Patterns are meant to be matched one sentence at a time (`split_sentences`); the `match_*` helpers do that.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from grader import pattern_cache
from grader.datafile import load_yaml_model
from grader.paths import RUBRIC_FILE
from grader.quantities.model import Quantity as RegistryQuantity
from grader.quantities.registry import REGISTRY
from grader.text import split_sentences, squash

RED_FLAG_IDS: frozenset[str] = frozenset(
    {
        "single_gpu_solution",
        "no_tensor_parallelism",
        "no_memory_calculation",
        "no_interconnect_knowledge",
        "ignores_communication",
        "no_fault_tolerance",
        "unrealistic_latency",
    }
)
GREEN_FLAG_IDS: frozenset[str] = frozenset(
    {
        "hybrid_parallelism_unprompted",
        "accurate_memory_with_kv",
        "bandwidth_calculation",
        "topology_aware_placement",
        "references_papers",
        "comprehensive_fault_tolerance",
        "specific_interconnects",
        "advanced_optimizations",
        "production_operations",
    }
)

EvidenceLevel = Literal["mentioned", "explained"]
NumberVerdict = Literal["correct", "incorrect", "order_of_magnitude", "any"]
Justification = Literal["memory", "latency", "communication", "bubble", "cost", "scalability"]
Unit = Literal["B", "KB", "MB", "GB", "TB", "s", "ms", "us", "x"]

UNIT_SCALE: dict[str, tuple[str, float]] = {
    "B": ("B", 1.0),
    "KB": ("B", 1e3),
    "MB": ("B", 1e6),
    "GB": ("B", 1e9),
    "TB": ("B", 1e12),
    "s": ("s", 1.0),
    "ms": ("s", 1e-3),
    "us": ("s", 1e-6),
    "x": ("x", 1.0),
}


# --- patterns ------------------------------------------------------------------------------------------


# Case-insensitive; MULTILINE so a sentence-anchored "^" also anchors at each sentence of a turn that the
# rules extractor matches in one pass (sentences joined on newlines).
PATTERN_FLAGS = re.IGNORECASE | re.MULTILINE


@cache
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a rubric pattern the one way the rubric means it."""
    return re.compile(pattern, PATTERN_FLAGS)


def compile_any(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """One alternation for a list of patterns: a sentence is scanned once per list, not once per pattern
    (the rules extractor matches every concept against every sentence of every turn). Falls back to the
    separate patterns if they cannot be joined (a global inline flag, say)."""
    patterns = list(patterns)
    try:
        return (re.compile("|".join(f"(?:{p})" for p in patterns), PATTERN_FLAGS),)
    except re.error:
        return tuple(compile_pattern(p) for p in patterns)


def _valid_regex(pattern: str) -> str:
    if pattern_cache.compiles(pattern, PATTERN_FLAGS):  # proven by an earlier run: compiled when first used
        return pattern
    try:
        compile_pattern(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    pattern_cache.mark_compiles(pattern, PATTERN_FLAGS)
    return pattern


Regex = Annotated[str, AfterValidator(_valid_regex)]


def _any_match(patterns: Iterable[re.Pattern[str]], sentence: str) -> bool:
    flat = squash(sentence)
    return any(p.search(flat) for p in patterns)


# --- conditions: evidence for bands and triggers for flags --------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StrategyCondition(_Strict):
    """What a StrategyClaim must show. `hybrid`: tp > 1 and pp > 1 (or TP within nodes and PP/DP across);
    `single_gpu`: tp x pp == 1; justification and alternative counts as in StrategyClaim."""

    hybrid: bool | None = None
    single_gpu: bool | None = None
    min_justifications: int = Field(0, ge=0)
    justified_by: list[Justification] = Field(default_factory=list)
    min_alternatives: int = Field(0, ge=0)


_CONDITION_KINDS = ("concepts", "questions", "quantities", "misconceptions", "misconceptions_of", "strategy")


class Condition(_Strict):
    """One thing the claims must (or, with `absent`, must not) show. Exactly one kind per condition."""

    concepts: list[str] = Field(default_factory=list)
    level: EvidenceLevel = "mentioned"
    questions: list[str] = Field(default_factory=list)
    quantities: list[str] = Field(default_factory=list)
    verdict: NumberVerdict = "correct"
    max_ratio: float | None = Field(None, gt=0, description="claimed/expected must be below this")
    misconceptions: list[str] = Field(default_factory=list)
    misconceptions_of: list[str] = Field(default_factory=list, description="any misconception of these concepts")
    strategy: StrategyCondition | None = None
    min: int = Field(1, ge=1, description="how many of the listed ids must be shown")
    unprompted: bool = False
    absent: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [k for k in _CONDITION_KINDS if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(f"a condition needs exactly one of {', '.join(_CONDITION_KINDS)}; got {kinds or 'none'}")
        kind = kinds[0]
        if "level" in self.model_fields_set and kind != "concepts":
            raise ValueError("`level` applies to `concepts` conditions only")
        if {"verdict", "max_ratio"} & self.model_fields_set and kind != "quantities":
            raise ValueError("`verdict` and `max_ratio` apply to `quantities` conditions only")
        if kind != "strategy" and self.min > len(self.ids):
            raise ValueError(f"min {self.min} is more than the {len(self.ids)} ids listed")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _CONDITION_KINDS if getattr(self, k))

    @property
    def ids(self) -> list[str]:
        return [] if self.kind == "strategy" else list(getattr(self, self.kind))


class _Conditions(_Strict):
    all_of: list[Condition] = Field(default_factory=list)
    any_of: list[Condition] = Field(default_factory=list)
    unless: list[Condition] = Field(default_factory=list)

    def conditions(self) -> Iterator[tuple[str, int, Condition]]:
        for part in ("all_of", "any_of", "unless"):
            for i, cond in enumerate(getattr(self, part)):
                yield part, i, cond


class Trigger(_Conditions):
    """When a flag fires: every `all_of`, one of `any_of` (if given), none of `unless`."""

    @model_validator(mode="after")
    def _not_empty(self) -> Trigger:
        if not (self.all_of or self.any_of):
            raise ValueError("a trigger needs `all_of` or `any_of`")
        return self


class Evidence(_Conditions):
    """What a grader needs to see for a band. The lowest band is the `fallback` and requires nothing; its
    `indicators` say what typically lands a candidate there."""

    fallback: bool = False
    indicators: list[Condition] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Evidence:
        if self.fallback and (self.all_of or self.any_of or self.unless):
            raise ValueError("a fallback band requires nothing: use `indicators`, not all_of/any_of/unless")
        if not self.fallback and not (self.all_of or self.any_of):
            raise ValueError("a band that is not the fallback needs `all_of` or `any_of`")
        if not self.fallback and self.indicators:
            raise ValueError("`indicators` belong to the fallback band")
        return self

    def conditions(self) -> Iterator[tuple[str, int, Condition]]:
        yield from super().conditions()
        for i, cond in enumerate(self.indicators):
            yield "indicators", i, cond


# --- categories, bands ---------------------------------------------------------------------------------


class Band(_Strict):
    name: str
    min: float = Field(ge=0)
    max: float = Field(ge=0)
    lead: str | None = Field(None, description="the rubric's heading over the descriptors, e.g. 'Clearly explains:'")
    descriptors: list[str] = Field(min_length=1, description="the rubric's bullets, verbatim")
    example: str | None = None
    discrepancies: list[str] = Field(default_factory=list, description="ids of wrong figures in the descriptors")
    evidence: Evidence

    @model_validator(mode="after")
    def _range(self) -> Band:
        if self.min > self.max:
            raise ValueError(f"band {self.name!r}: min {self.min:g} is above max {self.max:g}")
        return self

    def contains(self, points: float) -> bool:
        return self.min <= points <= self.max


class SubCriterion(_Strict):
    id: str
    label: str
    points: int = Field(gt=0)
    bands: list[Band] = Field(min_length=1, description="highest first")

    def band(self, name: str) -> Band:
        for b in self.bands:
            if b.name == name:
                return b
        raise KeyError(f"sub-criterion {self.id!r} has no band {name!r}")

    @property
    def fallback(self) -> Band:
        return self.bands[-1]

    def band_for(self, points: float) -> Band | None:
        """The band whose range holds `points`; None for a score in one of the rubric's gaps."""
        return next((b for b in self.bands if b.contains(points)), None)

    @property
    def gaps(self) -> list[tuple[float, float]]:
        """Integer point ranges no band covers (the rubric leaves some), as (first, last) inclusive."""
        out = []
        for upper, lower in zip(self.bands, self.bands[1:], strict=False):
            if upper.min - lower.max > 1:
                out.append((lower.max + 1, upper.min - 1))
        return out


class Category(_Strict):
    id: str
    label: str
    points: int = Field(gt=0)
    focus: str
    subcriteria: list[SubCriterion] = Field(min_length=1)

    def subcriterion(self, sub_id: str) -> SubCriterion:
        for s in self.subcriteria:
            if s.id == sub_id:
                return s
        raise KeyError(f"category {self.id!r} has no sub-criterion {sub_id!r}")


# --- flags, levels, recommendations, feedback ---------------------------------------------------------


class Flag(_Strict):
    id: str
    label: str = Field(description="the rubric's checklist text, verbatim")
    when: str = Field(description="the trigger in words, in vocabulary terms")
    trigger: Trigger
    caps: list[str] = Field(
        default_factory=list,
        description="'category.sub' ids a red flag holds in their lowest band: a critical issue in that area",
    )


class FlagGroup(_Strict):
    heading: str
    flags: list[Flag] = Field(min_length=1)


class Level(_Strict):
    id: str
    label: str
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    must_demonstrate: list[str] = Field(default_factory=list)
    notes: dict[str, list[str]] = Field(default_factory=dict, description="heading -> bullets, verbatim")


class Recommendation(_Strict):
    id: str
    label: str
    min: float = Field(ge=0, description="lowest total that earns it, when no rule applies")
    feedback: str | None = Field(description="feedback template id; null where the rubric has none")


class Rule(_Strict):
    """Overrides the recommendation by total. Rules apply in order; the first that matches decides."""

    id: str
    rubric_text: str
    min_red_flags: int | None = Field(None, ge=1)
    min_green_flags: int | None = Field(None, ge=1)
    max_red_flags: int | None = Field(None, ge=0)
    recommendation: str

    @model_validator(mode="after")
    def _has_threshold(self) -> Rule:
        if self.min_red_flags is None and self.min_green_flags is None:
            raise ValueError("a rule needs min_red_flags or min_green_flags")
        return self

    def applies(self, red_flags: int, green_flags: int) -> bool:
        if self.min_red_flags is not None and red_flags < self.min_red_flags:
            return False
        if self.min_green_flags is not None and green_flags < self.min_green_flags:
            return False
        return self.max_red_flags is None or red_flags <= self.max_red_flags


class Placeholder(_Strict):
    description: str
    rubric_value: str = Field(description="what the rubric's own text has in this place")


def _template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


class FeedbackTemplate(_Strict):
    id: str
    heading: str
    rubric_text: str = Field(description="the rubric's paragraph, verbatim")
    template: str = Field(description="rubric_text with {placeholders} where it names specifics")
    placeholders: dict[str, Placeholder] = Field(default_factory=dict)
    strengths: list[str] = Field(default_factory=list)
    growth_areas: list[str] = Field(default_factory=list)
    recommendation_text: str

    @model_validator(mode="after")
    def _template_matches(self) -> FeedbackTemplate:
        fields = _template_fields(self.template)
        if fields != set(self.placeholders):
            raise ValueError(f"template placeholders {sorted(fields)} differ from declared {sorted(self.placeholders)}")
        rendered = self.render(**{k: p.rubric_value for k, p in self.placeholders.items()})
        if rendered != self.rubric_text:
            raise ValueError("the template with the placeholders' rubric values does not reproduce rubric_text")
        return self

    def render(self, **values: str) -> str:
        """Fill every placeholder; a missing or unknown one is an error, never a blank."""
        if set(values) != set(self.placeholders):
            raise KeyError(f"feedback {self.id!r} needs exactly {sorted(self.placeholders)}, got {sorted(values)}")
        return self.template.format(**values)


class KeyDiscriminator(_Strict):
    id: str
    title: str
    qualifier: str
    relates_to: list[str] = Field(min_length=1, description="'category.sub' ids")
    points: list[str] = Field(min_length=1)


# --- discrepancies, quantities, vocabulary ------------------------------------------------------------


class Amount(_Strict):
    value: float
    unit: Unit

    @property
    def base_unit(self) -> str:
        return UNIT_SCALE[self.unit][0]

    @property
    def base_value(self) -> float:
        """In the calculator's units: bytes, seconds, or a bare factor."""
        return self.value * UNIT_SCALE[self.unit][1]


_EXPR_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
)


def _valid_expr(expr: str) -> str:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an arithmetic expression: {expr!r} ({exc.msg})") from None
    for node in ast.walk(tree):
        bad_constant = isinstance(node, ast.Constant) and not isinstance(node.value, int | float)
        if not isinstance(node, _EXPR_NODES) or bad_constant:
            raise ValueError(f"only names, numbers and + - * / are allowed in {expr!r}")
    return expr


class DiscrepancyCheck(_Strict):
    """How to recompute `correct`: ServingConfig.from_scenario(**config), then `expr` over the names of
    calculator.reference() quantities (their .value) and ServingConfig fields."""

    config: dict[str, int | float | str] = Field(default_factory=dict)
    expr: Annotated[str, AfterValidator(_valid_expr)]

    @property
    def names(self) -> set[str]:
        return {n.id for n in ast.walk(ast.parse(self.expr, mode="eval")) if isinstance(n, ast.Name)}

    def evaluate(self, values: dict[str, float]) -> float:
        """Evaluate `expr` with the given name -> value mapping (no eval: a walk over + - * /)."""

        def ev(node: ast.AST) -> float:
            if isinstance(node, ast.Expression):
                return ev(node.body)
            if isinstance(node, ast.Constant):
                return float(node.value)
            if isinstance(node, ast.Name):
                if node.id not in values:
                    raise KeyError(f"unknown name {node.id!r} in {self.expr!r}")
                return float(values[node.id])
            if isinstance(node, ast.UnaryOp):
                v = ev(node.operand)
                return -v if isinstance(node.op, ast.USub) else v
            if isinstance(node, ast.BinOp):
                a, b = ev(node.left), ev(node.right)
                ops = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}
                return ops[type(node.op)] if type(node.op) in ops else a / b
            raise ValueError(f"unsupported expression node {type(node).__name__}")

        return ev(ast.parse(self.expr, mode="eval"))


class Discrepancy(_Strict):
    id: str
    where: str
    rubric_text: str = Field(description="verbatim quote of the wrong figure")
    claimed: Amount
    correct: Amount
    explanation: str
    check: DiscrepancyCheck

    @model_validator(mode="after")
    def _same_dimension(self) -> Discrepancy:
        if self.claimed.base_unit != self.correct.base_unit:
            raise ValueError(f"claimed is in {self.claimed.unit}, correct in {self.correct.unit}: not comparable")
        return self


class _Patterned(_Strict):
    """A vocabulary entry recognised by patterns, compiled once when the rubric loads."""

    patterns: list[Regex] = Field(min_length=1)

    _compiled: tuple[re.Pattern[str], ...] = PrivateAttr(default=())

    @property
    def compiled(self) -> tuple[re.Pattern[str], ...]:
        if not self._compiled:  # on first use: the rules extractor's scan needs few of them (grader/matching.py)
            self._compiled = compile_any(self.patterns)
        return self._compiled

    def matches(self, text: str) -> bool:
        return any(_any_match(self.compiled, s) for s in split_sentences(text))


class QuestionTopic(_Patterned):
    id: str
    label: str
    tier: Literal["outstanding", "acceptable", "supporting"]


class Misconception(_Patterned):
    id: str
    explanation: str


class Concept(_Strict):
    id: str
    label: str
    supports: list[str] = Field(min_length=1, description="'category.sub' ids")
    mention: list[Regex] = Field(min_length=1, description="the concept is named")
    mechanism: list[Regex] = Field(min_length=1, description="the concept is explained (implies a mention)")
    misconceptions: list[Misconception] = Field(default_factory=list)

    _mention: tuple[re.Pattern[str], ...] = PrivateAttr(default=())
    _mechanism: tuple[re.Pattern[str], ...] = PrivateAttr(default=())

    @property
    def mention_patterns(self) -> tuple[re.Pattern[str], ...]:
        if not self._mention:  # compiled on first use, like _Patterned.compiled
            self._mention = compile_any(self.mention)
        return self._mention

    @property
    def mechanism_patterns(self) -> tuple[re.Pattern[str], ...]:
        if not self._mechanism:
            self._mechanism = compile_any(self.mechanism)
        return self._mechanism

    def sentence_level(self, sentence: str) -> EvidenceLevel | None:
        """The evidence one sentence gives: "explained" (a mechanism), "mentioned" (a name), or None."""
        if _any_match(self.mechanism_patterns, sentence):
            return "explained"
        if _any_match(self.mention_patterns, sentence):
            return "mentioned"
        return None

    def level_in(self, text: str) -> EvidenceLevel | None:
        """The best evidence anywhere in `text`, sentence by sentence."""
        best: EvidenceLevel | None = None
        for sentence in split_sentences(text):
            level = self.sentence_level(sentence)
            if level == "explained":
                return level
            best = best or level
        return best

    def misconceptions_in(self, text: str) -> list[Misconception]:
        sentences = split_sentences(text)
        return [m for m in self.misconceptions if any(_any_match(m.compiled, s) for s in sentences)]


# --- the rules the rubric adds on top of bands ---------------------------------------------------------


class BuzzwordCap(_Strict):
    description: str
    cap_bands: list[str] = Field(min_length=1, description="the cap is the first of these the sub-criterion has")
    applies_to: list[str] = Field(min_length=1, description="'category.sub' ids")


class PromptedWeight(_Strict):
    weight: float = Field(gt=0, le=1)
    subcriteria: list[str] = Field(default_factory=list, description="'category.sub' ids")
    green_flags: list[str] = Field(default_factory=list)


class Calibration(_Strict):
    id: str
    title: str
    category: str
    expected_score: float = Field(ge=0)
    out_of: int = Field(gt=0)
    text: str
    rubric_bullets: list[str] = Field(min_length=1)
    discrepancies: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _score_in_range(self) -> Calibration:
        if self.expected_score > self.out_of:
            raise ValueError(f"expected_score {self.expected_score:g} is above out_of {self.out_of}")
        return self


# --- the rubric ----------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class Rubric(_Strict):
    version: str
    id: str
    title: str
    source: str
    total_points: int = Field(gt=0)
    order_of_magnitude_factor: float = Field(gt=1)
    categories: list[Category] = Field(min_length=1)
    buzzword_cap: BuzzwordCap
    prompted_weight: PromptedWeight
    red_flags: FlagGroup
    green_flags: FlagGroup
    levels: list[Level] = Field(min_length=1, description="highest first")
    recommendations: list[Recommendation] = Field(min_length=1, description="highest first")
    rules: list[Rule] = Field(default_factory=list)
    feedback: list[FeedbackTemplate] = Field(default_factory=list)
    key_discriminators: list[KeyDiscriminator] = Field(default_factory=list)
    discrepancies: list[Discrepancy] = Field(default_factory=list)
    question_topics: list[QuestionTopic] = Field(min_length=1)
    concepts: list[Concept] = Field(min_length=1)
    calibration: list[Calibration] = Field(default_factory=list)

    _index: dict[str, dict[str, Any]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._index = {
            "category": {c.id: c for c in self.categories},
            "concept": {c.id: c for c in self.concepts},
            "misconception": {m.id: (c, m) for c in self.concepts for m in c.misconceptions},
            "topic": {t.id: t for t in self.question_topics},
            "quantity": dict(REGISTRY),  # one list of quantities, the registry's: the rubric refers to it
            "discrepancy": {d.id: d for d in self.discrepancies},
            "flag": {f.id: f for f in (*self.red_flags.flags, *self.green_flags.flags)},
            "feedback": {f.id: f for f in self.feedback},
            "recommendation": {r.id: r for r in self.recommendations},
        }

    # -- integrity -------------------------------------------------------------------------------------

    @model_validator(mode="after")
    def _integrity(self) -> Rubric:
        errors: list[tuple[tuple[str | int, ...], str, Any]] = []

        def err(loc: tuple[str | int, ...], msg: str, value: Any = None) -> None:
            errors.append((loc, msg, value))

        self._check_unique(err)
        self._check_points(err)
        self._check_flag_ids(err)
        self._check_references(err)
        self._check_levels(err)
        self._check_recommendations(err)
        self._check_verbatim(err)
        if errors:
            raise ValidationError.from_exception_data(
                "Rubric",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("rubric_integrity", "{msg}", {"msg": msg}), loc=loc, input=value
                    )
                    for loc, msg, value in errors
                ],
            )
        return self

    def _check_unique(self, err: Any) -> None:
        groups: list[tuple[tuple[str | int, ...], list[Any]]] = [
            (("categories",), self.categories),
            (("concepts",), self.concepts),
            (("question_topics",), self.question_topics),
            (("discrepancies",), self.discrepancies),
            (("levels",), self.levels),
            (("recommendations",), self.recommendations),
            (("rules",), self.rules),
            (("feedback",), self.feedback),
            (("key_discriminators",), self.key_discriminators),
            (("calibration",), self.calibration),
            (("red_flags", "flags"), self.red_flags.flags),
            (("green_flags", "flags"), self.green_flags.flags),
        ]
        groups += [(("categories", i, "subcriteria"), c.subcriteria) for i, c in enumerate(self.categories)]
        for loc, items in groups:
            seen: set[str] = set()
            for i, item in enumerate(items):
                if item.id in seen:
                    err((*loc, i, "id"), f"duplicate id {item.id!r}", item.id)
                seen.add(item.id)
        seen_m: set[str] = set()
        for i, c in enumerate(self.concepts):
            for j, m in enumerate(c.misconceptions):
                if m.id in seen_m:
                    err(("concepts", i, "misconceptions", j, "id"), f"duplicate misconception id {m.id!r}", m.id)
                seen_m.add(m.id)
        red, green = {f.id for f in self.red_flags.flags}, {f.id for f in self.green_flags.flags}
        for i, f in enumerate(self.green_flags.flags):
            if f.id in red:
                err(("green_flags", "flags", i, "id"), f"{f.id!r} is both a red and a green flag", f.id)
        del green

    def _check_points(self, err: Any) -> None:
        total = sum(c.points for c in self.categories)
        if total != self.total_points:
            err(("categories",), f"category points add up to {total}, not total_points {self.total_points}", total)
        if self.total_points != 100:
            err(("total_points",), f"total_points is {self.total_points}; the rubric is out of 100", self.total_points)
        for i, cat in enumerate(self.categories):
            sub_total = sum(s.points for s in cat.subcriteria)
            if sub_total != cat.points:
                err(
                    ("categories", i, "points"),
                    f"category {cat.id!r} has {cat.points} points but its sub-criteria add up to {sub_total}",
                    cat.points,
                )
            for j, sub in enumerate(cat.subcriteria):
                loc = ("categories", i, "subcriteria", j)
                bands = sub.bands
                names = [b.name for b in bands]
                if len(set(names)) != len(names):
                    err((*loc, "bands"), f"sub-criterion {sub.id!r} repeats a band name: {names}", names)
                for k, b in enumerate(bands):
                    if b.max > sub.points:
                        err(
                            (*loc, "bands", k, "max"),
                            f"band {b.name!r} max {b.max:g} exceeds {sub.id!r}'s {sub.points} points",
                            b.max,
                        )
                    if k and b.max >= bands[k - 1].min:
                        err(
                            (*loc, "bands", k, "max"),
                            f"band {b.name!r} ({b.min:g}-{b.max:g}) overlaps or is above {bands[k - 1].name!r} "
                            f"({bands[k - 1].min:g}-{bands[k - 1].max:g}); list bands highest first",
                            b.max,
                        )
                    if b.evidence.fallback != (k == len(bands) - 1):
                        err(
                            (*loc, "bands", k, "evidence", "fallback"),
                            "the lowest band, and only it, must be the fallback",
                            b.evidence.fallback,
                        )
                if bands[0].max != sub.points:
                    err(
                        (*loc, "bands", 0, "max"),
                        f"the top band stops at {bands[0].max:g}, below {sub.id!r}'s {sub.points} points",
                        bands[0].max,
                    )
                if bands[-1].min != 0:
                    err((*loc, "bands", len(bands) - 1, "min"), "the lowest band must start at 0", bands[-1].min)

    def _check_flag_ids(self, err: Any) -> None:
        for group, expected in (("red_flags", RED_FLAG_IDS), ("green_flags", GREEN_FLAG_IDS)):
            flags = getattr(self, group).flags
            for i, f in enumerate(flags):
                if f.id not in expected:
                    err(
                        (group, "flags", i, "id"),
                        f"unknown {group[:-1].replace('_', ' ')} id {f.id!r}; expected one of {sorted(expected)}",
                        f.id,
                    )
            missing = expected - {f.id for f in flags}
            if missing:
                err((group, "flags"), f"missing {group.replace('_', ' ')}: {sorted(missing)}", sorted(missing))

    def _sub_refs(self) -> set[str]:
        return {f"{c.id}.{s.id}" for c in self.categories for s in c.subcriteria}

    def _check_condition(self, err: Any, loc: tuple[str | int, ...], cond: Condition) -> None:
        idx = self._index
        table = {
            "concepts": ("concept", idx["concept"]),
            "misconceptions_of": ("concept", idx["concept"]),
            "questions": ("question topic", idx["topic"]),
            "quantities": ("quantity", idx["quantity"]),
            "misconceptions": ("misconception", idx["misconception"]),
        }
        if cond.kind not in table:
            return
        what, known = table[cond.kind]
        for n, ref in enumerate(cond.ids):
            if ref not in known:
                err((*loc, cond.kind, n), f"unknown {what} {ref!r}", ref)

    def _check_references(self, err: Any) -> None:
        subs = self._sub_refs()
        idx = self._index
        for i, cat in enumerate(self.categories):
            for j, sub in enumerate(cat.subcriteria):
                for k, band in enumerate(sub.bands):
                    loc = ("categories", i, "subcriteria", j, "bands", k)
                    for part, n, cond in band.evidence.conditions():
                        self._check_condition(err, (*loc, "evidence", part, n), cond)
                    for n, d in enumerate(band.discrepancies):
                        if d not in idx["discrepancy"]:
                            err((*loc, "discrepancies", n), f"unknown discrepancy {d!r}", d)
        for group in ("red_flags", "green_flags"):
            for i, flag in enumerate(getattr(self, group).flags):
                for part, n, cond in flag.trigger.conditions():
                    self._check_condition(err, (group, "flags", i, "trigger", part, n), cond)
                for n, ref in enumerate(flag.caps):
                    if ref not in subs:
                        err((group, "flags", i, "caps", n), f"unknown sub-criterion {ref!r} (use 'category.sub')", ref)
        for i, c in enumerate(self.concepts):
            for n, ref in enumerate(c.supports):
                if ref not in subs:
                    err(("concepts", i, "supports", n), f"unknown sub-criterion {ref!r} (use 'category.sub')", ref)
        for n, ref in enumerate(self.buzzword_cap.applies_to):
            if ref not in subs:
                err(("buzzword_cap", "applies_to", n), f"unknown sub-criterion {ref!r}", ref)
            elif self.buzzword_cap_band(ref) is None:
                err(
                    ("buzzword_cap", "applies_to", n),
                    f"{ref!r} has none of the cap bands {self.buzzword_cap.cap_bands}",
                    ref,
                )
        for n, ref in enumerate(self.prompted_weight.subcriteria):
            if ref not in subs:
                err(("prompted_weight", "subcriteria", n), f"unknown sub-criterion {ref!r}", ref)
        for n, ref in enumerate(self.prompted_weight.green_flags):
            if ref not in GREEN_FLAG_IDS:
                err(("prompted_weight", "green_flags", n), f"unknown green flag {ref!r}", ref)
        for i, kd in enumerate(self.key_discriminators):
            for n, ref in enumerate(kd.relates_to):
                if ref not in subs:
                    err(("key_discriminators", i, "relates_to", n), f"unknown sub-criterion {ref!r}", ref)
        for i, rec in enumerate(self.recommendations):
            if rec.feedback is not None and rec.feedback not in idx["feedback"]:
                err(("recommendations", i, "feedback"), f"unknown feedback template {rec.feedback!r}", rec.feedback)
        for i, rule in enumerate(self.rules):
            if rule.recommendation not in idx["recommendation"]:
                err(
                    ("rules", i, "recommendation"),
                    f"unknown recommendation {rule.recommendation!r}",
                    rule.recommendation,
                )
        for i, cal in enumerate(self.calibration):
            cat = idx["category"].get(cal.category)
            if cat is None:
                err(("calibration", i, "category"), f"unknown category {cal.category!r}", cal.category)
            elif cal.out_of != cat.points:
                err(
                    ("calibration", i, "out_of"),
                    f"out_of {cal.out_of} is not {cat.id!r}'s {cat.points} points",
                    cal.out_of,
                )
            for n, d in enumerate(cal.discrepancies):
                if d not in idx["discrepancy"]:
                    err(("calibration", i, "discrepancies", n), f"unknown discrepancy {d!r}", d)

    def _check_levels(self, err: Any) -> None:
        levels = self.levels
        for i, lv in enumerate(levels):
            if lv.min > lv.max:
                err(("levels", i, "min"), f"level {lv.id!r}: min {lv.min} is above max {lv.max}", lv.min)
            if i and lv.max + 1 != levels[i - 1].min:
                err(
                    ("levels", i, "max"),
                    f"level {lv.id!r} ends at {lv.max} but {levels[i - 1].id!r} starts at "
                    f"{levels[i - 1].min}: levels must be contiguous, highest first",
                    lv.max,
                )
        if levels[0].max != self.total_points:
            err(("levels", 0, "max"), f"the top level must end at {self.total_points}", levels[0].max)
        if levels[-1].min != 0:
            err(("levels", len(levels) - 1, "min"), "the lowest level must start at 0", levels[-1].min)

    def _check_recommendations(self, err: Any) -> None:
        recs = self.recommendations
        for i in range(1, len(recs)):
            if recs[i].min >= recs[i - 1].min:
                err(("recommendations", i, "min"), "recommendations must be listed highest first", recs[i].min)
        if recs[-1].min != 0:
            err(("recommendations", len(recs) - 1, "min"), "the lowest recommendation must start at 0", recs[-1].min)

    def _verbatim_corpus(self) -> str:
        parts: list[str] = []
        for cat in self.categories:
            for sub in cat.subcriteria:
                for b in sub.bands:
                    parts += [b.lead or "", *b.descriptors, b.example or ""]
        parts += [c.text for c in self.calibration]
        parts += [f.rubric_text for f in self.feedback]
        return "\n".join(_norm(p) for p in parts)

    def _check_verbatim(self, err: Any) -> None:
        corpus = self._verbatim_corpus()
        for i, d in enumerate(self.discrepancies):
            if _norm(d.rubric_text) not in corpus:
                err(
                    ("discrepancies", i, "rubric_text"),
                    "not found in the rubric's verbatim text (descriptors, examples, calibration, feedback)",
                    d.rubric_text,
                )

    # -- look-ups --------------------------------------------------------------------------------------

    def _get(self, kind: str, key: str, what: str) -> Any:
        """One look-up for every id the rubric defines; a missing id names what was looked for."""
        try:
            return self._index[kind][key]
        except KeyError:
            raise KeyError(f"no {what} {key!r}") from None

    def category(self, cat_id: str) -> Category:
        return self._get("category", cat_id, "category")

    def subcriterion(self, cat_id: str, sub_id: str | None = None) -> SubCriterion:
        """`subcriterion("parallelism", "strategy")` or `subcriterion("parallelism.strategy")`."""
        if sub_id is None:
            cat_id, _, sub_id = cat_id.partition(".")
            sub_id = sub_id or cat_id
        return self.category(cat_id).subcriterion(sub_id)

    def iter_subcriteria(self) -> Iterator[tuple[Category, SubCriterion]]:
        for cat in self.categories:
            for sub in cat.subcriteria:
                yield cat, sub

    def concept(self, concept_id: str) -> Concept:
        return self._get("concept", concept_id, "concept")

    def misconception(self, misconception_id: str) -> tuple[Concept, Misconception]:
        return self._get("misconception", misconception_id, "misconception")

    def topic(self, topic_id: str) -> QuestionTopic:
        return self._get("topic", topic_id, "question topic")

    def topics_in_tier(self, tier: str) -> list[QuestionTopic]:
        return [t for t in self.question_topics if t.tier == tier]

    def quantity(self, quantity_id: str) -> RegistryQuantity:
        return self._get("quantity", quantity_id, "quantity")

    def flag(self, flag_id: str) -> Flag:
        return self._get("flag", flag_id, "red or green flag")

    def discrepancy(self, discrepancy_id: str) -> Discrepancy:
        return self._get("discrepancy", discrepancy_id, "discrepancy")

    def feedback_template(self, feedback_id: str) -> FeedbackTemplate:
        return self._get("feedback", feedback_id, "feedback template")

    def recommendation(self, recommendation_id: str) -> Recommendation:
        return self._get("recommendation", recommendation_id, "recommendation")

    # -- scoring rules ---------------------------------------------------------------------------------

    def _check_total(self, total: float) -> None:
        if not 0 <= total <= self.total_points:
            raise ValueError(f"total {total:g} is outside 0..{self.total_points}")

    def level_for(self, total: float) -> Level:
        """The highest level whose `min` the total reaches: 84.9 is L5, 85 is L6, 54.9 is below L4."""
        self._check_total(total)
        return next(lv for lv in self.levels if total >= lv.min)

    def recommendation_for(self, total: float, red_flags: int = 0, green_flags: int = 0) -> Recommendation:
        """Rules first (3+ red flags: No Hire; 6+ green flags and no red flag: Strong Hire), else by total."""
        self._check_total(total)
        for rule in self.rules:
            if rule.applies(red_flags, green_flags):
                return self.recommendation(rule.recommendation)
        return next(r for r in self.recommendations if total >= r.min)

    def buzzword_cap_band(self, cat_id: str, sub_id: str | None = None) -> Band | None:
        """The highest band a sub-criterion can reach on mentions alone; None if the cap does not apply."""
        sub = self.subcriterion(cat_id, sub_id)
        ref = f"{cat_id}.{sub_id}" if sub_id is not None else cat_id
        if "." not in ref:
            ref = f"{ref}.{ref}"
        if ref not in self.buzzword_cap.applies_to:
            return None
        names = {b.name: b for b in sub.bands}
        return next((names[n] for n in self.buzzword_cap.cap_bands if n in names), None)

    def prompted_matters(self, ref: str) -> bool:
        """Whether being prompted reduces credit for this 'category.sub' or green flag id."""
        return ref in self.prompted_weight.subcriteria or ref in self.prompted_weight.green_flags

    # -- pattern matching ------------------------------------------------------------------------------

    def match_concepts(self, text: str) -> dict[str, EvidenceLevel]:
        """Every concept the text names or explains, with the best level, sentence by sentence."""
        sentences = split_sentences(text)
        found: dict[str, EvidenceLevel] = {}
        for concept in self.concepts:
            for sentence in sentences:
                level = concept.sentence_level(sentence)
                if level == "explained":
                    found[concept.id] = level
                    break
                if level == "mentioned":
                    found.setdefault(concept.id, level)
        return found

    def match_misconceptions(self, text: str) -> list[tuple[str, str]]:
        """(concept id, misconception id) for every misconception pattern that fires in the text."""
        sentences = split_sentences(text)
        return [
            (c.id, m.id)
            for c in self.concepts
            for m in c.misconceptions
            if any(_any_match(m.compiled, s) for s in sentences)
        ]

    def match_topics(self, text: str) -> list[str]:
        """Question topic ids whose patterns match the text (meant for the candidate's questions)."""
        sentences = split_sentences(text)
        return [t.id for t in self.question_topics if any(_any_match(t.compiled, s) for s in sentences)]


def load_rubric(path: str | Path = RUBRIC_FILE) -> Rubric:
    rubric = load_yaml_model(path, Rubric)
    pattern_cache.save()  # its patterns compile: the next run need not prove it again
    return rubric


@lru_cache(maxsize=1)
def default_rubric() -> Rubric:
    return load_rubric()
