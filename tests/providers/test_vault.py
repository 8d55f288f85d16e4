"""The vault provider against a real OpenBao dev server on loopback (tests/servers/openbao.py)."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

import pytest
from hvac import exceptions as hvac_exceptions

from secretwire import SecretManager, SecretProvider
from secretwire.errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    FieldNotFound,
    InvalidSecret,
    ProviderUnavailable,
    SecretExpired,
    SecretNotFound,
    SecretwireError,
    Unauthenticated,
    UnsupportedOperation,
)
from secretwire.providers.base import HealthStatus
from secretwire.providers.vault import VaultProvider
from secretwire.testing import (
    CANARY,
    FakeClock,
    ProviderContract,
    assert_no_leak,
    check_options,
    error_texts,
)
from secretwire.values import SecretValue
from tests.servers.harness import free_port
from tests.servers.openbao import NAMESPACE, OpenBao, openbao


@pytest.fixture(scope="module")
def rw_token(openbao_server: OpenBao) -> str:
    return openbao_server.token("secretwire-rw")


@pytest.fixture(scope="module")
def restricted_token(openbao_server: OpenBao) -> str:
    return openbao_server.token("restricted")


class TestVaultKV2(ProviderContract):
    """KV v2 at ``secret/`` (detected), with a token holding the read-write policy."""

    list_count: ClassVar[int] = 60

    @pytest.fixture
    def credentials(self, rw_token: str, restricted_token: str) -> Sequence[str]:
        return (rw_token, restricted_token)

    @pytest.fixture
    def provider(self, openbao_server: OpenBao, rw_token: str) -> Iterator[SecretProvider]:
        provider = VaultProvider(openbao_server.url, token=rw_token)
        yield provider
        provider.close()

    @pytest.fixture
    def restricted_provider(
        self, openbao_server: OpenBao, restricted_token: str
    ) -> Iterator[SecretProvider]:
        provider = VaultProvider(openbao_server.url, token=restricted_token)
        yield provider
        provider.close()


class TestVaultKV1(ProviderContract):
    """KV v1 at ``kv1/``: no versions, no metadata."""

    list_count: ClassVar[int] = 60
    unsupported: ClassVar[dict[str, str]] = {
        "test_set_returns_version_and_get_reads_it": (
            "KV v1 keeps no metadata: set(metadata=...) raises UnsupportedOperation "
            "(test_kv1_refuses_metadata_and_cas)"
        ),
    }

    @pytest.fixture
    def credentials(self, rw_token: str, restricted_token: str) -> Sequence[str]:
        return (rw_token, restricted_token)

    @pytest.fixture
    def provider(self, openbao_server: OpenBao, rw_token: str) -> Iterator[SecretProvider]:
        provider = VaultProvider(openbao_server.url, token=rw_token, mount="kv1", kv_version=1)
        yield provider
        provider.close()

    @pytest.fixture
    def restricted_provider(
        self, openbao_server: OpenBao, restricted_token: str
    ) -> Iterator[SecretProvider]:
        provider = VaultProvider(
            openbao_server.url, token=restricted_token, mount="kv1", kv_version=1
        )
        yield provider
        provider.close()


# -- helpers ---------------------------------------------------------------------------


@pytest.fixture
def vault(openbao_server: OpenBao, rw_token: str) -> Iterator[VaultProvider]:
    provider = VaultProvider(openbao_server.url, token=rw_token)
    yield provider
    provider.close()


# -- values: how KV entries map --------------------------------------------------------


def test_entry_with_only_a_value_key_reads_as_that_string(
    openbao_server: OpenBao, vault: VaultProvider, ns: str
) -> None:
    openbao_server.client().secrets.kv.v2.create_or_update_secret(
        f"{ns}/single", {"value": "plain text"}, mount_point="secret"
    )
    assert vault.get(f"{ns}/single").reveal() == "plain text"


def test_multi_key_entry_reads_as_json_and_fields_select_keys(
    openbao_server: OpenBao, vault: VaultProvider, ns: str
) -> None:
    data = {"user": "app", "password": CANARY, "port": 5432, "value": "v"}
    openbao_server.client().secrets.kv.v2.create_or_update_secret(
        f"{ns}/db", data, mount_point="secret"
    )
    secret = vault.get(f"{ns}/db")
    assert json.loads(secret.reveal()) == data
    assert secret.field("password") == CANARY
    assert secret.field("port") == "5432"
    assert secret.field("value") == "v"
    with pytest.raises(FieldNotFound) as info:
        secret.field("missing")
    assert_no_leak(info.value, CANARY)


def test_one_key_not_named_value_reads_as_json(
    openbao_server: OpenBao, vault: VaultProvider, ns: str
) -> None:
    openbao_server.bao("kv", "put", "-mount=secret", f"{ns}/one", "password=hunter2")
    secret = vault.get(f"{ns}/one")
    assert secret.reveal() == '{"password":"hunter2"}'
    assert secret.field("password") == "hunter2"


def test_set_stores_a_value_key_and_round_trips_json_text_exactly(
    openbao_server: OpenBao, vault: VaultProvider, ns: str
) -> None:
    text = '{ "b": 1,  "a": [1, 2] }'
    vault.set(f"{ns}/json-text", text)
    raw = openbao_server.client().secrets.kv.v2.read_secret_version(
        f"{ns}/json-text", mount_point="secret", raise_on_deleted_version=True
    )
    assert raw["data"]["data"] == {"value": text}
    assert vault.get(f"{ns}/json-text").reveal() == text


# -- interop: other clients write, secretwire reads, and the other way round -------------


def test_bao_cli_and_hvac_writes_are_read(
    openbao_server: OpenBao, vault: VaultProvider, ns: str
) -> None:
    openbao_server.bao("kv", "put", "-mount=secret", f"{ns}/cli", "value=from the cli ✓")
    openbao_server.client().secrets.kv.v2.create_or_update_secret(
        f"{ns}/hvac", {"value": "from hvac"}, mount_point="secret"
    )
    assert vault.get(f"{ns}/cli").reveal() == "from the cli ✓"
    assert vault.get(f"{ns}/hvac").reveal() == "from hvac"
    assert vault.get(f"{ns}/cli", version="1").version == "1"


def test_secretwire_writes_are_read_by_bao_cli_and_hvac(
    openbao_server: OpenBao, vault: VaultProvider, ns: str
) -> None:
    version = vault.set(f"{ns}/out", "välue 🔑", metadata={"owner": "team-a"})
    cli = openbao_server.bao("kv", "get", "-mount=secret", "-field=value", f"{ns}/out")
    assert cli.stdout.rstrip("\n") == "välue 🔑"
    raw = openbao_server.client().secrets.kv.v2.read_secret_version(
        f"{ns}/out", mount_point="secret", raise_on_deleted_version=True
    )
    assert raw["data"]["data"] == {"value": "välue 🔑"}
    assert str(raw["data"]["metadata"]["version"]) == version.version
    meta = openbao_server.bao("kv", "metadata", "get", "-mount=secret", "-format=json", f"{ns}/out")
    assert json.loads(meta.stdout)["data"]["custom_metadata"] == {"owner": "team-a"}


def test_kv1_interop_with_bao_cli(openbao_server: OpenBao, rw_token: str, ns: str) -> None:
    provider = VaultProvider(openbao_server.url, token=rw_token, mount="kv1")
    openbao_server.bao("kv", "put", "-mount=kv1", f"{ns}/cli", "value=v1 from cli")
    assert provider.get(f"{ns}/cli").reveal() == "v1 from cli"
    provider.set(f"{ns}/sw", "v1 from secretwire")
    cli = openbao_server.bao("kv", "get", "-mount=kv1", "-field=value", f"{ns}/sw")
    assert cli.stdout.rstrip("\n") == "v1 from secretwire"
    provider.close()


# -- KV version detection ----------------------------------------------------------------


def test_kv1_is_detected_and_capabilities_follow(
    openbao_server: OpenBao, rw_token: str, ns: str
) -> None:
    provider = VaultProvider(openbao_server.url, token=rw_token, mount="kv1")
    assert provider.kv_version == 1
    assert not provider.capabilities.versions
    assert not provider.capabilities.metadata
    assert VaultProvider.capabilities.versions  # the class keeps the KV v2 set
    provider.set(f"{ns}/x", "x")
    with pytest.raises(UnsupportedOperation):
        provider.versions(f"{ns}/x")
    with pytest.raises(SecretNotFound):
        provider.get(f"{ns}/x", version="1")
    provider.close()


def test_kv1_refuses_metadata_and_cas(openbao_server: OpenBao, rw_token: str, ns: str) -> None:
    provider = VaultProvider(openbao_server.url, token=rw_token, mount="kv1", kv_version=1)
    with pytest.raises(UnsupportedOperation):
        provider.set(f"{ns}/m", "x", metadata={"owner": "a"})
    with pytest.raises(UnsupportedOperation):
        provider.set(f"{ns}/m", "x", cas=0)
    with pytest.raises(SecretNotFound):
        provider.get(f"{ns}/m")  # nothing was written
    provider.close()


def test_a_mount_that_is_not_kv_is_a_config_error(openbao_server: OpenBao, ns: str) -> None:
    provider = VaultProvider(openbao_server.url, token=openbao_server.root_token, mount="cubbyhole")
    with pytest.raises(ConfigError, match="not kv"):
        provider.get(f"{ns}/x")
    provider.close()


def test_a_missing_mount_is_access_denied_with_a_hint(
    openbao_server: OpenBao, rw_token: str
) -> None:
    provider = VaultProvider(openbao_server.url, token=rw_token, mount="no-such-mount")
    with pytest.raises(AccessDenied, match="kv_version"):
        provider.get("x")
    provider.close()


@pytest.mark.parametrize("kv_version", [1, 2])
def test_a_missing_mount_with_kv_version_is_a_config_error_not_not_found(
    openbao_server: OpenBao, ns: str, kv_version: int
) -> None:
    """With ``kv_version`` given there is no detection call: a root (or broad) token
    gets Vault's 404 "no handler for route" for a mount that does not exist. That is
    never "not found": a ``:-default`` must not hide a misspelt mount."""
    provider = VaultProvider(
        openbao_server.url, token=openbao_server.root_token, mount="no-such-mount",
        kv_version=kv_version,
    )  # fmt: skip
    with pytest.raises(ConfigError) as info:
        provider.get(f"{ns}/x")
    assert info.value.key == "mount"
    with pytest.raises(ConfigError):
        list(provider.list(f"{ns}/"))
    with SecretManager(provider) as manager, pytest.raises(ConfigError):
        manager.resolve({"x": f"${{secret:{ns}/x:-default}}"})


def test_a_missing_namespace_is_a_config_error_not_not_found(
    openbao_server: OpenBao, ns: str
) -> None:
    root = VaultProvider(
        openbao_server.url, token=openbao_server.root_token, namespace="no-such-ns", kv_version=2
    )
    with pytest.raises(ConfigError) as info:
        root.get(f"{ns}/x")
    assert info.value.key == "namespace"
    assert root.health().status is HealthStatus.UNAVAILABLE
    root.close()
    role_id, secret_id = openbao_server.approle("app")
    login = VaultProvider(
        openbao_server.url, auth="approle", role_id=role_id, secret_id=secret_id,
        namespace="no-such-ns",
    )  # fmt: skip
    with pytest.raises(ConfigError) as info:
        login.get(f"{ns}/x")  # the login itself answers 404 "namespace not found"
    assert info.value.key == "namespace"
    with SecretManager(login) as manager, pytest.raises(ConfigError):
        manager.resolve({"x": f"${{secret:{ns}/x:-default}}"})


def test_a_refused_login_is_not_reported_as_a_mount_problem(openbao_server: OpenBao) -> None:
    role_id, secret_id = openbao_server.approle("app")
    provider = VaultProvider(
        openbao_server.url, auth="approle", auth_mount="no-such-auth", role_id=role_id,
        secret_id=secret_id,
    )  # fmt: skip
    with pytest.raises(AccessDenied) as info:
        provider.get("x")
    assert "log in" in str(info.value)
    assert "mount information" not in str(info.value)
    provider.close()


# -- versions, check-and-set, delete -----------------------------------------------------


def test_version_zero_and_junk_are_not_found_not_latest(vault: VaultProvider, ns: str) -> None:
    vault.set(f"{ns}/v", "latest")
    for version in ("0", "01", "-1", "abc", "1.0", "\u0661"):
        with pytest.raises(SecretNotFound):
            vault.get(f"{ns}/v", version=version)
    assert vault.get(f"{ns}/v", version="1").reveal() == "latest"


def test_cas_lost_race_between_two_writers_is_conflict(
    openbao_server: OpenBao, rw_token: str, ns: str
) -> None:
    first = VaultProvider(openbao_server.url, token=rw_token)
    second = VaultProvider(openbao_server.url, token=rw_token)
    name = f"{ns}/race"
    first.set(name, "v1")
    seen = first.get(name).version
    assert seen == "1"
    second.set(name, "v2 from the other writer", cas=1)  # wins
    with pytest.raises(Conflict) as info:
        first.set(name, CANARY, cas=int(seen))  # lost: based on version 1
    assert_no_leak(info.value, CANARY)
    assert first.get(name).reveal() == "v2 from the other writer"
    assert [v.version for v in first.versions(name)] == ["2", "1"]
    with pytest.raises(Conflict):
        second.set(f"{ns}/race", "again", cas=0)  # 0: only if it does not exist
    assert second.set(f"{ns}/new", "created", cas=0).version == "1"
    first.close()
    second.close()


def test_cas_option_makes_concurrent_writers_lose_visibly(
    openbao_server: OpenBao, rw_token: str, ns: str
) -> None:
    name = f"{ns}/cas-race"
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def writer(worker: int) -> None:
        provider = VaultProvider(openbao_server.url, token=rw_token, cas=True)
        barrier.wait()
        for i in range(5):
            try:
                version = provider.set(name, f"{worker}-{i}").version
            except Conflict:
                version = "conflict"
            with lock:
                outcomes.append(version)
        provider.close()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = [v for v in outcomes if v != "conflict"]
    # Every success made its own version, one after the other; every other write
    # failed with Conflict: nothing was overwritten silently.
    assert sorted(written, key=int) == [str(i) for i in range(1, len(written) + 1)]
    assert len(outcomes) == 30
    check = VaultProvider(openbao_server.url, token=rw_token)
    assert check.versions(name)[0].version == str(len(written))  # (KV keeps the last 10)
    check.close()


def test_cas_option_sends_check_and_set(openbao_server: OpenBao, rw_token: str, ns: str) -> None:
    """A secret whose metadata says ``cas_required`` accepts only check-and-set writes."""
    name = f"{ns}/cas-required"
    openbao_server.bao("kv", "metadata", "put", "-mount=secret", "-cas-required=true", name)
    plain = VaultProvider(openbao_server.url, token=rw_token)
    with pytest.raises(Conflict, match="cas: true"):
        plain.set(name, "refused")
    checked = VaultProvider(openbao_server.url, token=rw_token, cas=True)
    assert checked.set(name, "first").version == "1"  # cas=0: did not exist
    assert checked.set(name, "second").version == "2"  # cas=1: read just before
    assert plain.get(name).reveal() == "second"
    plain.close()
    checked.close()


def test_delete_is_a_soft_delete_of_the_latest_version(
    openbao_server: OpenBao, vault: VaultProvider, ns: str
) -> None:
    name = f"{ns}/soft"
    vault.set(name, "one")
    vault.set(name, "two")
    vault.delete(name)
    with pytest.raises(SecretNotFound):
        vault.get(name)
    assert vault.get(name, version="1").reveal() == "one"  # older versions stay
    with pytest.raises(SecretNotFound):
        vault.get(name, version="2")
    assert name in list(vault.list(ns))  # the metadata (and the name) remain
    with pytest.raises(SecretNotFound):
        vault.delete(name)  # nothing left to delete
    openbao_server.bao("kv", "undelete", "-mount=secret", "-versions=2", name)
    assert vault.get(name).reveal() == "two"
    vault.set(name, "three")  # writing after a delete makes a new current version
    assert vault.get(name).version == "3"


def test_destroy_removes_every_version(openbao_server: OpenBao, rw_token: str, ns: str) -> None:
    provider = VaultProvider(openbao_server.url, token=rw_token, destroy=True)
    name = f"{ns}/gone"
    provider.set(name, "one")
    provider.set(name, "two")
    provider.delete(name)
    for version in (None, "1", "2"):
        with pytest.raises(SecretNotFound):
            provider.get(name, version=version)
    with pytest.raises(SecretNotFound):
        provider.versions(name)
    assert list(provider.list(ns)) == []
    with pytest.raises(SecretNotFound):
        provider.delete(name)
    provider.close()


def test_metadata_is_custom_metadata_of_the_secret(vault: VaultProvider, ns: str) -> None:
    name = f"{ns}/meta"
    vault.set(name, "a", metadata={"owner": "team-a"})
    vault.set(name, "b")  # no metadata given: unchanged
    assert vault.get(name).metadata == {"owner": "team-a"}
    vault.set(name, "c", metadata={"owner": "team-b"})
    versions = vault.versions(name)
    assert [v.version for v in versions] == ["3", "2", "1"]
    assert all(v.metadata == {"owner": "team-b"} for v in versions)  # per secret, not version
    assert versions[0].created_at is not None


def test_tags_and_expiry_are_refused_not_dropped(vault: VaultProvider, ns: str) -> None:
    with pytest.raises(UnsupportedOperation):
        vault.set(f"{ns}/t", "x", tags={"env": "prod"})
    with pytest.raises(UnsupportedOperation):
        vault.set(f"{ns}/t", "x", expires_at=datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(SecretNotFound):
        vault.get(f"{ns}/t")
    vault.set(f"{ns}/t", "x", tags={})  # empty tags (the CLI's default) are fine


def test_list_recurses_folders_sorted_and_filters_partial_segments(
    vault: VaultProvider, ns: str
) -> None:
    names = [f"{ns}/b", f"{ns}/a/x", f"{ns}/a/y/z", f"{ns}/ab", f"{ns}-other/q"]
    for name in names:
        vault.set(name, "v")
    assert list(vault.list(f"{ns}/")) == sorted(names[:4])
    assert list(vault.list(f"{ns}/a")) == [f"{ns}/a/x", f"{ns}/a/y/z", f"{ns}/ab"]
    assert list(vault.list(f"{ns}/a/")) == [f"{ns}/a/x", f"{ns}/a/y/z"]
    assert list(vault.list(ns)) == sorted(names)
    assert list(vault.list(f"{ns}/nothing-here/")) == []


def test_invalid_names_are_refused(vault: VaultProvider) -> None:
    for name in ("", "/abs", "dir/", "a//b", "a/../b", "a/./b", "tab\there"):
        with pytest.raises(InvalidSecret):
            vault.get(name)


def test_value_over_the_request_limit_when_json_escaped(
    openbao_server: OpenBao, rw_token: str, ns: str
) -> None:
    provider = VaultProvider(openbao_server.url, token=rw_token, max_request_bytes=10_000)
    limit = provider.capabilities.max_value_bytes or 0
    provider.set(f"{ns}/fits", "é" * (limit // 2))  # 2 bytes each, sent unescaped
    with pytest.raises(InvalidSecret, match="JSON-encoded"):
        provider.set(f"{ns}/escaped", "\x01" * limit)  # each becomes \u0001
    with pytest.raises(InvalidSecret):
        provider.set(f"{ns}/big", "x" * (limit + 1))
    provider.close()


def test_server_side_request_limit_is_invalid_secret(
    openbao_server: OpenBao, rw_token: str, ns: str
) -> None:
    # Claim a larger limit than the server's 32 MiB: the server's 413 is still typed.
    provider = VaultProvider(openbao_server.url, token=rw_token, max_request_bytes=40 * 1024 * 1024)
    with pytest.raises(InvalidSecret, match="too large"):
        provider.set(f"{ns}/huge", "x" * (33 * 1024 * 1024))
    provider.close()


# -- authentication ----------------------------------------------------------------------


def _logins(logs: pytest.LogCaptureFixture) -> int:
    return sum("vault: logged in" in record.getMessage() for record in logs.records)


def _renewals(logs: pytest.LogCaptureFixture) -> int:
    return sum("vault: token renewed" in record.getMessage() for record in logs.records)


def test_token_from_env_and_file(
    openbao_server: OpenBao,
    rw_token: str,
    ns: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    VaultProvider(openbao_server.url, token=rw_token).set(f"{ns}/t", "ok")
    monkeypatch.setenv("SWT_VAULT_TOKEN", rw_token)
    from_env = VaultProvider(openbao_server.url, token_env="SWT_VAULT_TOKEN")
    assert from_env.get(f"{ns}/t").reveal() == "ok"
    token_file = tmp_path / "token"
    token_file.write_text(rw_token + "\n")
    from_file = VaultProvider(openbao_server.url, token_file=token_file)
    assert from_file.get(f"{ns}/t").reveal() == "ok"
    monkeypatch.setenv("VAULT_TOKEN", rw_token)
    default = VaultProvider(openbao_server.url)  # $VAULT_TOKEN by default
    assert default.get(f"{ns}/t").reveal() == "ok"
    for provider in (from_env, from_file, default):
        assert rw_token not in repr(provider)
        provider.close()


def test_missing_token_variable_is_a_config_error(
    openbao_server: OpenBao, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWT_NO_SUCH_TOKEN", raising=False)
    provider = VaultProvider(openbao_server.url, token_env="SWT_NO_SUCH_TOKEN")
    with pytest.raises(ConfigError, match="SWT_NO_SUCH_TOKEN"):
        provider.get("x")
    assert provider.health().status is HealthStatus.UNAUTHENTICATED


def test_approle_login(
    openbao_server: OpenBao, vault: VaultProvider, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault.set(f"{ns}/app", "approle works")
    role_id, secret_id = openbao_server.approle("app")
    monkeypatch.setenv("SWT_SECRET_ID", secret_id)
    provider = VaultProvider(
        openbao_server.url, auth="approle", role_id=role_id, secret_id_env="SWT_SECRET_ID"
    )
    assert provider.get(f"{ns}/app").reveal() == "approle works"
    assert provider.health().ok
    assert secret_id not in repr(provider)
    provider.close()


def test_approle_wrong_secret_id_is_access_denied_and_unauthenticated(
    openbao_server: OpenBao, ns: str, all_logs: pytest.LogCaptureFixture
) -> None:
    role_id, _ = openbao_server.approle("app")
    wrong = f"wrong-secret-id-{uuid.uuid4()}"
    provider = VaultProvider(openbao_server.url, auth="approle", role_id=role_id, secret_id=wrong)
    with pytest.raises(Unauthenticated) as info:  # an AccessDenied: never "not found"
        provider.get(f"{ns}/x")
    assert isinstance(info.value, AccessDenied)
    assert info.value.__cause__ is None
    for text in (str(info.value), repr(info.value), repr(info.value.__context__)):
        assert wrong not in text
    health = provider.health()
    assert health.status is HealthStatus.UNAUTHENTICATED
    assert wrong not in health.detail
    assert wrong not in repr(provider)
    assert wrong not in all_logs.text
    provider.close()


def test_a_refused_approle_login_says_what_was_refused(openbao_server: OpenBao, ns: str) -> None:
    """Not "invalid request", and the prefix once: which credentials, never their text."""
    role_id, _ = openbao_server.approle("app")
    wrong = f"canary-secret-id-{uuid.uuid4()}"
    provider = VaultProvider(openbao_server.url, auth="approle", role_id=role_id, secret_id=wrong)
    with pytest.raises(AccessDenied) as info:
        provider.get(f"{ns}/x")
    message = str(info.value)
    assert "invalid request" not in message
    assert message.count("log in") == 1
    assert "refused the login" in message
    assert "role_id or the secret_id is not valid" in message
    assert_no_leak(info.value, wrong, role_id)
    health = provider.health()
    assert "secret_id" in health.detail and wrong not in health.detail
    provider.close()
    no_secret = VaultProvider(openbao_server.url, auth="approle", role_id=role_id)
    with pytest.raises(AccessDenied, match="the role needs a secret_id") as missing:
        no_secret.get(f"{ns}/x")
    assert_no_leak(missing.value, role_id)
    no_secret.close()


def test_a_refused_jwt_login_leaks_no_jwt(openbao_server: OpenBao, ns: str) -> None:
    token = openbao_server.jwt(audience="someone-else")
    provider = VaultProvider(openbao_server.url, auth="jwt", role="app", jwt=token)
    with pytest.raises(AccessDenied, match="JWT or the role was not accepted") as info:
        provider.get(f"{ns}/x")
    assert_no_leak(info.value, token)
    provider.close()


def test_health_checks_that_the_mount_exists(openbao_server: OpenBao, rw_token: str) -> None:
    for options in ({}, {"kv_version": 2}, {"kv_version": 1}):
        provider = VaultProvider(
            openbao_server.url, token=openbao_server.root_token, mount="no-such-mount", **options
        )
        health = provider.health()
        assert health.status is HealthStatus.UNAVAILABLE, options
        assert "has no mount 'no-such-mount'" in health.detail
        provider.close()
    wrong_version = VaultProvider(openbao_server.url, token=rw_token, mount="kv1", kv_version=2)
    health = wrong_version.health()
    assert health.status is HealthStatus.UNAVAILABLE
    assert "is KV v1, but kv_version is 2" in health.detail
    wrong_version.close()
    not_kv = VaultProvider(openbao_server.url, token=openbao_server.root_token, mount="cubbyhole")
    health = not_kv.health()
    assert health.status is HealthStatus.UNAVAILABLE
    assert "secrets engine, not kv" in health.detail
    not_kv.close()
    good = VaultProvider(openbao_server.url, token=rw_token, mount="kv1")
    health = good.health()
    assert health.ok and "KV v1 mount 'kv1'" in health.detail
    good.close()


# -- no token, credential or value in any frame of an error ---------------------------------


def test_a_failed_request_holds_no_token_in_any_frame(vault: VaultProvider, rw_token: str) -> None:
    """The token used to sit in ``_send``'s ``X-Vault-Token`` header dict and ``token``."""
    with pytest.raises(SecretNotFound) as info:
        vault.get("surely/not/there")
    assert_no_leak(info.value, rw_token)
    with pytest.raises(InvalidSecret) as too_large:
        vault.set("too/large", CANARY * (vault.capabilities.max_value_bytes or 0))
    assert_no_leak(too_large.value, rw_token, CANARY)


