"""An in-process provider: full contract, nothing persisted.

Useful in application tests (``SecretManager(MemoryProvider({...}))``) and as the
reference implementation of the contract. Thread-safe. Every backend call is
counted in ``calls`` so tests can assert how often the backend was reached.
"""

from __future__ import annotations

import builtins
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ConfigError
from ..values import SecretValue
from ._store import VersionedDocument
from .base import Capabilities, Option, Options, Secret, SecretProvider, SecretVersion, Write

__all__ = ["MemoryProvider"]


class MemoryProvider(SecretProvider):
    """Secrets in a :class:`~secretwire.providers._store.VersionedDocument`.
    ``initial`` seeds one version per name."""

    name = "memory"
    capabilities = Capabilities.full()
    options = Options(
        Option(
            "secrets",
            dict,
            argument="initial",
            help="Names mapped to string values, one version each (the values sit in the "
            "settings file in plain text: for demos).",
        ),
    )

    def __init__(self, initial: Mapping[str, str | SecretValue] | None = None) -> None:
        self._lock = threading.Lock()
        self._document = VersionedDocument()
        self.calls: Counter[str] = Counter()
        for key, value in (initial or {}).items():
            self.set(key, value)
        self.calls.clear()

    @classmethod
    def _check_options(cls, values: dict[str, Any]) -> None:
        secrets = values.get("initial", {})
        if not all(isinstance(v, str | SecretValue) for v in secrets.values()):
            raise ConfigError("must map names to string values", key="secrets")
        values["initial"] = {str(key): value for key, value in secrets.items()}

    def _get(self, name: str, version: str | None) -> Secret:
        with self._lock:
            self.calls["get"] += 1
            return self._document.read(name, version, provider=self.name)

    def _set(self, write: Write) -> SecretVersion:
        with self._lock:
            self.calls["set"] += 1
            return self._document.write(write)

    def _annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        with self._lock:
            self.calls["annotate"] += 1
            self._document.annotate(name, version, metadata, provider=self.name)

    def _delete(self, name: str) -> None:
        with self._lock:
            self.calls["delete"] += 1
            self._document.delete(name, provider=self.name)

    def _list(self, prefix: str) -> Iterable[str]:
        with self._lock:
            self.calls["list"] += 1
            return self._document.names(prefix)

    def _versions(self, name: str) -> builtins.list[SecretVersion]:
        with self._lock:
            self.calls["versions"] += 1
            return self._document.versions(name, provider=self.name)
