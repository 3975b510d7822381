"""Units as candidates say them, and their value in base units (bytes, bytes/s, seconds, fractions).

Interview speech mixes conventions freely: "44 gigs", "200 Gb/s", "0.19ms", "eleven percent". This module
turns each spelling into one canonical unit (the report's spelling) and a factor to base units, and keeps the
distinctions that matter for grading: bits vs bytes (x8) and decimal vs binary (GB vs GiB, x1.074).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Dimension = Literal["bytes", "rate", "time", "fraction", "count", "flops", "flop", "throughput"]


@dataclass(frozen=True)
class Unit:
    canonical: str
    dimension: Dimension
    factor: float
    bits: bool = False
    binary: bool = False


def _u(canonical: str, dimension: Dimension, factor: float, **kw: bool) -> Unit:
    return Unit(canonical, dimension, factor, **kw)


_BYTE_PREFIX = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
_BIN_PREFIX = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}
_WORD_PREFIX = {"": "", "kilo": "K", "mega": "M", "giga": "G", "tera": "T", "peta": "P"}

UNITS: dict[str, Unit] = {}
for p, f in _BYTE_PREFIX.items():
    UNITS[f"{p}B"] = _u(f"{p}B", "bytes", f)
    UNITS[f"{p}B/s"] = _u(f"{p}B/s", "rate", f)
    if p:
        UNITS[f"{p}b"] = _u(f"{p}b", "bytes", f / 8, bits=True)
        UNITS[f"{p}b/s"] = _u(f"{p}b/s", "rate", f / 8, bits=True)
for p, f in _BIN_PREFIX.items():
    UNITS[f"{p}B"] = _u(f"{p}B", "bytes", f, binary=True)
    UNITS[f"{p}B/s"] = _u(f"{p}B/s", "rate", f, binary=True)
UNITS.update(
    {
        "s": _u("s", "time", 1.0),
        "ms": _u("ms", "time", 1e-3),
        "us": _u("us", "time", 1e-6),
        "ns": _u("ns", "time", 1e-9),
        "min": _u("min", "time", 60.0),
        "h": _u("h", "time", 3600.0),
        "d": _u("d", "time", 86400.0),
        "%": _u("%", "fraction", 1e-2),
        "count": _u("count", "count", 1.0),
        "tokens/s": _u("tokens/s", "throughput", 1.0),
        "x": _u("x", "count", 1.0),
        "TFLOPS": _u("TFLOPS", "flops", 1e12),
        "PFLOPS": _u("PFLOPS", "flops", 1e15),
        "GFLOPS": _u("GFLOPS", "flops", 1e9),
        "FLOP": _u("FLOP", "flop", 1.0),
        "TFLOP": _u("TFLOP", "flop", 1e12),
        "GFLOP": _u("GFLOP", "flop", 1e9),
        "PFLOP": _u("PFLOP", "flop", 1e15),
    }
)

# Spoken and written spellings -> canonical. Matched case-sensitively first (Gb vs GB matters), then folded.
_ALIASES: dict[str, str] = {
    "bytes": "B",
    "byte": "B",
    "gigs": "GB",
    "gig": "GB",
    "megs": "MB",
    "meg": "MB",
    "gigabytes a second": "GB/s",
    "gigabytes per second": "GB/s",
    "gigabits a second": "Gb/s",
    "gigabits per second": "Gb/s",
    "terabytes a second": "TB/s",
    "terabytes per second": "TB/s",
    "gigs a second": "GB/s",
    "gigs per second": "GB/s",
    "gig a second": "GB/s",
    "milli": "ms",
    "mils": "ms",
    "micros": "us",
    "hours": "h",
    "hour": "h",
    "hrs": "h",
    "hr": "h",
    "days": "d",
    "day": "d",
    "gbs": "GB",
    "gbytes": "GB",
    "gbps": "Gb/s",
    "gbit/s": "Gb/s",
    "gbits/s": "Gb/s",
    "gigabit": "Gb/s",
    "gigabits": "Gb",
    "megabits": "Mb",
    "terabits": "Tb",
    "gbit": "Gb",
    "gbits": "Gb",
    "gbyte/s": "GB/s",
    "gb/sec": "GB/s",
    "gbytes/s": "GB/s",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "msec": "ms",
    "millisecond": "ms",
    "milliseconds": "ms",
    "millis": "ms",
    "μs": "us",
    "µs": "us",
    "usec": "us",
    "microsecond": "us",
    "microseconds": "us",
    "nanosecond": "ns",
    "nanoseconds": "ns",
    "minute": "min",
    "minutes": "min",
    "mins": "min",
    "percent": "%",
    "per cent": "%",
    "pct": "%",
    "tflops": "TFLOPS",
    "tflop/s": "TFLOPS",
    "teraflops": "TFLOPS",
    "pflops": "PFLOPS",
    "gflops": "GFLOPS",
    "tflop": "TFLOP",
    "gflop": "GFLOP",
    "pflop": "PFLOP",
    "flop": "FLOP",
}
for word, p in _WORD_PREFIX.items():
    if word:
        _ALIASES[f"{word}bytes"] = f"{p}B"
        _ALIASES[f"{word}byte"] = f"{p}B"
        _ALIASES[f"{word}bytes per second"] = f"{p}B/s"
        _ALIASES[f"{word}bits per second"] = f"{p}b/s"
for p in ("K", "M", "G", "T"):
    _ALIASES[f"{p.lower()}b"] = f"{p}B"  # a lowercase "gb" in speech means gigabytes; "Gb" is kept as bits
    _ALIASES[f"{p.lower()}b/s"] = f"{p}B/s"
    _ALIASES[f"{p.lower()}ib"] = f"{p}iB"
_ALIASES["kb"] = "KB"
_ALIASES["kib"] = "KiB"


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> Unit | None:
    """The unit a spelling means, or None. 'Gb/s' and 'Gbps' are bits; 'GB/s', 'GBps', 'gb/s' and 'gigs' bytes.

    Case matters before it is folded: an exact spelling wins, then the same with 'ps'/'per second' written
    '/s', and only then the case-folded aliases of speech."""
    raw = re.sub(r"\s+", " ", text.strip())
    if not raw:
        return None
    norm = re.sub(r"\s*(?:/|per)\s*(?:s|sec|second)$", "/s", raw)
    norm = re.sub(r"(?<=[bB])ps$", "/s", norm)
    for candidate in (raw, norm):
        if candidate in UNITS:
            return UNITS[candidate]
    if raw.endswith("Bs") and raw[:-1] in UNITS:  # "GBs"
        return UNITS[raw[:-1]]
    if raw in _PLURAL_WORK:  # "716 TFLOPs" of work, where "312 TFLOPS" is a rate
        return UNITS[_PLURAL_WORK[raw]]
    for candidate in (raw.lower(), norm.lower()):
        if candidate in _ALIASES:
            return UNITS[_ALIASES[candidate]]
        if candidate in _CASELESS:  # "MS", "Tflop": no bits/bytes distinction to protect
            return UNITS[_CASELESS[candidate]]
    return None


_PLURAL_WORK = {f"{p}FLOPs": f"{p}FLOP" for p in ("", "G", "T", "P")}
_CASELESS = {
    k.lower(): k for k in ("s", "ms", "us", "ns", "min", "TFLOPS", "PFLOPS", "GFLOPS", "TFLOP", "GFLOP", "PFLOP")
}


def unit_spellings() -> list[str]:
    """Every spelling `parse_unit` knows, longest first, for building a case-insensitive regex alternation.

    The regex only finds the text; `parse_unit` then decides what it means with case intact ("Gb" is bits)."""
    spellings = {k for k in UNITS if k not in {"count", "x"}} | set(_ALIASES) | set(_PLURAL_WORK)
    spellings |= {f"{u[:-2]}ps" for u in UNITS if u.endswith("B/s") or u.endswith("b/s")}
    spellings |= {f"{u[:-2]}/sec" for u in UNITS if u.endswith("/s")}
    return sorted(spellings, key=len, reverse=True)


def to_base(value: float, unit: Unit) -> float:
    return value * unit.factor


def in_unit(value_base: float, canonical: str) -> float:
    """A base-unit value expressed in the named canonical unit (for "expected" in the claim's own unit)."""
    return value_base / UNITS[canonical].factor


# --- comparing figures across spellings ------------------------------------------------------------------

COUNT_NOUNS = frozenset(
    {"count", "x", "tokens", "token", "sequences", "sequence", "heads", "head", "layers", "gpus", "nodes", "replicas"}
)
"""Units that are counts of things: labels and reports may name the thing counted ("24 heads") or say `count`."""


def base_value(value: float, unit: str) -> tuple[str, float] | None:
    """(family, value in base units) for comparing two figures said in different units, or None if the unit is
    unknown. Counts of any noun compare with counts, and FLOP and FLOP/s figures with counts of FLOPs (the labels'
    convention: "360 TFLOP" is 3.6e14)."""
    if unit.lower() in COUNT_NOUNS:
        return "count", value
    u = parse_unit(unit)
    if u is None:
        return None
    family = "count" if u.dimension in ("flop", "flops", "count", "throughput") else u.dimension
    return family, value * u.factor
