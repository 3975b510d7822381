"""Numeric claims from an LLM, in the contract the rules reader fills, checked against the rules reading.

A model names the quantity a figure states; the rules reader knows what the words around it allow and what the
sentence names besides (the configurations, the numbers of its arithmetic). Each model figure is matched to the
reader's figure of the same turn, value and unit, and takes from it what the model does not give. Where the two
disagree on what the figure is, the figure is a guess: a model's reading alone never makes a figure wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import ValidationError

from grader.claims import Assumptions, NumericClaim

_NAMES = {
    "precision": "weight_precision",
    "weights": "weight_precision",
    "weight_precision": "weight_precision",
    "weight_dtype": "weight_precision",
    "dtype": "weight_precision",
    "kv_precision": "kv_precision",
    "kv_dtype": "kv_precision",
    "tp": "tp",
    "tensor_parallel": "tp",
    "pp": "pp",
    "pipeline_parallel": "pp",
    "dp": "dp",
    "replicas": "dp",
    "batch": "batch",
    "batch_size": "batch",
    "sequences": "batch",
    "concurrent_sequences": "batch",
    "context": "context",
    "context_length": "context",
    "seq_len": "context",
    "sequence_length": "context",
    "micro_batches": "micro_batches",
    "microbatches": "micro_batches",
    "kv_heads": "kv_heads",
}
_PRECISION = re.compile(r"\b(fp32|fp16|bf16|fp8|int8|int4)\b", re.I)
_INT = re.compile(r"^\s*(\d[\d,]*)\s*([kK])?\s*$")


def assumptions_from(pairs: Iterable[tuple[str, str]]) -> Assumptions:
    """Typed assumptions from a model's (name, value) pairs: names it may use for each field, values as said
    ("FP16", "32", "2K"). Anything that is not one of the fields, or not a valid value, is left out."""
    fields: dict[str, object] = {}
    for name, raw in pairs:
        key = _NAMES.get(name.strip().lower().replace(" ", "_").replace("-", "_"))
        if key is None:
            continue
        if key.endswith("precision"):
            m = _PRECISION.search(raw)
            if m:
                fields[key] = m.group(1).lower()
            continue
        m = _INT.match(raw)
        if m:
            value = int(m.group(1).replace(",", ""))
            fields[key] = value * 1024 if m.group(2) else value
    out: dict[str, object] = {}
    for key, value in fields.items():  # one bad value drops itself, not its neighbours
        try:
            Assumptions(**{key: value})  # type: ignore[arg-type]
        except ValidationError:
            continue
        out[key] = value
    return Assumptions(**out)  # type: ignore[arg-type]


def _same_figure(a: NumericClaim, b: NumericClaim) -> bool:
    return (
        a.turn == b.turn and a.unit.lower() == b.unit.lower() and abs(a.value - b.value) <= 1e-6 * max(1, abs(a.value))
    )


def reconcile(model: Sequence[NumericClaim], rules: Sequence[NumericClaim]) -> list[NumericClaim]:
    """The model's figures, each completed from the reader's figure it matches (configurations considered, the
    sentence's numbers, inherited assumptions, the readings the words allow). A model figure the reader read
    differently, or did not see, is a guess; the reader's figures the model left out are kept as they are."""
    used: set[int] = set()
    out: list[NumericClaim] = []
    for m in model:
        match = next((i for i, r in enumerate(rules) if i not in used and _same_figure(m, r)), None)
        if match is None:
            out.append(m.model_copy(update={"guessed": True}))
            continue
        used.add(match)
        r = rules[match]
        allowed = [q for q in (r.quantity, *r.alternatives) if q]
        agree = m.quantity is not None and (not allowed or m.quantity in allowed)
        alternatives = [q for q in dict.fromkeys([*m.alternatives, *allowed]) if q != m.quantity]
        assumptions = Assumptions(**{**r.assumptions.stated(), **m.assumptions.stated()})
        out.append(
            m.model_copy(
                update={
                    "alternatives": alternatives,
                    "guessed": m.guessed or not agree or (r.guessed and m.quantity != r.quantity),
                    "assumptions": assumptions,
                    "inherited": r.inherited,
                    "considered": r.considered,
                    "operands": r.operands,
                    "expression": m.expression or r.expression,
                    "bound": m.bound or r.bound,
                }
            )
        )
    out += [r for i, r in enumerate(rules) if i not in used]
    return sorted(out, key=lambda c: c.turn)