def test_a_token_file_that_is_not_text_is_not_on_the_context(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_bytes(CANARY.encode("utf-16"))  # not UTF-8
    provider = VaultProvider("http://127.0.0.1:1", token_file=token_file)
    with pytest.raises(ConfigError, match="not UTF-8") as info:
        provider.get("x")
    assert info.value.__context__ is None
    assert_no_leak(info.value, CANARY)


# -- option values: URLs, variable names, values from a secret ------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"http://127.0.0.1:8200/?token={CANARY}",
        f"http://127.0.0.1:8200/#{CANARY}",
        f"http://{CANARY}:pw@127.0.0.1:8200",
        f"ftp://127.0.0.1/{CANARY}",
    ],
)
def test_a_url_that_may_carry_a_credential_is_refused_unechoed(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        VaultProvider(url, token="t")
    assert info.value.key == "url"
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigError) as from_settings:
        VaultProvider.from_options({"url": url, "token": "t"}, base_dir=tmp_path)
    assert CANARY not in str(from_settings.value)


@pytest.mark.parametrize("option", ["token_env", "role_id_env", "secret_id_env", "jwt_env"])
def test_a_credential_given_instead_of_a_variable_name_is_not_echoed(option: str) -> None:
    auth = {"token_env": "token", "jwt_env": "jwt"}.get(option, "approle")
    extra: dict[str, object] = {"role": "app"} if auth == "jwt" else {}
    if auth == "approle" and option != "role_id_env":
        extra["role_id"] = "r"
    with pytest.raises(ConfigError, match="must name an environment variable") as info:
        VaultProvider(
            "http://127.0.0.1:1",
            auth=auth,
            **{option: f"hvs.{CANARY}"},  # type: ignore[arg-type]
            **extra,  # type: ignore[arg-type]
        )
    assert info.value.key == option
    assert CANARY not in str(info.value)


