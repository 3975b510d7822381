"""API keys never leave the process in text: not in error messages, log lines, tracebacks or the app, even when
the endpoint echoes the Authorization header back in its error body (a real server on 127.0.0.1 does here)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.errors import TranscriptError
from grader.paths import TRANSCRIPTS_DIR
from grader.redact import REDACTED, redact, register_secret
from tests.fake_openai_server import FakeOpenAIServer

KEY = "sk-test-0123456789abcdefSECRET"
ODD_KEY = "local-vllm-key-7f3a"  # no sk- prefix: only its exact value gives it away
SAMPLE = TRANSCRIPTS_DIR / "l5_solid.yaml"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def echo_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with FakeOpenAIServer() as server:
        yield server


def _env(server: FakeOpenAIServer, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_LLM", "OPENAI_"))}
    env.update(
        COACH_LLM_BASE_URL=server.base_url,
        COACH_LLM_API_KEY=key,
        COACH_LLM_MODEL="fake-model",
        COACH_LLM_MAX_RETRIES="0",
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


# --- the function ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Incorrect API key provided: Bearer {KEY}", f"Incorrect API key provided: Bearer {REDACTED}"),
        (f"key {KEY} refused", f"key {REDACTED} refused"),
        ("Authorization: Bearer abc.def-123456", f"Authorization: Bearer {REDACTED}"),
        ("?api_key=AbCdEf123456&x=1", f"?api_key={REDACTED}&x=1"),
        ('{"x-api-key": "zzzzzzzzzz"}', f'{{"x-api-key": "{REDACTED}"}}'),
        ("sk-short", "sk-short"),  # not key-shaped: nothing to hide
        ("the KV cache is 4.7 MB per token", "the KV cache is 4.7 MB per token"),
    ],
)
def test_redact_shapes(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_configured_key_is_redacted_whatever_its_shape() -> None:
    from grader.settings import get_settings

    get_settings(llm_api_key=ODD_KEY)
    assert redact(f"refused {ODD_KEY}!") == f"refused {REDACTED}!"
    assert ODD_KEY not in TranscriptError(f"endpoint said {ODD_KEY}", path="x.yaml").one_line()


def test_log_records_from_any_logger_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    register_secret(ODD_KEY)
    with caplog.at_level(logging.INFO):
        logging.getLogger("openai._base_client").info("request failed: %s", f"Bearer {KEY}")
        try:
            raise RuntimeError(f"server said {ODD_KEY}")
        except RuntimeError:
            logging.getLogger("streamlit.runtime").exception("uncaught")
    text = caplog.text
    assert KEY not in text and ODD_KEY not in text
    assert "request failed: Bearer [redacted]" in text and "server said [redacted]" in text


def test_uncaught_exception_traceback_is_redacted() -> None:
    code = (
        "from grader.settings import get_settings; get_settings(llm_api_key='abc-SECRET-xyz');"
        "raise RuntimeError('endpoint echoed abc-SECRET-xyz')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1 and "RuntimeError: endpoint echoed [redacted]" in out.stderr
    assert "abc-SECRET-xyz" not in out.stderr


# --- against an endpoint that echoes the header --------------------------------------------------------------


@pytest.mark.parametrize("key", [KEY, ODD_KEY], ids=["sk-key", "plain-key"])
def test_grade_with_the_llm_extractor_never_prints_the_key(echo_server: FakeOpenAIServer, key: str) -> None:
    echo_server.enqueue_auth_echo(401, times=5)
    cmd = [sys.executable, "-m", "grader", "grade", str(SAMPLE), "--extractor", "llm", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(echo_server, key), timeout=120)
    assert echo_server.count >= 1, "the endpoint was asked"
    assert out.returncode == 0, out.stderr
    assert '"extractor": "rules (fallback: authentication failed (HTTP 401))"' in out.stdout
    assert "Incorrect API key provided: Bearer [redacted]" in out.stderr, "the failure is still logged"
    assert key not in out.stdout + out.stderr


@pytest.mark.parametrize("key", [KEY, ODD_KEY], ids=["sk-key", "plain-key"])
def test_interview_with_the_llm_never_prints_the_key(echo_server: FakeOpenAIServer, key: str) -> None:
    echo_server.enqueue_auth_echo(401, times=5)
    cmd = [sys.executable, "-m", "grader", "interview", "--llm"]
    answers = (
        "I'd shard the weights with 8-way tensor parallelism inside one node.\n/end\n"  # the model words this reply
    )
    out = subprocess.run(
        cmd, input=answers, capture_output=True, text=True, cwd=ROOT, env=_env(echo_server, key), timeout=120
    )
    assert echo_server.count >= 1, "the endpoint was asked"
    assert out.returncode == 0, out.stderr
    assert "(the LLM failed; offline interviewer)" in out.stdout
    assert "Bearer [redacted]" in out.stderr
    assert key not in out.stdout + out.stderr


def test_streamlit_server_log_never_shows_the_key(
    echo_server: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The Practice page in LLM mode against the echoing endpoint: what the server logs and what the page shows."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from app_ui import resources

    for name, value in _env(echo_server, ODD_KEY).items():
        if name.startswith("COACH_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("COACH_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.setenv("COACH_TRANSCRIPTS_DIR", str(tmp_path / "transcripts"))
    monkeypatch.setattr(resources, "_secrets", dict)
    echo_server.enqueue_auth_echo(401, times=10)
    st.cache_resource.clear()
    try:
        with caplog.at_level(logging.DEBUG):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
            at.chat_input[0].set_value("I'd shard the weights with 8-way tensor parallelism inside one node.").run()
            assert not at.exception, at.exception
    finally:
        st.cache_resource.clear()
    assert echo_server.count >= 1, "the endpoint was asked"
    logged = caplog.text + "".join(capfd.readouterr())
    assert "Bearer [redacted]" in logged, "the failure is logged, without the key"
    shown = "\n".join(str(e.value) for kind in ("markdown", "caption", "error", "warning") for e in getattr(at, kind))
    assert ODD_KEY not in logged and ODD_KEY not in shown
