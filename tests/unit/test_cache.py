"""The cache on a fake clock: TTL, size bound, invalidation, single-flight, stats."""

from __future__ import annotations

import threading

import pytest

from secretwire import SecretCache
from secretwire.testing import FakeClock


def test_ttl_expires_on_the_fake_clock() -> None:
    clock = FakeClock()
    cache: SecretCache[str, str] = SecretCache(ttl=10, maxsize=4, timer=clock)
    loads: list[str] = []

    def load() -> str:
        loads.append("x")
        return f"v{len(loads)}"

    assert cache.get_or_load("k", load) == "v1"
    clock.now = 9.9
    assert cache.get_or_load("k", load) == "v1"
    clock.now = 10.0
    assert cache.get_or_load("k", load) == "v2"
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.loads) == (1, 2, 2)


def test_size_bound_evicts_and_counts() -> None:
    cache: SecretCache[int, int] = SecretCache(ttl=100, maxsize=3, timer=FakeClock())
    for i in range(5):
        cache.get_or_load(i, lambda i=i: i)
    stats = cache.stats()
    assert stats.size == 3
    assert stats.evictions == 2


def test_invalidate_by_group_and_clear() -> None:
    cache: SecretCache[tuple[str, str | None], str] = SecretCache(
        ttl=100, timer=FakeClock(), group=lambda key: key[0]
    )
    for key in [("a", None), ("a", "1"), ("b", None)]:
        cache.get_or_load(key, lambda: "v")
    assert cache.invalidate("a") == 2
    assert len(cache) == 1
    cache.clear()
    assert len(cache) == 0


def test_errors_are_not_cached_and_are_counted() -> None:
    cache: SecretCache[str, str] = SecretCache(ttl=100, timer=FakeClock())
    calls = 0

    def failing() -> str:
        nonlocal calls
        calls += 1
        raise LookupError("nope")

    for _ in range(2):
        with pytest.raises(LookupError):
            cache.get_or_load("k", failing)
    assert calls == 2
    assert cache.stats().errors == 2


def test_single_flight_fifty_threads_one_load() -> None:
    cache: SecretCache[str, str] = SecretCache(ttl=100)
    started = threading.Event()
    release = threading.Event()
    calls = 0
    lock = threading.Lock()

    def slow_load() -> str:
        nonlocal calls
        with lock:
            calls += 1
        started.set()
        release.wait(5)
        return "value"

    results: list[str] = []
    barrier = threading.Barrier(50)

    def worker() -> None:
        barrier.wait()
        results.append(cache.get_or_load("k", slow_load))

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    started.wait(5)
    release.set()
    for t in threads:
        t.join()
    assert calls == 1
    assert results == ["value"] * 50


def test_invalidation_during_a_load_is_not_overwritten_by_the_stale_value() -> None:
    cache: SecretCache[str, str] = SecretCache(ttl=100)

    def load_then_invalidate() -> str:
        cache.invalidate("k")  # a write happened while we were reading
        return "stale"

    assert cache.get_or_load("k", load_then_invalidate) == "stale"
    assert cache.get_or_load("k", lambda: "fresh") == "fresh"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="ttl"):
        SecretCache(ttl=0)
    with pytest.raises(ValueError, match="maxsize"):
        SecretCache(maxsize=0)
