"""Grade many transcripts into one output directory: a report per transcript, a summary, resumable reruns.

    result = grade_batch(["transcripts/", "more/*.json"], Path("out"), workers=8, extractor="llm")

Inputs are directories (searched recursively for *.yaml, *.yml, *.json, *.txt, *.md; hidden directories and
files, the output directory and reviewer-override sidecars `*.overrides.yaml` are skipped), files, or glob
patterns; the order is stable (each input in turn, its files sorted by path). `skip_dirs` (the app passes its
practice sessions and Replay uploads) are left out of a folder or glob search that reaches into them, unless
the input itself is inside one. A file without a transcript
suffix is refused (an error row), whether named or matched. With `roots` (the app passes its batch folder,
COACH_BATCH_ROOT), an input outside them is a `ConfigError` before anything is listed, and files that a
symlink leads outside are left out. For each transcript `<id>.json` (the report) and `<id>.md` (the
scorecard) are written as soon as it is graded; `<id>` is the file's stem, made unique when two files share
one. At the end `summary.csv`, `summary.md` and `summary.jsonl` (the rows as JSON) list every input in input
order.

Reviewer overrides are applied: a transcript with a sidecar `<file>.overrides.yaml` (saved by Replay, see
grader/overrides.py) is graded, then the reviewer's sub-scores replace the machine's, so its report, scorecard
and row carry the reviewed total (the row also keeps the machine's, `machine_total`); a sidecar that does not
load is an error row naming it. Editing a sidecar regrades its transcript on the next run.

Failures are rows, never gaps: a file that does not load is an error row carrying the `GraderError` one-line
message, an unexpected exception in one transcript is an error row naming the exception type, a transcript
still being graded after the per-file time limit (`time_limit_s`, COACH_BATCH_FILE_TIMEOUT_S) is an error row,
and the batch goes on. Errors are retried on every rerun.

Reruns skip a transcript whose content hash, grader version, rubric version and extractor are all unchanged
and whose report is still on disk (a report produced by the rules *fallback* of the LLM extractor is never
reused, so the LLM is tried again). What was graded, and this run's rows, are kept in `out_dir/.batch.sqlite`,
one committed write per transcript, so a killed batch resumes where it stopped and memory stays flat however
long the batch: nothing per transcript is kept in memory. One batch at a time may write to an output folder
(`out_dir/.batch.lock`, an OS lock that dies with its process); a second is refused with a `ConfigError`.

The rules extractor runs in worker processes (`workers` of them, one at least, so a runaway file can be killed
at the time limit), each keeping one extractor across its tasks; the LLM extractor runs on threads (it waits on
the network). SIGTERM, SIGHUP and Ctrl-C stop the workers with the batch, and a worker whose batch process
died (even by kill -9) exits by itself. The progress callback is called once per transcript, `progress(done,
total, id)`, always from the thread that called `grade_batch` (Streamlit elements can only be updated from the
script thread).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import glob
import io
import json
import logging
import multiprocessing
import os
import re
import signal
import sqlite3
import statistics
import sys
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader import __version__
from grader.atomic import write_atomic
from grader.errors import ConfigError, GraderError
from grader.extract.base import ClaimExtractor
from grader.extract.rules import RulesExtractor
from grader.overrides import apply_overrides, is_sidecar, load_overrides, sidecar_path
from grader.redact import redact
from grader.report import Level, Recommendation, Report
from grader.scorecard import inline, is_scored, render_json, render_markdown
from grader.settings import Settings, get_settings

log = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = (".yaml", ".yml", ".json", ".txt", ".md")
SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"
SUMMARY_JSONL = "summary.jsonl"
MANIFEST = ".batch.sqlite"
LOCK = ".batch.lock"
LEGACY_MANIFEST = ".manifest.json"
LEGACY_JOURNAL = ".manifest.jsonl"
WORKER_MEMO_SIZE = 512
"""Candidate turns a batch worker's rules extractor remembers (about 100 transcripts)."""
_RESERVED_IDS = frozenset({"summary"})  # summary.md would be overwritten by a transcript's scorecard
_GLOB_CHARS = re.compile(r"[*?\[]")
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")

ProgressCallback = Callable[[int, int, str], None]
"""`progress(done, total, id)`: called once per transcript, from the thread that called `grade_batch`."""


# --- results -----------------------------------------------------------------------------------------------


