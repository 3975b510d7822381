"""Many regular expressions over one text in one pass, with exactly the answers of plain `re`.

The grader asks hundreds of patterns about every sentence (the rubric's concepts, misconceptions and question
topics; the quantities' cue words), and Python's `re` has no multi-pattern mode: each pattern walks the whole
text, and almost all of them find nothing. A `PatternSet` compiles its named patterns once and reads from each
one's parse tree the *literals* any match must contain (`\\bKV cache\\b` needs "kv cache"; `(?:TP|tensor)\\w*
across` needs one of "tp", "tensor" and also " across"). A `Scan` folds the text's case once, finds every
literal in one pass (Aho-Corasick with `pyahocorasick` when it is installed, else one trie-shaped regex), and
runs a pattern with `re` only in the sentences that hold its literals. A pattern whose literals are absent
cannot match, and `re` decides every other case, so a scan answers what plain `re` answers, match for match.

The engine is chosen by `COACH_MATCHING` (`auto`, the default: `ahocorasick` if importable, else `trie`; or
`re`: no prefilter at all, the reference the tests compare against) or, in-process, `use_engine()`.

Three questions, each defined by the plain-`re` computation it equals:

- `hits(name)`: the sentences in which the entry's alternation finds a match when it runs once over the
  sentences joined by `sep` (a match's start decides its sentence). This is how the rules extractor reads a
  turn. Where every part of the entry is *local* (it can neither consume a newline nor be a single NUL, nor
  match the empty string, and uses no anchor but `^`/`$` under MULTILINE and `\\b`), this equals "the parts
  that match within each sentence", so each part runs only where its literals are; otherwise the whole
  alternation runs over the joined text, and only when some literal is present.
- `matching(name)`: the sentences in which any of the entry's patterns `search()`es, each sentence alone.
- `finditer(name, i)`: the entry's matches in sentence `i` alone, as `finditer` gives them.
"""

from __future__ import annotations

import os
import re
import re._constants as _c  # the parse tree's opcodes
import re._parser as _parser
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ENGINES = ("auto", "ahocorasick", "trie", "re")
ENV = "COACH_MATCHING"
SEPARATOR = "\n\x00\n"

# --- case folding ------------------------------------------------------------------------------------------

FOLD_EXTRA = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}  # İ ı ſ and the Kelvin sign
"""The characters outside ASCII that `re.IGNORECASE` matches to an ASCII letter (a test re-derives them from
every code point). Folding them too keeps a literal search from missing what `re` would match."""
_FOLD_TABLE = {ord(c): c.lower() for c in map(chr, range(65, 91))} | {ord(k): v for k, v in FOLD_EXTRA.items()}


def fold(text: str) -> str:
    """ASCII letters lower-cased and FOLD_EXTRA mapped, one character for one, so offsets hold."""
    return text.lower() if text.isascii() else text.translate(_FOLD_TABLE)


def _fold_char(c: str, ignorecase: bool) -> str | None:
    """The folded form a pattern's literal character is searched as; None when a case-insensitive match could
    be a character that does not fold to it (a cased letter outside ASCII)."""
    if c.isascii():
        return c.lower()
    if not ignorecase:
        return FOLD_EXTRA.get(c, c)
    if c in FOLD_EXTRA or c.lower() != c or c.upper() != c:
        return None
    return c


# --- what a pattern needs ----------------------------------------------------------------------------------

ANALYSIS_VERSION = 1
"""Bumped when `analyse` changes what it returns, so cached analyses are recomputed."""
_LIMIT = 64  # strings in one literal set
_MAX_LITERAL = 48
_NL, _NUL = 10, 0


