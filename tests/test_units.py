"""Unit spellings as candidates write and say them, pinned: canonical unit, base-unit factor, bits vs bytes,
decimal vs binary. Every row asserts concrete values, so a changed factor or a lost spelling fails."""

from __future__ import annotations

import pytest

from grader.reading.figures import figures_in, words_value
from grader.units import UNITS, in_unit, parse_unit, to_base, unit_spellings

GB, GIB = 1e9, 2.0**30

# (text as written, number, unit text, canonical, dimension, value in base units, bits, binary)
SPELLINGS = [
    ("43.75GB", "43.75", "GB", "GB", "bytes", 43.75e9, False, False),
    ("~44 gigs", "44", "gigs", "GB", "bytes", 44e9, False, False),
    ("350 gigabytes", "350", "gigabytes", "GB", "bytes", 350e9, False, False),
    ("0.19ms", "0.19", "ms", "ms", "time", 0.19e-3, False, False),
    ("200 Gb/s", "200", "Gb/s", "Gb/s", "rate", 25e9, True, False),
    ("200 Gbps", "200", "Gbps", "Gb/s", "rate", 25e9, True, False),
    ("25 GB/s", "25", "GB/s", "GB/s", "rate", 25e9, False, False),
    ("2 TB/s", "2", "TB/s", "TB/s", "rate", 2e12, False, False),
    ("eleven percent", "eleven", "percent", "%", "fraction", 0.11, False, False),
    ("4.5 MiB", "4.5", "MiB", "MiB", "bytes", 4.5 * 2**20, False, True),
    ("0.65 μs", "0.65", "μs", "us", "time", 0.65e-6, False, False),  # U+03BC GREEK SMALL LETTER MU
    ("0.65 µs", "0.65", "µs", "us", "time", 0.65e-6, False, False),  # U+00B5 MICRO SIGN
    ("1.5 us", "1.5", "us", "us", "time", 1.5e-6, False, False),
    ("326 GiB", "326", "GiB", "GiB", "bytes", 326 * GIB, False, True),
    ("393 kB", "393", "kB", "KB", "bytes", 393e3, False, False),
    ("393 KB", "393", "KB", "KB", "bytes", 393e3, False, False),
    ("1.18 MB", "1.18", "MB", "MB", "bytes", 1.18e6, False, False),
    ("350 Gb", "350", "Gb", "Gb", "bytes", 43.75e9, True, False),
    ("32 GB/sec", "32", "GB/sec", "GB/s", "rate", 32e9, False, False),
    ("25 GBps", "25", "GBps", "GB/s", "rate", 25e9, False, False),
    ("200 gigabits per second", "200", "gigabits per second", "Gb/s", "rate", 25e9, True, False),
    ("600 gigabytes per second", "600", "gigabytes per second", "GB/s", "rate", 600e9, False, False),
    ("4,718,592 bytes", "4,718,592", "bytes", "B", "bytes", 4_718_592, False, False),
    ("forty-four gigabytes", "forty-four", "gigabytes", "GB", "bytes", 44e9, False, False),
    ("150 milliseconds", "150", "milliseconds", "ms", "time", 0.15, False, False),
    ("2 seconds", "2", "seconds", "s", "time", 2.0, False, False),
    ("5 minutes", "5", "minutes", "min", "time", 300.0, False, False),
    ("12.5 per cent", "12.5", "per cent", "%", "fraction", 0.125, False, False),
    ("11%", "11", "%", "%", "fraction", 0.11, False, False),
    ("716.8 TFLOPs", "716.8", "TFLOPs", "TFLOP", "flop", 716.8e12, False, False),
    ("312 TFLOPS", "312", "TFLOPS", "TFLOPS", "flops", 312e12, False, False),
]


@pytest.mark.parametrize(
    ("text", "num", "unit_text", "canonical", "dim", "base", "bits", "binary"),
    SPELLINGS,
    ids=[row[0] for row in SPELLINGS],
)
def test_spelling(
    text: str, num: str, unit_text: str, canonical: str, dim: str, base: float, bits: bool, binary: bool
) -> None:
    unit = parse_unit(unit_text)
    assert unit is not None
    assert (unit.canonical, unit.dimension, unit.bits, unit.binary) == (canonical, dim, bits, binary)
    value = float(num.replace(",", "")) if num[0].isdigit() else words_value(num)
    assert value is not None
    assert to_base(value, unit) == pytest.approx(base, rel=1e-12)
    (fig,) = figures_in(text)  # the reader finds the same figure in the text as written
    assert (fig.unit, fig.value) == (canonical, value)
    assert fig.base == pytest.approx(base, rel=1e-12)


