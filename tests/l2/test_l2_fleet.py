"""The L2 across processes, against a real Redis: the single flight's lock, invalidation
between two processes, and Redis killed, hung and restarted under load."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from secretwire import SecretManager
from secretwire.l2.store import Place, RedisStore
from secretwire.providers.memory import MemoryProvider
from secretwire.providers.vault import VaultProvider
from tests.l2.fleet import l2_manager, layer_of, new_key, write_settings
from tests.servers.openbao import OpenBao
from tests.servers.redis import RedisServer, redis_dedicated

ROOT = Path(__file__).resolve().parents[2]


def test_a_fleet_reads_each_secret_from_the_backend_once(
    redis_server: RedisServer, openbao_server: OpenBao, ns: str
) -> None:
    """12 managers (each its own cache and Redis connections, as processes have)
    resolve the same 40 references at once from OpenBao: 40 backend reads in all."""
    names = [f"{ns}fleet/{i}" for i in range(40)]
    writer = VaultProvider(openbao_server.url, token=openbao_server.root_token)
    for name in names:
        writer.set(name, f"value-{name}")
    writer.close()
    key, _ = new_key()
    tree = {name: f"${{secret:{name}}}" for name in names}
    managers = [
        l2_manager(
            VaultProvider(openbao_server.url, token=openbao_server.root_token),
            redis_server.url,
            ns,
            key,
        )
        for _ in range(12)
    ]
    start = threading.Barrier(len(managers))
    resolved: list[dict[str, str]] = []

    def run(manager: SecretManager) -> None:
        start.wait()
        resolved.append(manager.resolve(tree))

    threads = [threading.Thread(target=run, args=(m,)) for m in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert resolved == [{name: f"value-{name}" for name in names}] * len(managers)
        reads = sum(m.metrics().backend.by_operation.get("get", 0) for m in managers)
        assert reads == len(names)
        stats = [m.metrics().l2 for m in managers]
        assert sum(s.locks for s in stats) == len(names)
        assert sum(s.fallbacks for s in stats) == 0
    finally:
        for manager in managers:
            manager.close()


def test_only_the_owner_releases_a_lock(redis_server: RedisServer, ns: str) -> None:
    store = RedisStore(redis_server.url)
    place = Place(f"{ns}e", f"{ns}g", f"{ns}l")
    raw = redis_server.client()
    try:
        assert [slot.locked for slot in store.lock([place], 60_000, "owner", 5000)] == [True]
        assert [slot.locked for slot in store.lock([place], 60_000, "other", 5000)] == [False]
        store.release([place], "other")
        assert raw.get(place.lock) == b"owner"
        assert 0 < raw.pttl(place.lock) <= 5000
        store.release([place], "owner")
        assert raw.exists(place.lock) == 0
    finally:
        store.close()
        raw.close()


def test_a_reader_waits_for_a_dead_owner_briefly_then_reads_itself(
    redis_server: RedisServer, ns: str
) -> None:
    """The lock of a load whose process died stays until it expires: the others wait
    ``lock_wait`` for the value, then read the backend (and never delete the lock)."""
    key, _ = new_key()
    provider = MemoryProvider({"db/password": "pw"})
    manager = l2_manager(provider, redis_server.url, ns, key, lock_wait=0.3)
    lock = layer_of(manager)._place("db/password", None).lock
    raw = redis_server.client()
    try:
        raw.set(lock, "a-dead-process", px=10_000)
        started = time.monotonic()
        assert manager.get("db/password").reveal() == "pw"
        assert 0.3 <= time.monotonic() - started < 2.0
        stats = manager.metrics().l2
        assert (stats.waits, stats.waited_hits, stats.fallbacks) == (1, 0, 1)
        assert provider.calls["get"] == 1
        assert raw.get(lock) == b"a-dead-process"
    finally:
        raw.close()
        manager.close()


_CHILD = """
import json, sys, time
from secretwire import SecretManager, SecretNotFound
from tests.l2.fleet import layer_of


def current(manager, name):
    try:
        return manager.get(name).reveal()
    except SecretNotFound:
        return None  # deleted (then written again)


manager = SecretManager.from_settings(sys.argv[1], environment="prod")
name = sys.argv[2]
first = manager.get(name).reveal()
assert layer_of(manager).subscribed(10)
print("ready", flush=True)
until = time.monotonic() + 20
while time.monotonic() < until:
    if current(manager, name) != first:
        stats = manager.metrics()
        print(json.dumps({"seen": time.time(), "received": stats.l2.invalidations_received,
                          "hits": stats.l2.hits}), flush=True)
        break
    time.sleep(0.001)
