"""A provider's declared name rule, applied once by the template methods."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ...errors import InvalidSecret, ProviderError, SecretNotFound
from ...references import MAX_NAME_LENGTH, check_name
from .checks import check_version

__all__ = ["NamePolicy"]

Pattern = str | re.Pattern[str]


def _compiled(pattern: Pattern | None) -> re.Pattern[str] | None:
    if pattern is None or isinstance(pattern, re.Pattern):
        return pattern
    return re.compile(pattern)


@dataclass(frozen=True)
class NamePolicy:
    """Which names (and versions) a backend can hold, on top of the one name rule.

    Every name first passes :func:`secretwire.references.check_name` (1 to 2048
    visible characters, so every name can be written in a reference); then:

    * ``max_length``: at most this many characters;
    * ``alphabet``: a regular expression every name must match whole, described to
      the reader by ``describe`` (``"1-512 characters of A-Z a-z 0-9 / _ + = . @ -"``);
    * ``read_alphabet``: names that are also accepted for reads (``get``,
      ``versions``, ``delete``) though not for writes (AWS secret ARNs);
    * ``path_segments``: ``/``-separated paths without a leading or trailing ``/``
      and without empty, ``.`` or ``..`` segments (Vault);
    * ``rule``: any further check, ``name -> problem or None`` (Azure's encoded
      length);
    * ``hint``: what the reader can do when a name is refused;
    * ``version``: a regular expression a version the backend could hold matches
      whole (Vault: digits). Any other version is :class:`SecretNotFound` (it
      cannot exist: a ``:-default`` applies), or :class:`InvalidSecret` with
      ``version_invalid=True``.

    A refused name is an :class:`InvalidSecret` that names the rule, never a
    backend call. The default policy is the one name rule alone.
    """

    max_length: int | None = None
    alphabet: Pattern | None = None
    describe: str = ""
    read_alphabet: Pattern | None = None
    path_segments: bool = False
    rule: Callable[[str], str | None] | None = None
    hint: str | None = None
    version: Pattern | None = None
    version_invalid: bool = False

    def problem(self, name: str, *, write: bool = False) -> str | None:
        """What is wrong with ``name`` (already past the one name rule), or None."""
        if self.max_length is not None and len(name) > self.max_length:
            return f"the name is longer than {self.max_length} characters"
        alphabet = _compiled(self.alphabet)
        if alphabet is not None and not alphabet.fullmatch(name):
            extra = None if write else _compiled(self.read_alphabet)
            if extra is None or not extra.fullmatch(name):
                return f"the name is not {self.describe or 'in the backend alphabet'}"
        if self.path_segments:
            if name.startswith("/") or name.endswith("/"):
                return "the name must not start or end with '/'"
            if any(part in ("", ".", "..") for part in name.split("/")):
                return "the name has an empty, '.' or '..' path segment"
        return None if self.rule is None else self.rule(name)

    def check(self, name: object, *, provider: str, operation: str, write: bool = False) -> str:
        """``name`` if this backend can hold it, else :class:`InvalidSecret`."""
        checked = check_name(name, provider=provider)
        problem = self.problem(checked, write=write)
        if problem is None:
            return checked
        raise InvalidSecret(
            operation=operation,
            name=checked if len(checked) <= MAX_NAME_LENGTH else None,
            provider=provider,
            detail=problem,
            hint=self.hint,
        )

    def check_version(
        self, name: str, version: object, *, provider: str, operation: str = "get"
    ) -> str | None:
        """``version`` if it is ``None`` or one this backend could hold (see the class)."""
        checked = check_version(version, name=name, provider=provider, operation=operation)
        pattern = _compiled(self.version)
        if checked is None or pattern is None or pattern.fullmatch(checked):
            return checked
        error: type[ProviderError] = InvalidSecret if self.version_invalid else SecretNotFound
        raise error(
            operation=operation,
            name=name,
            version=checked,
            provider=provider,
            detail="the backend has no version of that form",
        )
