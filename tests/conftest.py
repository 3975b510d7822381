"""Test-wide guards: no network beyond loopback, no real API keys, no user cache."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address, *args, **kwargs):  # type: ignore[no-untyped-def]
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise RuntimeError(f"test tried to reach {host}: only 127.0.0.1 is allowed")
    return _real_connect(self, address, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_network_no_keys(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COACH_LLM_API_KEY", "COACH_LLM_BASE_URL", "COACH_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COACH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What each download button would serve, by label (AppTest cannot fetch the file itself)."""
    from streamlit.delta_generator import DeltaGenerator  # app tests only: the core's tests never load Streamlit

    served: dict[str, Any] = {}
    real = DeltaGenerator.download_button

    def spy(self: DeltaGenerator, label: str, data: Any, *args: Any, **kwargs: Any) -> bool:
        served[label] = data
        return real(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    return served
