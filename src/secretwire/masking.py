"""Masking as a core service: one :class:`Redactor` that knows the values served.

A :class:`~secretwire.SecretManager` registers every value it serves in its own
redactor and in the process-wide :func:`default_redactor`, which
:class:`RedactingFilter` uses, so a log record that quotes a served value (an
application logging its own configuration, an SDK logging a request) shows
:data:`~secretwire.MASK` in its place::

    import logging
    from secretwire import RedactingFilter

    logging.getLogger().handlers[0].addFilter(RedactingFilter())

The same redactor answers "could this text hold a value?" (:meth:`Redactor.may_contain`)
for code that must withhold a backend's message or a framework's error text.

Rules: values are replaced longest first, so a value that contains another is
masked whole, raw and as a Python ``repr`` or a JSON string escapes them (a value
with a quote, a backslash or a non-ASCII character is found in ``repr(config)`` or a
JSON dump too); values shorter than ``min_length`` characters (default
:data:`MIN_LENGTH`, 4) are not searched for inside other text, because masking every
``"1"`` or ``"on"`` in a log would destroy it without protecting anything, but a
text that *is* a registered value is masked whatever its length. Registered values
stay registered for the redactor's life (a rotated value may still appear in older
text); :meth:`Redactor.clear` forgets them. The redactor's ``repr`` and every object it
holds show no value.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable

from .values import MASK, SecretValue

__all__ = ["MIN_LENGTH", "RedactingFilter", "Redactor", "default_redactor"]

#: Values shorter than this (in characters) are not masked by default.
MIN_LENGTH = 4


class _Matcher:
    """The compiled alternation of the registered values; its repr shows none."""

    __slots__ = ("pattern",)

    def __init__(self, values: Iterable[str]) -> None:
        ordered = sorted(values, key=lambda item: (-len(item), item))
        self.pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def search(self, text: str) -> bool:
        return self.pattern is not None and self.pattern.search(text) is not None

    def sub(self, mask: str, text: str) -> str:
        return text if self.pattern is None else self.pattern.sub(mask, text)

    def __repr__(self) -> str:
        return "<redactor patterns>"


class Redactor:
    """Masks registered secret values in text (see the module docstring). Thread-safe."""

    def __init__(self, *, min_length: int = MIN_LENGTH, mask: str = MASK) -> None:
        if min_length < 1:
            raise ValueError("min_length must be at least 1")
        self.min_length = min_length
        self.mask = mask
        self._values: set[str] = set()
        self._whole: set[str] = set()
        self._matcher: _Matcher | None = _Matcher(())
        self._lock = threading.Lock()

    def _forms(self, value: str) -> Iterable[str]:
        """The texts under which ``value`` is masked: raw, ``repr``-escaped and
        JSON-escaped (the one place to add encodings)."""
        return {
            value,
            repr(value)[1:-1],
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
        }

    def add(self, value: str | SecretValue) -> None:
        """Register ``value`` (a plain string or a :class:`SecretValue`)."""
        plain = value.reveal() if isinstance(value, SecretValue) else value
        forms = [form for form in self._forms(plain) if len(form) >= self.min_length]
        with self._lock:
            if plain:
                self._whole.add(plain)
            if not self._values.issuperset(forms):
                self._values.update(forms)
                self._matcher = None  # rebuilt on the next use

    def clear(self) -> None:
        """Forget every registered value."""
        with self._lock:
            self._values.clear()
            self._whole.clear()
            self._matcher = _Matcher(())

    def _current(self) -> _Matcher:
        with self._lock:
            if self._matcher is None:
                self._matcher = _Matcher(self._values)
            return self._matcher

    def may_contain(self, text: str) -> bool:
        """Whether ``text`` holds a registered value (or is one, whatever its length)."""
        return text in self._whole or self._current().search(text)

    def redact(self, text: str) -> str:
        """``text`` with every registered value replaced by the mask, longest first;
        a text that is a registered value becomes the mask."""
        if text in self._whole:
            return self.mask
        return self._current().sub(self.mask, text)

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def __repr__(self) -> str:
        return f"<Redactor values={len(self)} min_length={self.min_length}>"


_DEFAULT = Redactor()


def default_redactor() -> Redactor:
    """The process-wide redactor: every manager registers what it serves here too."""
    return _DEFAULT


class RedactingFilter(logging.Filter):
    """A :class:`logging.Filter` that masks registered values in each record's
    message (``msg`` with its ``args`` applied). Attach it to a handler (it then sees
    records from every logger) or to a logger. It never drops a record."""

    def __init__(self, redactor: Redactor | None = None, name: str = "") -> None:
        super().__init__(name)
        self.redactor = redactor if redactor is not None else _DEFAULT

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's to report
            return True
        if self.redactor.may_contain(message):
            record.msg = self.redactor.redact(message)
            record.args = None
        return True
