"""Argument checks the provider kit makes once, before any hook runs.

Each raises :class:`~secretwire.errors.InvalidSecret` naming what is wrong (a
character offset, a size, an argument's type), never the value; each frame that
raises holds the value only as a :class:`~secretwire.SecretValue`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone

from ..._time import is_aware
from ...errors import InvalidSecret
from ...values import SecretValue

__all__ = [
    "MAX_VERSION_LENGTH",
    "check_expiry",
    "check_size",
    "check_value",
    "check_version",
    "secret_value",
    "string_map",
]

_SURROGATE = re.compile("[\ud800-\udfff]")
#: The longest version id or label any provider accepts (AWS staging labels: 256).
MAX_VERSION_LENGTH = 256


def secret_value(value: str | SecretValue) -> SecretValue:
    """A value to store, held as a :class:`SecretValue` (``TypeError`` if it is not text).

    The template ``set`` calls it first and drops the plain argument, so no frame on
    an error path shows the value (error trackers record every frame's locals)."""
    if isinstance(value, SecretValue):
        return value
    if not isinstance(value, str):
        raise TypeError(f"secret value must be str, not {type(value).__name__}")
    return SecretValue(value)


def check_value(
    value: SecretValue, *, name: str, provider: str, operation: str | None = None
) -> None:
    """Refuse a value that cannot be stored as text: a lone surrogate (what
    ``surrogateescape`` makes of bytes that are not UTF-8) cannot be encoded as UTF-8.
    The error names the character offset, never the value."""
    found = _SURROGATE.search(value.reveal())
    if found is None:
        return
    offset = found.start()
    del found  # the match holds the text: the frame that raises holds no value
    raise InvalidSecret(
        operation=operation,
        name=name,
        provider=provider,
        detail=(
            f"the value is not valid Unicode text (a lone surrogate at character {offset}; "
            "bytes that are not UTF-8?); nothing stored"
        ),
    )


def check_size(
    value: SecretValue, limit: int | None, *, name: str, provider: str, operation: str = "set"
) -> None:
    """Refuse a value whose UTF-8 encoding is over ``limit`` bytes (``None``: no limit).
    Call it after :func:`check_value` (a lone surrogate cannot be encoded)."""
    if limit is None:
        return
    size = len(value.reveal().encode("utf-8"))
    if size > limit:
        raise InvalidSecret(
            operation=operation,
            name=name,
            provider=provider,
            detail=f"the value is too large: {size} bytes in UTF-8, the limit is {limit}",
        )


def string_map(
    data: object,
    what: str,
    *,
    name: str | None = None,
    provider: str | None = None,
    operation: str | None = None,
) -> dict[str, str]:
    """A copy of ``metadata`` / ``tags``, checked to map str to str (``None``: empty).

    Anything else is an :class:`InvalidSecret` naming ``what``, never a value."""
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise InvalidSecret(
            operation=operation,
            name=name,
            provider=provider,
            detail=f"{what} must map strings to strings"
            + ("" if isinstance(data, Mapping) else f", not a {type(data).__name__}"),
        )
    return dict(data)


def check_expiry(
    moment: object,
    *,
    name: str,
    provider: str,
    what: str = "expires_at",
    operation: str = "set",
) -> datetime | None:
    """``moment`` (``None`` or a timezone-aware ``datetime``) in UTC; a naive time or
    another type is an :class:`InvalidSecret` (a naive time is ambiguous)."""
    if moment is None:
        return None
    problem = None
    if not isinstance(moment, datetime):
        problem = f"{what} must be a datetime, not {type(moment).__name__}"
    elif not is_aware(moment):
        problem = f"{what} must be timezone-aware (a naive datetime is ambiguous)"
    if problem is not None:
        raise InvalidSecret(operation=operation, name=name, provider=provider, detail=problem)
    assert isinstance(moment, datetime)  # noqa: S101 - checked above
    return moment.astimezone(timezone.utc)


def _version_problem(version: object) -> str | None:
    if not isinstance(version, str):
        return f"a version must be a string, not {type(version).__name__}"
    if not version:
        return "a version must not be empty"
    if len(version) > MAX_VERSION_LENGTH:
        return f"a version is at most {MAX_VERSION_LENGTH} characters"
    if not version.isprintable() or any(ch.isspace() for ch in version):
        return "a version has no whitespace or invisible characters"
    return None


def check_version(
    version: object, *, name: str, provider: str, operation: str = "get"
) -> str | None:
    """``version``: ``None`` (the current one) or 1 to :data:`MAX_VERSION_LENGTH`
    visible characters; anything else is an :class:`InvalidSecret` (never echoed)."""
    if version is None:
        return None
    problem = _version_problem(version)
    if problem is not None:
        raise InvalidSecret(operation=operation, name=name, provider=provider, detail=problem)
    assert isinstance(version, str)  # noqa: S101 - checked above
    return version
