"""The secret cache: TTL, size bound, invalidation, single-flight and counters.

Built on :class:`cachetools.TTLCache` with an injectable timer, so tests tick a
fake clock instead of sleeping. Only successful reads are cached; errors (not
found included, so a secret created elsewhere shows up) go straight back.

Single-flight lives wholly here: :meth:`SecretCache.get_or_load` for one key and
:meth:`SecretCache.get_or_load_many` for a batch. While a key is being loaded,
every other caller asking for it (alone or in a batch) waits for that load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from cachetools import TTLCache

__all__ = ["CacheStats", "SecretCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
E = TypeVar("E", bound=Exception)


@dataclass(frozen=True, slots=True)
class CacheStats:
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

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    @property
    def load_seconds_mean(self) -> float:
        return self.load_seconds_total / self.loads if self.loads else 0.0


class _Flight(Generic[V]):
    """One backend call in progress that other threads wait on."""

    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: V | None = None
        self.error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class _Lookup(Generic[V]):
    """What :meth:`SecretCache._begin` found: a value, or a flight to lead or wait on."""

    value: V | None
    flight: _Flight[V] | None
    leader: bool
    generation: int


class _CountingTTLCache(TTLCache[K, V]):
    def __init__(self, maxsize: int, ttl: float, timer: Callable[[], float]) -> None:
        super().__init__(maxsize=maxsize, ttl=ttl, timer=timer)
        self.evictions = 0

    def popitem(self) -> tuple[K, V]:
        # Called by cachetools only when the size bound forces an eviction.
        item = super().popitem()
        self.evictions += 1
        return item


class SecretCache(Generic[K, V]):
    """A thread-safe TTL cache with single-flight loading.

    ``get_or_load(key, loader)`` returns the cached value or calls ``loader()``;
    ``get_or_load_many(keys, loader, error=...)`` does the same for a batch with one
    ``loader`` call for the keys nobody is loading yet. While one thread loads a key,
    other threads asking for the same key wait for that result instead of calling
    the backend again. ``group`` maps a key to the name used by :meth:`invalidate`
    (all versions of one secret go together).
    """

    def __init__(
        self,
        *,
        ttl: float = 300.0,
        maxsize: int = 1024,
        timer: Callable[[], float] = time.monotonic,
        group: Callable[[K], Hashable] = lambda key: key,
    ) -> None:
        if ttl <= 0:
            raise ValueError("cache ttl must be positive (disable the cache instead)")
        if maxsize < 1:
            raise ValueError("cache maxsize must be at least 1")
        self._data: _CountingTTLCache[K, V] = _CountingTTLCache(maxsize, ttl, timer)
        self._flights: dict[K, _Flight[V]] = {}
        self._lock = threading.Lock()
        self._group = group
        self._generation = 0
        self._hits = self._misses = self._errors = self._loads = 0
        self._load_total = self._load_max = 0.0
        self._ttl = ttl
        self._maxsize = maxsize

    def peek(self, key: K) -> V | None:
        """The cached value (counting a hit), or ``None`` without counting a miss."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._hits += 1
            return value

    def get_or_load(self, key: K, loader: Callable[[], V]) -> V:
        value = self.peek(key)  # the hot path: one lock, one lookup, no allocation
        if value is not None:
            return value
        entry = self._begin(key)  # re-checks under the lock: the value may have just landed
        if entry.value is not None:
            return entry.value
        if not entry.leader:
            return self._wait(entry.flight)
        started = time.perf_counter()
        try:
            value = loader()
        except BaseException as err:
            self._finish(key, entry, error=err, seconds=time.perf_counter() - started)
            raise
        self._finish(key, entry, value=value, seconds=time.perf_counter() - started)
        return value

    def get_or_load_many(
        self,
        keys: Iterable[K],
        loader: Callable[[list[K]], Mapping[K, V | E]],
        *,
        error: type[E],
    ) -> dict[K, V | E]:
        """Each distinct key of ``keys`` mapped to its value or to its ``error``.

        Cached keys are served from the cache; keys another caller is loading are
        waited for; the rest go to ONE ``loader(missing_keys)`` call, which must map
        every key it is given to its value or to an ``error`` instance (not cached).
        A key another caller's load failed for gets that error when it is an
        ``error``; anything else it raised is raised here too. If ``loader`` itself
        raises, every caller waiting on its keys gets that exception.
        """
        results: dict[K, V | E] = {}
        waiting: list[tuple[K, _Lookup[V]]] = []
        leading: dict[K, _Lookup[V]] = {}
        for key in dict.fromkeys(keys):
            entry = self._begin(key)
            if entry.value is not None:
                results[key] = entry.value
            elif entry.leader:
                leading[key] = entry
            else:
                waiting.append((key, entry))
        if leading:
            results.update(self._load_batch(leading, loader, error))
        for key, entry in waiting:
            try:
                results[key] = self._wait(entry.flight)
            except error as err:
                results[key] = err
        return results

    def _load_batch(
        self,
        leading: dict[K, _Lookup[V]],
        loader: Callable[[list[K]], Mapping[K, V | E]],
        error: type[E],
    ) -> dict[K, V | E]:
        """Run ``loader`` for the flights this caller leads and finish each of them."""
        started = time.perf_counter()
        try:
            loaded = loader(list(leading))
        except BaseException as err:
            for key, entry in leading.items():
                self._finish(key, entry, error=err)
            raise
        seconds = (time.perf_counter() - started) / len(leading)
        results: dict[K, V | E] = {}
        broken: RuntimeError | None = None
        for key, entry in leading.items():
            if key not in loaded:  # every flight is finished first: no waiter hangs
                broken = RuntimeError("the loader returned no outcome for a key")
                self._finish(key, entry, error=broken, seconds=seconds)
                continue
            outcome = loaded[key]
            if isinstance(outcome, error):
                self._finish(key, entry, error=outcome, seconds=seconds)
            else:
                self._finish(key, entry, value=cast(V, outcome), seconds=seconds)
            results[key] = outcome
        if broken is not None:
            raise broken
        return results

    def _begin(self, key: K) -> _Lookup[V]:
        """Look ``key`` up and, on a miss, join or start its single flight.

        One lock covers the lookup and the flight registration, so a thread can
        never miss, then find the value already loaded, and load it again. A
        caller that gets ``leader=True`` must call :meth:`_finish`.
        """
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._hits += 1
                return _Lookup(value, None, False, self._generation)
            self._misses += 1
            flight = self._flights.get(key)
            if flight is not None:
                return _Lookup(None, flight, False, self._generation)
            flight = self._flights[key] = _Flight()
            return _Lookup(None, flight, True, self._generation)

    def _finish(
        self,
        key: K,
        entry: _Lookup[V],
        *,
        value: V | None = None,
        error: BaseException | None = None,
        seconds: float = 0.0,
    ) -> None:
        """Complete a flight started with :meth:`_begin`.

        A write or invalidation that happened while the flight was loading makes
        the value possibly stale: waiters get it, the cache does not keep it.
        """
        flight = entry.flight
        if flight is None or not entry.leader:
            raise RuntimeError("_finish() is for the leader of a flight")
        with self._lock:
            self._record_load(seconds)
            if error is not None:
                self._errors += 1
            elif value is not None and entry.generation == self._generation:
                self._data[key] = value
            self._flights.pop(key, None)
        flight.result = value
        flight.error = error
        flight.done.set()

    @staticmethod
    def _wait(flight: _Flight[V] | None) -> V:
        if flight is None:
            raise RuntimeError("nothing to wait for: the lookup was a hit")
        flight.done.wait()
        if flight.error is not None:
            raise flight.error
        assert flight.result is not None  # noqa: S101 - set before done
        return flight.result

    def _record_load(self, seconds: float) -> None:
        self._loads += 1
        self._load_total += seconds
        self._load_max = max(self._load_max, seconds)

    def invalidate(self, group: Hashable) -> int:
        """Drop every entry whose key belongs to ``group``; return how many."""
        with self._lock:
            self._generation += 1
            doomed = [key for key in list(self._data.keys()) if self._group(key) == group]
            for key in doomed:
                self._data.pop(key, None)
            return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def stats(self) -> CacheStats:
        with self._lock:
            self._data.expire()
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                evictions=self._data.evictions,
                errors=self._errors,
                loads=self._loads,
                size=len(self._data),
                maxsize=self._maxsize,
                ttl=self._ttl,
                load_seconds_total=self._load_total,
                load_seconds_max=self._load_max,
            )
