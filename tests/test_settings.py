"""Settings: read from COACH_* (and OPENAI_*) at call time, the key never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from grader.settings import DUMMY_API_KEY, OPENAI_DEFAULT_ENDPOINT, Settings, get_settings

SECRET = "sk-test-DO-NOT-LEAK-1234567890"


def test_defaults_are_offline(tmp_path: Path) -> None:
    s = get_settings()
    assert s.llm_model == "gpt-4o-mini"
    assert s.llm_base_url is None and s.llm_api_key is None
    assert not s.llm_configured
    assert s.endpoint == OPENAI_DEFAULT_ENDPOINT
    assert (s.llm_timeout_s, s.llm_max_retries, s.llm_temperature, s.llm_seed) == (30, 3, 0, 7)
    assert s.interviewer_mode == "auto"


def test_cache_dir_from_env_and_home_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COACH_CACHE_DIR", str(tmp_path / "c"))
    assert get_settings().cache_dir == tmp_path / "c"
    monkeypatch.delenv("COACH_CACHE_DIR")
    assert get_settings().cache_dir == Path.home() / ".cache" / "interview-coach"


def test_openai_env_vars_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1/")
    s = get_settings()
    assert s.llm_configured
    assert s.api_key_value() == SECRET
    assert s.llm_base_url == "http://localhost:8000/v1"


def test_coach_vars_win_over_openai_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("COACH_LLM_API_KEY", "sk-coach")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://a/v1")
    monkeypatch.setenv("COACH_LLM_BASE_URL", "http://b/v1")
    monkeypatch.setenv("COACH_LLM_MODEL", "llama3")
    monkeypatch.setenv("COACH_LLM_TIMEOUT_S", "2.5")
    monkeypatch.setenv("COACH_INTERVIEWER_MODE", "offline")
    s = get_settings()
    assert (s.api_key_value(), s.llm_base_url, s.llm_model) == ("sk-coach", "http://b/v1", "llama3")
    assert s.llm_timeout_s == 2.5 and s.interviewer_mode == "offline"


def test_get_settings_reads_the_environment_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_settings().llm_model == "gpt-4o-mini"
    monkeypatch.setenv("COACH_LLM_MODEL", "other")
    assert get_settings().llm_model == "other"
    assert get_settings(llm_model="explicit").llm_model == "explicit"


def test_a_local_server_needs_no_key() -> None:
    s = Settings(llm_base_url="http://localhost:11434/v1")
    assert s.llm_configured
    assert s.llm_api_key is None
    assert s.api_key_value() == DUMMY_API_KEY


def test_blank_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    monkeypatch.setenv("COACH_LLM_BASE_URL", "  ")
    assert not get_settings().llm_configured


def test_bad_values_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(interviewer_mode="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Settings(llm_timeout_s=0)
    with pytest.raises(ValidationError):
        Settings(llm_max_retries=-1)


def test_the_key_never_leaks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    s = get_settings()
    shown = [repr(s), str(s), s.model_dump_json(), repr(s.model_dump()), repr(s.describe()), str(s.describe())]
    for text in shown:
        assert SECRET not in text
    assert s.describe()["api_key"] == "set"
    assert s.describe()["llm"] == "configured"
    assert get_settings(llm_api_key=None).describe()["api_key"] == "not set"
