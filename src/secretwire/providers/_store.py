"""One versioned-store model: names -> entries -> versions.

The memory provider keeps a :class:`VersionedDocument` in memory; the file provider
keeps the same document encrypted on disk (:meth:`VersionedDocument.encode` /
:meth:`VersionedDocument.decode` read and write its JSON format)::

    {"secrets": {"db/password": {"next": 3, "versions": [
        {"id": "1", "value": "...", "created": "2030-01-01T00:00:00+00:00",
         "expires": null, "metadata": {}, "tags": {}},
        {"id": "2", ...}]}}}

Versions are numbered ``1``, ``2``... per name; ``next`` is the number the next
version gets, so numbers are never reused while the name exists. The newest version
is the current one. Entries and versions are immutable: a change makes a new entry,
so a copy of the document (:meth:`VersionedDocument.copy`) is cheap and a reader never
sees a half-made change. Values are :class:`~secretwire.SecretValue` throughout.
The document is not thread-safe: its owner holds a lock around it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from .._time import isoformat, parse_iso, utcnow
from ..errors import SecretNotFound
from ..types import Secret, SecretVersion, Write
from ..values import SecretValue

__all__ = ["Entry", "StoredVersion", "VersionedDocument"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One stored version: its value and what is known about it."""

    id: str
    value: SecretValue
    created_at: datetime
    expires_at: datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    def info(self, name: str, *, current: bool) -> SecretVersion:
        return SecretVersion(
            name=name,
            version=self.id,
            created_at=self.created_at,
            expires_at=self.expires_at,
            current=current,
            metadata=self.metadata,
            tags=self.tags,
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """All versions of one name, oldest first; the last is the current one."""

    next: int
    versions: tuple[StoredVersion, ...]

    @property
    def current(self) -> StoredVersion:
        return self.versions[-1]

    def find(self, version: str | None) -> StoredVersion | None:
        """The given version (the current one for ``None``), or None."""
        if version is None:
            return self.current
        return next((item for item in self.versions if item.id == version), None)


class VersionedDocument:
    """Secrets by name, each with its versions (see the module docstring)."""

    def __init__(self, entries: Mapping[str, Entry] | None = None) -> None:
        self.entries: dict[str, Entry] = dict(entries or {})

    def copy(self) -> VersionedDocument:
        return VersionedDocument(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def _entry(self, name: str, provider: str, operation: str) -> Entry:
        entry = self.entries.get(name)
        if entry is None:
            raise SecretNotFound(operation=operation, name=name, provider=provider)
        return entry

    def read(self, name: str, version: str | None, *, provider: str) -> Secret:
        """The secret (current or given version). Raises :class:`SecretNotFound`."""
        entry = self._entry(name, provider, "get")
        chosen = entry.find(version)
        if chosen is None:
            raise SecretNotFound(operation="get", name=name, version=version, provider=provider)
        return Secret(
            name=name,
            value=chosen.value,
            version=chosen.id,
            created_at=entry.versions[0].created_at,
            updated_at=chosen.created_at,
            expires_at=chosen.expires_at,
            metadata=chosen.metadata,
            tags=chosen.tags,
            provider=provider,
        )

    def write(self, write: Write, *, created_at: datetime | None = None) -> SecretVersion:
        """Add a version of ``write.name`` (creating the name) and return it, current."""
        entry = self.entries.get(write.name) or Entry(next=1, versions=())
        item = StoredVersion(
            id=str(entry.next),
            value=write.value,
            created_at=created_at if created_at is not None else utcnow(),
            expires_at=write.expires_at,
            metadata=MappingProxyType(dict(write.metadata)),
            tags=MappingProxyType(dict(write.tags)),
        )
        self.entries[write.name] = replace(
            entry, next=entry.next + 1, versions=(*entry.versions, item)
        )
        return item.info(write.name, current=True)

    def annotate(
        self, name: str, version: str, metadata: Mapping[str, str], *, provider: str
    ) -> None:
        """Merge ``metadata`` into the metadata of one version (its value, id and times
        stay). Raises :class:`SecretNotFound`."""
        entry = self._entry(name, provider, "annotate")
        chosen = entry.find(version)
        if chosen is None:
            raise SecretNotFound(
                operation="annotate", name=name, version=version, provider=provider
            )
        merged = replace(chosen, metadata=MappingProxyType({**chosen.metadata, **metadata}))
        versions = tuple(merged if item is chosen else item for item in entry.versions)
        self.entries[name] = replace(entry, versions=versions)

    def delete(self, name: str, *, provider: str) -> None:
        """Remove ``name`` with every version. Raises :class:`SecretNotFound`."""
        if self.entries.pop(name, None) is None:
            raise SecretNotFound(operation="delete", name=name, provider=provider)

    def names(self, prefix: str = "") -> list[str]:
        """Names starting with ``prefix``, sorted."""
        return sorted(name for name in self.entries if name.startswith(prefix))

    def versions(self, name: str, *, provider: str) -> list[SecretVersion]:
        """Versions of ``name``, newest first. Raises :class:`SecretNotFound`."""
        history = self._entry(name, provider, "versions").versions
        return [item.info(name, current=item is history[-1]) for item in reversed(history)]

    # -- the file format ------------------------------------------------------------
    def encode(self) -> dict[str, Any]:
        """The document as the file provider's JSON object (values in plain text:
        pass it straight to ``json.dumps``, never keep it in a frame that can fail)."""
        return {
            "secrets": {
                name: {"next": entry.next, "versions": [_encode(v) for v in entry.versions]}
                for name, entry in self.entries.items()
            }
        }

    @classmethod
    def decode(cls, data: object) -> VersionedDocument | None:
        """The document from the file provider's JSON object, or ``None`` if it is not
        a valid one. Never raises (the data holds values; a traceback would too)."""
        try:
            secrets = data["secrets"]  # type: ignore[index]
            if not isinstance(secrets, dict):
                return None
            entries = {name: _decode_entry(entry) for name, entry in secrets.items()}
        except (TypeError, KeyError, ValueError, AttributeError, RecursionError):
            return None
        if not all(isinstance(name, str) for name in entries) or None in entries.values():
            return None
        return cls(entries)  # type: ignore[arg-type]


def _encode(version: StoredVersion) -> dict[str, object]:
    return {
        "id": version.id,
        "value": version.value.reveal(),
        "created": isoformat(version.created_at),
        "expires": None if version.expires_at is None else isoformat(version.expires_at),
        "metadata": dict(version.metadata),
        "tags": dict(version.tags),
    }


def _str_map(data: object) -> Mapping[str, str] | None:
    if not isinstance(data, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return None
    return MappingProxyType(dict(data))


def _decode_version(data: object) -> StoredVersion | None:
    if not isinstance(data, dict):
        return None
    ident, value, expires = data["id"], data["value"], data["expires"]
    created = parse_iso(data["created"])
    expiry = None if expires is None else parse_iso(expires)
    metadata, tags = _str_map(data["metadata"]), _str_map(data["tags"])
    if not isinstance(ident, str) or not isinstance(value, str) or created is None:
        return None
    if (expires is not None and expiry is None) or metadata is None or tags is None:
        return None
    return StoredVersion(ident, SecretValue(value), created, expiry, metadata, tags)


def _decode_entry(data: object) -> Entry | None:
    if not isinstance(data, dict):
        return None
    counter, items = data["next"], data["versions"]
    if type(counter) is not int or not isinstance(items, list) or not items:
        return None
    versions = tuple(_decode_version(item) for item in items)
    if any(item is None for item in versions):
        return None
    return Entry(next=counter, versions=versions)  # type: ignore[arg-type]