@pytest.mark.parametrize(
    ("bits", "bytes_"), [("Gb", "GB"), ("Mb", "MB"), ("Tb", "TB"), ("Gb/s", "GB/s"), ("Mb/s", "MB/s"), ("Gbps", "GBps")]
)
def test_bits_are_an_eighth_of_bytes(bits: str, bytes_: str) -> None:
    b, B = parse_unit(bits), parse_unit(bytes_)
    assert b is not None and B is not None
    assert b.bits and not B.bits
    assert b.factor * 8 == B.factor


@pytest.mark.parametrize(
    ("binary", "decimal", "ratio"),
    [("KiB", "KB", 1.024), ("MiB", "MB", 1.048576), ("GiB", "GB", 1.073741824), ("TiB", "TB", 1.099511627776)],
)
def test_binary_prefixes_are_larger_than_decimal(binary: str, decimal: str, ratio: float) -> None:
    bi, de = parse_unit(binary), parse_unit(decimal)
    assert bi is not None and de is not None
    assert bi.binary and not de.binary
    assert bi.factor / de.factor == pytest.approx(ratio, rel=1e-12)


def test_80_gib_is_85_9_decimal_gb() -> None:
    assert to_base(80, UNITS["GiB"]) == 85_899_345_920
    assert in_unit(85_899_345_920, "GB") == pytest.approx(85.899345920)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("GB", "GB"),
        ("gb", "GB"),
        ("Gb", "Gb"),
        ("gigs", "GB"),
        ("gig", "GB"),
        ("GBs", "GB"),
        ("gbps", "Gb/s"),
        ("Gbit/s", "Gb/s"),
        ("gb/s", "GB/s"),
        ("GB per second", "GB/s"),
        ("Gb per sec", "Gb/s"),
        ("MS", "ms"),
        ("msec", "ms"),
        ("usec", "us"),
        ("microseconds", "us"),
        ("nanoseconds", "ns"),
        ("pct", "%"),
        ("Tflop", "TFLOP"),
        ("teraflops", "TFLOPS"),
        ("kib", "KiB"),
        ("mib", "MiB"),
        ("gib", "GiB"),
    ],
)
def test_alias(text: str, canonical: str) -> None:
    unit = parse_unit(text)
    assert unit is not None
    assert unit.canonical == canonical


@pytest.mark.parametrize("text", ["", "parameters", "GPUs", "tokens", "layers", "B/token", "heads"])
def test_not_a_unit(text: str) -> None:
    assert parse_unit(text) is None


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("eleven", 11),
        ("forty-four", 44),
        ("forty four", 44),
        ("two hundred", 200),
        ("three thousand", 3000),
        ("one hundred and", None),
        ("zero", 0),
        ("ninety nine", 99),
        ("twelve hundred", 1200),
        ("banana", None),
        ("", None),
    ],
)
def test_words_value(words: str, value: float | None) -> None:
    assert words_value(words) == value


def test_a_few_hundred_is_not_a_number() -> None:
    """'a few hundred milliseconds' must not read as 100 ms: a number phrase cannot start with a scale word."""
    assert figures_in("should take a few hundred milliseconds") == []
    (fig,) = figures_in("two hundred milliseconds")
    assert (fig.value, fig.unit) == (200, "ms")


def test_every_canonical_unit_is_spelled_and_parses_to_itself() -> None:
    spellings = set(unit_spellings())
    for canonical in UNITS:
        if canonical in ("count", "x"):
            continue
        assert canonical in spellings
        unit = parse_unit(canonical)
        assert unit is not None and unit.canonical == canonical


def test_spellings_are_longest_first() -> None:
    """The regex alternation must try 'GB/s' before 'GB' and 'milliseconds' before 'ms'."""
    lengths = [len(s) for s in unit_spellings()]
    assert lengths == sorted(lengths, reverse=True)
