"""What the candidate has covered, from the live claims and checks (grader.pipeline.analyse), never from the
interviewer's own words.

A claim covers plan targets: a concept mentioned or explained (not a misconception), a clarifying question's
topic, a number's quantity and the other readings its words allow, a checked figure's quantity, and a stated
layout (`strategy:tp`, `strategy:pp`, `strategy:dp`, `strategy:hybrid`). The plan's `coverage_aliases` add
what else counts ("four replicas" covers data parallelism, a decode floor covers the per-token latency). The
result is kept per candidate turn, so the engine knows both what is covered and what the last answer added.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, Field

from grader.claims import Check, Claims, ConceptLevel

_LEVEL_RANK: dict[str, int] = {"misconception": 0, "mentioned": 1, "explained": 2}


def raw_targets(claims: Claims, checks: Iterable[Check], *, named_only: bool = False) -> dict[int, set[str]]:
    """The `kind:id` keys each candidate turn's claims name, before aliases. `named_only`: a number counts only
    for its best reading (not the other readings its words allow, not a checked reading)."""
    out: dict[int, set[str]] = {}

    def add(turn: int, key: str) -> None:
        out.setdefault(turn, set()).add(key)

    for c in claims.concepts:
        if c.level != "misconception":
            add(c.turn, f"concept:{c.concept}")
    for q in claims.questions:
        add(q.turn, f"question:{q.topic}")
    for n in claims.numbers:
        if named_only:
            if n.quantity:
                add(n.turn, f"quantity:{n.quantity}")
            continue
        for name in (n.quantity, *n.alternatives):
            if name:
                add(n.turn, f"quantity:{name}")
    if not named_only:
        for k in checks:
            if k.quantity:
                add(k.turn, f"quantity:{k.quantity}")
    for s in claims.strategies:
        parallel = [(s.tp, "tp"), (s.pp, "pp"), (s.dp, "dp")]
        for degree, name in parallel:
            if degree is not None and degree > 1:
                add(s.turn, f"strategy:{name}")
        if (s.tp or 1) > 1 and (s.pp or 1) > 1:
            add(s.turn, "strategy:hybrid")
    return out


def expand(keys: Iterable[str], aliases: Mapping[str, list[str]]) -> set[str]:
    out = set(keys)
    for k in list(out):
        out.update(aliases.get(k, ()))
    return out


class Coverage(BaseModel):
    """What the candidate has shown so far, over the whole transcript."""

    concepts: dict[str, ConceptLevel] = Field(default_factory=dict, description="best level reached per concept")
    questions: list[str] = Field(default_factory=list, description="clarifying-question topics asked")
    quantities: list[str] = Field(default_factory=list, description="numeric quantities the candidate stated")
    covered: list[str] = Field(default_factory=list, description="plan targets covered, aliases applied")
    latest: list[str] = Field(default_factory=list, description="plan targets the last candidate turn covered")
    new: list[str] = Field(default_factory=list, description="of those, the ones no earlier turn covered")
    said: list[str] = Field(
        default_factory=list, description="of the new ones, those the last turn named outright (what to acknowledge)"
    )

    def targets(self) -> frozenset[str]:
        return frozenset(self.covered)

    @classmethod
    def build(
        cls,
        claims: Claims,
        checks: list[Check],
        asked_before: Iterable[str] = (),
        *,
        latest_topics: Iterable[str] = (),
        latest_turn: int | None = None,
        aliases: Mapping[str, list[str]] | None = None,
    ) -> Coverage:
        """`asked_before`: fact topics the engine answered before the last message; `latest_topics`: those the
        last message asked for; `latest_turn`: the index of the last candidate turn (None: no turn is "last")."""
        aliases = aliases or {}
        asked_before, latest_topics = list(asked_before), list(latest_topics)
        concepts: dict[str, ConceptLevel] = {}
        for c in claims.concepts:
            if c.concept not in concepts or _LEVEL_RANK[c.level] > _LEVEL_RANK[concepts[c.concept]]:
                concepts[c.concept] = c.level
        questions = list(dict.fromkeys([*asked_before, *latest_topics, *(q.topic for q in claims.questions)]))
        quantities = list(
            dict.fromkeys(
                [
                    *(n.quantity for n in claims.numbers if n.quantity),
                    *(c.quantity for c in checks if c.quantity),
                ]
            )
        )
        per_turn = raw_targets(claims, checks)
        latest_raw = {f"question:{t}" for t in latest_topics}
        earlier_raw = {f"question:{t}" for t in asked_before}
        for turn, keys in per_turn.items():
            (latest_raw if turn == latest_turn else earlier_raw).update(keys)
        latest, earlier = expand(latest_raw, aliases), expand(earlier_raw, aliases)
        named = (
            expand(raw_targets(claims, checks, named_only=True).get(latest_turn, set()), aliases)
            if latest_turn is not None
            else set()
        )
        return cls(
            concepts=concepts,
            questions=questions,
            quantities=quantities,
            covered=sorted(latest | earlier),
            latest=sorted(latest),
            new=sorted(latest - earlier),
            said=sorted((named | {f"question:{t}" for t in latest_topics}) - earlier),
        )
