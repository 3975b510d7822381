"""`python -m grader <command>`: a thin shell over the grading core.

Each command parses its flags, calls one core function and renders the result. Start-up stays fast because
this module imports only the standard library and `grader.errors`; a command imports what it needs (pydantic,
rich, the pipeline) inside its handler.

Adding a command is three lines: an `add_arguments(parser)` function, a `run(args) -> int` handler, and

    COMMANDS["name"] = Command("one-line help", add_arguments, run)

Errors: a `GraderError` (bad transcript, bad rubric, impossible settings) prints `error: <one line>` on stderr
and exits 2, as does a usage error; no traceback is shown for either.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from grader import __version__
from grader.errors import ConfigError, GraderError, TranscriptError

PROG = "python -m grader"
PRECISIONS = ("fp16", "bf16", "fp8", "int8", "int4", "fp32")
"""Mirrors calculator.BYTES_PER_ELEMENT (a test keeps them equal) so `--help` needs no pydantic import."""


@dataclass(frozen=True)
class Command:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]


COMMANDS: dict[str, Command] = {}
"""Subcommand name -> Command, in `--help` order."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (exit 2), in the same shape as a GraderError."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see '{self.prog} --help')\n")


def _lazy(module: str, attr: str) -> Any:
    """Import `module.attr` on first use. A module of this package that does not exist yet is a ConfigError,
    not a traceback; anything missing *inside* it is a real bug and propagates."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise ConfigError(f"{module} is not available in this version of the grader") from None
    return getattr(mod, attr)


# --- argument types ----------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more")
    return value


def _fraction(text: str) -> float:
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be in (0, 1], e.g. 0.6 for 60%")
    return value


# --- calc --------------------------------------------------------------------------------------------------

# flag dest -> (ServingConfig field, scale from the flag's unit to base units)
_CALC_FIELDS: dict[str, tuple[str, float]] = {
    "tp": ("tp", 1),
    "pp": ("pp", 1),
    "dp": ("dp", 1),
    "batch": ("batch", 1),
    "context": ("context", 1),
    "comm_batch": ("comm_batch", 1),
    "micro_batches": ("micro_batches", 1),
    "kv_heads": ("kv_heads", 1),
    "prefill_tokens": ("prefill_tokens", 1),
    "weight_precision": ("weight_precision", 1),
    "kv_precision": ("kv_precision", 1),
    "gpu_memory_gb": ("gpu_memory_bytes", 1e9),
    "hbm_tbps": ("hbm_bandwidth", 1e12),
    "link_gbps": ("link_bandwidth", 1e9),
    "pp_link_gbps": ("pp_link_bandwidth", 1e9),
    "activations_gb": ("activation_bytes", 1e9),
    "utilisation": ("utilisation", 1),
}


def _calc_arguments(p: argparse.ArgumentParser) -> None:
    shape = p.add_argument_group("deployment and workload (defaults: the scenario)")
    shape.add_argument("--tp", type=_positive_int, metavar="N", help="tensor-parallel width (default 8)")
    shape.add_argument("--pp", type=_positive_int, metavar="N", help="pipeline stages (default 1)")
    shape.add_argument("--dp", type=_positive_int, metavar="N", help="replicas (default 1)")
    shape.add_argument("--batch", type=_positive_int, metavar="N", help="concurrent sequences (default 32)")
    shape.add_argument("--context", type=_positive_int, metavar="N", help="tokens per sequence (default 2048)")
    shape.add_argument(
        "--comm-batch", type=_positive_int, metavar="N", help="sequences per step in the all-reduce example (16)"
    )
    shape.add_argument("--micro-batches", type=_positive_int, metavar="N", help="pipeline micro-batches (8)")
    shape.add_argument("--prefill-tokens", type=_positive_int, metavar="N", help="prompt tokens to prefill (2048)")
    model = p.add_argument_group("model")
    model.add_argument("--weight-precision", choices=PRECISIONS, help="default fp16")
    model.add_argument("--kv-precision", choices=PRECISIONS, help="default fp16")
    model.add_argument("--kv-heads", type=_positive_int, metavar="N", help="KV heads: 96 (MHA), 8 (GQA-8), 1 (MQA)")
    hw = p.add_argument_group("hardware")
    hw.add_argument("--gpu-memory-gb", type=_positive_float, metavar="F", help="80 (decimal); 85.9 is 80 GiB")
    hw.add_argument("--hbm-tbps", type=_positive_float, metavar="F", help="HBM bandwidth per GPU (2.039)")
    hw.add_argument(
        "--link-gbps", type=_positive_float, metavar="F", help="TP link per GPU: 600 both directions, 300 one way"
    )
    hw.add_argument("--pp-link-gbps", type=_positive_float, metavar="F", help="stage link (default: --link-gbps)")
    hw.add_argument("--utilisation", type=_fraction, metavar="F", help="share of peak FLOPS in prefill (1.0)")
    hw.add_argument("--activations-gb", type=_non_negative_float, metavar="F", help="activation budget (5)")
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "--json", action="store_true", help="print {id: {label, value, unit, formula, band, conventions, ...}}"
    )
    out.add_argument("--plain", action="store_true", help="plain text even on a terminal")


def calc_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The flags that were given, as ServingConfig fields in base units."""
    overrides: dict[str, object] = {}
    for dest, (field, scale) in _CALC_FIELDS.items():
        value = getattr(args, dest, None)
        if value is not None:
            overrides[field] = value * scale if scale != 1 else value
    if "link_bandwidth" in overrides and "pp_link_bandwidth" not in overrides:
        overrides["pp_link_bandwidth"] = overrides["link_bandwidth"]
    if "activation_bytes" in overrides:  # a budget given is the deployment's own, as a candidate's stated one is
        overrides["stated_activation_bytes"] = overrides["activation_bytes"]
    return overrides


