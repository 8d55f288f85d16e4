"""The small types behind :class:`secretwire.cache.SecretCache`: its policy, its
counters, and the records it keeps per key (an entry, a flight, a lookup)."""

from __future__ import annotations

import copy
import math
import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["CachePolicy", "CacheStats"]

K = TypeVar("K", bound=Hashable)
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
    * ``lasting(value)``: whether a value stays valid for as long as it is cached.
      Reads of one that does not (a secret with an expiry date) take the full path,
      where the caller checks it again; the others are served by the lock-free hit
      path (:class:`Entry`).
    """

    max_stale: float = 0.0
    refresh_ahead: float = 0.0
    negative_ttl: float = 0.0
    transient: Callable[[BaseException], bool] = _never
    absent: Callable[[BaseException], bool] = _never
    usable: Callable[[V], bool] = _always
    aged: Callable[[V, float], V] = _unchanged
    keep: Callable[[V], bool] = _always
    lasting: Callable[[V], bool] = _always
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


class Entry(Generic[V]):
    """What the cache keeps for a key: a value loaded at ``loaded`` (the cache
    timer's time). A reader may serve ``value`` without a lock while
    ``timer() - loaded`` is under the cache's ``fresh_for``; an entry that must take
    the full path is a :class:`Held` one, whose ``loaded`` is ``-inf`` (its time is
    ``since``). ``hits`` counts the reads served since the cache last looked (no
    lock: a count lost to a race is a hit not counted, never a wrong value); the
    cache adds it to its total when it retires the count, and a non-zero count
    spares the entry from eviction once (second chance)."""

    __slots__ = ("hits", "loaded", "value")

    def __init__(self, value: V, loaded: float) -> None:
        self.value = value
        self.loaded = loaded
        self.hits = 0

    @property
    def since(self) -> float:
        """When it was loaded (the cache timer's time)."""
        return self.loaded


class Held(Entry[V]):
    """An entry every read of which takes the full path (under the lock): a value
    that may expire while cached (the caller checks it again)."""

    __slots__ = ("since",)

    def __init__(self, value: V, since: float) -> None:
        super().__init__(value, -math.inf)
        self.since = since  # type: ignore[misc]  # the slot stands in for the property


class Negative(Held[V]):
    """A kept ``absent`` error (negative caching): given again (a copy), never a value."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException, since: float) -> None:
        super().__init__(None, since)  # type: ignore[arg-type]  # no value
        self.error = error


class Failing(Held[V]):
    """A value past its TTL whose backend fails with a transient error: served
    stale, and probed once per ``probe_at`` in the background."""

    __slots__ = ("probe_at",)

    def __init__(self, kept: Entry[V], probe_at: float) -> None:
        super().__init__(kept.value, kept.since)
        self.hits = kept.hits
        self.probe_at = probe_at


class Table(Generic[K, V]):
    """The entries of a cache (a plain ``dict``, read by hits without a lock) with
    their size bound. Not locked itself: the cache calls it under its lock.

    Past ``maxsize`` the entry not read for longest goes, the way a clock sweep
    finds it: keys in the order they were added, each entry read since the sweep
    last passed it passed over once (its count retired, its key moved to the end).
    """

    __slots__ = ("_order", "_retired", "data", "evictions", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.data: dict[K, Entry[V]] = {}
        #: keys in the order they were added (a key dropped since is skipped)
        self._order: deque[K] = deque()
        self._retired = 0  # hits of entries no longer counting their own
        self.evictions = 0

    def store(self, key: K, entry: Entry[V]) -> None:
        data = self.data
        old = data.get(key)
        if old is not None:
            self._retired += old.hits
        else:
            if len(data) >= self.maxsize:
                self._evict()
            self._order.append(key)
            if len(self._order) > 2 * self.maxsize:  # keys dropped meanwhile pile up
                self._order = deque(data)
                self._order.append(key)
        data[key] = entry

    def drop(self, key: K) -> None:
        entry = self.data.pop(key, None)
        if entry is not None:
            self._retired += entry.hits

    def _evict(self) -> None:
        data, order = self.data, self._order
        passes = len(order)
        while order:
            key = order.popleft()
            entry = data.get(key)
            if entry is None:
                continue  # dropped since it was added
            if entry.hits and passes > 0:
                passes -= 1
                self._retired += entry.hits
                entry.hits = 0
                order.append(key)
                continue
            self.drop(key)
            self.evictions += 1
            return

    def expire(self, now: float, kept: float, negative_ttl: float) -> None:
        """Drop every entry past its keeping time (``kept`` for values,
        ``negative_ttl`` for kept errors)."""
        for key, entry in list(self.data.items()):
            if now - entry.since >= (negative_ttl if isinstance(entry, Negative) else kept):
                self.drop(key)

    def clear(self) -> None:
        self._retired += sum(entry.hits for entry in self.data.values())
        self.data.clear()  # the same dict: lock-free readers see it empty at once
        self._order.clear()

    def hits(self) -> int:
        return self._retired + sum(entry.hits for entry in self.data.values())


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
