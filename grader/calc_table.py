"""The `calc` table: every quantity of the registry, evaluated for one configuration, for people.

The registry (grader/quantities/registry.py) is the one list of quantities; this module evaluates each entry
under the `ServingConfig` the flags describe and chooses a human unit (GB with GiB beside it, ms or us, %, TB/s).
A quantity with several legitimate conventions shows every one of them, a band its typical value and the range
the checker accepts, so the table is the grader's own view of the arithmetic, not a second copy of it.

Sections come from the registry's metadata, never from a list of ids: scenario facts and the candidate's inputs
by their kind, computed quantities by their family. A family that no section names gets a section of its own,
so a new registry entry always appears. `rich` is imported only when a terminal asks for it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from grader.calculator import ServingConfig, bubble_fraction_of_wall, bubble_relative
from grader.quantities.model import Band, Quantity
from grader.quantities.registry import REGISTRY

COMPUTED_SECTIONS: dict[str, tuple[str, ...]] = {
    "Weights": ("weights", "minimum"),
    "KV cache": ("kv", "block"),
    "Per-GPU memory": ("activations", "memory_total", "free", "capacity", "gpu_memory"),
    "Parallel layout": ("heads", "layers", "gpus", "replicas", "sequences"),
    "Tensor-parallel communication": ("allreduce", "nvlink", "ib", "pcie"),
    "Pipeline": ("pp_handoff", "bubble"),
    "Decode latency and throughput": ("decode", "hbm", "roofline", "throughput"),
    "Prefill and compute": ("prefill", "compute"),
    "Operations": ("availability", "recovery", "load", "storage"),
}
"""Section title -> the families (`Quantity.family`) of computed quantities it holds, in display order. A family
not named here is shown under a section of its own name, after these."""

INPUTS = "Inputs: the deployment's choices"
FACTS = "Scenario facts"

UNITS: dict[str, str] = {
    "bytes": "B",
    "time": "s",
    "rate": "B/s",
    "fraction": "fraction",
    "flop": "FLOP",
    "flops": "FLOP/s",
    "count": "count",
    "throughput": "tokens/s",
}
"""The base unit of each dimension: the unit of every value in `--json`."""


# --- evaluation ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure of a quantity: its value in base units and, when the quantity has several legitimate
    conventions, the convention's name."""

    value: float
    convention: str | None = None


@dataclass(frozen=True)
class Row:
    quantity: Quantity
    section: str
    figures: tuple[Figure, ...]
    """One figure; one per convention; or none where the configuration defines none (no GPU count in view)."""
    band: Band | None = None
    error: str | None = None
    """Why the configuration has no value, when its arithmetic fails (an impossible split)."""

    @property
    def primary(self) -> float | None:
        """The figure to quote: a band's typical value, the first convention, the single value."""
        if self.band is not None:
            return self.band.typical if self.band.typical is not None else self.band.lo
        return self.figures[0].value if self.figures else None


def section_of(q: Quantity) -> str:
    """Facts and inputs by their kind (a band whose range is the scenario's, PCIe's 16-64 GB/s, is a fact);
    computed quantities by their family."""
    if q.kind == "input":
        return INPUTS
    if q.kind == "fact" or (q.scenario_only and q.kind == "band" and not q.depends):
        return FACTS
    for title, families in COMPUTED_SECTIONS.items():
        if q.family in families:
            return title
    return q.family.replace("_", " ").capitalize()


def evaluate(cfg: ServingConfig, quantities: Mapping[str, Quantity] | None = None) -> list[Row]:
    """Every quantity (the registry's unless given) under `cfg`, in the order of the registry."""
    rows: list[Row] = []
    for q in (REGISTRY if quantities is None else quantities).values():
        try:
            value = q.value(cfg)
        except (ArithmeticError, ValueError) as exc:
            rows.append(Row(q, section_of(q), (), error=f"{type(exc).__name__}: {exc}"))
            continue
        if isinstance(value, Band):
            figures = (Figure(value.typical if value.typical is not None else value.lo),)
            rows.append(Row(q, section_of(q), figures, band=value))
        elif isinstance(value, list):
            rows.append(Row(q, section_of(q), tuple(Figure(float(v), label) for v, label in value)))
        else:
            rows.append(Row(q, section_of(q), (Figure(float(value)),)))
    return rows


