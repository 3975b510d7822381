"""Read an interview transcript, in any format of shared/transcript-format.md, into the one `Transcript` model.

Transcripts come from people: hand-written YAML, chat-API exports, dictated notes. Each reader turns its format
into the same raw turns and one builder validates them, so every format fails the same way: one
`TranscriptError` naming the file and the line, never a traceback and never a silently empty transcript.
"""

from __future__ import annotations

import json
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import ValidationError

from grader.datafile import _line_of
from grader.errors import TranscriptError
from grader.transcript import Role, Transcript, Turn

MAX_TRANSCRIPT_BYTES = 2 * 1024 * 1024
"""A long interview is ~100 kB of text; anything near this limit is the wrong file, refused before it is read."""
MAX_TURNS = 5_000
"""A 45-minute interview has well under 200 turns."""
MAX_EXPANDED_CHARS = 2 * MAX_TRANSCRIPT_BYTES
"""Characters of text after YAML aliases are expanded: a file within the byte limit cannot reach this
without aliases, and an alias bomb (one anchor repeated 100,000 times) is refused before it is built."""
MAX_EXPANDED_NODES = 1_000_000
"""Values (scalars, lists, mappings) after alias expansion; a 2 MB file of `[1,1,...]` has about this many."""
MAX_DEPTH = 32
"""Nesting: a transcript is four levels deep (document, turns, turn, content parts)."""

_ROLES = {"interviewer": "interviewer", "assistant": "interviewer", "candidate": "candidate", "user": "candidate"}
_IGNORED_ROLES = {"system", "developer"}  # chat-API instructions, not part of the interview
_FORMATS = {
    "yaml": "yaml",
    "yml": "yaml",
    "json": "json",
    "text": "text",
    "txt": "text",
    "md": "text",
    "markdown": "text",
    "auto": "auto",
}
_PROJECT_FIELDS = "id, scenario, candidate, started_at, turns"
_TURN_FIELDS = "role, content, at, hint, replaced"


def load_transcript(path: str | Path, *, in_progress: bool = False) -> Transcript:
    """Load a transcript file, refusing oversized or non-regular files from `stat` before reading a byte.

    `in_progress=True` accepts a practice session that has no candidate turn yet (or no turn at all); grading
    needs the default, which refuses them.
    """
    path = Path(path)
    data = _read_capped(path)
    return load_transcript_bytes(data, name=str(path), in_progress=in_progress)


def load_transcript_bytes(data: bytes, *, name: str, in_progress: bool = False) -> Transcript:
    """Parse an uploaded file's bytes; `name` (the upload's file name) picks the format and appears in errors."""
    _check_size(len(data), name)
    text = _decode(data, name)
    return parse_transcript(text, name=name, fmt=_format_of(name), in_progress=in_progress)


def parse_transcript(text: str, *, name: str, fmt: str = "auto", in_progress: bool = False) -> Transcript:
    """Parse transcript text; `fmt` is yaml, json, text (txt/md) or auto (sniffed from the content)."""
    kind = _FORMATS.get(fmt.lower().lstrip("."))
    if kind is None:
        raise ValueError(f"unknown transcript format {fmt!r} (expected one of {', '.join(_FORMATS)})")
    if len(text) > MAX_TRANSCRIPT_BYTES:
        _check_size(len(text.encode("utf-8", "replace")), name)
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise TranscriptError("looks like a binary file (it contains NUL bytes), not a transcript", path=name)
    if not text.strip():
        raise TranscriptError("empty file", path=name)
    if kind == "auto":
        kind = _sniff(text)
    if kind == "text":
        src = _Source(name)
        return _build({}, _text_turns(text, src), src, in_progress=in_progress, turns_loc=())
    data, root = _read_yaml(text, name) if kind == "yaml" else _read_json(text, name)
    return _from_data(data, _Source(name, root), in_progress=in_progress)


# --- bytes and files ---------------------------------------------------------------------------------------


