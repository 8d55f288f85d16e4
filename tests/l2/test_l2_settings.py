"""The ``l2:`` settings: checked with errors that name the key, composed by
``from_settings`` right below the manager's cache, the key from a file, a variable
or a bootstrap secret, and the ``redis`` extra named when it is missing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretwire import ConfigError, SecretManager
from secretwire.failover import BreakerLayer
from secretwire.l2.layer import L2Layer
from secretwire.lifecycle.watch import ChangeWatch
from secretwire.pipeline import CacheLayer
from secretwire.providers.localfile import LocalFileProvider
from secretwire.settings import parse_settings
from secretwire.testing import assert_no_leak
from tests.l2.fleet import layer_of, new_key, write_settings
from tests.servers.redis import RedisServer

URL = "redis://127.0.0.1:6379/0"


def _settings(l2: Any, **env: Any) -> dict[str, Any]:
    return {"environments": {"prod": {"provider": "env", "l2": l2, **env}}}


@pytest.mark.parametrize(
    ("l2", "env", "key", "words"),
    [
        ({"key_file": "k"}, {}, "environments.prod.l2.url", "url is required"),
        ({"url": "http://x", "key_file": "k"}, {}, "environments.prod.l2.url", "redis://"),
        ({"url": URL}, {}, "environments.prod.l2", "exactly one of"),
        ({"url": URL, "key_file": "k", "key_env": "K"}, {}, "environments.prod.l2", "exactly one"),
        ({"url": URL, "key": "c2VjcmV0"}, {}, "environments.prod.l2.key", "${secret:"),
        ({"url": URL, "key_file": "k", "ttl": 600}, {}, "environments.prod.l2.ttl", "at most"),
        (
            {"url": URL, "key_file": "k", "ttl": 60},
            {"cache": {"ttl": 30}},
            "environments.prod.l2.ttl",
            "30 s",
        ),
        ({"url": URL, "key_file": "k", "lock_wait": -1}, {}, "environments.prod.l2.lock_wait", ""),
        (
            {"url": URL, "key_file": "k", "invalidation": "yes"},
            {},
            "environments.prod.l2.invalidation",
            "",
        ),
        ({"url": URL, "key_file": "k", "hosts": []}, {}, "environments.prod.l2.hosts", "unknown"),
        ([URL], {}, "environments.prod.l2", "mapping"),
    ],
)
def test_settings_errors_name_the_key(
    l2: Any, env: dict[str, Any], key: str, words: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(_settings(l2, **env), source="s.yaml", base_dir=tmp_path)
    assert caught.value.key == key
    assert words in caught.value.reason


def test_the_defaults_follow_the_local_cache(tmp_path: Path) -> None:
    settings = parse_settings(
        _settings(
            {"url": URL, "key_env": "K"}, cache={"ttl": 60, "max_stale": 120, "negative_ttl": 5}
        ),
        source="s.yaml",
        base_dir=tmp_path,
    )
    spec = settings.environments["prod"].l2
    assert spec is not None
    assert (spec.ttl, spec.max_stale, spec.negative_ttl) == (60, 120, 5)
    assert (spec.prefix, spec.timeout, spec.invalidation) == ("secretwire:", 0.25, True)


def test_from_settings_puts_the_l2_below_the_cache_and_above_the_breaker(
    redis_server: RedisServer, tmp_path: Path, ns: str
) -> None:
    _, key_text = new_key()
    manager = SecretManager.from_settings(
        write_settings(tmp_path, redis_server.url, ns, key_text), environment="prod"
    )
    try:
        chain: list[type] = []
        handler: Any = manager._pipeline
        while hasattr(handler, "inner"):
            chain.append(type(handler))
            handler = handler.inner
        assert chain == [CacheLayer, ChangeWatch, L2Layer, BreakerLayer]
        manager.set("a", "1")
        assert manager.get("a").reveal() == "1"
        assert manager.metrics().l2.locks == 1
        assert any(
            note.startswith("l2: shared cache at redis://127.0.0.1")
            for note in manager.health().notes
        )
    finally:
        manager.close()


def test_a_key_file_others_may_read_is_refused(redis_server: RedisServer, tmp_path: Path) -> None:
    _, key_text = new_key()
    settings = write_settings(tmp_path, redis_server.url, "p:", key_text)
    (tmp_path / "l2.key").chmod(0o644)
    with pytest.raises(ConfigError) as caught:
        SecretManager.from_settings(settings, environment="prod")
    assert caught.value.key == "environments.prod.l2.key_file"
    assert "chmod 600" in caught.value.reason


@pytest.mark.parametrize("text", ["not a key", "c2hvcnQ="])
def test_a_malformed_key_is_refused_without_showing_it(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SW_L2_KEY", text)
    settings = parse_settings(
        _settings({"url": URL, "key_env": "SW_L2_KEY"}), source="s.yaml", base_dir=tmp_path
    )
    with pytest.raises(ConfigError) as caught:
        SecretManager.from_settings(settings, environment="prod")
    assert caught.value.key == "environments.prod.l2.key_env"
    assert_no_leak(caught.value, text)


def test_the_key_and_password_can_come_through_the_bootstrap(
    redis_server: RedisServer, tmp_path: Path, ns: str
) -> None:
    """``key: ${secret:...}`` resolves through the environment's bootstrap environment
    (a local store here), and the L2 works with it."""
    key, key_text = new_key()
    boot = LocalFileProvider(tmp_path / "boot.enc", key_file=tmp_path / "boot.key")
    boot.set("l2/key", key_text)
    boot.close()
    data = {
        "environments": {
            "boot": {"provider": "file", "options": {"path": "boot.enc", "key_file": "boot.key"}},
            "prod": {
                "provider": "file",
                "bootstrap": "boot",
                "options": {"path": "store.enc", "key_file": "store.key"},
                "l2": {"url": redis_server.url, "key": "${secret:l2/key}", "prefix": ns},
            },
        }
    }
    (tmp_path / "secretwire.yaml").write_text(yaml.safe_dump(data))
    manager = SecretManager.from_settings(tmp_path / "secretwire.yaml", environment="prod")
    try:
        manager.set("a", "1")
        assert manager.get("a").reveal() == "1"
        assert layer_of(manager).key.kid == key.kid
        assert manager.metrics().l2.locks == 1
    finally:
        manager.close()


def test_a_missing_redis_client_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key_text = new_key()
    settings = write_settings(tmp_path, URL, "p:", key_text)
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"secretwire\[redis\]"):
        SecretManager.from_settings(settings, environment="prod")


def test_the_l2_counters_are_exported(redis_server: RedisServer, tmp_path: Path, ns: str) -> None:
    from secretwire.metrics.prometheus import prometheus_text

    _, key_text = new_key()
    manager = SecretManager.from_settings(
        write_settings(tmp_path, redis_server.url, ns, key_text), environment="prod"
    )
    try:
        manager.set("a", "1")
        manager.get("a")
        text = prometheus_text(manager)
        assert 'secretwire_l2_locks_total{environment="prod",provider="file"} 1.0' in text
        assert "# TYPE secretwire_l2_available gauge" in text
        assert "# TYPE secretwire_l2_invalidation_delay_max gauge" in text
    finally:
        manager.close()
