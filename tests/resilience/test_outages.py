"""Outages of real servers during a run: OpenBao and moto hung (SIGSTOP), killed and
restarted under a live manager.

* uncached reads (and a whole resolve, and health) fail with a typed error within the
  deadline, measured against a generous margin;
* cached keys are served through the outage within the stale bound, marked with
  their age, with 0 wrong values; past the bound a read fails, typed;
* the same manager recovers when the server returns, without a restart.

The cache's clock is a :class:`FakeClock` (the TTL "passes" when the test says so);
the deadlines and the servers run on real time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from secretwire import (
    DeadlineExceeded,
    HealthStatus,
    ProviderUnavailable,
    ResolutionError,
    SecretManager,
)
from secretwire.testing import CANARY, FakeClock, assert_no_leak
from tests.servers.faults import Backend, aws_backend, vault_backend

DEADLINE = 1.5
HEALTH_DEADLINE = 1.0
#: generous: a loaded 2-core CI machine, thread start-up, the last attempt's teardown
MARGIN = 3.0
TTL = 10.0
MAX_STALE = 60.0


@pytest.fixture(params=["vault", "aws"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    start = vault_backend if request.param == "vault" else aws_backend
    with start() as started:
        yield started


def names(count: int) -> list[str]:
    prefix = f"outage-{uuid.uuid4().hex[:8]}"
    return [f"{prefix}/key-{i:02d}" for i in range(count)]


def manager_for(backend: Backend, clock: FakeClock | None = None) -> SecretManager:
    return SecretManager(
        backend.provider(),
        timer=clock or FakeClock(),
        cache_ttl=TTL,
        cache_max_stale=MAX_STALE,
        cache_refresh_ahead=0,
        deadline=DEADLINE,
        health_deadline=HEALTH_DEADLINE,
    )


def config(keys: list[str]) -> dict[str, str]:
    return {key: f"${{secret:{key}}}" for key in keys}


def timed(fn: Callable[[], object]) -> float:
    started = time.monotonic()
    fn()
    return time.monotonic() - started


def test_a_hung_server_fails_uncached_reads_within_the_deadline(backend: Backend) -> None:
    keys = names(16)
    for key in keys:
        backend.write(key, value_of(key, "v1"))
    with manager_for(backend) as manager:
        manager.get(keys[0])  # warm: client built, connection open
        manager.clear_cache()
        with backend.hung():
            failures: list[BaseException] = []

            def resolve() -> None:
                with pytest.raises(ResolutionError) as caught:
                    manager.resolve(config(keys))
                failures.extend(failure.error for failure in caught.value.failures)
                assert_no_leak(caught.value, value_of(keys[0], "v1"))

            assert timed(resolve) < DEADLINE + MARGIN
            assert len(failures) == 16
            assert all(isinstance(err, DeadlineExceeded) for err in failures), failures

            def get() -> None:
                with pytest.raises(DeadlineExceeded, match=r"1\.5 s deadline"):
                    manager.get(keys[1])

            assert timed(get) < DEADLINE + MARGIN
            health = manager.health()
            assert health.status is HealthStatus.UNAVAILABLE
            assert health.latency_seconds is not None
            assert health.latency_seconds < HEALTH_DEADLINE + MARGIN
            assert manager.metrics().deadline_failures >= 2
        # the server is back: the same manager reads again
        resolved = manager.resolve(config(keys))
        assert resolved == {key: value_of(key, "v1") for key in keys}
        assert manager.health().ok


class Tally:
    """Values served, and how many of them were wrong."""

    def __init__(self) -> None:
        self.served = self.wrong = 0

    def check(self, values: dict[str, str], expected: str) -> None:
        for key, value in values.items():
            self.served += 1
            self.wrong += value != value_of(key, expected)


def value_of(key: str, version: str) -> str:
    """The value written for ``key``: it holds the canary, which no message may show."""
    return f"{CANARY}-{version}-{key}"


def serve_through_outage(
    manager: SecretManager, clock: FakeClock, hot: list[str], tally: Tally, error: type[Exception]
) -> None:
    """Reads while the server is down: stale values for ``hot``, ``error`` for a new key."""
    clock.advance(TTL + 5)  # every hot key is past its TTL now
    # the first resolve finds the outage out (at most one deadline), then every read
    # is served at once from what was kept
    assert timed(lambda: tally.check(manager.resolve(config(hot)), "v1")) < DEADLINE + MARGIN
    started = time.monotonic()
    for _ in range(20):
        tally.check(manager.resolve(config(hot)), "v1")
        for key in hot:
            secret = manager.get(key)
            assert secret.stale_age == pytest.approx(TTL + 5)
            tally.check({key: secret.reveal()}, "v1")
    assert time.monotonic() - started < MARGIN

    def uncached() -> None:
        with pytest.raises(error) as caught:
            manager.get(names(1)[0])
        assert_no_leak(caught.value, *(value_of(key, "v1") for key in hot))

    assert timed(uncached) < DEADLINE + MARGIN
    stats = manager.metrics()
    assert stats.stale_served >= 8 * 21 + 8 * 20
    assert stats.cache is not None and stats.cache.stale_age_max == TTL + 5


def recover(
    manager: SecretManager, clock: FakeClock, hot: list[str], tally: Tally, expected: str
) -> None:
    """The server is back: the next probe (one a second of the cache's clock) of each
    key gets its fresh value; nothing stale is served after that."""
    clock.advance(1)
    manager.resolve(config(hot))  # still stale; starts the probes
    deadline_at = time.monotonic() + DEADLINE + MARGIN
    while time.monotonic() < deadline_at:
        if all(manager.get(key).stale_age is None for key in hot):
            break
        time.sleep(0.05)
    tally.check(manager.resolve(config(hot)), expected)
    assert all(manager.get(key).stale_age is None for key in hot)


@pytest.mark.parametrize("outage", ["hang", "kill-and-restart"])
def test_cached_keys_are_served_stale_through_an_outage_and_the_manager_recovers(
    backend: Backend, outage: str, all_logs: pytest.LogCaptureFixture
) -> None:
    hot = names(8)
    for key in hot:
        backend.write(key, value_of(key, "v1"))
    clock = FakeClock()
    tally = Tally()
    with manager_for(backend, clock) as manager:
        tally.check(manager.resolve(config(hot)), "v1")
        if outage == "hang":
            with backend.hung():
                serve_through_outage(manager, clock, hot, tally, DeadlineExceeded)
            recover(manager, clock, hot, tally, "v1")
        else:
            backend.kill()
            serve_through_outage(manager, clock, hot, tally, ProviderUnavailable)
            backend.restart()
            for key in hot:  # a restarted server is empty: its new values
                backend.write(key, value_of(key, "v2"))
            recover(manager, clock, hot, tally, "v2")
    assert tally.served > 8 * 40
    assert tally.wrong == 0
    warnings = [r for r in all_logs.records if "serving the cached value" in r.getMessage()]
    assert sorted(w.getMessage().split("'")[1] for w in warnings) == sorted(hot)  # one each
    assert not [r for r in all_logs.records if CANARY in r.getMessage()]


def test_past_the_stale_bound_a_read_fails_typed(backend: Backend) -> None:
    key = names(1)[0]
    backend.write(key, "v1")
    clock = FakeClock()
    with manager_for(backend, clock) as manager:
        assert manager.get(key).reveal() == "v1"
        backend.kill()
        clock.advance(TTL + 1)
        assert manager.get(key).stale_age == pytest.approx(TTL + 1)
        clock.advance(MAX_STALE)  # TTL + MAX_STALE + 1 old: not served any more

        def beyond() -> None:
            with pytest.raises(ProviderUnavailable):
                manager.get(key)

        assert timed(beyond) < DEADLINE + MARGIN
