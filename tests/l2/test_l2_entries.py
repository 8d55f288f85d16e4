"""What the L2 keeps in Redis, against a real Redis: sealed values and MAC'd names
(nothing readable in a dump, MONITOR or an RDB save), a wrong key and tampered
entries (typed errors, nothing served), expiry, stale-on-error and "not found"."""

from __future__ import annotations

import base64
import logging
import threading
import time
from pathlib import Path

import pytest

from secretwire import SecretManager, SecretNotFound
from secretwire.l2 import L2EntryCorrupted, L2KeyMismatch
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, assert_no_leak
from tests.l2.fleet import l2_manager, layer_of, new_key, write_settings
from tests.servers.redis import RedisServer


class _Monitor:
    """Every command Redis executes while it runs (``MONITOR``), as raw text."""

    def __init__(self, server: RedisServer) -> None:
        self.lines: list[str] = []
        self._client = server.client()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self._client.monitor() as monitor:
            self._ready.set()
            for command in monitor.listen():
                self.lines.append(command["command"])
                if "stop-monitor" in command["command"]:
                    return

    def __enter__(self) -> _Monitor:
        self._thread.start()
        self._ready.wait(5)
        time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        stopper = self._client.__class__(connection_pool=self._client.connection_pool)
        stopper.echo("stop-monitor")
        self._thread.join(5)
        self._client.close()


def test_redis_holds_no_value_and_no_name(
    redis_server: RedisServer, tmp_path: Path, ns: str
) -> None:
    """Two managers from a settings file read, write, rotate and miss secrets; a dump
    of every key, every command Redis ran and its RDB file show none of the values
    (raw, base64 or hex) and none of the names."""
    _, key_text = new_key()
    settings = write_settings(tmp_path, redis_server.url, ns, key_text)
    names = [f"{ns}db/password", f"{ns}api/token", f"{ns}flags/beta"]
    values = [f"{CANARY}-{i}" for i in range(len(names))]
    with _Monitor(redis_server) as monitor:
        first = SecretManager.from_settings(settings, environment="prod")
        second = SecretManager.from_settings(settings, environment="prod")
        for name, value in zip(names, values, strict=True):
            first.set(name, value)
        tree = {name: f"${{secret:{name}}}" for name in names}
        assert first.resolve(tree) == second.resolve(tree) == dict(zip(names, values, strict=True))
        assert second.value(f"{ns}missing/flag:-off").reveal() == "off"
        first.set(names[0], values[0] + "-2")
        assert second.get(names[0], version="1").reveal() == values[0]
        first.close()
        second.close()
    raw = redis_server.client()
    try:
        keys = list(raw.keys(f"{ns}*"))
        dumps = b"".join(raw.dump(key) or b"" for key in keys)
        stored = b"".join(raw.get(key) or b"" for key in keys if raw.type(key) == b"string")
    finally:
        raw.close()
    seen = b"\n".join(
        [*keys, dumps, stored, redis_server.rdb(), *(line.encode() for line in monitor.lines)]
    )
    assert len(keys) >= len(names) and len(monitor.lines) > 10
    assert b"GET" in seen.upper() or b"EVALSHA" in seen.upper()
    for value in values:
        for form in (value, base64.b64encode(value.encode()).decode(), value.encode().hex()):
            assert form.encode() not in seen
    for name in [*names, f"{ns}missing/flag"]:
        assert name.removeprefix(ns).encode() not in seen
    assert CANARY.encode() not in seen