@dataclass(frozen=True)
class Analysis:
    """What a pattern needs to match: `needs` is an AND of ORs of folded literals (every match contains one
    string of each set; `()` is no information, the pattern always runs). `local`: its matches never leave
    a sentence of a `SEPARATOR`-joined text (see the module docstring). `backref`: it refers to a group by
    number or name, so it means something else inside a joined alternation. `names`: its named groups, and
    `global_flags`: it starts with inline flags; either can keep it from being joined with others."""

    needs: tuple[tuple[str, ...], ...]
    local: bool
    backref: bool
    names: tuple[str, ...] = ()
    global_flags: bool = False

    def to_json(self) -> list[Any]:
        return [[list(s) for s in self.needs], self.local, self.backref, list(self.names), self.global_flags]

    @classmethod
    def from_json(cls, data: Any) -> Analysis:
        needs, local, backref, names, global_flags = data
        return cls(
            tuple(tuple(str(x) for x in s) for s in needs),
            bool(local),
            bool(backref),
            tuple(str(n) for n in names),
            bool(global_flags),
        )


class _Walk:
    """One pass over a parse tree: literal sets, and whether the pattern stays inside a sentence."""

    def __init__(self) -> None:
        self.nonlocal_ = False
        self.backref = False

    # each returns (exact, needs): `exact` the set of strings the node matches if small and finite, else None;
    # `needs` a list of literal sets each of which a match must contain one of
    def seq(
        self, items: Iterable[tuple[Any, Any]], st: tuple[bool, bool, bool]
    ) -> tuple[frozenset[str] | None, list[frozenset[str]]]:
        needs: list[frozenset[str]] = []
        run: frozenset[str] | None = frozenset([""])
        whole: frozenset[str] | None = frozenset([""])
        for op, av in items:
            exact, inner = self.item(op, av, st)
            needs += inner
            whole = _product(whole, exact) if whole is not None and exact is not None else None
            if exact is None:
                needs.append(run)
                run = frozenset([""])
                continue
            grown = _product(run, exact)
            if grown is None:
                needs.append(run)
                run = exact
            else:
                run = grown
        needs.append(run)
        return whole, [s for s in needs if _useful(s)]

    def item(self, op: Any, av: Any, st: tuple[bool, bool, bool]) -> tuple[frozenset[str] | None, list[frozenset[str]]]:
        ignorecase, multiline, _ = st
        if op is _c.LITERAL:
            f = _fold_char(chr(av), ignorecase)
            s = frozenset([f]) if f is not None else None
            return s, []
        if op in (_c.NOT_LITERAL, _c.ANY):
            return None, []
        if op is _c.IN:
            return _class_exact(av, ignorecase), []
        if op is _c.AT:
            if av in (_c.AT_BEGINNING, _c.AT_END):
                if not multiline:
                    self.nonlocal_ = True
            elif av not in (_c.AT_BOUNDARY, _c.AT_NON_BOUNDARY):
                self.nonlocal_ = True
            return frozenset([""]), []
        if op is _c.ASSERT:  # what a lookaround must see is in the text, though not in the match
            exact, inner = self.seq(av[1].data, st)
            return frozenset([""]), inner + ([exact] if exact is not None and _useful(exact) else [])
        if op is _c.ASSERT_NOT:
            self.seq(av[1].data, st)
            return frozenset([""]), []
        if op is _c.SUBPATTERN:
            _, add, delete, body = av
            st2 = tuple(
                (on or bool(add & flag)) and not (delete & flag)
                for on, flag in zip(st, (re.IGNORECASE, re.MULTILINE, re.DOTALL), strict=True)
            )
            return self.seq(body.data, st2)  # type: ignore[arg-type]
        if op is getattr(_c, "ATOMIC_GROUP", None):
            return self.seq(av.data, st)
        if op is _c.BRANCH:
            subs = [self.seq(b.data, st) for b in av[1]]
            exact = None
            if all(e is not None for e, _ in subs):
                exact = frozenset().union(*(e for e, _ in subs))  # type: ignore[misc]
                exact = exact if len(exact) <= _LIMIT else None
            picks = [_best([*n, *([e] if e is not None else [])]) for e, n in subs]
            needs = [frozenset().union(*picks)] if all(p is not None for p in picks) else []  # type: ignore[misc]
            return exact, [s for s in needs if _useful(s)]
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            lo, hi, body = av
            exact, inner = self.seq(body.data, st)
            rep = _repeat(exact, lo, hi)
            if lo >= 1:
                return rep, inner + ([exact] if exact is not None and _useful(exact) else [])
            return rep, []
        if op in (_c.GROUPREF, _c.GROUPREF_EXISTS):
            self.backref = True
            self.nonlocal_ = True
            return None, []
        return None, []


