"""The reference grammar: parse, find, format and substitute ``${secret:...}``.

Pure functions, no I/O. The scanner is a single left-to-right pass with no
backtracking, so parsing is linear in the length of the text whatever it holds.

Grammar (ABNF-like; ``docs/references.md`` explains it with examples)::

    text        = *( literal / escape / reference )
    escape      = "$$"                                   ; one literal "$", only in a run
                                                         ; of "$" right before an opener
    opener      = "{secret:" / "<secret:"
    reference   = "$" opener body-rest                   ; "${" body "}" / "$<" body ">"
    body        = "secret:" name [ "#" field ] [ "@" version ] [ ":-" default ]
    name        = 1*name-char                            ; never contains ":-"
    name-char   = any character except whitespace, control characters and  { } < > # @ $ \\
    field       = 1*field-char                           ; name-char without ":"
    version     = 1*( ALPHA / DIGIT / "-" / "_" / "." )
    default     = *( default-char / "\\" any )            ; up to the closing delimiter
    default-char = any character except "\\" and the closing delimiter

Anything else, including ``${HOME}`` or ``${env:X}``, is literal text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from .errors import ReferenceSyntaxError

__all__ = [
    "Reference",
    "Template",
    "as_reference",
    "contains_reference",
    "escape",
    "find_references",
    "parse",
    "parse_reference",
]

Style = Literal["${", "$<"]

_CLOSE = {"{": "}", "<": ">"}
_NAME_FORBIDDEN = frozenset("{}<>#@$\\")
_VERSION_EXTRA = frozenset("-_.")
_PREFIX = "secret:"


def _is_name_char(ch: str) -> bool:
    return not (ch in _NAME_FORBIDDEN or ch.isspace() or not ch.isprintable())


def _is_version_char(ch: str) -> bool:
    return (ch.isascii() and ch.isalnum()) or ch in _VERSION_EXTRA


@dataclass(frozen=True, slots=True)
class Reference:
    """One parsed reference: which secret, which field and version, and a default.

    ``default`` is used only when the secret (or field) does not exist, never when
    the backend is unavailable or access is denied.
    """

    name: str
    field: str | None = None
    version: str | None = None
    default: str | None = None
    style: Style = "${"

    @property
    def key(self) -> tuple[str, str | None]:
        """What to fetch: (name, version). References differing only in field share it."""
        return (self.name, self.version)

    def format(self, style: Style | None = None) -> str:
        """The canonical text of this reference; ``parse_reference`` reads it back."""
        style = style or self.style
        close = _CLOSE[style[1]]
        out = [style, _PREFIX, self.name]
        if self.field is not None:
            out += ["#", self.field]
        if self.version is not None:
            out += ["@", self.version]
        if self.default is not None:
            escaped = self.default.replace("\\", "\\\\").replace(close, "\\" + close)
            out += [":-", escaped]
        out.append(close)
        return "".join(out)

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A reference found in a text, with its span (``text[start:end]``)."""

    reference: Reference
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Template:
    """A text split into literal strings and references.

    ``parts`` alternates freely between ``str`` (already unescaped) and
    :class:`Occurrence`. Rendering substitutes each reference once, in one pass,
    so a substituted value is never parsed again.
    """

    source: str
    parts: tuple[str | Occurrence, ...]

    @property
    def references(self) -> tuple[Reference, ...]:
        return tuple(p.reference for p in self.parts if isinstance(p, Occurrence))

    @property
    def is_literal(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)

    @property
    def is_single_reference(self) -> bool:
        """True when the whole text is exactly one reference."""
        return len(self.parts) == 1 and isinstance(self.parts[0], Occurrence)

    def render(self, lookup: Callable[[Reference], str]) -> str:
        return "".join(p if isinstance(p, str) else lookup(p.reference) for p in self.parts)

    def format(self) -> str:
        """Text that parses back to an equal template (escapes literals as needed)."""
        out = []
        for index, part in enumerate(self.parts):
            if isinstance(part, str):
                next_is_ref = index + 1 < len(self.parts)
                out.append(_escape(part, before_reference=next_is_ref))
            else:
                out.append(part.reference.format())
        return "".join(out)


def escape(text: str) -> str:
    """Make ``text`` literal: each run of ``$`` before ``{secret:`` / ``<secret:`` is doubled."""
    return _escape(text, before_reference=False)


def _escape(text: str, *, before_reference: bool) -> str:
    if "$" not in text:
        return text
    out: list[str] = []
    pos = 0
    n = len(text)
    while pos < n:
        dollar = text.find("$", pos)
        if dollar < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:dollar])
        run_end = dollar
        while run_end < n and text[run_end] == "$":
            run_end += 1
        run = text[dollar:run_end]
        # A run is ambiguous when an opener follows it, or (inside a template) when
        # it ends this literal and a reference comes next.
        if _opens_reference(text, run_end) or (before_reference and run_end == n):
            run += run
        out.append(run)
        pos = run_end
    return "".join(out)


def contains_reference(text: str) -> bool:
    """Cheap check used before parsing: does the text mention a reference at all?"""
    return "{" + _PREFIX in text or "<" + _PREFIX in text


