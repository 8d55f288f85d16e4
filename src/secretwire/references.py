"""The reference grammar: parse, find, format and substitute ``${secret:...}``
(and, where enabled, ``${env:VAR}``), and the one rule for secret names.

Pure functions, no I/O. The scanner is a single left-to-right pass with no
backtracking, so parsing is linear in the length of the text whatever it holds.

Grammar (ABNF-like; ``docs/references.md`` explains it with examples)::

    text         = *( literal / escape / reference )
    escape       = "$$"                                ; one literal "$", only in a run
                                                       ; of "$" right before an opener
    opener       = ( "{" / "<" ) scheme ":"            ; only the schemes parse() is given
    reference    = "$" opener body-rest                ; "${" body "}" / "$<" body ">"
    body         = "secret:" name [ "#" field ] [ "@" version ] [ ":-" default ]
                 / "env:" variable [ ":-" default ]    ; with schemes=("secret", "env")
    name         = 1*( name-char / quoted )            ; a valid name once unquoted
    name-char    = visible except  { } < > # @ $ \\  and a ":" followed by "-"
    field        = 1*( field-char / quoted )
    field-char   = name-char except ":"
    version      = 1*( ALPHA / DIGIT / "-" / "_" / "." / quoted )
    variable     = ( ALPHA / "_" ) *( ALPHA / DIGIT / "_" )   ; ASCII
    quoted       = "\\" visible                         ; that character, as itself
    visible      = a character str.isprintable() accepts and str.isspace() does not
    default      = *( default-char / "\\" any )         ; up to the closing delimiter
    default-char = any character except "\\" and the closing delimiter

Anything else, including ``${HOME}`` (and ``${env:X}`` unless the ``env`` scheme is
given), is literal text. The bare form (what ``as_reference`` and ``secretwire get
--ref`` read) is a body without ``secret:`` and without delimiters:
``db/creds#user@2:-x``; its default runs to the end of the text.

**Names.** A secret name is 1 to :data:`MAX_NAME_LENGTH` visible characters (no
whitespace, control, format, surrogate, private-use or unassigned code point):
:func:`check_name`, which every provider applies first, so every name a provider
accepts can be written in a reference (``{ } < > # @ $ \\`` and the ``:`` of a
``:-`` with a backslash: ``${secret:a/user\\@example.com}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._name_rule import MAX_NAME_LENGTH, check_name, is_valid_name
from ._name_rule import describe as _describe
from ._name_rule import invisible_at as _invisible_at
from ._scanner import closed as _closed
from ._scanner import field_plain as _field_plain
from ._scanner import name_plain as _name_plain
from ._scanner import quote as _quote
from ._scanner import scan_default as _scan_default
from ._scanner import scan_part as _scan_part
from ._scanner import version_plain as _version_plain
from .errors import ProviderError, ReferenceSyntaxError, SecretNotFound

if TYPE_CHECKING:
    from .types import Secret

__all__ = [
    "MAX_NAME_LENGTH",
    "SCHEMES",
    "Reference",
    "Scheme",
    "Template",
    "as_reference",
    "check_name",
    "contains_reference",
    "escape",
    "find_references",
    "is_valid_name",
    "parse",
    "parse_reference",
    "reference_value",
]

Style = Literal["${", "$<"]
#: What a reference stands for: a secret, or (where enabled) an environment variable.
Scheme = Literal["secret", "env"]
#: Every scheme the grammar knows. :func:`parse` reads only the ones it is given.
SCHEMES: tuple[Scheme, ...] = ("secret", "env")
#: The default schemes; passing this very tuple skips the checks (the hot path).
_SECRET_ONLY: tuple[Scheme, ...] = ("secret",)

#: Parsed texts are kept (the same text is parsed once): at most this many per cache,
#: each at most :data:`_CACHED_LENGTH` characters long. A full cache starts afresh.
_CACHED_TEXTS = 4096
_CACHED_LENGTH = 1024
_templates: dict[tuple[str, tuple[Scheme, ...]], Template] = {}
_references: dict[str, Reference] = {}
_formatted: dict[tuple[Reference, Style], str] = {}

_CLOSE = {"{": "}", "<": ">"}
_OPENERS = {scheme: ("{" + scheme + ":", "<" + scheme + ":") for scheme in SCHEMES}
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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

    With ``scheme="env"`` (``${env:VAR:-default}``, read where :func:`parse` is
    given that scheme) ``name`` is an environment variable (``[A-Za-z_][A-Za-z0-9_]*``)
    and there is no field or version; the default applies when the variable is unset.
    """

    name: str
    field: str | None = None
    version: str | None = None
    default: str | None = None
    style: Style = "${"
    scheme: Scheme = "secret"

    def __post_init__(self) -> None:
        if self.scheme == "secret":
            _check_part(self.name, "secret name", limit=MAX_NAME_LENGTH)
            if self.field is not None:
                _check_part(self.field, "field")
            if self.version is not None:
                _check_part(self.version, "version")
        elif self.scheme == "env":
            _check_variable(self.name)
            if self.field is not None or self.version is not None:
                raise ValueError("an ${env:...} reference has no field and no version")
        else:
            raise ValueError(f"scheme must be one of {SCHEMES}, not {self.scheme!r}")
        if self.default is not None and not isinstance(self.default, str):
            raise TypeError(f"default must be str, not {type(self.default).__name__}")
        if self.style not in ("${", "$<"):
            raise ValueError(f"style must be '${{' or '$<', not {self.style!r}")

    @property
    def key(self) -> tuple[str, str | None]:
        """What to fetch: (name, version). References differing only in field share it."""
        return (self.name, self.version)

    def format(self, style: Style | None = None) -> str:
        """The canonical text of this reference; :func:`parse` reads it back.

        Characters that have a meaning in a reference are written with a backslash
        (the name ``a/user@example.com`` as ``${secret:a/user\\@example.com}``).
        """
        key = (self, style or self.style)
        found = _formatted.get(key)
        if found is None:
            found = self._format(key[1])
            _keep(_formatted, key, found, len(found))
        return found

    def _format(self, style: Style) -> str:
        close = _CLOSE[style[1]]
        name = self.name if self.scheme == "env" else _quote(self.name, _name_plain)
        out = [style, self.scheme, ":", name]
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


