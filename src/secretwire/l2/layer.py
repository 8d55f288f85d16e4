"""The L2 layer: the manager's cache misses go to Redis before the backend.

It sits in the ``after_cache`` slot (manager cache -> change watch -> **L2** ->
fallback and circuit breakers -> provider), so it sees only the reads the local
cache could not answer, and every write:

* **read**: one round trip reads every key of a batch. A fresh entry is served; one
  past its TTL but within the stale window is kept aside; the rest are loaded.
* **single flight across processes**: for the keys to load, one round trip tries
  their locks (``SET NX PX`` with a random token). The keys this process locked it
  reads from the backend (through the breakers below) and stores, releasing each
  lock in the same script (only with its token). For the keys another process
  locked it polls Redis until their values appear, at most ``lock_wait`` seconds
  (and half of what is left of the deadline), then reads those still missing from
  the backend itself.
* **stale-on-error, negative entries**: as the local cache does them. A value is
  fresh for ``ttl`` and kept ``max_stale`` longer, served (marked with its age) only
  when the backend is unavailable; "not found" is kept ``negative_ttl``.
* **writes** (set, delete, rotation steps, rollback) and ``invalidate`` give the
  name a new epoch (a random token): every entry of it is stale at once (a load
  that began before cannot store an old value after), and publish the name,
  sealed, so every process drops it from its local cache.
* **Redis is never a single point of failure**: every command goes through the
  store's gate (:mod:`secretwire.l2.store`); when it cannot be used the read goes
  to the backend, with a warning and a counter, and no error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeGuard

from .. import deadlines
from .._time import utcnow
from ..errors import ProviderError, ProviderUnavailable, SecretNotFound
from ..pipeline import Handler, InvalidatingLayer, Results
from ..types import Health, Key, Secret
from .config import L2Settings
from .crypto import Entry, L2Key, open_entry, open_message, seal_entry, seal_message
from .errors import L2EntryCorrupted, L2KeyMismatch, L2Unavailable
from .stats import COUNTS as _COUNTS
from .stats import L2Stats
from .store import Place, RedisStore, Slot, Write
from .subscriber import Subscriber

__all__ = ["L2Layer", "L2Stats"]

logger = logging.getLogger("secretwire")

_MAX_PENDING = 1024


@dataclass(slots=True)
class _Batch:
    """One read's state, shared by its steps: each key's place in Redis, the epoch
    Redis last gave it, the stale values that may stand in for a backend outage,
    and whether it is a single ``get`` (which the backend is asked as one)."""

    places: dict[Key, Place]
    single: bool
    epochs: dict[Key, str] = dataclasses.field(default_factory=dict)
    stale: dict[Key, Secret] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Found:
    outcome: Secret | SecretNotFound
    fresh: bool
    age: float


class L2Layer(InvalidatingLayer):
    """See the module docstring. Built from the settings by
    :func:`secretwire.l2.build.l2_layers`; by hand::

        store = RedisStore("redis://localhost:6379/0")
        SecretManager(provider, after_cache=[lambda inner: L2Layer(inner, store, key, "prod")])
    """

    def __init__(
        self,
        inner: Handler,
        store: RedisStore,
        key: L2Key,
        environment: str,
        settings: L2Settings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(inner)
        spec = settings or L2Settings({})
        self.store, self.key, self.environment = store, key, environment
        self._prefix = spec.prefix
        self._fresh_ms = max(1, int(spec.ttl * 1000))
        self._stale_ms = int(spec.max_stale * 1000)
        self._negative_ms = int(spec.negative_ttl * 1000)
        self._lock_ms = max(1, int(spec.lock_ttl * 1000))
        self._lock_wait = spec.lock_wait
        self._clock = clock
        self._keep_ms = self._fresh_ms + max(self._stale_ms, self._negative_ms)
        self._channel = f"{self._prefix}inv:{key.name('channel', environment)}"
        self._check_key = (
            f"{self._prefix}keycheck:"
            + hashlib.sha256(
                f"secretwire l2 environment {environment}".encode("utf-8", "surrogatepass")
            ).hexdigest()[:32]
        )
        self._origin = secrets.token_hex(8)
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(_COUNTS, 0)
        self._delay_max = 0.0
        self._watchers: list[Callable[[str], None]] = []
        self._pending: dict[str, None] = {}  # invalidations Redis did not take yet
        self._warned: set[str] = set()
        self._checked = False
        self._closed = False
        #: Why this process does not use the L2 (a wrong key), if it does not.
        self.problem: L2KeyMismatch | None = None
        self._subscriber = (
            Subscriber(
                store,
                self._channel,
                self._on_message,
                subscribed=self._on_subscribed,
            )
            if spec.invalidation
            else None
        )

    # -- reads ---------------------------------------------------------------------------
    def get(self, name: str, *, version: str | None = None) -> Secret:
        key = (name, version)
        outcome = self._read([key], single=True).get(key)
        if isinstance(outcome, Secret):
            return outcome
        if outcome is None:
            outcome = ProviderError("provider returned no result", name=name)
        raise outcome

    def get_many(self, keys: Sequence[Key]) -> Results:
        return self._read(list(dict.fromkeys(keys)), single=False)

    def _read(self, keys: list[Key], *, single: bool) -> Results:
        if not keys or not self._ready():
            return self._backend(keys, single)
        batch = _Batch({key: self._place(*key) for key in keys}, single)
        try:
            slots = self.store.read([batch.places[key] for key in keys], self._keep_ms)
        except L2Unavailable:
            return self._backend(keys, single)
        results: Results = {}
        for key, slot in zip(keys, slots, strict=True):
            batch.epochs[key] = slot.epoch
            found = self._open(key, slot, report=True)
            if found is not None and found.fresh:
                results[key] = self._served(found)
            elif found is not None and self._usable(found.outcome):
                batch.stale[key] = dataclasses.replace(found.outcome, stale_age=found.age)
        missing = [key for key in keys if key not in results]
        self._count(hits=len(results), misses=len(missing))
        if missing:
            results.update(self._fill(missing, batch))
        return results

    def _fill(self, missing: list[Key], batch: _Batch) -> Results:
        """Load the keys Redis did not answer: those this process locks, from the
        backend; those another process locked, from Redis once that process stored
        them (or from the backend after ``lock_wait``)."""
        places = batch.places
        token = secrets.token_hex(16)
        try:
            slots = self.store.lock(
                [places[key] for key in missing], self._keep_ms, token, self._lock_ms
            )
        except L2Unavailable:
            return self._with_stale(self._backend(missing, batch.single), batch.stale)
        results: Results = {}
        mine: list[Key] = []
        theirs: list[Key] = []
        spare: list[Place] = []
        for key, slot in zip(missing, slots, strict=True):
            batch.epochs[key] = slot.epoch
            found = self._open(key, slot)
            if found is not None and found.fresh:  # another load stored it since the read
                results[key] = self._served(found)
                if slot.locked:
                    spare.append(places[key])
            else:
                (mine if slot.locked else theirs).append(key)
        if spare:
            self._quietly(lambda: self.store.release(spare, token))
        if mine:
            self._count(locks=len(mine))
            try:
                loaded = self._backend(mine, batch.single)
            except BaseException:
                self._quietly(lambda: self.store.release([places[key] for key in mine], token))
                raise
            self._keep(loaded, batch, token)
            results.update(self._with_stale(loaded, batch.stale))
        if theirs:
            results.update(self._wait(theirs, batch))
        return results

    def _wait(self, theirs: list[Key], batch: _Batch) -> Results:
        self._count(waits=len(theirs))
        left = deadlines.remaining()
        until = self._clock() + (
            self._lock_wait if left is None else min(self._lock_wait, left / 2)
        )
        pending, gone = list(theirs), []
        results: Results = {}
        pause = 0.001  # then 2, 4, 8, 16, 20, 20... ms: a load is a few ms
        while pending and self._clock() < until:
            time.sleep(max(0.0, min(pause, until - self._clock())))
            pause = min(pause * 2, 0.02)
            try:
                slots = self.store.read([batch.places[key] for key in pending], self._keep_ms)
            except L2Unavailable:
                break
            still = []
            for key, slot in zip(pending, slots, strict=True):
                batch.epochs[key] = slot.epoch
                found = self._open(key, slot)
                if found is not None and found.fresh:
                    results[key] = self._served(found)
                elif slot.locked:
                    still.append(key)
                else:
                    gone.append(key)  # its loader stored nothing (it failed): read it here
            pending = still
        pending += gone
        self._count(waited_hits=len(results), fallbacks=len(pending))
        if pending:
            loaded = self._backend(pending, batch.single)
            self._keep(loaded, batch, "")
            results.update(self._with_stale(loaded, batch.stale))
        return results

    def _backend(self, keys: list[Key], single: bool) -> Results:
        if single and len(keys) == 1:
            name, version = keys[0]
            try:
                return {keys[0]: self.inner.get(name, version=version)}
            except ProviderError as err:
                return {keys[0]: err}
        return self.inner.get_many(keys) if keys else {}

    def _with_stale(self, loaded: Results, stale: dict[Key, Secret]) -> Results:
        """A kept value in place of each backend outage it can stand in for."""
        served = {
            key: stale[key]
            for key, outcome in loaded.items()
            if isinstance(outcome, ProviderUnavailable) and key in stale
        }
        if served:
            self._count(stale_served=len(served))
        return {**loaded, **served}

    def _keep(self, loaded: Results, batch: _Batch, token: str) -> None:
        """Store what was loaded (values, and "not found"); release the locks ``token``
        holds, in the same round trip."""
        places, epochs = batch.places, batch.epochs
        writes = []
        for key, outcome in loaded.items():
            sealed, px = None, 0
            if isinstance(outcome, Secret) and outcome.stale_age is None:
                sealed, px = (
                    self._seal(key, outcome, epochs[key], self._fresh_ms, self._stale_ms),
                    self._fresh_ms + self._stale_ms,
                )
            elif isinstance(outcome, SecretNotFound) and self._negative_ms > 0:
                sealed, px = (
                    self._seal(key, outcome, epochs[key], self._negative_ms, 0),
                    self._negative_ms,
                )
            if sealed is not None or token:
                writes.append(Write(places[key], sealed, px, epochs[key]))
        if writes:
            stored = self._quietly(lambda: self.store.store(writes, token, self._keep_ms))
            self._count(stores=stored or 0)

    def _seal(
        self, key: Key, outcome: Secret | SecretNotFound, epoch: str, fresh: int, stale: int
    ) -> bytes:
        place = (self.environment, key[0], key[1])
        return seal_entry(self.key, place, outcome, epoch=epoch, fresh_ms=fresh, stale_ms=stale)

    def _open(self, key: Key, slot: Slot, *, report: bool = False) -> _Found | None:
        """The entry at ``slot`` if it opens, is of the name's current epoch and has
        time left; ``None`` otherwise (a corrupt one is reported, with ``report``:
        once per read)."""
        if slot.sealed is None or slot.pttl < 0:
            return None
        entry: Entry | None = open_entry(self.key, slot.sealed, (self.environment, *key))
        if entry is None:
            if report:
                self._corrupt(key[0])
            return None
        if entry.epoch != slot.epoch:
            return None  # written before the name changed
        age_ms = entry.fresh_ms + entry.stale_ms - slot.pttl
        return _Found(entry.outcome, age_ms < entry.fresh_ms, max(0, age_ms) / 1000)

    @staticmethod
    def _usable(outcome: Secret | SecretNotFound) -> TypeGuard[Secret]:
        """A kept value that may stand in for an unavailable backend: unexpired."""
        return isinstance(outcome, Secret) and not outcome.expired(utcnow())

    def _served(self, found: _Found) -> Secret | SecretNotFound:
        if isinstance(found.outcome, SecretNotFound):
            self._count(negative_hits=1)
        return found.outcome

    def _corrupt(self, name: str) -> None:
        self._count(corrupt=1)
        with self._lock:
            first = name not in self._warned and len(self._warned) < 1024
            self._warned.add(name)
        if first:
            error = L2EntryCorrupted(
                operation="read",
                name=name,
                provider="l2",
                endpoint=self.store.endpoint,
                detail="the entry did not authenticate (modified, or copied from another key); "
                "not served, read from the backend",
            )
            logger.warning("%s", error)

    # -- using Redis at all ------------------------------------------------------------------
    def _ready(self) -> bool:
        """Whether to use Redis for this operation: open, the key checked, Redis up."""
        if self._closed or self.problem is not None:
            return False
        if self._subscriber is not None:
            self._subscriber.start()
        if not self._checked:
            try:
                found = self.store.check(self._check_key, self.key.kid)
            except L2Unavailable:
                return False
            if found != self.key.kid:
                self._mismatch(found)
                return False
            self._checked = True
        if self._pending:
            self._replay()
        return True

    def _mismatch(self, found: bytes) -> None:
        self.problem = L2KeyMismatch(
            provider="l2",
            endpoint=self.store.endpoint,
            detail=f"environment {self.environment!r}: the entries under prefix "
            f"{self._prefix!r} were written with key id {found.hex()}, this process has "
            f"{self.key.kid.hex()}; not using the L2 (reads go to the backend)",
            hint="give every process of the environment the same l2 key, or a new key a new prefix",
        )
        logger.warning("%s", self.problem)

    def _place(self, name: str, version: str | None) -> Place:
        prefix, env = self._prefix, self.environment
        return Place(
            f"{prefix}e:{self.key.name('entry', env, name, version)}",
            f"{prefix}g:{self.key.name('epoch', env, name)}",
            f"{prefix}l:{self.key.name('lock', env, name, version)}",
        )

    def _quietly(self, command: Callable[[], int | None]) -> int | None:
        try:
            return command()
        except L2Unavailable:
            return None

    def _count(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                self._counts[name] += count

    # -- invalidation ------------------------------------------------------------------------
    def changed(self, name: str) -> None:
        """After a write of ``name`` through this process: its entries in Redis are stale
        at once, and every other process drops it from its local cache."""
        if self._closed or self.problem is not None:
            return
        if not self._send(name):
            with self._lock:  # sent when Redis answers again
                self._pending[name] = None
                while len(self._pending) > _MAX_PENDING:
                    self._pending.pop(next(iter(self._pending)))

    def _send(self, name: str) -> bool:
        message = seal_message(self.key, self.environment, name, self._origin, time.time())
        epoch = self._place(name, None).epoch
        try:
            self.store.change(epoch, self._keep_ms, self._channel, message)
        except L2Unavailable:
            return False
        self._count(invalidations_sent=1)
        return True

    def _on_subscribed(self) -> None:
        """Redis answers (again): send what it could not take meanwhile."""
        self.store.reopen()
        if self._pending:
            self._replay()

    def _replay(self) -> None:
        with self._lock:
            names, self._pending = list(self._pending), {}
        for index, name in enumerate(names):
            if not self._send(name):
                with self._lock:
                    self._pending.update(dict.fromkeys(names[index:]))
                return

    def invalidate(self, name: str) -> None:
        self.changed(name)
        self.inner.invalidate(name)

    def watch_invalidations(self, callback: Callable[[str], None]) -> None:
        with self._lock:
            self._watchers.append(callback)
        self.inner.watch_invalidations(callback)

    def _on_message(self, sealed: bytes) -> None:
        opened = open_message(self.key, self.environment, sealed)
        if opened is None or opened[1] == self._origin:
            return
        name, _, sent = opened
        with self._lock:
            self._counts["invalidations_received"] += 1
            self._delay_max = max(self._delay_max, time.time() - sent)
            watchers = list(self._watchers)
        for callback in watchers:
            callback(name)

    def subscribed(self, timeout: float) -> bool:
        """Wait until the invalidation subscriber listens (tests, benchmarks)."""
        self._ready()
        return self._subscriber is not None and self._subscriber.ready.wait(timeout)

    # -- health, stats, close -------------------------------------------------------------
    def health(self) -> Health:
        health = self.inner.health()
        if self.problem is not None:
            return dataclasses.replace(health, warnings=(*health.warnings, f"l2: {self.problem}"))
        try:
            self.store.ping()
        except L2Unavailable as err:
            why = err.detail or "skipped after a failure"
            warning = (
                f"l2: Redis at {self.store.endpoint} unavailable ({why}): reads go to the backend"
            )
            return dataclasses.replace(health, warnings=(*health.warnings, warning))
        note = f"l2: shared cache at {self.store.endpoint} (key id {self.key.kid.hex()})"
        return dataclasses.replace(health, notes=(*health.notes, note))

    def l2_stats(self) -> L2Stats:
        with self._lock:
            counts = dict(self._counts)
            delay = self._delay_max
        return L2Stats(
            available=self.store.up and self.problem is None,
            key_mismatch=self.problem is not None,
            errors=self.store.errors,
            bypassed=self.store.bypassed,
            invalidation_delay_max=delay,
            **counts,
        )

    def close(self) -> None:
        self._closed = True
        if self._subscriber is not None:
            self._subscriber.stop()
        self.store.close()
        self.inner.close()