def _calc(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from grader import calc_table
    from grader.calculator import ServingConfig

    try:
        cfg = ServingConfig.from_scenario(**calc_overrides(args))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        flag = next((f"--{d.replace('_', '-')}" for d, (f, _) in _CALC_FIELDS.items() if f == field), field)
        raise ConfigError(f"{flag}: {first['msg']}") from None
    rows = calc_table.evaluate(cfg)  # every quantity of the registry
    if args.json:
        print(json.dumps(calc_table.to_json(rows), indent=2))
    elif args.plain:
        sys.stdout.write(calc_table.render_text(cfg, rows))
    else:
        calc_table.print_table(cfg, rows)
    return 0


COMMANDS["calc"] = Command("the serving arithmetic for the scenario or a variant of it", _calc_arguments, _calc)


# --- grade -------------------------------------------------------------------------------------------------


def _grade_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a transcript file")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    fmt.add_argument("--format", choices=("md", "json"), help="markdown scorecard (default) or the JSON report")
    p.add_argument("--extractor", choices=("rules", "llm"), default="rules", help="claim extractor (default rules)")
    p.set_defaults(format="md")


def _grade(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        raise TranscriptError("no such file" if not path.exists() else "not a file", path=path)
    grade_file = _lazy("grader.pipeline", "grade_file")
    report = grade_file(path, extractor=args.extractor)
    if args.format == "json":
        print(report.model_dump_json(indent=2))
    else:
        render_markdown = _lazy("grader.scorecard", "render_markdown")
        print(render_markdown(report))
    return 0


COMMANDS["grade"] = Command("grade one transcript: a scorecard, or the report as JSON", _grade_arguments, _grade)


# --- batch -------------------------------------------------------------------------------------------------


def _batch_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="DIR_OR_GLOB", help="transcript files, directories or glob patterns")
    p.add_argument("--out", type=Path, required=True, metavar="OUTDIR", help="where reports and summaries go")
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="transcripts graded at once (default 1): threads for the LLM extractor, processes for the rules one",
    )
    p.add_argument("--extractor", choices=("rules", "llm"), default="rules", help="claim extractor (default rules)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")