def test_options_from_a_secret_are_used_but_never_shown(
    openbao_server: OpenBao, rw_token: str, ns: str
) -> None:
    hidden_mount = f"mount-{uuid.uuid4().hex[:8]}"
    provider = VaultProvider(
        SecretValue(openbao_server.url), token=SecretValue(rw_token), mount=SecretValue("kv1")
    )
    provider.set(f"{ns}/x", "works")
    assert provider.get(f"{ns}/x").reveal() == "works"
    assert provider.health().ok
    texts = [repr(provider), provider.health().detail]
    missing = VaultProvider(
        SecretValue(openbao_server.url), token=rw_token, mount=SecretValue(hidden_mount)
    )
    health = missing.health()
    assert health.status is HealthStatus.UNAVAILABLE
    texts.append(health.detail)
    with pytest.raises(AccessDenied) as info:
        missing.get(f"{ns}/x")
    texts += [str(info.value), repr(missing)]
    given = VaultProvider(
        SecretValue(openbao_server.url),
        token=openbao_server.root_token,
        mount=SecretValue(hidden_mount),
        kv_version=2,
    )
    with pytest.raises(ConfigError) as no_route:  # Vault's message quotes the path
        given.get(f"{ns}/x")
    texts.append(str(no_route.value))
    for text in texts:
        assert hidden_mount not in text
        assert openbao_server.url not in text
        assert "kv1" not in text
    for item in (provider, missing, given):
        item.close()


