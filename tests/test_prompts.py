"""Every prompt renders with exactly its declared variables; a missing or unused one is a PromptError."""

from __future__ import annotations

import re

import pytest

from grader.errors import PromptError
from grader.paths import PROMPTS_DIR
from grader.prompts import PromptTemplate, load_prompt, prompt_hash, prompt_names, render_prompt


def declared() -> dict[str, set[str]]:
    """prompts/README.md: one line per prompt, "- `name.md` — ... Variables: `a`, `b`."."""
    out: dict[str, set[str]] = {}
    for line in (PROMPTS_DIR / "README.md").read_text().splitlines():
        m = re.match(r"^- `([\w-]+)\.md`", line)
        if not m:
            continue
        _, _, tail = line.partition("Variables:")
        out[m.group(1)] = set(re.findall(r"`(\w+)`", tail))
    return out


def test_every_prompt_is_documented() -> None:
    assert prompt_names(), "prompts/ holds no prompt"
    assert set(prompt_names()) == set(declared())


@pytest.mark.parametrize("name", prompt_names())
def test_prompt_renders_with_its_declared_variables(name: str) -> None:
    wanted = declared()[name]
    assert load_prompt(name).variables == wanted
    values = {v: f"<<{v}-value>>" for v in wanted}
    text = render_prompt(name, **values)
    for v in values.values():
        assert v in text
    assert not re.search(r"(?<!\{)\{\w+\}(?!\})", text), "a placeholder was left in the rendered prompt"


@pytest.mark.parametrize("name", prompt_names())
def test_missing_or_unused_variable_raises(name: str) -> None:
    wanted = sorted(declared()[name])
    values = dict.fromkeys(wanted, "x")
    if wanted:
        partial = dict(values)
        partial.pop(wanted[0])
        with pytest.raises(PromptError, match=rf"missing variable.*{wanted[0]}"):
            render_prompt(name, **partial)
    with pytest.raises(PromptError, match=r"unused variable.*surplus"):
        render_prompt(name, **values, surplus="x")


def test_template_rules() -> None:
    t = PromptTemplate("t", "Hello {who}, braces {{kept}}.")
    assert t.render(who="you") == "Hello you, braces {kept}."
    assert t.variables == {"who"}
    for bad in ("{a.b}", "{0}", "{}", "{x!r}", "{x:>3}", "lone { brace"):
        with pytest.raises(PromptError):
            PromptTemplate("bad", bad).render(x="1", a="1")


def test_values_are_inserted_literally() -> None:
    t = PromptTemplate("t", "data: {d}")
    assert t.render(d="{not_a_placeholder}") == "data: {not_a_placeholder}"


def test_unknown_prompt_is_a_prompt_error() -> None:
    with pytest.raises(PromptError, match="no prompt named"):
        render_prompt("does_not_exist")


def test_prompt_hash_follows_the_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert prompt_hash("extract_claims") == load_prompt("extract_claims").hash
    (tmp_path / "p.md").write_text("one {x}")
    first = load_prompt("p", tmp_path).hash
    (tmp_path / "p.md").write_text("two {x}")
    assert load_prompt("p", tmp_path).hash != first