def sections(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    """The rows grouped for display: the computed sections in their order, then any family no section names,
    then the inputs and the scenario facts. Every row lands in exactly one section."""
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row.section, []).append(row)
    order = [t for t in COMPUTED_SECTIONS if t in grouped]
    order += [t for t in grouped if t not in COMPUTED_SECTIONS and t not in (INPUTS, FACTS)]
    order += [t for t in (INPUTS, FACTS) if t in grouped]
    return [(t, grouped[t]) for t in order]


# --- numbers ------------------------------------------------------------------------------------------------


def _num(x: float) -> str:
    """About four significant figures, thousands separated, no trailing zeros: 350, 43.75, 4.719, 309.2."""
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    decimals = 1 if ax >= 100 else 2 if ax >= 10 else 3 if ax >= 0.01 or ax == 0 else 4
    text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_bytes(value: float, *, binary: bool = True) -> str:
    """Decimal unit first, binary beside it; small exact counts keep their byte count: '4.719 MB (4.5 MiB)'."""
    for decimal, power, name in ((1e12, 2**40, "TB"), (1e9, 2**30, "GB"), (1e6, 2**20, "MB"), (1e3, 2**10, "KB")):
        if abs(value) >= decimal:
            text = f"{_num(value / decimal)} {name}"
            if binary:
                text += f" ({_num(value / power)} {name[0]}iB)"
                if abs(value) < 1e9 and float(value).is_integer():
                    text += f" = {value:,.0f} B"
            return text
    return f"{_num(value)} B"


def format_seconds(value: float) -> str:
    """h and min for operations' budgets, s from 1 s, ms from 0.1 ms (the rubric's "0.19 ms"), us below (the
    PP hand-off's "0.66 us")."""
    if abs(value) >= 7200:
        return f"{_num(value / 3600)} h"
    if abs(value) >= 120:
        return f"{_num(value / 60)} min"
    if abs(value) >= 1:
        return f"{_num(value)} s"
    if abs(value) >= 1e-4:
        return f"{_num(value * 1e3)} ms"
    return f"{_num(value * 1e6)} us"


def _scaled(value: float, units: tuple[tuple[float, str], ...], base: str) -> str:
    for scale, name in units:
        if abs(value) >= scale:
            return f"{_num(value / scale)} {name}"
    return f"{_num(value)} {base}"


def format_count(value: float) -> str:
    """Counts as people say them: 175B parameters, 61,459 tokens, 30.01 sequences."""
    if abs(value) >= 1e9:
        return f"{_num(value / 1e9)}B"
    if abs(value) >= 1e7:
        return f"{_num(value / 1e6)}M"
    return _num(value)


def format_value(value: float, dimension: str, *, binary: bool = True) -> str:
    """One value, in base units, in the unit a person would write for its dimension."""
    if dimension == "bytes":
        return format_bytes(value, binary=binary)
    if dimension == "time":
        return format_seconds(value)
    if dimension == "rate":
        return _scaled(value, ((1e12, "TB/s"), (1e9, "GB/s"), (1e6, "MB/s")), "B/s")
    if dimension == "fraction":
        return f"{_num(value * 100)}%"
    if dimension == "flop":
        return _scaled(value, ((1e15, "PFLOP"), (1e12, "TFLOP"), (1e9, "GFLOP")), "FLOP")
    if dimension == "flops":
        return _scaled(value, ((1e15, "PFLOPS"), (1e12, "TFLOPS"), (1e9, "GFLOPS")), "FLOPS")
    if dimension == "throughput":
        return f"{_num(value)} tokens/s"
    return format_count(value)


def _range(band: Band, dimension: str) -> str:
    lo, hi = (format_value(v, dimension, binary=False) for v in (band.lo, band.hi))
    return f"range {lo} - {hi}"


