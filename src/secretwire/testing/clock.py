"""A fake clock for tests: the cache's timer and the library's UTC clock in one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from .._time import use_clock

__all__ = ["FakeClock"]

#: Where a FakeClock's UTC time starts.
EPOCH = datetime(2030, 1, 1, tzinfo=timezone.utc)


class FakeClock:
    """Time that moves only when a test moves it.

    Called, it returns ``now`` (seconds, like ``time.monotonic``): pass it as a
    ``timer`` (``SecretManager(..., timer=clock)``, ``SecretCache(timer=clock)``).
    :meth:`utcnow` is ``epoch + now`` as an aware ``datetime``; inside
    :meth:`installed` the library reads it (expiry and not-before checks)::

        clock = FakeClock()
        with clock.installed():
            provider.set("a", "v", expires_at=clock.utcnow() + timedelta(seconds=60))
            clock.advance(60)
            provider.get("a")  # SecretExpired
    """

    def __init__(self, start: float = 0.0, *, epoch: datetime = EPOCH) -> None:
        self.now = float(start)
        self.epoch = epoch

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds

    def utcnow(self) -> datetime:
        return self.epoch + timedelta(seconds=self.now)

    @contextmanager
    def installed(self) -> Iterator[FakeClock]:
        """Make this clock the library's UTC clock inside the block."""
        with use_clock(self.utcnow):
            yield self

    def __repr__(self) -> str:
        return f"<FakeClock now={self.now:g}>"
