"""The cache's policy on a fake clock: stale-on-error, negative caching, refresh-ahead,
and waits bounded by the deadline. Loaders are plain functions (the cache's own
contract); the same behaviour against real servers is in tests/resilience/."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from secretwire import CachePolicy, DeadlineExceeded, SecretCache, deadline
from secretwire.testing import FakeClock


class Down(ConnectionError):
    """What the policy below calls transient (a backend outage)."""


class Missing(LookupError):
    """What the policy below calls absent (not found)."""


class Denied(PermissionError):
    """Neither: never answered from the cache."""


def policy(**changes: object) -> CachePolicy[str]:
    options: dict[str, object] = {
        "max_stale": 30.0,
        "negative_ttl": 5.0,
        "transient": lambda err: isinstance(err, Down),
        "absent": lambda err: isinstance(err, Missing),
        "usable": lambda value: value != "expired",
        "aged": lambda value, age: f"{value} (stale {age:g} s)",
        **changes,
    }
    return CachePolicy(**options)  # type: ignore[arg-type]


def cache_with(clock: FakeClock, **changes: object) -> SecretCache[str, str]:
    return SecretCache(ttl=10, timer=clock, policy=policy(**changes))


class Gated:
    """A loader that blocks until released, counting its calls."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> str:
        self.calls += 1
        self.started.set()
        self.release.wait(10)
        return self.value


def fail(error: BaseException):  # type: ignore[no-untyped-def]
    def load() -> str:
        raise error

    return load


# -- stale-on-error ------------------------------------------------------------------------
def test_a_kept_value_stands_in_for_a_transient_failure_within_max_stale() -> None:
    clock = FakeClock()
    cache = cache_with(clock)
    assert cache.get_or_load("k", lambda: "v1") == "v1"
    clock.advance(12)  # 2 s past the TTL
    assert cache.get_or_load("k", fail(Down())) == "v1 (stale 12 s)"
    stats = cache.stats()
    assert (stats.stale_served, stats.stale_age_max, stats.errors) == (1, 12.0, 1)
    clock.advance(28.5)  # 40.5 s old: past ttl + max_stale
    with pytest.raises(Down):
        cache.get_or_load("k", fail(Down()))


def test_while_the_backend_fails_reads_get_the_kept_value_at_once_and_one_probe_a_second() -> None:
    clock = FakeClock()
    cache = cache_with(clock, probe_interval=1.0)
    cache.get_or_load("k", lambda: "v1")
    clock.advance(11)
    loads = []
    probed = threading.Event()

    def down() -> str:
        loads.append(1)
        probed.set()
        raise Down()

    assert cache.get_or_load("k", down) == "v1 (stale 11 s)"  # the failure that finds out
    for _ in range(5):  # no new load within the probe interval
        assert cache.get_or_load("k", down) == "v1 (stale 11 s)"
    assert len(loads) == 1
    clock.advance(1)
    probed.clear()
    assert cache.get_or_load("k", down) == "v1 (stale 12 s)"  # served at once; probe behind
    assert probed.wait(5)
    assert cache.stats().refreshes == 1
    # the backend is back: the next probe replaces the value, which is fresh again
    clock.advance(1)
    back = threading.Event()

    def up() -> str:
        back.set()
        return "v2"

    cache.get_or_load("k", up)
    assert back.wait(5)
    deadline_at = time.monotonic() + 5
    while cache.peek("k") != "v2" and time.monotonic() < deadline_at:
        time.sleep(0.01)
    assert cache.get_or_load("k", down) == "v2"


@pytest.mark.parametrize("error", [Missing(), Denied(), RuntimeError("bug")])
def test_no_stale_value_after_any_other_error_and_it_is_dropped(error: Exception) -> None:
    clock = FakeClock()
    cache = cache_with(clock)
    cache.get_or_load("k", lambda: "v1")
    clock.advance(11)
    with pytest.raises(type(error)):
        cache.get_or_load("k", fail(error))
    clock.advance(6)  # past the negative entry, if any
    with pytest.raises(Down):  # the kept value is gone for good
        cache.get_or_load("k", fail(Down()))
    assert cache.stats().stale_served == 0


def test_off_without_max_stale_and_never_for_an_unusable_value() -> None:
    clock = FakeClock()
    off = cache_with(clock, max_stale=0.0)
    off.get_or_load("k", lambda: "v1")
    unusable = cache_with(clock)
    unusable.get_or_load("k", lambda: "expired")
    clock.advance(11)
    for cache in (off, unusable):
        with pytest.raises(Down):
            cache.get_or_load("k", fail(Down()))


def test_one_warning_per_key_and_outage(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="secretwire")
    clock = FakeClock()
    cache = cache_with(clock, probe_interval=0.0)
    cache.get_or_load("k", lambda: "v1")
    clock.advance(11)
    for _ in range(3):
        cache.get_or_load("k", fail(Down()))
    time.sleep(0.2)  # let the probes (which fail too) finish
    assert len(caplog.records) == 1
    assert "'k'" in caplog.records[0].getMessage()
    cache.invalidate("k")
    cache.get_or_load("k", lambda: "v2")  # the outage is over
    clock.advance(11)
    cache.get_or_load("k", fail(Down()))  # a new one
    time.sleep(0.2)
    assert len(caplog.records) == 2


def test_a_batch_whose_loader_raises_a_transient_error_gets_kept_values_per_key() -> None:
    clock = FakeClock()
    cache = cache_with(clock)
    cache.get_or_load_many(["a"], lambda keys: dict.fromkeys(keys, "v"), error=Exception)

    def down(keys: list[str]) -> dict[str, str]:
        raise Down()

    clock.advance(11)
    outcome = cache.get_or_load_many(["a", "b"], down, error=Exception)
    assert outcome["a"] == "v (stale 11 s)"
    assert isinstance(outcome["b"], Down)


