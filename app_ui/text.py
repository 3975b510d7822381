"""Untrusted text (what a candidate typed, what a model wrote) made safe for `st.markdown`."""

from __future__ import annotations

import re

from grader.scorecard import inline

_PARAGRAPH = re.compile(r"\n\s*\n")

# How the two speakers look in st.chat_message, on every page (Streamlit's icon font, no emoji).
CHAT_ROLES = {"interviewer": "assistant", "candidate": "user"}
CHAT_AVATARS = {"interviewer": ":material/record_voice_over:", "candidate": ":material/person:"}


def md_text(text: str) -> str:
    """Text as written, paragraphs and line breaks kept, Markdown specials escaped: `~350 GB` does not strike
    through, `$2` does not start LaTeX, `# Plan` is not a heading."""
    paragraphs = [p for p in _PARAGRAPH.split(text.strip()) if p.strip()]
    return "\n\n".join("  \n".join(inline(line) for line in p.splitlines() if line.strip()) for p in paragraphs)


def mmss(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 60}:{s % 60:02d}"
