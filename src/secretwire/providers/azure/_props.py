"""Key Vault attributes and tags as secretwire metadata, tags and versions.

``tags`` are Key Vault tags; ``metadata["content_type"]`` is the content type,
``metadata["not_before"]`` the not-before time, and other metadata is stored as
tags named ``secretwire:<key>``. secretwire records its write time in ns in one
more tag, to order versions written within Key Vault's one-second resolution.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ... import _time
from ...errors import InvalidSecret
from ..base import SecretVersion, check_expiry

if TYPE_CHECKING:
    from azure.keyvault.secrets import SecretProperties

__all__ = [
    "MAX_TAGS",
    "META_TAG_PREFIX",
    "WRITTEN_TAG",
    "annotated_tags",
    "kv_attributes",
    "newest_first",
    "split_tags",
    "version_of",
]

#: Key Vault's limit on the number of tags of a secret version.
MAX_TAGS = 15
_MAX_TAG_NAME = 512
_MAX_TAG_VALUE = 256
#: Tags whose name starts with this carry secretwire ``metadata``; other tags are ``tags``.
META_TAG_PREFIX = "secretwire:"
#: The tag recording when secretwire wrote a version, in ns since the epoch. Key Vault
#: timestamps have a one-second resolution; this orders versions written in one second.
WRITTEN_TAG = "secretwire-written-ns"
#: Metadata keys mapped to Key Vault attributes instead of tags.
_CONTENT_TYPE = "content_type"
_NOT_BEFORE = "not_before"
_ENABLED = "enabled"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def split_tags(props: SecretProperties) -> tuple[dict[str, str], dict[str, str]]:
    """(metadata, tags) of a version: prefixed tags and attributes vs. plain tags."""
    metadata: dict[str, str] = {}
    tags: dict[str, str] = {}
    for key, value in (props.tags or {}).items():
        if key == WRITTEN_TAG:
            continue
        if key.startswith(META_TAG_PREFIX):
            metadata[key[len(META_TAG_PREFIX) :]] = value
        else:
            tags[key] = value
    if props.content_type:
        metadata[_CONTENT_TYPE] = props.content_type
    not_before = _time.aware(props.not_before)
    if not_before is not None:
        metadata[_NOT_BEFORE] = _time.isoformat(not_before)
    return metadata, tags


def version_of(name: str, props: SecretProperties, *, current: bool) -> SecretVersion:
    """The :class:`SecretVersion` of secretwire name ``name`` that ``props`` describe."""
    metadata, tags = split_tags(props)
    metadata[_ENABLED] = "false" if props.enabled is False else "true"
    return SecretVersion(
        name=name,
        version=props.version or "",
        created_at=_time.aware(props.created_on),
        expires_at=_time.aware(props.expires_on),
        current=current,
        metadata=metadata,
        tags=tags,
    )


def _written_ns(props: SecretProperties) -> int:
    text = (props.tags or {}).get(WRITTEN_TAG, "")
    return int(text) if text.isdigit() else 0


def newest_first(items: Iterable[SecretProperties]) -> list[SecretProperties]:
    """Versions newest first by creation time; ties (within Key Vault's one-second
    resolution) by the time secretwire recorded at write, then by version id."""

    def key(props: SecretProperties) -> tuple[datetime, int, str]:
        return (_time.aware(props.created_on) or _EPOCH, _written_ns(props), props.version or "")

    return sorted(items, key=key, reverse=True)


def _not_before(text: str, fields: dict[str, str]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidSecret(
            detail="metadata 'not_before' must be an ISO 8601 date-time", **fields
        ) from None
    return check_expiry(moment, what="metadata 'not_before'", **fields)


def kv_attributes(
    metadata: Mapping[str, str], tags: Mapping[str, str], *, name: str, provider: str
) -> tuple[dict[str, str], str | None, datetime | None]:
    """Key Vault tags, content type and not-before for a write, checked against Key
    Vault's limits (:class:`InvalidSecret` before any call)."""
    fields = {"operation": "set", "name": name, "provider": provider}
    metadata = dict(metadata)
    result: dict[str, str] = {}
    for key, value in tags.items():
        if key.startswith(META_TAG_PREFIX) or key == WRITTEN_TAG:
            raise InvalidSecret(detail=f"tag {key!r} is reserved for secretwire metadata", **fields)
        result[key] = value
    content_type = metadata.pop(_CONTENT_TYPE, None)
    text = metadata.pop(_NOT_BEFORE, None)
    not_before = None if text is None else _not_before(text, fields)
    if _ENABLED in metadata:
        raise InvalidSecret(detail="metadata 'enabled' is read-only (set by Key Vault)", **fields)
    result.update((META_TAG_PREFIX + key, value) for key, value in metadata.items())
    result[WRITTEN_TAG] = str(time.time_ns())
    return _within_limits(result, fields), content_type, not_before


def annotated_tags(
    existing: Mapping[str, str] | None, metadata: Mapping[str, str], *, name: str, provider: str
) -> dict[str, str]:
    """A version's tags with ``metadata`` merged in as ``secretwire:<key>`` tags (the
    attribute-backed keys cannot be changed this way: :class:`InvalidSecret`)."""
    fields = {"operation": "annotate", "name": name, "provider": provider}
    reserved = sorted(set(metadata) & {_CONTENT_TYPE, _NOT_BEFORE, _ENABLED})
    if reserved:
        raise InvalidSecret(detail=f"metadata {reserved[0]!r} is a Key Vault attribute", **fields)
    result = dict(existing or {})
    result.update((META_TAG_PREFIX + key, value) for key, value in metadata.items())
    return _within_limits(result, fields)


def _within_limits(result: dict[str, str], fields: dict[str, str]) -> dict[str, str]:
    """``result`` if Key Vault accepts it as one version's tags, else :class:`InvalidSecret`."""
    if len(result) > MAX_TAGS:
        raise InvalidSecret(
            detail=f"Key Vault allows {MAX_TAGS} tags per version, and tags plus metadata "
            f"need {len(result)} (secretwire uses one)",
            **fields,
        )
    for key, value in result.items():
        if len(key) > _MAX_TAG_NAME or len(value) > _MAX_TAG_VALUE:
            raise InvalidSecret(
                detail=f"tag {key!r} is too long (Key Vault allows names of {_MAX_TAG_NAME} "
                f"and values of {_MAX_TAG_VALUE} characters)",
                **fields,
            )
    return result
