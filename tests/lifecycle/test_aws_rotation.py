"""AWS rotation moves the staging labels the way AWS's own rotation functions do
(AWSPENDING, then AWSCURRENT), and what moto 5.2.5 gets wrong about it, pinned."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from secretwire import RotationFailed, SecretManager
from secretwire.lifecycle import HookCall
from secretwire.providers.aws import AwsSecretsManagerProvider
from tests.lifecycle.backends import Backend, aws_backend


@pytest.fixture
def aws(moto_server: str) -> Iterator[Backend]:
    yield from aws_backend(moto_server)


def _stages(provider: AwsSecretsManagerProvider, name: str) -> dict[str, list[str]]:
    described = provider.client.describe_secret(SecretId=name)
    return {k: sorted(v) for k, v in described["VersionIdsToStages"].items()}


def test_a_rotation_stages_then_moves_awscurrent(aws: Backend, ns: str) -> None:
    provider = aws.provider
    assert isinstance(provider, AwsSecretsManagerProvider)
    name = f"{ns}/db"
    first = provider.set(name, "old-password").version
    seen: dict[str, dict[str, list[str]]] = {}

    def apply(call: HookCall) -> None:  # AWSCURRENT has not moved while apply runs
        seen["apply"] = _stages(provider, name)

    result = SecretManager(provider).rotate(name, apply=apply)
    assert seen["apply"] == {first: ["AWSCURRENT"], result.rotation: ["AWSPENDING"]}
    assert result.version == result.rotation  # the ClientRequestToken is the version id
    assert _stages(provider, name) == {first: ["AWSPREVIOUS"], result.rotation: ["AWSCURRENT"]}


def test_a_failed_rotation_leaves_awscurrent_where_it_was(aws: Backend, ns: str) -> None:
    provider = aws.provider
    assert isinstance(provider, AwsSecretsManagerProvider)
    name = f"{ns}/db"
    first = provider.set(name, "old-password").version
    with pytest.raises(RotationFailed) as info:
        SecretManager(provider).rotate(name, verify=lambda call: False)
    assert info.value.outcome == "reverted"
    stages = _stages(provider, name)
    assert stages[first] == ["AWSCURRENT"]
    assert ["AWSPENDING"] not in stages.values()  # the staged version lost its label
    assert provider.get(name).reveal() == "old-password"


def test_moto_bug_get_after_a_stage_move_serves_the_old_value(aws: Backend, ns: str) -> None:
    """moto 5.2.5: after UpdateSecretVersionStage moves AWSCURRENT, GetSecretValue
    without VersionId or VersionStage still answers the old version (real AWS: the
    default is AWSCURRENT, so the new one), while VersionStage=AWSCURRENT and
    DescribeSecret are right. So the rotation tests read by AWSCURRENT
    (``read_current``). When this fails, moto is fixed: drop the pin and those reads."""
    provider = aws.provider
    name = f"{ns}/db"
    provider.set(name, "old-password")
    token = "rot-00000000-0000-4000-8000-0000000000aa"
    provider.stage(name, "new-password", token=token)
    provider.promote(name, token)
    assert provider.get(name, version="AWSCURRENT").reveal() == "new-password"
    assert [v.version for v in provider.versions(name) if v.current] == [token]
    assert provider.get(name).reveal() == "old-password"  # moto's bug; AWS: new-password
