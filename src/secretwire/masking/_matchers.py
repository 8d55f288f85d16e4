"""Multi-pattern matchers behind the :class:`~secretwire.Redactor`.

Both find the leftmost, then longest, non-overlapping occurrences of a set of
patterns, and tell whether a text is the beginning of a pattern (what a stream
masker holds back at a chunk boundary):

- ``aho``: an Aho-Corasick automaton from ``pyahocorasick`` (the ``fast-masking``
  extra): one pass over the text whatever the number of patterns;
- ``regex``: the pure-Python fallback, one regular expression shaped as a trie
  (``ab(?:c|d(?:e)?)``), so ``re`` branches on one character per position instead
  of trying every pattern in turn.

``benchmarks/bench_masking.py`` prints what each costs. Their ``repr`` shows no pattern.
"""

from __future__ import annotations

import bisect
import importlib
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["ENGINES", "HEAD", "Levels", "Matcher", "Union", "aho_available", "build_matcher"]

ENGINES = ("aho", "regex")
HEAD = 4


class Matcher:
    """No pattern at all; the base of the two engines."""

    engine = "none"
    max_length = 0
    #: The first :data:`HEAD` characters (or fewer) of every pattern, and every shorter
    #: beginning: a quick test before :meth:`is_prefix`.
    heads: frozenset[str] = frozenset()

    def search(self, text: str) -> bool:
        """Whether any pattern occurs in ``text``."""
        return False

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The ``(start, end)`` of each occurrence, leftmost then longest, not overlapping."""
        return []

    def is_prefix(self, text: str) -> bool:
        """Whether ``text`` is the beginning of a pattern (or a whole one)."""
        return False

    def sub(self, mask: str, text: str) -> str:
        """``text`` with each occurrence replaced by ``mask``."""
        spans = self.spans(text)
        if not spans:
            return text
        out: list[str] = []
        at = 0
        for start, end in spans:
            out += [text[at:start], mask]
            at = end
        out.append(text[at:])
        return "".join(out)

    def __repr__(self) -> str:
        return f"<{self.engine} matcher>"


class _Aho(Matcher):
    engine = "aho"

    def __init__(self, patterns: list[str], module: Any) -> None:
        automaton = module.Automaton()
        for pattern in patterns:
            automaton.add_word(pattern, len(pattern))
        automaton.make_automaton()
        self._automaton = automaton
        self.max_length = max(map(len, patterns))

    def search(self, text: str) -> bool:
        return any(True for _ in self._automaton.iter(text))

    def spans(self, text: str) -> list[tuple[int, int]]:
        # Every occurrence, then leftmost-longest: pyahocorasick's own iter_long drops
        # a shorter match inside a longer pattern's unfinished prefix at the text's end
        # ("b" in "ab" with the patterns "b" and "aba").
        found = sorted((end + 1 - size, -size) for end, size in self._automaton.iter(text))
        spans: list[tuple[int, int]] = []
        for start, negative in found:
            if not spans or start >= spans[-1][1]:
                spans.append((start, start - negative))
        return spans

    def is_prefix(self, text: str) -> bool:
        return bool(self._automaton.match(text))


class _Regex(Matcher):
    engine = "regex"

    def __init__(self, patterns: list[str]) -> None:
        self._sorted = sorted(patterns)
        try:
            self._pattern = re.compile(_trie(self._sorted, 0))
        except (RecursionError, re.error):  # patterns nested too deep for a trie
            by_length = sorted(patterns, key=lambda item: (-len(item), item))
            self._pattern = re.compile("|".join(map(re.escape, by_length)))
        self.max_length = max(map(len, patterns))

    def search(self, text: str) -> bool:
        return self._pattern.search(text) is not None

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [match.span() for match in self._pattern.finditer(text)]

    def is_prefix(self, text: str) -> bool:
        at = bisect.bisect_left(self._sorted, text)
        return at < len(self._sorted) and self._sorted[at].startswith(text)


def _trie(items: list[str], depth: int) -> str:
    """A regular expression for the sorted, distinct ``items`` (which share their
    first ``depth`` characters) past that point; a longer pattern is tried first."""
    first, last = items[0], items[-1]
    end = depth
    while end < min(len(first), len(last)) and first[end] == last[end]:
        end += 1
    prefix = re.escape(first[depth:end])
    complete = len(first) == end  # sorted: a pattern that ends here comes first
    rest = items[1:] if complete else items
    if not rest:
        return prefix
    branches: list[str] = []
    start = 0
    for at in range(1, len(rest) + 1):
        if at == len(rest) or rest[at][end] != rest[start][end]:
            branches.append(_trie(rest[start:at], end))
            start = at
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return prefix + (f"(?:{body})?" if complete else body)


def aho_available() -> bool:
    """Whether ``pyahocorasick`` (a build for text, not bytes) can be imported."""
    return _aho_module() is not None


def _aho_module() -> Any:
    try:
        module = importlib.import_module("ahocorasick")
    except ImportError:
        return None
    return module if getattr(module, "unicode", 0) else None


def build_matcher(patterns: Iterable[str], engine: str | None = None) -> Matcher:
    """A matcher for ``patterns`` (non-empty strings): ``engine`` ``"aho"`` or
    ``"regex"``, or ``None`` for Aho-Corasick when it is installed."""
    if engine not in (None, *ENGINES):
        raise ValueError(f"unknown matcher engine {engine!r}; known: {', '.join(ENGINES)}")
    unique = list(dict.fromkeys(pattern for pattern in patterns if pattern))
    if not unique:
        return Matcher()
    matcher = _engine(unique, engine)
    matcher.heads = frozenset(p[:size] for p in unique for size in range(1, HEAD + 1))
    return matcher


def _engine(patterns: list[str], engine: str | None) -> Matcher:
    if engine != "regex":
        module = _aho_module()
        if module is not None:
            try:
                return _Aho(patterns, module)
            except (TypeError, ValueError, UnicodeError):  # e.g. a lone surrogate
                pass
        elif engine == "aho":
            raise ImportError(
                "pyahocorasick is not installed; install it with: "
                "pip install 'secretwire[fast-masking]'"
            )
    return _Regex(patterns)


class Union(Matcher):
    """Several matchers searched as one (a :class:`Levels` with more than one level)."""

    engine = "union"

    def __init__(self, matchers: list[Matcher]) -> None:
        self._matchers = matchers
        self.max_length = max(matcher.max_length for matcher in matchers)
        self.heads = frozenset().union(*(matcher.heads for matcher in matchers))

    def search(self, text: str) -> bool:
        return any(matcher.search(text) for matcher in self._matchers)

    def spans(self, text: str) -> list[tuple[int, int]]:
        found = sorted(
            (span for matcher in self._matchers for span in matcher.spans(text)),
            key=lambda span: (span[0], -span[1]),
        )
        chosen: list[tuple[int, int]] = []
        for start, end in found:
            if not chosen or start >= chosen[-1][1]:
                chosen.append((start, end))
        return chosen

    def is_prefix(self, text: str) -> bool:
        return any(matcher.is_prefix(text) for matcher in self._matchers)


class Levels:
    """The patterns of a growing set, as a few matchers of doubling size (the
    logarithmic method): registering values one at a time between uses costs
    O(n log n) pattern insertions in all, not O(n^2), and once no pattern has come for
    :data:`QUIET_USES` uses, the levels are merged into one matcher (one pass per text).
    Not thread-safe: the redactor holds a lock around it."""

    QUIET_USES = 32

    def __init__(self, engine: str | None) -> None:
        self.engine = engine
        self._levels: list[tuple[list[str], Matcher]] = []
        self._pending: list[str] = []
        self._current: Matcher | None = Matcher()
        self._quiet = 0

    def add(self, patterns: Iterable[str]) -> None:
        self._pending.extend(patterns)
        self._current = None

    def clear(self) -> None:
        self._levels.clear()
        self._pending.clear()
        self._current = Matcher()

    def matcher(self) -> Matcher:
        if self._pending:
            level, self._pending = self._pending, []
            while self._levels and len(self._levels[-1][0]) <= len(level):
                level = self._levels.pop()[0] + level
            self._levels.append((level, build_matcher(level, self.engine)))
            self._current, self._quiet = None, 0
        elif len(self._levels) > 1:
            self._quiet += 1
            if self._quiet >= self.QUIET_USES:
                merged = [pattern for patterns, _ in self._levels for pattern in patterns]
                self._levels = [(merged, build_matcher(merged, self.engine))]
                self._current = None
        if self._current is None:
            matchers = [matcher for _, matcher in self._levels]
            if len(matchers) > 1:
                self._current = Union(matchers)
            else:
                self._current = matchers[0] if matchers else Matcher()
        return self._current