def test_short_lived_approle_token_is_replaced_by_a_new_login(
    openbao_server: OpenBao, vault: VaultProvider, ns: str, all_logs: pytest.LogCaptureFixture
) -> None:
    """Role ``short``: 2 s tokens that cannot outlive 2 s; the provider logs in again."""
    vault.set(f"{ns}/short", "still readable")
    role_id, secret_id = openbao_server.approle("short")
    provider = VaultProvider(
        openbao_server.url, auth="approle", role_id=role_id, secret_id=secret_id
    )
    assert provider.get(f"{ns}/short").reveal() == "still readable"
    first = provider._auth.current
    assert first is not None
    time.sleep(2.5)  # the first token has expired now
    lookup = openbao_server.client(token=first.value.reveal())
    with pytest.raises(hvac_exceptions.Forbidden):
        lookup.auth.token.lookup_self()
    assert provider.get(f"{ns}/short").reveal() == "still readable"
    assert _logins(all_logs) == 2
    provider.close()


def test_renewable_approle_token_is_renewed_before_expiry(
    openbao_server: OpenBao, vault: VaultProvider, ns: str, all_logs: pytest.LogCaptureFixture
) -> None:
    """Role ``renew``: 3 s tokens renewable up to 1 h; one login, renewed past 3 s."""
    vault.set(f"{ns}/renew", "renewed")
    role_id, secret_id = openbao_server.approle("renew")
    provider = VaultProvider(
        openbao_server.url, auth="approle", role_id=role_id, secret_id=secret_id
    )
    assert provider.get(f"{ns}/renew").reveal() == "renewed"
    first = provider._auth.current
    assert first is not None
    for _ in range(2):
        time.sleep(2.3)  # past two thirds of the 3 s TTL, not past it: renewed (4.6 s in all)
        assert provider.get(f"{ns}/renew").reveal() == "renewed"
    assert _logins(all_logs) == 1
    assert _renewals(all_logs) >= 2
    token = provider._auth.current
    assert token is not None
    assert token.value == first.value  # the same token outlived its first 3 s TTL
    provider.close()