def _product(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None or b is None or len(a) * len(b) > _LIMIT:
        return None
    out = frozenset(x + y for x in a for y in b)
    return out if all(len(s) <= _MAX_LITERAL for s in out) else None


def _repeat(exact: frozenset[str] | None, lo: int, hi: int) -> frozenset[str] | None:
    if exact is None or hi > 3:
        return None
    out: set[str] = set()
    acc: frozenset[str] | None = frozenset([""])
    for k in range(hi + 1):
        if acc is None:
            return None
        if k >= lo:
            out |= acc
        acc = _product(acc, exact)
    return frozenset(out) if len(out) <= _LIMIT else None


def _useful(s: frozenset[str] | None) -> bool:
    return bool(s) and "" not in s  # type: ignore[operator]


_COMMON = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "for",
        "from",
        "have",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "this",
        "to",
        "we",
        "with",
        "you",
        "ll",
        "re",
        "ve",
        "per",
        "all",
        "one",
        "each",
        "any",
        "how",
        "what",
        "which",
    ]
)
"""Words in almost every sentence: a literal that is one of them (give or take spaces) finds nothing out."""
_RARE_SYMBOLS = frozenset("$%+=×÷≈→⇒<>≤≥#@^~|*()[]{}/\\")


def _weight(lit: str) -> int:
    core = lit.strip()
    if len(core) == 1:
        return 1 if core in _RARE_SYMBOLS else 0
    return 0 if core in _COMMON else len(core)


def _selective(s: frozenset[str]) -> bool:
    return _useful(s) and min(map(_weight, s)) >= 1


def _score(s: frozenset[str]) -> tuple[int, int]:
    return (min(map(_weight, s)), -len(s))


def _best(sets: Iterable[frozenset[str]]) -> frozenset[str] | None:
    sets = [s for s in sets if _useful(s)]
    return max(sets, key=_score) if sets else None


_CATEGORY_HAS = {  # whether \s, \S, \d, \D, \w, \W match a newline, and a NUL
    _NL: {_c.CATEGORY_SPACE, _c.CATEGORY_NOT_DIGIT, _c.CATEGORY_NOT_WORD},
    _NUL: {_c.CATEGORY_NOT_SPACE, _c.CATEGORY_NOT_DIGIT, _c.CATEGORY_NOT_WORD},
}
_CATEGORIES = {
    _c.CATEGORY_SPACE,
    _c.CATEGORY_NOT_SPACE,
    _c.CATEGORY_DIGIT,
    _c.CATEGORY_NOT_DIGIT,
    _c.CATEGORY_WORD,
    _c.CATEGORY_NOT_WORD,
}


def _class_has(items: list[tuple[Any, Any]], code: int) -> bool:
    """Whether a character class ([...], \\s, \\W) can match the character `code` (conservatively True)."""
    negate = False
    hit = False
    for op, av in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            hit |= av == code
        elif op is _c.RANGE:
            hit |= av[0] <= code <= av[1]
        elif op is _c.CATEGORY and av in _CATEGORIES and code in _CATEGORY_HAS:
            hit |= av in _CATEGORY_HAS[code]
        else:
            return True
    return hit != negate


def _class_exact(items: list[tuple[Any, Any]], ignorecase: bool) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL:
            chars.add(chr(av))
        elif op is _c.RANGE and av[1] - av[0] < 12:
            chars.update(map(chr, range(av[0], av[1] + 1)))
        else:
            return None
    folded = {_fold_char(c, ignorecase) for c in chars}
    if None in folded or len(folded) > 12:
        return None
    return frozenset(folded)  # type: ignore[arg-type]


def _implied(weaker: frozenset[str], by: frozenset[str]) -> bool:
    """Every string of `by` contains one of `weaker`: a text holding `by` holds `weaker` too."""
    return all(any(w in s for w in weaker) for s in by)


