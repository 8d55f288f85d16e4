"""Credentials and permissions: the aws provider against moto enforcing IAM.

Principals (see tests/servers/moto.py): ``admin`` may do everything, ``no_read``
may list and describe but not read values, ``get_only`` may call GetSecretValue
only, ``nobody`` may do nothing; the ``reader`` role may read and list.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secretwire import (
    AccessDenied,
    ConfigError,
    HealthStatus,
    SecretManager,
    SecretNotFound,
    Unauthenticated,
)
from secretwire.providers.aws import AwsSecretsManagerProvider
from secretwire.testing import CANARY
from tests.servers.moto import REGION, Keys, MotoIam


def _provider(iam: MotoIam, **options: Any) -> AwsSecretsManagerProvider:
    return AwsSecretsManagerProvider(endpoint_url=iam.url, region=REGION, **options)


@pytest.fixture
def admin(moto_iam_server: MotoIam) -> Iterator[AwsSecretsManagerProvider]:
    provider = _provider(moto_iam_server, session=moto_iam_server.admin.session())
    yield provider
    provider.close()


def _count(provider: AwsSecretsManagerProvider, operation: str) -> list[str]:
    seen: list[str] = []
    provider.client.meta.events.register(
        f"before-call.secrets-manager.{operation}", lambda **_: seen.append(operation)
    )
    return seen


# -- denied is never "not found" -------------------------------------------------------------


def test_reader_without_get_permission_is_denied_for_every_operation(
    moto_iam_server: MotoIam, admin: AwsSecretsManagerProvider, ns: str
) -> None:
    admin.set(f"{ns}/guarded", CANARY)
    denied = _provider(moto_iam_server, session=moto_iam_server.no_read.session())
    for attempt in (
        lambda: denied.get(f"{ns}/guarded"),
        lambda: denied.get(f"{ns}/guarded-missing"),
        lambda: denied.set(f"{ns}/guarded", "x"),
        lambda: denied.delete(f"{ns}/guarded"),
        lambda: denied.versions(f"{ns}/guarded"),
        lambda: denied.restore(f"{ns}/guarded"),
    ):
        with pytest.raises(AccessDenied) as info:
            attempt()
        assert not isinstance(info.value, SecretNotFound)
        assert "not allowed" in str(info.value)
        assert CANARY not in str(info.value)
        assert info.value.__context__ is None
    # ListSecrets is allowed to this principal
    assert f"{ns}/guarded" in list(denied.list(ns))
    results = SecretManager(denied).get_many([(f"{ns}/guarded", None)])
    assert isinstance(results[(f"{ns}/guarded", None)], AccessDenied)


def test_unknown_keys_are_rejected_credentials(moto_iam_server: MotoIam, ns: str) -> None:
    bogus = Keys("AKIAUNKNOWNKEY000000", "not-a-real-secret-key")
    provider = _provider(moto_iam_server, session=bogus.session())
    with pytest.raises(Unauthenticated) as info:
        provider.get(f"{ns}/x")
    assert "credentials rejected" in str(info.value)
    assert "not-a-real-secret-key" not in str(info.value)
    assert provider.health().status is HealthStatus.UNAUTHENTICATED


def test_health_statuses(moto_iam_server: MotoIam, admin: AwsSecretsManagerProvider) -> None:
    assert admin.health().ok
    nobody = _provider(moto_iam_server, session=moto_iam_server.nobody.session())
    health = nobody.health()
    assert health.status is HealthStatus.DEGRADED
    assert "ListSecrets" in health.detail


# -- batch reads without BatchGetSecretValue --------------------------------------------------


def test_denied_batch_call_falls_back_to_single_reads(
    moto_iam_server: MotoIam, admin: AwsSecretsManagerProvider, ns: str
) -> None:
    names = [f"{ns}/fb{i}" for i in range(3)]
    for name in names:
        admin.set(name, f"v-{name}")
    reader = _provider(moto_iam_server, session=moto_iam_server.get_only.session())
    batches = _count(reader, "BatchGetSecretValue")
    singles = _count(reader, "GetSecretValue")
    keys: list[tuple[str, str | None]] = [(n, None) for n in names]
    manager = SecretManager(reader, cache=False)
    results = manager.get_many(keys)  # the pipeline reads what the batch did not serve
    assert {k: r.reveal() for k, r in results.items() if not isinstance(r, Exception)} == {
        (n, None): f"v-{n}" for n in names
    }
    assert (len(batches), len(singles)) == (1, 3)
    manager.get_many(keys)
    assert (len(batches), len(singles)) == (1, 6)  # the batch call is not tried again


# -- an assumed role ---------------------------------------------------------------------------


def test_assumed_role_reads_but_cannot_write(
    moto_iam_server: MotoIam, admin: AwsSecretsManagerProvider, ns: str
) -> None:
    admin.set(f"{ns}/r", "read me")
    session = moto_iam_server.admin.session()
    assumed: list[str] = []
    session.events.register("before-call.sts.AssumeRole", lambda **_: assumed.append("x"))
    provider = _provider(
        moto_iam_server,
        session=session,
        role_arn=moto_iam_server.reader_role_arn,
        sts_endpoint_url=moto_iam_server.url,
    )
    assert provider.get(f"{ns}/r").reveal() == "read me"
    assert provider.get(f"{ns}/r").reveal() == "read me"
    assert f"{ns}/r" in list(provider.list(ns))
    with pytest.raises(AccessDenied):
        provider.set(f"{ns}/r", "no")
    assert len(assumed) == 1  # credentials are cached until they near expiry
    creds = provider.client._request_signer._credentials
    assert creds.access_key.startswith("ASIA")  # temporary, from STS


def test_assumed_role_credentials_are_refreshed_near_expiry(
    moto_iam_server: MotoIam, admin: AwsSecretsManagerProvider, ns: str
) -> None:
    admin.set(f"{ns}/r", "read me")
    session = moto_iam_server.admin.session()
    assumed: list[str] = []
    session.events.register("before-call.sts.AssumeRole", lambda **_: assumed.append("x"))
    # 900 s is inside botocore's 15-minute advisory refresh window from the start,
    # so every call refreshes: the credentials are refreshable, not fixed.
    provider = _provider(
        moto_iam_server,
        session=session,
        role_arn=moto_iam_server.reader_role_arn,
        sts_endpoint_url=moto_iam_server.url,
        role_duration_seconds=900,
    )
    for _ in range(3):
        assert provider.get(f"{ns}/r").reveal() == "read me"
    assert len(assumed) >= 3


def test_close_also_closes_the_sts_client_of_role_arn(
    moto_iam_server: MotoIam, admin: AwsSecretsManagerProvider, ns: str
) -> None:
    """With role_arn the provider makes a second client (STS), with its own pool of
    connections: close() must close it too, or every close/reopen leaks a pool."""
    import gc

    admin.set(f"{ns}/r", "read me")
    # A spelling of the STS endpoint that no other client in the session uses.
    sts_url = moto_iam_server.url.replace("127.0.0.1", "localhost")
    provider = _provider(
        moto_iam_server,
        session=moto_iam_server.admin.session(),
        role_arn=moto_iam_server.reader_role_arn,
        sts_endpoint_url=sts_url,
    )
    assert provider.get(f"{ns}/r").reveal() == "read me"

    def sts_pools() -> list[int]:
        return [
            len(obj._endpoint.http_session._manager.pools)
            for obj in gc.get_objects()
            if type(obj).__name__ == "STS" and getattr(obj.meta, "endpoint_url", "") == sts_url
        ]

    assert sts_pools() == [1]  # the AssumeRole call left a pooled connection
    provider.close()
    assert sts_pools() in ([], [0])


def test_principal_that_may_not_assume_the_role_is_denied(
    moto_iam_server: MotoIam, ns: str
) -> None:
    provider = _provider(
        moto_iam_server,
        session=moto_iam_server.nobody.session(),
        role_arn=moto_iam_server.reader_role_arn,
        sts_endpoint_url=moto_iam_server.url,
    )
    with pytest.raises(AccessDenied) as info:
        provider.get(f"{ns}/r")
    assert not isinstance(info.value, SecretNotFound)
    assert "AssumeRole" in str(info.value)
    assert info.value.__context__ is None
    # Without the role's credentials no call can succeed: unauthenticated, not a
    # missing permission on the call made (so batching stays on, health says so).
    assert isinstance(info.value, Unauthenticated)
    assert provider.health().status is HealthStatus.UNAUTHENTICATED
    batches = _count(provider, "BatchGetSecretValue")
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            provider.get_many([(f"{ns}/r", None), (f"{ns}/s", None)])
    assert len(batches) == 2


# -- a profile, shared files, key variables -----------------------------------------------------


def _write_aws_files(tmp_path: Path, iam: MotoIam) -> tuple[Path, Path]:
    config = tmp_path / "aws-config"
    credentials = tmp_path / "aws-credentials"
    config.write_text(
        f"[profile swt-admin]\nregion = {REGION}\n[profile swt-noread]\nregion = {REGION}\n",
        encoding="utf-8",
    )
    credentials.write_text(
        "[swt-admin]\n"
        f"aws_access_key_id = {iam.admin.access_key_id}\n"
        f"aws_secret_access_key = {iam.admin.secret_access_key}\n"
        "[swt-noread]\n"
        f"aws_access_key_id = {iam.no_read.access_key_id}\n"
        f"aws_secret_access_key = {iam.no_read.secret_access_key}\n",
        encoding="utf-8",
    )
    return config, credentials


def test_profile_from_aws_config_files(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    moto_iam_server: MotoIam,
    admin: AwsSecretsManagerProvider,
    ns: str,
) -> None:
    admin.set(f"{ns}/p", "via profile")
    config, credentials = _write_aws_files(tmp_path, moto_iam_server)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    # region from the profile
    provider = AwsSecretsManagerProvider(profile="swt-admin", endpoint_url=moto_iam_server.url)
    assert provider.get(f"{ns}/p").reveal() == "via profile"
    assert moto_iam_server.admin.secret_access_key not in repr(provider)
    restricted = AwsSecretsManagerProvider(profile="swt-noread", endpoint_url=moto_iam_server.url)
    with pytest.raises(AccessDenied):
        restricted.get(f"{ns}/p")
    missing = AwsSecretsManagerProvider(profile="swt-nope", endpoint_url=moto_iam_server.url)
    with pytest.raises(ConfigError) as info:
        missing.get(f"{ns}/p")
    assert info.value.key == "profile"


def test_shared_files_from_options_without_environment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    moto_iam_server: MotoIam,
    admin: AwsSecretsManagerProvider,
    ns: str,
) -> None:
    admin.set(f"{ns}/f", "via files")
    _write_aws_files(tmp_path, moto_iam_server)
    for variable in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    provider = AwsSecretsManagerProvider.from_options(
        {
            "profile": "swt-admin",
            "config_file": "aws-config",
            "shared_credentials_file": "aws-credentials",
            "endpoint_url": moto_iam_server.url,
        },
        base_dir=tmp_path,
    )
    assert provider.get(f"{ns}/f").reveal() == "via files"


def test_static_keys_from_named_variables(
    monkeypatch: pytest.MonkeyPatch,
    moto_iam_server: MotoIam,
    admin: AwsSecretsManagerProvider,
    ns: str,
) -> None:
    admin.set(f"{ns}/k", "via keys")
    monkeypatch.setenv("SWT_AWS_KEY", moto_iam_server.admin.access_key_id)
    monkeypatch.setenv("SWT_AWS_SECRET", moto_iam_server.admin.secret_access_key)
    provider = _provider(
        moto_iam_server, access_key_id_env="SWT_AWS_KEY", secret_access_key_env="SWT_AWS_SECRET"
    )
    assert provider.get(f"{ns}/k").reveal() == "via keys"
    assert moto_iam_server.admin.secret_access_key not in repr(provider)
    assert moto_iam_server.admin.access_key_id not in repr(provider)
