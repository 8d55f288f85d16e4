"""The manager pipeline over the in-memory provider (a real provider, not a mock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from secretwire import (
    AccessDenied,
    Handler,
    Layer,
    ProviderError,
    ResolutionError,
    Secret,
    SecretManager,
    SecretNotFound,
    SecretwireError,
)
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, FakeClock


class GatedProvider(MemoryProvider):
    """Blocks every get until released, so concurrent callers overlap for sure."""

    def __init__(self, initial: dict[str, str]) -> None:
        super().__init__(initial)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def _get(self, name: str, version: str | None) -> Secret:
        self.entered.set()
        self.gate.wait(10)
        return super()._get(name, version)


@pytest.fixture
def memory() -> MemoryProvider:
    return MemoryProvider({"db/password": "pw-1", "db/creds": '{"user": "app"}'})


@pytest.fixture
def manager(memory: MemoryProvider) -> Iterator[SecretManager]:
    with SecretManager(memory, timer=FakeClock()) as m:
        yield m


def test_cached_reads_reach_the_backend_once(
    manager: SecretManager, memory: MemoryProvider
) -> None:
    for _ in range(5):
        assert manager.get("db/password").reveal() == "pw-1"
    assert memory.calls["get"] == 1
    metrics = manager.metrics()
    assert metrics.cache is not None
    assert (metrics.cache.hits, metrics.cache.misses) == (4, 1)
    assert metrics.backend.calls == 1
    assert metrics.backend.by_operation == {"get": 1}


def test_ttl_refetches_after_expiry(memory: MemoryProvider) -> None:
    clock = FakeClock()
    with SecretManager(memory, cache_ttl=30, timer=clock) as manager:
        manager.get("db/password")
        memory.set("db/password", "pw-2")  # rotated out of band
        assert manager.get("db/password").reveal() == "pw-1"
        clock.now = 31
        assert manager.get("db/password").reveal() == "pw-2"


def test_writes_and_deletes_invalidate(manager: SecretManager) -> None:
    assert manager.get("db/password").reveal() == "pw-1"
    manager.set("db/password", "pw-2")
    assert manager.get("db/password").reveal() == "pw-2"
    manager.delete("db/password")
    with pytest.raises(SecretNotFound):
        manager.get("db/password")


def test_explicit_invalidate_and_clear(manager: SecretManager, memory: MemoryProvider) -> None:
    manager.get("db/password")
    memory.set("db/password", "pw-2")
    manager.invalidate("db/password")
    assert manager.get("db/password").reveal() == "pw-2"
    memory.set("db/password", "pw-3")
    manager.clear_cache()
    assert manager.get("db/password").reveal() == "pw-3"


def test_fifty_threads_one_uncached_key_one_backend_call() -> None:
    provider = GatedProvider({"k": "v"})
    provider.calls.clear()
    with SecretManager(provider) as manager:
        results: list[str] = []
        barrier = threading.Barrier(50)

        def worker() -> None:
            barrier.wait()
            results.append(manager.get("k").reveal())

        threads = [threading.Thread(target=worker) for _ in range(50)]
        for t in threads:
            t.start()
        provider.entered.wait(10)
        provider.gate.set()
        for t in threads:
            t.join()
    assert provider.calls["get"] == 1
    assert results == ["v"] * 50


def test_get_many_fetches_each_distinct_key_once_concurrently() -> None:
    provider = MemoryProvider({f"s{i}": str(i) for i in range(20)})
    seen_threads: set[str] = set()
    original = provider.get

    def recording_get(name: str, *, version: str | None = None) -> Secret:
        seen_threads.add(threading.current_thread().name)
        return original(name, version=version)

    provider.get = recording_get  # type: ignore[method-assign]
    with SecretManager(provider, max_workers=4) as manager:
        keys = [(f"s{i}", None) for i in range(20)] * 2
        results = manager.get_many(keys)
    assert len(results) == 20
    assert provider.calls["get"] == 20
    assert all(name.startswith("secretwire") for name in seen_threads)
    assert 1 < len(seen_threads) <= 4


def test_value_with_field_version_and_default(manager: SecretManager) -> None:
    assert manager.value("db/creds#user").reveal() == "app"
    assert manager.value("${secret:db/password@1}").reveal() == "pw-1"
    assert manager.value("${secret:nope:-dflt}").reveal() == "dflt"
    with pytest.raises(SecretNotFound):
        manager.value("nope")


def test_cache_can_be_disabled(memory: MemoryProvider) -> None:
    with SecretManager(memory, cache=False) as manager:
        manager.get("db/password")
        manager.get("db/password")
        assert manager.metrics().cache is None
    assert memory.calls["get"] == 2


def test_layers_sit_where_asked(memory: MemoryProvider) -> None:
    order: list[str] = []

    def layer(label: str):  # type: ignore[no-untyped-def]
        class Recorder(Layer):
            def get(self, name: str, *, version: str | None = None) -> Secret:
                order.append(label)
                return self.inner.get(name, version=version)

        def factory(inner: Handler) -> Handler:
            return Recorder(inner)

        return factory

    with SecretManager(
        memory, before_cache=[layer("authz"), layer("audit")], after_cache=[layer("fallback")]
    ) as manager:
        manager.get("db/password")
        manager.get("db/password")
    # authz and audit see both requests; fallback sees only the cache miss.
    assert order == ["authz", "audit", "fallback", "authz", "audit"]


class BrokenProvider(MemoryProvider):
    """Fake failure path: a provider bug raising a foreign exception with a value in it."""

    def _get(self, name: str, version: str | None) -> Secret:
        raise RuntimeError(f"boom {CANARY}")


def test_fake_provider_foreign_exception_is_wrapped_without_its_text() -> None:
    with SecretManager(BrokenProvider()) as manager, pytest.raises(ProviderError) as info:
        manager.get("x")
    assert CANARY not in str(info.value)
    assert info.value.__cause__ is None
    assert "RuntimeError" in str(info.value)
    assert isinstance(info.value.original, RuntimeError)  # kept for --debug, off the chain


class DenyingProvider(MemoryProvider):
    """Fake failure path: every read is denied."""

    def _get(self, name: str, version: str | None) -> Secret:
        raise AccessDenied(name=name, provider=self.name)


def test_fake_provider_access_denied_is_not_cached_and_counts_errors() -> None:
    provider = DenyingProvider()
    with SecretManager(provider) as manager:
        for _ in range(2):
            with pytest.raises(AccessDenied):
                manager.get("x")
        metrics = manager.metrics()
    assert metrics.backend.errors == 2
    assert metrics.cache is not None and metrics.cache.errors == 2


def test_health_and_close(memory: MemoryProvider) -> None:
    manager = SecretManager(memory)
    health = manager.health()
    assert health.ok and health.latency_seconds is not None
    manager.close()
    manager.close()
    with pytest.raises(SecretwireError, match="closed"):
        manager.get("db/password")


def test_repr_names_no_values(manager: SecretManager) -> None:
    manager.get("db/password")
    assert "pw-1" not in repr(manager)
    assert "pw-1" not in repr(manager.metrics())


def test_layer_overriding_only_get_also_guards_batches(memory: MemoryProvider) -> None:
    class DenyAll(Layer):
        def get(self, name: str, *, version: str | None = None) -> Secret:
            raise AccessDenied(name=name, provider="rbac")

    with SecretManager(memory, before_cache=[DenyAll]) as manager:
        with pytest.raises(AccessDenied):
            manager.get("db/password")
        with pytest.raises(AccessDenied):
            manager.value("db/password")
        with pytest.raises(ResolutionError, match="access denied"):
            manager.resolve({"a": "${secret:db/password}", "b": "${secret:db/creds#user}"})
    assert memory.calls["get"] == 0


def test_thirty_two_concurrent_batches_fetch_each_missing_key_once() -> None:
    provider = GatedProvider({f"s{i}": str(i) for i in range(10)})
    provider.calls.clear()
    with SecretManager(provider, max_workers=4) as manager:
        barrier = threading.Barrier(32)
        results: list[dict[tuple[str, str | None], Secret | ProviderError]] = []

        def worker(index: int) -> None:
            keys = [(f"s{(index + step) % 10}", None) for step in range(4)]
            barrier.wait()
            results.append(manager.get_many(keys))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(32)]
        for t in threads:
            t.start()
        provider.entered.wait(10)
        provider.gate.set()
        for t in threads:
            t.join()
    assert provider.calls["get"] == 10
    assert len(results) == 32
    for outcome in results:
        assert all(secret.reveal() == key[0][1:] for key, secret in outcome.items())  # type: ignore[union-attr]


class MeetingProvider(MemoryProvider):
    """Every read waits until ``parties`` reads are in progress at once (a barrier), and
    records the thread it ran on and the most reads in progress together."""

    def __init__(self, initial: dict[str, str], parties: int) -> None:
        super().__init__(initial)
        self.barrier = threading.Barrier(parties, timeout=10)
        self.threads: set[str] = set()
        self.active = self.most = 0
        self._count = threading.Lock()

    def _get(self, name: str, version: str | None) -> Secret:
        with self._count:
            self.active += 1
            self.most = max(self.most, self.active)
            self.threads.add(threading.current_thread().name)
        try:
            self.barrier.wait()
            return super()._get(name, version)
        finally:
            with self._count:
                self.active -= 1


def test_uncached_keys_are_read_on_one_thread_each_kept_between_batches() -> None:
    names = [f"app/s{i}" for i in range(20)]
    provider = MeetingProvider(dict.fromkeys(names, "v"), parties=20)
    with SecretManager(provider, cache=False) as m:
        # 20 reads meet at the barrier: all 20 ran at once (no fixed pool of 8)
        first = m.get_many([(name, None) for name in names])
        assert all(isinstance(outcome, Secret) for outcome in first.values())
        used = set(provider.threads)
        provider.barrier.reset()
        m.get_many([(name, None) for name in names])
        assert provider.threads == used  # the same threads, kept alive


def test_max_workers_bounds_the_reads_in_progress() -> None:
    names = [f"app/s{i}" for i in range(12)]
    provider = MeetingProvider(dict.fromkeys(names, "v"), parties=4)
    with SecretManager(provider, cache=False, max_workers=4) as m:
        results = m.get_many([(name, None) for name in names])
    assert all(isinstance(outcome, Secret) for outcome in results.values())
    assert provider.most == 4


def test_a_value_is_registered_for_masking_when_loaded_not_when_served() -> None:
    """Hits are served without per-read work: a value reloaded in the background
    (refresh-ahead) is already masked before any read serves it."""
    clock = FakeClock()
    provider = MemoryProvider({"app/token": "first-token-0123456789"})
    with SecretManager(provider, timer=clock, cache_ttl=10, cache_refresh_ahead=0.5) as m:
        assert m.get("app/token").reveal() == "first-token-0123456789"
        provider.set("app/token", "second-token-0123456789")  # rotated elsewhere
        clock.now = 6.0  # past the refresh point: this read reloads it behind
        assert m.get("app/token").reveal() == "first-token-0123456789"
        for _ in range(500):  # the background load finishes (bounded wait)
            stats = m.metrics().cache
            assert stats is not None
            if stats.loads == 2 and len(m._cache or ()) == 1:
                break
            threading.Event().wait(0.01)
        assert "second-token" not in m.redactor.redact("log: second-token-0123456789")
        assert m.get("app/token").reveal() == "second-token-0123456789"
        assert m.metrics().cache.hits == 2  # type: ignore[union-attr]


def test_fresh_hits_are_counted() -> None:
    with SecretManager(MemoryProvider({"a": "1", "b": "2"})) as m:
        for _ in range(5):
            m.get("a")
            m.value("${secret:b}")
        m.get_many([("a", None), ("b", None)])
        stats = m.metrics().cache
        assert stats is not None
        assert (stats.hits, stats.misses, stats.loads) == (10, 2, 2)
