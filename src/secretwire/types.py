"""The value types every layer shares: secrets, versions, capabilities, health.

They sit below the resolver, the pipeline and the providers, so each of those
imports them from here (``secretwire.providers.base`` re-exports them).
A :class:`Secret` holds its value as a :class:`~secretwire.values.SecretValue`:
``repr``, ``str`` and every serialisation route show or refuse it, never print it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import datetime
from types import MappingProxyType
from typing import Any, NoReturn

from .errors import FieldNotFound
from .values import SecretValue

__all__ = [
    "Capabilities",
    "Health",
    "HealthStatus",
    "Key",
    "Secret",
    "SecretVersion",
    "Write",
]

#: What the pipeline and the resolver fetch: (secret name, version or None for current).
Key = tuple[str, str | None]

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class SecretVersion:
    """What is known about one version of a secret, without its value."""

    name: str
    version: str
    created_at: datetime | None = None
    expires_at: datetime | None = None
    current: bool = False
    metadata: Mapping[str, str] = _field(default_factory=lambda: _EMPTY)
    tags: Mapping[str, str] = _field(default_factory=lambda: _EMPTY)
    #: Stored by ``stage`` and not yet promoted (AWS: it holds ``AWSPENDING``).
    staged: bool = False


@dataclass(frozen=True, slots=True)
class Secret:
    """One secret version with its value. ``repr`` and ``str`` never show the value.

    Like its :class:`SecretValue`, it refuses to be pickled or otherwise serialised
    (``TypeError``); ``copy`` and ``deepcopy`` return it unchanged (it is immutable).
    """

    name: str
    value: SecretValue
    version: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    expires_at: datetime | None = None
    metadata: Mapping[str, str] = _field(default_factory=lambda: _EMPTY)
    tags: Mapping[str, str] = _field(default_factory=lambda: _EMPTY)
    provider: str | None = None
    #: The version is not valid before this time (a provider that can report it).
    not_before: datetime | None = None
    #: Set only when the cache served this value because the backend failed
    #: (stale-on-error, ``docs/resilience.md``): seconds since it was read from the backend.
    stale_age: float | None = None

    def reveal(self) -> str:
        """The secret value as a plain string."""
        return self.value.reveal()

    def field(self, key: str) -> str:
        """One field of a structured secret (a JSON object).

        Strings are returned as they are; other JSON values (numbers, lists...) as
        compact JSON. Raises :class:`FieldNotFound` if the value is not a JSON
        object or lacks the key; neither the message nor this frame holds the value.
        """
        # The decoded secret lives only in _field_text's frame, which has returned
        # before the error is raised: no traceback frame holds the value.
        item = _field_text(self.value, key)
        if item is None:
            raise FieldNotFound(
                name=self.name, provider=self.provider, version=self.version, field=key
            )
        return item.reveal()

    def expired(self, now: datetime) -> bool:
        """Whether the version is past ``expires_at`` at ``now`` (an aware time)."""
        return self.expires_at is not None and now >= self.expires_at

    def not_yet_valid(self, now: datetime) -> bool:
        """Whether the version is before ``not_before`` at ``now`` (an aware time)."""
        return self.not_before is not None and now < self.not_before

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret refuses to be serialised; call reveal() if you mean it")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("Secret refuses to be serialised; call reveal() if you mean it")

    def __getstate__(self) -> NoReturn:
        raise TypeError("Secret refuses to be serialised; call reveal() if you mean it")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


def _field_text(value: SecretValue, key: str) -> SecretValue | None:
    """Field ``key`` of a JSON-object secret (strings as they are, other JSON values
    as compact JSON), or None. It never raises: a decoding error would keep this
    frame, and so the whole decoded secret, on its traceback."""
    try:
        data = json.loads(value.reveal())
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or key not in data:
        return None
    item = data[key]
    if isinstance(item, str):
        return SecretValue(item)
    return SecretValue(json.dumps(item, separators=(",", ":"), ensure_ascii=False))


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Which optional operations a provider offers. The conformance suite checks
    that every operation marked ``False`` raises :class:`UnsupportedOperation`."""

    write: bool = False
    delete: bool = False
    list: bool = False
    versions: bool = False
    metadata: bool = False
    #: ``set(tags=...)`` is stored; else refused (UnsupportedOperation) by the kit.
    tags: bool = False
    #: ``set(expires_at=...)`` is stored; else refused (UnsupportedOperation) by the kit.
    expiry: bool = False
    #: ``annotate``: metadata of a stored version can change without a new version.
    annotate: bool = False
    #: ``stage`` / ``promote`` / ``unstage``: a version can be stored without becoming
    #: current, and made current later (AWS's ``AWSPENDING`` / ``AWSCURRENT`` labels).
    #: A backend's own mechanism: :meth:`full` leaves it off.
    staging: bool = False
    max_value_bytes: int | None = None

    @classmethod
    def full(cls, **changes: Any) -> Capabilities:
        """Every capability on except ``staging`` (no size limit), then ``changes``:
        ``Capabilities.full(metadata=False, max_value_bytes=65536)``."""
        off = {"max_value_bytes", "staging"}
        everything = {name: True for name in cls.__dataclass_fields__ if name not in off}
        return cls(**{**everything, "max_value_bytes": None, **changes})


class HealthStatus(enum.Enum):
    OK = "ok"
    DEGRADED = "degraded"
    UNAUTHENTICATED = "unauthenticated"
    SEALED = "sealed"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Health:
    """Result of a health check. ``detail`` never includes a value or a credential.

    ``warnings`` are things to fix that do not stop it working (an endpoint allowed
    by ``insecure: true``); ``notes`` say how the provider came to be (``provider:
    auto``); ``circuit`` is its circuit breaker's state (``closed``, ``open``,
    ``half-open``), ``None`` without one; ``links`` is each provider of a fallback
    chain, in order (empty for a single provider)."""

    provider: str
    status: HealthStatus
    detail: str = ""
    latency_seconds: float | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    circuit: str | None = None
    links: tuple[Health, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is HealthStatus.OK


@dataclass(frozen=True, slots=True)
class Write:
    """One write, checked by the provider kit: what ``SecretProvider._set`` receives.

    ``value`` is masked (reveal it only in the backend call); ``metadata`` and
    ``tags`` map str to str; ``expires_at`` is timezone-aware. Its ``repr`` shows no
    value."""

    name: str
    value: SecretValue
    metadata: Mapping[str, str] = _field(default_factory=lambda: _EMPTY)
    tags: Mapping[str, str] = _field(default_factory=lambda: _EMPTY)
    expires_at: datetime | None = None