@lru_cache(maxsize=4096)
def analyse(pattern: str, flags: int) -> Analysis:
    """The literals a pattern needs and whether it is local; a pattern `re` cannot parse raises `re.error`."""
    tree = _parser.parse(pattern, flags)
    walk = _Walk()
    st = tuple(bool(tree.state.flags & f) for f in (re.IGNORECASE, re.MULTILINE, re.DOTALL))
    _, needs = walk.seq(tree.data, st)  # type: ignore[arg-type]
    # local: no match can hold a character of SEPARATOR ("\n\x00\n", between sentences free of both): a newline
    # in a match would be its first or last character or stand next to the NUL, and a NUL would be all of it
    # or stand next to a newline; nor can a match be empty
    shape = _shape(tree.data, bool(tree.state.flags & re.DOTALL))
    lo, _ = tree.getwidth()
    local = (
        not walk.nonlocal_
        and lo >= 1
        and not (shape.nullable or shape.crossing or shape.fn or shape.ln)
        and (lo >= 2 or not shape.fz)
    )
    # the most selective sets first (longest shortest string, then fewest strings; ties in a fixed order); a
    # set of single letters or digits would be found everywhere, so it is no information
    ranked = sorted({s for s in needs if _selective(s)}, key=lambda s: (_score(s), sorted(s)), reverse=True)
    chosen: list[frozenset[str]] = []
    for s in ranked:
        if chosen and _score(s)[0] < 3:
            break  # a weak second condition costs more to test than it saves
        if len(chosen) < 3 and not any(_implied(s, c) for c in chosen):
            chosen.append(s)
    return Analysis(
        tuple(tuple(sorted(s)) for s in chosen),
        local,
        walk.backref,
        tuple(sorted(tree.state.groupdict)),
        bool(_GLOBAL_FLAGS.match(pattern)),
    )


_GLOBAL_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")


def joinable(analyses: Sequence[Analysis]) -> bool:
    """Whether `(?:a)|(?:b)|...` compiles (as the rubric's `compile_any` tries): no global inline flags past
    the first, no group name twice."""
    names = [n for a in analyses for n in a.names]
    return not any(a.global_flags for a in analyses[1:]) and len(names) == len(set(names))


@dataclass(frozen=True)
class _Shape:
    """Which ends of a pattern's matches can be a newline or a NUL (`fn`/`fz`: the first character; `ln`/`lz`:
    the last), whether it can match the empty string, and `crossing`: a newline can sit next to a NUL inside a
    match. Assertions are transparent (that only allows more), and what they look at may be neither."""

    nullable: bool
    fn: bool = False
    fz: bool = False
    ln: bool = False
    lz: bool = False
    crossing: bool = False


_EMPTY = _Shape(True)
_OPAQUE = _Shape(False, True, True, True, True, True)


def _leaf(nl: bool, nul: bool) -> _Shape:
    return _Shape(False, nl, nul, nl, nul)


def _shape(data: Iterable[tuple[Any, Any]], dotall: bool) -> _Shape:
    """Glushkov's first/last/follow sets over a sequence, kept only as the two characters that matter."""
    out = _EMPTY
    for op, av in data:
        out = _concat(out, _shape_item(op, av, dotall))
    return out


def _concat(a: _Shape, b: _Shape) -> _Shape:
    crossing = a.crossing or b.crossing or (a.ln and b.fz) or (a.lz and b.fn)
    return _Shape(
        a.nullable and b.nullable,
        a.fn or (a.nullable and b.fn),
        a.fz or (a.nullable and b.fz),
        b.ln or (b.nullable and a.ln),
        b.lz or (b.nullable and a.lz),
        crossing,
    )


def _union(shapes: list[_Shape]) -> _Shape:
    return _Shape(
        any(x.nullable for x in shapes),
        any(x.fn for x in shapes),
        any(x.fz for x in shapes),
        any(x.ln for x in shapes),
        any(x.lz for x in shapes),
        any(x.crossing for x in shapes),
    )


