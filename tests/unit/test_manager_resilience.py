"""The manager's cache policy and deadlines over the in-memory provider (a real
provider), and their settings. Outages of real servers: tests/resilience/."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from secretwire import (
    ConfigError,
    Secret,
    SecretManager,
    SecretNotFound,
    deadlines,
    load_settings,
    register_provider,
)
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import FakeClock

DEFAULTED = "${secret:feature/flag:-off}"


def test_a_default_reference_reaches_the_backend_once_per_negative_ttl() -> None:
    memory = MemoryProvider({"db/pw": "pw"})
    clock = FakeClock()
    with SecretManager(memory, timer=clock, cache_negative_ttl=10) as manager:
        for _ in range(5):
            assert manager.value(DEFAULTED).reveal() == "off"
            with pytest.raises(SecretNotFound):
                manager.get("feature/flag")
        assert memory.calls["get"] == 1
        assert manager.metrics().negative_hits == 9
        memory.set("feature/flag", "on")  # another client: seen once the entry expires
        assert manager.value(DEFAULTED).reveal() == "off"
        clock.advance(10)
        assert manager.value(DEFAULTED).reveal() == "on"


def test_a_write_through_the_manager_clears_the_negative_entry() -> None:
    memory = MemoryProvider()
    with SecretManager(memory, timer=FakeClock()) as manager:
        assert manager.value(DEFAULTED).reveal() == "off"
        manager.set("feature/flag", "on")
        assert manager.value(DEFAULTED).reveal() == "on"
        manager.delete("feature/flag")
        assert manager.value(DEFAULTED).reveal() == "off"


def test_negative_caching_off_reads_the_backend_every_time() -> None:
    memory = MemoryProvider()
    with SecretManager(memory, timer=FakeClock(), cache_negative_ttl=0) as manager:
        for _ in range(3):
            manager.value(DEFAULTED)
        assert memory.calls["get"] == 3


def test_a_fresh_secret_has_no_stale_age() -> None:
    with SecretManager(MemoryProvider({"a": "1"}), timer=FakeClock()) as manager:
        assert manager.get("a").stale_age is None
        assert manager.get("a").stale_age is None


SETTINGS = """
cache: {ttl: 60, max_stale: 120, refresh_ahead: 0.5, negative_ttl: 3}
deadlines: {resolve: 4, health: 1}
environments:
  dev: {provider: memory}
  ci:
    provider: memory
    cache: {max_stale: 0, refresh_ahead: 0}
    deadlines: {resolve: null}
"""


def test_settings_reach_the_manager_per_environment(tmp_path: Path) -> None:
    path = tmp_path / "secretwire.yaml"
    path.write_text(SETTINGS)
    settings = load_settings(path)
    dev, ci = settings.environments["dev"], settings.environments["ci"]
    assert (dev.cache.ttl, dev.cache.max_stale, dev.cache.refresh_ahead) == (60, 120, 0.5)
    assert (dev.cache.negative_ttl, dev.deadlines.resolve, dev.deadlines.health) == (3, 4, 1)
    assert (ci.cache.ttl, ci.cache.max_stale, ci.cache.refresh_ahead) == (60, 0, 0)
    assert (ci.deadlines.resolve, ci.deadlines.health) == (None, 1)
    with SecretManager.from_settings(settings, environment="dev") as manager:
        assert (manager.deadline, manager.health_deadline) == (4, 1)
    with SecretManager.from_settings(settings, environment="ci") as manager:
        assert manager.deadline is None


def test_defaults() -> None:
    with SecretManager(MemoryProvider()) as manager:
        assert (manager.deadline, manager.health_deadline) == (5.0, 2.0)


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("cache: {max_stale: -1}", "cache.max_stale", "positive number of seconds or 0"),
        ("cache: {negative_ttl: yes}", "cache.negative_ttl", "positive number of seconds or 0"),
        ("cache: {refresh_ahead: 1}", "cache.refresh_ahead", "fraction of the ttl"),
        ("cache: {ttl: 0}", "cache.ttl", "must be a positive number of seconds"),
        ("deadlines: {resolve: 0}", "deadlines.resolve", "positive number of seconds or null"),
        ("deadlines: {total: 3}", "deadlines.total", "unknown key"),
        ("deadlines: 5", "deadlines", "expected a mapping"),
    ],
)
def test_bad_settings_name_file_and_key(tmp_path: Path, text: str, key: str, message: str) -> None:
    path = tmp_path / "secretwire.yaml"
    path.write_text(f"{text}\nenvironments: {{dev: {{provider: memory}}}}\n")
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(path)
    assert caught.value.key == key
    assert caught.value.source == str(path)


class Recording(MemoryProvider):
    """Records the deadline each read runs under."""

    seen: ClassVar[list[float | None]] = []

    def _get(self, name: str, version: str | None) -> Secret:
        found = deadlines.current()
        Recording.seen.append(None if found is None else found.seconds)
        return super()._get(name, version)


def test_options_from_a_bootstrap_environment_resolve_under_its_deadline(tmp_path: Path) -> None:
    register_provider("recording", Recording)
    Recording.seen.clear()
    path = tmp_path / "secretwire.yaml"
    path.write_text(
        "environments:\n"
        "  boot: {provider: recording, options: {secrets: {token: t}}, deadlines: {resolve: 2.5}}\n"
        "  app: {provider: memory, bootstrap: boot, options: {secrets: {x: '${secret:token}'}}}\n"
    )
    load_settings(path).provider("app")
    assert Recording.seen == [2.5]
