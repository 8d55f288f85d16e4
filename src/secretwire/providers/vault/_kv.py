"""The KV engine's side of the vault provider: paths, how entries map to values,
versions, and the body of a write.

An entry ``{"value": "<string>"}`` reads as that string; any other entry (several
keys, another key, a non-string) reads as the compact JSON of its data, so
``${secret:db#password}`` picks one key. A write always stores ``{"value": <str>}``,
so what is written reads back byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast
from urllib.parse import quote

from ... import _time
from ...errors import InvalidSecret
from ...types import Secret, SecretVersion
from ...values import SecretValue
from ._http import PROVIDER

__all__ = [
    "encode",
    "gone",
    "path",
    "secret_of",
    "str_map",
    "value_of",
    "versions_of",
    "written",
]


def path(template: str, **parts: str) -> str:
    """``template`` (``/v1/{mount}/data/{name}``) with each part URL-quoted (``/`` kept)."""
    return template.format(**{key: quote(part) for key, part in parts.items()})


def value_of(data: object) -> str:
    """The rule for entries: ``{"value": str}`` is that string, anything else its JSON."""
    if isinstance(data, Mapping) and len(data) == 1 and isinstance(data.get("value"), str):
        return cast(str, data["value"])
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def str_map(data: object) -> Mapping[str, str]:
    if not isinstance(data, Mapping):
        return MappingProxyType({})
    return MappingProxyType({str(k): str(v) for k, v in data.items()})


def secret_of(name: str, payload: object, version: str | None) -> Secret | None:
    """The secret a KV v2 read answered (``data`` of ``GET <mount>/data/<name>``);
    ``None`` when the version is deleted or destroyed."""
    if not isinstance(payload, Mapping):
        return None
    data = payload.get("data")
    meta = payload.get("metadata") or {}
    if data is None or meta.get("destroyed"):
        return None
    return Secret(
        name=name,
        value=SecretValue(value_of(data)),
        version=str(meta.get("version", version or "")) or None,
        updated_at=_time.parse_iso(meta.get("created_time")),
        expires_at=_time.parse_iso(meta.get("deletion_time")),
        metadata=str_map(meta.get("custom_metadata")),
        provider=PROVIDER,
    )


def versions_of(name: str, meta: Mapping[str, Any]) -> list[SecretVersion]:
    """The versions ``GET <mount>/metadata/<name>`` lists, newest first."""
    current = str(meta.get("current_version", ""))
    custom = str_map(meta.get("custom_metadata"))
    entries = meta.get("versions") or {}
    ordered = sorted(entries.items(), key=lambda item: int(item[0]), reverse=True)
    return [
        SecretVersion(
            name=name,
            version=str(number),
            created_at=_time.parse_iso(info.get("created_time")),
            expires_at=_time.parse_iso(info.get("deletion_time")),
            current=str(number) == current,
            metadata=custom,
        )
        for number, info in ordered
    ]


def gone(meta: Mapping[str, Any]) -> bool:
    """Whether the current version is destroyed or (soft-)deleted."""
    current = str(meta.get("current_version", ""))
    state = (meta.get("versions") or {}).get(current) or {}
    deleted = _time.parse_iso(state.get("deletion_time"))
    return bool(state.get("destroyed")) or (deleted is not None and deleted <= _time.utcnow())


def written(name: str, data: Mapping[str, Any], custom: Mapping[str, str]) -> SecretVersion:
    """The version a KV v2 write answered (``data`` of ``POST <mount>/data/<name>``)."""
    return SecretVersion(
        name=name,
        version=str(data.get("version")),
        created_at=_time.parse_iso(data.get("created_time")),
        expires_at=_time.parse_iso(data.get("deletion_time")),
        current=True,
        metadata=MappingProxyType(custom) if custom else str_map(data.get("custom_metadata")),
    )


def encode(name: str, value: SecretValue, *, cas: int | None, v2: bool, limit: int) -> SecretValue:
    """The request body of a write: JSON, UTF-8 on the wire (not ``\\u``-escaped),
    checked against Vault's request limit (escaping can take a value that fits
    ``max_value_bytes`` over it). The value and the body stay SecretValue here."""
    options: dict[str, Any] = {} if cas is None else {"cas": cas}
    body = SecretValue(
        json.dumps(
            {"data": {"value": value.reveal()}, "options": options}
            if v2
            else {"value": value.reveal()},
            ensure_ascii=False,
            separators=(",", ":"),
        )
    )
    size = len(body.reveal().encode("utf-8"))
    if size > limit:
        raise InvalidSecret(
            operation="set",
            name=name,
            provider=PROVIDER,
            detail=f"the value is {size} bytes once JSON-encoded; Vault accepts requests of "
            f"at most {limit}",
            hint="raise max_request_bytes if the server's max_request_size is larger",
        )
    return body
