"""``provider: auto``: which provider the environment variables pick, with which
options, and ``health`` saying what was picked and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from secretwire import ConfigError, SecretManager
from secretwire.cli import main
from secretwire.failover.detect import VARIABLES, detect
from secretwire.settings import parse_settings

VAULT = "https://vault.example.com:8200"
NONE = "no Vault, AWS or Azure address, credentials or region is configured"
AZURE = "https://myvault.vault.azure.net"


@pytest.mark.parametrize(
    ("environ", "picked", "reason"),
    [
        ({}, "file", NONE),
        ({"VAULT_ADDR": VAULT}, "vault", "$VAULT_ADDR is set"),
        ({"BAO_ADDR": VAULT}, "vault", "$BAO_ADDR is set"),
        (
            {"VAULT_ADDR": ""},
            "file",
            "no Vault, AWS or Azure address, credentials or region is configured",
        ),
        ({"AWS_ACCESS_KEY_ID": "AKIA"}, "aws", "$AWS_ACCESS_KEY_ID is set"),
        ({"AWS_PROFILE": "prod"}, "aws", "$AWS_PROFILE is set"),
        ({"AWS_REGION": "eu-west-1"}, "aws", "$AWS_REGION is set"),
        ({"AWS_DEFAULT_REGION": "eu-west-1"}, "aws", "$AWS_DEFAULT_REGION is set"),
        ({"AWS_WEB_IDENTITY_TOKEN_FILE": "/t"}, "aws", "$AWS_WEB_IDENTITY_TOKEN_FILE is set"),
        ({"AZURE_KEYVAULT_URL": AZURE}, "azure", "$AZURE_KEYVAULT_URL is set"),
        # Vault first, then AWS, then Azure.
        ({"AWS_REGION": "eu-west-1", "VAULT_ADDR": VAULT}, "vault", "$VAULT_ADDR is set"),
        ({"AZURE_KEYVAULT_URL": AZURE, "AWS_PROFILE": "p"}, "aws", "$AWS_PROFILE is set"),
    ],
)
def test_the_environment_variable_matrix(environ: dict[str, str], picked: str, reason: str) -> None:
    detection = detect({}, environ)
    assert (detection.provider, detection.reason) == (picked, reason)
    assert detection.note == f"provider auto picked {picked}: {reason}"


def test_the_picked_provider_gets_its_options_and_the_address() -> None:
    options = {"vault": {"mount": "kv"}, "file": {"path": "x.store"}}
    vault = detect(options, {"VAULT_ADDR": VAULT})
    assert vault.options == {"mount": "kv", "url": VAULT}
    given = detect({"vault": {"url": "https://other:8200"}}, {"VAULT_ADDR": VAULT})
    assert given.options == {"url": "https://other:8200"}  # the settings win
    bao = detect({}, {"BAO_ADDR": VAULT, "BAO_TOKEN": "t"})
    assert bao.options == {"url": VAULT, "token_env": "BAO_TOKEN"}
    assert detect({}, {"AZURE_KEYVAULT_URL": AZURE}).options == {"vault_url": AZURE}
    assert detect(options, {}).options == {"path": "x.store"}
    assert detect({}, {}).options == {
        "path": ".secretwire/dev.store",
        "key_file": ".secretwire/dev.key",
    }


@pytest.mark.parametrize(
    ("options", "picked", "reason"),
    [
        ({"vault": {"url": VAULT}}, "vault", "options.vault.url is given"),
        ({"aws": {"region": "eu-west-1"}}, "aws", "options.aws.region is given"),
        ({"aws": {"profile": "p"}}, "aws", "options.aws.profile is given"),
        ({"azure": {"vault_url": AZURE}}, "azure", "options.azure.vault_url is given"),
    ],
)
def test_options_that_configure_a_provider_pick_it(
    options: dict[str, dict[str, str]], picked: str, reason: str
) -> None:
    assert (detect(options, {}).provider, detect(options, {}).reason) == (picked, reason)


AUTO = """
environments:
  app:
    provider: auto
    options:
      vault: {token: t, timeout: 1, read_retries: 0}
      file: {path: app.store, key_file: app.key}
"""


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def _write(folder: Path, text: str = AUTO) -> str:
    path = folder / "secretwire.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_health_says_what_was_picked_and_why(
    tmp_path: Path, clean: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(tmp_path)
    with SecretManager.from_settings(config) as manager:
        assert manager.provider.name == "file"
        health = manager.health()
    assert health.ok
    assert health.notes == (
        "provider auto picked file: no Vault, AWS or Azure address, credentials or region "
        "is configured",
    )
    clean.setenv("VAULT_ADDR", "http://127.0.0.1:9")
    assert main(["--config", config, "health"]) == 1  # nothing listens there
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("vault (app): unavailable in ")
    assert out[1] == "  note: vault: provider auto picked vault: $VAULT_ADDR is set"
    assert main(["--config", config, "health", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["notes"] == [
        "provider auto picked vault: $VAULT_ADDR is set"
    ]


def test_an_error_in_the_picked_options_names_their_key(
    tmp_path: Path, clean: pytest.MonkeyPatch
) -> None:
    clean.setenv("VAULT_ADDR", "http://vault.internal:8200")  # remote http: refused
    with pytest.raises(ConfigError) as info:
        SecretManager.from_settings(_write(tmp_path))
    assert info.value.key == "environments.app.options.vault.url"


def test_auto_options_are_checked_per_candidate(tmp_path: Path) -> None:
    for options, key in (
        ({"vaul": {}}, "environments.app.options.vaul"),
        ({"file": "x.store"}, "environments.app.options.file"),
    ):
        data = {"environments": {"app": {"provider": "auto", "options": options}}}
        with pytest.raises(ConfigError) as info:
            parse_settings(yaml.safe_load(yaml.safe_dump(data)), source="s.yaml", base_dir=tmp_path)
        assert info.value.key == key


def test_settings_know_the_lazily_loaded_sections_keys() -> None:
    """``secretwire.settings`` names ``auto`` and the ``l2`` key itself so that it loads
    ``failover.detect`` and ``l2.config`` only when a settings file uses them."""
    from secretwire import settings
    from secretwire.failover import detect as detect_module
    from secretwire.l2 import config as l2_config

    assert settings.AUTO == detect_module.AUTO
    assert l2_config.KEYS <= settings._ENV_KEYS