def test_jwt_login(
    openbao_server: OpenBao, vault: VaultProvider, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault.set(f"{ns}/jwt", "jwt works")
    monkeypatch.setenv("SWT_JWT", openbao_server.jwt())
    provider = VaultProvider(openbao_server.url, auth="jwt", role="app", jwt_env="SWT_JWT")
    assert provider.get(f"{ns}/jwt").reveal() == "jwt works"
    provider.close()


def test_jwt_for_another_audience_is_access_denied(openbao_server: OpenBao, ns: str) -> None:
    token = openbao_server.jwt(audience="someone-else")
    provider = VaultProvider(openbao_server.url, auth="jwt", role="app", jwt=token)
    with pytest.raises(AccessDenied) as info:
        provider.get(f"{ns}/jwt")
    assert token not in str(info.value)
    provider.close()


def test_kubernetes_login_reads_the_token_file_each_login(
    openbao_server: OpenBao, vault: VaultProvider, ns: str, tmp_path: Path
) -> None:
    """The ``kubernetes`` method posts ``{role, jwt}`` to ``auth/kubernetes/login``. The
    server mounts the JWT method there (same login API; a TokenReview needs a real
    Kubernetes API server), so the client side runs for real."""
    vault.set(f"{ns}/k8s", "k8s works")
    token_file = tmp_path / "serviceaccount-token"
    token_file.write_text(openbao_server.jwt(subject="system:serviceaccount:default:app"))
    provider = VaultProvider(openbao_server.url, auth="kubernetes", role="app", jwt_file=token_file)
    assert provider.get(f"{ns}/k8s").reveal() == "k8s works"
    provider.close()
    token_file.write_text("not-a-jwt")  # re-read at the next login
    with pytest.raises(AccessDenied):
        provider.get(f"{ns}/k8s")


# -- TLS and cert auth -----------------------------------------------------------------


def test_tls_with_ca_bundle_and_cert_auth(openbao_tls_server: OpenBao, ns: str) -> None:
    bao = openbao_tls_server
    assert bao.url.startswith("https://")
    assert bao.ca_cert is not None
    provider = VaultProvider(
        bao.url,
        auth="cert",
        role="app",
        client_cert=bao.extra["client_cert"],
        client_key=bao.extra["client_key"],
        ca_cert=bao.ca_cert,
    )
    provider.set(f"{ns}/tls", "over tls")
    assert provider.get(f"{ns}/tls").reveal() == "over tls"
    assert provider.health().ok
    provider.close()
    root = VaultProvider(bao.url, token=bao.root_token, ca_cert=bao.ca_cert)
    assert root.get(f"{ns}/tls").reveal() == "over tls"
    root.close()


def test_tls_without_the_ca_bundle_is_unavailable(openbao_tls_server: OpenBao, ns: str) -> None:
    provider = VaultProvider(openbao_tls_server.url, token=openbao_tls_server.root_token)
    with pytest.raises(ProviderUnavailable, match="certificate verification failed") as info:
        provider.get(f"{ns}/tls")
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    health = provider.health()
    assert health.status is HealthStatus.UNAVAILABLE
    assert "certificate" in health.detail
    provider.close()


def test_cert_auth_without_a_client_certificate_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="client_cert"):
        VaultProvider("https://127.0.0.1:1", auth="cert")


