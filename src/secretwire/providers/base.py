"""The provider contract: one ABC every backend implements, and its value types.

A provider only knows how to talk to its backend and how to translate that
backend's errors into :mod:`secretwire.errors`. Caching, authorization, audit and
fallback live in the manager pipeline, once, not in providers.
"""

from __future__ import annotations

import builtins
import enum
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, NoReturn

from ..errors import ConfigError, FieldNotFound, ProviderError, UnsupportedOperation
from ..values import SecretValue

__all__ = [
    "Capabilities",
    "Health",
    "HealthStatus",
    "Secret",
    "SecretProvider",
    "SecretVersion",
    "plain_url",
    "string_map",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})


def plain_url(url: str | None, option: str) -> str | None:
    """``url`` checked to carry no credentials (``https://user:pass@host``).

    Providers show their endpoint in reprs, errors and health details, so a URL
    with a user or password in it is refused (``ConfigError`` naming the option,
    never echoing the URL). Credentials belong in the provider's auth options."""
    if url is None:
        return None
    from urllib.parse import urlsplit  # noqa: PLC0415 - only providers with URLs need it

    try:
        userinfo = urlsplit(url).netloc.rpartition("@")[0]
    except ValueError:
        raise ConfigError("is not a valid URL", key=option) from None
    if userinfo:
        raise ConfigError(
            "must not contain a user name or password (use the provider's auth options)",
            key=option,
        )
    return url


def string_map(data: Mapping[str, str] | None, what: str) -> dict[str, str]:
    """A copy of ``metadata``/``tags`` given to ``set``, checked to map str to str.

    Providers call it first thing in ``set``, so a wrong type fails before any
    backend call (``TypeError``, naming ``what``, never a value)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise TypeError(f"{what} must map str to str")
    return dict(data)


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

    def reveal(self) -> str:
        """The secret value as a plain string."""
        return self.value.reveal()

    def field(self, key: str) -> str:
        """One field of a structured secret (a JSON object).

        Strings are returned as they are; other JSON values (numbers, lists...) as
        compact JSON. Raises :class:`FieldNotFound` if the value is not a JSON
        object or lacks the key; the message never includes the value.
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
        return self.expires_at is not None and now >= self.expires_at

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
    max_value_bytes: int | None = None


class HealthStatus(enum.Enum):
    OK = "ok"
    DEGRADED = "degraded"
    UNAUTHENTICATED = "unauthenticated"
    SEALED = "sealed"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Health:
    """Result of a health check. ``detail`` never includes a value or a credential."""

    provider: str
    status: HealthStatus
    detail: str = ""
    latency_seconds: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is HealthStatus.OK


class SecretProvider(ABC):
    """Base class of every provider.

    Subclasses set ``name`` and ``capabilities`` and implement :meth:`get`.
    Optional operations raise :class:`UnsupportedOperation` unless overridden;
    never a silent no-op. Each method raises only :mod:`secretwire.errors` types.
    """

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, base_dir: Path) -> SecretProvider:
        """Build the provider from a settings-file ``options`` mapping.

        Relative paths are taken relative to ``base_dir`` (the settings file's
        folder). Unknown or ill-typed options raise :class:`ConfigError` naming the
        key. The default accepts no options.
        """
        if options:
            unknown = ", ".join(sorted(options))
            raise ConfigError(f"unknown option(s) for provider {cls.name!r}: {unknown}")
        return cls()

    # -- reads -----------------------------------------------------------------
    @abstractmethod
    def get(self, name: str, *, version: str | None = None) -> Secret:
        """Return the current (or the given) version. Raises :class:`SecretNotFound`."""

    def get_many(
        self, keys: Sequence[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], Secret | ProviderError]:
        """Fetch several secrets. Backends with a batch API override this.

        The result maps every key to its secret or to the error for that key; an
        error that concerns the whole backend (unavailable) may be raised instead.
        """
        results: dict[tuple[str, str | None], Secret | ProviderError] = {}
        for name, version in keys:
            try:
                results[(name, version)] = self.get(name, version=version)
            except ProviderError as err:
                results[(name, version)] = err
        return results

    def list(self, prefix: str = "") -> Iterator[str]:
        """Names (never values) starting with ``prefix``, in sorted order."""
        raise UnsupportedOperation(f"provider {self.name!r} cannot list secrets")

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        """Versions of ``name``, newest first."""
        raise UnsupportedOperation(f"provider {self.name!r} does not keep versions")

    # -- writes ----------------------------------------------------------------
    def set(
        self,
        name: str,
        value: str,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
    ) -> SecretVersion:
        """Store a new version of ``name`` and return it."""
        raise UnsupportedOperation(f"provider {self.name!r} is read-only")

    def delete(self, name: str) -> None:
        """Delete ``name`` and all its versions. Raises :class:`SecretNotFound`."""
        raise UnsupportedOperation(f"provider {self.name!r} cannot delete secrets")

    # -- lifecycle -------------------------------------------------------------
    def health(self) -> Health:
        """Check the backend. The default reports OK without contacting anything;
        providers with a backend override it (the manager times the call)."""
        return Health(self.name, HealthStatus.OK)

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately empty by default
        """Release connections and handles. Idempotent."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"
