"""An in-process provider: full contract, nothing persisted.

Useful in application tests (``SecretManager(MemoryProvider({...}))``) and as the
reference implementation of the contract. Thread-safe. Every backend call is
counted in ``calls`` so tests can assert how often the backend was reached.
"""

from __future__ import annotations

import builtins
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SecretNotFound
from ..references import check_name
from ..values import SecretValue
from .base import Capabilities, Secret, SecretProvider, SecretVersion, check_value, secret_value

__all__ = ["MemoryProvider"]


@dataclass(slots=True)
class _Version:
    id: str
    value: SecretValue
    created: datetime
    expires: datetime | None
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class MemoryProvider(SecretProvider):
    """Secrets in a dict. ``initial`` seeds one version per name."""

    name = "memory"
    capabilities = Capabilities(write=True, delete=True, list=True, versions=True, metadata=True)

    def __init__(self, initial: Mapping[str, str | SecretValue] | None = None) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, list[_Version]] = {}
        self.calls: Counter[str] = Counter()
        for key, value in (initial or {}).items():
            self.set(key, value)  # type: ignore[arg-type] # a SecretValue is welcome
        self.calls.clear()

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, base_dir: Path) -> MemoryProvider:
        unknown = set(options) - {"secrets"}
        if unknown:
            raise ConfigError("unknown option", key=sorted(unknown)[0])
        secrets = options.get("secrets") or {}
        if not isinstance(secrets, Mapping) or not all(
            isinstance(v, str | SecretValue) for v in secrets.values()
        ):
            raise ConfigError("must map names to string values", key="secrets")
        return cls({str(k): v for k, v in secrets.items()})

    def get(self, name: str, *, version: str | None = None) -> Secret:
        check_name(name, provider=self.name)
        with self._lock:
            self.calls["get"] += 1
            versions = self._data.get(name)
            if not versions:
                raise SecretNotFound(name=name, provider=self.name)
            if version is None:
                chosen = versions[-1]
            else:
                found = [v for v in versions if v.id == version]
                if not found:
                    raise SecretNotFound(name=name, provider=self.name, version=version)
                chosen = found[0]
            return Secret(
                name=name,
                value=chosen.value,
                version=chosen.id,
                created_at=versions[0].created,
                updated_at=chosen.created,
                expires_at=chosen.expires,
                metadata=dict(chosen.metadata),
                tags=dict(chosen.tags),
                provider=self.name,
            )

    def set(
        self,
        name: str,
        value: str,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
    ) -> SecretVersion:
        secret = secret_value(value)
        del value  # only the masked value stays in this frame
        check_name(name, provider=self.name)
        check_value(secret, name=name, provider=self.name)
        with self._lock:
            self.calls["set"] += 1
            versions = self._data.setdefault(name, [])
            version = _Version(
                id=str(int(versions[-1].id) + 1) if versions else "1",
                value=secret,
                created=datetime.now(timezone.utc),
                expires=expires_at,
                metadata=dict(metadata or {}),
                tags=dict(tags or {}),
            )
            versions.append(version)
            return SecretVersion(
                name=name,
                version=version.id,
                created_at=version.created,
                expires_at=version.expires,
                current=True,
                metadata=dict(version.metadata),
                tags=dict(version.tags),
            )

    def delete(self, name: str) -> None:
        with self._lock:
            self.calls["delete"] += 1
            if self._data.pop(name, None) is None:
                raise SecretNotFound(name=name, provider=self.name)

    def list(self, prefix: str = "") -> Iterator[str]:
        with self._lock:
            self.calls["list"] += 1
            names = sorted(n for n in self._data if n.startswith(prefix))
        return iter(names)

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        with self._lock:
            self.calls["versions"] += 1
            versions = self._data.get(name)
            if not versions:
                raise SecretNotFound(name=name, provider=self.name)
            newest = versions[-1].id
            return [
                SecretVersion(
                    name=name,
                    version=v.id,
                    created_at=v.created,
                    expires_at=v.expires,
                    current=v.id == newest,
                    metadata=dict(v.metadata),
                    tags=dict(v.tags),
                )
                for v in reversed(versions)
            ]