def _read_capped(path: Path) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise TranscriptError("no such file", path=path) from None
    except OSError as exc:
        raise TranscriptError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if stat.S_ISDIR(info.st_mode):
        raise TranscriptError("is a directory, not a transcript file", path=path)
    if not stat.S_ISREG(info.st_mode):
        raise TranscriptError("not a regular file", path=path)  # a FIFO or device would block or never end
    _check_size(info.st_size, path)
    try:
        with path.open("rb") as f:
            return f.read(MAX_TRANSCRIPT_BYTES + 1)  # the file may grow between stat and read
    except OSError as exc:
        raise TranscriptError(f"cannot read: {exc.strerror or exc}", path=path) from None


def _check_size(size: int, name: str | Path) -> None:
    if size > MAX_TRANSCRIPT_BYTES:
        mb = 1024 * 1024
        raise TranscriptError(
            f"file is {size / mb:.1f} MB; a transcript may be at most {MAX_TRANSCRIPT_BYTES // mb} MB", path=name
        )


def _decode(data: bytes, name: str) -> str:
    """UTF-8 only, so a mis-encoded export fails at the byte that is wrong instead of grading mojibake."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TranscriptError("UTF-16 text; save it as UTF-8", path=name)
    if b"\x00" in data:
        raise TranscriptError("looks like a binary file (it contains NUL bytes), not a transcript", path=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}; save it as UTF-8"
        raise TranscriptError(message, path=name, line=line) from None


def _format_of(name: str) -> str:
    return _FORMATS.get(Path(name).suffix.lower().lstrip("."), "auto")


def _sniff(text: str) -> str:
    """Guess the format of a file whose name does not say: JSON by its first character, YAML by `turns:`."""
    if text.lstrip().startswith(("{", "[")):
        return "json"
    if re.search(r"^turns\s*:", text, re.MULTILINE):
        return "yaml"
    return "text"


# --- structured formats (YAML and JSON) --------------------------------------------------------------------


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """Safe YAML that leaves timestamps as strings.

    Pydantic then parses them, so a bad date is reported with its field and line instead of PyYAML's bare
    "month must be in 1..12"; libyaml (when present) is fast and caps nesting depth.
    """

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
    }


@dataclass(frozen=True)
class _Source:
    """The file being read and, where known, its YAML node tree, so an error can point at its line."""

    name: str
    root: yaml.Node | None = None

    def line(self, *loc: int | str) -> int | None:
        return _line_of(self.root, loc) if self.root is not None else None

    def fail(self, message: str, *loc: int | str, line: int | None = None, turn: int | None = None) -> TranscriptError:
        if line is None and loc:
            line = self.line(*loc)
        if line is None and turn is not None:
            message = f"turn {turn + 1}: {message}"
        return TranscriptError(message, path=self.name, line=line)


def _compose(text: str, name: str) -> tuple[Any, yaml.Node | None]:
    """Compose the node graph (aliases are shared nodes, so this is linear in the file), check what it would
    expand to, and only then construct Python objects from it."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        check_tree(root, name)
        return loader.construct_document(root), root
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def check_tree(root: yaml.Node, name: str) -> None:
    """Refuse a YAML node graph that is bigger, deeper or stranger than any transcript, before it is built.

    Sizes are counted as the constructed document would have them, every alias expanded, but each node is
    visited once (sizes are memoised by node), so a 320 kB file of 100,000 aliases costs 100,000 steps, not
    1.96 GB. Also refused: a recursive alias, a key given twice in one mapping (YAML would keep the last one
    silently), and a NUL character (a `"\\0"` escape) in any text.
    """
    sizes: dict[int, tuple[int, int, int]] = {}  # id(node) -> (nodes, characters, depth), aliases expanded
    open_: set[int] = set()  # nodes whose children are being measured: the current path from the root
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_.discard(key)
            kids = _children(node)
            nodes = 1 + sum(sizes[id(k)][0] for k in kids)
            chars = (len(node.value) if isinstance(node, yaml.ScalarNode) else 0) + sum(sizes[id(k)][1] for k in kids)
            depth = 1 + max((sizes[id(k)][2] for k in kids), default=0)
            sizes[key] = (nodes, chars, depth)
            if depth > MAX_DEPTH:
                raise TranscriptError(f"nested more than {MAX_DEPTH} levels deep: not a transcript", path=name)
            if chars > MAX_EXPANDED_CHARS or nodes > MAX_EXPANDED_NODES:
                what = f"{chars:,} characters" if chars > MAX_EXPANDED_CHARS else f"{nodes:,} values"
                limit = (
                    f"{MAX_EXPANDED_CHARS:,} characters"
                    if chars > MAX_EXPANDED_CHARS
                    else f"{MAX_EXPANDED_NODES:,} values"
                )
                raise TranscriptError(
                    f"expands to {what} (YAML aliases repeat text); a transcript may have at most {limit}",
                    path=name,
                    line=_line(node),
                )
            continue
        if key in sizes:
            continue
        if key in open_:
            raise TranscriptError("a YAML alias refers to itself (a recursive structure)", path=name, line=_line(node))
        _check_node(node, name)
        open_.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in sizes)


