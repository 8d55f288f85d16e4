"""The character-level pieces of the reference scanner (private).

:mod:`secretwire.references` holds the grammar and uses these to read (and, with
:func:`quote`, to write) a reference's name, field, version and default, and to
find its closing delimiter. Each scan is one left-to-right pass.
"""

from __future__ import annotations

from collections.abc import Callable

from ._name_rule import describe, visible
from .errors import ReferenceSyntaxError

__all__ = [
    "closed",
    "field_plain",
    "name_plain",
    "quote",
    "scan_default",
    "scan_part",
    "version_plain",
]

#: Characters that end a name, field or version unless written with a backslash.
_SPECIAL = frozenset("{}<>#@$\\")
_VERSION_EXTRA = frozenset("-_.")


def name_plain(text: str, at: int) -> bool:
    ch = text[at]
    if ch in _SPECIAL or not visible(ch):
        return False
    return not (ch == ":" and text.startswith("-", at + 1))


def field_plain(text: str, at: int) -> bool:
    ch = text[at]
    return ch != ":" and ch not in _SPECIAL and visible(ch)


def version_plain(text: str, at: int) -> bool:
    ch = text[at]
    return (ch.isascii() and ch.isalnum()) or ch in _VERSION_EXTRA


def quote(part: str, plain: Callable[[str, int], bool]) -> str:
    """``part`` with a backslash before each character that would not read as itself."""
    if all(plain(part, at) for at in range(len(part))):
        return part
    return "".join(ch if plain(part, at) else "\\" + ch for at, ch in enumerate(part))


def scan_part(text: str, pos: int, plain: Callable[[str, int], bool], what: str) -> tuple[str, int]:
    """A name, field or version from ``pos``: plain characters and backslash-quoted
    visible ones. Returns the unquoted part and the offset where it stops."""
    chunks: list[str] = []
    n = len(text)
    start = chunk_start = pos
    while pos < n:
        if text[pos] == "\\":
            if pos + 1 >= n:
                raise ReferenceSyntaxError(
                    f"backslash at end of text in {what}", text=text, position=pos
                )
            quoted = text[pos + 1]
            if not visible(quoted):
                raise ReferenceSyntaxError(
                    f"{describe(quoted)} after a backslash in {what}", text=text, position=pos + 1
                )
            chunks += [text[chunk_start:pos], quoted]
            pos += 2
            chunk_start = pos
        elif plain(text, pos):
            pos += 1
        else:
            break
    if pos == start:
        raise ReferenceSyntaxError(f"empty {what} in reference", text=text, position=pos)
    chunks.append(text[chunk_start:pos])
    return "".join(chunks), pos


def scan_default(text: str, pos: int, close: str | None) -> tuple[str, int]:
    """The default text up to ``close`` (``None``: the end of the text); a
    backslash takes the next character as is."""
    chunks: list[str] = []
    n = len(text)
    chunk_start = pos
    while pos < n and text[pos] != close:
        if text[pos] != "\\":
            pos += 1
            continue
        if pos + 1 >= n:
            raise ReferenceSyntaxError(
                "backslash at end of text in reference default", text=text, position=pos
            )
        chunks += [text[chunk_start:pos], text[pos + 1]]
        pos += 2
        chunk_start = pos
    chunks.append(text[chunk_start:pos])
    return "".join(chunks), pos


def closed(text: str, pos: int, close: str, opened_at: int) -> int:
    """The offset after the closing delimiter expected at ``pos``."""
    if pos >= len(text):
        raise ReferenceSyntaxError(
            f"unterminated reference (missing {close!r})", text=text, position=opened_at
        )
    if text[pos] != close:
        raise ReferenceSyntaxError(
            f"unexpected character {text[pos]!r} in reference", text=text, position=pos
        )
    return pos + 1
