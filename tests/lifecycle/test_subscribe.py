"""``subscribe``: a changed value is reported at once for the manager's own writes,
rotations and rollbacks (and the cache never serves the old value after them), and
after a TTL re-read whose value differs."""

from __future__ import annotations

import logging

import pytest

from secretwire import SecretManager
from secretwire.lifecycle import Change
from secretwire.lifecycle.watch import ChangeWatch
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider() -> MemoryProvider:
    return MemoryProvider({"db/password": "v1", "api/key": "k1"})


@pytest.fixture
def manager(provider: MemoryProvider, clock: FakeClock) -> SecretManager:
    return SecretManager(provider, cache_ttl=60, timer=clock)


def test_own_writes_rotations_and_rollbacks_notify_at_once_and_invalidate(
    manager: SecretManager,
) -> None:
    seen: list[Change] = []
    manager.subscribe(seen.append)
    assert manager.get("db/password").reveal() == "v1"
    manager.set("db/password", "v2")
    assert manager.get("db/password").reveal() == "v2"
    rotated = manager.rotate("db/password")
    assert manager.get("db/password").version == rotated.version  # not the cached v2
    manager.rollback("db/password", "1")
    assert manager.get("db/password").reveal() == "v1"
    manager.delete("api/key")
    assert seen == [
        Change("db/password", "set", "2"),
        Change("db/password", "set", rotated.version),
        Change("db/password", "set", "4"),
        Change("api/key", "delete"),
    ]


def test_a_reread_after_the_ttl_reports_a_value_changed_elsewhere(
    manager: SecretManager, provider: MemoryProvider, clock: FakeClock
) -> None:
    seen: list[Change] = []
    unsubscribe = manager.subscribe(seen.append)
    assert manager.value("${secret:db/password}").reveal() == "v1"
    provider.set("db/password", "v2")  # another process rotated it
    assert manager.get("db/password").reveal() == "v1"  # still cached
    assert seen == []
    clock.advance(61)
    assert manager.get("db/password").reveal() == "v2"
    assert seen == [Change("db/password", "reread", "2")]
    clock.advance(61)
    manager.get("db/password")  # the same value again: nothing to report
    manager.resolve({"a": "${secret:api/key}"})  # batches are watched too
    provider.set("api/key", "k2")
    clock.advance(61)
    manager.resolve({"a": "${secret:api/key}"})
    assert seen[1:] == [Change("api/key", "reread", "2")]
    unsubscribe()
    manager.set("db/password", "v3")
    assert len(seen) == 2


def test_a_failing_subscriber_is_logged_and_never_breaks_a_read(
    manager: SecretManager, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(change: Change) -> None:
        raise RuntimeError(CANARY)

    seen: list[Change] = []
    manager.subscribe(broken)
    manager.subscribe(seen.append)
    manager.set("db/password", CANARY)
    assert seen == [Change("db/password", "set", "2")]
    assert "subscriber" in caplog.text and "RuntimeError" in caplog.text
    assert CANARY not in caplog.text
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_the_watch_keeps_no_value(manager: SecretManager) -> None:
    manager.set("db/password", CANARY)
    manager.get("db/password")
    watch = manager._pipeline
    while not isinstance(watch, ChangeWatch):
        watch = watch.inner  # type: ignore[attr-defined]
    assert CANARY not in repr(vars(watch)) + repr(dict(watch._digests))


def test_a_change_elsewhere_after_an_own_write_is_reported(
    manager: SecretManager, provider: MemoryProvider, clock: FakeClock
) -> None:
    """The value the manager wrote is what the next re-read is compared with."""
    seen: list[Change] = []
    manager.subscribe(seen.append)
    manager.set("db/password", "v2")
    provider.set("db/password", "v3")
    clock.advance(61)
    assert manager.get("db/password").reveal() == "v3"
    assert seen == [Change("db/password", "set", "2"), Change("db/password", "reread", "3")]