def _batch(args: argparse.Namespace) -> int:
    """Exit 0 when every transcript was graded, 1 when some are error rows (one line each on stderr)."""
    grade_batch = _lazy("grader.batch", "grade_batch")
    result = grade_batch(
        args.inputs,
        args.out,
        workers=args.workers,
        extractor=args.extractor,
        progress=False if args.no_progress else None,
    )
    for row in result.error_rows:
        print(f"error: {row.error}", file=sys.stderr)
    reused = f" ({result.skipped} unchanged, reused)" if result.skipped else ""
    print(f"{result.graded} graded{reused}, {result.errors} error(s): {result.summary_md}")
    return result.exit_code


COMMANDS["batch"] = Command("grade many transcripts into a folder of reports and a summary", _batch_arguments, _batch)


# --- eval --------------------------------------------------------------------------------------------------

EVAL_FIGURES = (
    "false_alarms",
    "precision",
    "recall",
    "coverage",
    "totals",
    "levels",
    "recommendations",
    "categories",
    "flags",
)
"""Mirrors evaluation.agreement.Agreement.FIGURES (a test keeps them equal) so `--help` stays light."""
_LOWER_IS_BETTER = ("false_alarms",)


def _figure_gate(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in EVAL_FIGURES:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected FIGURE=VALUE with FIGURE one of {', '.join(EVAL_FIGURES)}"
        )
    value = value.strip()
    try:
        v = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a number (0.9 or 90%)") from None
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a share between 0 and 1 (or 0% and 100%)")
    return name, v


def _eval_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Grade every transcript named by DIR/labels*.yaml and measure agreement with the labels: false alarms, "
        "precision, recall, coverage, totals, levels, recommendations, categories and flags, then every "
        "disagreement, one line each. Label a few of your own interviews (schema: shared/corpus/README.md) to "
        "see how far to trust the grader."
    )
    p.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="folders holding labels*.yaml and transcripts")
    p.add_argument("--json", action="store_true", help="the figures and disagreements as JSON")
    p.add_argument(
        "--min",
        dest="mins",
        action="append",
        type=_figure_gate,
        default=[],
        metavar="FIGURE=VALUE",
        help="exit 1 unless FIGURE is at least VALUE (for false_alarms: at most VALUE); repeatable",
    )
    p.add_argument(
        "--max",
        dest="maxes",
        action="append",
        type=_figure_gate,
        default=[],
        metavar="FIGURE=VALUE",
        help="exit 1 unless FIGURE is at most VALUE; repeatable",
    )
    p.add_argument("--extractor", choices=("rules", "llm"), default="rules", help="claim extractor (default rules)")


def _eval(args: argparse.Namespace) -> int:
    """Exit 0 when every gate is met, 1 when one is not (named on stderr)."""
    from grader.evaluation import agreement, run

    floors: dict[str, float] = {}
    ceilings: dict[str, float] = {}
    for name, v in args.mins:  # a floor on false alarms can only mean a ceiling
        (ceilings if name in _LOWER_IS_BETTER else floors)[name] = v
    for name, v in args.maxes:
        ceilings[name] = v
    agg, _ = run.evaluate(args.dirs, extractor=args.extractor)
    print(run.render_json(agg) if args.json else run.render_text(agg, floors=floors, ceilings=ceilings), end="")
    missed = agreement.unmet(agg, floors, ceilings)
    for line in missed:
        print(f"not met: {line}", file=sys.stderr)
    return 1 if missed else 0


COMMANDS["eval"] = Command("measure the grader against labelled interviews (agreement figures)", _eval_arguments, _eval)


# --- interview ---------------------------------------------------------------------------------------------


def _interview_arguments(p: argparse.ArgumentParser) -> None:
    from grader.interview.terminal import add_arguments

    add_arguments(p)


def _interview(args: argparse.Namespace) -> int:
    return int(_lazy("grader.interview.terminal", "run")(args))


COMMANDS["interview"] = Command(
    "a mock interview in the terminal (offline unless --llm)", _interview_arguments, _interview
)


# --- entry point -------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Mock-interview coach and grader: serve a 175B LLM on 8x A100 nodes.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, cmd in COMMANDS.items():
        sp = sub.add_parser(name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(sp)
        sp.set_defaults(handler=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except GraderError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `python -m grader calc | head`: stop quietly; point stdout at devnull so the interpreter's final flush
        # does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
