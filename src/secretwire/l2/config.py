"""The ``l2:`` key of an environment: a shared, encrypted cache in Redis
(``docs/deployment.md``, ``docs/settings.md``)::

    production:
      provider: vault
      bootstrap: ci                       # only for key: ${secret:...}
      l2:
        url: ${env:REDIS_URL}             # redis://, rediss:// (TLS) or unix://
        key_file: /run/secrets/l2.key     # or key_env: VARIABLE, or key: ${secret:l2/key}
        password: ${secret:redis/password}  # optional (and username)
        prefix: "secretwire:"             # what every Redis key starts with
        ttl: 300                          # seconds fresh in Redis: at most cache.ttl
        lock_ttl: 5                       # seconds a load's lock lives at most
        lock_wait: 3                      # seconds a process waits for another's load
        timeout: 0.25                     # seconds a Redis command may take
        retry_after: 5                    # seconds Redis is skipped after it failed
        invalidation: true                # apply other processes' writes at once

The stale window and the negative TTL are the environment's ``cache.max_stale`` and
``cache.negative_ttl``: the L2 keeps values the way the local cache does. Strings may
use ``${env:...}`` and, through the environment's ``bootstrap``, ``${secret:...}``
(resolved when the manager is built). Every error names the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._schema import mapping, no_unknown, seconds
from ..cache_settings import CacheSettings
from ..errors import ConfigError

__all__ = ["KEYS", "L2Settings", "parse_l2"]

#: The environment keys parsed here (``settings.py`` accepts them).
KEYS = frozenset({"l2"})
_KEYS = frozenset(
    {"url", "key_file", "key_env", "key", "username", "password", "prefix", "ttl"}
    | {"lock_ttl", "lock_wait", "timeout", "retry_after", "invalidation"}
)
_KEY_SOURCES = ("key_file", "key_env", "key")
_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True, slots=True)
class L2Settings:
    """An environment's ``l2:`` mapping, checked. ``strings`` are the values that may
    hold references (``url``, ``key``, ``username``, ``password``), resolved when the
    manager is built (:func:`secretwire.l2.build.l2_layers`)."""

    strings: Mapping[str, str]
    key_file: str | None = None
    key_env: str | None = None
    prefix: str = "secretwire:"
    ttl: float = 300.0
    max_stale: float = 900.0
    negative_ttl: float = 10.0
    lock_ttl: float = 5.0
    lock_wait: float = 3.0
    timeout: float = 0.25
    retry_after: float = 5.0
    invalidation: bool = True


def parse_l2(value: Any, cache: CacheSettings, source: str, key: str) -> L2Settings | None:
    """The ``l2`` mapping at ``key`` (``None`` when absent), checked against the
    environment's ``cache`` settings."""
    if value is None:
        return None
    data = mapping(value, source, key)
    no_unknown(data, _KEYS, source, key)
    for name in ("url", "key_file", "key_env", "key", "username", "password", "prefix"):
        if name in data and (not isinstance(data[name], str) or not data[name]):
            raise ConfigError("must be a non-empty string", source=source, key=f"{key}.{name}")
    url = data.get("url")
    if url is None:
        raise ConfigError("the Redis url is required", source=source, key=f"{key}.url")
    if "${" not in url and not url.startswith(_SCHEMES):
        raise ConfigError(
            "must start with redis://, rediss:// or unix://", source=source, key=f"{key}.url"
        )
    given = [name for name in _KEY_SOURCES if name in data]
    if len(given) != 1:
        raise ConfigError(
            "give the cache key as exactly one of key_file, key_env or key (a ${secret:...} "
            "reference)",
            source=source,
            key=key,
        )
    if "key" in data and "${secret:" not in data["key"]:
        raise ConfigError(
            "must be a ${secret:...} reference, never the key itself (a settings file is "
            "read by many); or use key_file or key_env",
            source=source,
            key=f"{key}.key",
        )
    invalidation = data.get("invalidation", True)
    if not isinstance(invalidation, bool):
        raise ConfigError("must be true or false", source=source, key=f"{key}.invalidation")

    def duration(name: str, default: float) -> float:
        found = seconds(data.get(name, default), source, f"{key}.{name}")
        assert found is not None  # noqa: S101 - null is refused
        return found

    ttl = duration("ttl", cache.ttl)
    if ttl > cache.ttl:
        raise ConfigError(
            f"must be at most the cache's ttl ({cache.ttl:g} s): a value lives no longer in "
            "Redis than in the local cache",
            source=source,
            key=f"{key}.ttl",
        )
    strings = {name: data[name] for name in ("url", "key", "username", "password") if name in data}
    return L2Settings(
        strings,
        key_file=data.get("key_file"),
        key_env=data.get("key_env"),
        prefix=data.get("prefix", "secretwire:"),
        ttl=ttl,
        max_stale=cache.max_stale,
        negative_ttl=cache.negative_ttl,
        lock_ttl=duration("lock_ttl", 5.0),
        lock_wait=duration("lock_wait", 3.0),
        timeout=duration("timeout", 0.25),
        retry_after=duration("retry_after", 5.0),
        invalidation=invalidation,
    )
