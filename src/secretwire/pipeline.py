"""The manager pipeline: small layers, each with one job, around one provider.

Requests flow down and results flow back up::

    SecretManager
      └─ [authorize]        RBAC (a later layer; slot: ``before_cache``)
         └─ [audit]         audit log (a later layer; slot: ``before_cache``)
            └─ CacheLayer   TTL + size bound + invalidation + single-flight,
               │            stale-on-error, negative caching, refresh-ahead
               └─ [failover]  fallback chain + circuit breakers (slot: ``after_cache``;
                  │               ``secretwire.failover``, composed in ``_build``)
                  └─ ProviderStage  calls the provider, times it, types its errors
                                    (one per provider of a chain: ``backends()``)

Every layer implements :class:`Handler`; :class:`Layer` forwards everything to the
next handler so a concrete layer overrides only what it cares about.

A value being written travels down as a :class:`~secretwire.SecretValue` and is
revealed only in the call to the provider, so no frame of the pipeline shows it
when a write fails (error trackers record every frame's local variables).
"""

from __future__ import annotations

import bisect
import builtins
import contextlib
import contextvars
import dataclasses
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from . import deadlines
from ._threads import KeptThreads
from .cache import SecretCache
from .errors import DeadlineExceeded, ProviderError, SecretwireError, UnsupportedOperation
from .providers.base import FETCH_WORKERS, SecretProvider
from .types import Health, HealthStatus, Key, Secret, SecretVersion, Write

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

__all__ = [
    "LATENCY_BUCKETS",
    "Backend",
    "BackendMetrics",
    "BackendStats",
    "CacheKey",
    "CacheLayer",
    "CircuitStats",
    "Handler",
    "InvalidatingLayer",
    "Key",
    "Layer",
    "LayerFactory",
    "LoadTracker",
    "ProviderStage",
    "cache_key",
    "cached_name",
]

logger = logging.getLogger("secretwire")

Results = dict[Key, Secret | ProviderError]

_tracking = threading.local()


class LoadTracker:
    """Which keys a :class:`CacheLayer` loaded from the handler below it, on this
    thread, while the tracker is active (``with LoadTracker() as loads: ...``): a
    read whose key is not in ``loads.keys`` was served without reaching the backend
    (a cache hit, or a wait on another caller's load). The audit layer uses it."""

    __slots__ = ("_outer", "keys")

    def __init__(self) -> None:
        self.keys: set[Key] = set()
        self._outer: LoadTracker | None = None

    def __enter__(self) -> LoadTracker:
        self._outer = getattr(_tracking, "current", None)
        _tracking.current = self
        return self

    def __exit__(self, *exc: object) -> None:
        _tracking.current = self._outer
        if self._outer is not None:
            self._outer.keys |= self.keys


def _loading(keys: Sequence[Key]) -> None:
    tracker: LoadTracker | None = getattr(_tracking, "current", None)
    if tracker is not None:
        tracker.keys.update(keys)


def fetch_each(
    get: Callable[..., Secret],
    keys: Sequence[Key],
    *,
    max_workers: int = FETCH_WORKERS,
    pool: ThreadPoolExecutor | None = None,
) -> Results:
    """Call ``get(name, version=...)`` for every key, concurrently: one thread per
    key up to ``max_workers`` (the threads of ``pool`` when given, kept between
    calls; else a pool for this call).

    Each key maps to its secret or to the :class:`ProviderError` it raised. Each call
    runs in a copy of the caller's context: its deadline reaches the worker threads.
    """

    def one(key: Key) -> Secret | ProviderError:
        try:
            return get(key[0], version=key[1])
        except ProviderError as err:
            return err

    if len(keys) <= 1 or max_workers == 1:
        return {key: one(key) for key in keys}
    if pool is None:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - ~10 ms, rarely needed

        workers = min(max_workers, len(keys))
        with ThreadPoolExecutor(workers, thread_name_prefix="secretwire") as own:
            return fetch_each(get, keys, max_workers=workers, pool=own)
    futures = [pool.submit(contextvars.copy_context().run, one, key) for key in keys]
    return {key: future.result() for key, future in zip(keys, futures, strict=True)}