# -- namespaces ------------------------------------------------------------------------


def test_namespace_is_passed_to_vault(openbao_server: OpenBao, ns: str) -> None:
    provider = VaultProvider(
        openbao_server.url, token=openbao_server.root_token, namespace=NAMESPACE
    )
    provider.set(f"{ns}/in-ns", "namespaced")
    assert provider.get(f"{ns}/in-ns").reveal() == "namespaced"
    raw = openbao_server.client(namespace=NAMESPACE).secrets.kv.v2.read_secret_version(
        f"{ns}/in-ns", mount_point="secret", raise_on_deleted_version=True
    )
    assert raw["data"]["data"] == {"value": "namespaced"}
    root = VaultProvider(openbao_server.url, token=openbao_server.root_token)
    with pytest.raises(SecretNotFound):
        root.get(f"{ns}/in-ns")
    assert provider.health().ok  # sys/health is asked without the namespace header
    provider.close()
    root.close()


# -- health and outages ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sealed_server() -> Iterator[OpenBao]:
    """A dedicated dev server, sealed (the shared one must stay unsealed)."""
    with openbao("openbao-sealed") as bao:
        bao.seal()
        yield bao


def test_health_ok_and_timed_by_the_pipeline_only(vault: VaultProvider) -> None:
    health = vault.health()
    assert health.status is HealthStatus.OK
    assert health.latency_seconds is None  # the provider does not time itself
    with SecretManager(vault) as manager:
        assert manager.health().latency_seconds is not None


