"""The cache on a fake clock: TTL, size bound, invalidation, single-flight, stats."""

from __future__ import annotations

import threading
import time

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


# -- batches: get_or_load_many -------------------------------------------------------------


class Missing(Exception):
    """A per-key outcome the loader returns instead of a value (not cached)."""


def test_get_or_load_many_serves_hits_and_loads_misses_in_one_call() -> None:
    cache: SecretCache[str, str] = SecretCache(ttl=100, timer=FakeClock())
    cache.get_or_load("a", lambda: "A")
    calls: list[list[str]] = []

    def load(keys: list[str]) -> dict[str, str | Missing]:
        calls.append(keys)
        return {key: Missing(key) if key == "nope" else key.upper() for key in keys}

    results = cache.get_or_load_many(["a", "b", "nope", "b"], load, error=Missing)
    assert calls == [["b", "nope"]]
    assert results["a"] == "A" and results["b"] == "B"
    assert isinstance(results["nope"], Missing)
    again = cache.get_or_load_many(["b", "nope"], load, error=Missing)
    assert calls[-1] == ["nope"]  # errors are not cached
    assert again["b"] == "B"
    assert cache.stats().errors == 2


def test_get_or_load_many_loader_that_raises_fails_every_waiter() -> None:
    cache: SecretCache[str, str] = SecretCache(ttl=100)

    def broken(keys: list[str]) -> dict[str, str | Missing]:
        raise RuntimeError("backend bug")

    with pytest.raises(RuntimeError, match="backend bug"):
        cache.get_or_load_many(["a"], broken, error=Missing)
    assert cache.get_or_load_many(["a"], lambda keys: dict.fromkeys(keys, "v"), error=Missing) == {
        "a": "v"
    }


def test_get_or_load_many_loader_leaving_a_key_out_finishes_every_flight() -> None:
    cache: SecretCache[str, str] = SecretCache(ttl=100)
    with pytest.raises(RuntimeError, match="no outcome"):
        cache.get_or_load_many(["a", "b"], lambda keys: {"a": "A"}, error=Missing)
    # No flight is left open: the next caller loads "b" instead of waiting forever.
    assert cache.get_or_load("b", lambda: "B") == "B"


def test_thirty_two_concurrent_batches_load_each_key_once() -> None:
    """32 callers miss overlapping keys at once: one load per key, every caller
    gets every key, waiters get the per-key error of the flight they joined."""
    cache: SecretCache[str, str] = SecretCache(ttl=100)
    loaded: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(32)

    def load(keys: list[str]) -> dict[str, str | Missing]:
        with lock:
            loaded.extend(keys)
        time.sleep(0.01)  # keep the flights open while the others arrive
        return {key: Missing(key) if key == "k7" else f"v-{key}" for key in keys}

    results: list[dict[str, str | Missing]] = []

    def worker(index: int) -> None:
        keys = [f"k{(index + step) % 10}" for step in range(5)]
        barrier.wait()
        results.append(cache.get_or_load_many(keys, load, error=Missing))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cached = [key for key in loaded if key != "k7"]  # an error is not cached: may reload
    assert sorted(cached) == sorted(set(cached)) and len(set(cached)) == 9
    assert len(results) == 32
    for outcome in results:
        assert len(outcome) == 5
        for key, value in outcome.items():
            if key == "k7":
                assert isinstance(value, Missing)
            else:
                assert value == f"v-{key}"


def test_a_batch_joining_a_single_load_gets_its_error_as_the_outcome() -> None:
    cache: SecretCache[str, str] = SecretCache(ttl=100)
    started = threading.Event()
    release = threading.Event()

    def slow_missing() -> str:
        started.set()
        release.wait(5)
        raise Missing("k")

    def single_get() -> None:
        with pytest.raises(Missing):
            cache.get_or_load("k", slow_missing)

    single = threading.Thread(target=single_get)
    single.start()
    started.wait(5)
    outcome: dict[str, str | Missing] = {}
    batch = threading.Thread(
        target=lambda: outcome.update(
            cache.get_or_load_many(["k"], lambda keys: dict.fromkeys(keys, "x"), error=Missing)
        )
    )
    batch.start()
    time.sleep(0.05)
    release.set()
    single.join()
    batch.join()
    assert isinstance(outcome["k"], Missing)


def test_the_flight_protocol_is_private() -> None:
    import secretwire.cache

    assert not hasattr(secretwire.cache, "Lookup")
    assert not any(hasattr(SecretCache, name) for name in ("begin", "finish", "wait"))


# -- the hit path ------------------------------------------------------------------------


def test_a_hit_takes_no_lock() -> None:
    """A fresh hit reads the entries without the cache's lock: it is served while
    another thread holds the lock (a miss, an invalidation...)."""
    cache: SecretCache[str, str] = SecretCache(ttl=100, timer=FakeClock())
    cache.get_or_load("k", lambda: "v")
    served: list[str] = []
    with cache._lock:  # what a miss or a write holds for a moment
        reader = threading.Thread(target=lambda: served.append(cache.get_or_load("k", str)))
        reader.start()
        reader.join(5)
    assert served == ["v"]


def test_eviction_spares_an_entry_read_since_the_last_sweep() -> None:
    cache: SecretCache[str, str] = SecretCache(ttl=100, maxsize=3, timer=FakeClock())
    for key in "abc":
        cache.get_or_load(key, lambda key=key: key.upper())
    cache.get_or_load("a", str)  # a hit: "a" was read, "b" and "c" were not
    cache.get_or_load("d", lambda: "D")  # full: the oldest unread entry goes
    loads: list[str] = []
    for key in "acd":
        assert cache.get_or_load(key, lambda key=key: loads.append(key) or "again") != "again"
    assert loads == []
    assert cache.get_or_load("b", lambda: "again") == "again"  # "b" was evicted
    assert cache.stats().evictions == 2  # "b", then one more for its reload