manager.close()
"""


@pytest.mark.parametrize("operation", ["set", "rollback", "rotate", "delete"])
def test_a_change_in_one_process_reaches_another_at_once(
    redis_server: RedisServer, tmp_path: Path, ns: str, operation: str
) -> None:
    """Another process has the secret in its cache (TTL 300 s); a write, rollback,
    rotation or delete here is in its next read within a second (milliseconds, in
    fact), through Redis pub/sub."""
    _, key_text = new_key()
    settings = write_settings(tmp_path, redis_server.url, ns, key_text)
    name = "svc/token"
    here = SecretManager.from_settings(settings, environment="prod")
    here.set(name, "v1")
    here.set(name, "v2")
    here.get(name)  # into Redis: the other process's first read comes from there
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(settings), name],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        if operation == "set":
            here.set(name, "v3")
        elif operation == "rollback":
            here.rollback(name, "1")
        elif operation == "rotate":
            here.rotate(name)
        else:
            here.delete(name)
            here.set(name, "v-new")
        written = time.time()
        report = json.loads(child.stdout.readline())
        assert child.wait(10) == 0
    finally:
        child.kill()
        child.stdout.close()  # type: ignore[union-attr]
        here.close()
    assert report["seen"] - written < 1.0
    assert report["received"] >= 1
    assert report["hits"] >= 1  # its first read came from Redis


def test_redis_killed_and_restarted_under_load_fails_no_read(
    ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    """4 managers read 20 secrets in a loop (short TTLs, so the L2 is used all the
    time) while Redis is killed, then restarted empty: every read succeeds with the
    right value; the outage is one warning and counters."""
    key, _ = new_key()
    values = {f"app/{i}": f"value-{i}" for i in range(20)}
    tree = {name: f"${{secret:{name}}}" for name in values}
    errors: list[BaseException] = []
    wrong: list[object] = []
    with redis_dedicated() as (server, redis):
        provider = MemoryProvider(values)
        managers = [
            l2_manager(provider, server.url, ns, key, cache_ttl=0.2, timeout=0.2, retry_after=0.3)
            for _ in range(4)
        ]
        stop = threading.Event()

        def run(manager: SecretManager) -> None:
            while not stop.is_set():
                try:
                    if manager.resolve(tree) != values:
                        wrong.append(manager)
                except BaseException as err:
                    errors.append(err)
                time.sleep(0.01)

        threads = [threading.Thread(target=run, args=(m,)) for m in managers]
        with caplog.at_level(logging.WARNING, logger="secretwire"):
            for thread in threads:
                thread.start()
            time.sleep(0.8)
            before = [m.metrics().l2 for m in managers]
            redis.kill()
            time.sleep(1.2)
            down = [m.metrics().l2 for m in managers]
            redis.restart()
            time.sleep(1.5)
            stop.set()
            for thread in threads:
                thread.join(10)
        after = [m.metrics().l2 for m in managers]
        for manager in managers:
            manager.close()
    assert errors == [] and wrong == []
    assert all(s.hits > 0 for s in before)
    assert sum(s.errors for s in down) >= 1 and sum(s.bypassed for s in down) > 0
    assert sum(a.hits for a in after) > sum(d.hits for d in down)  # used again once back
    assert all(s.available for s in after)
    failed = [r for r in caplog.records if "failed in" in r.getMessage()]
    assert 1 <= len(failed) <= 2 * len(managers)  # one per outage (and per probe that failed)
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_a_hung_redis_costs_a_read_its_timeout_at_most(ns: str) -> None:
    """Redis stopped (SIGSTOP: it accepts connections, never answers): a read pays the
    0.2 s socket timeout once, then skips Redis; a write made meanwhile reaches the
    other processes once Redis is back."""
    key, _ = new_key()
    with redis_dedicated() as (server, redis):
        provider = MemoryProvider({"a": "1", "b": "2"})
        here = l2_manager(provider, server.url, ns, key, timeout=0.2, retry_after=0.5)
        there = l2_manager(provider, server.url, ns, key, timeout=0.2, retry_after=0.5)
        try:
            assert there.get("a").reveal() == "1"
            assert layer_of(there).subscribed(5)
            with redis.hung():
                started = time.monotonic()
                assert here.get("a").reveal() == "1"
                assert here.get("b").reveal() == "2"
                assert time.monotonic() - started < 1.0
                here.set("a", "1-new")  # Redis cannot take the invalidation now
            time.sleep(0.6)  # past retry_after: the next read probes Redis, and replays it
            assert here.get("b").reveal() == "2"
            until = time.monotonic() + 3
            while there.get("a").reveal() != "1-new" and time.monotonic() < until:
                time.sleep(0.01)
            assert there.get("a").reveal() == "1-new"
        finally:
            here.close()
            there.close()
