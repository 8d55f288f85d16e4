"""The small types behind :class:`secretwire.cache.SecretCache`: its policy, its
counters, and the records it keeps per key (an entry, a flight, a lookup)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["CachePolicy", "CacheStats"]

V = TypeVar("V")


def _never(error: BaseException) -> bool:
    return False


def _always(value: Any) -> bool:
    return True


def _unchanged(value: V, age: float) -> V:
    return value


@dataclass(frozen=True, slots=True)
class CachePolicy(Generic[V]):
    """What a :class:`~secretwire.cache.SecretCache` does beyond its TTL; everything
    is off by default.

    * ``max_stale``: seconds past its TTL that a value is kept, to be served when a
      load of it fails with a ``transient`` error (the backend unavailable, throttled,
      past its deadline); ``aged(value, age)`` is the value as served stale (the
      manager marks the secret with its age); ``usable(value)`` says whether a kept
      value may still be served (an expired secret may not). While the backend keeps
      failing, the kept value is served at once and one background load every
      ``probe_interval`` seconds checks whether it is back.
    * ``negative_ttl``: seconds an ``absent`` error (not found) is kept and given
      again (a copy) without a load.
    * ``refresh_ahead``: a fraction of the TTL (0 < f < 1); a hit on an entry older
      than that loads it again in the background, at most ``max_refreshes`` keys at
      a time.
    * ``keep(value)``: whether a loaded value is kept; one that a layer below served
      from its own kept copy (a shared cache, stale while the backend fails) is
      passed on to the caller but not kept as fresh.
    """

    max_stale: float = 0.0
    refresh_ahead: float = 0.0
    negative_ttl: float = 0.0
    transient: Callable[[BaseException], bool] = _never
    absent: Callable[[BaseException], bool] = _never
    usable: Callable[[V], bool] = _always
    aged: Callable[[V, float], V] = _unchanged
    keep: Callable[[V], bool] = _always
    probe_interval: float = 1.0
    max_refreshes: int = 16

    def __post_init__(self) -> None:
        for field in ("max_stale", "negative_ttl", "probe_interval"):
            if getattr(self, field) < 0:
                raise ValueError(f"cache {field} must not be negative")
        if not 0 <= self.refresh_ahead < 1:
            raise ValueError("cache refresh_ahead must be a fraction of the ttl (0 <= f < 1)")
        if self.max_refreshes < 1:
            raise ValueError("cache max_refreshes must be at least 1")


@dataclass(frozen=True, slots=True)
class CacheStats:
    """The cache's counters. ``stale_served`` counts reads given a value past its TTL
    because the backend failed (``stale_age_max``: the oldest such value's age, in
    seconds since it was loaded); ``negative_hits`` reads answered "not found" from
    the cache; ``refreshes`` background loads started (refresh-ahead, and probes of a
    failing backend; ``refresh_failures`` of them failed); ``deadline_failures``
    reads that gave up waiting for another caller's load at their deadline."""

    hits: int
    misses: int
    evictions: int
    errors: int
    loads: int
    size: int
    maxsize: int
    ttl: float
    load_seconds_total: float
    load_seconds_max: float
    stale_served: int = 0
    stale_age_max: float = 0.0
    negative_hits: int = 0
    refreshes: int = 0
    refresh_failures: int = 0
    deadline_failures: int = 0

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    @property
    def load_seconds_mean(self) -> float:
        return self.load_seconds_total / self.loads if self.loads else 0.0


class Flight(Generic[V]):
    """One backend call in progress that other threads wait on."""

    __slots__ = ("done", "error", "result", "stale")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: V | None = None
        self.error: BaseException | None = None
        #: the result is a kept value served because the load failed
        self.stale = False


@dataclass(slots=True)
class Entry(Generic[V]):
    """What the cache keeps for a key: a value, or an ``absent`` error (negative)."""

    value: V | None
    error: BaseException | None
    #: the cache timer's time when it was loaded
    loaded: float
    #: a load failed with a transient error since: the value is served stale
    failing: bool = False
    #: while failing, when the next background load may probe the backend
    probe_at: float = 0.0


@dataclass(slots=True)
class Lookup(Generic[V]):
    """What ``SecretCache._begin`` found: a value (fresh, or stale while the backend
    fails), a negative hit's error, or a flight to lead or wait on. ``background``:
    the caller got a value and leads a flight to load the key again in the
    background (refresh-ahead, or a probe of a failing backend)."""

    value: V | None
    error: BaseException | None
    flight: Flight[V] | None
    leader: bool
    generation: int
    background: bool = False


def fresh_copy(error: BaseException) -> BaseException:
    """A copy of a kept error to raise again, without the original's traceback."""
    again = copy.copy(error)
    again.__traceback__ = None
    return again