class BatchRow(BaseModel):
    """One input's line of the summary: its scores, or the error that stopped it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    file: str
    total: float | None = Field(None, description="None for an error row or a report without category scores")
    machine_total: float | None = Field(None, description="the machine's total, when reviewer overrides changed it")
    overrides: int = Field(0, description="sub-scores a reviewer overrode (Replay)")
    level: str | None = None
    recommendation: str | None = None
    categories: dict[str, float] = Field(default_factory=dict, description="category id -> score, rubric order")
    red_flags: int | None = None
    green_flags: int | None = None
    incorrect_checks: int | None = None
    extractor: str | None = None
    error: str | None = None
    skipped: bool = Field(False, description="reused from an earlier run: unchanged transcript, grader, extractor")
    report_json: str | None = Field(None, description="the report's file name inside out_dir")
    report_md: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def fallback(self) -> bool:
        return self.extractor is not None and "fallback" in self.extractor


class BatchResult(BaseModel):
    """Counts and where the summaries are. The rows themselves are on disk (`summary.jsonl`, input order), so
    a 10,000-transcript batch does not hold 10,000 rows in memory; `rows` reads them all, `iter_rows()` one
    at a time."""

    model_config = ConfigDict(extra="forbid")

    out_dir: Path
    total: int = Field(description="inputs: transcripts found plus inputs that named none")
    graded: int = Field(description="rows with a report (including skipped ones)")
    errors: int
    skipped: int = Field(description="reports reused from an earlier run")
    levels: dict[str, int] = Field(default_factory=dict)
    recommendations: dict[str, int] = Field(default_factory=dict)
    summary_csv: Path | None = None
    summary_md: Path | None = None
    summary_jsonl: Path | None = None

    def iter_rows(self) -> Iterator[BatchRow]:
        """One row per input, in input order, read from summary.jsonl."""
        if self.summary_jsonl is None:
            return
        with self.summary_jsonl.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield BatchRow.model_validate_json(line)

    @property
    def rows(self) -> list[BatchRow]:
        return list(self.iter_rows())

    @property
    def error_rows(self) -> list[BatchRow]:
        return [r for r in self.iter_rows() if r.error is not None]

    @property
    def exit_code(self) -> int:
        """0 when every transcript was graded, 1 when some rows are errors (the CLI's convention)."""
        return 1 if self.errors else 0


def row_for(report: Report, *, id: str | None = None, file: str = "") -> BatchRow:
    """The summary row of one report; for a reviewed report also the machine's total, which each overridden
    sub-score keeps (`override.machine_score`)."""
    scored = is_scored(report)
    overridden = [s for c in report.categories.values() for s in c.subscores.values() if s.override]
    change = sum(s.score - float(s.override.get("machine_score", s.score)) for s in overridden if s.override)
    return BatchRow(
        id=id or report.transcript_id,
        file=file,
        total=report.total if scored else None,
        machine_total=round(report.total - change, 1) if overridden and scored else None,
        overrides=len(overridden),
        level=report.level if scored else None,
        recommendation=report.recommendation if scored else None,
        categories={k: c.score for k, c in report.categories.items()},
        red_flags=len(report.red_flags),
        green_flags=len(report.green_flags),
        incorrect_checks=sum(c.verdict == "incorrect" for c in report.checks),
        extractor=report.provenance.extractor if report.provenance else report.extractor,
    )


def error_row(id: str, file: str, error: str | BaseException) -> BatchRow:
    return BatchRow(id=id, file=file, error=_error_text(error, file))


def _error_text(error: str | BaseException, file: str) -> str:
    """One line for an error row; an exception's text may quote an endpoint's reply, so keys are redacted."""
    if isinstance(error, str):
        return redact(error)
    if isinstance(error, GraderError):
        return error.one_line()
    text = " ".join(f"{type(error).__name__}: {error}".rstrip(": ").split())
    return redact(f"{file}: {text}" if file else text)


# --- summary -----------------------------------------------------------------------------------------------

SummaryItem = BatchRow | Report | tuple[str, Report | BaseException | str]


def summarise(items: Iterable[SummaryItem]) -> tuple[str, str]:
    """(summary.csv text, summary.md text) for rows, reports, or (name, report-or-error) pairs; no files.

    Category columns are the union of the reports' category ids in the order they first appear (the
    rubric's order, since every report lists its categories in that order).
    """
    rows = [_as_row(item) for item in items]
    stats = SummaryStats.of(rows)
    csv_text = "".join(csv_lines(rows, stats.categories, reviewed=stats.reviewed > 0))
    return csv_text, "".join(md_lines(stats, (r for r in rows if not r.ok)))


def _as_row(item: SummaryItem) -> BatchRow:
    if isinstance(item, BatchRow):
        return item
    if isinstance(item, Report):
        return row_for(item)
    name, outcome = item
    if isinstance(outcome, Report):
        return row_for(outcome, id=Path(name).stem or outcome.transcript_id, file=name)
    return error_row(Path(name).stem or name, name, outcome)


def category_columns(rows: Iterable[BatchRow]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row.categories))
    return list(seen)


@dataclass
class SummaryStats:
    """What summary.md says, gathered in one pass over the rows; the only per-row state is one float per total."""

    rows: int = 0
    ok: int = 0
    errors: int = 0
    skipped: int = 0
    fallbacks: int = 0
    reviewed: int = 0
    totals: array[float] = dataclasses.field(default_factory=lambda: array("d"))
    levels: Counter[str] = dataclasses.field(default_factory=Counter)
    recommendations: Counter[str] = dataclasses.field(default_factory=Counter)
    categories: dict[str, None] = dataclasses.field(default_factory=dict)

    def add(self, row: BatchRow) -> None:
        self.rows += 1
        self.skipped += row.skipped
        self.categories.update(dict.fromkeys(row.categories))
        if not row.ok:
            self.errors += 1
            return
        self.ok += 1
        self.fallbacks += row.fallback
        self.reviewed += row.overrides > 0
        if row.total is not None:
            self.totals.append(row.total)
            if row.level is not None:
                self.levels[row.level] += 1
            if row.recommendation is not None:
                self.recommendations[row.recommendation] += 1

    @classmethod
    def of(cls, rows: Iterable[BatchRow]) -> SummaryStats:
        stats = cls()
        for row in rows:
            stats.add(row)
        return stats