# --- lines: what each row prints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    label: str
    value: str
    note: str
    warn: bool = False


def _derivation(q: Quantity, quantities: Mapping[str, Quantity]) -> str:
    """Where a quantity without a written formula comes from: the first of its derivations."""
    if not q.derives_from:
        return ""
    names = [quantities[i].label if i in quantities else i for i in q.derives_from[0].inputs]
    names = [n[0].lower() + n[1:] if n[1:2].islower() else n for n in names]
    return "from " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


def lines(row: Row, quantities: Mapping[str, Quantity] | None = None) -> list[Line]:
    """A row as printed lines: the label once, then a value per figure beside its convention, the registry's
    formula and a band's range. A quantity with neither a formula nor named conventions says what it is
    derived from."""
    q = row.quantity
    formula = q.formula
    if not formula and not any(f.convention for f in row.figures):
        formula = _derivation(q, REGISTRY if quantities is None else quantities)
    if row.error is not None or not row.figures:
        why = row.error or "not defined for this configuration"
        return [Line(q.label, "-", "; ".join(x for x in (formula, why) if x))]
    out: list[Line] = []
    for i, fig in enumerate(row.figures):
        parts = [fig.convention or ""]
        if i == 0:
            parts.insert(0, formula)
            if row.band is not None:
                parts.append(_range(row.band, q.dimension))
        note = "; ".join(p for p in parts if p)
        value = format_value(fig.value, q.dimension)
        warn = not math.isfinite(fig.value) or (q.dimension == "bytes" and fig.value < 0)  # no room left
        out.append(Line(q.label if i == 0 else "", value, note, warn=warn))
    return out


# --- header, footer -----------------------------------------------------------------------------------------


def header(cfg: ServingConfig) -> str:
    """'175B, TP4 x PP2, FP16 weights, FP16 KV, batch 32, context 2048' (+ DP when there are replicas)."""
    params = f"{cfg.params / 1e9:g}B"
    split = f"TP{cfg.tp} x PP{cfg.pp}"
    if cfg.dp > 1:
        split += f" x DP{cfg.dp} ({cfg.gpus * cfg.dp} GPUs)"
    attention = "" if cfg.kv_heads == cfg.heads else f", {cfg.kv_heads} KV heads"
    activations = (
        "" if cfg.stated_activation_bytes is None else f", activations {_num(cfg.stated_activation_bytes / 1e9)} GB"
    )
    return (
        f"{params}, {split}, {cfg.weight_precision.upper()} weights, {cfg.kv_precision.upper()} KV"
        f"{attention}, batch {cfg.batch}, context {cfg.context}{activations}"
    )


def hardware_line(cfg: ServingConfig) -> str:
    return (
        f"per GPU: {_num(cfg.gpu_memory_bytes / 1e9)} GB memory, HBM {cfg.hbm_bandwidth / 1e12:g} TB/s, "
        f"{cfg.fp16_flops / 1e12:g} TFLOPS FP16; TP link {cfg.link_bandwidth / 1e9:g} GB/s, "
        f"PP link {cfg.pp_link_bandwidth / 1e9:g} GB/s; {cfg.gpus} GPUs per replica"
    )


def fit_line(rows: list[Row]) -> str | None:
    """Whether the per-GPU total fits the card, in both readings of its "80 GB" (decimal and nvidia-smi's GiB)."""
    by_id = {r.quantity.id: r for r in rows}
    total, memory = by_id.get("per_gpu_total"), by_id.get("gpu_memory")
    if total is None or memory is None or total.primary is None or not memory.figures:
        return None
    need = total.primary
    verdicts = []
    for fig in memory.figures:
        decimal = format_bytes(fig.value, binary=False)
        name = fig.convention or decimal
        verdicts.append(
            f"{'fits' if need <= fig.value else 'does NOT fit'} in {name}{'' if name == decimal else f' = {decimal}'}"
        )
    return f"Fit: the per-GPU total is {format_bytes(need, binary=False)}: " + "; ".join(verdicts) + "."


