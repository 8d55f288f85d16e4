"""TLS is enforced once, in the kit's ``plain_url``: ``http://`` to another host is
refused for every URL option (Vault's ``url``, AWS's ``endpoint_url`` and
``sts_endpoint_url``), except on loopback or with ``insecure: true``, which ``health``
and ``check`` then warn about. Neither the error nor the warning shows the URL."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from secretwire import ConfigError, SecretManager
from secretwire.cli import main
from secretwire.providers.aws import AwsSecretsManagerProvider
from secretwire.providers.base import plain_url
from secretwire.providers.vault import VaultProvider
from secretwire.settings import parse_settings


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8200",
        "http://127.9.9.9:8200",
        "http://localhost:8200",
        "http://LOCALHOST.:8200",
        "http://[::1]:8200",
        "https://vault.example.com",
        "https://10.0.0.7:8200",
    ],
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert plain_url(url, "url") == url


@pytest.mark.parametrize(
    "url",
    [
        "http://vault.example.com:8200",
        "http://10.0.0.7:8200",
        "http://[2001:db8::1]:8200",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ],
)
def test_http_to_another_host_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        plain_url(url, "url")
    assert info.value.key == "url"
    assert "must be https://" in str(info.value)
    assert url.split("//")[1].split(":", maxsplit=1)[0].strip("[]") not in str(info.value)
    assert plain_url(url, "url", insecure=True) == url


def _settings(folder: Path, options: str) -> object:
    text = f"""
environments:
  prod:
    provider: vault
    options: {options}
"""
    (folder / "secretwire.yaml").write_text(text, encoding="utf-8")
    return parse_settings(yaml.safe_load(text), source="secretwire.yaml", base_dir=folder)


def test_a_remote_http_vault_url_is_refused_naming_the_settings_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "{url: 'http://vault.invalid:8200', token: t}")
    with pytest.raises(ConfigError) as info:
        SecretManager.from_settings(settings)  # type: ignore[arg-type]
    assert info.value.key == "environments.prod.options.url"
    assert "vault.invalid" not in str(info.value)


def test_insecure_allows_it_and_health_and_check_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = (
        "{url: 'http://vault.invalid:8200', token: t, insecure: true, timeout: 1, read_retries: 0}"
    )
    settings = _settings(tmp_path, options)
    manager = SecretManager.from_settings(settings)  # type: ignore[arg-type]
    warning = (
        "url is plain http:// to another host (allowed by insecure: true): tokens and values "
        "cross the network unencrypted"
    )
    assert manager.warnings() == [f"vault: {warning}"]
    assert manager.health().warnings == (warning,)
    config = str(tmp_path / "secretwire.yaml")
    main(["--config", config, "health"])
    assert f"warning: vault: {warning}" in capsys.readouterr().err.splitlines()
    (tmp_path / "app.yaml").write_text("plain: text\n", encoding="utf-8")
    assert main(["--config", config, "check", str(tmp_path / "app.yaml")]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"warning: vault: {warning}"]
    assert "vault.invalid" not in captured.err + captured.out


def test_loopback_http_and_https_do_not_warn() -> None:
    assert VaultProvider("http://127.0.0.1:8200", token="t").warnings == ()
    assert VaultProvider("https://vault.example.com", token="t", insecure=True).warnings == ()


@pytest.mark.parametrize("option", ["endpoint_url", "sts_endpoint_url"])
def test_aws_endpoints_are_enforced_the_same_way(option: str) -> None:
    with pytest.raises(ConfigError) as info:
        AwsSecretsManagerProvider(region="us-east-1", **{option: "http://10.1.2.3:4566"})
    assert info.value.key == option
    provider = AwsSecretsManagerProvider(
        region="us-east-1", insecure=True, **{option: "http://10.1.2.3:4566"}
    )
    assert len(provider.warnings) == 1
    assert provider.warnings[0].startswith(f"{option} is plain http:// to another host")
    local = AwsSecretsManagerProvider(region="us-east-1", **{option: "http://127.0.0.1:5000"})
    assert local.warnings == ()


def test_the_option_is_declared_once_for_both_providers() -> None:
    assert VaultProvider.options["insecure"] is AwsSecretsManagerProvider.options["insecure"]