def _fmt(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{round(value, 2):g}" if isinstance(value, float) else str(value)


def _csv_line(values: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def csv_lines(rows: Iterable[BatchRow], categories: Iterable[str], *, reviewed: bool = False) -> Iterator[str]:
    """summary.csv, line by line; `reviewed` (some report has reviewer overrides) adds `machine_total` and
    `overrides` after `total`."""
    cats = list(categories)
    yield _csv_line(
        [
            "id",
            "file",
            "total",
            *(["machine_total", "overrides"] if reviewed else []),
            "level",
            "recommendation",
            *cats,
            "red_flags",
            "green_flags",
            "incorrect_checks",
            "extractor",
            "error",
        ]
    )
    for r in rows:
        yield _csv_line(
            [
                r.id,
                r.file,
                _fmt(r.total),
                *([_fmt(r.machine_total if r.overrides else r.total), str(r.overrides)] if reviewed else []),
                r.level or "",
                r.recommendation or "",
                *(_fmt(r.categories.get(c)) for c in cats),
                _fmt(r.red_flags),
                _fmt(r.green_flags),
                _fmt(r.incorrect_checks),
                r.extractor or "",
                r.error or "",
            ]
        )


def histogram(totals: Sequence[float], *, width: int = 40) -> str:
    """Totals in 10-point bins (0-9, ..., 80-89, 90-100) as text bars scaled to `width` characters."""
    counts = [0] * 10
    for t in totals:
        counts[min(max(int(t // 10), 0), 9)] += 1
    top = max(counts) or 1
    lines = []
    for i, n in enumerate(counts):
        bin_label = f"{i * 10:>2}-{i * 10 + 9 if i < 9 else 100:<3}"
        bar = "#" * (round(n * width / top) if n else 0)
        lines.append(f"{bin_label} | {bar}{' ' if bar else ''}{n}")
    return "\n".join(lines)


def _count_table(title: str, values: Sequence[str], counts: dict[str, int]) -> str:
    rows = [f"| {v} | {counts.get(v, 0)} |" for v in values]
    return f"| {title} | count |\n|---|---:|\n" + "\n".join(rows)


def md_lines(stats: SummaryStats, error_rows: Iterable[BatchRow]) -> Iterator[str]:
    """summary.md, piece by piece: the figures from `stats`, then one line per error row."""
    totals = stats.totals
    line = f"{stats.rows} transcripts: {stats.ok} graded"
    line += f" ({stats.skipped} reused from an earlier run)" if stats.skipped else ""
    line += f", {stats.errors} error{'s' if stats.errors != 1 else ''}."
    out = ["# Batch summary", "", line]
    if stats.fallbacks:
        out += ["", f"⚠ {stats.fallbacks} report(s) used the rules fallback because the LLM extractor failed."]
    if stats.reviewed:
        out += [
            "",
            f"{stats.reviewed} report(s) carry reviewer overrides (Replay): their totals are the reviewed ones; "
            "summary.csv has the machine's in `machine_total`.",
        ]
    unscored = stats.ok - len(totals)
    if unscored:
        out += ["", f"{unscored} report(s) have no category scores (not scored) and are left out of the figures."]

    out += ["", "## Totals", ""]
    if totals:
        out += [
            "| n | mean | median | min | max |",
            "|---:|---:|---:|---:|---:|",
            f"| {len(totals)} | {statistics.fmean(totals):.1f} | {statistics.median(totals):.1f} | "
            f"{min(totals):g} | {max(totals):g} |",
            "",
            "Totals in 10-point bins:",
            "",
            "```",
            histogram(totals),
            "```",
        ]
    else:
        out.append("No scored reports.")
    out += ["", "## Levels", "", _count_table("level", get_args(Level), stats.levels)]
    out += [
        "",
        "## Recommendations",
        "",
        _count_table("recommendation", get_args(Recommendation), stats.recommendations),
    ]
    out += ["", "## Errors", ""]
    yield "\n".join(out) + "\n"
    if not stats.errors:
        yield "None.\n"
        return
    yield "| id | file | error |\n|---|---|---|\n"
    for r in error_rows:
        yield f"| {inline(r.id)} | {inline(r.file)} | {inline(r.error or '')} |\n"


def _counts(values: Iterable[str | None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        if v is not None:
            counts[v] = counts.get(v, 0) + 1
    return counts


# --- inputs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One transcript to grade: its file and its report id (unique within the batch)."""

    index: int
    path: Path
    id: str
    key: str = ""
    """The manifest's key: the absolute source path."""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", str(self.path.resolve()))

    @property
    def file(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class Missing:
    """An input that named no transcript file: an error row in its place in the summary."""

    input: str
    why: str


def expand_inputs(
    inputs: Sequence[str | Path],
    out_dir: Path | None = None,
    *,
    roots: Sequence[Path] | None = None,
    skip_dirs: Sequence[Path] = (),
) -> tuple[list[Path], list[tuple[str, str]]]:
    """(files in a stable order without duplicates, [(input, why nothing was found)])."""
    entries = _expand(inputs, out_dir, roots, skip_dirs)
    files = [e[0] for e in entries if isinstance(e, tuple)]
    return files, [(e.input, e.why) for e in entries if isinstance(e, Missing)]


_SUFFIXES_TEXT = ", ".join("*" + s for s in TRANSCRIPT_SUFFIXES)


def _expand(
    inputs: Sequence[str | Path],
    out_dir: Path | None,
    roots: Sequence[Path] | None = None,
    skip_dirs: Sequence[Path] = (),
) -> list[tuple[Path, str] | Missing]:
    """In input order: (file, its absolute path) for every transcript file, or a Missing for an input that
    named none. Each input's files are sorted; a file named twice is kept once, where it first appears.

    A file without a transcript suffix is a Missing (`/etc/pass*` does not pick up `passwd`). With `roots`
    (a server's batch folder), an input outside every root, or a glob whose fixed part is outside them, is a
    `ConfigError`, checked before anything is listed; files that resolve (through a symlink) outside the roots
    are left out. A folder or glob search leaves out the files under `skip_dirs`, except those under the input
    itself when the input is inside one of them (asked for by name).
    """
    out_resolved = out_dir.resolve() if out_dir is not None else None
    skipped = [d.expanduser().resolve() for d in skip_dirs]
    bounds = [r.expanduser().resolve() for r in roots] if roots is not None else None
    entries: list[tuple[Path, str] | Missing] = []
    seen: set[str] = set()

    def allowed(path: Path) -> bool:
        return bounds is None or any(path.resolve().is_relative_to(r) for r in bounds)

    def add(paths: list[Path]) -> None:
        for path in paths:
            key = str(path.resolve())
            if key not in seen and allowed(path):
                seen.add(key)
                entries.append((path, key))

    for raw in inputs:
        text = str(raw)
        path = Path(text)
        if bounds is not None:
            _confine(text, bounds)
        skip = [d for d in skipped if not path.resolve().is_relative_to(d)]
        if path.is_dir():
            found = _unskipped(_walk(path, out_resolved), skip)
            if not found:
                entries.append(Missing(text, f"no transcript files ({_SUFFIXES_TEXT})"))
            add(found)
        elif path.exists() or path.is_symlink():
            if _is_transcript_name(path.name, explicit=True):
                add([path])
            else:
                entries.append(Missing(text, f"not a transcript file name (expected {_SUFFIXES_TEXT})"))
        elif _GLOB_CHARS.search(text):
            found = []
            for match in sorted(glob.glob(text, recursive=True)):
                mp = Path(match)
                found += _walk(mp, out_resolved) if mp.is_dir() else [mp] if _is_transcript_name(mp.name) else []
            found = _unskipped([f for f in found if not _inside(f, out_resolved)], skip)
            if not found:
                entries.append(Missing(text, f"no transcript files match this pattern ({_SUFFIXES_TEXT})"))
            add(found)
        else:
            entries.append(Missing(text, "no such file or directory"))
    return entries


def _confine(text: str, bounds: list[Path]) -> None:
    """Refuse an input outside the batch folders, before anything about it (even whether it exists) is used."""
    fixed = Path(text).expanduser()
    if _GLOB_CHARS.search(text):  # the part before the first wildcard is where matching starts
        parts = fixed.parts
        cut = next(i for i, p in enumerate(parts) if _GLOB_CHARS.search(p))
        if any(p == ".." for p in parts[cut:]):
            raise ConfigError(f"{text}: a pattern may not climb out with '..'")
        fixed = Path(*parts[:cut]) if cut else Path(".")
    resolved = fixed.resolve()
    if not any(resolved.is_relative_to(r) for r in bounds):
        where = " or ".join(str(r) for r in bounds)
        raise ConfigError(f"{text}: outside the batch folder ({where}); set COACH_BATCH_ROOT to grade elsewhere")


def _unskipped(files: list[Path], skip: list[Path]) -> list[Path]:
    if not skip:
        return files
    return [f for f in files if not any(f.resolve().is_relative_to(d) for d in skip)]


def _inside(path: Path, directory: Path | None) -> bool:
    if directory is None:
        return False
    return path.resolve().is_relative_to(directory)


def _walk(root: Path, out_dir: Path | None) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and not (out_dir and (here / d).resolve() == out_dir)
        )
        if out_dir and here.resolve() == out_dir:
            continue
        found += [here / f for f in filenames if _is_transcript_name(f)]
    return sorted(found, key=lambda p: p.as_posix())


def _is_transcript_name(name: str, *, explicit: bool = False) -> bool:
    """A file a folder search picks up: a transcript suffix, not hidden, not a reviewer-overrides sidecar.
    A file named explicitly needs only the suffix."""
    if Path(name).suffix.lower() not in TRANSCRIPT_SUFFIXES:
        return False
    return explicit or (not name.startswith(".") and not is_sidecar(name))


def assign_ids(paths: Sequence[Path]) -> list[str]:
    """A file-name-safe id per path: its stem; when stems collide every one of them adds its extension
    (`session-txt`, `session-md`), and a remaining clash (same name in two folders) a counter."""
    stems = [_safe(p.stem) for p in paths]
    clashes = {s for s, n in Counter(stems).items() if n > 1} | (_RESERVED_IDS & set(stems))
    taken: set[str] = set(_RESERVED_IDS)
    ids = []
    for p, stem in zip(paths, stems, strict=True):
        base = f"{stem}-{_safe(p.suffix.lstrip('.')) or 'file'}" if stem in clashes else stem
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate.lower())
        ids.append(candidate)
    return ids


def _safe(text: str) -> str:
    cleaned = _UNSAFE_ID_CHARS.sub("_", text).strip("._-")
    return cleaned[:120] or "transcript"


# --- manifest ----------------------------------------------------------------------------------------------


class ManifestEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    hash: str
    grader_version: str
    rubric_version: str | None = None
    extractor: str = Field(description="the extractor asked for: 'rules' or 'llm:<model>'")
    report: str = Field(description="the report's JSON file name in out_dir")
    markdown: str | None = None
    fallback: bool = Field(False, description="the LLM failed and the rules fallback produced the report")
    overrides: str = Field("", description="hash of the reviewer-overrides sidecar the report applied; '' for none")


class Manifest:
    """What each source was graded into, and this run's rows, in one SQLite file in out_dir (`.batch.sqlite`).

    On disk, not in memory: a lookup per transcript and one committed write per outcome, so memory does not
    grow with the batch and a killed batch keeps everything it committed (WAL journal). An older
    `.manifest.json` (and its journal) is imported once and removed.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST
        self._db: sqlite3.Connection | None = None

    def load(self) -> Manifest:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, entry TEXT NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS rows (idx INTEGER PRIMARY KEY, ok INTEGER NOT NULL, row TEXT NOT NULL)")
        self._db = db
        self._import_legacy()
        return self

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self.load()
        assert self._db is not None
        return self._db

    def get(self, key: str) -> ManifestEntry | None:
        found = self.db.execute("SELECT entry FROM manifest WHERE key = ?", (key,)).fetchone()
        if found is None:
            return None
        try:
            return ManifestEntry.model_validate_json(found[0])
        except ValidationError:
            return None

    def keys(self) -> list[str]:
        return [k for (k,) in self.db.execute("SELECT key FROM manifest ORDER BY key")]

    def record(self, key: str, entry: ManifestEntry | None) -> None:
        """Remember (or forget, with None) one source; durable as soon as this returns."""
        if entry is None:
            self.db.execute("DELETE FROM manifest WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT OR REPLACE INTO manifest VALUES (?, ?)", (key, entry.model_dump_json()))

    # -- this run's rows

    def clear_rows(self) -> None:
        self.db.execute("DELETE FROM rows")

    def add_row(self, index: int, row: BatchRow) -> None:
        self.db.execute("INSERT OR REPLACE INTO rows VALUES (?, ?, ?)", (index, int(row.ok), row.model_dump_json()))

    def iter_rows(self, *, errors_only: bool = False) -> Iterator[BatchRow]:
        """This run's rows in input order, streamed from disk."""
        sql = "SELECT row FROM rows" + (" WHERE ok = 0" if errors_only else "") + " ORDER BY idx"
        cursor = self._db_reader().execute(sql)
        try:
            for (raw,) in cursor:
                yield BatchRow.model_validate_json(raw)
        finally:
            cursor.close()

    def _db_reader(self) -> sqlite3.Connection:
        return self.db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def save(self) -> None:
        """Nothing to write (every record is committed as it is made); kept so callers can end a batch alike."""
        self.close()

    def _import_legacy(self) -> None:
        old, journal = self.path.parent / LEGACY_MANIFEST, self.path.parent / LEGACY_JOURNAL
        if not old.exists() and not journal.exists():
            return
        items: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(old.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == 1:
                items.update(data.get("items") or {})
        with contextlib.suppress(OSError):
            for line in journal.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if isinstance(record, dict) and isinstance(record.get("key"), str):
                        items[record["key"]] = record.get("entry")
        for key, raw in items.items():
            with contextlib.suppress(ValidationError):
                if raw is not None:
                    self.record(key, ManifestEntry.model_validate(raw))
        for f in (old, journal):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()


# --- grading -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    item: Item
    row: BatchRow
    entry: ManifestEntry | None  # what to record in the manifest; None forgets the source


@dataclass(frozen=True)
class _Context:
    out_dir: Path
    extractor: ClaimExtractor
    extractor_key: str
    settings: Settings | None
    rubric_version: str | None


def grade_batch(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    workers: int = 1,
    extractor: str | ClaimExtractor = "rules",
    settings: Settings | None = None,
    progress: bool | ProgressCallback | None = None,
    time_limit_s: float | None = None,
    roots: Sequence[Path] | None = None,
    skip_dirs: Sequence[Path] = (),
) -> BatchResult:
    """Grade every transcript the inputs name into `out_dir`; see the module docstring.

    `progress`: None shows a rich progress bar when stderr is a terminal, True always, False never, or a
    callback `progress(done, total, id)` called once per transcript from the calling thread.
    `time_limit_s`: a transcript still being graded after this long is an error row (default: the
    `batch_file_timeout_s` setting). `roots`: inputs must lie inside these folders (a server's batch root);
    None means any path this process can read (the CLI: its user has the shell anyway). `skip_dirs`: folders a
    folder or glob search leaves out (the app's practice sessions and uploads), unless an input is inside one.
    Raises `ConfigError` when the inputs name no file at all, name one outside `roots`, for an unusable or
    busy output directory, or an unusable extractor; any problem with one transcript is an error row instead.
    """
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}")
    out_dir = Path(out_dir)
    entries = _expand(inputs, out_dir, roots, skip_dirs)
    files = [e for e in entries if isinstance(e, tuple)]
    if not files:
        where = "; ".join(f"{e.input}: {e.why}" for e in entries if isinstance(e, Missing)) or "no inputs given"
        raise ConfigError(f"nothing to grade ({where})")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the output directory: {exc.strerror or exc}", path=out_dir) from None

    from grader import pipeline

    if isinstance(extractor, str):
        if extractor not in ("rules", "llm"):
            raise ConfigError(f"unknown extractor {extractor!r} (expected rules or llm)")
        if extractor == "llm" and settings is None:
            settings = get_settings()
        extractor = pipeline.make_extractor(extractor, settings)  # type: ignore[arg-type]
    if time_limit_s is None:
        time_limit_s = (settings or get_settings()).batch_file_timeout_s
    ctx = _Context(out_dir, extractor, str(extractor.name), settings, _current_rubric_version())

    ids = iter(assign_ids([path for path, _ in files]))
    items: list[Item] = []
    missing: list[tuple[int, BatchRow]] = []
    for index, entry in enumerate(entries):
        if isinstance(entry, Missing):
            missing.append(
                (index, error_row(_safe(Path(entry.input).name), entry.input, f"{entry.input}: {entry.why}"))
            )
        else:
            items.append(Item(index, entry[0], next(ids), entry[1]))
    del entries, files

    with _exclusive(out_dir), _ending_on_signals():
        manifest = Manifest(out_dir).load()
        report = _progress_reporter(progress, len(items) + len(missing))
        done = 0
        try:
            manifest.clear_rows()
            for index, row in missing:
                manifest.add_row(index, row)
                done += 1
                report(done, row.id)
            with contextlib.closing(_run(items, manifest, ctx, workers, time_limit_s)) as outcomes:
                for outcome in outcomes:
                    manifest.add_row(outcome.item.index, outcome.row)
                    manifest.record(outcome.item.key, outcome.entry)
                    done += 1
                    report(done, outcome.item.id)
            result = _write_summaries(out_dir, manifest)
        finally:
            manifest.close()
            _close_reporter(report)
    return result


def _write_summaries(out_dir: Path, manifest: Manifest) -> BatchResult:
    """summary.csv, summary.md and summary.jsonl, streamed from the rows on disk in input order."""
    stats = SummaryStats.of(manifest.iter_rows())
    write_atomic(out_dir / SUMMARY_CSV, csv_lines(manifest.iter_rows(), stats.categories, reviewed=stats.reviewed > 0))
    write_atomic(out_dir / SUMMARY_MD, md_lines(stats, manifest.iter_rows(errors_only=True)))
    write_atomic(out_dir / SUMMARY_JSONL, (r.model_dump_json() + "\n" for r in manifest.iter_rows()))
    return BatchResult(
        out_dir=out_dir,
        total=stats.rows,
        graded=stats.ok,
        errors=stats.errors,
        skipped=stats.skipped,
        levels=dict(stats.levels),
        recommendations=dict(stats.recommendations),
        summary_csv=out_dir / SUMMARY_CSV,
        summary_md=out_dir / SUMMARY_MD,
        summary_jsonl=out_dir / SUMMARY_JSONL,
    )


@contextlib.contextmanager
def _exclusive(out_dir: Path) -> Iterator[None]:
    """One batch at a time per output folder: a second one, while the first runs, is refused at once (it would
    overwrite the other's summary with its own inputs). The lock is the OS's (flock), so a killed batch
    leaves no stale lock behind."""
    from filelock import FileLock, Timeout

    lock = FileLock(out_dir / LOCK, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ConfigError(
            "another batch is writing to this output folder; wait for it to finish or choose another --out",
            path=out_dir,
        ) from None
    try:
        yield
    finally:
        lock.release()


class BatchTerminated(SystemExit):
    """SIGTERM (or SIGHUP) arrived: the batch stops as it does on Ctrl-C, workers first."""


@contextlib.contextmanager
def _ending_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into an exception in the thread running the batch (only possible in the main
    thread), so the `finally` blocks stop the worker processes instead of leaving them orphaned. SIGINT
    already raises KeyboardInterrupt; the workers ignore it and are stopped the same way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise BatchTerminated(128 + signum)

    wanted = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {sig: signal.signal(sig, stop) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(items: list[Item], manifest: Manifest, ctx: _Context, workers: int, time_limit_s: float) -> Iterator[_Outcome]:
    """Outcomes as they complete. At most a few items per worker are in flight, so memory does not grow
    with the batch, and an interrupted batch cancels what has not started."""
    if isinstance(ctx.extractor, RulesExtractor):
        yield from _run_processes(items, manifest, ctx, workers, time_limit_s)
    else:
        yield from _run_threads(items, manifest, ctx, workers, time_limit_s)


def _run_processes(
    items: list[Item], manifest: Manifest, ctx: _Context, workers: int, time_limit_s: float
) -> Iterator[_Outcome]:
    """The rules extractor is CPU-bound Python, so it runs in worker processes (spawned, not forked: the app
    calls this from a threaded server). Each process unpickles the extractor once and keeps it, with its
    memo, across all its tasks. A task past the time limit has its process killed and replaced (pebble)."""
    from pebble import ProcessExpired, ProcessPool

    pool = ProcessPool(
        max_workers=workers,
        initializer=_worker_init,
        initargs=(ctx, os.getpid()),
        context=multiprocessing.get_context("spawn"),
    )
    pending: dict[Future[_Outcome], Item] = {}
    queue = iter(items)
    try:
        while True:
            while len(pending) < workers * 4 and (item := next(queue, None)) is not None:
                previous = manifest.get(item.key)
                pending[pool.schedule(_grade_in_worker, args=(item, previous), timeout=time_limit_s)] = item
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: pending[f].index):
                item = pending.pop(future)
                try:
                    yield future.result()
                except TimeoutError:
                    yield _failed(item, manifest.get(item.key), ctx, _too_slow(time_limit_s))
                except ProcessExpired as exc:
                    why = RuntimeError(f"the worker process died (exit code {exc.exitcode})")
                    yield _failed(item, manifest.get(item.key), ctx, why)
                except Exception as exc:
                    yield _failed(item, manifest.get(item.key), ctx, exc)
    finally:
        for future in pending:
            future.cancel()
        pool.stop()
        pool.join(timeout=10)


def _run_threads(
    items: list[Item], manifest: Manifest, ctx: _Context, workers: int, time_limit_s: float
) -> Iterator[_Outcome]:
    """The LLM extractor waits on the network, so threads overlap the waits. A thread cannot be killed: a
    transcript past the time limit becomes an error row and its thread is left to finish on its own
    (the LLM's own timeouts bound it), its late result discarded and nothing of it written."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")
    pending: dict[Future[_Outcome], Item] = {}
    started: dict[int, float] = {}
    abandoned: set[int] = set()
    queue = iter(items)
    try:
        while True:
            while len(pending) < workers * 4 and (item := next(queue, None)) is not None:
                previous = manifest.get(item.key)
                pending[pool.submit(_grade_watched, item, previous, ctx, started, abandoned)] = item
            if not pending:
                return
            finished, _ = wait(pending, timeout=min(1.0, time_limit_s), return_when=FIRST_COMPLETED)
            now = time.monotonic()
            for future in sorted(finished, key=lambda f: pending[f].index):
                item = pending.pop(future)
                try:
                    yield future.result()
                except Exception as exc:
                    yield _failed(item, manifest.get(item.key), ctx, exc)
            for future, item in list(pending.items()):
                if now - started.get(item.index, now) > time_limit_s:
                    abandoned.add(item.index)
                    del pending[future]
                    yield _failed(item, manifest.get(item.key), ctx, _too_slow(time_limit_s))
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def _too_slow(limit: float) -> RuntimeError:
    return RuntimeError(f"still grading after the per-file time limit of {limit:g} s (COACH_BATCH_FILE_TIMEOUT_S)")


def _grade_watched(
    item: Item, previous: ManifestEntry | None, ctx: _Context, started: dict[int, float], abandoned: set[int]
) -> _Outcome:
    started[item.index] = time.monotonic()
    return _grade_one(item, previous, ctx, abandoned=abandoned)


_WORKER: _Context | None = None


def _worker_init(ctx: _Context, parent: int) -> None:
    """In each worker process, once: keep the context (and its extractor), load the rubric, and exit if the
    batch's process goes away (even by kill -9) instead of grading on as an orphan."""
    global _WORKER
    _WORKER = ctx
    if isinstance(getattr(ctx.extractor, "MEMO_SIZE", None), int):
        # The memo pays when the same turns come back (the interviewer re-reads every turn; copies in a batch).
        # Distinct transcripts only fill it, so a worker keeps a smaller one: its memory stops growing early.
        ctx.extractor.MEMO_SIZE = min(ctx.extractor.MEMO_SIZE, WORKER_MEMO_SIZE)  # type: ignore[attr-defined]
    rubric = getattr(ctx.extractor, "_rubric_or_default", None)
    if callable(rubric):
        rubric()

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _grade_in_worker(item: Item, previous: ManifestEntry | None) -> _Outcome:
    assert _WORKER is not None, "the worker initializer did not run"
    return _grade_one(item, previous, _WORKER)


def _grade_one(
    item: Item, previous: ManifestEntry | None, ctx: _Context, *, abandoned: set[int] | None = None
) -> _Outcome:
    """Never raises: every failure becomes an error row."""
    from grader import pipeline
    from grader.loaders import load_transcript

    try:
        transcript = load_transcript(item.path)
        content_hash = transcript.content_hash()
        sidecar = _sidecar_hash(item.path)
        if previous is not None and (reused := _reusable(item, previous, content_hash, ctx, sidecar)) is not None:
            return _Outcome(item, reused, previous)
        machine = pipeline.grade_transcript(transcript, extractor=ctx.extractor, settings=ctx.settings)
        report = apply_overrides(machine, load_overrides(item.path)) if sidecar else machine
        if abandoned is not None and item.index in abandoned:  # past the time limit: already an error row
            raise _too_slow(0)
        json_name, md_name = f"{item.id}.json", f"{item.id}.md"
        write_atomic(ctx.out_dir / json_name, render_json(report) + "\n")
        write_atomic(ctx.out_dir / md_name, render_markdown(report))
        row = row_for(report, id=item.id, file=item.file)
        row = row.model_copy(update={"report_json": json_name, "report_md": md_name})
        if previous is not None and previous.id != item.id:
            _remove_reports(ctx.out_dir, previous)
        entry = ManifestEntry(
            id=item.id,
            hash=content_hash,
            grader_version=__version__,
            rubric_version=ctx.rubric_version,
            extractor=ctx.extractor_key,
            report=json_name,
            markdown=md_name,
            fallback=row.fallback,
            overrides=sidecar,
        )
        return _Outcome(item, row, entry)
    except GraderError as exc:
        return _failed(item, previous, ctx, exc)
    except Exception as exc:
        log.debug("unexpected error grading %s", item.path, exc_info=True)  # the row carries type and message
        return _failed(item, previous, ctx, exc)


def _failed(item: Item, previous: ManifestEntry | None, ctx: _Context, exc: BaseException) -> _Outcome:
    """An error row; a report left from an earlier run of this source is removed, so the output directory
    never shows a stale report next to an error."""
    if previous is not None:
        with contextlib.suppress(OSError):
            _remove_reports(ctx.out_dir, previous)
    return _Outcome(item, error_row(item.id, item.file, exc), None)


def _remove_reports(out_dir: Path, entry: ManifestEntry) -> None:
    for name in (entry.report, entry.markdown):
        if name and Path(name).name == name:  # only plain file names inside out_dir
            with contextlib.suppress(FileNotFoundError):
                (out_dir / name).unlink()


def _sidecar_hash(path: Path) -> str:
    """A short hash of the transcript's reviewer-overrides sidecar; '' when it has none."""
    import hashlib

    try:
        data = sidecar_path(path).read_bytes()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise GraderError(f"cannot read: {exc.strerror or exc}", path=sidecar_path(path)) from None
    return hashlib.sha256(data).hexdigest()[:16]


def _reusable(
    item: Item, previous: ManifestEntry, content_hash: str, ctx: _Context, sidecar: str = ""
) -> BatchRow | None:
    """The earlier report's row when nothing that shapes the report changed, else None (grade again)."""
    if (
        previous.hash != content_hash
        or previous.overrides != sidecar
        or previous.grader_version != __version__
        or previous.extractor != ctx.extractor_key
        or previous.fallback
        or previous.id != item.id
        or (ctx.rubric_version is not None and previous.rubric_version != ctx.rubric_version)
    ):
        return None
    md_name = previous.markdown or f"{item.id}.md"
    try:
        report = Report.model_validate_json((ctx.out_dir / previous.report).read_bytes())
    except (OSError, ValueError):
        return None
    if not (ctx.out_dir / md_name).is_file():
        return None
    row = row_for(report, id=item.id, file=item.file)
    return row.model_copy(update={"skipped": True, "report_json": previous.report, "report_md": md_name})


def _current_rubric_version() -> str | None:
    """The rubric version reports are scored against now; None when it cannot be read (then grading itself
    reports the problem, item by item)."""
    from grader import pipeline

    try:
        return pipeline.rubric_version()
    except Exception:
        return None


# --- progress ----------------------------------------------------------------------------------------------


class _RichBar:
    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.bar.add_task("", total=total)
        self.bar.start()

    def __call__(self, done: int, id: str) -> None:
        self.bar.update(self.task, completed=done, description=id)

    def close(self) -> None:
        self.bar.stop()


def _progress_reporter(progress: bool | ProgressCallback | None, total: int) -> Callable[[int, str], None]:
    if callable(progress) and not isinstance(progress, bool):
        callback = progress
        return lambda done, id: callback(done, total, id)
    show = sys.stderr.isatty() if progress is None else bool(progress)
    if show:
        return _RichBar(total)
    return lambda done, id: None


def _close_reporter(reporter: Callable[[int, str], None]) -> None:
    if isinstance(reporter, _RichBar):
        reporter.close()
