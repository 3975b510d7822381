"""What in the candidate's last message the interviewer questions, and how, without ever giving the answer.

Three kinds, read from the live claims and checks of that message alone:

- a figure the checker found `incorrect` whose words name its quantity: "Walk me through how you got 12 GB for
  the KV cache." Never a figure the checker confirmed anywhere in the interview (the same value and unit
  judged `correct` under another reading), never one read from the context (`guessed`), never an error
  carried from an earlier one; each once, at most `max_follow_ups` per interview;
- a misconception the extractor found, with the plan's question for it ("How would all of the model's
  weights fit on one 80 GB card?") or a general one naming the concept;
- a hand-wave the rubric has no misconception for ("Kubernetes will scale automatically"), by the plan's
  patterns, in a statement of the message; the one said first wins.

Misconceptions and hand-waves share one count (`challenges.max`) and one list of ids, so a claim the extractor
and the patterns both catch is questioned once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from grader.claims import Check, Claims, NumericClaim
from grader.interview.probes import InterviewPlan, WeakClaim, choose

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Found:
    kind: Literal["follow_up", "challenge"]
    text: str
    key: str
    """The check (`check_key`) a follow-up is about, or the misconception or weak-claim id challenged."""


def check_key(c: Check) -> str:
    return f"{c.turn}:{c.quantity}:{c.claimed:g}"


def same_figure(a: Check, b: Check) -> bool:
    return a.unit == b.unit and abs(a.claimed - b.claimed) <= 1e-9 * max(1.0, abs(a.claimed))


def confirmed(check: Check, checks: Sequence[Check]) -> bool:
    """The checker confirmed the same figure (value and unit) somewhere in the interview."""
    return any(c.verdict == "correct" and same_figure(c, check) for c in checks)


class Challenger:
    def __init__(self, plan: InterviewPlan) -> None:
        self.plan = plan
        self._weak = [
            (w, re.compile("|".join(w.patterns), re.I), re.compile("|".join(w.unless), re.I) if w.unless else None)
            for w in plan.challenges.weak_claims
        ]

    def follow_up(
        self, claims: Claims, checks: Sequence[Check], latest: int, followed_up: Sequence[str], seed: int, n: int
    ) -> Found | None:
        """An incorrect, named figure of turn `latest` to walk through, quoting the candidate's own figure."""
        if len(followed_up) >= self.plan.max_follow_ups:
            return None
        numbers: Sequence[NumericClaim | None] = (
            claims.numbers if len(claims.numbers) == len(checks) else [None] * len(checks)
        )  # the checker judges the numbers in order, one check each
        for c, claim in zip(checks, numbers, strict=True):
            if c.turn != latest or c.verdict != "incorrect" or c.consistent_with_earlier_error:
                continue
            key = check_key(c)
            if key in followed_up or confirmed(c, checks) or (claim is not None and claim.guessed):
                continue
            label = self.plan.quantity_labels.get(c.quantity or "", "")
            phrase = f"{figure(c)} {label}".strip()
            text = choose(self.plan.follow_up, seed, n, "follow_up").replace("{figure}", phrase)
            return Found("follow_up", text, key)
        return None

    def misconception(self, claims: Claims, latest: int, challenged: Sequence[str], seed: int, n: int) -> Found | None:
        ch = self.plan.challenges
        if len(challenged) >= ch.max:
            return None
        for c in claims.concepts:
            if c.turn != latest or c.level != "misconception":
                continue
            key = c.misconception or c.concept
            if key in challenged:
                continue
            if key in ch.misconceptions:
                text = choose(ch.misconceptions[key], seed, n, "misconception", key)
            else:
                label = self.plan.label(f"concept:{c.concept}")
                text = choose(ch.misconception_other, seed, n, "misconception").replace("{topic}", label)
            return Found("challenge", text, key)
        return None

    def weak_claim(self, statements: Sequence[str], challenged: Sequence[str], seed: int, n: int) -> Found | None:
        if len(challenged) >= self.plan.challenges.max:
            return None
        best: tuple[tuple[int, int], WeakClaim] | None = None
        for weak, rx, unless in self._weak:
            if weak.id in challenged:
                continue
            for i, sentence in enumerate(statements):
                m = rx.search(sentence)
                if m and not (unless is not None and unless.search(sentence)):
                    if best is None or (i, m.start()) < best[0]:
                        best = ((i, m.start()), weak)
                    break
        if best is None:
            return None
        weak = best[1]
        return Found("challenge", choose(weak.phrasings, seed, n, "weak", weak.id), weak.id)


def figure(check: Check) -> str:
    """The candidate's figure as they wrote it in the quoted sentence, with the unit they used."""
    token = None
    for m in _NUMBER.finditer(check.quote):
        try:
            v = float(m.group().replace(",", ""))
        except ValueError:
            continue
        if abs(v - check.claimed) <= 1e-9 * max(1.0, abs(check.claimed)):
            token = m.group()
            break
    if token is None:
        v = check.claimed
        token = f"{v:,.0f}" if v == int(v) else f"{v:.6f}".rstrip("0").rstrip(".")
    unit = check.unit.strip()
    if not unit or unit == "count":
        return token
    return f"{token}{unit}" if unit == "%" else f"{token} {unit}"
