"""What the LLM extractor keeps on disk, under `settings.cache_dir`.

`ClaimsCache`: a content-addressed cache of validated (grounded) claims, one JSON file per key. The key covers
everything that can change the claims: what was said (the transcript's content hash), the prompt, the claims
schema, the model and endpoint, temperature and seed, and the grader's version. Only successful extractions
are stored (never an error or a fallback). A file that cannot be read or does not validate is a miss, not an
error. Writes are atomic (temp file + os.replace), so a crash leaves no half file.

`MethodMemory`: which way of asking for structured output worked last time, per endpoint and model, so the
next run does not spend a request on a format the server has already refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader import __version__
from grader.atomic import write_atomic
from grader.claims import CLAIMS_SCHEMA_VERSION, Claims

log = logging.getLogger(__name__)


def cache_key(
    *,
    transcript_hash: str,
    prompt_hash: str,
    model: str,
    endpoint: str,
    temperature: float,
    seed: int | None,
    schema_version: str = CLAIMS_SCHEMA_VERSION,
    grader_version: str = __version__,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """sha256 over the canonical JSON of every input that can change the claims."""
    parts = {
        "transcript": transcript_hash,
        "prompt": prompt_hash,
        "schema": schema_version,
        "model": model,
        "endpoint": endpoint,
        "temperature": temperature,
        "seed": seed,
        "grader": grader_version,
        "extra": dict(extra or {}),
    }
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class CacheEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    schema_version: str
    claims: Claims
    meta: dict[str, Any] = Field(default_factory=dict)


class ClaimsCache:
    """`<root>/claims/<key>.json`. `root` is normally `settings.cache_dir`."""

    def __init__(self, root: Path) -> None:
        self.dir = Path(root).expanduser() / "claims"

    def path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError(f"not a cache key: {key!r}")
        return self.dir / f"{key}.json"

    def get(self, key: str) -> CacheEntry | None:
        path = self.path(key)
        try:
            entry = CacheEntry.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, ValidationError) as e:
            log.warning("ignoring unreadable cache file %s: %s", path, str(e).splitlines()[0])
            return None
        if entry.key != key or entry.schema_version != CLAIMS_SCHEMA_VERSION:
            return None
        return entry

    def put(self, key: str, claims: Claims, meta: Mapping[str, Any] | None = None) -> Path:
        entry = CacheEntry(key=key, schema_version=CLAIMS_SCHEMA_VERSION, claims=claims, meta=dict(meta or {}))
        path = self.path(key)
        return write_atomic(path, entry.model_dump_json(indent=1))


class MethodEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str
    model: str
    method: str
    updated: datetime


class MethodFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: dict[str, MethodEntry] = Field(default_factory=dict)


class MethodMemory:
    """`<root>/structured_output.json`: per endpoint and model, the structured-output method that last worked.

    It is a hint, never a requirement: an unreadable file is an empty memory, a failed write only costs a refused
    request next time, and a remembered method the server later refuses is simply skipped past.
    """

    FILE = "structured_output.json"
    _lock = threading.Lock()  # one writer at a time within a process (batch extraction runs on threads)

    def __init__(self, root: Path) -> None:
        self.path = Path(root).expanduser() / self.FILE

    @staticmethod
    def key(endpoint: str, model: str) -> str:
        return f"{endpoint} {model}"

    def _read(self) -> MethodFile:
        try:
            return MethodFile.model_validate_json(self.path.read_bytes())
        except FileNotFoundError:
            return MethodFile()
        except (OSError, ValueError, ValidationError) as e:
            log.warning("ignoring unreadable %s: %s", self.path, str(e).splitlines()[0])
            return MethodFile()

    def get(self, endpoint: str, model: str) -> str | None:
        entry = self._read().entries.get(self.key(endpoint, model))
        return entry.method if entry is not None else None

    def put(self, endpoint: str, model: str, method: str) -> None:
        with self._lock:
            data = self._read()
            key = self.key(endpoint, model)
            old = data.entries.get(key)
            if old is not None and old.method == method:
                return
            data.entries[key] = MethodEntry(
                endpoint=endpoint, model=model, method=method, updated=datetime.now(UTC).replace(microsecond=0)
            )
            try:
                write_atomic(self.path, data.model_dump_json(indent=1))
            except OSError as e:
                log.warning("could not remember the structured-output method in %s: %s", self.path, e)