def test_health_unauthenticated_with_a_bad_token(openbao_server: OpenBao, ns: str) -> None:
    provider = VaultProvider(openbao_server.url, token="hvs.not-a-real-token")
    health = provider.health()
    assert health.status is HealthStatus.UNAUTHENTICATED
    assert "not-a-real-token" not in health.detail
    with pytest.raises(Unauthenticated) as info:  # the token itself, not a permission
        provider.get(f"{ns}/x")
    assert "not-a-real-token" not in str(info.value)
    assert info.value.code == "HTTP 403"
    provider.close()


def test_a_valid_token_without_permission_is_access_denied_not_unauthenticated(
    openbao_server: OpenBao, restricted_token: str, ns: str
) -> None:
    provider = VaultProvider(openbao_server.url, token=restricted_token, kv_version=2)
    with pytest.raises(AccessDenied) as info:
        provider.get(f"{ns}/not-public")
    assert not isinstance(info.value, Unauthenticated)
    assert provider.health().ok  # the token is valid; the mount is there
    provider.close()


def test_the_shared_adapter_never_holds_a_token(
    openbao_server: OpenBao, vault: VaultProvider, ns: str
) -> None:
    """Logins go through hvac's typed auth API on a per-call adapter, which sends
    the token in that request's header only: renewals and new logins never race with
    requests in flight, and the shared session holds no credential."""
    vault.set(f"{ns}/shared", "v")
    role_id, secret_id = openbao_server.approle("app")
    login = VaultProvider(openbao_server.url, auth="approle", role_id=role_id, secret_id=secret_id)
    assert login.get(f"{ns}/shared").reveal() == "v"
    for provider in (vault, login):
        adapter = provider._transport.adapter()
        assert not adapter.token
        assert "X-Vault-Token" not in adapter.session.headers
    login.close()


def test_a_token_that_cannot_be_sent_is_a_config_error(openbao_server: OpenBao, ns: str) -> None:
    provider = VaultProvider(openbao_server.url, token=CANARY)  # not ASCII: no valid header
    with pytest.raises(ConfigError) as info:
        provider.get(f"{ns}/x")
    assert_no_leak(info.value, CANARY)
    health = provider.health()
    assert health.status is HealthStatus.UNAUTHENTICATED
    assert CANARY not in health.detail
    provider.close()


def test_health_and_reads_when_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    provider = VaultProvider(url, token="t", read_retries=0, timeout=2)
    health = provider.health()
    assert health.status is HealthStatus.UNAVAILABLE
    assert "cannot connect" in health.detail
    with pytest.raises(ProviderUnavailable) as info:
        provider.get("x")
    assert not isinstance(info.value, SecretNotFound)
    assert info.value.__cause__ is None
    assert info.value.endpoint == url  # the fields of the one message grammar
    assert info.value.detail == "cannot connect to Vault (Connection refused)"
    with pytest.raises(ProviderUnavailable):
        provider.set("x", CANARY)
    provider.close()


def test_health_sealed_and_reads_unavailable(sealed_server: OpenBao) -> None:
    provider = VaultProvider(sealed_server.url, token=sealed_server.root_token, kv_version=2)
    health = provider.health()
    assert health.status is HealthStatus.SEALED
    with pytest.raises(ProviderUnavailable, match="sealed") as info:
        provider.get("anything")
    assert not isinstance(info.value, SecretNotFound)
    provider.close()


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts connections (backlog) but never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        provider = VaultProvider(url, token="t", kv_version=2, timeout=0.5, read_retries=0)
        with pytest.raises(ProviderUnavailable, match="did not answer"):
            provider.get("x")
        provider.close()


# -- leaks -------------------------------------------------------------------------------


