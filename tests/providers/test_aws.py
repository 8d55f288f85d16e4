"""The aws provider against real moto servers on loopback (see tests/servers/moto.py).

The conformance suite runs against the IAM-enforcing moto server, signed with an
admin user's keys; the restricted case uses a user without GetSecretValue on the
same server. The other tests here use the unauthenticated server.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest

from secretwire import (
    AccessDenied,
    ConfigError,
    Conflict,
    InvalidSecret,
    ProviderError,
    ProviderUnavailable,
    ResolutionError,
    Secret,
    SecretManager,
    SecretNotFound,
    SecretProvider,
    UnsupportedOperation,
)
from secretwire.providers import get_provider_class
from secretwire.providers.aws import AwsSecretsManagerProvider
from secretwire.testing import (
    CANARY,
    ProviderContract,
    assert_no_leak,
    check_option_tables,
    check_options,
)
from secretwire.values import SecretValue
from tests.servers.moto import REGION, MotoIam, fake_session


def _provider(url: str, **options: Any) -> AwsSecretsManagerProvider:
    options.setdefault("session", fake_session())
    return AwsSecretsManagerProvider(endpoint_url=url, region=REGION, **options)


@pytest.fixture
def aws(moto_server: str) -> Iterator[AwsSecretsManagerProvider]:
    provider = _provider(moto_server)
    yield provider
    provider.close()


@pytest.fixture
def raw(moto_server: str) -> Any:
    """A plain boto3 client on the same server, to check what secretwire wrote."""
    return fake_session().client("secretsmanager", endpoint_url=moto_server)


def _count(provider: AwsSecretsManagerProvider, operation: str) -> list[str]:
    """Count real calls of ``operation`` with botocore's event hooks on the client."""
    seen: list[str] = []
    provider.client.meta.events.register(
        f"before-call.secrets-manager.{operation}", lambda **_: seen.append(operation)
    )
    return seen


# -- the shipped conformance suite ------------------------------------------------------


class TestAwsProvider(ProviderContract):
    unsupported: ClassVar[dict[str, str]] = {
        "test_unicode_name_and_value": (
            "AWS secret names allow only A-Za-z0-9/_+=.@- (refused with InvalidSecret "
            "before the call; see test_unicode_name_is_refused_before_the_call)"
        ),
        "test_versions_of_missing_secret_raise_not_found": (
            "moto 5.2.5 answers ListSecretVersionIds on a missing secret with HTTP 500 "
            "(KeyError); pinned in test_moto_bug_versions_of_missing_secret, and the "
            "ResourceNotFoundException mapping is proven in test_aws_faults.py"
        ),
    }

    def read_current(self, provider: SecretProvider, name: str) -> Secret:
        """By the AWSCURRENT label: after UpdateSecretVersionStage, moto 5.2.5 still
        answers a GetSecretValue without a stage or id with the old value (real AWS:
        the default is AWSCURRENT). Pinned in tests/lifecycle/test_aws_rotation.py::
        test_moto_bug_get_after_a_stage_move_serves_the_old_value."""
        return provider.get(name, version="AWSCURRENT")

    @pytest.fixture
    def credentials(self, moto_iam_server: MotoIam) -> Sequence[str]:
        return (
            moto_iam_server.admin.secret_access_key,
            moto_iam_server.no_read.secret_access_key,
        )

    @pytest.fixture
    def provider(self, moto_iam_server: MotoIam) -> Iterator[SecretProvider]:
        provider = AwsSecretsManagerProvider(
            endpoint_url=moto_iam_server.url,
            region=REGION,
            session=moto_iam_server.admin.session(),
        )
        yield provider
        provider.close()

    @pytest.fixture
    def restricted_provider(self, moto_iam_server: MotoIam) -> Iterator[SecretProvider]:
        provider = AwsSecretsManagerProvider(
            endpoint_url=moto_iam_server.url,
            region=REGION,
            session=moto_iam_server.no_read.session(),
        )
        yield provider
        provider.close()


# -- names, registry, options ------------------------------------------------------------


def test_registered_as_aws() -> None:
    assert get_provider_class("aws") is AwsSecretsManagerProvider


