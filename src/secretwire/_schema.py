"""Checks shared by the settings parsers: every error names the file and the key."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from .errors import ConfigError

__all__ = ["mapping", "no_unknown", "seconds"]


def mapping(value: Any, source: str, key: str) -> Mapping[str, Any]:
    """``value`` as a mapping (``None``: empty), else a ConfigError naming ``key``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"expected a mapping, got {type(value).__name__}", source=source, key=key or None
        )
    return value


def no_unknown(data: Mapping[str, Any], allowed: Set[str], source: str, key: str) -> None:
    """A ConfigError naming the first key of ``data`` not in ``allowed``."""
    for item in data:
        if item not in allowed:
            where = f"{key}.{item}" if key else str(item)
            expected = ", ".join(sorted(allowed))
            raise ConfigError(
                f"unknown key (expected one of: {expected})", source=source, key=where
            )


def seconds(
    value: Any, source: str, key: str, *, zero: bool = False, none: bool = False
) -> float | None:
    """A number of seconds: positive (or also 0 with ``zero``; ``null`` with ``none``)."""
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        ok = False
    else:
        ok = value > 0 or zero
    if not ok:
        wanted = "a positive number of seconds" + (" or 0" if zero else "")
        wanted += " or null" if none else ""
        raise ConfigError(f"must be {wanted}", source=source, key=key)
    return float(value)
