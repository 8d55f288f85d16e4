"""The :class:`SecretManager` facade: what applications and adapters call.

It builds the pipeline (see :mod:`secretwire.pipeline`) around one provider and
offers the story's operations in idiomatic, synchronous Python. It is safe to
share between threads and usable as a context manager.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ._cache_parts import Entry
from .cache import CacheStats, SecretCache
from .cache_settings import CacheSettings, secret_policy
from .deadlines import DEFAULT_HEALTH_DEADLINE, DEFAULT_RESOLVE_DEADLINE, deadline
from .errors import ProviderError, SecretwireError
from .lifecycle.watch import Change, ChangeWatch, Subscribers
from .masking._redactor import Redactor, default_redactor
from .pipeline import (
    Backend,
    BackendMetrics,
    BackendStats,
    CacheKey,
    CacheLayer,
    Handler,
    Key,
    LayerFactory,
    ProviderStage,
    cached_name,
)
from .providers.base import FETCH_WORKERS, SecretProvider, secret_value
from .references import Reference, as_reference, reference_value
from .types import Health, Secret, SecretVersion, Write
from .values import SecretValue

# Loaded on first use (python -X importtime): the settings machinery and YAML with
# from_settings, rotation with rotate and rollback, the declared secrets' types when
# no settings gave them.
if TYPE_CHECKING:
    from .lifecycle.generators import Generator
    from .lifecycle.hooks import Hook
    from .lifecycle.inventory import Inventory
    from .lifecycle.rotation import Progress, RotationResult, Rotator
    from .resolver import Resolution, ResolvedText, Resolver
    from .settings import Settings

__all__ = ["Metrics", "SecretManager"]

logger = logging.getLogger("secretwire")

_K = TypeVar("_K", bound=Hashable)
_CACHE = CacheSettings()


@dataclass(frozen=True, slots=True)
class Metrics:
    """Counters behind :meth:`SecretManager.metrics`. ``cache`` is ``None`` when the
    cache is disabled. ``backend`` is the (first) provider's; ``backends`` has every
    provider of a fallback chain, in order, with its circuit breaker's state."""

    provider: str
    cache: CacheStats | None
    backend: BackendStats
    backends: tuple[BackendMetrics, ...] = ()
    #: the shared L2 cache's counters (:class:`secretwire.l2.L2Stats`), when there is one
    l2: Any = None

    @property
    def hit_ratio(self) -> float:
        return self.cache.hit_ratio if self.cache else 0.0

    @property
    def stale_served(self) -> int:
        """Reads served a value past its TTL because the backend failed."""
        return self.cache.stale_served if self.cache else 0

    @property
    def negative_hits(self) -> int:
        """Reads answered "not found" from the cache, without a backend call."""
        return self.cache.negative_hits if self.cache else 0

    @property
    def refreshes(self) -> int:
        """Background reloads started (refresh-ahead, probes of a failing backend)."""
        return self.cache.refreshes if self.cache else 0

    @property
    def deadline_failures(self) -> int:
        """Backend calls, and waits for another caller's call, stopped by a deadline."""
        waits = self.cache.deadline_failures if self.cache else 0
        return self.backend.deadline_failures + waits


