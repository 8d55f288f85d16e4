"""The settings of fallback chains and circuit breakers: an environment's
``fallback``, ``fallback_on`` and ``breaker`` keys (``docs/settings.md``)::

    production:
      provider: vault
      options: {url: https://vault.example.com:8200}
      fallback: [production-aws, offline]   # other environments, asked in order
      fallback_on: [unavailable]            # the default; also: not_found, denied
      breaker: {failures: 5, reset_after: 30, max_reset_after: 300}

Every error names the file and the key.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .fallback import FALLBACK_ON

__all__ = ["KEYS", "BreakerSettings", "FailoverSettings", "parse_failover"]

#: The environment keys parsed here (``settings.py`` accepts them).
KEYS = frozenset({"fallback", "fallback_on", "breaker"})
_BREAKER_KEYS = ("enabled", "failures", "reset_after", "max_reset_after")


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """``breaker:``: on by default; opens after ``failures`` consecutive calls that
    found the backend unavailable, probes again after ``reset_after`` seconds,
    doubling up to ``max_reset_after`` while the probes fail."""

    enabled: bool = True
    failures: int = 5
    reset_after: float = 30.0
    max_reset_after: float = 300.0


@dataclass(frozen=True, slots=True)
class FailoverSettings:
    #: the environments whose providers are asked after this one's, in order
    fallback: tuple[str, ...] = ()
    #: what passes a read on to the next provider (:data:`FALLBACK_ON`)
    fallback_on: tuple[str, ...] = ("unavailable",)
    breaker: BreakerSettings = BreakerSettings()


def parse_failover(
    spec: Mapping[str, Any], *, name: str, environments: Collection[str], source: str
) -> FailoverSettings:
    """The failover settings of environment ``name`` from its mapping ``spec``."""
    key = f"environments.{name}"
    fallback = _names(spec.get("fallback"), source, f"{key}.fallback")
    for index, other in enumerate(fallback):
        if other not in environments or other == name:
            raise ConfigError(
                f"must name another environment, got {other!r}",
                source=source,
                key=f"{key}.fallback[{index}]",
            )
    if len(set(fallback)) != len(fallback):
        raise ConfigError("names an environment twice", source=source, key=f"{key}.fallback")
    on = _names(spec.get("fallback_on", ["unavailable"]), source, f"{key}.fallback_on")
    for index, item in enumerate(on):
        if item not in FALLBACK_ON:
            raise ConfigError(
                f"must be one of: {', '.join(FALLBACK_ON)}",
                source=source,
                key=f"{key}.fallback_on[{index}]",
            )
    if "unavailable" not in on:
        raise ConfigError(
            "must include unavailable (the reason a fallback exists)",
            source=source,
            key=f"{key}.fallback_on",
        )
    breaker = _breaker(spec.get("breaker"), source, f"{key}.breaker")
    return FailoverSettings(tuple(fallback), tuple(dict.fromkeys(on)), breaker)


def _names(value: Any, source: str, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError("must be a list of names", source=source, key=key)
    return value


def _breaker(value: Any, source: str, key: str) -> BreakerSettings:
    if value is None:
        return BreakerSettings()
    if isinstance(value, bool):
        return BreakerSettings(enabled=value)
    if not isinstance(value, Mapping):
        raise ConfigError("expected a mapping (or true/false)", source=source, key=key)
    for item in value:
        if item not in _BREAKER_KEYS:
            expected = ", ".join(sorted(_BREAKER_KEYS))
            raise ConfigError(
                f"unknown key (expected one of: {expected})", source=source, key=f"{key}.{item}"
            )
    base = BreakerSettings()
    enabled = value.get("enabled", base.enabled)
    if not isinstance(enabled, bool):
        raise ConfigError("must be true or false", source=source, key=f"{key}.enabled")
    failures = value.get("failures", base.failures)
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 1:
        raise ConfigError("must be a positive integer", source=source, key=f"{key}.failures")
    reset = _seconds(value.get("reset_after", base.reset_after), source, f"{key}.reset_after")
    most = _seconds(
        value.get("max_reset_after", max(reset, base.max_reset_after)),
        source,
        f"{key}.max_reset_after",
    )
    if most < reset:
        raise ConfigError(
            "must be at least reset_after", source=source, key=f"{key}.max_reset_after"
        )
    return BreakerSettings(enabled, failures, reset, most)


def _seconds(value: Any, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86400:
        raise ConfigError(
            "must be a positive number of seconds (at most 86400)", source=source, key=key
        )
    return float(value)