def _shape_item(op: Any, av: Any, dotall: bool) -> _Shape:
    if op is _c.LITERAL:
        return _leaf(av == _NL, av == _NUL)
    if op is _c.NOT_LITERAL:
        return _leaf(av != _NL, av != _NUL)
    if op is _c.ANY:
        return _leaf(dotall, True)
    if op is _c.IN:
        return _leaf(_class_has(av, _NL), _class_has(av, _NUL))
    if op is _c.AT:
        return _EMPTY
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        body = _shape(av[1].data, dotall)
        touches = body.crossing or body.fn or body.fz or body.ln or body.lz or _touches(av[1].data, dotall)
        return _OPAQUE if touches else _EMPTY
    if op is _c.SUBPATTERN:
        _, add, delete, body = av
        return _shape(body.data, (dotall or bool(add & re.DOTALL)) and not (delete & re.DOTALL))
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return _shape(av.data, dotall)
    if op is _c.BRANCH:
        return _union([_shape(b.data, dotall) for b in av[1]])
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        lo, hi, body = av
        b = _shape(body.data, dotall)
        if hi == 0:
            return _EMPTY
        again = hi > 1 and ((b.ln and b.fz) or (b.lz and b.fn))
        return _Shape(lo == 0 or b.nullable, b.fn, b.fz, b.ln, b.lz, b.crossing or again)
    return _OPAQUE


def _touches(data: Iterable[tuple[Any, Any]], dotall: bool) -> bool:
    """Whether anything in the tree can consume a newline or a NUL (for what assertions look at)."""
    for op, av in data:
        if op in (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN):
            leaf = _shape_item(op, av, dotall)
            if leaf.fn or leaf.fz:
                return True
        elif op is _c.SUBPATTERN:
            if _touches(av[3].data, dotall or bool(av[1] & re.DOTALL)):
                return True
        elif op is _c.BRANCH:
            if any(_touches(b.data, dotall) for b in av[1]):
                return True
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            if _touches(av[2].data, dotall):
                return True
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            if _touches(av[1].data, dotall):
                return True
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            if _touches(av.data, dotall):
                return True
        elif op is not _c.AT:
            return True
    return False


def analysis(pattern: str, flags: int) -> Analysis:
    """`analyse()`, remembered across processes (grader/pattern_cache.py)."""
    from grader import pattern_cache  # it imports this module

    return pattern_cache.analysis(pattern, flags)


# --- engines -----------------------------------------------------------------------------------------------

_override: str | None = None


def engine() -> str:
    """The engine in force, resolved: 'ahocorasick', 'trie' or 're'."""
    name = (_override or os.environ.get(ENV) or "auto").strip().lower()
    if name not in ENGINES:
        name = "auto"
    if name in ("auto", "ahocorasick"):
        return "ahocorasick" if _ahocorasick() is not None else "trie"
    return name


@contextmanager
def use_engine(name: str) -> Iterator[None]:
    """Match with `name` inside the block (tests and benchmarks compare the engines in one process)."""
    global _override
    if name not in ENGINES:
        raise ValueError(f"unknown matching engine {name!r}; expected one of {', '.join(ENGINES)}")
    before, _override = _override, name
    try:
        yield
    finally:
        _override = before


@lru_cache(maxsize=1)
def _ahocorasick() -> Any:
    try:
        import ahocorasick  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return ahocorasick


