"""Runtime settings, read from the environment (prefix `COACH_`) when `get_settings()` is called.

The LLM is optional: with neither a key nor a base URL the grader stays offline. A local OpenAI-compatible
server (vLLM, Ollama) needs only `COACH_LLM_BASE_URL`; a dummy key is sent to it. The key is a `SecretStr`
and never appears in `repr()`, `describe()` or a dump; building settings registers it with `grader.redact`, so
it is also redacted from log lines, error messages and tracebacks (an endpoint may echo it back).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from grader.paths import TRANSCRIPTS_DIR

OPENAI_DEFAULT_ENDPOINT = "https://api.openai.com/v1"
DUMMY_API_KEY = "not-needed"  # sent to keyless local servers; the openai client refuses an empty key

InterviewerMode = Literal["auto", "offline", "llm"]
SystemRole = Literal["system", "user"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COACH_", extra="ignore", populate_by_name=True)

    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("COACH_LLM_BASE_URL", "OPENAI_BASE_URL"),
        description="None: OpenAI's endpoint. e.g. http://localhost:8000/v1 (vLLM), http://localhost:11434/v1 (Ollama)",
    )
    llm_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("COACH_LLM_API_KEY", "OPENAI_API_KEY"))
    llm_timeout_s: float = Field(30.0, gt=0, description="per request")
    llm_max_retries: int = Field(3, ge=0, description="retries after the first attempt, per request")
    llm_backoff_base_s: float = Field(1.0, ge=0, description="first retry waits this long, then doubles")
    llm_backoff_max_s: float = Field(20.0, ge=0, description="cap on one wait, Retry-After included")
    llm_chunk_chars: int = Field(12_000, ge=500, description="transcript characters per extraction request")
    llm_max_tokens: int | None = Field(None, ge=1, description="cap on each extraction answer; None: the server's")
    llm_temperature: float = Field(0.0, ge=0)
    llm_seed: int | None = 7
    llm_system_role: SystemRole = Field(
        "system",
        description="'user': instructions go in a user message, for chat formats that drop system messages "
        "(llama-cpp-python's gemma)",
    )
    cache_dir: Path = Path("~/.cache/interview-coach")
    interviewer_mode: InterviewerMode = "auto"
    interviewer_max_tokens: int = Field(200, ge=16, description="cap on each LLM interviewer reply, in tokens")
    interviewer_max_seconds: float = Field(30.0, gt=0, description="wall-clock cap on each LLM interviewer reply")
    batch_root: Path = Field(
        default_factory=lambda: TRANSCRIPTS_DIR,
        description="the only folder the app's Batch page may read (COACH_BATCH_ROOT); the CLI is not confined",
    )
    batch_file_timeout_s: float = Field(
        120.0, gt=0, description="a transcript still being graded in a batch after this long is an error row"
    )

    def model_post_init(self, context: object, /) -> None:
        """A key that reaches this process is redacted from every log line and message from now on."""
        from grader.redact import register_secret

        register_secret(self.llm_api_key.get_secret_value() if self.llm_api_key is not None else None)

    @field_validator("llm_base_url", "llm_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, v: object) -> object:
        if isinstance(v, str) and not v.strip():
            return None
        return v

    @field_validator("llm_base_url")
    @classmethod
    def _strip_slash(cls, v: str | None) -> str | None:
        return v.strip().rstrip("/") if v else v

    @field_validator("cache_dir", "batch_root")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @property
    def llm_configured(self) -> bool:
        """True when an LLM can be called: a key (OpenAI) or a base URL (any OpenAI-compatible server)."""
        return self.llm_api_key is not None or self.llm_base_url is not None

    @property
    def endpoint(self) -> str:
        """The base URL requests go to, for display and provenance."""
        return self.llm_base_url or OPENAI_DEFAULT_ENDPOINT

    def api_key_value(self) -> str:
        """The key to hand to the client: the real one, or a dummy for a keyless local server."""
        return self.llm_api_key.get_secret_value() if self.llm_api_key is not None else DUMMY_API_KEY

    def describe(self) -> dict[str, str]:
        """What the app and the CLI show. Says whether a key is set, never what it is."""
        return {
            "llm": ("configured" if self.llm_configured else "not configured (offline)"),
            "model": self.llm_model,
            "endpoint": self.endpoint,
            "api_key": "set" if self.llm_api_key is not None else "not set",
            "timeout": f"{self.llm_timeout_s:g}s",
            "retries": str(self.llm_max_retries),
            "temperature": f"{self.llm_temperature:g}",
            "seed": "none" if self.llm_seed is None else str(self.llm_seed),
            "cache_dir": str(self.cache_dir),
            "batch_root": str(self.batch_root),
            "batch_file_timeout": f"{self.batch_file_timeout_s:g}s",
            "interviewer_mode": self.interviewer_mode,
        }


def get_settings(**overrides: object) -> Settings:
    """Fresh settings from the environment (nothing is cached at import), with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
