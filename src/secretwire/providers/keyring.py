"""Secrets in the OS keychain through the ``keyring`` library (``secretwire[keyring]``): the
item of service ``service`` and username the secret's name, in keyring's own backend (macOS
Keychain, Windows Credential Locker, Secret Service, KWallet...) or the ``backend`` option's.
An item holds one value (no versions, metadata, tags or expiry); keyring cannot list items.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ..errors import (
    AccessDenied,
    ConfigError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    UnsupportedOperation,
)
from ..values import SecretValue
from .base import (
    Capabilities,
    Health,
    HealthStatus,
    Option,
    Options,
    Secret,
    SecretProvider,
    SecretVersion,
    Write,
    call,
    from_table,
    option_text,
    require_extra,
    shown,
)

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["KeyringProvider"]

T = TypeVar("T")
_NONE = ("keyring.backends.null.Keyring", "keyring.backends.fail.Keyring")  # disabled, none
_UNUSABLE = "install a keyring backend, or name one in the provider's backend option"


def _translate(err: Exception, context: Mapping[str, Any]) -> ProviderError | None:
    e = require_extra("keyring.errors", "keyring")
    denied = [
        ((e.KeyringLocked, PermissionError), AccessDenied, "the keyring is locked ({type})"),
        (e.PasswordSetError, AccessDenied, "the keyring refused the write ({type})"),
    ]
    unusable = [
        ((e.NoKeyringError, e.InitError, RuntimeError), ProviderUnavailable, "no backend ({type})"),
        ((e.KeyringError, OSError), ProviderUnavailable, "the keyring failed ({type})"),
    ]
    return (
        from_table(err, [(e.PasswordDeleteError, SecretNotFound, "no such item")], **context)
        or from_table(err, denied, hint="unlock the keyring (it may need a desktop)", **context)
        or from_table(err, unusable, hint=_UNUSABLE, **context)
    )


def _named(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _wrapped(value: str | None) -> SecretValue | None:
    return None if value is None else SecretValue(value)


class KeyringProvider(SecretProvider):
    """The OS keychain (see the module docstring). ``backend`` is an import path or, from
    Python, a keyring backend instance; calls to the backend are serialised."""

    name = "keyring"
    capabilities = Capabilities(write=True, delete=True)  # no versions, list or metadata
    unsupported_hints: ClassVar[Mapping[str, str]] = dict.fromkeys(
        ("tags", "expiry"), "a keyring item holds only its value"
    )
    options = Options(
        Option("service", str, default="secretwire", nonempty=True,
               help="The keyring service of every item; a secret's name is its username."),
        Option("backend", str, help="A keyring backend class by import path; none: keyring's "
               "own choice (its config, `$PYTHON_KEYRING_BACKEND` or the OS keychain)."),
    )  # fmt: skip

    def __init__(self, *, service: str | SecretValue = "secretwire", backend: Any = None) -> None:
        self._keyring = require_extra("keyring", "keyring")
        if not isinstance(service, str | SecretValue) or not option_text(service):
            raise ConfigError("option must be a non-empty string", key="service")
        self._service, self._shown = option_text(service), shown(service)
        self._lock = threading.Lock()
        named = isinstance(backend, str | SecretValue)
        self._backend: KeyringBackend | None = self._load(backend) if named else backend

    def _load(self, path: str | SecretValue) -> KeyringBackend:
        """The backend class ``path`` names, built if keyring finds it usable here."""
        why = "not a keyring backend"
        try:
            backend = self._keyring.core.load_keyring(option_text(path))
        except Exception as err:  # noqa: BLE001 - no such module or class, or not usable here
            why = type(err).__name__
        else:
            if isinstance(backend, self._keyring.backend.KeyringBackend):
                return backend  # type: ignore[no-any-return]
        raise ConfigError(f"option must name a backend class, module.Class ({why})", key="backend")

    def _run(self, operation: str, name: str | None, fn: Callable[[KeyringBackend], T]) -> T:
        """``fn(backend)`` under the lock, with keyring's outcomes translated."""
        fields = {"operation": operation, "name": name, "provider": self.name}
        with self._lock:
            backend = self._backend or call(self._keyring.get_keyring, _translate, **fields)
            if _named(backend) in _NONE:  # the null one would store nothing, silently
                why = f"keyring has no usable backend ({_named(backend)})"
                raise ProviderUnavailable(detail=why, hint=_UNUSABLE, **fields)
            return call(lambda: fn(backend), _translate, **fields)

    def _get(self, name: str, version: str | None) -> Secret:
        fields = {"operation": "get", "name": name, "provider": self.name}
        if version is not None:
            raise SecretNotFound(version=version, detail="a keyring keeps no versions", **fields)
        value = self._run("get", name, lambda k: _wrapped(k.get_password(self._service, name)))
        if value is None:
            raise SecretNotFound(detail=f"no item in service {self._shown!r}", **fields)
        return Secret(name=name, value=value, provider=self.name)

    def _set(self, write: Write) -> SecretVersion:
        name, value = write.name, write.value
        if write.metadata:
            why = "a keyring item holds only its value (no metadata, tags or expiry)"
            raise UnsupportedOperation(operation="set", name=name, provider=self.name, detail=why)
        self._run("set", name, lambda k: k.set_password(self._service, name, value.reveal()))
        return SecretVersion(name=name, version="", current=True)

    def _delete(self, name: str) -> None:
        self._run("delete", name, lambda k: k.delete_password(self._service, name))

    def _health(self) -> Health:
        try:
            backend = self._run("check", None, lambda k: k)  # no read: it may prompt to unlock
        except ProviderError as err:
            return Health(self.name, HealthStatus.UNAVAILABLE, err.reason)
        return Health(self.name, HealthStatus.OK, f"backend {_named(backend)}")
