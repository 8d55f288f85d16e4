"""The reference grammar: parse, find, format and substitute ``${secret:...}``,
and the one rule for secret names.

Pure functions, no I/O. The scanner is a single left-to-right pass with no
backtracking, so parsing is linear in the length of the text whatever it holds.

Grammar (ABNF-like; ``docs/references.md`` explains it with examples)::

    text         = *( literal / escape / reference )
    escape       = "$$"                                ; one literal "$", only in a run
                                                       ; of "$" right before an opener
    opener       = "{secret:" / "<secret:"
    reference    = "$" opener body-rest                ; "${" body "}" / "$<" body ">"
    body         = "secret:" name [ "#" field ] [ "@" version ] [ ":-" default ]
    name         = 1*( name-char / quoted )            ; a valid name once unquoted
    name-char    = visible except  { } < > # @ $ \\  and a ":" followed by "-"
    field        = 1*( field-char / quoted )
    field-char   = name-char except ":"
    version      = 1*( ALPHA / DIGIT / "-" / "_" / "." / quoted )
    quoted       = "\\" visible                         ; that character, as itself
    visible      = a character str.isprintable() accepts and str.isspace() does not
    default      = *( default-char / "\\" any )         ; up to the closing delimiter
    default-char = any character except "\\" and the closing delimiter

Anything else, including ``${HOME}`` or ``${env:X}``, is literal text.

The bare form (what ``as_reference`` and ``secretwire get --ref`` read) is a body
without ``secret:`` and without delimiters: ``db/creds#user@2:-x``; its default
runs to the end of the text.

**Names.** A secret name is 1 to :data:`MAX_NAME_LENGTH` visible characters: no
whitespace, no control, format (invisible, e.g. U+200B), surrogate, private-use or
unassigned code point. :func:`check_name` is that rule; every provider applies it
before its backend's own alphabet, so every name a provider accepts can be written
in a reference (the characters ``{ } < > # @ $ \\`` and the ``:`` of a ``:-`` are
written with a backslash: ``${secret:a/user\\@example.com}``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from .errors import InvalidSecret, ReferenceSyntaxError

__all__ = [
    "MAX_NAME_LENGTH",
    "Reference",
    "Template",
    "as_reference",
    "check_name",
    "contains_reference",
    "escape",
    "find_references",
    "is_valid_name",
    "parse",
    "parse_reference",
]

Style = Literal["${", "$<"]

#: The longest secret name, in characters (AWS accepts an ARN of up to 2048).
MAX_NAME_LENGTH = 2048

_CLOSE = {"{": "}", "<": ">"}
#: Characters that end a name, field or version unless written with a backslash.
_SPECIAL = frozenset("{}<>#@$\\")
_VERSION_EXTRA = frozenset("-_.")
_PREFIX = "secret:"
_WHITESPACE = re.compile(r"\s")
_NAMES_DOC = "docs/references.md#names"

_CATEGORY = {
    "Cc": "a control character",
    "Cf": "an invisible format character",
    "Cs": "a lone surrogate (not valid Unicode text)",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
}


def _is_visible(ch: str) -> bool:
    return ch.isprintable() and not ch.isspace()


def _describe(ch: str) -> str:
    """What kind of invisible character ``ch`` is, with its code point (never as is)."""
    if ch.isspace():
        kind = "whitespace"
    else:
        kind = _CATEGORY.get(unicodedata.category(ch), "a non-printable character")
    return f"{kind} (U+{ord(ch):04X})"


def _invisible_at(text: str) -> int:
    """The index of the first character of ``text`` that is not visible, or -1."""
    if text.isprintable():
        found = _WHITESPACE.search(text)
        return -1 if found is None else found.start()
    return next(i for i, ch in enumerate(text) if not _is_visible(ch))


def _name_problem(name: str) -> tuple[int, str] | None:
    """``(index, reason)`` when ``name`` breaks the name rule, else ``None``."""
    if not name:
        return 0, "is empty"
    if len(name) > MAX_NAME_LENGTH:
        return MAX_NAME_LENGTH, f"is {len(name)} characters long (at most {MAX_NAME_LENGTH})"
    index = _invisible_at(name)
    if index >= 0:
        return index, f"has {_describe(name[index])} at character {index}"
    return None


def is_valid_name(name: object) -> bool:
    """Whether ``name`` is a valid secret name (see :func:`check_name`)."""
    return isinstance(name, str) and _name_problem(name) is None


def _shown(name: str) -> str:
    """A bounded repr of a name for a message (repr escapes what is not printable)."""
    return repr(name if len(name) <= 80 else name[:77] + "...")


def check_name(name: object, *, provider: str | None = None) -> str:
    """``name``, if it is a valid secret name; else :class:`InvalidSecret`.

    The one rule for every entry point (references, the CLI, every provider): 1 to
    :data:`MAX_NAME_LENGTH` characters, each printable and not whitespace, so no
    control, format (invisible), surrogate, private-use or unassigned code point.
    Every such name can be written in a reference (``Reference(name).format()``).
    A provider calls this first, then checks its backend's own alphabet.
    """
    if not isinstance(name, str):
        raise InvalidSecret(
            f"secret name must be a string, not {type(name).__name__}", provider=provider
        )
    problem = _name_problem(name)
    if problem is None:
        return name
    raise InvalidSecret(
        f"invalid secret name {_shown(name)}: it {problem[1]}; a name is 1-{MAX_NAME_LENGTH} "
        f"printable characters without whitespace ({_NAMES_DOC})",
        name=name if len(name) <= MAX_NAME_LENGTH else None,
        provider=provider,
    )


def _name_plain(text: str, at: int) -> bool:
    ch = text[at]
    if ch in _SPECIAL or not _is_visible(ch):
        return False
    return not (ch == ":" and text.startswith("-", at + 1))


def _field_plain(text: str, at: int) -> bool:
    ch = text[at]
    return ch != ":" and ch not in _SPECIAL and _is_visible(ch)


def _version_plain(text: str, at: int) -> bool:
    ch = text[at]
    return (ch.isascii() and ch.isalnum()) or ch in _VERSION_EXTRA


def _quote(part: str, plain: Callable[[str, int], bool]) -> str:
    """``part`` with a backslash before each character that would not read as itself."""
    if all(plain(part, at) for at in range(len(part))):
        return part
    return "".join(ch if plain(part, at) else "\\" + ch for at, ch in enumerate(part))


def _check_part(value: object, what: str, *, limit: int | None = None) -> None:
    """A reference's name, field or version: a non-empty str of visible characters."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    if not value:
        raise ReferenceSyntaxError(f"empty {what}", text=value, position=0)
    if limit is not None and len(value) > limit:
        raise ReferenceSyntaxError(
            f"{what} longer than {limit} characters", text=value, position=limit
        )
    index = _invisible_at(value)
    if index >= 0:
        raise ReferenceSyntaxError(
            f"{_describe(value[index])} in {what}", text=value, position=index
        )


