"""The secret cache: TTL, size bound, invalidation, single-flight, counters, and what
it does when the backend fails.

The timer is injectable, so tests tick a fake clock instead of sleeping. A hit
reads a plain ``dict`` and compares one timestamp, without a lock or a shared
counter (entries count their own hits; :meth:`SecretCache.fast_entries` lends the
dict to the manager's hit path); the rest takes the lock. Past ``maxsize`` the
entry read least recently goes, as a clock sweep finds it (``_cache_parts.Table``).
Single-flight lives wholly here: :meth:`SecretCache.get_or_load` for one key and
:meth:`SecretCache.get_or_load_many` for a batch. While a key is being loaded,
every other caller asking for it (alone or in a batch) waits for that load (at
most until its deadline, :mod:`secretwire.deadlines`).

A :class:`CachePolicy` adds, each off by default:

* **stale-on-error** (``max_stale``): a value is kept that long past its TTL. When
  a load of it fails with a *transient* error (the backend unavailable, throttled,
  past its deadline) the kept value is served instead, marked with its age, and one
  warning is logged per key and outage. Until the backend answers again, reads of
  the key get the kept value at once while one background load per
  ``probe_interval`` checks on it. Any other error (denied, not found, expired)
  drops the kept value: it is never served after one.
* **negative caching** (``negative_ttl``): an *absent* error (not found) is kept
  that long and given again without a load; invalidation drops it.
* **refresh-ahead** (``refresh_ahead``, a fraction of the TTL): a hit on an entry
  older than that starts a background load of it, so a key read often is replaced
  before it expires and its readers never wait. The background load is the key's
  single flight: a reader that misses while it runs waits for it.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar, cast

from . import deadlines
from ._cache_parts import CachePolicy, CacheStats
from ._cache_parts import Entry as _Entry
from ._cache_parts import Failing as _Failing
from ._cache_parts import Flight as _Flight
from ._cache_parts import Held as _Held
from ._cache_parts import Lookup as _Lookup
from ._cache_parts import Negative as _Negative
from ._cache_parts import Table as _Table
from ._cache_parts import fresh_copy as _fresh_copy
from ._threads import KeptThreads

__all__ = ["CachePolicy", "CacheStats", "SecretCache"]

logger = logging.getLogger("secretwire")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
E = TypeVar("E", bound=Exception)

_COUNTERS = (
    "misses", "errors", "loads", "stale_served", "negative_hits", "refreshes",
    "refresh_failures", "deadline_failures", "background",
)  # fmt: skip


class _NoOutcome(Exception):
    """The error type of a one-key load: its errors are raised, never returned."""


class SecretCache(Generic[K, V]):
    """A thread-safe TTL cache with single-flight loading and a :class:`CachePolicy`.

    ``get_or_load(key, loader)`` returns the cached value or calls ``loader()``;
    ``get_or_load_many(keys, loader, error=...)`` does the same for a batch with one
    ``loader`` call for the keys nobody is loading yet. While one thread loads a key,
    other threads asking for the same key wait for that result instead of calling
    the backend again. ``group`` maps a key to the name used by :meth:`invalidate`
    (all versions of one secret go together). ``on_load`` is called with every
    value a load returns, before any reader gets it (the manager registers it with
    its redactors there: once per load, not once per read).
    """

    def __init__(
        self,
        *,
        ttl: float = 300.0,
        maxsize: int = 1024,
        timer: Callable[[], float] = time.monotonic,
        group: Callable[[K], Hashable] = lambda key: key,
        policy: CachePolicy[V] | None = None,
        on_load: Callable[[V], object] | None = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError("cache ttl must be positive (disable the cache instead)")
        if maxsize < 1:
            raise ValueError("cache maxsize must be at least 1")
        self._policy: CachePolicy[V] = policy or CachePolicy()
        self._kept = ttl + self._policy.max_stale
        self._table: _Table[K, V] = _Table(maxsize)
        #: key -> entry; read without the lock (see fast_entries), written under it
        self._data = self._table.data
        self._timer = timer
        self._flights: dict[K, _Flight[V]] = {}
        self._lock = threading.Lock()
        self._group = group
        self._on_load = on_load
        self._generation = 0
        self._counts = dict.fromkeys(_COUNTERS, 0)
        self._load_total = self._load_max = self._stale_age_max = 0.0
        self._ttl = ttl
        self._maxsize = maxsize
        ahead = self._policy.refresh_ahead
        self._refresh_after = ttl * ahead if ahead else None
        #: how long after its load a value is served by the lock-free hit path
        self.fresh_for = ttl * ahead if ahead else ttl
        #: the background loads' threads (refresh-ahead, stale probes)
        self._threads = KeptThreads(4, "secretwire-refresh")
        self._closed = False

    # -- reads ---------------------------------------------------------------------------
    def fast_entries(self) -> Mapping[K, _Entry[V]]:
        """The cache's own mapping, for a caller's lock-free hit path: serve
        ``entry.value`` (and add 1 to ``entry.hits``) while ``timer() - entry.loaded``
        is under :attr:`fresh_for`, else call :meth:`get_or_load`. Read it; never
        change it."""
        return self._data

    def peek(self, key: K) -> V | None:
        """The fresh cached value (counting a hit), or ``None`` without counting a miss."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None or isinstance(entry, _Negative):
                return None
            if self._timer() - entry.since >= self._ttl:
                return None
            entry.hits += 1
            return entry.value

    def get_or_load(self, key: K, loader: Callable[[], V]) -> V:
        entry = self._data.get(key)  # the hot path: no lock
        if entry is not None and self._timer() - entry.loaded < self.fresh_for:
            entry.hits += 1
            return entry.value
        found = self._begin(key)
        if found.background:
            self._in_background({key: found}, lambda keys: {key: loader()}, _NoOutcome)
        if found.value is not None:
            return found.value
        if found.error is not None:
            raise found.error
        if not found.leader:
            return self._wait(found.flight)
        started = time.perf_counter()
        try:
            value = loader()
            if self._on_load is not None:
                self._on_load(value)
        except BaseException as err:
            stale = self._finish(key, found, error=err, seconds=time.perf_counter() - started)
            if stale is None:
                raise
            return stale
        self._finish(key, found, value=value, seconds=time.perf_counter() - started)
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
        every key it is given to its value or to an ``error`` instance. A key
        another caller's load failed for gets that error when it is an ``error``;
        anything else it raised is raised here too. If ``loader`` itself raises,
        every caller waiting on its keys gets that exception (a transient ``error``
        is each key's outcome instead, so kept values can stand in for it).
        """
        results: dict[K, V | E] = {}
        waiting: list[tuple[K, _Lookup[V]]] = []
        leading: dict[K, _Lookup[V]] = {}
        behind: dict[K, _Lookup[V]] = {}
        foreign: BaseException | None = None  # a kept error that is no ``error``: raised last
        data, now, fresh_for = self._data, self._timer(), self.fresh_for
        for key in dict.fromkeys(keys):
            entry = data.get(key)
            if entry is not None and now - entry.loaded < fresh_for:
                entry.hits += 1
                results[key] = entry.value
                continue
            found = self._begin(key)
            if found.background:
                behind[key] = found
            if found.value is not None:
                results[key] = found.value
            elif found.error is not None:
                if isinstance(found.error, error):
                    results[key] = found.error
                else:
                    foreign = found.error
            elif found.leader:
                leading[key] = found
            else:
                waiting.append((key, found))
        if behind:
            self._in_background(behind, loader, error)
        if leading:
            results.update(self._load_batch(leading, loader, error))
        for key, found in waiting:
            try:
                results[key] = self._wait(found.flight)
            except error as err:
                results[key] = err
        if foreign is not None:
            raise foreign
        return results

    # -- loading -------------------------------------------------------------------------
    def _load_batch(
        self,
        leading: dict[K, _Lookup[V]],
        loader: Callable[[list[K]], Mapping[K, V | E]],
        error: type[E],
    ) -> dict[K, V | E]:
        """Run ``loader`` for the flights this caller leads and finish each of them."""
        started = time.perf_counter()
        try:
            loaded: Mapping[K, V | E] = loader(list(leading))
            if self._on_load is not None:
                for outcome in loaded.values():
                    if not isinstance(outcome, error):
                        self._on_load(cast(V, outcome))
        except BaseException as err:
            if not (isinstance(err, error) and self._policy.transient(err)):
                for key, found in leading.items():
                    self._finish(key, found, error=err)
                raise
            loaded = dict.fromkeys(leading, err)
        seconds = (time.perf_counter() - started) / len(leading)
        results: dict[K, V | E] = {}
        broken: RuntimeError | None = None
        for key, found in leading.items():
            if key not in loaded:  # every flight is finished first: no waiter hangs
                broken = RuntimeError("the loader returned no outcome for a key")
                self._finish(key, found, error=broken, seconds=seconds)
                continue
            outcome = loaded[key]
            if isinstance(outcome, error):
                stale = self._finish(key, found, error=outcome, seconds=seconds)
                results[key] = outcome if stale is None else stale
            else:
                self._finish(key, found, value=cast(V, outcome), seconds=seconds)
                results[key] = outcome
        if broken is not None:
            raise broken
        return results

    def _in_background(
        self,
        leading: dict[K, _Lookup[V]],
        loader: Callable[[list[K]], Mapping[K, V | E]],
        error: type[E],
    ) -> None:
        """Load the keys whose flights the caller leads on the cache's background
        threads, under a deadline as long as the caller's (started afresh: nobody
        waits for it), with the caller's context variables."""
        found = deadlines.current()
        seconds = None if found is None else found.seconds

        def run() -> None:
            # Every flight is finished whatever happens; nobody is left to tell.
            with deadlines.deadline(seconds, nested=False), contextlib.suppress(BaseException):
                self._load_batch(leading, loader, error)

        pool = self._threads.pool()  # kept threads: a reader must not pay for starting one
        try:
            if pool is not None:
                pool.submit(contextvars.copy_context().run, run)
                return
        except RuntimeError:  # shut down meanwhile
            pass
        run()  # closed: finish the flights here rather than leave them open

    def _begin(self, key: K) -> _Lookup[V]:
        """Look ``key`` up and, on a miss, join or start its single flight.

        One lock covers the lookup and the flight registration, so a thread can
        never miss, then find the value already loaded, and load it again. A caller
        that gets ``leader=True`` must call :meth:`_finish`.
        """
        with self._lock:
            generation = self._generation
            entry = self._data.get(key)
            if isinstance(entry, _Negative):
                if self._timer() - entry.since < self._policy.negative_ttl:
                    self._counts["negative_hits"] += 1
                    return _Lookup(None, _fresh_copy(entry.error), None, False, generation)
                self._table.drop(key)
            elif entry is not None:
                found = self._hit(key, entry, generation)
                if found is not None:
                    return found
            self._counts["misses"] += 1
            flight = self._flights.get(key)
            if flight is not None:
                return _Lookup(None, None, flight, False, generation)
            flight = self._flights[key] = _Flight()
            return _Lookup(None, None, flight, True, generation)

    def _hit(self, key: K, entry: _Entry[V], generation: int) -> _Lookup[V] | None:
        """A hit on ``entry`` (under the lock): fresh, or stale while its backend
        fails; ``None`` when it must be loaded. May start a background flight."""
        now = self._timer()
        age = now - entry.since
        value = entry.value
        if age < self._ttl:
            entry.hits += 1
            due = self._refresh_after is not None and age >= self._refresh_after
        elif age >= self._kept:
            self._table.drop(key)  # past the TTL and any stale allowance: gone
            return None
        elif isinstance(entry, _Failing) and self._policy.usable(value):
            value = self._served_stale(value, age)
            due = now >= entry.probe_at
            if due:
                entry.probe_at = now + self._policy.probe_interval
        else:
            return None
        if not due or key in self._flights:
            return _Lookup(value, None, None, False, generation)
        if self._counts["background"] >= self._policy.max_refreshes:
            return _Lookup(value, None, None, False, generation)
        self._counts["background"] += 1
        self._counts["refreshes"] += 1
        flight = self._flights[key] = _Flight()
        return _Lookup(value, None, flight, True, generation, background=True)

    def _served_stale(self, value: V, age: float) -> V:
        self._counts["stale_served"] += 1
        self._stale_age_max = max(self._stale_age_max, age)
        return self._policy.aged(value, age)

    def _finish(
        self,
        key: K,
        found: _Lookup[V],
        *,
        value: V | None = None,
        error: BaseException | None = None,
        seconds: float = 0.0,
    ) -> V | None:
        """Complete a flight started by :meth:`_begin`; with ``error``, return the
        kept value served in its place, if any.

        A write or invalidation that happened while the flight was loading makes
        the value possibly stale: waiters get it, the cache does not keep it.
        """
        flight = found.flight
        if flight is None or not found.leader:
            raise RuntimeError("_finish() is for the leader of a flight")
        stale: V | None = None
        warn: tuple[Hashable, float] | None = None
        with self._lock:
            self._record_load(seconds, failed=error is not None, background=found.background)
            current = found.generation == self._generation
            if error is None:
                if value is not None and current and not self._closed and self._policy.keep(value):
                    self._table.store(key, self._entry(value))
            elif current:
                stale, warn = self._after_error(key, error)
            self._flights.pop(key, None)
        if warn is not None:
            logger.warning(
                "secret %r: the backend failed (%s); serving the cached value (%.0f s old) "
                "for up to %g s past its TTL while it is down",
                warn[0], type(error).__name__, warn[1], self._policy.max_stale,
            )  # fmt: skip
        flight.stale = stale is not None
        flight.result = value if stale is None else stale
        flight.error = error if stale is None else None
        flight.done.set()
        return stale

    def _after_error(
        self, key: K, error: BaseException
    ) -> tuple[V | None, tuple[Hashable, float] | None]:
        """Under the lock, after a load of ``key`` failed: keep, drop or stand in.
        The kept value to serve instead (if any), and what to warn about (the first
        failure of an outage)."""
        policy = self._policy
        now = self._timer()
        entry = self._data.get(key)
        if not policy.transient(error):
            self._table.drop(key)  # denied, not found, expired...: never served again
            if policy.negative_ttl > 0 and policy.absent(error) and not self._closed:
                self._table.store(key, _Negative(error, now))
            return None, None
        if entry is None or isinstance(entry, _Negative) or not policy.usable(entry.value):
            return None, None
        age = now - entry.since
        if age < self._ttl:
            return entry.value, None  # a refresh-ahead failed early: the value is fresh
        if age >= self._kept:
            self._table.drop(key)
            return None, None
        warn = None
        probe_at = now + policy.probe_interval
        if isinstance(entry, _Failing):
            entry.probe_at = probe_at
        else:
            warn = (self._group(key), age)
            self._data[key] = _Failing(entry, probe_at)
        return self._served_stale(entry.value, age), warn

    def _wait(self, flight: _Flight[V] | None) -> V:
        if flight is None:
            raise RuntimeError("nothing to wait for: the lookup was a hit")
        if not flight.done.wait(deadlines.remaining()):
            with self._lock:
                self._counts["deadline_failures"] += 1
            raise deadlines.exceeded(operation="wait for a read in progress")
        if flight.error is not None:
            raise flight.error
        assert flight.result is not None  # noqa: S101 - set before done
        if flight.stale:
            with self._lock:
                self._counts["stale_served"] += 1
        return flight.result

    def _entry(self, value: V) -> _Entry[V]:
        now = self._timer()
        return _Entry(value, now) if self._policy.lasting(value) else _Held(value, now)

    def _record_load(self, seconds: float, *, failed: bool, background: bool) -> None:
        counts = self._counts
        counts["loads"] += 1
        counts["errors"] += failed
        if background:
            counts["background"] -= 1
            counts["refresh_failures"] += failed
        self._load_total += seconds
        self._load_max = max(self._load_max, seconds)

    # -- invalidation and stats ------------------------------------------------------------
    def invalidate(self, group: Hashable) -> int:
        """Drop every entry (negative ones too) whose key belongs to ``group``; return
        how many."""
        with self._lock:
            self._generation += 1
            doomed = [key for key in self._data if self._group(key) == group]
            for key in doomed:
                self._table.drop(key)
            return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._table.clear()

    def close(self) -> None:
        """Drop every entry and stop the background threads (loads in progress end
        at their deadline). A closed cache still works, loading in the foreground
        without keeping what it loads."""
        with self._lock:
            self._closed = True
        self._threads.close()
        self.clear()

    def __len__(self) -> int:
        with self._lock:
            self._table.expire(self._timer(), self._kept, self._policy.negative_ttl)
            return len(self._data)

    def stats(self) -> CacheStats:
        """The counters; ``hits`` sums the entries' own counts (approximate under
        concurrent reads: see :class:`~secretwire._cache_parts.Entry`)."""
        with self._lock:
            self._table.expire(self._timer(), self._kept, self._policy.negative_ttl)
            counts = self._counts
            return CacheStats(
                hits=self._table.hits(),
                misses=counts["misses"],
                evictions=self._table.evictions,
                errors=counts["errors"],
                loads=counts["loads"],
                size=len(self._data),
                maxsize=self._maxsize,
                ttl=self._ttl,
                load_seconds_total=self._load_total,
                load_seconds_max=self._load_max,
                stale_served=counts["stale_served"],
                stale_age_max=self._stale_age_max,
                negative_hits=counts["negative_hits"],
                refreshes=counts["refreshes"],
                refresh_failures=counts["refresh_failures"],
                deadline_failures=counts["deadline_failures"],
            )
