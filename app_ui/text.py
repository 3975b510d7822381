"""Untrusted text (what a candidate typed, what a model wrote) made safe for `st.markdown`, and the small
formatting helpers every page shares."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from grader.scorecard import inline

_PARAGRAPH = re.compile(r"\n\s*\n")
# a line that starts a list item, a quote, a table row or a heading keeps its own line
_OWN_LINE = re.compile(r"^\s*(?:[-*+•]\s|\d{1,3}[.)]\s|>|\||#)")

# How the two speakers look in st.chat_message, on every page (Streamlit's icon font, no emoji).
CHAT_ROLES = {"interviewer": "assistant", "candidate": "user"}
CHAT_AVATARS = {"interviewer": ":material/record_voice_over:", "candidate": ":material/person:"}

REPLAY_PAGE = "replay"
"""The Replay page's url_path (app.py); links to a turn go there."""


def paragraphs(text: str) -> list[list[str]]:
    """The text's paragraphs, each a list of its lines, with the line breaks of a wrapped block (a YAML `|`
    block, a text file at 80 columns) joined back: a line is kept apart only where it starts a list item, a
    quote, a table row or a heading."""
    out: list[list[str]] = []
    for block in _PARAGRAPH.split(text.strip()):
        lines: list[str] = []
        for raw in block.splitlines():
            line = raw.strip()
            if not line:
                continue
            if lines and not _OWN_LINE.match(raw):
                lines[-1] = f"{lines[-1]} {line}"
            else:
                lines.append(line)
        if lines:
            out.append(lines)
    return out


def md_text(text: str) -> str:
    """Text as a person reads it: wrapped lines joined into paragraphs, list items kept on their own lines,
    Markdown specials escaped (`~350 GB` does not strike through, `$2` does not start LaTeX, `# Plan` is not a
    heading)."""
    return "\n\n".join("  \n".join(inline(line) for line in p) for p in paragraphs(text))


def mmss(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def replay_href(file: str, turn: int | None = None) -> str:
    """The Replay page at a transcript (its name in the Replay list) and a turn (0-based index; shown 1-based
    in the URL, as on the page). Relative, so it works under any base URL."""
    params = {"file": file} | ({"turn": str(turn + 1)} if turn is not None else {})
    return f"{REPLAY_PAGE}?{urlencode(params)}"