def _check_node(node: yaml.Node, name: str) -> None:
    if isinstance(node, yaml.ScalarNode) and "\x00" in node.value:
        raise TranscriptError(
            "contains a NUL character (\\0), which no transcript text has", path=name, line=_line(node)
        )
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                if k.value in seen:
                    raise TranscriptError(f"key {k.value!r} given twice in one mapping", path=name, line=_line(k))
                seen.add(k.value)


def _read_yaml(text: str, name: str) -> tuple[Any, yaml.Node | None]:
    try:
        return _compose(text, name)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        kind = "YAML error" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error"
        problem = exc.problem or exc.context or "invalid YAML"
        raise TranscriptError(f"{kind}: {problem}", path=name, line=line) from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # a bad !!int or !!float value carries no mark
        raise TranscriptError(f"YAML error: {exc}", path=name) from None
    except RecursionError:
        raise TranscriptError("nested too deeply to be a transcript", path=name) from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook that refuses a key given twice (json.loads would keep the last one silently)."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _read_json(text: str, name: str) -> tuple[Any, yaml.Node | None]:
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        root = _json_positions(text)
        if root is not None:
            check_tree(root, name)  # raises with the line of the second key
        raise TranscriptError(f"key {exc.key!r} given twice in one object", path=name) from None
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"JSON syntax error: {exc.msg}", path=name, line=exc.lineno) from None
    except ValueError as exc:  # an integer too long to convert
        raise TranscriptError(f"JSON error: {exc}", path=name) from None
    except RecursionError:
        raise TranscriptError("nested too deeply to be a transcript", path=name) from None
    root = _json_positions(text)
    if root is not None:
        check_tree(root, name)  # NUL escapes and nesting, with their lines
    else:
        _check_data(data, name)
    return data, root


