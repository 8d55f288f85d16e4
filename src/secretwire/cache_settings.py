"""The ``cache:`` and ``deadlines:`` settings, and the cache policy for secrets.

Both keys may sit at the top of the settings file (every environment) and in an
environment (overriding the top level key by key)::

    cache:
      enabled: true
      ttl: 300            # seconds a value is served from memory
      maxsize: 1024       # entries kept at most
      max_stale: 900      # seconds past its TTL it is served while the backend fails (0: off)
      refresh_ahead: 0.8  # past this fraction of the TTL a read refreshes it behind (0: off)
      negative_ttl: 10    # seconds "not found" is remembered (0: off)
    deadlines:
      resolve: 5          # seconds a manager operation (resolve, get, set...) may take (null: none)
      health: 2           # seconds a health check may take (null: none)

``docs/resilience.md`` explains each setting, its default and its trade-off.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ._schema import mapping, no_unknown, seconds
from ._time import utcnow
from .cache import CachePolicy
from .deadlines import DEFAULT_HEALTH_DEADLINE, DEFAULT_RESOLVE_DEADLINE
from .errors import ConfigError, ProviderUnavailable, SecretNotFound
from .types import Secret

__all__ = [
    "CacheSettings",
    "DeadlineSettings",
    "parse_cache",
    "parse_deadlines",
    "secret_policy",
]

_CACHE_KEYS = frozenset({"enabled", "ttl", "maxsize", "max_stale", "refresh_ahead", "negative_ttl"})
_DEADLINE_KEYS = frozenset({"resolve", "health"})


@dataclass(frozen=True, slots=True)
class CacheSettings:
    enabled: bool = True
    ttl: float = 300.0
    maxsize: int = 1024
    max_stale: float = 900.0
    refresh_ahead: float = 0.8
    negative_ttl: float = 10.0


@dataclass(frozen=True, slots=True)
class DeadlineSettings:
    """Seconds a manager operation (``resolve``) and a health check may take;
    ``None``: no deadline."""

    resolve: float | None = DEFAULT_RESOLVE_DEADLINE
    health: float | None = DEFAULT_HEALTH_DEADLINE


def parse_cache(value: Any, base: CacheSettings, source: str, key: str) -> CacheSettings:
    """The ``cache`` mapping at ``key``, over ``base``."""
    data = mapping(value, source, key)
    no_unknown(data, _CACHE_KEYS, source, key)
    enabled = data.get("enabled", base.enabled)
    maxsize = data.get("maxsize", base.maxsize)
    if not isinstance(enabled, bool):
        raise ConfigError("must be true or false", source=source, key=f"{key}.enabled")
    if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
        raise ConfigError("must be a positive integer", source=source, key=f"{key}.maxsize")
    ahead = data.get("refresh_ahead", base.refresh_ahead)
    if isinstance(ahead, bool) or not isinstance(ahead, int | float) or not 0 <= ahead < 1:
        raise ConfigError(
            "must be a fraction of the ttl, from 0 (off) up to but not including 1",
            source=source,
            key=f"{key}.refresh_ahead",
        )

    def duration(name: str, *, zero: bool) -> float:
        found = seconds(data.get(name, getattr(base, name)), source, f"{key}.{name}", zero=zero)
        assert found is not None  # noqa: S101 - null is refused
        return found

    return CacheSettings(
        enabled,
        duration("ttl", zero=False),
        maxsize,
        duration("max_stale", zero=True),
        float(ahead),
        duration("negative_ttl", zero=True),
    )


def parse_deadlines(value: Any, base: DeadlineSettings, source: str, key: str) -> DeadlineSettings:
    """The ``deadlines`` mapping at ``key``, over ``base``."""
    data = mapping(value, source, key)
    no_unknown(data, _DEADLINE_KEYS, source, key)
    found = {
        name: seconds(data[name], source, f"{key}.{name}", none=True) if name in data else None
        for name in _DEADLINE_KEYS
    }
    return DeadlineSettings(
        found["resolve"] if "resolve" in data else base.resolve,
        found["health"] if "health" in data else base.health,
    )


def _unavailable(error: BaseException) -> bool:
    return isinstance(error, ProviderUnavailable)


def _not_found(error: BaseException) -> bool:
    return isinstance(error, SecretNotFound)


def _unexpired(secret: Secret) -> bool:
    return not secret.expired(utcnow())


def _lasting(secret: Secret) -> bool:
    return secret.expires_at is None


def _aged(secret: Secret, age: float) -> Secret:
    return dataclasses.replace(secret, stale_age=age)


def _fresh(secret: Secret) -> bool:
    return secret.stale_age is None


def secret_policy(
    *, max_stale: float = 0.0, refresh_ahead: float = 0.0, negative_ttl: float = 0.0
) -> CachePolicy[Secret]:
    """The manager's cache policy: stale values stand in only for an unavailable
    backend (throttled, down, past the deadline: :class:`ProviderUnavailable`), only
    while unexpired, marked with their age (``Secret.stale_age``); "not found" is the
    negative answer kept."""
    return CachePolicy(
        max_stale=max_stale,
        refresh_ahead=refresh_ahead,
        negative_ttl=negative_ttl,
        transient=_unavailable,
        absent=_not_found,
        usable=_unexpired,
        aged=_aged,
        keep=_fresh,
        lasting=_lasting,
    )
