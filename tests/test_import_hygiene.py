"""The core imports no UI and no LLM client: the CLI starts fast and the tests need neither."""

import subprocess
import sys


def test_core_imports_no_ui_or_llm_client() -> None:
    code = (
        "import sys, grader, grader.cli, grader.calculator, grader.scenario, grader.claims, grader.report\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'streamlit', 'openai', 'langchain', "
        "'langchain_core', 'langchain_openai'})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