def _check_data(data: Any, name: str) -> None:
    """What `check_tree` refuses, for parsed JSON that YAML could not compose (so without line numbers)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TranscriptError(f"nested more than {MAX_DEPTH} levels deep: not a transcript", path=name)
        if isinstance(value, str) and "\x00" in value:
            raise TranscriptError("contains a NUL character (\\u0000), which no transcript text has", path=name)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in (*value, *value.values()))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _json_positions(text: str) -> yaml.Node | None:
    """Line numbers for JSON, best effort: the json module keeps no positions, but JSON is (almost) YAML.

    Tabs are whitespace outside JSON strings and forbidden inside them, so swapping them for spaces changes no
    line; the rare JSON that YAML still rejects (escaped emoji, for one) just gets no line numbers.
    """
    loader = _Loader(text.replace("\t", " "))
    try:
        return loader.get_single_node()
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    finally:
        loader.dispose()


def _from_data(data: Any, src: _Source, *, in_progress: bool) -> Transcript:
    """Dispatch on shape: the project's `turns:` mapping, or chat messages (a bare list or under `messages`)."""
    if isinstance(data, list):
        return _build({}, _turn_list(data, src, loc=(), strict=False), src, in_progress=in_progress, turns_loc=())
    if isinstance(data, dict) and "turns" in data:
        meta = {k: v for k, v in data.items() if k != "turns"}
        turns = _turn_list(data["turns"], src, loc=("turns",), strict=True)
        return _build(meta, turns, src, in_progress=in_progress, turns_loc=("turns",))
    if isinstance(data, dict) and "messages" in data:
        turns = _turn_list(data["messages"], src, loc=("messages",), strict=False)
        return _build({}, turns, src, in_progress=in_progress, turns_loc=("messages",))
    raise src.fail("no turns: expected a 'turns:' list of interviewer and candidate turns", line=1)


def _turn_list(items: Any, src: _Source, *, loc: tuple[str, ...], strict: bool) -> list[Turn]:
    if items is None:
        items = []
    if not isinstance(items, list):
        raise src.fail(f"'{loc[0]}' must be a list of turns", *loc)
    if len(items) > MAX_TURNS:
        raise src.fail(f"{len(items):,} turns; a transcript may have at most {MAX_TURNS:,}", *loc)
    turns = (_turn(item, src, loc=(*loc, i), strict=strict) for i, item in enumerate(items))
    return [t for t in turns if t is not None]


def _turn(item: Any, src: _Source, *, loc: tuple[str | int, ...], strict: bool) -> Turn | None:
    """One turn, or None for a chat system message. Strict (the project's format) refuses unknown fields to
    catch typos; chat exports carry extra keys (name, id, tool_calls) that are simply not ours."""
    index = int(loc[-1])
    if not isinstance(item, dict):
        raise src.fail("a turn must be a mapping with role and content", *loc, turn=index)
    role = _role(item.get("role"), src, loc)
    if role is None:
        return None
    fields = dict(item) if strict else {}
    content = _content(item.get("content"), src, loc, chat=not strict, keys=list(item))
    fields.update(role=role, content=content, line=src.line(*loc))
    try:
        return Turn.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "turn"
        if error["type"] == "extra_forbidden":
            message = f"unknown field {field!r} in a turn (expected {_TURN_FIELDS})"
        else:
            message = f"{field}: {error['msg']}"
        raise src.fail(message, *loc, field, turn=index) from None


def _role(value: Any, src: _Source, loc: tuple[str | int, ...]) -> str | None:
    index = int(loc[-1])
    if value is None:
        raise src.fail("turn has no role (expected a 'role' field: interviewer or candidate)", *loc, turn=index)
    key = value.strip().lower() if isinstance(value, str) else None
    if key in _IGNORED_ROLES:
        return None
    if key not in _ROLES:
        raise src.fail(f"unknown role {value!r} (expected interviewer or candidate)", *loc, "role", turn=index)
    return _ROLES[key]


def _content(value: Any, src: _Source, loc: tuple[str | int, ...], *, chat: bool, keys: list[Any] | None = None) -> str:
    index = int(loc[-1])
    if value is None:
        has = f"; this turn has {', '.join(repr(str(k)) for k in keys)}" if keys else ""
        raise src.fail(f"turn has no content (expected a 'content' field with what was said{has})", *loc, turn=index)
    if chat and isinstance(value, list):
        value = _join_parts(value)
    if not isinstance(value, str):
        kind = type(value).__name__
        raise src.fail(f"content must be text, not {kind} (put it in quotes)", *loc, "content", turn=index)
    value = _tidy(value)
    if not value:
        raise src.fail("turn has empty content", *loc, "content", turn=index)
    return value