def conventions(cfg: ServingConfig, rows: list[Row]) -> list[str]:
    """The footer: how to read the table, and where conventions give different numbers."""
    p, m = cfg.pp, cfg.micro_batches
    out = [
        "Where a quantity has several legitimate conventions, each is listed under it with its name; a quantity "
        "with a defensible range shows its typical value and the range the checker accepts.",
        "NVLink: the scenario's 600 GB/s adds both directions, 300 GB/s per direction; TP times are given at both.",
        f"Pipeline bubble, p={p}, m={m}: (p-1)/(m+p-1) = "
        f"{_num(100 * bubble_fraction_of_wall(pp=p, micro_batches=m))}% of wall time (GPipe); "
        f"(p-1)/m = {_num(100 * bubble_relative(pp=p, micro_batches=m))}% relative to ideal (Megatron-LM).",
        "Sizes: 1 GB = 1e9 B, 1 GiB = 2^30 B = 1.074 GB; nvidia-smi's '80 GB' is 80 GiB = 85.9 GB. "
        "Per step = the whole batch; per token = per step / batch.",
    ]
    fit = fit_line(rows)
    if fit:
        out.append(fit)
    return out


# --- output -------------------------------------------------------------------------------------------------


def to_json(rows: list[Row]) -> dict[str, dict[str, object]]:
    """{id: {label, kind, dimension, unit, section, formula, value, band, conventions}}: values in base units;
    `value` is the figure to quote (a band's typical value, the first convention), null where none is defined."""
    out: dict[str, dict[str, object]] = {}
    for row in rows:
        q = row.quantity
        several = len(row.figures) > 1 or any(f.convention for f in row.figures)
        out[q.id] = {
            "label": q.label,
            "kind": q.kind,
            "dimension": q.dimension,
            "unit": UNITS.get(q.dimension, q.dimension),
            "section": row.section,
            "formula": q.formula,
            "value": row.primary,
            "band": None if row.band is None else {"lo": row.band.lo, "hi": row.band.hi, "typical": row.band.typical},
            "conventions": [{"value": f.value, "label": f.convention} for f in row.figures] if several else [],
            "error": row.error,
        }
    return out


def render_text(cfg: ServingConfig, rows: list[Row]) -> str:
    """Plain aligned columns: for pipes, files and tests."""
    groups = sections(rows)
    printed = [(title, [ln for r in rs for ln in lines(r)]) for title, rs in groups]
    every = [ln for _, lns in printed for ln in lns]
    w_label = max(len(ln.label) for ln in every)
    w_value = max(len(ln.value) for ln in every)
    out = [header(cfg), hardware_line(cfg), ""]
    for title, lns in printed:
        out.append(title)
        for ln in lns:
            out.append(f"  {ln.label:<{w_label}}  {ln.value:>{w_value}}  {ln.note}".rstrip())
        out.append("")
    out.append("Conventions")
    out.extend(f"  - {line}" for line in conventions(cfg, rows))
    return "\n".join(out) + "\n"


def render_rich(cfg: ServingConfig, rows: list[Row], file: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=file)
    table = Table(title=Text(header(cfg), style="bold"), caption=Text(hardware_line(cfg)))
    table.add_column("Quantity")
    table.add_column("Value", justify="right", no_wrap=True)
    table.add_column("Formula, convention, range", style="dim")
    for title, rs in sections(rows):
        table.add_row(Text(title, style="bold cyan"), "", "")
        for r in rs:
            for ln in lines(r):
                table.add_row(Text(f"  {ln.label}"), Text(ln.value, style="bold red" if ln.warn else ""), Text(ln.note))
        table.add_section()
    console.print(table)
    console.print(Text("Conventions", style="bold"))
    for line in conventions(cfg, rows):
        console.print(Text(f"  - {line}", style="bold red" if "NOT" in line else ""))


def print_table(cfg: ServingConfig, rows: list[Row], *, file: TextIO | None = None) -> None:
    """rich when writing to a terminal, plain aligned text otherwise."""
    out = file or sys.stdout
    if out.isatty():
        render_rich(cfg, rows, out)
    else:
        out.write(render_text(cfg, rows))