class Handler(ABC):
    """One stage of the pipeline. The operations mirror :class:`SecretProvider`."""

    provider_name: str

    @abstractmethod
    def get(self, name: str, *, version: str | None = None) -> Secret:
        """See :class:`SecretProvider`."""

    @abstractmethod
    def get_many(self, keys: Sequence[Key]) -> Results:
        """See :class:`SecretProvider`."""

    @abstractmethod
    def set(self, write: Write) -> SecretVersion:
        """See :class:`SecretProvider`: one write, its value wrapped (reveal it only
        in the call that needs it); the provider kit checks its fields."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """See :class:`SecretProvider`."""

    @abstractmethod
    def list(self, prefix: str = "") -> builtins.list[str]:
        """See :class:`SecretProvider`."""

    @abstractmethod
    def versions(self, name: str) -> builtins.list[SecretVersion]:
        """See :class:`SecretProvider`."""

    @abstractmethod
    def health(self) -> Health:
        """See :class:`SecretProvider`."""

    @abstractmethod
    def close(self) -> None:
        """See :class:`SecretProvider`."""

    def backends(self) -> tuple[Backend, ...]:
        """The provider stages below this handler, in order (several under a fallback
        chain), each with its circuit breaker: what metrics and listeners reach."""
        return ()

    # -- a shared cache below the manager's (secretwire.l2): no-ops unless one answers
    def invalidate(self, name: str) -> None:  # noqa: B027
        """Forget what the handlers below keep of ``name`` (every version), and tell
        whoever shares it: :meth:`SecretManager.invalidate` calls it."""

    def watch_invalidations(self, callback: Callable[[str], None]) -> None:  # noqa: B027
        """Call ``callback(name)`` when a handler below learns that ``name`` changed
        elsewhere (another process wrote it): the manager drops it from its cache."""

    def l2_stats(self) -> object | None:
        """The counters of the shared cache below (:class:`secretwire.l2.L2Stats`), if any."""
        return None

    def authorize(  # noqa: B027 - a no-op unless a layer answers
        self, operation: str, name: str, *, principal: str | None = None
    ) -> None:
        """Raise :class:`~secretwire.AccessDenied` if the policy refuses ``operation``
        (one of :data:`secretwire.governance.OPERATIONS`) on ``name``. It travels down
        the pipeline like any operation; the RBAC layer answers, the audit layer
        records it; without them everything is allowed."""

    # -- lifecycle (rotation): not abstract, so handlers written before them still work
    def annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        """See :meth:`SecretProvider.annotate`."""
        raise self._unsupported("annotate", name)

    def stage(self, write: Write, token: str) -> SecretVersion:
        """See :meth:`SecretProvider.stage`: ``write`` is staged under ``token``."""
        raise self._unsupported("stage", write.name)

    def promote(self, name: str, version: str) -> SecretVersion:
        """See :meth:`SecretProvider.promote`."""
        raise self._unsupported("promote", name)

    def unstage(self, name: str, version: str) -> None:
        """See :meth:`SecretProvider.unstage`."""
        raise self._unsupported("unstage", name)

    def _unsupported(self, operation: str, name: str) -> UnsupportedOperation:
        detail = f"{type(self).__name__} does not pass {operation} on"
        return UnsupportedOperation(
            operation=operation, name=name, provider=self.provider_name, detail=detail
        )


class Layer(Handler):
    """A handler that forwards every operation to ``inner`` unless overridden.

    A layer that overrides :meth:`get` but not :meth:`get_many` still sees every
    key of a batch (``resolve`` and ``value`` read in batches): the inherited
    ``get_many`` then sends each key through the layer's ``get``. Override
    ``get_many`` as well to handle a batch at once.
    """

    def __init__(self, inner: Handler) -> None:
        self.inner = inner
        self.provider_name = inner.provider_name

    def get(self, name: str, *, version: str | None = None) -> Secret:
        return self.inner.get(name, version=version)

    def get_many(self, keys: Sequence[Key]) -> Results:
        if type(self).get is Layer.get:
            return self.inner.get_many(keys)
        return fetch_each(self.get, keys)

    def set(self, write: Write) -> SecretVersion:
        return self.inner.set(write)

    def delete(self, name: str) -> None:
        self.inner.delete(name)

    def list(self, prefix: str = "") -> builtins.list[str]:
        return self.inner.list(prefix)

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        return self.inner.versions(name)

    def health(self) -> Health:
        return self.inner.health()

    def close(self) -> None:
        self.inner.close()

    def backends(self) -> tuple[Backend, ...]:
        return self.inner.backends()

    def invalidate(self, name: str) -> None:
        self.inner.invalidate(name)

    def watch_invalidations(self, callback: Callable[[str], None]) -> None:
        self.inner.watch_invalidations(callback)

    def l2_stats(self) -> object | None:
        return self.inner.l2_stats()

    def authorize(self, operation: str, name: str, *, principal: str | None = None) -> None:
        self.inner.authorize(operation, name, principal=principal)

    def annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        self.inner.annotate(name, version, metadata)

    def stage(self, write: Write, token: str) -> SecretVersion:
        return self.inner.stage(write, token)

    def promote(self, name: str, version: str) -> SecretVersion:
        return self.inner.promote(name, version)

    def unstage(self, name: str, version: str) -> None:
        self.inner.unstage(name, version)


#: Builds a layer around the handler below it.
LayerFactory = Callable[[Handler], Handler]


#: Upper bounds (seconds) of the backend latency histogram (Prometheus's default buckets).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class BackendStats:
    """Calls that reached the provider, and how long they took. ``buckets[i]`` counts
    the calls that took more than ``LATENCY_BUCKETS[i - 1]`` and at most
    ``LATENCY_BUCKETS[i]`` seconds; the last, longer than every bound.
    ``deadline_failures`` counts calls stopped by their operation's deadline
    (:mod:`secretwire.deadlines`)."""

    calls: int
    errors: int
    seconds_total: float
    seconds_max: float
    by_operation: Mapping[str, int]
    buckets: tuple[int, ...] = (0,) * (len(LATENCY_BUCKETS) + 1)
    deadline_failures: int = 0

    @property
    def seconds_mean(self) -> float:
        return self.seconds_total / self.calls if self.calls else 0.0


@dataclass(frozen=True, slots=True)
class CircuitStats:
    """A circuit breaker's state (``closed``, ``open``, ``half-open``) and counters."""

    state: str
    #: consecutive failures counted now
    failures: int
    #: how often it opened
    opened: int
    #: calls failed fast (not sent to the backend) while open
    rejected: int
    #: seconds until the next probe is let through (0 unless open)
    retry_in: float