def _join_parts(parts: list[Any]) -> Any:
    """OpenAI-style content parts ([{"type": "text", "text": ...}]) joined; anything else is left to fail."""
    if all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in parts):
        return "\n".join(p["text"] for p in parts)
    return parts


def _tidy(content: str) -> str:
    """Trailing spaces and a YAML block's final newline are not part of what was said; dropping them in every
    format gives the same interview the same content hash whichever file it came from."""
    return "\n".join(line.rstrip() for line in content.splitlines()).strip()


# --- plain text and Markdown -------------------------------------------------------------------------------

_LABEL = re.compile(
    r"""(?:\*\*|__)?                                  # optional Markdown bold: **Interviewer:**
        (?P<who>interviewer|candidate|q|a)\b
        (?:\s*[(\[][\d:.]+[)\]])?                      # optional timestamp: Interviewer (00:03:12):
        \s*(?:\*\*|__)?\s*:(?:\*\*|__)?                # the colon; bold may close before or after it
        [ \t]*(?P<rest>.*)""",
    re.IGNORECASE | re.VERBOSE,
)
_TEXT_ROLES: dict[str, Role] = {
    "interviewer": "interviewer",
    "q": "interviewer",
    "candidate": "candidate",
    "a": "candidate",
}


def _text_turns(text: str, src: _Source) -> list[Turn]:
    """Speaker labels start turns; other lines continue the current one.

    The first label fixes the style (Interviewer/Candidate or Q/A), so a candidate's "A: ..." list item inside
    an Interviewer/Candidate transcript stays part of the answer instead of starting a turn.
    """
    turns: list[tuple[Role, int, list[str]]] = []
    preamble: list[tuple[int, str]] = []
    style: bool | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        match = _LABEL.match(line)
        is_qa = match is not None and len(match["who"]) == 1
        if match and style in (None, is_qa):
            style = is_qa
            if len(turns) == MAX_TURNS:
                raise src.fail(f"over {MAX_TURNS:,} turns; a transcript may have at most {MAX_TURNS:,}", line=number)
            turns.append((_TEXT_ROLES[match["who"].lower()], number, [match["rest"]]))
        elif turns:
            turns[-1][2].append(line)
        else:
            preamble.append((number, line))
    if not turns:
        raise src.fail("no speaker labels found (expected lines starting 'Interviewer:' or 'Candidate:')", line=1)
    _check_preamble(preamble, src)
    return [_text_turn(role, number, lines, src) for role, number, lines in turns]


def _check_preamble(preamble: list[tuple[int, str]], src: _Source) -> None:
    """A Markdown title or rule before the first label is decoration; any other text would be silently lost."""
    for number, line in preamble:
        if line.strip() and not line.lstrip().startswith("#") and set(line.strip()) - set("-*_= "):
            raise src.fail("text before the first speaker label; label it or delete it", line=number)


def _text_turn(role: Role, number: int, lines: list[str], src: _Source) -> Turn:
    content = _tidy("\n".join(lines))
    if not content:
        raise src.fail(f"{role} turn has no content", line=number)
    return Turn(role=role, content=content, line=number)


# --- the one builder ---------------------------------------------------------------------------------------


def _build(
    meta: dict[str, Any], turns: list[Turn], src: _Source, *, in_progress: bool, turns_loc: tuple[str, ...]
) -> Transcript:
    if not in_progress:
        if not turns:
            raise src.fail("no turns", line=src.line(*turns_loc) or 1)
        if not any(t.role == "candidate" for t in turns):
            raise src.fail("no candidate turn: there is nothing to grade")
    fields = {**meta, "id": meta.get("id") or Path(src.name).stem, "source": src.name, "turns": turns}
    try:
        return Transcript.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "transcript"
        if error["type"] == "extra_forbidden":
            message = f"unknown field {field!r} (expected {_PROJECT_FIELDS})"
        else:
            message = f"{field}: {error['msg']}"
        raise src.fail(message, field) from None
