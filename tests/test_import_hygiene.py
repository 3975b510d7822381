"""Importing the core loads no UI and no LLM client: the CLI starts fast, tests need neither, and only the
LLM adapters (loaded when used) pull LangChain, openai and tenacity in."""

import subprocess
import sys

import pytest

LLM_CLIENTS = {"openai", "langchain", "langchain_core", "langchain_openai", "tenacity", "py3langid"}


@pytest.mark.parametrize(
    "modules",
    [
        "grader, grader.cli, grader.calculator, grader.scenario, grader.claims, grader.report, grader.checker, "
        "grader.scoring, grader.pipeline, grader.batch, grader.scorecard, grader.rubric",
        "grader.interview, grader.interview.engine, grader.interview.llm, grader.interview.terminal, "
        "grader.interview.guards",
        "grader.settings, grader.prompts, grader.extract, grader.extract.base, grader.extract.grounding, "
        "grader.extract.cache, grader.extract.llm, grader.extract.structured",
    ],
    ids=["core", "interviewer", "extraction"],
)
def test_importing_loads_no_ui_and_no_llm_client(modules: str) -> None:
    code = (
        f"import sys, {modules}\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(LLM_CLIENTS | {'streamlit'})!r})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