class _Finder:
    """Every occurrence of a fixed set of literals in a folded text, as (start, literal id)."""

    def __init__(self, literals: Sequence[str], kind: str) -> None:
        self.literals = list(literals)
        self.lengths = [len(lit) for lit in self.literals]
        self.kind = kind
        if kind == "ahocorasick":
            aho = _ahocorasick()
            self._auto = aho.Automaton()
            for i, lit in enumerate(self.literals):
                self._auto.add_word(lit, (i, len(lit) - 1))
            if self.literals:
                self._auto.make_automaton()
        else:
            # one regex: at each position the longest literal that starts there (a trie, longest branch first);
            # the shorter literals that start there are its prefixes, found through `_prefixes`
            ids = {lit: i for i, lit in enumerate(self.literals)}
            self._trie = re.compile(f"(?=({_trie(sorted(ids))}))") if ids else None
            self._ids = ids
            self._prefixes = {i: [ids[lit[:k]] for k in range(1, len(lit)) if lit[:k] in ids] for lit, i in ids.items()}

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if not self.literals:
            return
        if self.kind == "ahocorasick":
            for end, (i, back) in self._auto.iter(text):
                yield end - back, i
            return
        ids, prefixes = self._ids, self._prefixes
        assert self._trie is not None
        for m in self._trie.finditer(text):
            i = ids[m.group(1)]
            yield m.start(), i
            for j in prefixes[i]:
                yield m.start(), j


def _trie(words: list[str]) -> str:
    """A regex alternation of `words` factored as a trie, longer continuations before a word that ends."""
    tree: dict[str, Any] = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in node.items() if ch]
        if "" in node:
            alts.append("")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    return emit(tree)


# --- pattern sets ------------------------------------------------------------------------------------------


@dataclass
class _Part:
    index: int
    source: str
    flags: int
    analysis: Analysis
    needs: tuple[frozenset[int], ...] = ()  # `analysis.needs` as literal ids
    _compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.source, self.flags)
        return self._compiled


@dataclass
class _Entry:
    name: Hashable
    parts: list[_Part]
    combined: tuple[re.Pattern[str], ...] | None
    flags: int
    provider: Callable[[], Sequence[re.Pattern[str]]] | None = None
    separate: bool = False
    local: bool = False
    decomposable: bool = False
    always: bool = False  # some part has no literal: the entry may match anywhere

    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """The entry as plain `re` runs it: the parts joined into one alternation (or apart, if they cannot be
        joined), exactly as the caller compiled them."""
        if self.combined is None:
            if self.provider is not None:
                self.combined = tuple(self.provider())
            elif self.separate:
                self.combined = tuple(p.compiled for p in self.parts)
            else:
                sources = [p.source for p in self.parts]
                self.combined = (re.compile("|".join(f"(?:{s})" for s in sources), self.flags),)
        return self.combined


class PatternSet:
    """Named entries, each a list of regexes meaning "any of these", compiled once.

    `compiled` gives, per name, the patterns plain `re` uses for the entry (the caller's own alternation, so the
    reference path is the caller's objects); without it they are joined here the same way. Every pattern is
    analysed on construction (remembered across processes: grader/pattern_cache.py); each is compiled alone only when a
    scan first needs it."""

    def __init__(
        self,
        entries: Mapping[Hashable, Sequence[str]],
        flags: int,
        compiled: Mapping[Hashable, Callable[[], Sequence[re.Pattern[str]]]] | None = None,
    ) -> None:
        self.flags = flags
        self.entries: dict[Hashable, _Entry] = {}
        literal_ids: dict[str, int] = {}
        self.parts: list[_Part] = []
        for name, sources in entries.items():
            parts = []
            for src in sources:
                a = analysis(src, flags)
                needs = tuple(
                    frozenset(literal_ids.setdefault(lit, len(literal_ids)) for lit in group) for group in a.needs
                )
                parts.append(_Part(len(self.parts) + len(parts), src, flags, a, needs))
            given = compiled.get(name) if compiled is not None else None
            entry = _Entry(name, parts, None, flags, given)
            entry.separate = not joinable([p.analysis for p in parts])  # the caller runs them one by one
            entry.local = bool(parts) and all(p.analysis.local for p in parts)
            entry.decomposable = entry.separate or not any(p.analysis.backref for p in parts)
            entry.always = any(not p.needs for p in parts)
            self.entries[name] = entry
            self.parts += parts
        self.literals = sorted(literal_ids, key=literal_ids.__getitem__)
        self.by_primary: dict[int, list[_Part]] = {}  # literal id -> the parts whose first set holds it
        for p in self.parts:
            for lid in p.needs[0] if p.needs else ():
                self.by_primary.setdefault(lid, []).append(p)
        self.unfiltered = [p for p in self.parts if not p.needs]
        self.entry_of = {p.index: e for e in self.entries.values() for p in e.parts}
        from grader import pattern_cache

        pattern_cache.save()  # what this set taught us, for the next process
        self._finders: dict[str, _Finder] = {}

    def subset(self, entry: _Entry, keep: tuple[int, ...]) -> tuple[re.Pattern[str], ...]:
        """The entry's patterns, for a text in which only the parts `keep` (part indexes, in order) can match:
        the one part alone when it is one (`(?:p)` is p), else the whole alternation (the other parts fail
        at every position, so they change nothing; compiling each combination would cost more than it saves)."""
        if entry.separate:  # the caller runs the parts one by one
            return tuple(self.parts[i].compiled for i in keep)
        if len(keep) == 1 and not any(p.analysis.backref for p in entry.parts):
            return (self.parts[keep[0]].compiled,)
        return entry.patterns()

    def finder(self, kind: str) -> _Finder:
        f = self._finders.get(kind)
        if f is None:
            f = self._finders[kind] = _Finder(self.literals, kind)
        return f

    def scan(self, segments: Sequence[str], sep: str = SEPARATOR) -> Scan:
        """One pass over the segments (sentences) for every entry's literals, with the engine in force."""
        kind = engine()
        if kind == "re":
            return _ReferenceScan(self, segments, sep)
        return _FastScan(self, segments, sep, self.finder(kind))