def test_unicode_name_is_refused_before_the_call(aws: AwsSecretsManagerProvider, ns: str) -> None:
    calls = _count(aws, "PutSecretValue")
    for name in (f"{ns}/clé", f"{ns}/with space", "", "x" * 513, f"{ns}/a:b"):
        with pytest.raises(InvalidSecret):
            aws.set(name, "v")
    assert calls == []


def test_full_arn_is_accepted_for_reads(aws: AwsSecretsManagerProvider, raw: Any, ns: str) -> None:
    arn = raw.create_secret(Name=f"{ns}/by-arn", SecretString="via arn")["ARN"]
    assert aws.get(arn).reveal() == "via arn"


def test_from_options_checks_names_and_types(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        AwsSecretsManagerProvider.from_options({"regoin": "x"}, base_dir=tmp_path)
    assert info.value.key == "regoin"
    assert "known:" in str(info.value)
    with pytest.raises(ConfigError) as info:
        AwsSecretsManagerProvider.from_options({"max_attempts": "3"}, base_dir=tmp_path)
    assert info.value.key == "max_attempts"
    with pytest.raises(ConfigError) as info:
        AwsSecretsManagerProvider.from_options({"batch": 1}, base_dir=tmp_path)
    assert info.value.key == "batch"
    with pytest.raises(ConfigError) as info:
        AwsSecretsManagerProvider.from_options({"recovery_window_days": 3}, base_dir=tmp_path)
    assert info.value.key == "recovery_window_days"
    with pytest.raises(ConfigError):
        AwsSecretsManagerProvider.from_options({"access_key_id_env": "A"}, base_dir=tmp_path)
    provider = AwsSecretsManagerProvider.from_options(
        {"region": "eu-west-1", "shared_credentials_file": "creds", "connect_timeout": 2},
        base_dir=tmp_path,
    )
    assert provider.connection.credentials_file == str(tmp_path / "creds")
    assert provider.connection.connect_timeout == 2.0


def test_the_declared_options_match_the_constructor_and_the_docs() -> None:
    check_options(AwsSecretsManagerProvider)
    check_option_tables([Path(__file__).parents[2] / "docs" / "providers" / "aws.md"])


# -- option values: URLs, variable names, values from a secret ------------------------------


@pytest.mark.parametrize("option", ["endpoint_url", "sts_endpoint_url"])
@pytest.mark.parametrize(
    "url",
    [
        f"https://secretsmanager.example/?X-Amz-Security-Token={CANARY}",
        f"https://secretsmanager.example/#{CANARY}",
        f"https://{CANARY}:pw@secretsmanager.example",
        f"secretsmanager.example/{CANARY}",
    ],
)
def test_an_endpoint_that_may_carry_a_credential_is_refused_unechoed(
    option: str, url: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as info:
        AwsSecretsManagerProvider(**{option: url})  # type: ignore[arg-type]
    assert info.value.key == option
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigError) as from_settings:
        AwsSecretsManagerProvider.from_options({option: url}, base_dir=tmp_path)
    assert CANARY not in str(from_settings.value)


@pytest.mark.parametrize(
    "option", ["access_key_id_env", "secret_access_key_env", "session_token_env"]
)
def test_a_key_given_instead_of_a_variable_name_is_not_echoed(option: str) -> None:
    options = {"access_key_id_env": "SWT_KEY_ID", "secret_access_key_env": "SWT_SECRET_KEY"}
    options[option] = f"wJalrXUtnFEMI/{CANARY}"
    with pytest.raises(ConfigError, match="must name an environment variable") as info:
        AwsSecretsManagerProvider(**options)  # type: ignore[arg-type]
    assert info.value.key == option
    assert CANARY not in str(info.value)


def test_options_from_a_secret_are_used_but_never_shown(
    moto_server: str, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = AwsSecretsManagerProvider(
        endpoint_url=SecretValue(moto_server),
        region=SecretValue("eu-north-1"),
        role_arn=None,
        session=fake_session(),
    )
    provider.set(f"{ns}/x", "works")
    assert provider.get(f"{ns}/x").reveal() == "works"
    assert moto_server not in repr(provider) and "eu-north-1" not in repr(provider)
    provider.close()
    monkeypatch.delenv("SWT_HIDDEN_KEY_VARIABLE", raising=False)
    unset = AwsSecretsManagerProvider(
        endpoint_url=moto_server,
        region=REGION,
        access_key_id_env=SecretValue("SWT_HIDDEN_KEY_VARIABLE"),
        secret_access_key_env="SWT_OTHER_VARIABLE",
    )
    with pytest.raises(ConfigError, match="<from a secret> is not set") as info:
        unset.get(f"{ns}/x")
    assert "SWT_HIDDEN_KEY_VARIABLE" not in str(info.value)
    health = unset.health()
    assert not health.ok and "SWT_HIDDEN_KEY_VARIABLE" not in health.detail


def test_a_refused_binary_write_holds_no_data_in_any_frame(
    moto_iam_server: MotoIam, ns: str
) -> None:
    restricted = AwsSecretsManagerProvider(
        endpoint_url=moto_iam_server.url, region=REGION, session=moto_iam_server.no_read.session()
    )
    marker = f"binary-canary-{uuid.uuid4().hex}"  # ASCII: a bytes repr shows it as is
    data = marker.encode()
    with pytest.raises(AccessDenied) as info:
        restricted.set_binary(f"{ns}/bin", data)
    assert_no_leak(
        info.value,
        marker,
        base64.b64encode(data).decode(),
        moto_iam_server.no_read.secret_access_key,
    )
    restricted.close()


# -- values: string, binary, JSON fields ---------------------------------------------------


def test_binary_secret_that_is_not_utf8_reads_as_base64(
    aws: AwsSecretsManagerProvider, raw: Any, ns: str
) -> None:
    data = bytes(range(256))
    raw.create_secret(Name=f"{ns}/bin", SecretBinary=data)
    secret = aws.get(f"{ns}/bin")
    assert base64.b64decode(secret.reveal()) == data
    assert secret.metadata["type"] == "binary"
    assert secret.metadata["encoding"] == "base64"


def test_binary_secret_that_is_utf8_reads_as_text_in_auto_mode(
    aws: AwsSecretsManagerProvider, moto_server: str, raw: Any, ns: str
) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    raw.create_secret(Name=f"{ns}/pem", SecretBinary=pem.encode())
    secret = aws.get(f"{ns}/pem")
    assert secret.reveal() == pem
    assert secret.metadata == {**secret.metadata, "type": "binary", "encoding": "utf-8"}
    always = _provider(moto_server, binary="base64")
    assert always.get(f"{ns}/pem").reveal() == base64.b64encode(pem.encode()).decode()


def test_set_binary_round_trips(aws: AwsSecretsManagerProvider, raw: Any, ns: str) -> None:
    data = b"\x00\xff" + CANARY.encode()
    aws.set_binary(f"{ns}/sb", data)
    assert raw.get_secret_value(SecretId=f"{ns}/sb")["SecretBinary"] == data
    assert base64.b64decode(aws.get(f"{ns}/sb").reveal()) == data
    with pytest.raises(InvalidSecret):
        aws.set_binary(f"{ns}/sb-big", b"x" * 65537)


def test_string_secret_metadata(aws: AwsSecretsManagerProvider, ns: str) -> None:
    written = aws.set(f"{ns}/s", json.dumps({"user": "app", "password": CANARY}))
    secret = aws.get(f"{ns}/s")
    assert secret.version == written.version
    assert secret.metadata["type"] == "string"
    assert secret.metadata["stages"] == "AWSCURRENT"
    assert secret.metadata["arn"].startswith("arn:aws:secretsmanager:")
    assert secret.field("user") == "app"
    assert isinstance(secret.updated_at, datetime)
    assert secret.updated_at.tzinfo is not None


def test_value_size_is_checked_in_bytes_before_the_call(
    aws: AwsSecretsManagerProvider, ns: str
) -> None:
    calls = _count(aws, "PutSecretValue")
    # 32768 two-byte characters = 65536 bytes: accepted; one more: refused.
    aws.set(f"{ns}/fits", "é" * 32768)
    with pytest.raises(InvalidSecret) as info:
        aws.set(f"{ns}/over", "é" * 32768 + "x")
    assert "65537 bytes" in str(info.value)
    assert len(calls) == 1


# -- versions and staging labels -----------------------------------------------------------


def test_staging_labels_select_versions(aws: AwsSecretsManagerProvider, raw: Any, ns: str) -> None:
    name = f"{ns}/lbl"
    first = aws.set(name, "one")
    second = aws.set(name, "two")
    assert aws.get(name, version="AWSCURRENT").reveal() == "two"
    assert aws.get(name, version="AWSPREVIOUS").reveal() == "one"
    assert aws.get(name, version=first.version).reveal() == "one"
    raw.put_secret_value(SecretId=name, SecretString="blue!", VersionStages=["blue"])
    assert aws.get(name, version="blue").reveal() == "blue!"
    assert aws.get(name).reveal() == "two"  # a custom label does not move AWSCURRENT
    with pytest.raises(SecretNotFound):
        aws.get(name, version="green")
    versions = aws.versions(name)
    stages = {v.version: v.metadata["stages"] for v in versions}
    assert stages[second.version] == "AWSCURRENT"
    assert stages[first.version] == "AWSPREVIOUS"
    assert [v.current for v in versions].count(True) == 1


def test_a_label_that_is_not_valid_is_refused(aws: AwsSecretsManagerProvider, ns: str) -> None:
    with pytest.raises(InvalidSecret):
        aws.get(f"{ns}/x", version="two words")


def test_moto_bug_current_value_after_moving_awscurrent(
    aws: AwsSecretsManagerProvider, raw: Any, ns: str
) -> None:
    """moto 5.2.5: after update_secret_version_stage moves AWSCURRENT back, a read
    without a stage still returns the old value; asking for AWSCURRENT is right.
    This test pins the bug: when it fails, moto is fixed; drop the pin."""
    name = f"{ns}/moved"
    first = aws.set(name, "one")
    second = aws.set(name, "two")
    raw.update_secret_version_stage(
        SecretId=name,
        VersionStage="AWSCURRENT",
        MoveToVersionId=first.version,
        RemoveFromVersionId=second.version,
    )
    assert aws.get(name, version="AWSCURRENT").reveal() == "one"
    assert aws.get(name).reveal() == "two"  # real AWS returns "one"
    current = [v for v in aws.versions(name) if v.current]
    assert [v.version for v in current] == [first.version]


def test_moto_ignores_max_results_for_version_ids(
    aws: AwsSecretsManagerProvider, raw: Any, ns: str
) -> None:
    """moto 5.2.5 returns every version in one page whatever MaxResults says, so the
    manual NextToken loop is proven in test_aws_faults.py (pages from a fake server).
    This pins moto's behaviour; when it fails, test paging here against moto."""
    name = f"{ns}/many-versions"
    raw.create_secret(Name=name, SecretString="v")
    for i in range(104):
        raw.put_secret_value(SecretId=name, SecretString=f"v{i}")
    page = raw.list_secret_version_ids(SecretId=name, IncludeDeprecated=True, MaxResults=100)
    assert len(page["Versions"]) == 105
    assert not page.get("NextToken")
    assert len(aws.versions(name)) == 105


def test_moto_bug_versions_of_missing_secret(moto_server: str, ns: str) -> None:
    """moto 5.2.5 fails ListSecretVersionIds for a missing secret with HTTP 500
    (real AWS: ResourceNotFoundException). The provider reports what it got, an
    outage, never "not found". When this fails, moto is fixed: drop the pin and the
    contract skip."""
    provider = _provider(moto_server, max_attempts=1)
    with pytest.raises(ProviderUnavailable) as info:
        provider.versions(f"{ns}/missing")
    assert not isinstance(info.value, SecretNotFound)
    assert "HTTP 500" in str(info.value)


# -- batches and pagination ----------------------------------------------------------------


def test_get_many_batches_twenty_names_per_call(aws: AwsSecretsManagerProvider, ns: str) -> None:
    names = [f"{ns}/b{i:02d}" for i in range(45)]
    for name in names:
        aws.set(name, f"value of {name}")
    first = aws.set(f"{ns}/pinned", "old")
    aws.set(f"{ns}/pinned", "new")
    batches = _count(aws, "BatchGetSecretValue")
    singles = _count(aws, "GetSecretValue")
    keys: list[tuple[str, str | None]] = [(n, None) for n in names]
    keys += [(f"{ns}/missing", None), (f"{ns}/pinned", first.version)]
    # The provider serves what the batch calls answer; the pinned version is left
    # to the manager's pipeline, which reads it with GetSecretValue.
    assert (f"{ns}/pinned", first.version) not in aws.get_many(keys)
    assert (len(batches), len(singles)) == (3, 0)  # 46 current names: 20 + 20 + 6
    results = SecretManager(aws, cache=False).get_many(keys)
    assert (len(batches), len(singles)) == (6, 1)
    for name in names:
        found = results[(name, None)]
        assert not isinstance(found, ProviderError)
        assert found.reveal() == f"value of {name}"
        assert found.name == name
    assert isinstance(results[(f"{ns}/missing", None)], SecretNotFound)
    pinned = results[(f"{ns}/pinned", first.version)]
    assert not isinstance(pinned, ProviderError)
    assert pinned.reveal() == "old"


def test_get_many_sends_its_batch_calls_at_once(aws: AwsSecretsManagerProvider, ns: str) -> None:
    """45 names, three batch calls: each waits in botocore's before-call hook until
    all three are in flight, which only calls sent at once can do (one after the
    other, the first waits alone and the barrier breaks)."""
    names = [f"{ns}/c{i:02d}" for i in range(45)]
    for name in names:
        aws.set(name, f"value of {name}")
    together = threading.Barrier(3)
    broken: list[str] = []

    def wait_for_the_others(**_: Any) -> None:
        try:
            together.wait(timeout=5)
        except threading.BrokenBarrierError:
            broken.append("a batch call waited alone")

    aws.client.meta.events.register(
        "before-call.secrets-manager.BatchGetSecretValue", wait_for_the_others
    )
    results = aws.get_many([(name, None) for name in names])
    assert broken == []
    assert {key: found.reveal() for key, found in results.items()} == {
        (name, None): f"value of {name}" for name in names
    }


def test_resolving_a_config_uses_batch_calls(moto_server: str, ns: str) -> None:
    provider = _provider(moto_server)
    for i in range(25):
        provider.set(f"{ns}/cfg{i}", f"v{i}")
    batches = _count(provider, "BatchGetSecretValue")
    singles = _count(provider, "GetSecretValue")
    config = {f"k{i}": f"${{secret:{ns}/cfg{i}}}" for i in range(25)}
    with SecretManager(provider) as manager:
        resolved = manager.resolve(config)
    assert resolved == {f"k{i}": f"v{i}" for i in range(25)}
    assert len(batches) == 2
    assert singles == []


def test_get_many_with_batch_disabled_reads_one_by_one(moto_server: str, ns: str) -> None:
    provider = _provider(moto_server, batch=False)
    provider.set(f"{ns}/a", "a")
    batches = _count(provider, "BatchGetSecretValue")
    assert provider.get_many([(f"{ns}/a", None), (f"{ns}/b", None)]) == {}
    results = SecretManager(provider).get_many([(f"{ns}/a", None), (f"{ns}/b", None)])
    assert batches == []
    found = results[(f"{ns}/a", None)]
    assert not isinstance(found, ProviderError) and found.reveal() == "a"
    assert isinstance(results[(f"{ns}/b", None)], SecretNotFound)


def test_list_follows_pages_and_matches_prefix_exactly(
    aws: AwsSecretsManagerProvider, raw: Any, ns: str
) -> None:
    names = [f"{ns}/p/{i:03d}" for i in range(130)]
    for name in names:
        raw.create_secret(Name=name, SecretString="v")
    raw.create_secret(Name=f"{ns.upper()}/p/upper", SecretString="v")  # AWS filter ignores case
    pages = _count(aws, "ListSecrets")
    assert list(aws.list(f"{ns}/p/")) == names
    assert len(pages) >= 2  # 100 per page
    assert list(aws.list(f"{ns}/p/ nothing")) == []  # no AWS name holds a space


# -- writes: create options, tags, metadata --------------------------------------------------


def test_create_uses_kms_key_tags_and_description(moto_server: str, raw: Any, ns: str) -> None:
    provider = _provider(moto_server, kms_key_id="alias/swt-test")
    provider.set(
        f"{ns}/k",
        "v",
        tags={"team": "db", "tier": "1"},
        metadata={"description": "database password", "owner": "ops"},
    )
    described = raw.describe_secret(SecretId=f"{ns}/k")
    assert described["KmsKeyId"] == "alias/swt-test"
    assert described["Description"] == "database password"
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags == {"team": "db", "tier": "1", "secretwire:owner": "ops"}


def test_set_on_existing_secret_adds_a_version_and_tags(
    aws: AwsSecretsManagerProvider, raw: Any, ns: str
) -> None:
    name = f"{ns}/e"
    first = aws.set(name, "one", tags={"a": "1"})
    creates = _count(aws, "CreateSecret")
    second = aws.set(name, "two", tags={"b": "2"}, metadata={"description": "new"})
    assert creates == []
    assert second.version != first.version
    described = raw.describe_secret(SecretId=name)
    assert {t["Key"]: t["Value"] for t in described["Tags"]} == {"a": "1", "b": "2"}
    assert described["Description"] == "new"
    assert raw.get_secret_value(SecretId=name)["SecretString"] == "two"


def test_bad_tags_and_expiry_are_refused(aws: AwsSecretsManagerProvider, ns: str) -> None:
    with pytest.raises(InvalidSecret):
        aws.set(f"{ns}/t", "v", tags={"aws:reserved": "x"})
    with pytest.raises(InvalidSecret):
        aws.set(f"{ns}/t", "v", tags={f"k{i}": "v" for i in range(51)})
    with pytest.raises(UnsupportedOperation):
        aws.set(f"{ns}/t", "v", expires_at=datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(SecretNotFound):
        aws.get(f"{ns}/t")


def test_interop_with_raw_boto3(aws: AwsSecretsManagerProvider, raw: Any, ns: str) -> None:
    raw.create_secret(Name=f"{ns}/from-boto3", SecretString=CANARY)
    assert aws.get(f"{ns}/from-boto3").reveal() == CANARY
    version = aws.set(f"{ns}/from-secretwire", "written by secretwire")
    response = raw.get_secret_value(SecretId=f"{ns}/from-secretwire")
    assert response["SecretString"] == "written by secretwire"
    assert response["VersionId"] == version.version


# -- delete, recovery window, restore ----------------------------------------------------------


def test_delete_schedules_with_recovery_window_and_restore_undoes_it(
    moto_server: str, raw: Any, ns: str
) -> None:
    provider = _provider(moto_server, recovery_window_days=7)
    name = f"{ns}/rw"
    provider.set(name, "keep me")
    before = datetime.now(timezone.utc)
    provider.delete(name)
    deleted = raw.describe_secret(SecretId=name)["DeletedDate"]
    assert timedelta(days=6) < deleted - before < timedelta(days=8)
    with pytest.raises(SecretNotFound) as info:
        provider.get(name)
    assert "scheduled for deletion" in str(info.value)
    results = provider.get_many([(name, None)])
    assert isinstance(results[(name, None)], SecretNotFound)
    assert name not in list(provider.list(ns))
    with pytest.raises(SecretNotFound):
        provider.delete(name)
    provider.restore(name)
    assert provider.get(name).reveal() == "keep me"
    assert list(provider.list(ns)) == [name]


def test_restore_missing_secret_raises_not_found(aws: AwsSecretsManagerProvider, ns: str) -> None:
    with pytest.raises(SecretNotFound):
        aws.restore(f"{ns}/never")


def test_moto_bug_put_value_on_secret_scheduled_for_deletion(
    aws: AwsSecretsManagerProvider, raw: Any, ns: str
) -> None:
    """Real AWS refuses PutSecretValue on a secret scheduled for deletion
    (InvalidRequestException, mapped to Conflict: proven against a fake server in
    test_aws_faults.py); moto 5.2.5 accepts it. Pinned: when this fails, moto is
    fixed and this case can assert Conflict here."""
    name = f"{ns}/sched"
    aws.set(name, "v")
    aws.delete(name)
    aws.set(name, "after delete")
    assert "DeletedDate" in raw.describe_secret(SecretId=name)


def test_force_delete_without_recovery(moto_server: str, raw: Any, ns: str) -> None:
    provider = _provider(moto_server, force_delete_without_recovery=True)
    provider.set(f"{ns}/gone", "v")
    provider.delete(f"{ns}/gone")
    with pytest.raises(raw.exceptions.ResourceNotFoundException):
        raw.describe_secret(SecretId=f"{ns}/gone")
    # AWS reports success for a missing name in this mode; the provider does not.
    with pytest.raises(SecretNotFound):
        provider.delete(f"{ns}/gone")
    # and the name is free again at once
    provider.set(f"{ns}/gone", "again")
    assert provider.get(f"{ns}/gone").reveal() == "again"


def test_create_conflict_on_name_scheduled_for_deletion(
    aws: AwsSecretsManagerProvider, raw: Any, ns: str
) -> None:
    name = f"{ns}/taken"
    raw.create_secret(Name=name, SecretString="v")
    raw.delete_secret(SecretId=name)
    # moto answers ResourceExistsException (real AWS: InvalidRequestException,
    # which maps to Conflict too: see test_aws_faults.py).
    try:
        aws._call(
            "CreateSecret",
            lambda: aws.client.create_secret(Name=name, SecretString=CANARY),
            operation="set",
            name=name,
        )
    except Conflict as err:
        assert err.code == "ResourceExistsException"  # what set() checks: a field, not text
        assert CANARY not in str(err)
        assert err.__cause__ is None
        assert err.__context__ is None
    else:
        pytest.fail("CreateSecret on a taken name did not raise Conflict")


# -- errors, health, leaks -------------------------------------------------------------------


def test_errors_carry_no_chain_and_no_value(aws: AwsSecretsManagerProvider, ns: str) -> None:
    aws.set(f"{ns}/c", CANARY)
    failures: list[Callable[[], object]] = [
        lambda: aws.get(f"{ns}/missing"),
        lambda: aws.get(f"{ns}/c", version="0" * 36),
        lambda: aws.versions(f"{ns}/missing"),
        lambda: aws.delete(f"{ns}/missing"),
        lambda: aws.set(f"{ns}/c", CANARY * 3000),
    ]
    for failure in failures:
        with pytest.raises(ProviderError) as info:
            failure()
        error = info.value
        assert error.__cause__ is None
        assert error.__context__ is None
        assert error.provider == "aws"
        assert CANARY not in str(error)
        assert CANARY not in repr(error.args)


def test_value_that_is_not_valid_unicode_is_refused_without_leaking_it(
    aws: AwsSecretsManagerProvider, ns: str
) -> None:
    """A lone surrogate cannot be UTF-8 encoded; the UnicodeEncodeError would carry
    the whole value in its args (and repr). It must be InvalidSecret, value-free."""
    calls = _count(aws, "PutSecretValue")
    with pytest.raises(InvalidSecret) as info:
        aws.set(f"{ns}/surrogate", CANARY + "\ud800")
    error: BaseException | None = info.value
    while error is not None:
        for text in (str(error), repr(error), repr(error.args)):
            assert CANARY not in text
        error = error.__cause__ or error.__context__
    assert calls == []


def test_unreachable_endpoint_is_unavailable_not_missing() -> None:
    from tests.servers.harness import free_port

    provider = AwsSecretsManagerProvider(
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region=REGION,
        session=fake_session(),
        max_attempts=1,
        connect_timeout=1,
    )
    with pytest.raises(ProviderUnavailable) as info:
        provider.get("anything")
    assert not isinstance(info.value, SecretNotFound)
    assert info.value.__context__ is None
    health = provider.health()
    assert health.status.value == "unavailable"


def test_missing_region_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    provider = AwsSecretsManagerProvider(session=boto3.Session(region_name=None))
    with pytest.raises(ConfigError) as info:
        provider.get("x")
    assert info.value.key == "region"


def test_no_value_in_logs_even_with_botocore_debug(
    aws: AwsSecretsManagerProvider, raw: Any, all_logs: pytest.LogCaptureFixture, ns: str
) -> None:
    aws.set(f"{ns}/log", CANARY)
    aws.set(f"{ns}/log", json.dumps({"p": CANARY}))
    aws.get(f"{ns}/log")
    aws.get_many([(f"{ns}/log", None), (f"{ns}/log-missing", None)])
    with pytest.raises(SecretNotFound):
        aws.get(f"{ns}/log-missing")
    with SecretManager(aws) as manager:
        assert manager.resolve({"a": f"${{secret:{ns}/log#p}}"}) == {"a": CANARY}
    # botocore logs bodies as escaped bytes: look for the ASCII stem of the canary.
    stem = CANARY.split("\u00e9")[0]
    assert len(stem) > 20
    ours = "\n".join(r.getMessage() for r in all_logs.records)
    assert any(r.name == "secretwire" for r in all_logs.records)
    assert not any(r.name.startswith("botocore") for r in all_logs.records)
    assert stem not in ours
    # The capture works and the filter is scoped: the same value through a raw
    # boto3 call outside the provider does reach botocore's debug records.
    all_logs.clear()
    raw.get_secret_value(SecretId=f"{ns}/log", VersionStage="AWSPREVIOUS")
    theirs = "\n".join(r.getMessage() for r in all_logs.records)
    assert stem in theirs


def test_repr_shows_no_credentials(monkeypatch: pytest.MonkeyPatch, moto_server: str) -> None:
    monkeypatch.setenv("SWT_KEY_ID", "AKIAEXAMPLEKEYID0001")
    monkeypatch.setenv("SWT_SECRET", "secret-" + CANARY)
    provider = AwsSecretsManagerProvider(
        endpoint_url=moto_server,
        region=REGION,
        access_key_id_env="SWT_KEY_ID",
        secret_access_key_env="SWT_SECRET",
    )
    provider.list("nothing-here/")
    text = repr(provider) + str(provider) + repr(vars(provider))
    assert CANARY not in repr(provider)
    assert "AKIAEXAMPLEKEYID0001" not in repr(provider)
    assert "region='us-east-1'" in text


def test_static_keys_from_missing_variable_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, moto_server: str
) -> None:
    monkeypatch.delenv("SWT_NOT_SET", raising=False)
    provider = AwsSecretsManagerProvider(
        endpoint_url=moto_server,
        region=REGION,
        access_key_id_env="SWT_NOT_SET",
        secret_access_key_env="SWT_NOT_SET",
    )
    with pytest.raises(ConfigError) as info:
        provider.get("x")
    assert info.value.key == "access_key_id_env"
    assert "SWT_NOT_SET" in str(info.value)


# -- through the settings file and the manager ---------------------------------------------------


def test_secret_manager_from_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_server: str, raw: Any, ns: str
) -> None:
    raw.create_secret(Name=f"{ns}/db", SecretString=json.dumps({"user": "app", "pw": CANARY}))
    (tmp_path / "secretwire.yaml").write_text(
        "default_environment: production\n"
        "environments:\n"
        "  production:\n"
        "    provider: aws\n"
        "    options:\n"
        f"      endpoint_url: {moto_server}\n"
        f"      region: {REGION}\n"
        "      access_key_id_env: SWT_AWS_KEY\n"
        "      secret_access_key_env: SWT_AWS_SECRET\n"
        "      max_attempts: 2\n"
        "      recovery_window_days: 7\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SWT_AWS_KEY", "testing")
    monkeypatch.setenv("SWT_AWS_SECRET", "testing")
    monkeypatch.delenv("SECRETWIRE_ENV", raising=False)
    with SecretManager.from_settings(tmp_path / "secretwire.yaml") as manager:
        resolved = manager.resolve(
            {
                "user": f"${{secret:{ns}/db#user}}",
                "password": f"${{secret:{ns}/db#pw}}",
                "fallback": f"${{secret:{ns}/nope:-dflt}}",
            }
        )
    assert resolved == {"user": "app", "password": CANARY, "fallback": "dflt"}


def test_access_denied_does_not_fall_back_to_default(moto_iam_server: MotoIam, ns: str) -> None:
    provider = AwsSecretsManagerProvider(
        endpoint_url=moto_iam_server.url, region=REGION, session=moto_iam_server.no_read.session()
    )
    with SecretManager(provider) as manager, pytest.raises(ResolutionError) as info:
        manager.resolve({"x": f"${{secret:{ns}/anything:-dflt}}"})
    assert [type(f.error) for f in info.value.failures] == [AccessDenied]
