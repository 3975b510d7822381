"""The one in-memory shape of an interview, whatever file format it came from."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["interviewer", "candidate"]


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str
    at: datetime | None = None
    line: int | None = Field(default=None, description="1-based line in the source file where the turn starts")
    hint: bool = Field(default=False, description="an interviewer turn that gave a hint on request")
    replaced: str | None = Field(
        default=None, description="why an LLM's wording of this interviewer turn was replaced by the offline one"
    )


class Transcript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    scenario: str = "distributed-llm-serving"
    candidate: str | None = None
    started_at: datetime | None = None
    source: str | None = Field(default=None, description="the file it was loaded from, if any")
    turns: list[Turn]

    def candidate_turns(self) -> list[tuple[int, Turn]]:
        """(index, turn) for the candidate's turns: indexes stay the 0-based positions the report cites."""
        return [(i, t) for i, t in enumerate(self.turns) if t.role == "candidate"]

    def content_hash(self) -> str:
        """A hash of what is graded (roles and text), not of metadata, so renaming a file keeps its cache."""
        h = hashlib.sha256()
        for t in self.turns:
            h.update(t.role.encode())
            h.update(b"\x00")
            h.update(t.content.encode())
            h.update(b"\x01")
        return h.hexdigest()

    def word_count(self) -> int:
        return sum(len(t.content.split()) for t in self.turns)
