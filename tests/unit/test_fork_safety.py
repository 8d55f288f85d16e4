"""A manager built before a fork (gunicorn's ``preload_app``, multiprocessing's fork
start method) keeps working in the child: its kept worker threads (the concurrent
fetches of uncached keys, the cache's background refreshes) do not exist there, so
the child must start its own instead of queueing work that never runs."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

from secretwire import SecretManager
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import FakeClock
from secretwire.types import Secret

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _in_child(work: Callable[[], bool], seconds: int = 10) -> int:
    """Run ``work`` in a forked child (killed after ``seconds``); its exit status:
    0 when ``work`` returned True, 1 when it returned False, SIGALRM when it hung."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        code = 2
        try:
            signal.alarm(seconds)
            code = 0 if work() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return status


class _SlowMemory(MemoryProvider):
    """A read takes 20 ms, as a backend's does: a batch keeps several threads busy."""

    def _get(self, name: str, version: str | None) -> Secret:
        time.sleep(0.02)
        return super()._get(name, version)


def test_concurrent_fetches_work_in_a_forked_child() -> None:
    provider = _SlowMemory()
    for i in range(6):
        provider.set(f"k{i}", f"value-{i}")
    manager = SecretManager(provider, cache=False)
    # The parent starts four kept fetch threads, idle once the batch is read (as
    # between a server's requests).
    assert len(manager.get_many([(f"k{i}", None) for i in range(4)])) == 4
    assert sum(t.name.startswith("secretwire-fetch") for t in threading.enumerate()) >= 2
    time.sleep(0.1)

    def child() -> bool:
        found = manager.get_many([("k4", None), ("k5", None)])
        return [found[(f"k{i}", None)].reveal() for i in (4, 5)] == ["value-4", "value-5"]  # type: ignore[union-attr]

    assert _in_child(child) == 0
    manager.close()


def test_background_refreshes_work_in_a_forked_child() -> None:
    clock = FakeClock()
    provider = MemoryProvider()
    provider.set("hot", "v1")
    manager = SecretManager(provider, cache_ttl=100, cache_refresh_ahead=0.5, timer=clock)
    assert manager.get("hot").reveal() == "v1"
    clock.advance(60)  # past the refresh point: the parent starts its refresh threads
    assert manager.get("hot").reveal() == "v1"
    assert any(t.name.startswith("secretwire-refresh") for t in threading.enumerate())

    def child() -> bool:
        provider.set("hot", "v2")  # the child's copy of the store, not through the manager
        clock.advance(61)  # the parent's refresh reset the entry at 60: past 50 again
        manager.get("hot")  # starts a background refresh, in the child
        clock.advance(100)  # past the TTL: a reader joins that refresh, or loads itself
        return manager.get("hot").reveal() == "v2"

    assert _in_child(child) == 0
    manager.close()