@dataclass(frozen=True, slots=True)
class Reference:
    """One parsed reference: which secret, which field and version, and a default.

    ``default`` is used only when the secret (or field) does not exist, never when
    the backend is unavailable or access is denied. ``name``, ``field`` and
    ``version`` are checked on construction (:class:`ReferenceSyntaxError`), so
    :meth:`format` always gives text that parses back to an equal reference.
    """

    name: str
    field: str | None = None
    version: str | None = None
    default: str | None = None
    style: Style = "${"

    def __post_init__(self) -> None:
        _check_part(self.name, "secret name", limit=MAX_NAME_LENGTH)
        if self.field is not None:
            _check_part(self.field, "field")
        if self.version is not None:
            _check_part(self.version, "version")
        if self.default is not None and not isinstance(self.default, str):
            raise TypeError(f"default must be str, not {type(self.default).__name__}")
        if self.style not in ("${", "$<"):
            raise ValueError(f"style must be '${{' or '$<', not {self.style!r}")

    @property
    def key(self) -> tuple[str, str | None]:
        """What to fetch: (name, version). References differing only in field share it."""
        return (self.name, self.version)

    def format(self, style: Style | None = None) -> str:
        """The canonical text of this reference; ``parse_reference`` reads it back.

        Characters that have a meaning in a reference are written with a backslash
        (the name ``a/user@example.com`` as ``${secret:a/user\\@example.com}``).
        """
        style = style or self.style
        close = _CLOSE[style[1]]
        out = [style, _PREFIX, _quote(self.name, _name_plain)]
        if self.field is not None:
            out += ["#", _quote(self.field, _field_plain)]
        if self.version is not None:
            out += ["@", _quote(self.version, _version_plain)]
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


