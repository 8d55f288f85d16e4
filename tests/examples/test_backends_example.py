"""One settings file switches the example app between file, Vault, AWS and Azure.

The app, its config.yaml and its secretwire.yaml never change between runs: only
APP_ENV (and the backend's usual connection variables) does. Each backend holds a
different value for the same secret name, so the output proves which one served it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from secretwire import SecretManager
from tests.examples import support
from tests.servers.moto import FAKE_KEYS, REGION
from tests.servers.openbao import OpenBao

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "backends"
NAMES = ("orders/db-password", "orders/payments-api-key")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("app.py", "config.yaml", "secretwire.yaml"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    return tmp_path


def _run(project: Path, app_env: str, **env: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "app.py", "--reveal"]
    return support.run(args, project, drop=("AWS_", "VAULT_", "AZURE_"), APP_ENV=app_env, **env)


def _seed(project: Path, environment: str, label: str, env: dict[str, str]) -> str:
    """Write both secrets through secretwire itself, as an operator would."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        with SecretManager.from_settings(
            project / "secretwire.yaml", environment=environment
        ) as secrets:
            for name in NAMES:
                secrets.set(name, f"{label}-{name}-value")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return _digest(f"{label}-orders/payments-api-key-value")


def _check(result: subprocess.CompletedProcess[str], environment: str, provider: str, digest: str):
    assert result.returncode == 0, result.stderr
    assert f"environment: {environment} (provider {provider})" in result.stdout
    assert f"payments.api_key sha256: {digest}" in result.stdout
    assert "payments.api_key: ${secret:orders/payments-api-key} <- " + provider in (result.stdout)
    assert "-value" not in result.stdout + result.stderr  # fingerprints only


def test_development_uses_the_encrypted_local_store(project: Path) -> None:
    (project / ".secretwire").mkdir()
    digest = _seed(project, "development", "file", {})
    _check(_run(project, "development"), "development", "file", digest)


def test_vault_environment(project: Path, openbao_server: OpenBao) -> None:
    env = {"VAULT_ADDR": openbao_server.url, "VAULT_TOKEN": openbao_server.root_token}
    digest = _seed(project, "vault", "vault", env)
    _check(_run(project, "vault", **env), "vault", "vault", digest)


def test_aws_environment(project: Path, moto_server: str) -> None:
    env = {"AWS_ENDPOINT_URL": moto_server, "AWS_REGION": REGION, **_aws_keys()}
    digest = _seed(project, "aws", "aws", env)
    _check(_run(project, "aws", **env), "aws", "aws", digest)


def test_one_variable_switches_the_backend(
    project: Path, openbao_server: OpenBao, moto_server: str
) -> None:
    """Same folder, same files, three backends: only APP_ENV differs between runs."""
    (project / ".secretwire").mkdir()
    env = {
        "VAULT_ADDR": openbao_server.url,
        "VAULT_TOKEN": openbao_server.root_token,
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_REGION": REGION,
        **_aws_keys(),
    }
    digests = {
        environment: _seed(project, environment, f"switch-{environment}", env)
        for environment in ("development", "vault", "aws")
    }
    assert len(set(digests.values())) == 3
    for environment, provider in (("development", "file"), ("vault", "vault"), ("aws", "aws")):
        _check(_run(project, environment, **env), environment, provider, digests[environment])


def test_azure_environment_selects_the_key_vault_provider(project: Path) -> None:
    """No Key Vault emulator runs on this machine (see docs/providers/azure.md), so this
    shows only the switch: APP_ENV=azure builds the azure provider, which reports the
    (closed) endpoint as unavailable instead of falling back to another backend."""
    result = _run(project, "azure", AZURE_KEYVAULT_URL="https://127.0.0.1:9/")
    assert result.returncode != 0
    assert "environment: azure (provider azure)" in result.stdout
    assert "unavailable" in result.stderr


def _aws_keys() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": FAKE_KEYS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": FAKE_KEYS["aws_secret_access_key"],
    }
