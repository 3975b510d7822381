"""Write a file so that readers, and a process killed mid-write, never see half of it.

A temp file in the same directory (os.replace is atomic only within one file system), flushed and fsynced, then
renamed over the target, and the directory fsynced so the rename survives a crash too. Sessions, sidecars, cached claims, uploads and batch reports all go through here.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: str | Path, data: str | bytes | Iterable[str], *, keep_mode: bool = False) -> Path:
    """Write `data` (text, bytes, or pieces of text) to `path` atomically; create the parent directory.
    `keep_mode`: an existing file keeps its permissions (mkstemp creates 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if isinstance(data, bytes):
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.writelines([data] if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
        if keep_mode:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); file systems and platforms that cannot do this are skipped."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