def test_no_value_or_token_in_errors_logs_or_reprs(
    openbao_server: OpenBao, rw_token: str, ns: str, all_logs: pytest.LogCaptureFixture
) -> None:
    provider = VaultProvider(openbao_server.url, token=rw_token, cas=True)
    provider.set(f"{ns}/c", CANARY)
    failures: list[BaseException] = []
    attempts = [
        lambda: provider.set(f"{ns}/c", CANARY, cas=0),  # Conflict
        lambda: provider.set(f"{ns}/c", CANARY, metadata={"k": CANARY * 20}),  # Vault 400
        lambda: provider.get(f"{ns}/c", version="77"),
        lambda: provider.get(f"{ns}/c").field("missing"),
        lambda: VaultProvider(openbao_server.url, token=CANARY).get(f"{ns}/c"),
        lambda: VaultProvider(openbao_server.url, token="bad-token").set(f"{ns}/c", CANARY),
        lambda: provider.set(f"{ns}/c", CANARY + "\ud800"),  # lone surrogate
        lambda: VaultProvider(openbao_server.url, token=rw_token, max_request_bytes=5000).set(
            f"{ns}/c", CANARY * 1000
        ),
    ]
    for attempt in attempts:
        try:
            attempt()
        except SecretwireError as err:
            failures.append(err)
    assert len(failures) == len(attempts)
    for error in failures:
        # Messages and chains only: the metadata attempt's frames hold the canary as
        # metadata, which is not a secret value.
        assert not any(CANARY in text for text in error_texts(error))
        assert rw_token not in str(error)
    assert CANARY not in all_logs.text
    assert rw_token not in all_logs.text
    assert rw_token not in repr(provider)
    assert CANARY not in repr(provider.get(f"{ns}/c"))
    provider.close()


# -- settings and the manager ------------------------------------------------------------


def test_manager_from_settings_file(
    openbao_server: OpenBao,
    vault: VaultProvider,
    ns: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    openbao_server.client().secrets.kv.v2.create_or_update_secret(
        f"{ns}/db", {"user": "app", "password": "pw-1"}, mount_point="secret"
    )
    vault.set(f"{ns}/api", "key-1")
    role_id, secret_id = openbao_server.approle("app")
    (tmp_path / "secret-id").write_text(secret_id)
    (tmp_path / "secretwire.yaml").write_text(
        "environments:\n"
        "  production:\n"
        "    provider: vault\n"
        "    options:\n"
        "      url: ${env:SWT_VAULT_ADDR}\n"
        "      mount: secret\n"
        "      kv_version: 2\n"
        "      auth: approle\n"
        f"      role_id: {role_id}\n"
        "      secret_id_file: secret-id\n"
        "      timeout: 5\n"
    )
    monkeypatch.setenv("SWT_VAULT_ADDR", openbao_server.url)
    monkeypatch.setenv("SECRETWIRE_ENV", "production")
    with SecretManager.from_settings(tmp_path / "secretwire.yaml") as manager:
        resolved = manager.resolve(
            {
                "db": {
                    "user": f"${{secret:{ns}/db#user}}",
                    "password": f"${{secret:{ns}/db#password}}",
                },
                "api": f"${{secret:{ns}/api}}",
                "fallback": f"${{secret:{ns}/missing:-default}}",
            }
        )
        assert resolved == {
            "db": {"user": "app", "password": "pw-1"},
            "api": "key-1",
            "fallback": "default",
        }
        assert manager.health().ok


def test_from_options_checks_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        VaultProvider.from_options({"url": "https://x:1", "tokn": "t"}, base_dir=tmp_path)
    assert info.value.key == "tokn"
    with pytest.raises(ConfigError) as info:
        VaultProvider.from_options({}, base_dir=tmp_path)
    assert info.value.key == "url"
    with pytest.raises(ConfigError) as info:
        VaultProvider.from_options({"url": "https://x:1", "kv_version": 3}, base_dir=tmp_path)
    assert info.value.key == "kv_version"
    with pytest.raises(ConfigError) as info:
        VaultProvider.from_options({"url": "https://x:1", "timeout": "5"}, base_dir=tmp_path)
    assert info.value.key == "timeout"
    with pytest.raises(ConfigError) as info:
        VaultProvider.from_options(
            {"url": "https://x:1", "auth": "approle", "token_env": "T", "role_id": "r"},
            base_dir=tmp_path,
        )
    assert info.value.key == "token"
    with pytest.raises(ConfigError) as info:
        VaultProvider.from_options(
            {"url": "https://x:1", "token": "a", "token_env": "B"}, base_dir=tmp_path
        )
    assert info.value.key == "token_env"
    provider = VaultProvider.from_options(
        {"url": "https://vault:8200/", "token_file": "tok", "ca_cert": "ca.pem", "cas": True},
        base_dir=tmp_path,
    )
    assert provider._ca_cert == str(tmp_path / "ca.pem")
    source = provider._auth.login.token
    assert source is not None and source.path == tmp_path / "tok"
    assert repr(provider) == (
        "<VaultProvider name='vault' url='https://vault:8200' mount='secret' auth='token'>"
    )


def test_the_option_declaration_matches_the_constructor() -> None:
    check_options(VaultProvider)  # the docs' table: tests/unit/test_kit_options.py
    credentials = {option.name: option for option in VaultProvider.options if option.is_credential}
    assert sorted(credentials) == ["jwt", "role_id", "secret_id", "token"]
    # sent in a header or a JSON body: Vault issues ASCII ones (role IDs may be anything)
    assert [name for name, option in credentials.items() if not option.ascii_only] == ["role_id"]


def test_a_version_past_its_deletion_time_is_expired_by_the_kit(
    openbao_server: OpenBao, vault: VaultProvider, ns: str
) -> None:
    """A version's ``deletion_time`` is its ``expires_at``; the kit enforces it once
    for every provider (here: the client's clock is ahead of Vault's)."""
    name = f"{ns}/expiring"
    openbao_server.bao("kv", "metadata", "put", "-mount=secret", "-delete-version-after=1h", name)
    vault.set(name, "v")
    secret = vault.get(name)
    assert secret.expires_at is not None
    ahead = FakeClock(epoch=secret.expires_at + timedelta(seconds=1))
    with ahead.installed(), pytest.raises(SecretExpired) as info:
        vault.get(name)
    assert not isinstance(info.value, SecretNotFound)  # a default does not replace it


def test_missing_hvac_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hvac", None)  # what an absent package looks like
    with pytest.raises(ImportError, match=r"pip install 'secretwire\[vault\]'"):
        VaultProvider("http://127.0.0.1:1", token="t")