# -- negative caching ----------------------------------------------------------------------
def test_not_found_is_kept_for_negative_ttl_and_given_again_as_a_copy() -> None:
    clock = FakeClock()
    cache = cache_with(clock)
    calls = []
    original = Missing("nope")

    def missing() -> str:
        calls.append(1)
        raise original

    errors = []
    for _ in range(3):
        with pytest.raises(Missing) as caught:
            cache.get_or_load("k", missing)
        errors.append(caught.value)
    assert len(calls) == 1
    assert errors[1] is not original and errors[1] is not errors[2]
    assert str(errors[2]) == "nope"
    assert cache.stats().negative_hits == 2
    clock.advance(5)
    with pytest.raises(Missing):
        cache.get_or_load("k", missing)
    assert len(calls) == 2


def test_invalidation_drops_a_negative_entry_and_batches_get_it_as_an_outcome() -> None:
    clock = FakeClock()
    cache = cache_with(clock)
    outcome = cache.get_or_load_many(
        ["k"], lambda keys: dict.fromkeys(keys, Missing()), error=Missing
    )
    again = cache.get_or_load_many(["k"], lambda keys: dict.fromkeys(keys, "loaded"), error=Missing)
    assert isinstance(outcome["k"], Missing) and isinstance(again["k"], Missing)
    cache.invalidate("k")  # a write
    assert cache.get_or_load("k", lambda: "created") == "created"


def test_negative_caching_off() -> None:
    cache = cache_with(FakeClock(), negative_ttl=0.0)
    with pytest.raises(Missing):
        cache.get_or_load("k", fail(Missing()))
    assert cache.get_or_load("k", lambda: "created") == "created"


# -- refresh-ahead -------------------------------------------------------------------------
def test_a_hot_key_is_refreshed_in_the_background_and_its_readers_never_wait() -> None:
    clock = FakeClock()
    cache = cache_with(clock, refresh_ahead=0.8)
    cache.get_or_load("k", lambda: "v1")
    slow = Gated("v2")
    clock.advance(7.9)
    assert cache.get_or_load("k", slow) == "v1"  # young: no refresh
    clock.advance(0.2)  # 8.1 s: refresh due
    begun = time.perf_counter()
    assert cache.get_or_load("k", slow) == "v1"  # at once, the refresh runs behind
    assert slow.started.wait(5)
    for _ in range(10):
        assert cache.get_or_load("k", slow) == "v1"
    assert time.perf_counter() - begun < 1.0
    assert slow.calls == 1  # one refresh however many readers
    clock.advance(2)  # past the TTL while the refresh still runs: the reader waits for it
    waiter: list[str] = []
    reader = threading.Thread(target=lambda: waiter.append(cache.get_or_load("k", slow)))
    reader.start()
    time.sleep(0.05)
    slow.release.set()
    reader.join(5)
    assert waiter == ["v2"]
    assert slow.calls == 1
    assert cache.stats().refreshes == 1


def test_refresh_ahead_off_loads_only_on_expiry() -> None:
    clock = FakeClock()
    cache = cache_with(clock)  # refresh_ahead 0
    cache.get_or_load("k", lambda: "v1")
    clock.advance(9.9)
    assert cache.get_or_load("k", lambda: "v2") == "v1"
    time.sleep(0.05)
    assert cache.stats().refreshes == 0
    assert cache.get_or_load("k", lambda: "v2") == "v1"


def test_batch_refresh_ahead_loads_due_keys_in_one_background_call() -> None:
    clock = FakeClock()
    cache = cache_with(clock, refresh_ahead=0.5)
    cache.get_or_load_many(["a", "b"], lambda keys: dict.fromkeys(keys, "v1"), error=Exception)
    clock.advance(6)
    batches: list[list[str]] = []
    done = threading.Event()

    def load(keys: list[str]) -> dict[str, str]:
        batches.append(keys)
        done.set()
        return dict.fromkeys(keys, "v2")

    assert cache.get_or_load_many(["a", "b"], load, error=Exception) == {"a": "v1", "b": "v1"}
    assert done.wait(5)
    assert batches == [["a", "b"]]
    deadline_at = time.monotonic() + 5
    while cache.peek("b") != "v2" and time.monotonic() < deadline_at:
        time.sleep(0.01)
    assert cache.get_or_load_many(["a", "b"], load, error=Exception) == {"a": "v2", "b": "v2"}


# -- waits and the deadline ------------------------------------------------------------
def test_a_waiter_gives_up_at_its_deadline() -> None:
    cache: SecretCache[str, str] = SecretCache(ttl=10)
    stuck = Gated("late")
    leader = threading.Thread(target=lambda: cache.get_or_load("k", stuck))
    leader.start()
    assert stuck.started.wait(5)
    begun = time.monotonic()
    with deadline(0.2), pytest.raises(DeadlineExceeded, match=r"0\.2 s deadline"):
        cache.get_or_load("k", stuck)
    assert time.monotonic() - begun < 2
    assert cache.stats().deadline_failures == 1
    stuck.release.set()
    leader.join(5)


def test_bad_policies() -> None:
    for changes, match in [
        ({"max_stale": -1}, "max_stale"),
        ({"refresh_ahead": 1.0}, "refresh_ahead"),
        ({"max_refreshes": 0}, "max_refreshes"),
    ]:
        with pytest.raises(ValueError, match=match):
            CachePolicy(**changes)  # type: ignore[arg-type]
