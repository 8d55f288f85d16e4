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
from typing import Any, TypeVar

from .cache import CacheStats, SecretCache
from .errors import ProviderError, SecretwireError
from .masking import Redactor, default_redactor
from .pipeline import BackendStats, CacheLayer, Handler, Key, LayerFactory, ProviderStage
from .providers.base import SecretProvider, secret_value
from .references import Reference, as_reference
from .resolver import Resolution, ResolvedText, Resolver, reference_value
from .settings import Settings, load_settings
from .types import Health, Secret, SecretVersion, Write
from .values import SecretValue

__all__ = ["Metrics", "SecretManager"]

logger = logging.getLogger("secretwire")

_K = TypeVar("_K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Metrics:
    """Counters behind :meth:`SecretManager.metrics`. ``cache`` is ``None`` when the
    cache is disabled."""

    provider: str
    cache: CacheStats | None
    backend: BackendStats

    @property
    def hit_ratio(self) -> float:
        return self.cache.hit_ratio if self.cache else 0.0


def _name_of(key: Key) -> str:
    return key[0]


class SecretManager:
    """Get, set, list and resolve secrets through one provider and the pipeline.

    ``cache_ttl`` (seconds) and ``cache_maxsize`` bound the cache; ``cache=False``
    disables it. ``timer`` drives the cache TTL (inject a fake clock in tests).
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
        timer: Callable[[], float] = time.monotonic,
        before_cache: Sequence[LayerFactory] = (),
        after_cache: Sequence[LayerFactory] = (),
        max_workers: int = 8,
        environment: str | None = None,
    ) -> None:
        self.provider = provider
        self.environment = environment
        self._stage = ProviderStage(provider, max_workers=max_workers)
        handler: Handler = self._stage
        for factory in reversed(after_cache):
            handler = factory(handler)
        self._cache: SecretCache[Key, Secret] | None = None
        if cache:
            self._cache = SecretCache(
                ttl=cache_ttl, maxsize=cache_maxsize, timer=timer, group=_name_of
            )
            handler = CacheLayer(handler, self._cache)
        for factory in reversed(before_cache):
            handler = factory(handler)
        self._pipeline = handler
        self._resolver = Resolver(self)
        self._closed = False
        #: Every value this manager served (see :mod:`secretwire.masking`).
        self.redactor = Redactor()

    @classmethod
    def from_settings(
        cls,
        path_or_settings: str | Path | Settings | None = None,
        *,
        environment: str | None = None,
        **overrides: Any,
    ) -> SecretManager:
        """The manager for an environment of a settings file: the one way to build a
        manager from settings.

        ``path_or_settings`` is a settings file, a loaded :class:`Settings`, or
        ``None`` for ``$SECRETWIRE_CONFIG`` or the nearest ``secretwire.yaml`` /
        ``pyproject.toml`` with ``[tool.secretwire]`` from the current directory
        upwards. The environment is ``environment``, else the variable the settings
        name (``SECRETWIRE_ENV`` by default), else the settings' ``default_environment``.
        The cache settings come from the file; ``overrides`` go to the constructor
        (``before_cache=[...]``, ``timer=...``, ``cache=False``...). Applications and
        adapters that want one manager per settings file and environment use
        :func:`secretwire.shared_manager`.
        """
        if isinstance(path_or_settings, Settings):
            settings = path_or_settings
        else:
            settings = load_settings(path_or_settings)
        name = settings.select(environment)
        cache = settings.environments[name].cache
        options: dict[str, Any] = {
            "cache": cache.enabled,
            "cache_ttl": cache.ttl,
            "cache_maxsize": cache.maxsize,
            "environment": name,
        }
        options.update(overrides)
        return cls(settings.provider(name), **options)

    # -- reads -----------------------------------------------------------------
    def get(self, name: str, *, version: str | None = None) -> Secret:
        """The current (or given) version of ``name``. Raises :class:`SecretNotFound`."""
        self._check_open()
        return self._served(self._pipeline.get(name, version=version))

    def get_version(self, name: str, version: str) -> Secret:
        return self.get(name, version=version)

    def get_many(self, keys: Sequence[Key]) -> dict[Key, Secret | ProviderError]:
        """Fetch several ``(name, version)`` pairs; each maps to its secret or error.

        Cached pairs come from the cache; the rest are fetched concurrently.
        """
        self._check_open()
        results = self._pipeline.get_many(list(dict.fromkeys(keys)))
        for outcome in results.values():
            if isinstance(outcome, Secret):
                self._served(outcome)
        return results

    def value(self, reference: str | Reference) -> SecretValue:
        """The value one reference names: ``"${secret:db/creds#user}"``, the same
        without the wrapper (``"db/creds#user@2"``), or a :class:`Reference`.

        The reference's default, if any, applies only when the secret is not found.
        """
        ref = as_reference(reference)
        text, _ = reference_value(ref, self.get_many([ref.key])[ref.key])
        return SecretValue(text)

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Secret names starting with ``prefix`` (never values), sorted."""
        self._check_open()
        return self._pipeline.list(prefix)

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        """Versions of ``name``, newest first."""
        self._check_open()
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
        return self._pipeline.set(write)

    def delete(self, name: str) -> None:
        """Delete ``name`` with all its versions; cached copies are invalidated."""
        self._check_open()
        self._pipeline.delete(name)

    # -- resolution ------------------------------------------------------------
    def resolve(
        self,
        tree: Any,
        *,
        source: str | None = None,
        lines: Mapping[str, int] | None = None,
        reveal: bool = True,
    ) -> Any:
        """A copy of ``tree`` with every reference replaced by its value.

        Raises :class:`ResolutionError` listing every failed reference.
        """
        return self._resolver.resolve(tree, source=source, lines=lines, reveal=reveal)

    def resolve_with_provenance(
        self,
        tree: Any,
        *,
        source: str | None = None,
        lines: Mapping[str, int] | None = None,
        reveal: bool = True,
    ) -> Resolution:
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
        return self._resolver.resolve_texts(
            texts, reveal=reveal, where=where, source=source, lines=lines
        )

    # -- masking ---------------------------------------------------------------
    def _served(self, secret: Secret) -> Secret:
        """Register a value served, in this manager's redactor and the process-wide
        one (what :class:`~secretwire.RedactingFilter` masks in log records)."""
        self.redactor.add(secret.value, name=secret.name)
        default_redactor().add(secret.value, name=secret.name)  # reports a short value
        return secret

    # -- cache -----------------------------------------------------------------
    def invalidate(self, name: str) -> None:
        """Forget cached versions of ``name`` (e.g. after an out-of-band rotation)."""
        if self._cache is not None:
            self._cache.invalidate(name)

    def clear_cache(self) -> None:
        if self._cache is not None:
            self._cache.clear()

    # -- health and metrics ----------------------------------------------------
    def health(self) -> Health:
        """Check the provider; never raises for a backend problem."""
        self._check_open()
        return self._pipeline.health()

    def metrics(self) -> Metrics:
        return Metrics(
            provider=self.provider.name,
            cache=self._cache.stats() if self._cache is not None else None,
            backend=self._stage.stats(),
        )

    # -- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        """Close the provider and drop cached values. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.clear_cache()
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
