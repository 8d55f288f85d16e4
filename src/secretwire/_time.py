"""Shared time helpers: one clock, one notion of "aware", one ISO 8601 format.

Every timestamp secretwire keeps or compares is a timezone-aware UTC ``datetime``.
:func:`utcnow` is the one clock the library reads (expiry and not-before checks in
``SecretProvider.get``); tests replace it with :func:`use_clock` (or
``secretwire.testing.FakeClock.installed()``) instead of sleeping.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

__all__ = ["aware", "is_aware", "isoformat", "parse_iso", "use_clock", "utcnow"]

Clock = Callable[[], datetime]


def _system_clock() -> datetime:
    return datetime.now(timezone.utc)


_clock: Clock = _system_clock
_clock_lock = threading.Lock()


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC (from the installed clock)."""
    return _clock()


@contextmanager
def use_clock(clock: Clock) -> Iterator[None]:
    """Read time from ``clock`` (a function returning an aware ``datetime``) inside
    the block; the previous clock is restored after it. Process-wide: meant for tests."""
    global _clock  # noqa: PLW0603 - the one process-wide clock, swapped under a lock
    with _clock_lock:
        previous, _clock = _clock, clock
    try:
        yield
    finally:
        with _clock_lock:
            _clock = previous


def is_aware(moment: datetime) -> bool:
    """Whether ``moment`` carries a timezone (naive times are refused as arguments)."""
    return moment.tzinfo is not None and moment.utcoffset() is not None


def aware(moment: object) -> datetime | None:
    """A time a *backend* reported, as aware UTC: naive times are taken as UTC (SDKs
    return them so); anything that is not a ``datetime`` is no time (``None``)."""
    if not isinstance(moment, datetime):
        return None
    if not is_aware(moment):
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def isoformat(moment: datetime) -> str:
    """``moment`` in UTC as ISO 8601 (``2030-01-02T03:04:05+00:00``)."""
    return moment.astimezone(timezone.utc).isoformat()


_ISO = re.compile(
    r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:?\d\d)?",
    re.ASCII,
)


def parse_iso(text: object) -> datetime | None:
    """An RFC 3339 / ISO 8601 time as aware UTC, or ``None`` for anything else.

    Accepts what backends write and Python 3.10's ``fromisoformat`` does not: ``Z``,
    more than six fractional digits (Vault's nanoseconds, cut to microseconds) and
    ``+hhmm`` offsets. A time without an offset is taken as UTC. Go's zero time
    (year 1, "no time" in Vault's answers) and ``""`` are ``None``. Never raises.
    """
    if not isinstance(text, str) or not text:
        return None
    match = _ISO.fullmatch(text.strip())
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    if zone is None or zone in ("Z", "z"):
        offset = "+00:00"
    else:
        offset = zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}.{micro}{offset}")
    except ValueError:
        return None
    if moment.year <= 1:
        return None
    return moment.astimezone(timezone.utc)
