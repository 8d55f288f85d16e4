"""The one rule for secret names, and the character tests the reference scanner shares.

Private: :mod:`secretwire.references` re-exports :data:`MAX_NAME_LENGTH`,
:func:`check_name` and :func:`is_valid_name` (the rule is explained there and in
``docs/references.md#names``).
"""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidSecret

__all__ = ["MAX_NAME_LENGTH", "check_name", "describe", "invisible_at", "is_valid_name", "visible"]

#: The longest secret name, in characters (AWS accepts an ARN of up to 2048).
MAX_NAME_LENGTH = 2048

_WHITESPACE = re.compile(r"\s")
_NAMES_DOC = "docs/references.md#names"

_CATEGORY = {
    "Cc": "a control character",
    "Cf": "an invisible format character",
    "Cs": "a lone surrogate (not valid Unicode text)",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
}


def visible(ch: str) -> bool:
    """Whether ``ch`` prints as a mark: printable and not whitespace."""
    return ch.isprintable() and not ch.isspace()


def describe(ch: str) -> str:
    """What kind of invisible character ``ch`` is, with its code point (never as is)."""
    if ch.isspace():
        kind = "whitespace"
    else:
        kind = _CATEGORY.get(unicodedata.category(ch), "a non-printable character")
    return f"{kind} (U+{ord(ch):04X})"


def invisible_at(text: str) -> int:
    """The index of the first character of ``text`` that is not visible, or -1."""
    if text.isprintable():
        found = _WHITESPACE.search(text)
        return -1 if found is None else found.start()
    return next(i for i, ch in enumerate(text) if not visible(ch))


def _name_problem(name: str) -> tuple[int, str] | None:
    """``(index, reason)`` when ``name`` breaks the name rule, else ``None``."""
    if not name:
        return 0, "is empty"
    if len(name) > MAX_NAME_LENGTH:
        return MAX_NAME_LENGTH, f"is {len(name)} characters long (at most {MAX_NAME_LENGTH})"
    index = invisible_at(name)
    if index >= 0:
        return index, f"has {describe(name[index])} at character {index}"
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
