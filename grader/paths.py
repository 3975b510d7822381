"""Where the project's data lives. One place, so the app, the CLI and the tests find the same files."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUBRIC_DIR = ROOT / "rubric"
PROMPTS_DIR = ROOT / "prompts"
TRANSCRIPTS_DIR = ROOT / "transcripts"
SESSIONS_DIR = TRANSCRIPTS_DIR / "sessions"
RUBRIC_FILE = RUBRIC_DIR / "distributed_llm_serving.yaml"
SCENARIO_FILE = RUBRIC_DIR / "scenario.yaml"
