"""Grade many transcripts into one output directory: a report per transcript, a summary, resumable reruns.

    result = grade_batch(["transcripts/", "more/*.json"], Path("out"), workers=8, extractor="llm")

Inputs are directories (searched recursively for *.yaml, *.yml, *.json, *.txt, *.md; hidden directories and
files, the output directory and reviewer-override sidecars `*.overrides.yaml` are skipped), files, or glob patterns; the order is stable (each input in turn, its files
sorted by path). For each transcript `<id>.json` (the report) and `<id>.md` (the scorecard) are written as soon
as it is graded; `<id>` is the file's stem, made unique when two files share one. At the end `summary.csv` and
`summary.md` list every input in input order.

Failures are rows, never gaps: a file that does not load is an error row carrying the `GraderError` one-line
message, an unexpected exception in one transcript is an error row naming the exception type, and the batch
goes on. Errors are retried on every rerun.

Reruns skip a transcript whose content hash, grader version, rubric version and extractor are all unchanged
and whose report is still on disk (a report produced by the rules *fallback* of the LLM extractor is never
reused, so the LLM is tried again). The record of what was graded is `out_dir/.manifest.json`; after every
item one line is appended to `out_dir/.manifest.jsonl` and flushed, so a killed batch resumes where it
stopped, and the journal is folded into the manifest (written atomically) when the batch ends. Rewriting the
whole manifest after each item would make a 10,000-transcript batch quadratic.

With `workers > 1`, the LLM extractor runs on threads (it waits on the network, so threads overlap the waits)
and the rules extractor on spawned processes (it is CPU-bound Python, which threads would run one at a time
under the GIL). Either way the progress callback is called once per transcript, `progress(done, total, id)`, always from the thread that
called `grade_batch` (Streamlit elements can only be updated from the script thread).
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
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader import __version__
from grader.atomic import write_atomic
from grader.errors import ConfigError, GraderError
from grader.extract.base import ClaimExtractor
from grader.extract.rules import RulesExtractor
from grader.overrides import is_sidecar
from grader.redact import redact
from grader.report import Level, Recommendation, Report
from grader.scorecard import inline, is_scored, render_json, render_markdown
from grader.settings import Settings, get_settings

log = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = (".yaml", ".yml", ".json", ".txt", ".md")
SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"
MANIFEST = ".manifest.json"
JOURNAL = ".manifest.jsonl"
MANIFEST_FORMAT = 1
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
    model_config = ConfigDict(extra="forbid")

    out_dir: Path
    rows: list[BatchRow] = Field(description="one per input transcript, in input order")
    total: int = Field(description="transcripts found")
    graded: int = Field(description="rows with a report (including skipped ones)")
    errors: int
    skipped: int = Field(description="reports reused from an earlier run")
    levels: dict[str, int] = Field(default_factory=dict)
    recommendations: dict[str, int] = Field(default_factory=dict)
    summary_csv: Path | None = None
    summary_md: Path | None = None

    @property
    def error_rows(self) -> list[BatchRow]:
        return [r for r in self.rows if r.error is not None]

    @property
    def exit_code(self) -> int:
        """0 when every transcript was graded, 1 when some rows are errors (the CLI's convention)."""
        return 1 if self.errors else 0


def row_for(report: Report, *, id: str | None = None, file: str = "") -> BatchRow:
    """The summary row of one report."""
    scored = is_scored(report)
    return BatchRow(
        id=id or report.transcript_id,
        file=file,
        total=report.total if scored else None,
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
    return _summary_csv(rows), _summary_md(rows)


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


def _fmt(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{round(value, 2):g}" if isinstance(value, float) else str(value)


def _summary_csv(rows: list[BatchRow]) -> str:
    cats = category_columns(rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "id",
            "file",
            "total",
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
        w.writerow(
            [
                r.id,
                r.file,
                _fmt(r.total),
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
    return buf.getvalue()


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


def _summary_md(rows: list[BatchRow]) -> str:
    ok = [r for r in rows if r.ok]
    errors = [r for r in rows if not r.ok]
    totals = [r.total for r in ok if r.total is not None]
    skipped = sum(r.skipped for r in rows)
    out = ["# Batch summary", ""]
    line = f"{len(rows)} transcripts: {len(ok)} graded"
    line += f" ({skipped} reused from an earlier run)" if skipped else ""
    line += f", {len(errors)} error{'s' if len(errors) != 1 else ''}."
    out.append(line)
    fallbacks = sum(r.fallback for r in ok)
    if fallbacks:
        out += ["", f"⚠ {fallbacks} report(s) used the rules fallback because the LLM extractor failed."]
    unscored = len(ok) - len(totals)
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

    scored = [r for r in ok if r.total is not None]
    levels = _counts(r.level for r in scored)
    recs = _counts(r.recommendation for r in scored)
    out += ["", "## Levels", "", _count_table("level", get_args(Level), levels)]
    out += ["", "## Recommendations", "", _count_table("recommendation", get_args(Recommendation), recs)]

    out += ["", "## Errors", ""]
    if errors:
        out += ["| id | file | error |", "|---|---|---|"]
        out += [f"| {inline(r.id)} | {inline(r.file)} | {inline(r.error or '')} |" for r in errors]
    else:
        out.append("None.")
    return "\n".join(out) + "\n"


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
    inputs: Sequence[str | Path], out_dir: Path | None = None
) -> tuple[list[Path], list[tuple[str, str]]]:
    """(files in a stable order without duplicates, [(input, why nothing was found)])."""
    entries = _expand(inputs, out_dir)
    files = [e[0] for e in entries if isinstance(e, tuple)]
    return files, [(e.input, e.why) for e in entries if isinstance(e, Missing)]


def _expand(inputs: Sequence[str | Path], out_dir: Path | None) -> list[tuple[Path, str] | Missing]:
    """In input order: (file, its absolute path) for every transcript file, or a Missing for an input that
    named none. Each input's files are sorted; a file named twice is kept once, where it first appears."""
    out_resolved = out_dir.resolve() if out_dir is not None else None
    entries: list[tuple[Path, str] | Missing] = []
    seen: set[str] = set()

    def add(paths: list[Path]) -> None:
        for path in paths:
            key = str(path.resolve())
            if key not in seen:
                seen.add(key)
                entries.append((path, key))

    suffixes = ", ".join("*" + s for s in TRANSCRIPT_SUFFIXES)
    for raw in inputs:
        text = str(raw)
        path = Path(text)
        if path.is_dir():
            found = _walk(path, out_resolved)
            if not found:
                entries.append(Missing(text, f"no transcript files ({suffixes})"))
            add(found)
        elif path.exists() or path.is_symlink():
            add([path])
        elif _GLOB_CHARS.search(text):
            found = []
            for match in sorted(glob.glob(text, recursive=True)):
                mp = Path(match)
                found += _walk(mp, out_resolved) if mp.is_dir() else [mp]
            found = [f for f in found if not _inside(f, out_resolved)]
            if not found:
                entries.append(Missing(text, "no files match this pattern"))
            add(found)
        else:
            entries.append(Missing(text, "no such file or directory"))
    return entries


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


def _is_transcript_name(name: str) -> bool:
    """A file a folder search picks up: a transcript suffix, not hidden, not a reviewer-overrides sidecar."""
    return not name.startswith(".") and Path(name).suffix.lower() in TRANSCRIPT_SUFFIXES and not is_sidecar(name)


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


class Manifest:
    """source path -> ManifestEntry, persisted as a JSON file plus an append-only journal of updates."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST
        self.journal_path = out_dir / JOURNAL
        self.entries: dict[str, ManifestEntry] = {}
        self._journal: io.TextIOWrapper | None = None

    def load(self) -> Manifest:
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT:
                for key, raw in (data.get("items") or {}).items():
                    self._set(key, raw)
        with contextlib.suppress(OSError):
            for line in self.journal_path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:  # a line torn by a kill: that item is simply graded again
                    continue
                if isinstance(record, dict) and isinstance(record.get("key"), str):
                    self._set(record["key"], record.get("entry"))
        return self

    def _set(self, key: str, raw: Any) -> None:
        if raw is None:
            self.entries.pop(key, None)
            return
        try:
            self.entries[key] = ManifestEntry.model_validate(raw)
        except ValidationError:
            self.entries.pop(key, None)

    def record(self, key: str, entry: ManifestEntry | None) -> None:
        """Remember (or forget, with None) one source; durable as soon as this returns."""
        if entry is None:
            if key not in self.entries:
                return
            self.entries.pop(key, None)
        else:
            if self.entries.get(key) == entry:
                return
            self.entries[key] = entry
        if self._journal is None:
            self._journal = self.journal_path.open("a", encoding="utf-8")
        line = {"key": key, "entry": entry.model_dump() if entry else None}
        self._journal.write(json.dumps(line, sort_keys=True) + "\n")
        self._journal.flush()

    def save(self) -> None:
        """Write the whole manifest atomically and drop the journal it now contains."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        write_atomic(self.path, self._lines())
        with contextlib.suppress(FileNotFoundError):
            self.journal_path.unlink()

    def _lines(self) -> Iterator[str]:
        """The manifest as JSON, one item per line, streamed: no second copy of a 10,000-item dict in memory."""
        yield f'{{"format": {MANIFEST_FORMAT}, "items": {{'
        for n, key in enumerate(sorted(self.entries)):
            entry = json.dumps(self.entries[key].model_dump(), sort_keys=True)
            yield f"{',' if n else ''}\n {json.dumps(key)}: {entry}"
        yield "\n}}\n"


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
) -> BatchResult:
    """Grade every transcript the inputs name into `out_dir`; see the module docstring.

    `progress`: None shows a rich progress bar when stderr is a terminal, True always, False never, or a
    callback `progress(done, total, id)` called once per transcript from the calling thread.
    Raises `ConfigError` when the inputs name no file at all, or for an unusable output directory or
    extractor; any problem with one transcript is an error row instead.
    """
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}")
    out_dir = Path(out_dir)
    entries = _expand(inputs, out_dir)
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
    ctx = _Context(out_dir, extractor, str(extractor.name), settings, _current_rubric_version())

    ids = iter(assign_ids([path for path, _ in files]))
    items: list[Item] = []
    rows: dict[int, BatchRow] = {}
    for index, entry in enumerate(entries):
        if isinstance(entry, Missing):
            rows[index] = error_row(_safe(Path(entry.input).name), entry.input, f"{entry.input}: {entry.why}")
        else:
            items.append(Item(index, entry[0], next(ids), entry[1]))
    manifest = Manifest(out_dir).load()
    report = _progress_reporter(progress, len(entries))
    done = 0
    try:
        for row in list(rows.values()):
            done += 1
            report(done, row.id)
        with contextlib.closing(_run(items, manifest, ctx, workers)) as outcomes:
            for outcome in outcomes:
                rows[outcome.item.index] = outcome.row
                manifest.record(outcome.item.key, outcome.entry)
                done += 1
                report(done, outcome.item.id)
    finally:
        manifest.save()
        _close_reporter(report)

    ordered = [rows[i] for i in range(len(entries))]
    csv_text, md_text = summarise(ordered)
    write_atomic(out_dir / SUMMARY_CSV, csv_text)
    write_atomic(out_dir / SUMMARY_MD, md_text)
    ok = [r for r in ordered if r.ok and r.total is not None]
    return BatchResult(
        out_dir=out_dir,
        rows=ordered,
        total=len(ordered),
        graded=sum(r.ok for r in ordered),
        errors=sum(not r.ok for r in ordered),
        skipped=sum(r.skipped for r in ordered),
        levels=_counts(r.level for r in ok),
        recommendations=_counts(r.recommendation for r in ok),
        summary_csv=out_dir / SUMMARY_CSV,
        summary_md=out_dir / SUMMARY_MD,
    )


def _run(items: list[Item], manifest: Manifest, ctx: _Context, workers: int) -> Iterator[_Outcome]:
    """Outcomes as they complete. At most a few items per worker are in flight, so memory does not grow
    with the batch, and an interrupted batch cancels what has not started."""
    window = workers * 4
    queue = iter(items)
    with _executor(ctx, workers) as pool:
        if isinstance(pool, ProcessPoolExecutor):
            ctx = dataclasses.replace(ctx, extractor=RulesExtractor())  # ship a fresh one, not a loaded rubric
        pending: dict[Future[_Outcome], Item] = {}
        try:
            while True:
                while len(pending) < window and (item := next(queue, None)) is not None:
                    pending[pool.submit(_grade_one, item, manifest.entries.get(item.key), ctx)] = item
                if not pending:
                    return
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: pending[f].index):
                    item = pending.pop(future)
                    try:
                        yield future.result()
                    except Exception as exc:  # a worker process died (BrokenProcessPool): this row, not the batch
                        yield _failed(item, manifest.entries.get(item.key), ctx, exc)
        finally:
            for future in pending:
                future.cancel()


def _executor(ctx: _Context, workers: int) -> Executor:
    """Threads for the LLM extractor, which waits on the network; processes for the rules extractor, which
    is CPU-bound Python that threads would run one at a time under the GIL. Processes are spawned, not
    forked: the app calls this from a threaded Streamlit server."""
    if workers > 1 and isinstance(ctx.extractor, RulesExtractor):
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")


def _grade_one(item: Item, previous: ManifestEntry | None, ctx: _Context) -> _Outcome:
    """Never raises: every failure becomes an error row."""
    from grader import pipeline
    from grader.loaders import load_transcript

    try:
        transcript = load_transcript(item.path)
        content_hash = transcript.content_hash()
        if previous is not None and (reused := _reusable(item, previous, content_hash, ctx)) is not None:
            return _Outcome(item, reused, previous)
        report = pipeline.grade_transcript(transcript, extractor=ctx.extractor, settings=ctx.settings)
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


def _reusable(item: Item, previous: ManifestEntry, content_hash: str, ctx: _Context) -> BatchRow | None:
    """The earlier report's row when nothing that shapes the report changed, else None (grade again)."""
    if (
        previous.hash != content_hash
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