def _check_variable(name: object) -> None:
    if not isinstance(name, str):
        raise TypeError(f"variable name must be str, not {type(name).__name__}")
    if not _VARIABLE.fullmatch(name):
        raise ReferenceSyntaxError(
            "variable name must match [A-Za-z_][A-Za-z0-9_]*", text=name, position=0
        )


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
    so a substituted value is never parsed again. ``schemes`` are those the text
    was parsed with.
    """

    source: str
    parts: tuple[str | Occurrence, ...]
    schemes: tuple[Scheme, ...] = _SECRET_ONLY

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
                out.append(_escape(part, before_reference=next_is_ref, schemes=self.schemes))
            else:
                out.append(part.reference.format())
        return "".join(out)


def escape(text: str, *, schemes: Iterable[Scheme] = _SECRET_ONLY) -> str:
    """Make ``text`` literal for :func:`parse` with ``schemes``: each run of ``$``
    before an opener (``{secret:`` / ``<secret:``, and ``{env:`` / ``<env:`` with
    that scheme) is doubled."""
    return _escape(text, before_reference=False, schemes=_schemes(schemes))


def _escape(text: str, *, before_reference: bool, schemes: tuple[Scheme, ...] = ("secret",)) -> str:
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
        if _opener_at(text, run_end, schemes) or (before_reference and run_end == n):
            run += run
        out.append(run)
        pos = run_end
    return "".join(out)


def _schemes(schemes: Iterable[Scheme]) -> tuple[Scheme, ...]:
    if schemes is _SECRET_ONLY:
        return _SECRET_ONLY
    chosen = tuple(schemes)
    for scheme in chosen:
        if scheme not in SCHEMES:
            raise ValueError(f"unknown reference scheme {scheme!r} (known: {', '.join(SCHEMES)})")
    return chosen


def contains_reference(text: str, *, schemes: Iterable[Scheme] = _SECRET_ONLY) -> bool:
    """Cheap check used before parsing: does the text mention a reference at all?"""
    if schemes is _SECRET_ONLY:
        return "{secret:" in text or "<secret:" in text
    return any("{" + s + ":" in text or "<" + s + ":" in text for s in schemes)


def parse(text: str, *, schemes: Iterable[Scheme] = _SECRET_ONLY) -> Template:
    """Split ``text`` into literals and references. Raises :class:`ReferenceSyntaxError`.

    Only the given ``schemes`` open a reference: by default ``${secret:...}`` /
    ``$<secret:...>``; with ``schemes=("secret", "env")`` also ``${env:VAR}`` /
    ``${env:VAR:-default}`` (the settings file's options read both). Text of any
    other scheme is literal. Before an opener a run of ``$`` is read in pairs: each
    ``$$`` is one literal ``$``, and an odd ``$`` left over starts a reference.
    Elsewhere ``$`` is an ordinary character.
    """
    chosen = _schemes(schemes)
    found = _templates.get((text, chosen))
    if found is None:
        found = _parse(text, chosen)
        _keep(_templates, (text, chosen), found, len(text))
    return found


def _keep(cache: dict[Any, Any], key: Any, value: Any, length: int) -> None:
    """Keep a parsed text (immutable: callers share it), within the bounds."""
    if length <= _CACHED_LENGTH:
        if len(cache) >= _CACHED_TEXTS:
            cache.clear()
        cache[key] = value


def _parse(text: str, chosen: tuple[Scheme, ...]) -> Template:
    if not contains_reference(text, schemes=chosen):
        return Template(text, (text,) if text else (), chosen)
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
        scheme = _opener_at(text, run_end, chosen)
        if scheme is None:
            literal.append(text[dollar:run_end])
            pos = run_end
            continue
        literal.append("$" * (run_length // 2))
        if run_length % 2 == 0:
            opener_end = run_end + 2 + len(scheme)
            literal.append(text[run_end:opener_end])
            pos = opener_end
            continue
        ref, end = _parse_body(text, run_end - 1, scheme)
        joined = "".join(literal)
        if joined:
            parts.append(joined)
        literal = []
        parts.append(Occurrence(ref, run_end - 1, end))
        pos = end
    joined = "".join(literal)
    if joined:
        parts.append(joined)
    return Template(text, tuple(parts), chosen)


def _opener_at(text: str, at: int, schemes: tuple[Scheme, ...]) -> Scheme | None:
    """The scheme whose opener (``{scheme:`` or ``<scheme:``) starts at ``at``."""
    for scheme in schemes:
        if text.startswith(_OPENERS[scheme], at):
            return scheme
    return None


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
    return Reference(name, field, version, default, style), _closed(text, pos, close, opened_at)


def _parse_variable(
    text: str, pos: int, close: str, style: Style, opened_at: int
) -> tuple[Reference, int]:
    """The body of ``${env:VAR[:-default]}`` from ``pos`` (after ``env:``)."""
    match = _VARIABLE.match(text, pos)
    if match is None:
        at_end = pos >= len(text) or text[pos] == close or text.startswith(":-", pos)
        reason = "empty variable name" if at_end else f"unexpected character {text[pos]!r}"
        raise ReferenceSyntaxError(f"{reason} in reference", text=text, position=pos)
    default = None
    pos = match.end()
    if text.startswith(":-", pos):
        default, pos = _scan_default(text, pos + 2, close)
    ref = Reference(match.group(), default=default, style=style, scheme="env")
    return ref, _closed(text, pos, close, opened_at)


def _parse_body(text: str, start: int, scheme: Scheme) -> tuple[Reference, int]:
    """Parse the reference whose ``$`` is at ``start``; return it and the end offset."""
    opener = text[start + 1]
    style: Style = "${" if opener == "{" else "$<"
    body = start + 3 + len(scheme)  # after "$", the opener and "scheme:"
    if scheme == "env":
        return _parse_variable(text, body, _CLOSE[opener], style, start)
    return _parse_parts(text, body, _CLOSE[opener], style, start)


def parse_reference(text: str) -> Reference:
    """Parse text that must be exactly one secret reference."""
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
    found = _references.get(text)
    if found is None:
        if text.startswith("$"):
            found = parse_reference(text)
        else:
            found, _ = _parse_parts(text, 0, None, "${")
        _keep(_references, text, found, len(text))
    return found


def find_references(text: str, *, schemes: Iterable[Scheme] = _SECRET_ONLY) -> Iterator[Occurrence]:
    """Every reference in ``text``, in order. Raises on the first malformed one."""
    for part in parse(text, schemes=schemes).parts:
        if isinstance(part, Occurrence):
            yield part


def reference_value(ref: Reference, outcome: Secret | ProviderError | None) -> tuple[str, bool]:
    """The text the secret reference ``ref`` stands for, given what fetching
    ``ref.key`` produced (a :class:`Secret`, the :class:`ProviderError` the fetch
    raised, or ``None`` when nothing came back), and whether that text is the
    reference's default.

    The field is selected here; the default is used only when the secret or the
    field does not exist. Any other outcome raises its typed error.
    """
    try:
        if outcome is None:
            raise ProviderError("no result for reference", name=ref.name)
        if isinstance(outcome, ProviderError):
            raise outcome
        value = outcome.field(ref.field) if ref.field is not None else outcome.reveal()
    except SecretNotFound:
        if ref.default is None:
            raise
        return ref.default, True
    return value, False
