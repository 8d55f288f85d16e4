"""The circuit breaker: its state machine on a fake clock, and the layer around a real
provider that is unavailable (a file store with ``create: false`` whose file is
missing: its real error path) until the store appears."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretwire import ProviderUnavailable, SecretManager, SecretNotFound
from secretwire.failover import BreakerLayer, CircuitBreaker
from secretwire.failover.breaker import CLOSED, HALF_OPEN, OPEN
from secretwire.providers.localfile import LocalFileProvider
from secretwire.settings import parse_settings
from secretwire.testing import FakeClock


def test_it_opens_after_consecutive_failures_and_fails_fast() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failures=3, reset_after=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == CLOSED
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == OPEN
    assert not breaker.allow()
    clock.advance(4)
    assert breaker.retry_in() == pytest.approx(6)
    assert not breaker.allow()
    stats = breaker.stats()
    assert (stats.state, stats.opened, stats.rejected) == (OPEN, 1, 2)


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    breaker = CircuitBreaker(failures=3, clock=FakeClock())
    for _ in range(5):
        breaker.failure()
        breaker.failure()
        breaker.success()
    assert breaker.state == CLOSED
    assert breaker.stats().failures == 0


def test_half_open_lets_one_probe_through_and_closes_when_it_succeeds() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failures=1, reset_after=10, clock=clock)
    breaker.failure()
    clock.advance(10)
    assert breaker.allow()  # the probe
    assert breaker.state == HALF_OPEN
    assert not breaker.allow()  # one probe at a time
    breaker.success()
    assert breaker.state == CLOSED
    assert breaker.allow()


def test_a_failed_probe_opens_it_again_for_twice_as_long_up_to_the_maximum() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failures=1, reset_after=10, max_reset_after=25, clock=clock)
    breaker.failure()
    waits = []
    for _ in range(4):
        waits.append(breaker.retry_in())
        clock.advance(breaker.retry_in())
        assert breaker.allow()
        breaker.failure()
    assert waits == [10, 20, 25, 25]
    # After a successful probe the back-off starts from reset_after again.
    clock.advance(25)
    assert breaker.allow()
    breaker.success()
    breaker.failure()
    assert breaker.retry_in() == 10
    assert breaker.stats().opened == 6


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="failures"):
        CircuitBreaker(failures=0)
    with pytest.raises(ValueError, match="reset_after"):
        CircuitBreaker(reset_after=10, max_reset_after=5)
    assert CircuitBreaker(reset_after=3600).max_reset_after == 3600


# -- the layer, from settings, around a real unavailable store -------------------------


def _settings(folder: Path, breaker: str = "{failures: 2, reset_after: 10}") -> object:
    import yaml

    text = f"""
environments:
  prod:
    provider: file
    options: {{path: prod.store, key_file: prod.key, create: false}}
    cache: {{enabled: false}}
    breaker: {breaker}
"""
    return parse_settings(yaml.safe_load(text), source="secretwire.yaml", base_dir=folder)


def _create_store(folder: Path, **secrets: str) -> None:
    store = LocalFileProvider(folder / "prod.store", key_file=folder / "prod.key")
    for name, value in secrets.items():
        store.set(name, value)
    store.close()


def test_the_circuit_opens_on_a_real_outage_and_closes_when_the_store_is_back(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    manager = SecretManager.from_settings(_settings(tmp_path), timer=clock)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(ProviderUnavailable) as info:
            manager.get("db/password")
        assert info.value.code is None  # the store's own error
    calls = manager.metrics().backend.calls
    with pytest.raises(ProviderUnavailable) as info:
        manager.get("db/password")
    assert info.value.code == "circuit open"
    assert "next try in 10.0 s" in str(info.value)
    assert manager.metrics().backend.calls == calls  # failed fast: the store was not asked
    health = manager.health()
    assert (health.circuit, health.ok) == ("open", False)
    assert any("circuit open" in note for note in health.notes)

    _create_store(tmp_path, **{"db/password": "s3cr3t"})
    with pytest.raises(ProviderUnavailable):
        manager.get("db/password")  # still open: the back-off has not passed
    clock.advance(10)
    assert manager.get("db/password").reveal() == "s3cr3t"  # the probe: half-open, closed
    circuit = manager.metrics().backends[0].circuit
    assert circuit is not None
    assert (circuit.state, circuit.opened, circuit.rejected) == ("closed", 1, 2)
    assert manager.health().circuit == "closed"


def test_not_found_and_other_answers_never_open_the_circuit(tmp_path: Path) -> None:
    _create_store(tmp_path, other="x")
    manager = SecretManager.from_settings(_settings(tmp_path), timer=FakeClock())  # type: ignore[arg-type]
    for _ in range(10):
        with pytest.raises(SecretNotFound):
            manager.get("missing")
    assert manager.metrics().backends[0].circuit.state == "closed"  # type: ignore[union-attr]


def test_a_batch_that_finds_the_backend_down_counts_as_one_failure(tmp_path: Path) -> None:
    manager = SecretManager.from_settings(_settings(tmp_path), timer=FakeClock())  # type: ignore[arg-type]
    results = manager.get_many([("a", None), ("b", None), ("c", None)])
    assert all(isinstance(error, ProviderUnavailable) for error in results.values())
    assert manager.metrics().backends[0].circuit.failures == 1  # type: ignore[union-attr]
    manager.get_many([("a", None)])
    results = manager.get_many([("a", None)])
    assert results[("a", None)].code == "circuit open"  # type: ignore[union-attr]


def test_the_breaker_can_be_turned_off(tmp_path: Path) -> None:
    manager = SecretManager.from_settings(_settings(tmp_path, "false"), timer=FakeClock())  # type: ignore[arg-type]
    for _ in range(10):
        with pytest.raises(ProviderUnavailable) as info:
            manager.get("a")
        assert info.value.code is None
    assert manager.metrics().backends[0].circuit is None
    assert manager.health().circuit is None


def test_a_manager_built_by_hand_takes_a_breaker_layer(tmp_path: Path) -> None:
    clock = FakeClock()
    store = LocalFileProvider(tmp_path / "x.store", key_file=tmp_path / "x.key", create=False)
    breaker = CircuitBreaker(failures=1, clock=clock)
    manager = SecretManager(store, after_cache=[lambda inner: BreakerLayer(inner, breaker)])
    with pytest.raises(ProviderUnavailable):
        manager.get("a")
    assert breaker.state == OPEN