class CircuitReporter(Protocol):
    def stats(self) -> CircuitStats: ...


@dataclass(frozen=True, slots=True)
class Backend:
    """One provider stage under a pipeline, with its circuit breaker (if any)."""

    stage: ProviderStage
    circuit: CircuitReporter | None = None

    def metrics(self) -> BackendMetrics:
        circuit = None if self.circuit is None else self.circuit.stats()
        return BackendMetrics(self.stage.provider_name, self.stage.stats(), circuit)


@dataclass(frozen=True, slots=True)
class BackendMetrics:
    """One backend's counters, for :meth:`SecretManager.metrics`."""

    provider: str
    stats: BackendStats
    circuit: CircuitStats | None = None


class ProviderStage(Handler):
    """The bottom of the pipeline: calls the provider, times it, keeps its errors typed.

    It is the one place that fans a batch out: a provider without a batch API is
    read key by key, concurrently, one thread per uncached key up to ``max_workers``
    (:data:`~secretwire.providers.base.FETCH_WORKERS` by default, what the built-in
    providers size their connection pools to); a provider with one may serve a
    subset of a batch, and the keys it left out are read the same way. The threads
    are kept between batches (started as needed, closed with the stage). It is also
    the one place that times calls (``stats()``, ``Health.latency_seconds``).

    An exception that is not a :class:`SecretwireError` is a provider bug; it is
    re-raised as :class:`ProviderError` without its text (which could hold a
    value), the original kept on ``.original`` for debugging. Past the deadline in
    force, no call starts (:class:`DeadlineExceeded`), whatever the provider.
    """

    def __init__(self, provider: SecretProvider, *, max_workers: int = FETCH_WORKERS) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._threads = KeptThreads(max_workers, "secretwire-fetch")
        self.provider = provider
        self.provider_name = provider.name
        self.max_workers = max_workers
        self._lock = threading.Lock()
        self._calls: dict[str, int] = {}
        self._errors = 0
        self._late = 0
        self._seconds_total = 0.0
        self._seconds_max = 0.0
        self._buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self._listeners: builtins.list[Callable[[str, float, bool], None]] = []

    def _call(self, operation: str, fn: Callable[[], object], subject: object = None) -> object:
        started = time.perf_counter()
        outcome = "ok"  # an exception's class name, never the exception (it may hold a value)
        wrapped: ProviderError | None = None
        try:
            deadlines.check(operation=operation, provider=self.provider_name)
            return fn()
        except SecretwireError as err:
            outcome = type(err).__name__
            raise
        except Exception as err:  # noqa: BLE001 - typed below, never swallowed
            outcome = type(err).__name__
            wrapped = ProviderError(
                f"provider {self.provider_name!r} failed unexpectedly in {operation}: {outcome}",
                provider=self.provider_name,
            )
            wrapped.original = err  # for --debug only: off the chain, see below
        finally:
            seconds = time.perf_counter() - started
            self._record(operation, seconds, outcome)
            if logger.isEnabledFor(logging.DEBUG):
                # Names and outcomes only: values never reach a log record.
                logger.debug(
                    "%s.%s %r: %s in %.2f ms",
                    self.provider_name,
                    operation,
                    subject,
                    outcome,
                    seconds * 1000,
                )
        # Raised here, outside the except block: the foreign exception (whose text or
        # frames may hold a value) is neither __cause__ nor __context__.
        raise wrapped

    def _record(self, operation: str, seconds: float, outcome: str) -> None:
        with self._lock:
            self._calls[operation] = self._calls.get(operation, 0) + 1
            self._errors += outcome != "ok"
            self._late += outcome == DeadlineExceeded.__name__
            self._seconds_total += seconds
            self._seconds_max = max(self._seconds_max, seconds)
            self._buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
            listeners = tuple(self._listeners)
        for listener in listeners:
            listener(operation, seconds, outcome != "ok")

    def listen(self, listener: Callable[[str, float, bool], None]) -> None:
        """Call ``listener(operation, seconds, failed)`` after every backend call (an
        OpenTelemetry histogram records it); names and times only, never a value."""
        with self._lock:
            self._listeners.append(listener)

    def stats(self) -> BackendStats:
        with self._lock:
            return BackendStats(
                calls=sum(self._calls.values()),
                errors=self._errors,
                seconds_total=self._seconds_total,
                seconds_max=self._seconds_max,
                by_operation=dict(self._calls),
                buckets=tuple(self._buckets),
                deadline_failures=self._late,
            )

    def backends(self) -> tuple[Backend, ...]:
        return (Backend(self),)

    def get(self, name: str, *, version: str | None = None) -> Secret:
        result = self._call("get", lambda: self.provider.get(name, version=version), name)
        assert isinstance(result, Secret)  # noqa: S101 - provider contract
        return result

    def get_many(self, keys: Sequence[Key]) -> Results:
        if not keys:
            return {}
        if not self.provider.batch_reads:
            return self._fetch_each(keys)
        batch = self._call("get_many", lambda: self.provider.get_many(keys), len(keys))
        assert isinstance(batch, dict)  # noqa: S101 - provider contract
        # A batch API may serve a subset (pinned versions, names it cannot batch):
        # the rest is fetched here, one by one and concurrently. The one fan-out.
        missing = [key for key in keys if key not in batch]
        if missing:
            batch.update(self._fetch_each(missing))
        return batch

    def _fetch_each(self, keys: Sequence[Key]) -> Results:
        pool = self._threads.pool() if len(keys) > 1 and self.max_workers > 1 else None
        return fetch_each(self.get, keys, max_workers=self.max_workers, pool=pool)

    def set(self, write: Write) -> SecretVersion:
        # Passed on wrapped: providers take a SecretValue, so no frame holds the plain value.
        result = self._call(
            "set",
            lambda: self.provider.set(
                write.name,
                write.value,
                metadata=write.metadata,
                tags=write.tags,
                expires_at=write.expires_at,
            ),
            write.name,
        )
        assert isinstance(result, SecretVersion)  # noqa: S101 - provider contract
        return result

    def delete(self, name: str) -> None:
        self._call("delete", lambda: self.provider.delete(name), name)

    def annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        self._call("annotate", lambda: self.provider.annotate(name, version, metadata), name)

    def stage(self, write: Write, token: str) -> SecretVersion:
        staged = lambda: self.provider.stage(  # noqa: E731 - the value stays wrapped
            write.name, write.value, token=token, metadata=write.metadata, tags=write.tags
        )
        return self._version(self._call("stage", staged, write.name))

    def promote(self, name: str, version: str) -> SecretVersion:
        return self._version(
            self._call("promote", lambda: self.provider.promote(name, version), name)
        )

    def unstage(self, name: str, version: str) -> None:
        self._call("unstage", lambda: self.provider.unstage(name, version), name)

    @staticmethod
    def _version(result: object) -> SecretVersion:
        assert isinstance(result, SecretVersion)  # noqa: S101 - provider contract
        return result

    def list(self, prefix: str = "") -> builtins.list[str]:
        result = self._call("list", lambda: list(self.provider.list(prefix)), prefix)
        assert isinstance(result, list)  # noqa: S101
        return result

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        result = self._call("versions", lambda: self.provider.versions(name), name)
        assert isinstance(result, list)  # noqa: S101
        return result

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            health = self.provider.health()
        except SecretwireError as err:
            health = self._unhealthy(str(err))
        except Exception as err:  # noqa: BLE001 - a health check reports, never raises
            health = self._unhealthy(type(err).__name__)
        # Timed here, the one place: providers do not time themselves.
        return dataclasses.replace(health, latency_seconds=time.perf_counter() - started)

    def _unhealthy(self, detail: str) -> Health:
        provider = self.provider
        return Health(
            self.provider_name,
            HealthStatus.UNAVAILABLE,
            detail,
            warnings=provider.warnings,
            notes=provider.notes,
        )

    def close(self) -> None:
        self._threads.close()
        self.provider.close()


