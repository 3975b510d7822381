"""Render `reference()` for people: the `calc` table, as rich on a terminal and aligned plain text elsewhere.

Values stay in base units in the calculator; this module only chooses a human unit (GB with GiB beside it,
ms or us, %) and groups the rows. `rich` is imported only when a terminal asks for it.
"""

from __future__ import annotations

import sys
from typing import TextIO

from grader.calculator import (
    SMALL_ALLREDUCE_LATENCY_S,
    Quantity,
    ServingConfig,
    bubble_fraction_of_wall,
    bubble_relative,
    transfer_time_s,
)

SECTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("Weights", ("weights_total", "weights_per_gpu", "min_gpus")),
    (
        "KV cache",
        (
            "kv_per_token",
            "kv_per_sequence",
            "kv_total",
            "kv_per_token_per_gpu",
            "kv_per_gpu",
            "kv_block_per_gpu",
        ),
    ),
    (
        "Per-GPU memory",
        ("activations", "free_per_gpu", "per_gpu_total", "fits", "max_tokens", "max_sequences"),
    ),
    (
        "Tensor parallel",
        (
            "heads_per_gpu",
            "allreduce_message",
            "allreduce_ring_bytes",
            "allreduce_per_layer",
            "allreduces_per_step",
            "tp_volume_per_step",
            "tp_volume_per_token",
            "tp_comm_time",
        ),
    ),
    ("Pipeline", ("pp_handoff_bytes", "pp_handoff_time", "bubble")),
    ("Latency and compute", ("decode_latency", "decode_latency_with_kv", "compute_bound_batch")),
    ("Prefill", ("prefill_flops", "prefill_time")),
]
"""Row groups in display order. A quantity reference() gains later lands under "Other" until placed here."""

_PP_ONLY = {"pp_handoff_bytes", "pp_handoff_time"}


# --- numbers ------------------------------------------------------------------------------------------------


def _num(x: float) -> str:
    """About four significant figures, thousands separated, no trailing zeros: 350, 43.75, 4.719, 309.2."""
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    decimals = 1 if ax >= 100 else 2 if ax >= 10 else 3 if ax >= 0.01 or ax == 0 else 4
    text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_bytes(value: float) -> str:
    """Decimal unit first, binary beside it; small exact counts keep their byte count: '4.719 MB (4.5 MiB)'."""
    for decimal, binary, name in ((1e12, 2**40, "TB"), (1e9, 2**30, "GB"), (1e6, 2**20, "MB"), (1e3, 2**10, "KB")):
        if abs(value) >= decimal:
            binary_name = name[0] + "iB"
            text = f"{_num(value / decimal)} {name} ({_num(value / binary)} {binary_name})"
            if abs(value) < 1e9 and float(value).is_integer():
                text += f" = {value:,.0f} B"
            return text
    return f"{_num(value)} B"


def format_seconds(value: float) -> str:
    """s from 1 s, ms from 0.1 ms (the rubric's "0.19 ms"), us below (the PP hand-off's "0.66 us")."""
    if value >= 1:
        return f"{_num(value)} s"
    if value >= 1e-4:
        return f"{_num(value * 1e3)} ms"
    return f"{_num(value * 1e6)} us"


def format_flops(value: float) -> str:
    for scale, name in ((1e15, "PFLOP"), (1e12, "TFLOP"), (1e9, "GFLOP")):
        if value >= scale:
            return f"{_num(value / scale)} {name}"
    return f"{_num(value)} FLOP"


def format_value(q: Quantity) -> str:
    if q.unit == "B":
        return format_bytes(q.value)
    if q.unit == "B/s":
        return f"{_num(q.value / 1e9)} GB/s"
    if q.unit == "s":
        return format_seconds(q.value)
    if q.unit == "fraction":
        return f"{_num(q.value * 100)}%"
    if q.unit == "FLOP":
        return format_flops(q.value)
    if q.unit == "bool":
        return "yes" if q.value else "NO"
    return _num(q.value)


# --- rows, header, conventions ------------------------------------------------------------------------------


def _precision(p: str) -> str:
    return p.upper()


def header(cfg: ServingConfig) -> str:
    """'175B, TP4 x PP2, FP16 weights, FP16 KV, batch 32, context 2048' (+ DP when there are replicas)."""
    params = f"{cfg.params / 1e9:g}B"
    split = f"TP{cfg.tp} x PP{cfg.pp}"
    if cfg.dp > 1:
        split += f" x DP{cfg.dp} ({cfg.gpus * cfg.dp} GPUs)"
    attention = "" if cfg.kv_heads == cfg.heads else f", {cfg.kv_heads} KV heads"
    return (
        f"{params}, {split}, {_precision(cfg.weight_precision)} weights, {_precision(cfg.kv_precision)} KV"
        f"{attention}, batch {cfg.batch}, context {cfg.context}"
    )


def hardware_line(cfg: ServingConfig) -> str:
    return (
        f"per GPU: {_num(cfg.gpu_memory_bytes / 1e9)} GB memory, HBM {cfg.hbm_bandwidth / 1e12:g} TB/s, "
        f"{cfg.fp16_flops / 1e12:g} TFLOPS FP16; TP link {cfg.link_bandwidth / 1e9:g} GB/s, "
        f"PP link {cfg.pp_link_bandwidth / 1e9:g} GB/s; {cfg.gpus} GPUs per replica"
    )


