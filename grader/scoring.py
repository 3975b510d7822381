"""Claims and checks to rubric scores: a pure function of its inputs, the rubric YAML and the scoring weights.

Nothing here reads a model's opinion: points come from what the transcript shows (concepts at the level the
rules or an LLM found them, grounded by a verbatim quote), which clarifying questions were asked, the strategy
proposed, and the checker's verdicts on every number. The weights live in `rubric/scoring.yaml`; flags fire on
the triggers written in the rubric YAML itself. Every point carries the turn and quote that earned it.

Policies, as the rubric states them:
- a wrong figure costs points once; figures computed consistently from it are flagged but not charged again;
- points made only after the interviewer prompted them weigh less where "unprompted" matters (strategy,
  optimisation, the hybrid green flag);
- a misconception costs points in the sub-criterion its concept belongs to;
- a sub-criterion with nothing explained, only names, is capped at the rubric's buzzword band.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from grader.claims import Check, Claims, ConceptClaim, StrategyClaim
from grader.paths import RUBRIC_DIR
from grader.quantities.registry import BANDWIDTH, MEMORY, REGISTRY, by_criterion
from grader.report import CategoryScore, Evidence, FlagHit, Report, SubScore
from grader.rubric import Condition, Rubric, Trigger, default_rubric
from grader.transcript import Transcript

SCORING_FILE = RUBRIC_DIR / "scoring.yaml"


def _computed(criterion: str) -> frozenset[str]:
    """The quantities of a sub-criterion a candidate works out (derived, or a judgement with a range): restating
    a fact (600 GB/s, 80 GB) or choosing an input (batch 16) is not a calculation."""
    return frozenset(q for q in by_criterion(criterion) if REGISTRY[q].kind in ("derived", "band"))


LINK_QUANTITIES = frozenset(q for q in by_criterion(BANDWIDTH) if REGISTRY[q].family in ("nvlink", "ib", "pcie"))
"""Link bandwidths: known figures (or a range for PCIe), the inputs of a communication estimate, not one."""
COMM_QUANTITIES = _computed(BANDWIDTH) - LINK_QUANTITIES
MEMORY_QUANTITIES = frozenset(q for q in _computed(MEMORY) if REGISTRY[q].dimension in ("bytes", "count"))
"""Sizes and capacities; the rubric scores latency arithmetic with them (2b) but a latency alone is not a
memory calculation."""
WEIGHT_QUANTITIES = frozenset(q for q in MEMORY_QUANTITIES if REGISTRY[q].family in ("weights", "minimum"))
KV_QUANTITIES = frozenset(q for q in MEMORY_QUANTITIES if REGISTRY[q].family == "kv")
NON_WEIGHT_QUANTITIES = (MEMORY_QUANTITIES - WEIGHT_QUANTITIES) | {"activations"}  # a budget counts for headroom
OPENING_TURNS = 3
"""The candidate's first answers: where a clarifying question belongs."""
# The rubric's recommendations by id, in the report's words; its "lean no hire" (55-60) reports as "No Hire".
CONTRACT_RECOMMENDATIONS = {"strong_hire": "Strong Hire", "hire": "Hire"}

_PER_GPU_SHARE = re.compile(
    r"\b1/\d+(?:th)?\b|\bone[- ](?:eighth|quarter|half)\b|\ban? (?:eighth|quarter)\b|each GPU (?:would )?(?:hold|store|get)s?\b",
    re.I,
)
_TOO_BIG = re.compile(
    r"too (?:big|large) for (?:one|a single|a) GPU|won'?t fit|doesn'?t fit|does not fit|split (?:it|the model)|"
    r"(?:into|in) \d+ (?:parts|pieces|shards)|across (?:the )?\d+ GPUs",
    re.I,
)