def parse(text: str) -> Template:
    """Split ``text`` into literals and references. Raises :class:`ReferenceSyntaxError`.

    Before an opener (``{secret:`` or ``<secret:``) a run of ``$`` is read in pairs:
    each ``$$`` is one literal ``$``, and an odd ``$`` left over starts a reference.
    Elsewhere ``$`` is an ordinary character.
    """
    if not contains_reference(text):
        return Template(text, (text,) if text else ())
    parts: list[str | Occurrence] = []
    literal: list[str] = []
    pos = 0
    n = len(text)
    while pos < n:
        dollar = text.find("$", pos)
        if dollar < 0:
            literal.append(text[pos:])
            break
        literal.append(text[pos:dollar])
        run_end = dollar
        while run_end < n and text[run_end] == "$":
            run_end += 1
        run_length = run_end - dollar
        if not _opens_reference(text, run_end):
            literal.append(text[dollar:run_end])
            pos = run_end
            continue
        literal.append("$" * (run_length // 2))
        if run_length % 2 == 0:
            opener_end = run_end + 1 + len(_PREFIX)
            literal.append(text[run_end:opener_end])
            pos = opener_end
            continue
        ref, end = _parse_body(text, run_end - 1)
        joined = "".join(literal)
        if joined:
            parts.append(joined)
        literal = []
        parts.append(Occurrence(ref, run_end - 1, end))
        pos = end
    joined = "".join(literal)
    if joined:
        parts.append(joined)
    return Template(text, tuple(parts))


def _opens_reference(text: str, at: int) -> bool:
    return text.startswith("{" + _PREFIX, at) or text.startswith("<" + _PREFIX, at)


def _scan(text: str, pos: int, accept: Callable[[str, int], bool]) -> int:
    """Advance from ``pos`` while ``accept(char, index)``; return the stop offset."""
    n = len(text)
    while pos < n and accept(text[pos], pos):
        pos += 1
    return pos


def _scan_token(
    text: str, pos: int, accept: Callable[[str, int], bool], what: str
) -> tuple[str, int]:
    end = _scan(text, pos, accept)
    if end == pos:
        raise ReferenceSyntaxError(f"empty {what} in reference", text=text, position=pos)
    return text[pos:end], end


def _scan_default(text: str, pos: int, close: str) -> tuple[str, int]:
    """The default text up to ``close``; a backslash takes the next character as is."""
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


def _parse_body(text: str, start: int) -> tuple[Reference, int]:
    """Parse the reference whose ``$`` is at ``start``; return it and the end offset."""
    opener = text[start + 1]
    close = _CLOSE[opener]
    style: Style = "${" if opener == "{" else "$<"

    def in_name(ch: str, at: int) -> bool:  # stops at '#', '@', ':-' and the delimiter
        return _is_name_char(ch) and not (ch == ":" and text.startswith("-", at + 1))

    name, pos = _scan_token(text, start + 2 + len(_PREFIX), in_name, "secret name")
    field = version = default = None
    if text.startswith("#", pos):
        field, pos = _scan_token(
            text, pos + 1, lambda ch, _: _is_name_char(ch) and ch != ":", "field after '#'"
        )
    if text.startswith("@", pos):
        version, pos = _scan_token(
            text, pos + 1, lambda ch, _: _is_version_char(ch), "version after '@'"
        )
    if text.startswith(":-", pos):
        default, pos = _scan_default(text, pos + 2, close)
    if pos >= len(text):
        raise ReferenceSyntaxError(
            f"unterminated reference (missing {close!r})", text=text, position=start
        )
    if text[pos] != close:
        raise ReferenceSyntaxError(
            f"unexpected character {text[pos]!r} in reference", text=text, position=pos
        )
    return Reference(name, field, version, default, style), pos + 1


def parse_reference(text: str) -> Reference:
    """Parse text that must be exactly one reference."""
    template = parse(text)
    if not template.is_single_reference:
        raise ReferenceSyntaxError("not a single secret reference", text=text, position=0)
    occurrence = template.parts[0]
    assert isinstance(occurrence, Occurrence)  # noqa: S101 - guaranteed by is_single_reference
    return occurrence.reference


_BARE_WRAP = "${" + _PREFIX


def as_reference(text: str | Reference) -> Reference:
    """A :class:`Reference` from a reference's text, or from its bare form
    ``name#field@version:-default`` (what a CLI argument or a resolver argument
    holds). Errors report positions in ``text`` as given."""
    if isinstance(text, Reference):
        return text
    if text.startswith("$"):
        return parse_reference(text)
    try:
        return parse_reference(_BARE_WRAP + text + "}")
    except ReferenceSyntaxError as err:
        position = min(max(err.position - len(_BARE_WRAP), 0), len(text))
        raise ReferenceSyntaxError(err.reason, text=text, position=position) from None


def find_references(text: str) -> Iterator[Occurrence]:
    """Every reference in ``text``, in order. Raises on the first malformed one."""
    for part in parse(text).parts:
        if isinstance(part, Occurrence):
            yield part
