"""The one place a manager's layers are composed from the settings.

Top to bottom: authorize (RBAC) -> audit -> cache -> shared L2 cache -> fallback/breaker
-> provider stage(s). :meth:`SecretManager.from_settings` calls :func:`manager_arguments`; each
feature that is a layer adds its line here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .failover import compose
from .pipeline import Handler, LayerFactory, ProviderStage
from .providers.base import FETCH_WORKERS, SecretProvider
from .settings import Settings

__all__ = ["manager_arguments"]


def manager_arguments(
    settings: Settings, name: str, overrides: dict[str, Any], *, principal: str | None = None
) -> tuple[SecretProvider, dict[str, Any]]:
    """The provider and the :class:`SecretManager` keywords for environment ``name``.
    ``overrides`` are the caller's keywords: they win, except that their
    ``before_cache`` / ``after_cache`` layers are added to the settings': RBAC and audit
    stay outermost (no caller layer sits above them), fallback stays innermost."""
    env = settings.environments[name]
    arguments: dict[str, Any] = {
        "cache": env.cache.enabled,
        "cache_ttl": env.cache.ttl,
        "cache_maxsize": env.cache.maxsize,
        "cache_max_stale": env.cache.max_stale,
        "cache_refresh_ahead": env.cache.refresh_ahead,
        "cache_negative_ttl": env.cache.negative_ttl,
        "deadline": env.deadlines.resolve,
        "health_deadline": env.deadlines.health,
        "environment": name,
        "inventory": settings.secrets,
    }
    caller = dict(overrides)
    before: list[LayerFactory] = [
        *settings.governance.layers(name, principal=principal),  # RBAC, audit
        *caller.pop("before_cache", ()),
    ]
    after: list[LayerFactory] = list(caller.pop("after_cache", ()))
    provider = settings.provider(name)
    try:
        after[:0] = _l2(settings, name)  # the shared cache: first below the manager's
        after.append(_failover(settings, name, caller.get("timer", time.monotonic)))
    except BaseException:
        provider.close()
        raise
    arguments.update(caller, before_cache=before, after_cache=after)
    return provider, arguments


def _l2(settings: Settings, name: str) -> list[LayerFactory]:
    """The shared L2 cache in Redis (``secretwire.l2``), if the environment has ``l2:``."""
    spec = settings.environments[name].l2
    if spec is None:
        return []
    from .l2.build import l2_layers  # noqa: PLC0415 - only for environments that use it

    strings = settings.resolved(name, spec.strings, "l2")
    return l2_layers(
        spec, strings, environment=name, base_dir=settings.base_dir, source=settings.source
    )


def _failover(settings: Settings, name: str, clock: Callable[[], float]) -> LayerFactory:
    """The fallback chain and circuit breakers (``secretwire.failover``); the fallback
    environments' providers are built now, so their settings errors show at once."""
    spec = settings.environments[name].failover
    others: list[tuple[str, SecretProvider]] = []
    try:
        for other in spec.fallback:
            others.append((other, settings.provider(other)))
    except BaseException:
        for _, provider in others:
            provider.close()
        raise

    def factory(primary: Handler) -> Handler:
        workers = primary.max_workers if isinstance(primary, ProviderStage) else FETCH_WORKERS
        links = [(name, primary, spec.breaker)] + [
            (
                label,
                ProviderStage(provider, max_workers=workers),
                settings.environments[label].failover.breaker,
            )
            for label, provider in others
        ]
        return compose(links, on=spec.fallback_on, clock=clock)

    return factory
