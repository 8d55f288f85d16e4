"""Secrets Manager requests and answers as secretwire's types (no calls here)."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from ... import _time
from ...errors import InvalidSecret, ProviderError
from ...types import Key, Secret, SecretVersion
from ...values import SecretValue
from ._errors import PROVIDER, from_code

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.type_defs import (
        GetSecretValueResponseTypeDef,
        SecretValueEntryTypeDef,
    )

__all__ = [
    "BinaryMode",
    "batch_results",
    "payload",
    "secret_from",
    "selector",
    "tags_for",
    "versions_from",
    "written",
]

BinaryMode = Literal["auto", "base64"]

#: AWS version ids are UUIDs (ClientRequestToken: 32-64 characters).
_VERSION_ID = re.compile(r"[A-Za-z0-9-]{32,64}")
_MAX_TAGS = 50
_METADATA_TAG_PREFIX = "secretwire:"
_CURRENT = "AWSCURRENT"


def selector(version: str | None) -> dict[str, str]:
    """``VersionId`` for a UUID-like version, else ``VersionStage`` (a staging label;
    the kit has refused whitespace and invisible characters)."""
    if version is None:
        return {}
    if _VERSION_ID.fullmatch(version):
        return {"VersionId": version}
    return {"VersionStage": version}


def secret_from(
    name: str,
    entry: GetSecretValueResponseTypeDef | SecretValueEntryTypeDef,
    binary: BinaryMode,
) -> Secret:
    """A ``GetSecretValue`` answer (or a ``BatchGetSecretValue`` entry) as a Secret:
    ``SecretBinary`` as UTF-8 text where it is (``binary="auto"``), else base64."""
    metadata = {
        "arn": str(entry.get("ARN", "")),
        "stages": ",".join(entry.get("VersionStages", [])),
    }
    if "SecretString" in entry:
        text = entry["SecretString"]
        metadata["type"] = "string"
    else:
        data = entry.get("SecretBinary", b"")
        metadata["type"] = "binary"
        text = ""
        if binary == "auto":
            try:
                text = data.decode("utf-8")
                metadata["encoding"] = "utf-8"
            except UnicodeDecodeError:
                pass
        if "encoding" not in metadata:
            text = base64.b64encode(data).decode("ascii")
            metadata["encoding"] = "base64"
    return Secret(
        name=name,
        value=SecretValue(text),
        version=entry.get("VersionId"),
        updated_at=_time.aware(entry.get("CreatedDate")),
        metadata=metadata,
        provider=PROVIDER,
    )


def batch_results(
    names: Sequence[str], pages: Sequence[Any], binary: BinaryMode
) -> dict[Key, Secret | ProviderError]:
    """What the ``BatchGetSecretValue`` answers say of each of ``names``: its secret,
    or the error AWS reported for it (a name they do not mention is an error too:
    never taken as "not found")."""
    found: dict[Key, Secret | ProviderError] = {}
    for page in pages:
        for entry in page.get("SecretValues", []):
            if entry.get("Name") in names:
                found[(entry["Name"], None)] = secret_from(entry["Name"], entry, binary)
        for error in page.get("Errors", []):
            secret_id = error.get("SecretId", "")
            if secret_id in names:
                context = {"api": "BatchGetSecretValue", "operation": "get", "name": secret_id}
                code, message = error.get("ErrorCode", ""), error.get("Message", "")
                found[(secret_id, None)] = from_code(code, 0, message, context)
    for name in names:
        if (name, None) not in found:
            found[(name, None)] = ProviderError(
                operation="get",
                name=name,
                provider=PROVIDER,
                detail="BatchGetSecretValue returned nothing for it",
            )
    return found


def versions_from(name: str, entries: Sequence[Any]) -> list[SecretVersion]:
    """``ListSecretVersionIds`` entries, newest first by creation date (then
    ``AWSCURRENT``, ``AWSPREVIOUS``, then AWS's order); ``current`` marks the
    ``AWSCURRENT`` version, ``metadata["stages"]`` lists the staging labels."""
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    rank = {_CURRENT: 2, "AWSPREVIOUS": 1}

    def order(item: tuple[int, Any]) -> tuple[datetime, int, int]:
        index, entry = item
        stages = entry.get("VersionStages", [])
        return (
            _time.aware(entry.get("CreatedDate")) or epoch,
            max((rank.get(s, 0) for s in stages), default=0),
            index,
        )

    ordered = [entry for _, entry in sorted(enumerate(entries), key=order, reverse=True)]
    return [
        SecretVersion(
            name=name,
            version=entry["VersionId"],
            created_at=_time.aware(entry.get("CreatedDate")),
            current=_CURRENT in entry.get("VersionStages", []),
            metadata={"stages": ",".join(entry.get("VersionStages", []))},
            staged="AWSPENDING" in entry.get("VersionStages", []),
        )
        for entry in ordered
    ]


def written(
    name: str, response: Any, metadata: Mapping[str, str], tags: Mapping[str, str]
) -> SecretVersion:
    """The version a ``PutSecretValue`` / ``CreateSecret`` answer names."""
    stages = response.get("VersionStages") or [_CURRENT]
    return SecretVersion(
        name=name,
        version=response["VersionId"],
        created_at=_time.utcnow(),
        current=_CURRENT in stages,
        metadata=metadata,
        tags=tags,
    )


def payload(value: SecretValue, *, binary: bool) -> dict[str, Any]:
    """The ``SecretString`` / ``SecretBinary`` argument, built in the botocore call
    (``value`` holds base64 text for a binary one)."""
    if binary:
        return {"SecretBinary": base64.b64decode(value.reveal())}
    return {"SecretString": value.reveal()}


def tags_for(
    name: str, tags: Mapping[str, str], metadata: Mapping[str, str]
) -> list[dict[str, str]]:
    """The AWS tags for ``tags`` and ``metadata`` (``secretwire:<key>``, except
    ``description``), checked against AWS's rules before any call."""
    merged = dict(tags)
    for key, value in metadata.items():
        if key != "description":
            merged[_METADATA_TAG_PREFIX + key] = value
    problem = None
    for key, value in merged.items():
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
            problem = (
                f"tag key {key[:40]!r} is not accepted by AWS (1-128 characters, value at "
                "most 256, no 'aws:' prefix)"
            )
            break
    if len(merged) > _MAX_TAGS:
        problem = f"{len(merged)} tags (metadata included); AWS allows {_MAX_TAGS}"
    if problem is not None:
        raise InvalidSecret(operation="set", name=name, provider=PROVIDER, detail=problem)
    return [{"Key": k, "Value": v} for k, v in sorted(merged.items())]
