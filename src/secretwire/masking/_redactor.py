"""The :class:`Redactor`: masks the values it knows in text, in every encoding.

Rules: a value is searched for under each of its forms (:mod:`._forms`: raw, escaped
as in a Python ``repr`` or a JSON string, base64, base64url, URL-encoded and hex);
occurrences are replaced leftmost first, and at one position the longest form wins,
so a value that contains another is masked whole. Values shorter than ``min_length``
characters (default :data:`MIN_LENGTH`, 4) are not searched for inside other text,
because masking every ``"1"`` or ``"on"`` in a log would destroy it without
protecting anything, but a text that *is* a registered value is masked whatever its
length. Such a value, registered with its secret's name, is listed by name in
:attr:`Redactor.short_names`; where it matters (log masking is installed, which sets
:attr:`Redactor.report_short`) the name is reported once by a ``WARNING`` on the
``secretwire`` logger.
Registered values stay registered for the redactor's life (a rotated value may still
appear in older text); :meth:`Redactor.clear` forgets them. The redactor's ``repr``
and every object it holds show no value.
"""

from __future__ import annotations

import logging
import threading

from ..values import MASK, SecretValue
from ._forms import encoded_forms
from ._matchers import Levels, Matcher

__all__ = ["MIN_LENGTH", "Redactor", "default_redactor"]

#: Values shorter than this (in characters) are not masked inside other text by default.
MIN_LENGTH = 4

logger = logging.getLogger("secretwire")


class Redactor:
    """Masks registered secret values in text (see the module docstring). Thread-safe.

    ``engine`` picks the multi-pattern matcher: ``"aho"`` (pyahocorasick, the
    ``fast-masking`` extra), ``"regex"`` (pure Python) or ``None`` for the first one
    installed."""

    def __init__(
        self, *, min_length: int = MIN_LENGTH, mask: str = MASK, engine: str | None = None
    ) -> None:
        if min_length < 1:
            raise ValueError("min_length must be at least 1")
        self.min_length = min_length
        self.mask = mask
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._whole: set[str] = set()
        self._short: set[str] = set()
        self._levels = Levels(engine)
        self._lock = threading.Lock()
        #: Log a ``WARNING`` naming each secret too short to be searched for.
        self.report_short = False

    def add(self, value: str | SecretValue, *, name: str | None = None) -> bool:
        """Register ``value`` (a plain string or a :class:`SecretValue`). Returns whether
        it is searched for inside other text; when it is too short for that and
        ``name`` (its secret's name) is given, the name is reported (see the module
        docstring)."""
        plain = value.reveal() if isinstance(value, SecretValue) else value
        if not plain:
            return False
        searched = len(plain) >= self.min_length
        report = False
        with self._lock:
            self._whole.add(plain)
            if searched and plain not in self._values:
                self._values.add(plain)
                new = [form for form in encoded_forms(plain) if form not in self._forms]
                self._forms.update(new)
                self._levels.add(new)
            elif not searched and name is not None and name not in self._short:
                self._short.add(name)
                report = True
        if report and self.report_short:  # outside the lock: the record is masked too
            self.warn_short(name)
        return searched

    def warn_short(self, name: str | None) -> None:
        """The report of a secret too short to be searched for."""
        logger.warning(
            "secret %r is shorter than the masking minimum of %d characters: it is "
            "masked only where a whole text (a log message, an output) is it",
            name,
            self.min_length,
        )

    @property
    def short_names(self) -> frozenset[str]:
        """Names of the secrets registered with a value too short to be searched for."""
        with self._lock:
            return frozenset(self._short)

    def clear(self) -> None:
        """Forget every registered value."""
        with self._lock:
            self._values.clear()
            self._forms.clear()
            self._whole.clear()
            self._short.clear()
            self._levels.clear()

    def matcher(self) -> Matcher:
        """The matcher of every registered form, as of now (what a stream masker uses)."""
        with self._lock:
            return self._levels.matcher()

    def may_contain(self, text: str) -> bool:
        """Whether ``text`` holds a registered value (or is one, whatever its length)."""
        return text in self._whole or self.matcher().search(text)

    def redact(self, text: str) -> str:
        """``text`` with every registered value replaced by the mask, leftmost and
        longest first; a text that is a registered value becomes the mask."""
        if text in self._whole:
            return self.mask
        return self.matcher().sub(self.mask, text)

    def __len__(self) -> int:
        """The number of values searched for (those of at least ``min_length``)."""
        with self._lock:
            return len(self._values)

    def __repr__(self) -> str:
        return f"<Redactor values={len(self)} min_length={self.min_length}>"


_DEFAULT = Redactor()


def default_redactor() -> Redactor:
    """The process-wide redactor: every manager registers what it serves here too."""
    return _DEFAULT
