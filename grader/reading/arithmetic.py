"""Written arithmetic: find it ("175GB/2/4 = 21.875 GB") and redo it.

A candidate who shows their working is graded on it: "350/8 = 48 GB" is an arithmetic slip even though 48 is
within 10% of 43.75, and "175GB/2/4 = 21.875 GB" is right arithmetic on a wrong premise.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable

from grader.units import parse_unit

_EQUALS_TAIL = re.compile(
    r"(?:=|≈|->|→|\bis\b|\bgives\b|\bequals\b|,?\s*so\b|,\s*(?:that's|that is|which is))\s*(?:~|≈|about|roughly)?\s*$"
)
_LABEL_WORD = r"(?:\s*(?!x\b|times\b|over\b|plus\b|minus\b|is\b|so\b|equals\b)[A-Za-z][\w/]*|\s*\([\w ,/+-]+\))"
_EXPR_PIECE = re.compile(
    rf"(?P<num>\d[\d,]*(?:\.\d+)?(?:[eE][+-]?\d+)?[kKB]?{_LABEL_WORD}{{0,4}})"
    r"|(?P<op>[×x*/÷+\-])|(?P<paren>[()])|(?P<ws>\s+)|(?P<stop>.)",
    re.S,
)
_EXPR_OPS = re.compile(r"[×x*/÷+\-]")


_SPOKEN_OPS = (
    (re.compile(r"\btimes\b", re.I), " × "),
    (re.compile(r"\bdivided by\b", re.I), " / "),
    (re.compile(r"\bover\b(?=\s*\d)", re.I), " / "),
    (re.compile(r"\bplus\b", re.I), " + "),
    (re.compile(r"\bminus\b", re.I), " - "),
)


def _written(text: str) -> str:
    """Arithmetic said aloud, as written: "350 divided by 8" -> "350 / 8"."""
    for pat, op in _SPOKEN_OPS:
        text = pat.sub(op, text)
    return text


def expression_before(sentence: str, num_start: int) -> str | None:
    """The written (or spoken) arithmetic ending in '=' (or "is", "->", "so") just before a number: the run of
    numbers (each with up to two label words: "8 GPUs", "2 bytes (FP16)"), operators and brackets, back to the
    first word that is not a number's label. Spoken operators come back written ("350 / 4")."""
    head = _written(sentence[:num_start])
    eq = _EQUALS_TAIL.search(head)
    if not eq:
        return None
    pieces = list(_EXPR_PIECE.finditer(head[max(0, eq.start() - 160) : eq.start()]))
    run: list[re.Match[str]] = []
    for piece in reversed(pieces):
        if piece.group("stop") is not None:
            break
        run.append(piece)
    while run and not (run[-1].group("num") or run[-1].group("paren") == "("):
        run.pop()  # the run starts at a number or an opening bracket
    expr = "".join(p.group(0) for p in reversed(run)).strip()
    if not any(p.group("num") for p in run) or not _EXPR_OPS.search(re.sub(r"\d+-way", "", expr)):
        return None
    if evaluate(expr) is None:
        return None
    return expr


_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_EXPR_TOKEN = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?P<space>\s*)"
    r"(?:(?P<scale>thousand|million|billion|trillion)\b\s*)?"
    r"(?P<unit>GB/s|Gb/s|TB/s|MB/s|GiB|MiB|KiB|GB|MB|KB|kB|TB|Gb|[kK](?![A-Za-z])|B(?![a-z])|bytes?|ms|us|μs|µs|s\b)?"
    r"|(?P<op>[()+\-*/×÷])|(?P<x>\bx\b)|(?P<word>[A-Za-z_][A-Za-z_0-9]*)"
)


def _operand(m: re.Match[str]) -> tuple[float, bool]:
    """One number of written arithmetic in base units, and whether it carried a unit. "175B" (no space) is
    billions of parameters and "2 B" bytes; "2K" tokens is 2,048."""
    value = float(m.group("num").replace(",", "")) * _SCALE.get((m.group("scale") or "").lower(), 1.0)
    unit = m.group("unit")
    if not unit:
        return value, False
    if unit in ("k", "K"):
        return value * 1024, False
    if unit == "B":
        return (value * 1e9, False) if not m.group("space") and value < 1000 and value >= 7 else (value, False)
    if unit.lower().startswith("byte"):
        return value, False
    u = parse_unit(unit)
    return (value * u.factor, True) if u is not None else (value, False)


def evaluate(expr: str) -> tuple[float, bool] | None:
    """Redo written arithmetic: '175GB/2/4' -> (21.875e9, True). Units become base units; words are dropped
    ('350GB FP16 / 8 GPUs'). Returns (value, whether any operand had a unit), or None when it is not arithmetic."""
    parts: list[str] = []
    has_unit = False
    expr = re.sub(r"\([A-Za-z][\w ,/+-]*\)", " ", expr)  # "2 bytes (FP16)", "2 (K,V)": a label, not a bracket
    for m in _EXPR_TOKEN.finditer(expr):
        if m.group("num"):
            value, with_unit = _operand(m)
            has_unit |= with_unit
            parts.append(repr(value))
        elif m.group("op"):
            parts.append({"×": "*", "÷": "/"}.get(m.group("op"), m.group("op")))
        elif m.group("x"):
            parts.append("*")
    text = re.sub(r"^[-+*/ ]+", "", " ".join(parts).strip())
    if not text or not re.search(r"[-+*/]", text):
        return None
    try:
        return _eval(ast.parse(text, mode="eval").body), has_unit
    except (SyntaxError, ValueError, ZeroDivisionError, TypeError, OverflowError):
        return None


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand)
    raise ValueError("not arithmetic")


def result_candidates(expr: str, unit_factor: float) -> list[float]:
    """What the expression gives, in the claim's unit: with units on the operands, from base units; without, the
    operands may be in the claim's unit ("350/8 = 43.75 GB") or in base units ("12,288 x 16 x 2 = 393 KB")."""
    got = evaluate(expr)
    if got is None:
        return []
    value, has_unit = got
    return [value / unit_factor] if has_unit else [value, value / unit_factor]
