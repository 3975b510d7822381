"""Prompts are files in `prompts/`, loaded and filled by one function with strict variables.

A template uses `{name}` placeholders (str.format syntax; a literal brace is `{{` or `}}`). Rendering with a
variable the template does not use, or without one it uses, raises `PromptError`: a renamed placeholder
cannot silently send a prompt with a hole in it.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path

from grader.errors import PromptError
from grader.paths import PROMPTS_DIR


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str
    path: Path | None = None

    @property
    def variables(self) -> frozenset[str]:
        """The placeholders the template uses."""
        names: set[str] = set()
        try:
            parsed = list(string.Formatter().parse(self.text))
        except ValueError as e:  # a lone brace
            raise PromptError(f"bad template syntax: {e}", path=self.path or self.name) from e
        for _literal, field, spec, conversion in parsed:
            if field is None:
                continue
            if not field.isidentifier() or spec or conversion:
                raise PromptError(
                    f"placeholder {{{field}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} "
                    "must be a plain {name}",
                    path=self.path or self.name,
                )
            names.add(field)
        return frozenset(names)

    @property
    def hash(self) -> str:
        """sha256 of the template text (not of what it is filled with)."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    def render(self, **variables: object) -> str:
        wanted = self.variables
        missing = sorted(wanted - variables.keys())
        unused = sorted(variables.keys() - wanted)
        if missing or unused:
            parts = []
            if missing:
                parts.append("missing variable(s): " + ", ".join(missing))
            if unused:
                parts.append("unused variable(s): " + ", ".join(unused))
            raise PromptError("; ".join(parts), path=self.path or self.name)
        return self.text.format(**{k: str(v) for k, v in variables.items()})


def load_prompt(name: str, directory: Path | None = None) -> PromptTemplate:
    """`prompts/<name>.md` as a template. `directory` is for tests."""
    path = (directory or PROMPTS_DIR) / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise PromptError(f"no prompt named {name!r}", path=path) from e
    return PromptTemplate(name=name, text=text, path=path)


def render_prompt(name: str, /, **variables: object) -> str:
    """The prompt `name` filled with `variables`; a missing or unused variable raises PromptError."""
    return load_prompt(name).render(**variables)


def prompt_hash(name: str) -> str:
    """sha256 of the template file's text, for provenance and cache keys."""
    return load_prompt(name).hash


def prompt_names() -> list[str]:
    """Every prompt in `prompts/` (README.md is documentation, not a prompt)."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.md") if p.name != "README.md")
