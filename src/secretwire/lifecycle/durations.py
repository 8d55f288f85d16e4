"""Durations in the settings file (``30d``, ``12h``, ``1d12h``) and ages as status shows them."""

from __future__ import annotations

import re
from datetime import timedelta

from ..errors import ConfigError

__all__ = ["format_age", "parse_duration"]

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d{1,6})([wdhms])")
_WHOLE = re.compile(r"(?:\d{1,6}[wdhms]){1,5}")


def parse_duration(value: object, *, source: str | None, key: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``1w``, ``1d12h`` (or a positive number of seconds)
    as a ``timedelta``; anything else is a :class:`ConfigError` naming ``key``."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return timedelta(seconds=value)
    text = value.strip() if isinstance(value, str) else None
    if text is None or not _WHOLE.fullmatch(text):
        raise ConfigError(
            "must be a duration such as 30d, 12h, 90m or 1d12h (units w, d, h, m, s)",
            source=source,
            key=key,
        )
    seconds = sum(int(number) * _UNITS[unit] for number, unit in _PART.findall(text))
    if seconds <= 0:
        raise ConfigError("must be longer than zero", source=source, key=key)
    return timedelta(seconds=seconds)


def format_age(age: timedelta) -> str:
    """``12d``, ``3h``, ``5m`` or ``<1m`` (negative ages, clocks apart, are ``<1m``)."""
    seconds = age.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "<1m"