def join_hits(patterns: Sequence[re.Pattern[str]], joined: str, starts: Sequence[int]) -> list[int]:
    """Plain `re`: the segments in which any pattern finds a match over the joined text, by where it starts."""
    return sorted({bisect_right(starts, m.start()) - 1 for p in patterns for m in p.finditer(joined)})


class Scan:
    """The answers of one scan. Subclasses: the reference (plain `re`) and the prefiltered one."""

    def __init__(self, pset: PatternSet, segments: Sequence[str], sep: str) -> None:
        self.pset = pset
        self.segments = list(segments)
        self.sep = sep
        self._joined: str | None = None
        self._starts: list[int] | None = None

    @property
    def joined(self) -> str:
        if self._joined is None:
            self._joined = self.sep.join(self.segments)
        return self._joined

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            starts, pos = [], 0
            for s in self.segments:
                starts.append(pos)
                pos += len(s) + len(self.sep)
            self._starts = starts
        return self._starts

    def candidates(self, names: Iterable[Hashable]) -> list[Hashable]:
        """The names, in order, of the entries that may match somewhere (the others surely do not)."""
        return list(names)

    def hits(self, name: Hashable) -> list[int]:
        raise NotImplementedError

    def matching(self, name: Hashable) -> list[int]:
        raise NotImplementedError

    def finditer(self, name: Hashable, i: int = 0) -> list[re.Match[str]]:
        raise NotImplementedError


class _ReferenceScan(Scan):
    def hits(self, name: Hashable) -> list[int]:
        return join_hits(self.pset.entries[name].patterns(), self.joined, self.starts)

    def matching(self, name: Hashable) -> list[int]:
        pats = self.pset.entries[name].patterns()
        return [i for i, s in enumerate(self.segments) if any(p.search(s) for p in pats)]

    def finditer(self, name: Hashable, i: int = 0) -> list[re.Match[str]]:
        seg = self.segments[i]
        return [m for p in self.pset.entries[name].patterns() for m in p.finditer(seg)]