class InvalidatingLayer(Layer):
    """A layer that keeps something per name: every write, delete and rotation step
    goes down, then :meth:`changed` runs for its name, even when it failed (it may
    have reached the backend: never serve the old value). Rotation's steps change
    what is current (promote) or what a read returns (annotate: metadata; stage: a
    version by label): the same rule as writes."""

    @abstractmethod
    def changed(self, name: str) -> None:
        """Forget what is kept of ``name``."""

    @contextlib.contextmanager
    def _invalidating(self, name: str) -> Iterator[None]:
        try:
            yield
        finally:
            self.changed(name)

    def set(self, write: Write) -> SecretVersion:
        with self._invalidating(write.name):
            return self.inner.set(write)

    def delete(self, name: str) -> None:
        with self._invalidating(name):
            self.inner.delete(name)

    def annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        with self._invalidating(name):
            self.inner.annotate(name, version, metadata)

    def stage(self, write: Write, token: str) -> SecretVersion:
        with self._invalidating(write.name):
            return self.inner.stage(write, token)

    def promote(self, name: str, version: str) -> SecretVersion:
        with self._invalidating(name):
            return self.inner.promote(name, version)

    def unstage(self, name: str, version: str) -> None:
        with self._invalidating(name):
            self.inner.unstage(name, version)


