"""Deadlines: the context variable, the kit's ``call``, the pipeline's provider stage
and fan-out, and the manager's operations. Hung real servers: tests/resilience/."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest

from secretwire import (
    DeadlineExceeded,
    ProviderUnavailable,
    Secret,
    SecretManager,
    SecretwireError,
    deadline,
)
from secretwire import deadlines as dl
from secretwire.pipeline import ProviderStage, fetch_each
from secretwire.providers.base import call
from secretwire.providers.memory import MemoryProvider


def test_no_deadline_changes_nothing() -> None:
    assert dl.current() is None and dl.remaining() is None
    assert dl.budget(10.0) == 10.0
    assert not dl.expired()
    dl.check()


def test_a_nested_deadline_only_shortens_and_nested_false_starts_afresh() -> None:
    with deadline(10) as outer:
        assert outer is not None
        with deadline(60) as inner:
            assert inner is outer
        with deadline(1) as shorter:
            assert shorter is not None and shorter.seconds == 1
            assert dl.budget(30) <= 1
            with deadline(60, nested=False) as fresh:
                assert fresh is not None and fresh.seconds == 60
            with deadline(None, nested=False):
                assert dl.current() is None
        with deadline(None) as same:
            assert same is outer
    assert dl.current() is None


def test_past_the_deadline_check_raises_a_typed_error_naming_it() -> None:
    with deadline(0.01):
        time.sleep(0.02)
        assert dl.expired()
        assert dl.budget(5) == pytest.approx(0.001)
        with pytest.raises(DeadlineExceeded) as caught:
            dl.check(operation="get", name="db/pw", provider="vault")
    err = caught.value
    assert isinstance(err, ProviderUnavailable)
    assert str(err) == (
        "deadline exceeded: get secret 'db/pw' in provider 'vault': "
        "no answer within the operation's 0.01 s deadline"
    )


def _translate(err: Exception, context: Mapping[str, Any]) -> SecretwireError | None:
    return ProviderUnavailable(detail="timed out", **{k: context.get(k) for k in ("name",)})


def test_the_kit_call_starts_nothing_past_the_deadline() -> None:
    calls = []
    with deadline(0.0), pytest.raises(DeadlineExceeded):
        call(lambda: calls.append(1), _translate, operation="get", name="a")
    assert calls == []


def test_the_kit_call_reports_an_outage_after_the_deadline_as_deadline_exceeded() -> None:
    def slow() -> None:
        time.sleep(0.05)
        raise TimeoutError

    with pytest.raises(ProviderUnavailable) as within:
        call(slow, _translate, operation="get", name="a")
    assert type(within.value) is ProviderUnavailable  # no deadline: the backend's words
    with deadline(0.01), pytest.raises(DeadlineExceeded) as late:
        call(slow, _translate, operation="get", name="a", provider="p")
    assert (late.value.name, late.value.provider) == ("a", "p")


def test_the_provider_stage_refuses_any_provider_past_the_deadline_and_counts_it() -> None:
    memory = MemoryProvider({"a": "1"})
    stage = ProviderStage(memory)
    with deadline(0.0), pytest.raises(DeadlineExceeded):
        stage.get("a")
    assert memory.calls["get"] == 0
    stats = stage.stats()
    assert (stats.errors, stats.deadline_failures) == (1, 1)


class Recording(MemoryProvider):
    """Records the deadline each read sees (in whichever thread it runs)."""

    def __init__(self, initial: dict[str, str]) -> None:
        super().__init__(initial)
        self.seen: list[float | None] = []

    def _get(self, name: str, version: str | None) -> Secret:
        found = dl.current()
        self.seen.append(None if found is None else found.seconds)
        return super()._get(name, version)


def test_the_fan_out_carries_the_deadline_into_its_worker_threads() -> None:
    provider = Recording({f"k{i}": "v" for i in range(6)})
    with deadline(3.0):
        fetch_each(provider.get, [(f"k{i}", None) for i in range(6)], max_workers=3)
    assert provider.seen == [3.0] * 6


def test_every_manager_operation_runs_under_its_deadline() -> None:
    provider = Recording({"a": "1", "b": "2"})
    with SecretManager(provider, deadline=4.0, health_deadline=1.5, cache=False) as manager:
        manager.get("a")
        manager.resolve({"x": "${secret:a}", "y": "${secret:b}"})
        manager.value("b")
        assert provider.seen == [4.0] * 4
    with SecretManager(Recording({"a": "1"}), deadline=None, cache=False) as manager:
        manager.get("a")
        assert manager.provider.seen == [None]  # type: ignore[attr-defined]


def test_a_health_check_has_its_own_deadline() -> None:
    class Health(MemoryProvider):
        def _health(self):  # type: ignore[no-untyped-def]
            found = dl.current()
            assert found is not None and found.seconds == 0.5
            return super()._health()

    with SecretManager(Health(), health_deadline=0.5) as manager:
        assert manager.health().ok