@lru_cache(maxsize=1)
def scoring_weights(path: Path = SCORING_FILE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


# --- what the transcript shows, indexed --------------------------------------------------------------


@dataclass
class Shown:
    """The claims and checks of one transcript, indexed for scoring."""

    concepts: dict[str, ConceptClaim] = field(default_factory=dict)  # best claim per concept
    misconceptions: list[ConceptClaim] = field(default_factory=list)
    questions: dict[str, Any] = field(default_factory=dict)
    strategies: list[StrategyClaim] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    candidate_text: str = ""
    opening: frozenset[int] = frozenset()  # the turns of the candidate's first answers, where requirements belong

    @classmethod
    def of(cls, transcript: Transcript, claims: Claims, checks: list[Check]) -> Shown:
        s = cls(strategies=list(claims.strategies), checks=list(checks))
        rank = {"mentioned": 1, "explained": 2}
        for c in sorted(claims.concepts, key=lambda c: c.turn):
            if c.level == "misconception":
                s.misconceptions.append(c)
                continue
            best = s.concepts.get(c.concept)
            # explained beats mentioned; at the same level, an unprompted claim beats a prompted one
            if best is None or (rank[c.level], not c.prompted) > (rank[best.level], not best.prompted):
                s.concepts[c.concept] = c
        for m in s.misconceptions:  # a concept the candidate also gets wrong is named, never explained
            c = s.concepts.get(m.concept)
            if c is not None and c.level == "explained":
                s.concepts[m.concept] = c.model_copy(update={"level": "mentioned"})
        for q in sorted(claims.questions, key=lambda q: q.turn):
            s.questions.setdefault(q.topic, q)
        s.candidate_text = "\n".join(t.content for _, t in transcript.candidate_turns())
        s.opening = frozenset(i for i, _ in list(transcript.candidate_turns())[:OPENING_TURNS])
        return s

    def concept(self, cid: str, level: str = "mentioned", unprompted: bool = False) -> ConceptClaim | None:
        c = self.concepts.get(cid)
        if c is None or (level == "explained" and c.level != "explained") or (unprompted and c.prompted):
            return None
        return c

    def checks_of(self, quantities: Iterable[str], verdict: str = "any") -> list[Check]:
        qs = set(quantities)
        return [c for c in self.checks if c.quantity in qs and (verdict == "any" or c.verdict == verdict)]

    def root_errors(self, quantities: Iterable[str]) -> list[Check]:
        return [c for c in self.checks_of(quantities, "incorrect") if not c.consistent_with_earlier_error]

    def misconceptions_of(self, concepts: Iterable[str]) -> list[ConceptClaim]:
        cs = set(concepts)
        return [m for m in self.misconceptions if m.concept in cs]


def _strategy_kind(s: StrategyClaim, shown: Shown) -> str:
    tp, pp = s.tp or 1, s.pp or 1
    if s.tp == 1 and (s.pp or 1) == 1 and s.dp is None:
        return "single_gpu"
    if tp > 1 and pp > 1:
        return "hybrid"
    if re.search(
        r"hybrid|tensor.{0,40}pipeline|pipeline.{0,40}tensor|\bTP\b.{0,30}\bPP\b|\bPP\b.{0,30}\bTP\b", s.quote, re.I
    ):
        return "hybrid"
    if tp > 1 or re.search(r"tensor|\bTP\b", s.quote, re.I):
        return "tp_only"
    if pp > 1 or re.search(r"pipeline|\bPP\b", s.quote, re.I):
        return "pp_only"
    if s.dp and s.dp > 1:
        return "dp_only"
    return "split_only"


# --- the rubric's trigger language ---------------------------------------------------------------------


def _holds(cond: Condition, shown: Shown, rubric: Rubric) -> list[Evidence] | None:
    """Evidence for one condition, or None when it does not hold (an `absent` condition holds with [])."""
    found: list[Evidence] = []
    kind = cond.kind
    if kind == "concepts":
        for cid in cond.concepts:
            c = shown.concept(cid, cond.level, cond.unprompted)
            if c is not None:
                found.append(Evidence(turn=c.turn, quote=c.quote, note=f"{cid} {c.level}", prompted=c.prompted))
    elif kind == "questions":
        for tid in cond.questions:
            if tid in shown.questions:
                q = shown.questions[tid]
                found.append(Evidence(turn=q.turn, quote=q.quote, note=f"asked about {tid}"))
    elif kind == "quantities":
        factor = rubric.order_of_magnitude_factor
        for c in shown.checks_of(cond.quantities):
            ok = {
                "correct": c.verdict == "correct",
                "incorrect": c.verdict == "incorrect",
                "any": True,
                "order_of_magnitude": c.verdict == "correct"
                or bool(c.expected and c.claimed and 1 / factor <= c.claimed / c.expected <= factor),
            }[cond.verdict]
            if ok and cond.max_ratio is not None:
                ok = bool(c.expected) and c.claimed / c.expected < cond.max_ratio
            if ok:
                found.append(
                    Evidence(turn=c.turn, quote=c.quote, note=f"{c.quantity} {c.claimed:g} {c.unit}: {c.verdict}")
                )
        # one piece of evidence per quantity is enough to count it
        found = list({e.note.split(" ")[0]: e for e in reversed(found)}.values())[::-1] if found else found
    elif kind in ("misconceptions", "misconceptions_of"):
        ms = (
            [m for m in shown.misconceptions if m.misconception in set(cond.misconceptions)]
            if kind == "misconceptions"
            else shown.misconceptions_of(cond.misconceptions_of)
        )
        found = [Evidence(turn=m.turn, quote=m.quote, note=f"misconception {m.misconception}") for m in ms]
    elif kind == "strategy":
        sc = cond.strategy
        for s in shown.strategies:
            kinds = _strategy_kind(s, shown)
            if sc.hybrid is not None and (kinds == "hybrid") != sc.hybrid:
                continue
            if sc.single_gpu is not None and (kinds == "single_gpu") != sc.single_gpu:
                continue
            if len(s.justified_by) < sc.min_justifications or not set(sc.justified_by) <= set(s.justified_by):
                continue
            if len(s.alternatives) < sc.min_alternatives or (cond.unprompted and s.prompted):
                continue
            found.append(Evidence(turn=s.turn, quote=s.quote, note=f"strategy: {kinds}", prompted=s.prompted))
    distinct = len({e.note for e in found}) if kind != "strategy" else len(found)
    shown_enough = bool(found) and distinct >= cond.min
    if cond.absent:  # "not (at least `min` of these)"
        return None if shown_enough else []
    return found if shown_enough else None


def fires(trigger: Trigger, shown: Shown, rubric: Rubric) -> list[Evidence] | None:
    """Evidence that a trigger fires: every all_of, one any_of (if any), no unless."""
    evidence: list[Evidence] = []
    for cond in trigger.all_of:
        got = _holds(cond, shown, rubric)
        if got is None:
            return None
        evidence += got
    if trigger.any_of:
        hits = [got for cond in trigger.any_of if (got := _holds(cond, shown, rubric)) is not None]
        if not hits:
            return None
        evidence += hits[0]
    if any(_holds(cond, shown, rubric) is not None for cond in trigger.unless):
        return None
    return evidence


# --- points per sub-criterion ------------------------------------------------------------------------


@dataclass
class Tally:
    """Points being added up for one sub-criterion, with the reasons and evidence behind them."""

    max: float
    points: float = 0.0
    reasons: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    explained: bool = False
    deferred: list[tuple[float, str, Any]] = field(default_factory=list)

    def add(self, pts: float, reason: str, claim: Any = None, note: str | None = None) -> None:
        if pts == 0:
            return
        self.points += pts
        self.reasons.append(f"{pts:+g} {reason}")
        if claim is not None:
            self.evidence.append(
                Evidence(
                    turn=claim.turn, quote=claim.quote, note=note or reason, prompted=getattr(claim, "prompted", False)
                )
            )

    def defer(self, pts: float, reason: str, claim: Any = None) -> None:
        """A cost taken after the caps (a misconception costs points whatever band the evidence reaches)."""
        self.deferred.append((pts, reason, claim))

    def settle(self) -> None:
        for pts, reason, claim in self.deferred:
            self.add(pts, reason, claim)
        self.deferred.clear()

    def cap(self, limit: float, reason: str) -> None:
        if self.points > limit:
            self.reasons.append(f"capped at {limit:g}: {reason}")
            self.points = limit


def _concept_points(
    t: Tally, shown: Shown, weights: dict[str, float], w: dict[str, Any], *, prompted_matters: bool
) -> None:
    for cid, weight in weights.items():
        c = shown.concepts.get(cid)
        if c is None:
            continue
        pts = weight if c.level == "explained" else weight * w["mentioned_factor"]
        label = f"{cid.replace('_', ' ')} {c.level}"
        if c.prompted and prompted_matters:
            pts *= w["prompted_weight"]
            label += " (after a prompt)"
        t.explained |= c.level == "explained"
        t.add(round(pts, 2), label, c)


def _floors(t: Tally, shown: Shown, floors: list[dict[str, Any]]) -> None:
    """The rubric's lower bands reward awareness: any listed concept lifts the score to that band's minimum."""
    for floor in floors:
        hit = next((c for cid in floor["any_of"] if (c := shown.concept(cid, floor.get("level", "mentioned")))), None)
        if hit is not None and t.points < floor["points"]:
            t.add(round(floor["points"] - t.points, 2), f"at least {floor['points']:g}: {floor['reason']}", hit)


def _misconception_cost(t: Tally, shown: Shown, ref: str, rubric: Rubric, w: dict[str, Any]) -> None:
    """A misconception costs points in the sub-criteria its concept supports (the rubric's `supports`): once per
    sub-criterion, however many are said there (one wrong idea of the links is one lesson, not three)."""
    m = next((m for m in shown.misconceptions if ref in rubric.concept(m.concept).supports), None)
    if m is not None:
        t.defer(-w["misconception_penalty"], f"misconception: {m.misconception}", m)


def _requirements(t: Tally, shown: Shown, w: dict[str, Any]) -> None:
    """Clarifying questions, as the rubric means them: asked before designing. A question that comes only once
    the design is under way (the failure budget, asked at minute 40) counts `late_factor` of its points."""
    cfg = w["requirements"]
    for topic, pts in cfg["topics"].items():
        if topic in shown.questions:
            q = shown.questions[topic]
            late = q.turn not in shown.opening
            t.add(
                pts * (cfg["late_factor"] if late else 1),
                f"asked about {topic.replace('_', ' ')}" + (" (late)" if late else ""),
                q,
            )
    t.explained = True  # questions are not buzzwords
    for topic, limit in cfg.get("cap_without", {}).items():
        if topic not in shown.questions:
            t.cap(limit, f"never asked about {topic}")


def _understanding(t: Tally, shown: Shown, w: dict[str, Any]) -> None:
    cfg = w["understanding"]
    _concept_points(t, shown, cfg["concepts"], w, prompted_matters=False)
    compared = next((s for s in shown.strategies if s.alternatives), None) or shown.concepts.get(
        "parallelism_tradeoffs"
    )
    if compared is not None:
        t.add(cfg["comparison"], "compares approaches", compared)
    distribution = next(iter(shown.strategies), None) or shown.concepts.get("model_distribution")
    if distribution is not None or _TOO_BIG.search(shown.candidate_text):
        t.add(cfg["distribution_base"], "knows the model must be split across GPUs", distribution)


def _memory_calculation(t: Tally, shown: Shown, w: dict[str, Any]) -> None:
    cfg = w["memory_calculation"]
    figures = shown.checks_of(MEMORY_QUANTITIES)
    t.explained = True
    if not figures:
        m = _PER_GPU_SHARE.search(shown.candidate_text)
        if m:
            t.add(cfg["no_figures"]["per_gpu_share"], "per-GPU share of the weights, without figures")
        elif _TOO_BIG.search(shown.candidate_text):
            t.add(cfg["no_figures"]["too_big"], "knows it does not fit one GPU, without figures")
        return
    t.add(cfg["with_figures"], "memory figures stated")
    correct = {c.quantity: c for c in reversed(shown.checks_of(MEMORY_QUANTITIES, "correct"))}
    for c in correct.values():
        t.evidence.append(Evidence(turn=c.turn, quote=c.quote, note=f"{c.quantity} {c.claimed:g} {c.unit}: correct"))
    if not WEIGHT_QUANTITIES & set(correct):
        t.add(-cfg["missing_weights"], "no correct weights figure")
    stated = {c.quantity for c in figures}
    if not NON_WEIGHT_QUANTITIES & stated:
        t.add(-cfg["missing_non_weight"], "no KV cache, activations or headroom figure")
    elif not KV_QUANTITIES & stated:
        t.add(-cfg["missing_kv_figure"], "headroom counted but no KV cache figure")
    elif not KV_QUANTITIES & set(correct):
        t.add(-cfg["wrong_kv_figure"], "no correct KV cache figure")
    cost = 0.0
    for c in shown.root_errors(MEMORY_QUANTITIES):
        step = min(cfg["per_root_error"], cfg["max_error_cost"] - cost)
        if step > 0:
            cost += step
            t.add(-step, f"wrong figure: {c.claimed:g} {c.unit} ({c.diagnosis})", c)
    t.points = max(t.points, cfg["floor_with_figures"])
    if not correct:  # figures, none of them right: the Weak band, however many were tried
        t.cap(cfg["cap_none_correct"], "no memory figure is right")


def _strategy(t: Tally, shown: Shown, w: dict[str, Any]) -> None:
    cfg = w["strategy"]
    if not shown.strategies:
        return
    ranked = sorted(shown.strategies, key=lambda s: -cfg["proposal"].get(_strategy_kind(s, shown), 0))
    best = ranked[0]
    kind = _strategy_kind(best, shown)
    # a layout with its degrees, or one whose kinds of parallelism are explained, is more than a buzzword
    t.explained = bool(best.tp or best.pp) or any(
        shown.concept(c, "explained") for c in ("tensor_parallelism", "pipeline_parallelism", "hybrid_parallelism")
    )
    pts = cfg["proposal"].get(kind, 0)
    if best.prompted:
        pts *= w["prompted_weight"]
    t.add(pts, f"proposes {kind.replace('_', ' ')}" + (" (after a prompt)" if best.prompted else ""), best)
    reasons = sorted({j for s in shown.strategies for j in s.justified_by})
    t.add(
        min(len(reasons) * cfg["per_justification"], cfg["max_justification"]),
        f"justified by {', '.join(reasons)}" if reasons else "no justification",
        best if reasons else None,
    )
    alts = sorted({a for s in shown.strategies for a in s.alternatives})
    if alts:
        t.add(cfg["alternatives"], f"compares alternatives: {', '.join(alts)}", best)
    scal = shown.concepts.get("scalability") or shown.concepts.get("data_parallelism")
    if scal is not None:
        t.add(cfg["scalability"], "considers scaling out (replicas, more nodes)", scal)
    single = any(_strategy_kind(s, shown) == "single_gpu" for s in shown.strategies)
    if single or any(m.misconception == "single_gpu_fits" for m in shown.misconceptions):
        t.cap(cfg["single_gpu_cap"], "an unrealistic single-GPU strategy")
    elif kind != "hybrid":
        t.cap(cfg["non_hybrid_cap"], "no hybrid proposed")


def _bandwidth_calculation(t: Tally, shown: Shown, w: dict[str, Any]) -> None:
    cfg = w["bandwidth_calculation"]
    figures = shown.checks_of(COMM_QUANTITIES)
    t.explained = True
    links = shown.checks_of(LINK_QUANTITIES, "correct")
    if not figures:
        if links:
            t.add(
                cfg["no_figures"]["interconnect_specs"], "knows the interconnect figures, no traffic estimate", links[0]
            )
        elif shown.concept("nvlink") or shown.concept("infiniband"):
            c = shown.concept("nvlink") or shown.concept("infiniband")
            t.add(cfg["no_figures"]["fast_interconnect"], "names the fast interconnect, no calculation", c)
        else:
            t.add(cfg["no_figures"]["nothing"], "no communication estimate")
        return
    t.add(cfg["with_figures"], "communication volume or time estimated")
    correct = {c.quantity: c for c in reversed(shown.checks_of(COMM_QUANTITIES | LINK_QUANTITIES, "correct"))}
    bonus = min(len(correct) * cfg["per_correct_quantity"], cfg["max_correct_bonus"])
    if correct:
        t.add(bonus, f"correct: {', '.join(q.replace('_', ' ') for q in correct)}", next(iter(correct.values())))
    for c in shown.root_errors(COMM_QUANTITIES | LINK_QUANTITIES):
        t.add(-cfg["per_root_error"], f"wrong figure: {c.claimed:g} {c.unit} ({c.diagnosis})", c)
    t.points = max(t.points, cfg["floor_with_figures"])
    if not COMM_QUANTITIES & set(correct):
        t.cap(cfg["cap_none_correct"], "no communication figure is right")


def _buzzword_cap(t: Tally, cat_id: str, sub_id: str, rubric: Rubric, points: float) -> None:
    """Names without a mechanism stay in the rubric's buzzword band: the points place them inside it, in
    proportion (so naming more still counts, and explaining one thing beats naming it)."""
    band = None if t.explained else rubric.buzzword_cap_band(cat_id, sub_id)
    if band is not None and t.points > _keep(band):
        placed = _compress(t.points, band, points)
        t.reasons.append(f"{placed:g}: names without mechanism, placed within the {band.name} band")
        t.points = placed


def _keep(band: Any) -> float:
    return band.min if band.min > 0 else 0.6 * band.max


def _compress(points: float, band: Any, full: float) -> float:
    """Points placed inside a band they would overflow, monotonically: what is at or below the band's lower
    part stays, the rest of the scale up to `full` is squeezed into the band's remaining room (so more evidence
    of the same kind, or a misconception, still moves the score within the band)."""
    keep = _keep(band)
    if points <= keep:
        return points
    if full <= keep:
        return min(points, band.max)
    return round(keep + (min(points, full) - keep) * (band.max - keep) / (full - keep), 2)


def _by_concepts(t: Tally, shown: Shown, w: dict[str, Any], sub_id: str, prompted_matters: bool = False) -> None:
    """The sub-criteria the rubric describes by topics covered: weighted concepts, misconceptions, caps, floors."""
    cfg = w[sub_id]
    _concept_points(t, shown, cfg["concepts"], w, prompted_matters=prompted_matters)
    for cid, limit in cfg.get("cap_without", {}).items():
        if cid not in shown.concepts:
            t.cap(limit, f"never discusses {cid.replace('_', ' ')}")
    _floors(t, shown, cfg.get("floors", []))


def _band_gate(t: Tally, sub: Any, shown: Shown, rubric: Rubric) -> None:
    """The rubric's bands say what a grader must see for each: points alone never buy a band whose evidence the
    transcript does not show, so they are capped at the top of the highest band whose evidence it does. (What
    a misconception costs is taken after this cap: it is a cost within whatever band the evidence reaches.)"""
    for band in sub.bands:
        if band.evidence.fallback:
            got: list[Evidence] | None = []
        else:
            got = fires(band.evidence, shown, rubric)  # type: ignore[arg-type]
        if got is None:
            continue
        if t.points > band.max:
            t.reasons.append(f"capped at {band.max:g}: the evidence shows the {band.name} band, not higher")
            t.points = band.max
        return


Scorer = Callable[[Tally, Shown, dict[str, Any]], None]
SCORERS: dict[str, Scorer] = {
    "requirements": _requirements,
    "understanding": _understanding,
    "memory_calculation": _memory_calculation,
    "strategy": _strategy,
    "bandwidth_calculation": _bandwidth_calculation,
}
"""Sub-criteria with a rule of their own; the others are scored by `_by_concepts` from rubric/scoring.yaml."""


def score_subcriteria(
    shown: Shown, rubric: Rubric, w: dict[str, Any], red: Iterable[FlagHit] = ()
) -> dict[str, dict[str, SubScore]]:
    out: dict[str, dict[str, SubScore]] = {}
    flags = {f.id: f for f in rubric.red_flags.flags}
    capped_by = {ref: hit for hit in red if hit.id in flags for ref in flags[hit.id].caps}
    for cat, sub in rubric.iter_subcriteria():
        t = Tally(max=sub.points)
        if sub.id in SCORERS:
            SCORERS[sub.id](t, shown, w)
        else:
            _by_concepts(t, shown, w, sub.id, rubric.prompted_matters(f"{cat.id}.{sub.id}"))
        _misconception_cost(t, shown, f"{cat.id}.{sub.id}", rubric, w)
        _buzzword_cap(t, cat.id, sub.id, rubric, sub.points)
        _band_gate(t, sub, shown, rubric)
        hit = capped_by.get(f"{cat.id}.{sub.id}")
        if hit is not None:  # a red flag is a critical issue in its area: the lowest band, whatever else is shown
            t.cap(sub.bands[-1].max, f"red flag: {hit.label}")
        t.cap(sub.points, "the sub-criterion's maximum")
        t.settle()
        pts = round(max(0.0, t.points), 1)
        band = sub.band_for(pts) or next((b for b in sub.bands if b.max < pts), sub.fallback)
        out.setdefault(cat.id, {})[sub.id] = SubScore(
            score=pts, max=sub.points, band=band.name, evidence=t.evidence, reasons=t.reasons
        )
    return out


# --- flags, level, recommendation, feedback ------------------------------------------------------------


def score_flags(shown: Shown, rubric: Rubric) -> tuple[list[FlagHit], list[FlagHit]]:
    def hits(group: Any) -> list[FlagHit]:
        out = []
        for flag in group.flags:
            ev = fires(flag.trigger, shown, rubric)
            if ev is None:
                continue
            first = min(ev, key=lambda e: e.turn) if ev else None
            out.append(
                FlagHit(
                    id=flag.id,
                    label=flag.label,
                    turn=first.turn if first else None,
                    evidence=first.quote if first else f"not shown anywhere: {flag.when}",
                )
            )
        return out

    return hits(rubric.red_flags), hits(rubric.green_flags)


def level_for(total: float, rubric: Rubric) -> str:
    """The report spells levels as the contract does: "L6", "L5", "L4", "below L4"."""
    return rubric.level_for(total).id.replace("_", " ")


def _feedback(report: Report, shown: Shown, rubric: Rubric) -> str | None:
    template_id = rubric.recommendation_for(report.total).feedback
    tpl = next((f for f in rubric.feedback if f.id == template_id), None)
    if tpl is None:
        return None
    strategy = _describe_strategy(shown)
    ft = [
        c.replace("_", " ")
        for c in ("replica_failover", "checkpoint_restart", "kv_snapshots", "reconfiguration")
        if c in shown.concepts
    ] or ["the recovery steps you described"]
    values = {"strategy": strategy, "fault_tolerance": " and ".join(ft[:2])}
    return tpl.render(**{k: values.get(k, p.rubric_value) for k, p in tpl.placeholders.items()})


def _describe_strategy(shown: Shown) -> str:
    if not shown.strategies:
        return "parallelism strategy"
    s = shown.strategies[0]
    kind = _strategy_kind(s, shown)
    if kind == "hybrid" and s.tp and s.pp:
        return f"hybrid parallelism strategy ({s.pp}-way PP × {s.tp}-way TP)"
    return {
        "hybrid": "hybrid parallelism strategy",
        "tp_only": "tensor-parallel strategy",
        "pp_only": "pipeline-parallel strategy",
    }.get(kind, "parallelism strategy")


def _strengths_and_growth(
    categories: dict[str, CategoryScore], checks: list[Check], red: list[FlagHit], green: list[FlagHit], rubric: Rubric
) -> tuple[list[str], list[str]]:
    strengths, growth = [], []
    for cat in rubric.categories:
        for sub in cat.subcriteria:
            s = categories[cat.id].subscores[sub.id]
            name = sub.label if sub.id != cat.id else cat.label
            if s.score >= 0.8 * s.max:
                strengths.append(f"{name}: {s.score:g}/{s.max:g} ({s.band})")
            elif s.score <= 0.5 * s.max:
                growth.append(f"{name}: {s.score:g}/{s.max:g} ({s.band})")
    strengths += [f"Green flag: {g.label}" for g in green]
    growth += [f"Red flag: {r.label}" for r in red]
    growth += [
        f"Turn {c.turn}: {c.claimed:g} {c.unit} for {c.quantity.replace('_', ' ')} — {c.diagnosis}"
        for c in checks
        if c.verdict == "incorrect" and not c.consistent_with_earlier_error
    ]
    return strengths, growth


def score(transcript: Transcript, claims: Claims, checks: list[Check], rubric: Rubric | None = None) -> Report:
    """The whole scorecard for one transcript, from its claims and checked numbers."""
    rubric = rubric or default_rubric()
    w = {**scoring_weights(), "prompted_weight": rubric.prompted_weight.weight}
    shown = Shown.of(transcript, claims, checks)
    red, green = score_flags(shown, rubric)
    subs = score_subcriteria(shown, rubric, w, red)
    categories: dict[str, CategoryScore] = {}
    for cat in rubric.categories:
        total = round(sum(s.score for s in subs[cat.id].values()), 1)
        band = cat.subcriteria[0].band_for(total) if len(cat.subcriteria) == 1 else None
        categories[cat.id] = CategoryScore(
            score=total, max=cat.points, band=band.name if band else None, subscores=subs[cat.id]
        )
    total = round(sum(c.score for c in categories.values()), 1)
    strengths, growth = _strengths_and_growth(categories, checks, red, green, rubric)
    report = Report(
        transcript_id=transcript.id,
        total=total,
        level=level_for(total, rubric),  # type: ignore[arg-type]
        recommendation=CONTRACT_RECOMMENDATIONS.get(  # type: ignore[arg-type]
            rubric.recommendation_for(total, len(red), len(green)).id, "No Hire"
        ),
        categories=categories,
        checks=checks,
        red_flags=red,
        green_flags=green,
        strengths=strengths,
        growth_areas=growth,
    )
    return report.model_copy(update={"feedback": _feedback(report, shown, rubric)})