#: A key of the secret cache: the name alone for the current version (the common
#: read makes no tuple), ``(name, version)`` for a given version.
CacheKey = str | tuple[str, str | None]


def cache_key(name: str, version: str | None) -> CacheKey:
    """The cache's key for ``(name, version)``."""
    return name if version is None else (name, version)


def cached_name(key: CacheKey) -> str:
    """The secret name of a cache key (what :meth:`SecretCache.invalidate` groups by)."""
    return key if isinstance(key, str) else key[0]


class CacheLayer(InvalidatingLayer):
    """Serves repeated reads from a :class:`SecretCache` (keyed by :func:`cache_key`);
    every write invalidates (kept "not found" answers too). What the cache does
    when the backend fails is its policy's (:class:`~secretwire.cache.CachePolicy`)."""

    def __init__(self, inner: Handler, cache: SecretCache[CacheKey, Secret]) -> None:
        super().__init__(inner)
        self.cache = cache

    def get(self, name: str, *, version: str | None = None) -> Secret:
        key = name if version is None else (name, version)
        return self.cache.get_or_load(key, lambda: self._load(name, version))

    def _load(self, name: str, version: str | None) -> Secret:
        _loading(((name, version),))
        return self.inner.get(name, version=version)

    def get_many(self, keys: Sequence[Key]) -> Results:
        wanted = {(key[0] if key[1] is None else key): key for key in keys}

        def load(missing: builtins.list[CacheKey]) -> dict[CacheKey, Secret | ProviderError]:
            asked = [wanted[key] for key in missing]
            _loading(asked)
            fetched = self.inner.get_many(asked)
            return {
                key: fetched[asked_key] if asked_key in fetched else self._no_result(asked_key)
                for key, asked_key in zip(missing, asked, strict=True)
            }

        found = self.cache.get_or_load_many(wanted, load, error=ProviderError)
        return {wanted[key]: outcome for key, outcome in found.items()}

    def _no_result(self, key: Key) -> ProviderError:
        return ProviderError(
            "provider returned no result", name=key[0], provider=self.provider_name
        )

    def changed(self, name: str) -> None:
        self.cache.invalidate(name)
