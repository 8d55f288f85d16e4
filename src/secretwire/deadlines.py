"""Deadlines: how long one whole operation may take, seen by every backend call under it.

The manager opens one per operation (``resolve``, ``get``, a write: 5 s by default;
``health``: 2 s), and you can open your own around any code::

    with deadline(1.5):
        config = secrets.resolve(raw)   # every backend call below has 1.5 s in all

The deadline is a context variable, so every backend call below sees the same
budget whatever its depth: the provider kit's ``call`` (and the pipeline's provider
stage) refuse to start a call past it and turn a timeout after it into
:class:`~secretwire.errors.DeadlineExceeded`; the providers' HTTP layers cap each
attempt's timeout, their retries and their back-off at what remains
(:func:`budget`, :func:`remaining`). A nested deadline can only shorten the one
around it. Threads doing part of an operation carry it when started from
:func:`contextvars.copy_context` (the pipeline's fan-out does).

Outside any deadline nothing changes: :func:`remaining` is ``None`` and
:func:`budget` returns the timeout it is given.
"""

from __future__ import annotations

import contextvars
import time
from typing import Any, NamedTuple

from .errors import DeadlineExceeded

__all__ = [
    "DEFAULT_HEALTH_DEADLINE",
    "DEFAULT_RESOLVE_DEADLINE",
    "Deadline",
    "budget",
    "check",
    "current",
    "deadline",
    "exceeded",
    "expired",
    "remaining",
]

#: Seconds a manager operation (``resolve``, ``get``, ``value``, a write...) may take.
DEFAULT_RESOLVE_DEADLINE = 5.0
#: Seconds a ``health`` check may take.
DEFAULT_HEALTH_DEADLINE = 2.0
#: The smallest timeout :func:`budget` hands out (a zero timeout means "none" to some SDKs).
_FLOOR = 0.001


class Deadline(NamedTuple):
    """A point in time (``time.monotonic()``) and the length it was opened with."""

    seconds: float
    at: float

    def remaining(self) -> float:
        return self.at - time.monotonic()


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "secretwire_deadline", default=None
)


def deadline(seconds: float | None, *, nested: bool = True) -> _Scope:
    """Run the block under a deadline ``seconds`` from now (``None``: no new one).

    ``nested`` (the default) keeps an earlier deadline already in force: a block can
    only shorten its caller's budget. ``nested=False`` starts afresh (a background
    refresh, which nobody waits for, gets its own budget). ``with`` gives the
    :class:`Deadline` in force inside the block (or ``None``)."""
    return _Scope(seconds, nested)


class _Scope:
    """The context manager :func:`deadline` returns (a class: it runs on every read)."""

    __slots__ = ("_nested", "_seconds", "_token")

    def __init__(self, seconds: float | None, nested: bool) -> None:
        self._seconds = seconds
        self._nested = nested

    def __enter__(self) -> Deadline | None:
        outer = _current.get()
        seconds = self._seconds
        if seconds is None:
            new = outer if self._nested else None
        else:
            new = Deadline(float(seconds), time.monotonic() + seconds)
            if self._nested and outer is not None and outer.at <= new.at:
                new = outer
        self._token = _current.set(new)
        return new

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)


def current() -> Deadline | None:
    """The deadline in force here, if any."""
    return _current.get()


def remaining() -> float | None:
    """Seconds left before the deadline in force (negative once past), or ``None``."""
    found = _current.get()
    return None if found is None else found.remaining()


def expired() -> bool:
    """Whether a deadline is in force and has passed."""
    left = remaining()
    return left is not None and left <= 0


def budget(timeout: float) -> float:
    """``timeout`` capped at what remains of the deadline (at least 1 ms, so a late
    attempt fails at once instead of waiting forever on a zero that means "none")."""
    left = remaining()
    if left is None:
        return timeout
    return max(_FLOOR, min(timeout, left))


def exceeded(**fields: Any) -> DeadlineExceeded:
    """The error for a backend call stopped by the deadline in force; ``fields`` are
    the error's (``operation``, ``name``, ``provider``, ``endpoint``...)."""
    found = _current.get()
    detail = "no answer before the deadline"
    if found is not None:
        detail = f"no answer within the operation's {found.seconds:g} s deadline"
    return DeadlineExceeded(detail=detail, **fields)


def check(**fields: Any) -> None:
    """Raise :func:`exceeded` (with ``fields``) if the deadline in force has passed."""
    if expired():
        raise exceeded(**fields)