class SecretManager:
    """Get, set, list and resolve secrets through one provider and the pipeline.

    ``cache_ttl`` (seconds) and ``cache_maxsize`` bound the cache; ``cache=False``
    disables it. ``cache_max_stale`` (seconds past the TTL a value is served while
    the backend fails), ``cache_refresh_ahead`` (fraction of the TTL after which a
    read reloads it in the background) and ``cache_negative_ttl`` (seconds "not
    found" is remembered) are its policy; 0 turns each off. ``deadline`` bounds
    every operation (a whole ``resolve`` included) and ``health_deadline`` a health
    check, in seconds (``None``: no deadline; see ``docs/resilience.md``).
    ``timer`` drives the cache TTL (inject a fake clock in tests).
    ``before_cache`` layers sit above the cache (authorization, audit: they see
    every request); ``after_cache`` layers sit between the cache and the provider
    (fallback: it sees only real backend calls). ``max_workers`` bounds the
    threads used to fetch uncached references concurrently.
    """

    def __init__(
        self,
        provider: SecretProvider,
        *,
        cache: bool = True,
        cache_ttl: float = 300.0,
        cache_maxsize: int = 1024,
        cache_max_stale: float = _CACHE.max_stale,
        cache_refresh_ahead: float = _CACHE.refresh_ahead,
        cache_negative_ttl: float = _CACHE.negative_ttl,
        deadline: float | None = DEFAULT_RESOLVE_DEADLINE,
        health_deadline: float | None = DEFAULT_HEALTH_DEADLINE,
        timer: Callable[[], float] = time.monotonic,
        before_cache: Sequence[LayerFactory] = (),
        after_cache: Sequence[LayerFactory] = (),
        max_workers: int = FETCH_WORKERS,
        environment: str | None = None,
        inventory: Inventory | None = None,
    ) -> None:
        self.provider = provider
        self.environment = environment
        self.deadline = deadline
        self.health_deadline = health_deadline
        if not inventory:
            from .lifecycle.inventory import Inventory  # noqa: PLC0415 - see the imports

            inventory = Inventory()
        #: The declared secrets (the settings' ``secrets:``): rotation policies.
        self.inventory: Inventory = inventory
        self._stage = ProviderStage(provider, max_workers=max_workers)
        handler: Handler = self._stage
        for factory in reversed(after_cache):
            handler = factory(handler)
        self._subscribers = Subscribers()
        handler = ChangeWatch(handler, self._subscribers)  # sees writes and backend reads
        self._below_cache = handler
        #: Every value this manager served (see :mod:`secretwire.masking`).
        self.redactor = Redactor()
        self._cache: SecretCache[CacheKey, Secret] | None = None
        if cache:
            policy = secret_policy(
                max_stale=cache_max_stale,
                refresh_ahead=cache_refresh_ahead,
                negative_ttl=cache_negative_ttl,
            )
            self._cache = SecretCache(
                ttl=cache_ttl, maxsize=cache_maxsize, timer=timer, group=cached_name,
                policy=policy, on_load=self._served,
            )  # fmt: skip
            handler.watch_invalidations(self._drop)  # another process wrote
            handler = CacheLayer(handler, self._cache)
        for factory in reversed(before_cache):
            handler = factory(handler)
        self._pipeline = handler
        self._resolver_made: Resolver | None = None
        self._closed = False
        # The hit path (get, value): the cache's own entries, read without a lock,
        # when no layer above the cache must see each read; else an empty mapping.
        self._entries: Mapping[CacheKey, Entry[Secret]] = {}
        self._fresh_for = 0.0
        if self._cache is not None and not before_cache:
            self._entries = self._cache.fast_entries()
            self._fresh_for = self._cache.fresh_for
        self._timer = timer

    @classmethod
    def from_settings(
        cls,
        path_or_settings: str | Path | Settings | None = None,
        *,
        environment: str | None = None,
        principal: str | None = None,
        **overrides: Any,
    ) -> SecretManager:
        """The manager for an environment of a settings file: the one way to build a
        manager from settings.

        ``path_or_settings`` is a settings file, a loaded :class:`Settings`, or
        ``None`` for ``$SECRETWIRE_CONFIG`` or the nearest ``secretwire.yaml`` /
        ``pyproject.toml`` with ``[tool.secretwire]`` from the current directory
        upwards. The environment is ``environment``, else the variable the settings
        name (``SECRETWIRE_ENV`` by default), else the settings' ``default_environment``.
        The cache, deadline, fallback and circuit breaker settings come from the file;
        ``overrides`` go to the constructor (``before_cache=[...]``, ``timer=...``, which
        also drives the circuit breakers, ``cache=False``...); layers the settings ask
        for (``policy:``, ``audit:``) come first, above the caller's and the cache.
        ``principal`` says who is asking when the settings have a policy or an audit
        trail (see ``docs/rbac.md#principal``). Applications and adapters that want
        one manager per settings file and environment use
        :func:`secretwire.shared_manager`.
        """
        from ._build import manager_arguments  # noqa: PLC0415 - see the imports
        from .settings import Settings, load_settings  # noqa: PLC0415

        if isinstance(path_or_settings, Settings):
            settings = path_or_settings
        else:
            settings = load_settings(path_or_settings)
        name = settings.select(environment)
        provider, options = manager_arguments(settings, name, overrides, principal=principal)
        return cls(provider, **options)

    # -- reads -----------------------------------------------------------------
    def get(self, name: str, *, version: str | None = None) -> Secret:
        """The current (or given) version of ``name``. Raises :class:`SecretNotFound`."""
        # A fresh hit: one lookup and one timestamp. Its value was registered for
        # masking when it was loaded, cannot expire while cached (else its entry is
        # held for the full path), and needs no deadline; a closed manager's cache
        # is empty.
        entry = self._entries.get(name if version is None else (name, version))
        if entry is not None and self._timer() - entry.loaded < self._fresh_for:
            entry.hits += 1
            return entry.value
        self._check_open()
        with deadline(self.deadline):
            secret = self._pipeline.get(name, version=version)
        invalid = self.provider.validity_error(secret, version)
        if invalid is not None:  # a cached secret expired since it was read
            raise invalid
        return secret if self._cache is not None else self._served(secret)

    def get_version(self, name: str, version: str) -> Secret:
        return self.get(name, version=version)

    def get_many(self, keys: Sequence[Key]) -> dict[Key, Secret | ProviderError]:
        """Fetch several ``(name, version)`` pairs; each maps to its secret or error.

        Cached pairs come from the cache; the rest are fetched concurrently.
        """
        self._check_open()
        with deadline(self.deadline):
            results = self._pipeline.get_many(list(dict.fromkeys(keys)))
        for key, outcome in results.items():
            if isinstance(outcome, Secret):
                invalid = self.provider.validity_error(outcome, key[1])
                if invalid is not None:
                    results[key] = invalid
                elif self._cache is None:  # else registered when the cache loaded it
                    self._served(outcome)
        return results

    def value(self, reference: str | Reference) -> SecretValue:
        """The value one reference names: ``"${secret:db/creds#user}"``, the same
        without the wrapper (``"db/creds#user@2"``), or a :class:`Reference`.

        The reference's default, if any, applies only when the secret is not found.
        """
        ref = as_reference(reference)  # parsed once per text (references.py keeps it)
        entry = self._entries.get(ref.name if ref.version is None else (ref.name, ref.version))
        if entry is not None and self._timer() - entry.loaded < self._fresh_for:  # as get()
            entry.hits += 1
            if ref.field is None:
                return entry.value.value
            found: Secret | ProviderError = entry.value
        else:
            found = self.get_many([ref.key])[ref.key]
        text, _ = reference_value(ref, found)
        return SecretValue(text)

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Secret names starting with ``prefix`` (never values), sorted."""
        self._check_open()
        with deadline(self.deadline):
            return self._pipeline.list(prefix)

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        """Versions of ``name``, newest first."""
        self._check_open()
        with deadline(self.deadline):
            return self._pipeline.versions(name)

    # -- writes ----------------------------------------------------------------
    def set(
        self,
        name: str,
        value: str | SecretValue,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
    ) -> SecretVersion:
        """Store a new version of ``name``; cached copies are invalidated.

        A ``str`` is wrapped in a :class:`SecretValue` at once: on an error path no
        frame of the manager, the pipeline or a built-in provider shows the value."""
        value = secret_value(value)
        self._check_open()
        write = Write(name, value, metadata or {}, tags or {}, expires_at)
        with deadline(self.deadline):
            return self._pipeline.set(write)

    def delete(self, name: str) -> None:
        """Delete ``name`` with all its versions; cached copies are invalidated."""
        self._check_open()
        with deadline(self.deadline):
            self._pipeline.delete(name)

    # -- authorization ---------------------------------------------------------
    def authorize(self, operation: str, name: str, *, principal: str | None = None) -> None:
        """Raise :class:`AccessDenied` if the settings' policy refuses ``operation``
        (``rotate``, ``rollback``, ``run``, ``export``... see
        :data:`secretwire.governance.OPERATIONS`) on ``name``; audited. For code that
        performs an operation the pipeline does not; reads and writes are checked
        by the pipeline itself. Without a policy, everything is allowed."""
        self._check_open()
        self._pipeline.authorize(operation, name, principal=principal)

    # -- lifecycle (docs/rotation.md, docs/lifecycle.md) --------------------------
    def rollback(self, name: str, to_version: str) -> SecretVersion:
        """Write a new version of ``name`` carrying ``to_version``'s value (history
        stays append-only). Providers without versions raise :class:`UnsupportedOperation`."""
        self._check_open()
        self.authorize("rollback", name)
        return self._rotator().rollback(name, to_version)

    def rotate(
        self,
        name: str,
        *,
        generator: Generator | str | Mapping[str, Any] | None = None,
        apply: Hook | Callable[..., object] | Mapping[str, Any] | None = None,
        verify: Hook | Callable[..., object] | Mapping[str, Any] | None = None,
        progress: Progress | None = None,
    ) -> RotationResult:
        """Rotate ``name``: generate, store (AWS: staged), apply, verify, then make it
        current; or finish its unfinished rotation. What is not given comes from the
        declared policy (``secrets:``), else a 32-character password and no hooks.
        Raises :class:`RotationFailed` naming the step, after reverting."""
        from .lifecycle.generators import generator_from_spec  # noqa: PLC0415 - on first use
        from .lifecycle.hooks import Hook, hook_from_spec  # noqa: PLC0415

        self._check_open()
        self.authorize("rotate", name)
        declared = self.inventory.declared(name)
        policy = declared.rotation if declared is not None else None
        if generator is None and policy is not None:
            generator = policy.generator()
        elif generator is not None and not callable(generator):
            generator = generator_from_spec(generator, source=None, key="generator")
        hooks: dict[str, Hook | None] = {}
        for step, given in (("apply", apply), ("verify", verify)):
            if given is None:
                hooks[step] = policy.hook(step) if policy is not None else None
            elif isinstance(given, Hook):
                hooks[step] = given
            else:
                base = self.inventory.base_dir
                hooks[step] = hook_from_spec(given, base_dir=base, source=None, key=step)
        return self._rotator().rotate(
            name, generator=generator, apply=hooks["apply"], verify=hooks["verify"],
            progress=progress,
        )  # fmt: skip

    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``callback(Change)`` when a value this manager served changes: at once
        for its own writes, rotations and rollbacks; after a re-read (TTL) whose value
        differs. Returns the function that unsubscribes."""
        return self._subscribers.add(callback)

    def _rotator(self) -> Rotator:
        from .lifecycle.rotation import Rotator  # noqa: PLC0415 - on first use

        def remember(value: SecretValue) -> None:
            self.redactor.add(value)
            default_redactor().add(value)

        caps = self.provider.capabilities
        return Rotator(self._pipeline, caps, remember=remember, invalidate=self.invalidate)

    # -- resolution ------------------------------------------------------------
    @property
    def _resolver(self) -> Resolver:
        """The resolver (its module loads on the first resolve)."""
        if self._resolver_made is None:
            from .resolver import Resolver  # noqa: PLC0415 - see the imports

            self._resolver_made = Resolver(self)
        return self._resolver_made

    def resolve(
        self,
        tree: Any,
        *,
        source: str | None = None,
        lines: Mapping[str, int] | None = None,
        reveal: bool = True,
    ) -> Any:
        """A copy of ``tree`` with every reference replaced by its value.

        Raises :class:`ResolutionError` listing every failed reference. The whole
        resolution is bounded by ``deadline``.
        """
        with deadline(self.deadline):
            return self._resolver.resolve(tree, source=source, lines=lines, reveal=reveal)

    def resolve_with_provenance(
        self,
        tree: Any,
        *,
        source: str | None = None,
        lines: Mapping[str, int] | None = None,
        reveal: bool = True,
    ) -> Resolution:
        with deadline(self.deadline):
            return self._resolver.resolve_with_provenance(
                tree, source=source, lines=lines, reveal=reveal
            )

    def resolve_texts(
        self,
        texts: Mapping[_K, str],
        *,
        reveal: bool = True,
        where: Callable[[_K], str] | Mapping[_K, str] | None = None,
        source: str | None = None,
        lines: Mapping[str, int] | None = None,
    ) -> dict[_K, ResolvedText]:
        """Resolve texts keyed by the caller's sites in one batch (see
        :meth:`Resolver.resolve_texts` and ``docs/sites.md``)."""
        self._check_open()
        with deadline(self.deadline):
            return self._resolver.resolve_texts(
                texts, reveal=reveal, where=where, source=source, lines=lines
            )

    # -- masking ---------------------------------------------------------------
    def _served(self, secret: Secret) -> Secret:
        """Register a value served, in this manager's redactor and the process-wide
        one (what :class:`~secretwire.RedactingFilter` masks in log records): as the
        cache loads it, or as it is served when there is no cache."""
        self.redactor.add(secret.value, name=secret.name)
        default_redactor().add(secret.value, name=secret.name)  # reports a short value
        return secret

    # -- cache -----------------------------------------------------------------
    def invalidate(self, name: str) -> None:
        """Forget cached versions of ``name`` (e.g. after an out-of-band rotation), in
        a shared L2 cache too, whose other processes are told (``docs/deployment.md``)."""
        self._drop(name)
        with deadline(self.deadline):
            self._below_cache.invalidate(name)

    def _drop(self, name: str) -> None:
        if self._cache is not None:
            self._cache.invalidate(name)

    def clear_cache(self) -> None:
        if self._cache is not None:
            self._cache.clear()

    # -- health and metrics ----------------------------------------------------
    def health(self) -> Health:
        """Check the provider within ``health_deadline``; never raises for a backend
        problem."""
        self._check_open()
        with deadline(self.health_deadline):
            return self._pipeline.health()

    def metrics(self) -> Metrics:
        return Metrics(
            provider=self.provider.name,
            cache=self._cache.stats() if self._cache is not None else None,
            backend=self._stage.stats(),
            backends=tuple(backend.metrics() for backend in self.backends()),
            l2=self._pipeline.l2_stats(),
        )

    def backends(self) -> tuple[Backend, ...]:
        """The provider stages (several in a fallback chain), each with its circuit
        breaker: what the metrics exporters read (:mod:`secretwire.metrics`)."""
        return self._pipeline.backends()

    def warnings(self) -> builtins.list[str]:
        """What to fix that does not stop it working, per provider (an endpoint that
        ``insecure: true`` allowed): ``health`` and ``check`` print them."""
        return [
            f"{backend.stage.provider_name}: {warning}"
            for backend in self.backends()
            for warning in backend.stage.provider.warnings
        ]

    # -- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        """Close the provider and drop cached values. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._cache is not None:
            self._cache.close()
        self._pipeline.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise SecretwireError("the secret manager is closed")

    def __enter__(self) -> SecretManager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        env = f" environment={self.environment!r}" if self.environment else ""
        return f"<SecretManager provider={self.provider.name!r}{env}>"