class _FastScan(Scan):
    """Literals found in one pass; then, for each part, the segments that hold every literal set it needs."""

    def __init__(self, pset: PatternSet, segments: Sequence[str], sep: str, finder: _Finder) -> None:
        super().__init__(pset, segments, sep)
        starts = self.starts
        n = len(starts)
        ends = [s + len(seg) for s, seg in zip(starts, self.segments, strict=True)]
        lengths = finder.lengths
        in_segment: list[set[int]] = [set() for _ in range(n)]  # literal ids each segment holds whole
        anywhere: set[int] = set()
        for start, lid in finder.find(fold(self.joined)):
            anywhere.add(lid)
            k = bisect_right(starts, start) - 1
            if k >= 0 and start + lengths[lid] <= ends[k]:
                in_segment[k].add(lid)
        self._anywhere = anywhere
        # part index -> the segments where it may match, for every part that may match somewhere
        cands: dict[int, list[int]] = {}
        for k, lids in enumerate(in_segment):
            for lid in lids:
                for part in pset.by_primary.get(lid, ()):
                    if all(not group.isdisjoint(lids) for group in part.needs[1:]):
                        segs = cands.setdefault(part.index, [])
                        if not segs or segs[-1] != k:
                            segs.append(k)
        everywhere = list(range(n))
        for part in pset.unfiltered:
            cands[part.index] = everywhere
        self._cands = cands
        by_entry: dict[Hashable, list[int]] = {}  # entry -> its parts that may match, in order
        for i in sorted(cands):
            by_entry.setdefault(pset.entry_of[i].name, []).append(i)
        self._entries = by_entry
        # sentences free of the separator's characters: the precondition for answering by sentence
        self._clean = sep == SEPARATOR and all(s and "\n" not in s and "\x00" not in s for s in self.segments)

    def candidates(self, names: Iterable[Hashable]) -> list[Hashable]:
        entries = self._entries
        return [n for n in names if n in entries]

    def _by_part(self, entry: _Entry) -> list[int]:
        found: set[int] = set()
        segments, cands, parts = self.segments, self._cands, self.pset.parts
        for i in self._entries.get(entry.name, ()):
            search = parts[i].compiled.search
            for k in cands[i]:
                if k not in found and search(segments[k]):
                    found.add(k)
        return sorted(found)

    def _possible(self, entry: _Entry) -> tuple[re.Pattern[str], ...]:
        """The entry's patterns without the parts whose literals are nowhere in the text: a part that cannot
        match at any position never decides an attempt, so `finditer` over the rest finds the same matches."""
        anywhere = self._anywhere
        keep = tuple(p.index for p in entry.parts if all(not group.isdisjoint(anywhere) for group in p.needs))
        return self.pset.subset(entry, keep) if keep else ()

    def hits(self, name: Hashable) -> list[int]:
        entry = self.pset.entries[name]
        if entry.local and entry.decomposable and self._clean:
            return self._by_part(entry) if name in self._entries else []
        pats = self._possible(entry)
        return join_hits(pats, self.joined, self.starts) if pats else []

    def matching(self, name: Hashable) -> list[int]:
        if name not in self._entries:
            return []
        entry = self.pset.entries[name]
        if entry.decomposable:
            return self._by_part(entry)
        pats = entry.patterns()
        cands = sorted({k for j in self._entries[name] for k in self._cands[j]})
        return [k for k in cands if any(p.search(self.segments[k]) for p in pats)]

    def finditer(self, name: Hashable, i: int = 0) -> list[re.Match[str]]:
        if name not in self._entries:
            return []
        entry = self.pset.entries[name]
        cands = self._cands
        keep = tuple(j for j in self._entries[name] if i in cands[j])
        if not keep:
            return []
        seg = self.segments[i]
        if len(keep) > 1 and not entry.separate and not any(p.analysis.backref for p in entry.parts):
            apart = _disjoint([m for j in keep for m in self.pset.parts[j].compiled.finditer(seg)])
            if apart is not None:
                return apart
        return [m for p in self.pset.subset(entry, keep) for m in p.finditer(seg)]


def _disjoint(matches: list[re.Match[str]]) -> list[re.Match[str]] | None:
    """The alternation's matches, from its parts' own: when no two of them overlap or start together (and none
    is empty), the alternation's scan meets each at its start with only that part matching there, so it finds
    exactly these, in order. Otherwise None: only the alternation itself can say which wins."""
    matches.sort(key=lambda m: m.start())
    end = -1
    for m in matches:
        if m.start() < end or m.start() == m.end():
            return None
        end = m.end()
    return matches
