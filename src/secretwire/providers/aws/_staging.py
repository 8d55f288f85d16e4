"""Staged versions: how rotation stores a new value as ``AWSPENDING`` and moves
``AWSCURRENT`` to it, the way AWS's own rotation functions do (docs/rotation.md).

Each function takes the provider's client and its one call wrapper (botocore's logs
quiet, errors translated, no SDK exception on the chain).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ...errors import SecretNotFound
from ...types import SecretVersion, Write
from ._errors import PROVIDER
from ._records import payload, written

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

__all__ = ["promote", "stage", "unstage"]

CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"
#: The provider's ``_call(api, fn, **fields)``.
Call = Callable[..., Any]


def stage(client: SecretsManagerClient, call: Call, write: Write, token: str) -> SecretVersion:
    """``PutSecretValue`` with ``ClientRequestToken=token`` (the version id) and
    ``VersionStages=["AWSPENDING"]``: ``AWSCURRENT`` stays where it is. AWS stores
    nothing new for a repeated token with the same value."""
    name, secret = write.name, write.value

    def put() -> Any:  # the value is revealed in the botocore call's arguments only
        return client.put_secret_value(
            SecretId=name,
            ClientRequestToken=token,
            VersionStages=[PENDING],
            **payload(secret, binary=False),
        )

    response = call("PutSecretValue", put, operation="stage", name=name)
    return replace(written(name, response, {}, {}), staged=True)


def _stages(
    client: SecretsManagerClient, call: Call, name: str, operation: str
) -> dict[str, list[str]]:
    """``DescribeSecret``: version id -> its staging labels."""
    described = call(
        "DescribeSecret",
        lambda: client.describe_secret(SecretId=name),
        operation=operation,
        name=name,
    )
    return {key: list(value) for key, value in described.get("VersionIdsToStages", {}).items()}


def _move(
    client: SecretsManagerClient, call: Call, name: str, stage: str, operation: str, **ids: str
) -> None:
    """``UpdateSecretVersionStage`` of ``stage`` (``MoveToVersionId`` / ``RemoveFromVersionId``)."""
    call(
        "UpdateSecretVersionStage",
        lambda: client.update_secret_version_stage(SecretId=name, VersionStage=stage, **ids),
        operation=operation,
        name=name,
    )


def promote(client: SecretsManagerClient, call: Call, name: str, version: str) -> SecretVersion:
    """``DescribeSecret``, then ``UpdateSecretVersionStage``: ``AWSCURRENT`` moves to
    ``version`` (AWS labels the former one ``AWSPREVIOUS``), then ``AWSPENDING`` is
    removed from it. A step already done is skipped, so a rerun finishes a promotion
    that was interrupted between the two calls."""
    stages = _stages(client, call, name, "promote")
    if version not in stages:
        raise SecretNotFound(operation="promote", name=name, version=version, provider=PROVIDER)
    if CURRENT not in stages[version]:
        ids = {"MoveToVersionId": version}
        current = [key for key, labels in stages.items() if CURRENT in labels]
        if current:
            ids["RemoveFromVersionId"] = current[0]
        _move(client, call, name, CURRENT, "promote", **ids)
    if PENDING in stages[version]:
        _move(client, call, name, PENDING, "promote", RemoveFromVersionId=version)
    return SecretVersion(name=name, version=version, current=True)


def unstage(client: SecretsManagerClient, call: Call, name: str, version: str) -> None:
    """``DescribeSecret``, then ``UpdateSecretVersionStage`` removing ``AWSPENDING``
    from ``version`` if it holds it (AWS deprecates a version left without labels)."""
    if PENDING in _stages(client, call, name, "unstage").get(version, []):
        _move(client, call, name, PENDING, "unstage", RemoveFromVersionId=version)
