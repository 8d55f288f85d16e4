"""The provider registry: built-in providers plus the ``secretwire.providers`` entry points.

A third-party package registers a provider in its own ``pyproject.toml``::

    [project.entry-points."secretwire.providers"]
    mystore = "mypackage.provider:MyStoreProvider"

Built-ins are listed here by import path so that naming a provider never imports
an SDK it does not need; importing happens when the provider is first used.
"""

from __future__ import annotations

import importlib
import threading

from ..errors import ConfigError
from ..types import Capabilities, Health, HealthStatus, Secret, SecretVersion
from .base import SecretProvider

__all__ = [
    "ENTRY_POINT_GROUP",
    "Capabilities",
    "Health",
    "HealthStatus",
    "Secret",
    "SecretProvider",
    "SecretVersion",
    "available_providers",
    "get_provider_class",
    "register_provider",
    "unregister_provider",
]

ENTRY_POINT_GROUP = "secretwire.providers"

_BUILTIN: dict[str, str] = {
    "file": "secretwire.providers.localfile:LocalFileProvider",
    "env": "secretwire.providers.env:EnvProvider",
    "memory": "secretwire.providers.memory:MemoryProvider",
    "vault": "secretwire.providers.vault:VaultProvider",
    "aws": "secretwire.providers.aws:AwsSecretsManagerProvider",
    "azure": "secretwire.providers.azure:AzureKeyVaultProvider",
    "keyring": "secretwire.providers.keyring:KeyringProvider",
}
_registered: dict[str, type[SecretProvider] | str] = {}
_lock = threading.Lock()


def register_provider(name: str, provider: type[SecretProvider] | str) -> None:
    """Register a provider class (or its ``"module:Class"`` path) under ``name``.

    Registered providers take precedence over entry points and built-ins.
    """
    with _lock:
        _registered[name] = provider


def unregister_provider(name: str) -> None:
    with _lock:
        _registered.pop(name, None)


def _entry_point_targets() -> dict[str, str]:
    # Imported here: importlib.metadata costs ~20 ms and is needed only for names
    # that are not built in or registered.
    from importlib.metadata import entry_points  # noqa: PLC0415

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_providers() -> list[str]:
    """Names of every provider that can be used, sorted (nothing is imported)."""
    with _lock:
        names = set(_BUILTIN) | set(_registered)
    return sorted(names | set(_entry_point_targets()))


def is_known_provider(name: str) -> bool:
    """Whether ``name`` can be used; entry points are scanned only for other names."""
    with _lock:
        if name in _registered or name in _BUILTIN:
            return True
    return name in _entry_point_targets()


def get_provider_class(name: str) -> type[SecretProvider]:
    """The provider class registered as ``name``; imports it on first use.

    Raises :class:`ConfigError` for an unknown name. A provider whose SDK is an
    optional extra imports it lazily and raises an ``ImportError`` naming the extra.
    """
    with _lock:
        target: type[SecretProvider] | str | None = _registered.get(name)
    if target is None:
        target = _BUILTIN.get(name) or _entry_point_targets().get(name)
    if target is None:
        known = ", ".join(available_providers())
        raise ConfigError(f"unknown provider {name!r} (known: {known})")
    if isinstance(target, str):
        module_name, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(target, type) and issubclass(target, SecretProvider)):
        raise ConfigError(f"provider {name!r} does not name a SecretProvider subclass")
    return target
