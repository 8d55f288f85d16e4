"""Fault tests against the real servers: a fallback chain (OpenBao, then moto's AWS
Secrets Manager, then the encrypted file store) while OpenBao is stopped, hung
(SIGSTOP) and restarted, and while moto is stopped too.

* the chain serves from the next provider while the one before is down;
* its circuit breaker opens, so later reads go straight to the fallback;
* the same manager recovers once the server is back, without a restart (the
  circuit goes half-open, the probe succeeds, it closes).

Each test prints its timings (``pytest -s``); the asserted bounds are generous."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from secretwire import HealthStatus, SecretManager
from secretwire.providers.localfile import LocalFileProvider
from tests.servers.faults import stop_process
from tests.servers.harness import ServerProcess, running
from tests.servers.moto import REGION, fake_session
from tests.servers.moto import _start as start_moto
from tests.servers.openbao import OpenBao, openbao

RESET_AFTER = 1.0
VAULT_TIMEOUT = 1.0


@pytest.fixture
def bao() -> Iterator[OpenBao]:
    with openbao("openbao-failover") as server:
        yield server


@pytest.fixture
def moto() -> Iterator[ServerProcess]:
    """A moto server of this test's own, which the test may stop."""
    with running("moto-failover", lambda: start_moto("moto-failover")) as server:
        yield server


@pytest.fixture
def chain(
    bao: OpenBao, moto: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ns: str
) -> Iterator[tuple[SecretManager, str]]:
    """A manager for vault -> aws -> file, each holding ``NAME`` with its own value."""
    monkeypatch.setenv("SWF_BAO_TOKEN", bao.root_token)
    monkeypatch.setenv("SWF_AWS_KEY", "testing")
    monkeypatch.setenv("SWF_AWS_SECRET", "testing")
    settings = {
        "default_environment": "prod",
        "environments": {
            "prod": {
                "provider": "vault",
                "options": {
                    "url": bao.url,
                    "token_env": "SWF_BAO_TOKEN",
                    "timeout": VAULT_TIMEOUT,
                    "read_retries": 0,
                },
                "cache": {"enabled": False},
                "fallback": ["aws", "local"],
                "breaker": {"failures": 2, "reset_after": RESET_AFTER},
            },
            "aws": {
                "provider": "aws",
                "options": {
                    "endpoint_url": moto.url,
                    "region": REGION,
                    "access_key_id_env": "SWF_AWS_KEY",
                    "secret_access_key_env": "SWF_AWS_SECRET",
                    "max_attempts": 1,
                    "connect_timeout": 1,
                    "read_timeout": 2,
                },
            },
            "local": {"provider": "file", "options": {"path": "local.store", "key_file": "l.key"}},
        },
    }
    path = tmp_path / "secretwire.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    name = f"{ns}/db-password"
    client = fake_session().client("secretsmanager", endpoint_url=moto.url)
    client.create_secret(Name=name, SecretString="from-aws")
    store = LocalFileProvider(tmp_path / "local.store", key_file=tmp_path / "l.key")
    store.set(name, "from-file")
    store.close()
    with SecretManager.from_settings(path) as manager:
        manager.set(name, "from-vault")  # writes go to the first provider
        yield manager, name


def timed(manager: SecretManager, name: str) -> tuple[str, str | None, float]:
    started = time.perf_counter()
    secret = manager.get(name)
    return secret.reveal(), secret.provider, time.perf_counter() - started


def circuit(manager: SecretManager, position: int = 0) -> str:
    stats = manager.metrics().backends[position].circuit
    assert stats is not None
    return stats.state


def wait_for_probe(manager: SecretManager) -> None:
    stats = manager.metrics().backends[0].circuit
    assert stats is not None
    time.sleep(stats.retry_in + 0.05)


def test_stopped_openbao_falls_back_to_aws_and_the_same_manager_recovers(
    bao: OpenBao, chain: tuple[SecretManager, str]
) -> None:
    manager, name = chain
    assert timed(manager, name)[:2] == ("from-vault", "vault")

    bao.process.stop()
    first = timed(manager, name)
    second = timed(manager, name)
    assert first[:2] == second[:2] == ("from-aws", "aws")
    assert circuit(manager) == "open"
    vault_calls = manager.metrics().backends[0].stats.calls
    fast = timed(manager, name)
    assert fast[:2] == ("from-aws", "aws")
    assert manager.metrics().backends[0].stats.calls == vault_calls  # failed fast
    health = manager.health()
    assert health.status is HealthStatus.DEGRADED
    assert [(link.provider, link.status.value, link.circuit) for link in health.links] == [
        ("vault", "unavailable", "open"),
        ("aws", "ok", "closed"),
        ("file", "ok", "closed"),
    ]

    bao.restart()  # same port and token; a dev server starts empty
    bao.api("POST", f"secret/data/{name}", {"data": {"value": "from-vault-again"}})
    wait_for_probe(manager)
    back = time.perf_counter()
    assert timed(manager, name)[:2] == ("from-vault-again", "vault")
    recovered = time.perf_counter() - back
    assert circuit(manager) == "closed"
    assert manager.health().ok
    print(
        f"\nstopped OpenBao: fallback read {first[2] * 1000:.1f} ms, "
        f"{second[2] * 1000:.1f} ms; with the circuit open {fast[2] * 1000:.1f} ms; "
        f"recovery read (half-open probe) {recovered * 1000:.1f} ms"
    )
    assert fast[2] < 1.0


def test_hung_openbao_falls_back_within_its_timeout(
    bao: OpenBao, chain: tuple[SecretManager, str]
) -> None:
    manager, name = chain
    assert timed(manager, name)[1] == "vault"
    pid = bao.process.process.pid
    stop_process(pid)
    try:
        first = timed(manager, name)
        second = timed(manager, name)
        fast = timed(manager, name)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert first[:2] == second[:2] == fast[:2] == ("from-aws", "aws")
    # One Vault timeout, then AWS: generous margin for a loaded machine.
    assert VAULT_TIMEOUT * 0.9 <= first[2] < VAULT_TIMEOUT + 4
    assert fast[2] < 1.0  # the circuit is open: Vault is not waited for
    wait_for_probe(manager)
    assert timed(manager, name)[:2] == ("from-vault", "vault")
    assert circuit(manager) == "closed"
    print(
        f"\nhung OpenBao (timeout {VAULT_TIMEOUT:.0f} s): fallback read {first[2]:.2f} s, "
        f"{second[2]:.2f} s; with the circuit open {fast[2] * 1000:.1f} ms"
    )


def test_the_file_store_serves_when_openbao_and_moto_are_both_down(
    bao: OpenBao, chain: tuple[SecretManager, str], moto: ServerProcess
) -> None:
    manager, name = chain
    bao.process.stop()
    assert timed(manager, name)[:2] == ("from-aws", "aws")
    moto.stop()
    reads = [timed(manager, name) for _ in range(6)]  # aws: default breaker, 5 failures
    assert {read[:2] for read in reads} == {("from-file", "file")}
    assert (circuit(manager, 0), circuit(manager, 1), circuit(manager, 2)) == (
        "open",
        "open",
        "closed",
    )
    resolution = manager.resolve_with_provenance({"db": {"password": f"${{secret:{name}}}"}})
    assert resolution.value == {"db": {"password": "from-file"}}
    assert [item.provider for item in resolution.provenance] == ["file"]
    print(f"\nOpenBao and moto down: file-store reads {[round(r[2] * 1000, 1) for r in reads]} ms")
