"""Helpers of the L2 tests: keys, managers with an L2 layer built by hand (each with
its own Redis connections, like separate processes), settings files that ask for one."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

from secretwire import SecretManager, SecretProvider
from secretwire.l2 import L2Settings
from secretwire.l2.crypto import L2Key
from secretwire.l2.layer import L2Layer
from secretwire.l2.store import RedisStore


def new_key() -> tuple[L2Key, str]:
    """A random key and its text (what a key file holds)."""
    material = os.urandom(32)
    return L2Key(material), base64.urlsafe_b64encode(material).decode("ascii")


def layer_of(manager: SecretManager) -> L2Layer:
    handler: Any = manager._pipeline
    while not isinstance(handler, L2Layer):
        handler = handler.inner
    return handler


def l2_manager(
    provider: SecretProvider,
    url: str,
    prefix: str,
    key: L2Key,
    *,
    cache_ttl: float = 300.0,
    timeout: float = 0.25,
    retry_after: float = 5.0,
    environment: str = "prod",
    **spec: Any,
) -> SecretManager:
    """A manager whose cache misses go to the L2 at ``url``."""
    settings = L2Settings({}, prefix=prefix, **{"ttl": cache_ttl, **spec})
    store = RedisStore(url, timeout=timeout, retry_after=retry_after)
    return SecretManager(
        provider,
        cache_ttl=cache_ttl,
        cache_max_stale=settings.max_stale,
        cache_negative_ttl=settings.negative_ttl,
        environment=environment,
        after_cache=[lambda inner: L2Layer(inner, store, key, environment, settings)],
    )


def write_settings(folder: Path, url: str, prefix: str, key_text: str, **l2: Any) -> Path:
    """``secretwire.yaml`` in ``folder``: environment ``prod`` on an encrypted file
    store there, with an L2 at ``url`` whose key is in ``l2.key`` (mode 0600)."""
    key_file = folder / "l2.key"
    if not key_file.exists():
        key_file.write_text(key_text)
        key_file.chmod(0o600)
    settings = {
        "environments": {
            "prod": {
                "provider": "file",
                "options": {"path": "store.enc", "key_file": "store.key"},
                "l2": {"url": url, "key_file": "l2.key", "prefix": prefix, **l2},
            }
        }
    }
    path = folder / "secretwire.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path