def sections(quantities: dict[str, Quantity]) -> list[tuple[str, list[Quantity]]]:
    """The quantities grouped for display; unknown names are kept, under "Other", never dropped."""
    placed: set[str] = set()
    out: list[tuple[str, list[Quantity]]] = []
    for title, names in SECTIONS:
        rows = [quantities[n] for n in names if n in quantities]
        placed.update(q.name for q in rows)
        if rows:
            out.append((title, rows))
    rest = [q for name, q in quantities.items() if name not in placed]
    if rest:
        out.append(("Other", rest))
    return out


def display_formula(q: Quantity, cfg: ServingConfig) -> str:
    if q.name in _PP_ONLY and cfg.pp == 1:
        return f"{q.formula} (no stage boundary at pp=1)"
    return q.formula


def conventions(cfg: ServingConfig, quantities: dict[str, Quantity]) -> list[str]:
    """The footer: where two conventions give different numbers, both, so neither surprises a reader."""
    lines: list[str] = []
    vol = quantities.get("tp_volume_per_step")
    if vol is not None and cfg.tp > 1:
        t_link = transfer_time_s(nbytes=vol.value, bandwidth=cfg.link_bandwidth)
        t_dir = transfer_time_s(nbytes=vol.value, bandwidth=cfg.link_bandwidth_per_direction)
        latency = transfer_time_s(nbytes=0, bandwidth=1.0, latency_s=SMALL_ALLREDUCE_LATENCY_S, count=2 * cfg.layers)
        lines.append(
            f"NVLink: the scenario's 600 GB/s adds both directions, 300 GB/s each way. TP all-reduce per step: "
            f"{format_seconds(t_link)} at {cfg.link_bandwidth / 1e9:g} GB/s, {format_seconds(t_dir)} at "
            f"{cfg.link_bandwidth_per_direction / 1e9:g} GB/s per direction; latency of {2 * cfg.layers} small "
            f"all-reduces (~{SMALL_ALLREDUCE_LATENCY_S * 1e6:g} us each) adds ~{format_seconds(latency)}."
        )
    elif cfg.tp == 1:
        lines.append("NVLink: 600 GB/s adds both directions, 300 GB/s each way (no TP all-reduce at tp=1).")
    p, m = cfg.pp, cfg.micro_batches
    lines.append(
        f"Pipeline bubble, p={p}, m={m}: (p-1)/(m+p-1) = "
        f"{_num(100 * bubble_fraction_of_wall(pp=p, micro_batches=m))}% of wall time (GPipe); "
        f"(p-1)/m = {_num(100 * bubble_relative(pp=p, micro_batches=m))}% relative to ideal (Megatron-LM)."
    )
    lines.append(
        "Sizes: 1 GB = 1e9 B, 1 GiB = 2^30 B = 1.074 GB; nvidia-smi's '80 GB' is 80 GiB = 85.9 GB. "
        "Per step = the whole batch; per token = per step / batch."
    )
    return lines


# --- output -------------------------------------------------------------------------------------------------


def to_json(quantities: dict[str, Quantity]) -> dict[str, dict[str, object]]:
    return {
        name: {"label": q.label, "value": q.value, "unit": q.unit, "formula": q.formula}
        for name, q in quantities.items()
    }


def render_text(cfg: ServingConfig, quantities: dict[str, Quantity]) -> str:
    """Plain aligned columns: for pipes, files and tests."""
    groups = sections(quantities)
    rows = [(q.label, format_value(q)) for _, qs in groups for q in qs]
    w_label = max(len(r[0]) for r in rows)
    w_value = max(len(r[1]) for r in rows)
    out = [header(cfg), hardware_line(cfg), ""]
    for title, qs in groups:
        out.append(f"{title}")
        for q in qs:
            line = f"  {q.label:<{w_label}}  {format_value(q):>{w_value}}  {display_formula(q, cfg)}"
            out.append(line.rstrip())
        out.append("")
    out.append("Conventions")
    out.extend(f"  - {line}" for line in conventions(cfg, quantities))
    return "\n".join(out) + "\n"


def render_rich(cfg: ServingConfig, quantities: dict[str, Quantity], file: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=file)
    table = Table(title=Text(header(cfg), style="bold"), caption=Text(hardware_line(cfg)))
    table.add_column("Quantity")
    table.add_column("Value", justify="right", no_wrap=True)
    table.add_column("Formula", style="dim")
    for title, qs in sections(quantities):
        table.add_row(Text(title, style="bold cyan"), "", "")
        for q in qs:
            warn = q.unit == "bool" and not q.value
            table.add_row(
                Text(f"  {q.label}"),
                Text(format_value(q), style="bold red" if warn else ""),
                Text(display_formula(q, cfg)),
            )
        table.add_section()
    console.print(table)
    console.print(Text("Conventions", style="bold"))
    for line in conventions(cfg, quantities):
        console.print(Text(f"  - {line}"))


def print_table(cfg: ServingConfig, quantities: dict[str, Quantity], *, file: TextIO | None = None) -> None:
    """rich when writing to a terminal, plain aligned text otherwise."""
    out = file or sys.stdout
    if out.isatty():
        render_rich(cfg, quantities, out)
    else:
        out.write(render_text(cfg, quantities))