def _scan_part(
    text: str, pos: int, plain: Callable[[str, int], bool], what: str
) -> tuple[str, int]:
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
            if not _is_visible(quoted):
                raise ReferenceSyntaxError(
                    f"{_describe(quoted)} after a backslash in {what}", text=text, position=pos + 1
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


def _scan_default(text: str, pos: int, close: str | None) -> tuple[str, int]:
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


def _parse_parts(
    text: str, pos: int, close: str | None, style: Style, opened_at: int = 0
) -> tuple[Reference, int]:
    """Name, field, version and default from ``pos``, up to ``close`` (consumed) or,
    for the bare form (``None``), up to the end of the text. An unterminated
    reference is reported at ``opened_at``."""
    name_start = pos
    name, pos = _scan_part(text, pos, _name_plain, "secret name")
    if len(name) > MAX_NAME_LENGTH:
        raise ReferenceSyntaxError(
            f"secret name longer than {MAX_NAME_LENGTH} characters", text=text, position=name_start
        )
    field = version = default = None
    if text.startswith("#", pos):
        field, pos = _scan_part(text, pos + 1, _field_plain, "field after '#'")
    if text.startswith("@", pos):
        version, pos = _scan_part(text, pos + 1, _version_plain, "version after '@'")
    if text.startswith(":-", pos):
        default, pos = _scan_default(text, pos + 2, close)
    if close is None:
        if pos < len(text):
            raise ReferenceSyntaxError(
                f"unexpected character {text[pos]!r} in reference", text=text, position=pos
            )
        return Reference(name, field, version, default, style), pos
    if pos >= len(text):
        raise ReferenceSyntaxError(
            f"unterminated reference (missing {close!r})", text=text, position=opened_at
        )
    if text[pos] != close:
        raise ReferenceSyntaxError(
            f"unexpected character {text[pos]!r} in reference", text=text, position=pos
        )
    return Reference(name, field, version, default, style), pos + 1


def _parse_body(text: str, start: int) -> tuple[Reference, int]:
    """Parse the reference whose ``$`` is at ``start``; return it and the end offset."""
    opener = text[start + 1]
    style: Style = "${" if opener == "{" else "$<"
    return _parse_parts(text, start + 2 + len(_PREFIX), _CLOSE[opener], style, start)


def parse_reference(text: str) -> Reference:
    """Parse text that must be exactly one reference."""
    template = parse(text)
    if not template.is_single_reference:
        raise ReferenceSyntaxError("not a single secret reference", text=text, position=0)
    occurrence = template.parts[0]
    assert isinstance(occurrence, Occurrence)  # noqa: S101 - guaranteed by is_single_reference
    return occurrence.reference


def as_reference(text: str | Reference) -> Reference:
    """A :class:`Reference` from a reference's text, or from its bare form
    ``name#field@version:-default`` (what ``secretwire get --ref`` or a resolver
    argument holds; the default runs to the end of the text). Errors report
    positions in ``text`` as given."""
    if isinstance(text, Reference):
        return text
    if text.startswith("$"):
        return parse_reference(text)
    ref, _ = _parse_parts(text, 0, None, "${")
    return ref


def find_references(text: str) -> Iterator[Occurrence]:
    """Every reference in ``text``, in order. Raises on the first malformed one."""
    for part in parse(text).parts:
        if isinstance(part, Occurrence):
            yield part
