"""Provider options filled from a bootstrap secret are used, and never shown.

A settings environment with ``bootstrap`` may take any option from a secret
(``mount: ${secret:vault/mount}``). Such a value reaches the provider as a
``SecretValue``: errors, health details and reprs show ``<from a secret>`` instead
(issue 8, item 5). Each test loads a real settings file (``secretwire.settings``)
whose bootstrap environment is the ``env`` provider, with canaries as the values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

import pytest

from secretwire import AccessDenied, ConfigError, ProviderError, SecretManager
from secretwire.providers.base import HIDDEN, HealthStatus
from secretwire.testing import CANARY, assert_no_leak
from tests.servers.openbao import OpenBao

#: ASCII canaries for options that must stay ASCII (names, paths, variable names).
MOUNT = f"mount-canary-{uuid.uuid4().hex[:8]}"
VARIABLE = f"SWT_CANARY_{uuid.uuid4().hex[:8].upper()}"


def _settings(tmp_path: Path, provider: str, options: dict[str, str]) -> Path:
    lines = [
        "environments:",
        "  boot:",
        "    provider: env",
        "    options: {prefix: SWT_BOOT_}",
        "  main:",
        f"    provider: {provider}",
        "    bootstrap: boot",
        "    options:",
    ]
    lines += [f"      {key}: {value}" for key, value in options.items()]
    path = tmp_path / "secretwire.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _boot(monkeypatch: pytest.MonkeyPatch, **secrets: str) -> None:
    """Put each bootstrap secret where the ``env`` provider (prefix SWT_BOOT_) reads it."""
    for name, value in secrets.items():
        monkeypatch.setenv(f"SWT_BOOT_{name.upper()}", value)


def _assert_not_shown(texts: Iterable[str], *hidden: str) -> None:
    for text in texts:
        for value in hidden:
            assert value not in text, text


def test_vault_options_from_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, openbao_server: OpenBao
) -> None:
    token = openbao_server.token("secretwire-rw")
    _boot(monkeypatch, url=openbao_server.url, token=token, mount=MOUNT)
    path = _settings(
        tmp_path,
        "vault",
        {"url": "${secret:url}", "token": "${secret:token}", "mount": "${secret:mount}"},
    )
    with SecretManager.from_settings(path, environment="main") as manager:
        health = manager.health()
        assert health.status is HealthStatus.UNAVAILABLE  # no such mount
        assert HIDDEN in health.detail
        with pytest.raises(AccessDenied) as info:
            manager.get("db/password")
        texts = [health.detail, str(info.value), repr(manager.provider)]
        _assert_not_shown(texts, MOUNT, openbao_server.url, token)
        assert_no_leak(info.value, token)
    _boot(monkeypatch, mount="secret")
    with SecretManager.from_settings(path, environment="main") as manager:
        health = manager.health()
        assert health.ok, health.detail
        manager.set("from-bootstrap/x", CANARY)
        assert manager.get("from-bootstrap/x").reveal() == CANARY
        _assert_not_shown([health.detail, repr(manager.provider)], openbao_server.url, token)


def test_aws_options_from_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_server: str
) -> None:
    _boot(monkeypatch, endpoint=moto_server, region="eu-north-1", role=f"arn-{CANARY}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    path = _settings(
        tmp_path,
        "aws",
        {"endpoint_url": "${secret:endpoint}", "region": "${secret:region}"},
    )
    with SecretManager.from_settings(path, environment="main") as manager:
        manager.set("from-bootstrap/x", "works")
        assert manager.get("from-bootstrap/x").reveal() == "works"
        _assert_not_shown([repr(manager.provider)], moto_server, "eu-north-1")
    _boot(monkeypatch, key=VARIABLE)
    monkeypatch.delenv(VARIABLE, raising=False)
    path = _settings(
        tmp_path,
        "aws",
        {
            "endpoint_url": "${secret:endpoint}",
            "region": "${secret:region}",
            "access_key_id_env": "${secret:key}",
            "secret_access_key_env": "SWT_SOME_OTHER_VARIABLE",
        },
    )
    with SecretManager.from_settings(path, environment="main") as manager:
        with pytest.raises(ConfigError) as info:
            manager.get("from-bootstrap/x")
        health = manager.health()
    assert not health.ok
    _assert_not_shown([str(info.value), health.detail], VARIABLE, moto_server)


def test_azure_options_from_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.servers.harness import free_port

    port = free_port()
    url = f"https://127.0.0.1:{port}"
    _boot(monkeypatch, url=url, tenant=f"tenant-{CANARY}", client="client-id", variable=VARIABLE)
    monkeypatch.setenv(VARIABLE, "a-client-secret")
    path = _settings(
        tmp_path,
        "azure",
        {
            "vault_url": "${secret:url}",
            "credential": "managed_identity",
            "retries": "0",
            "timeout": "5",
        },
    )
    path.write_text(path.read_text().replace("'0'", "0").replace("'5'", "5"))
    with SecretManager.from_settings(path, environment="main") as manager:
        with pytest.raises(ProviderError) as info:
            manager.get("db-password")
        health = manager.health()
        texts = [str(info.value), health.detail, repr(manager.provider)]
    _assert_not_shown(texts, url, str(port))
    path = _settings(
        tmp_path,
        "azure",
        {
            "vault_url": "${secret:url}",
            "credential": "client_secret",
            "tenant_id": "${secret:tenant}",
            "client_id": "${secret:client}",
            "client_secret_env": "${secret:variable}",
        },
    )
    with pytest.raises(ConfigError) as invalid:  # the tenant id holds invalid characters
        SecretManager.from_settings(path, environment="main")
    _assert_not_shown([str(invalid.value)], CANARY, VARIABLE, "a-client-secret")
    assert_no_leak(invalid.value, "a-client-secret")


def test_file_options_from_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = f"store-{uuid.uuid4().hex[:8]}"
    _boot(monkeypatch, path=f"{folder}/dev.store", keyfile=f"{folder}/dev.key", keyenv=VARIABLE)
    path = _settings(tmp_path, "file", {"path": "${secret:path}", "key_file": "${secret:keyfile}"})
    with SecretManager.from_settings(path, environment="main") as manager:
        manager.set("a", "b")
        assert (tmp_path / folder / "dev.store").is_file()
        assert (tmp_path / folder / "dev.key").is_file()
        assert folder not in repr(manager.provider)
    (tmp_path / folder / "dev.store").write_bytes(b"not a store")
    with SecretManager.from_settings(path, environment="main") as manager:
        with pytest.raises(ProviderError) as corrupted:
            manager.get("a")
        health = manager.health()
    _assert_not_shown([str(corrupted.value), health.detail], folder)
    monkeypatch.delenv(VARIABLE, raising=False)
    _boot(monkeypatch, path=f"{folder}/other.store")
    path = _settings(tmp_path, "file", {"path": "${secret:path}", "key_env": "${secret:keyenv}"})
    with (
        SecretManager.from_settings(path, environment="main") as manager,
        pytest.raises(ConfigError) as unset,
    ):
        manager.set("a", "b")
    _assert_not_shown([str(unset.value)], VARIABLE, folder)


def test_env_prefix_from_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _boot(monkeypatch, prefix=VARIABLE + "_")
    monkeypatch.setenv(f"{VARIABLE}_DB", "works")
    path = _settings(tmp_path, "env", {"prefix": "${secret:prefix}"})
    with SecretManager.from_settings(path, environment="main") as manager:
        assert manager.get("db").reveal() == "works"
        with pytest.raises(ProviderError) as missing:
            manager.get("other")
        _assert_not_shown([str(missing.value), repr(manager.provider)], VARIABLE)