def test_a_process_with_another_key_serves_nothing_from_redis(
    redis_server: RedisServer, ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A process given the wrong L2 key: a typed error (logged, in health and the
    metrics, never raised), every read from the backend, no byte of the fleet's
    entries served."""
    fleet_key, _ = new_key()
    wrong_key, _ = new_key()
    provider = MemoryProvider({"db/password": CANARY})
    fleet = l2_manager(provider, redis_server.url, ns, fleet_key)
    odd = l2_manager(provider, redis_server.url, ns, wrong_key)
    try:
        assert fleet.get("db/password").reveal() == CANARY
        with caplog.at_level(logging.WARNING, logger="secretwire"):
            assert odd.get("db/password").reveal() == CANARY
            assert odd.value("db/password").reveal() == CANARY
        problem = layer_of(odd).problem
        assert isinstance(problem, L2KeyMismatch)
        assert fleet_key.kid.hex() in str(problem) and wrong_key.kid.hex() in str(problem)
        assert_no_leak(problem, CANARY)
        stats = odd.metrics().l2
        assert stats.key_mismatch and not stats.available and stats.hits == 0
        assert provider.calls["get"] == 2  # the fleet's one, and the odd process's one
        assert any("wrong l2 key" in w for w in odd.health().warnings)
        assert [r.getMessage() for r in caplog.records if "wrong l2 key" in r.getMessage()]
        assert CANARY not in caplog.text
    finally:
        fleet.close()
        odd.close()


@pytest.mark.parametrize("damage", ["moved", "truncated", "flipped"])
def test_a_tampered_entry_is_reported_and_never_served(
    redis_server: RedisServer, ns: str, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry copied to another secret's key (the associated data binds it to its
    name and version), cut short, or with one bit changed: not served (the value
    comes from the backend), an L2EntryCorrupted warning naming the secret."""
    key, _ = new_key()
    provider = MemoryProvider({"a": f"{CANARY}-a", "b": f"{CANARY}-b"})
    writer = l2_manager(provider, redis_server.url, ns, key)
    reader = l2_manager(provider, redis_server.url, ns, key)
    raw = redis_server.client()
    try:
        writer.get("a"), writer.get("b")
        a_key, b_key = (layer_of(writer)._place(name, None).entry for name in ("a", "b"))
        sealed = raw.get(a_key if damage == "moved" else b_key)
        if damage == "truncated":
            sealed = sealed[:-5]
        elif damage == "flipped":
            sealed = sealed[:-1] + bytes([sealed[-1] ^ 1])
        raw.set(b_key, sealed, px=60_000)
        with caplog.at_level(logging.WARNING, logger="secretwire"):
            assert reader.get("b").reveal() == f"{CANARY}-b"
        assert reader.metrics().l2.corrupt == 1
        assert provider.calls["get"] == 3
        [record] = [r for r in caplog.records if "l2 entry corrupted" in r.getMessage()]
        assert "'b'" in record.getMessage() and CANARY not in caplog.text
        error = L2EntryCorrupted(name="b", provider="l2", detail="x")
        assert_no_leak(error, f"{CANARY}-a", f"{CANARY}-b")
    finally:
        raw.close()
        writer.close()
        reader.close()


def test_an_entry_lives_in_redis_no_longer_than_the_local_ttl(
    redis_server: RedisServer, ns: str
) -> None:
    """With no stale window, an entry's TTL in Redis is the L2 ttl (at most the local
    one); once it expired, the next read goes to the backend and sees a change made
    behind secretwire's back."""
    key, _ = new_key()
    provider = MemoryProvider({"a": "1"})
    first = l2_manager(provider, redis_server.url, ns, key, cache_ttl=0.4, max_stale=0.0)
    raw = redis_server.client()
    try:
        assert first.get("a").reveal() == "1"
        assert 0 < raw.pttl(layer_of(first)._place("a", None).entry) <= 400
        provider.set("a", "2")  # out of band: nobody is told
        second = l2_manager(provider, redis_server.url, ns, key, cache_ttl=0.4, max_stale=0.0)
        assert second.get("a").reveal() == "1"  # from Redis, still fresh
        time.sleep(0.5)
        third = l2_manager(provider, redis_server.url, ns, key, cache_ttl=0.4, max_stale=0.0)
        assert third.get("a").reveal() == "2"
        assert (third.metrics().l2.hits, provider.calls["get"]) == (0, 2)
        second.close()
        third.close()
    finally:
        raw.close()
        first.close()


def test_stale_entries_stand_in_for_an_unavailable_backend(
    redis_server: RedisServer, tmp_path: Path, ns: str
) -> None:
    """Past its TTL an entry is kept ``max_stale`` longer (its Redis TTL is ttl +
    max_stale): a new process whose backend is unavailable is served it, marked with
    its age, and its own cache does not keep it as fresh."""
    key, _ = new_key()
    from secretwire.providers.localfile import LocalFileProvider

    store = tmp_path / "store.enc"
    options = {"key_file": tmp_path / "store.key", "create": False}
    LocalFileProvider(store, key_file=tmp_path / "store.key").set("a", "1")

    def manager() -> SecretManager:
        provider = LocalFileProvider(store, **options)  # type: ignore[arg-type]
        return l2_manager(provider, redis_server.url, ns, key, cache_ttl=0.3, max_stale=30.0)

    first = manager()
    raw = redis_server.client()
    try:
        assert first.get("a").reveal() == "1"
        assert 300 < raw.pttl(layer_of(first)._place("a", None).entry) <= 30_300
        time.sleep(0.4)
        store.rename(tmp_path / "away.enc")  # the backend is unavailable (create: false)
        later = manager()
        served = later.get("a")
        assert served.reveal() == "1" and served.stale_age is not None and served.stale_age >= 0.3
        assert later.metrics().l2.stale_served == 1
        (tmp_path / "away.enc").rename(store)
        LocalFileProvider(store, **options).set("a", "2")  # type: ignore[arg-type]
        assert later.get("a").reveal() == "2"  # the stale value was not kept
        later.close()
    finally:
        raw.close()
        first.close()


def test_not_found_is_shared_and_dropped_by_a_write(redis_server: RedisServer, ns: str) -> None:
    key, _ = new_key()
    provider = MemoryProvider({})
    first = l2_manager(provider, redis_server.url, ns, key, negative_ttl=30.0)
    second = l2_manager(provider, redis_server.url, ns, key, negative_ttl=30.0)
    try:
        assert layer_of(second).subscribed(5)
        with pytest.raises(SecretNotFound):
            first.get("feature/flag")
        with pytest.raises(SecretNotFound):
            second.get("feature/flag")
        assert (provider.calls["get"], second.metrics().l2.negative_hits) == (1, 1)
        first.set("feature/flag", "on")
        until = time.monotonic() + 3
        while time.monotonic() < until:
            try:
                assert second.get("feature/flag").reveal() == "on"
                break
            except SecretNotFound:
                time.sleep(0.01)
        assert second.get("feature/flag").reveal() == "on"
    finally:
        first.close()
        second.close()


def test_an_evicted_epoch_never_revives_an_old_entry(redis_server: RedisServer, ns: str) -> None:
    """A write leaves the old entry in Redis, stale by its name's epoch; if Redis then
    loses the epoch key (expiry, eviction under maxmemory), the old entry must not
    become current again."""
    key, _ = new_key()
    provider = MemoryProvider({"a": "old"})
    first = l2_manager(provider, redis_server.url, ns, key)
    raw = redis_server.client()
    try:
        assert first.get("a").reveal() == "old"
        first.set("a", "new")
        place = layer_of(first)._place("a", None)
        assert raw.exists(place.entry) == 1  # the old entry is still there, stale
        raw.delete(place.epoch)
        later = l2_manager(provider, redis_server.url, ns, key)
        assert later.get("a").reveal() == "new"
        later.close()
    finally:
        raw.close()
        first.close()
