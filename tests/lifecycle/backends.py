"""The persistent backends the lifecycle tests rotate secrets in, each as a settings
file a separate process can open (the file store, OpenBao, moto) and a provider the
test reads the outcome with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from secretwire import Secret, SecretProvider
from secretwire.providers.aws import AwsSecretsManagerProvider
from secretwire.providers.localfile import LocalFileProvider
from secretwire.providers.vault import VaultProvider
from tests.servers.moto import FAKE_KEYS, REGION
from tests.servers.openbao import OpenBao

ROOT = Path(__file__).resolve().parents[2]
HOOK = Path(__file__).with_name("system_hook.py")
WORKER = Path(__file__).with_name("kill_worker.py")


@dataclass
class Backend:
    """A settings file's environment ``options`` for one backend, the environment
    variables a process needs to open it, and a provider for the test's own reads."""

    kind: str
    options: dict[str, Any]
    provider: SecretProvider
    env: dict[str, str] = field(default_factory=dict)
    #: How a reader gets the current version (moto: by AWSCURRENT, see read_current).
    current: Callable[[str], Secret] | None = None

    def read_current(self, name: str) -> Secret:
        return self.current(name) if self.current else self.provider.get(name)

    def settings(self, folder: Path, secrets: dict[str, Any]) -> Path:
        path = folder / "secretwire.yaml"
        data = {
            "environments": {"test": {"provider": self.kind, "options": self.options}},
            "secrets": secrets,
        }
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return path

    def run(self, *args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """A Python process with this backend's variables (PYTHONPATH: the test's)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETWIRE_")}
        env |= self.env | {"PYTHONPATH": os.pathsep.join(sys.path)}
        return subprocess.run(
            [sys.executable, *args], input=stdin, capture_output=True, text=True,
            cwd=cwd, env=env, timeout=120, check=False,
        )  # fmt: skip


def system_policy(system: Path) -> dict[str, Any]:
    """A rotation policy whose apply and verify hooks are :mod:`system_hook` commands."""
    command = [sys.executable, str(HOOK)]
    return {
        "generator": {"type": "password", "length": 24},
        "apply": {"command": [*command, "apply", str(system)], "timeout": "30s"},
        "verify": {"command": [*command, "verify", str(system)], "timeout": "30s"},
    }


def file_backend(folder: Path) -> Iterator[Backend]:
    provider = LocalFileProvider(folder / "store.enc", key_file=folder / "store.key")
    provider.initialize()
    yield Backend(
        "file", {"path": str(folder / "store.enc"), "key_file": str(folder / "store.key")}, provider
    )
    provider.close()


def vault_backend(bao: OpenBao) -> Iterator[Backend]:
    token = bao.token("secretwire-rw")
    provider = VaultProvider(bao.url, token=token)
    yield Backend(
        "vault",
        {"url": bao.url, "token_env": "SWT_VAULT_TOKEN"},
        provider,
        {"SWT_VAULT_TOKEN": token},
    )
    provider.close()


def aws_backend(url: str) -> Iterator[Backend]:
    import boto3

    session = boto3.Session(region_name=REGION, **FAKE_KEYS)
    provider = AwsSecretsManagerProvider(endpoint_url=url, region=REGION, session=session)
    env = {
        "SWT_AWS_KEY": FAKE_KEYS["aws_access_key_id"],
        "SWT_AWS_SECRET": FAKE_KEYS["aws_secret_access_key"],
    }
    options = {
        "endpoint_url": url,
        "region": REGION,
        "access_key_id_env": "SWT_AWS_KEY",
        "secret_access_key_env": "SWT_AWS_SECRET",
    }

    def current(name: str) -> Secret:  # moto 5.2.5: see tests/lifecycle/test_aws_rotation.py
        return provider.get(name, version="AWSCURRENT")

    yield Backend("aws", options, provider, env, current)
    provider.close()


def stdin_json(**values: Any) -> str:
    return json.dumps(values)
