"""Fallback chains from the settings: the next provider is asked only when the one
before is unavailable (or, when configured, answered not found / denied); which one
served a value is in its provenance; ``health`` shows each link.

The first provider is a real file store that is unavailable (``create: false``,
its file missing) or available (its file created); the fallback is the ``env``
provider reading ``SWFB_*`` variables."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretwire import (
    ConfigError,
    HealthStatus,
    ProviderUnavailable,
    SecretManager,
    SecretNotFound,
)
from secretwire.cli import main
from secretwire.providers.localfile import LocalFileProvider
from secretwire.settings import Settings, parse_settings
from secretwire.testing import CANARY, FakeClock

SETTINGS = """
default_environment: prod
environments:
  prod:
    provider: file
    options: {path: prod.store, key_file: prod.key, create: false}
    cache: {enabled: false}
    fallback: [from-env]
    breaker: {failures: 3, reset_after: 10}
  from-env:
    provider: env
    options: {prefix: SWFB_}
"""


@pytest.fixture(autouse=True)
def _variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWFB_DB_PASSWORD", "from-env")
    monkeypatch.setenv("SWFB_API_KEY", "key-from-env")


def settings(folder: Path, text: str = SETTINGS, **changes: Any) -> Settings:
    data = yaml.safe_load(text)
    data["environments"]["prod"].update(changes)
    (folder / "secretwire.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return parse_settings(data, source="secretwire.yaml", base_dir=folder)


def store_up(folder: Path, **secrets: str) -> None:
    store = LocalFileProvider(folder / "prod.store", key_file=folder / "prod.key")
    for name, value in secrets.items():
        store.set(name, value)
    store.close()


def test_a_read_falls_back_while_the_first_provider_is_unavailable(tmp_path: Path) -> None:
    manager = SecretManager.from_settings(settings(tmp_path), timer=FakeClock())
    secret = manager.get("db/password")
    assert (secret.reveal(), secret.provider) == ("from-env", "env")
    resolution = manager.resolve_with_provenance(
        {"a": "${secret:db/password}", "b": "${secret:api/key}"}
    )
    assert resolution.value == {"a": "from-env", "b": "key-from-env"}
    assert {item.provider for item in resolution.provenance} == {"env"}

    store_up(tmp_path, **{"db/password": "from-file"})
    secret = manager.get("db/password")  # the same manager: the first provider again
    assert (secret.reveal(), secret.provider) == ("from-file", "file")


def test_not_found_in_the_first_provider_is_the_answer_by_default(tmp_path: Path) -> None:
    store_up(tmp_path, other="x")
    manager = SecretManager.from_settings(settings(tmp_path))
    with pytest.raises(SecretNotFound) as info:
        manager.get("db/password")
    assert info.value.provider == "file"
    resolved = manager.resolve({"a": "${secret:db/password:-fallback-default}"})
    assert resolved == {"a": "fallback-default"}


def test_fallback_on_not_found_when_configured(tmp_path: Path) -> None:
    store_up(tmp_path, other="x")
    chosen = settings(tmp_path, fallback_on=["unavailable", "not_found"])
    manager = SecretManager.from_settings(chosen)
    assert manager.get("db/password").provider == "env"
    with pytest.raises(SecretNotFound) as info:
        manager.get("nowhere")
    assert info.value.provider == "env"  # the last link's answer


def test_a_pinned_version_is_never_asked_of_the_next_provider(tmp_path: Path) -> None:
    manager = SecretManager.from_settings(settings(tmp_path))
    with pytest.raises(ProviderUnavailable) as info:
        manager.get("db/password", version="1")
    assert info.value.provider == "file"
    assert manager.value("db/password").reveal() == "from-env"


def test_writes_and_versions_go_to_the_first_provider_only(tmp_path: Path) -> None:
    manager = SecretManager.from_settings(settings(tmp_path))
    with pytest.raises(ProviderUnavailable):
        manager.set("db/password", "new")
    with pytest.raises(ProviderUnavailable):
        manager.versions("db/password")
    store_up(tmp_path, other="x")
    manager.set("db/password", "written")
    assert manager.get("db/password").reveal() == "written"
    assert manager.list() == ["db/password", "other"]


def test_list_falls_back_like_a_read(tmp_path: Path) -> None:
    manager = SecretManager.from_settings(settings(tmp_path))
    assert manager.list() == ["api_key", "db_password"]  # the env provider's names
    store_up(tmp_path, other="x")
    assert manager.list() == ["other"]


def test_when_every_link_is_unavailable_the_error_names_each(tmp_path: Path) -> None:
    text = SETTINGS.replace(
        "provider: env\n    options: {prefix: SWFB_}",
        "provider: file\n    options: {path: gone.store, key_file: gone.key, create: false}",
    )
    manager = SecretManager.from_settings(settings(tmp_path, text))
    with pytest.raises(ProviderUnavailable) as info:
        manager.get("db/password")
    message = str(info.value)
    assert "every provider of the chain is unavailable" in message
    assert "prod.store" in message
    assert "gone.store" in message
    results = manager.get_many([("db/password", None)])
    assert "every provider" in str(results[("db/password", None)])


def test_an_open_circuit_goes_straight_to_the_fallback(tmp_path: Path) -> None:
    clock = FakeClock()
    manager = SecretManager.from_settings(settings(tmp_path), timer=clock)
    for _ in range(3):
        manager.get("db/password")
    first, second = manager.metrics().backends
    assert first.circuit is not None
    assert (first.circuit.state, first.provider, second.provider) == ("open", "file", "env")
    calls = first.stats.calls
    assert manager.get("db/password").provider == "env"
    assert manager.metrics().backends[0].stats.calls == calls
    store_up(tmp_path, **{"db/password": "from-file"})
    clock.advance(10)
    assert manager.get("db/password").provider == "file"
    assert manager.metrics().backends[0].circuit.state == "closed"  # type: ignore[union-attr]


def test_one_warning_per_outage(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWFB_DB_PASSWORD", CANARY)
    caplog.set_level(logging.DEBUG, logger="secretwire")
    manager = SecretManager.from_settings(settings(tmp_path, breaker=False))
    for _ in range(3):
        manager.get("db/password")
    manager.get_many([("db/password", None), ("api/key", None)])
    store_up(tmp_path, **{"db/password": "x"})
    manager.get("db/password")
    assert CANARY not in caplog.text
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 2
    assert messages[0].startswith("fallback: file (prod) unavailable")
    assert messages[0].endswith("asking env (from-env)")
    assert messages[1] == "fallback: file (prod) answers again"


def test_health_shows_each_link(tmp_path: Path) -> None:
    manager = SecretManager.from_settings(settings(tmp_path))
    health = manager.health()
    assert health.status is HealthStatus.DEGRADED
    assert health.detail == "file is unavailable: served by env"
    assert [(link.provider, link.status.value) for link in health.links] == [
        ("file", "unavailable"),
        ("env", "ok"),
    ]
    assert [link.circuit for link in health.links] == ["closed", "closed"]
    store_up(tmp_path, other="x")
    assert manager.health().ok


def test_the_health_command_prints_each_link_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings(tmp_path)
    config = str(tmp_path / "secretwire.yaml")
    assert main(["--config", config, "--env", "prod", "health"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("file (prod): degraded in ")
    assert lines[0].endswith(": file is unavailable: served by env")
    assert lines[1].startswith("  1. file: unavailable in ")
    assert lines[2].startswith("  2. env: ok in ")
    assert main(["--config", config, "--env", "prod", "health", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["environment"], data["status"], data["ok"]) == ("prod", "degraded", False)
    assert [(link["provider"], link["status"], link["circuit"]) for link in data["links"]] == [
        ("file", "unavailable", "closed"),
        ("env", "ok", "closed"),
    ]
    assert isinstance(data["latency_ms"], float)


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"fallback": ["nope"]}, "environments.prod.fallback[0]", "another environment"),
        ({"fallback": ["prod"]}, "environments.prod.fallback[0]", "another environment"),
        ({"fallback": ["from-env", "from-env"]}, "environments.prod.fallback", "twice"),
        ({"fallback": {"a": 1}}, "environments.prod.fallback", "list of names"),
        ({"fallback_on": ["sometimes"]}, "environments.prod.fallback_on[0]", "one of"),
        ({"fallback_on": ["not_found"]}, "environments.prod.fallback_on", "unavailable"),
        ({"breaker": {"failure": 2}}, "environments.prod.breaker.failure", "unknown key"),
        ({"breaker": {"failures": 0}}, "environments.prod.breaker.failures", "positive"),
        ({"breaker": {"reset_after": -1}}, "environments.prod.breaker.reset_after", "seconds"),
        (
            {"breaker": {"reset_after": 60, "max_reset_after": 30}},
            "environments.prod.breaker.max_reset_after",
            "at least reset_after",
        ),
        ({"breaker": "yes"}, "environments.prod.breaker", "mapping"),
    ],
)
def test_settings_errors_name_the_file_and_key(
    tmp_path: Path, changes: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        settings(tmp_path, **changes)
    assert (info.value.source, info.value.key) == ("secretwire.yaml", key)
    assert words in str(info.value)


def test_the_single_provider_form_is_unchanged(tmp_path: Path) -> None:
    chosen = settings(tmp_path)
    env = chosen.environments["from-env"]
    assert env.failover.fallback == ()
    assert env.failover.breaker.enabled
    manager = SecretManager.from_settings(chosen, environment="from-env")
    assert len(manager.metrics().backends) == 1
    health = manager.health()
    assert (health.links, health.circuit) == ((), "closed")
