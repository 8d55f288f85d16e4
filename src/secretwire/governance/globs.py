"""Name globs of the policy: the path language Vault enforces, so exports are exact.

A glob is a secret name in which

* a whole segment ``+`` matches exactly one segment (``app/+/password`` matches
  ``app/web/password``, not ``app/password`` nor ``app/a/b/password``);
* a trailing ``*`` matches any rest, ``/`` included (``app/*`` matches ``app/x`` and
  ``app/x/y``; ``app/db-*`` matches ``app/db-main`` and ``app/db-x/y``; ``*`` alone
  matches every name).

Nothing else is special: ``+`` inside a segment is a literal character. ``*`` before
the end, and ``?``, ``[``, ``]``, ``{``, ``}`` (glob syntax of other languages, which
a reader would expect to work) are refused, so a rule never means something else
than it seems to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .._name_rule import describe, invisible_at

__all__ = ["NameGlob", "parse_glob"]

_FOREIGN = "?[]{}"


class GlobError(ValueError):
    """A malformed glob; the message says why (it quotes the glob, which is a name)."""


@dataclass(frozen=True, slots=True)
class NameGlob:
    """One parsed glob: ``segments`` (literals or ``+``) and, for a trailing ``*``,
    ``tail`` (the literal text between the last ``/`` and the ``*``)."""

    text: str
    segments: tuple[str, ...]
    tail: str | None
    _regex: re.Pattern[str] = field(repr=False, compare=False)

    def matches(self, name: str) -> bool:
        return self._regex.fullmatch(name) is not None

    @property
    def exact(self) -> bool:
        """Whether the glob names one secret (no ``+``, no ``*``)."""
        return self.tail is None and "+" not in self.segments

    def probes(self, fillers: tuple[str, ...]) -> set[str]:
        """Names this glob matches (and near misses), for checking an export:
        each ``+`` replaced by each filler, the ``*`` by nothing and each filler."""
        heads = [""]
        for index, segment in enumerate(self.segments):
            options = fillers if segment == "+" else (segment,)
            joint = "/" if index else ""
            heads = [head + joint + option for head in heads for option in options]
        if self.tail is None:
            return set(heads)
        joint = "/" if self.segments else ""
        return {head + joint + self.tail + rest for head in heads for rest in ("", *fillers)}

    def contains(self, other: NameGlob) -> bool:
        """Whether every name ``other`` matches, this glob matches too."""
        mine, theirs = self.segments, other.segments
        if len(theirs) < len(mine) or not all(map(_covers, mine, theirs)):
            return False
        if self.tail is None:
            return other.tail is None and len(theirs) == len(mine)
        if len(theirs) > len(mine):  # the rest starts with one of other's segments
            first = theirs[len(mine)]
            return self.tail == "" or (first != "+" and first.startswith(self.tail))
        return other.tail is not None and other.tail.startswith(self.tail)

    def __str__(self) -> str:
        return self.text


def _covers(mine: str, theirs: str) -> bool:
    return mine in ("+", theirs)


def parse_glob(text: object) -> NameGlob:
    """``text`` as a :class:`NameGlob`, or :class:`GlobError` saying what is wrong."""
    if not isinstance(text, str):
        raise GlobError(f"a name glob must be a string, not {type(text).__name__}")
    if not text:
        raise GlobError("a name glob must not be empty")
    bad = invisible_at(text)
    if bad >= 0:
        raise GlobError(f"malformed glob: {describe(text[bad])} at character {bad}")
    foreign = next((ch for ch in text if ch in _FOREIGN), None)
    if foreign is not None:
        raise GlobError(
            f"malformed glob {text!r}: {foreign!r} is not glob syntax here "
            "(use '+' for one whole segment and a trailing '*')"
        )
    star = text.find("*")
    if 0 <= star < len(text) - 1:
        raise GlobError(f"malformed glob {text!r}: '*' may appear only at the end")
    body = text[:-1] if star >= 0 else text
    parts = body.split("/")
    if star >= 0:
        *segments, tail = parts
        if tail == "+":
            raise GlobError(f"malformed glob {text!r}: '+*' is ambiguous; write '+/*' or '*'")
    else:
        segments, tail = parts, None
    pattern = "/".join("[^/]+" if seg == "+" else re.escape(seg) for seg in segments)
    if tail is not None:
        pattern += ("/" if segments else "") + re.escape(tail) + ".*"
    return NameGlob(text, tuple(segments), tail, re.compile(pattern, re.DOTALL))
