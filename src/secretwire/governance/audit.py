"""The audit trail and its pipeline layer: a record of every operation, hits included.

:class:`AuditLayer` sits above the cache (``authorize -> audit -> cache``), so it
sees every request, and learns from the cache layer which reads were loaded from the
backend (:class:`~secretwire.pipeline.LoadTracker`): the others were hits. Each
record holds the time, principal, environment, operation, name (or its HMAC),
version, outcome, whether the cache served it and the latency; never a value.

:class:`AuditTrail` writes records with a group commit: the caller that finds no
write in progress writes every record waiting (its own and those of the threads
that queued behind it) in one append per sink, so concurrent readers share one
write and one lock. It returns once its record is written: when a sink cannot
write, the operation fails (``fail_open`` logs loudly and carries on instead).
``fsync`` happens at most every ``sync_interval`` seconds (``sync: always`` for
every commit), and a checkpoint every ``checkpoint_every`` records and at close.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ProviderError
from ..pipeline import CacheLayer, Handler, Key, Layer, LoadTracker, Results
from ..types import Secret, SecretVersion, Write
from .chain import AuditKey, Head, chain_lines
from .errors import AuditUnavailable
from .sinks import Sink

__all__ = ["AuditLayer", "AuditTrail", "make_entry"]

logger = logging.getLogger("secretwire.audit")

Entry = dict[str, Any]


def _timestamp(seconds: float) -> str:
    """ISO 8601 UTC with microseconds, e.g. ``2026-01-02T03:04:05.000006Z``."""
    micros = int(seconds * 1_000_000) % 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


#: Pipeline operations recorded under their own name whose policy operation is
#: another: the rotation steps are what the ``rotate`` operation allows.
_AS_POLICY = dict.fromkeys(("annotate", "stage", "promote", "unstage"), "rotate")


class _Batch:
    __slots__ = ("done", "entries", "error")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.done = False
        self.error: AuditUnavailable | None = None


class AuditTrail:
    """Chains, MACs and writes records to its sinks (see the module docstring)."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        key: AuditKey,
        *,
        hash_names: bool = False,
        fail_open: bool = False,
        checkpoint_every: int = 1000,
        sync: str = "interval",
        sync_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not sinks:
            raise ValueError("an audit trail needs at least one sink")
        self.sinks, self.key, self.clock = tuple(sinks), key, clock
        self.hash_names, self.fail_open = hash_names, fail_open
        self.checkpoint_every, self.sync, self.sync_interval = checkpoint_every, sync, sync_interval
        self._cond = threading.Condition(threading.Lock())
        self._open = _Batch()  # the batch records join until a writer takes it
        self._writing = self._closed = False
        self._since_checkpoint, self._synced, self._warned = 0, time.monotonic(), 0.0
        self._names: dict[str, str] = {}  # name -> its HMAC, with hash_names

    # -- building records ------------------------------------------------------------
    def name(self, name: str) -> str:
        """``name`` as the trail shows it: as is, or its HMAC (``hash_names``)."""
        if not self.hash_names:
            return name
        shown = self._names.get(name)
        if shown is None:
            if len(self._names) > 65536:
                self._names.clear()
            shown = self._names[name] = self.key.name(name)
        return shown

    # -- writing ---------------------------------------------------------------------
    def record(self, entries: Sequence[Entry]) -> None:
        """Write ``entries`` (one commit); raise :class:`AuditUnavailable` if a sink
        cannot, unless ``fail_open``."""
        with self._cond:
            if self._closed:
                raise AuditUnavailable("(all)", "the audit trail is closed")
            batch = self._open
            batch.entries.extend(entries)
            while not batch.done:
                if self._writing or batch is not self._open:
                    self._cond.wait()
                    continue
                self._writing = True
                self._open = _Batch()
                self._cond.release()
                try:
                    batch.error = self._write(batch.entries)
                finally:
                    self._cond.acquire()
                    batch.done = True
                    self._writing = False
                    self._cond.notify_all()
        if batch.error is not None:
            self._failed(batch.error)

    def _write(self, entries: list[Entry], *, final: bool = False) -> AuditUnavailable | None:
        """Append ``entries`` (and a checkpoint when one is due) to every sink; the
        first failure, as the error to raise, or None. Only the writer calls this."""
        self._since_checkpoint += len(entries)
        if final or self._since_checkpoint >= self.checkpoint_every:
            self._since_checkpoint = 0
            checkpoint = {"kind": "checkpoint", "ts": _timestamp(self.clock()), "final": final}
            entries = [*entries, {**checkpoint, "kid": self.key.kid}]

        def build(head: Head) -> tuple[bytes, Head]:
            return chain_lines(entries, head, self.key)

        error = None
        for sink in self.sinks:
            try:
                sink.commit(build)
                if self._sync_due(final):
                    sink.sync()
            except Exception as err:  # noqa: BLE001 - reported as AuditUnavailable
                error = error or AuditUnavailable(sink.name, _reason(err))
        if self._sync_due(final):
            self._synced = time.monotonic()
        return error

    def _sync_due(self, final: bool) -> bool:
        if self.sync == "never":
            return False
        if self.sync == "always" or final:
            return True
        return time.monotonic() - self._synced >= self.sync_interval

    def _failed(self, error: AuditUnavailable) -> None:
        if not self.fail_open:
            raise error
        now = time.monotonic()
        if now - self._warned >= 10.0:  # loud, but not once per read
            self._warned = now
            logger.error(
                "AUDIT RECORDS LOST: %s; operations go on UNAUDITED because audit.fail_open is set",
                error.reason if error.sink == "(all)" else f"{error.sink}: {error.reason}",
            )

    def close(self) -> None:
        """Write the final checkpoint (``"final": true``) and close the sinks."""
        with self._cond:
            while self._writing:
                self._cond.wait()
            if self._closed:
                return
            self._closed = True
            pending, self._open = self._open.entries, _Batch()
        try:
            error = self._write(pending, final=True)
        finally:
            for sink in self.sinks:
                sink.close()
        if error is not None:
            self._failed(error)


def make_entry(
    trail: AuditTrail,
    principal: str,
    environment: str | None,
    operation: str,
    name: str,
    outcome: str,
    *,
    version: str | None = None,
    cache: bool | None = None,
    latency: float | None = None,
    rule: str | None = None,
) -> Entry:
    """The fields of one record (never a value): the name as the trail shows it,
    the latency in microseconds."""
    return {
        "kind": "op",
        "ts": _timestamp(trail.clock()),
        "principal": principal,
        "env": environment,
        "op": operation,
        "name": trail.name(name),
        "version": version,
        "outcome": outcome,
        "cache": cache,
        "latency_us": None if latency is None else round(latency * 1e6),
        "rule": rule,
    }


def _reason(err: Exception) -> str:
    if isinstance(err, OSError):
        return err.strerror or type(err).__name__
    if isinstance(err, ValueError):
        return str(err)  # the sinks' own, value-free messages
    return type(err).__name__


def _has_cache(handler: Handler) -> bool:
    while isinstance(handler, Layer):
        if isinstance(handler, CacheLayer):
            return True
        handler = handler.inner
    return False


class AuditLayer(Layer):
    """Records every operation that passes (see the module docstring). ``rule``
    (optional) names the policy rule that allowed an operation, for the record."""

    def __init__(
        self,
        inner: Handler,
        trail: AuditTrail,
        *,
        principal: str,
        environment: str | None,
        rule: Callable[[str, str], str | None] | None = None,
    ) -> None:
        super().__init__(inner)
        self.trail = trail
        self.principal = principal
        self.environment = environment
        self.rule = rule
        self._cached = _has_cache(inner)

    def entry(
        self, operation: str, name: str, outcome: str, *, version: str | None = None,
        hit: bool | None = None, started: float | None = None,
    ) -> Entry:  # fmt: skip
        """One record's fields (never a value)."""
        rule = None if self.rule is None else self.rule(_AS_POLICY.get(operation, operation), name)
        return make_entry(
            self.trail,
            self.principal,
            self.environment,
            operation,
            name,
            outcome,
            version=version,
            cache=hit if self._cached else None,
            latency=None if started is None else time.perf_counter() - started,
            rule=rule,
        )

    def _around(self, operation: str, name: str, call: Callable[[], Any]) -> Any:
        """Run ``call``, recording ``operation`` on ``name`` with its outcome."""
        started = time.perf_counter()
        try:
            result = call()
        except Exception as err:
            self.trail.record([self.entry(operation, name, type(err).__name__, started=started)])
            raise
        version = result.version if isinstance(result, SecretVersion) else None
        self.trail.record([self.entry(operation, name, "ok", version=version, started=started)])
        return result

    def get(self, name: str, *, version: str | None = None) -> Secret:
        started = time.perf_counter()
        with LoadTracker() as loads:
            try:
                secret = self.inner.get(name, version=version)
            except Exception as err:
                hit = (name, version) not in loads.keys
                outcome = type(err).__name__
                self.trail.record(
                    [self.entry("get", name, outcome, version=version, hit=hit, started=started)]
                )
                raise
        entry = self.entry(
            "get", name, "ok", version=secret.version, hit=(name, version) not in loads.keys,
            started=started,
        )  # fmt: skip
        try:
            self.trail.record([entry])
        except AuditUnavailable:
            del secret  # failing closed: the value is not served, nor left in this frame
            raise
        return secret

    def get_many(self, keys: Sequence[Key]) -> Results:
        started = time.perf_counter()
        with LoadTracker() as loads:
            results = self.inner.get_many(keys)
        entries = [
            self._batch_entry(key, outcome, loads.keys, started) for key, outcome in results.items()
        ]
        try:
            self.trail.record(entries)
        except AuditUnavailable:
            results.clear()  # failing closed: no value of the batch is served
            raise
        return results

    def _batch_entry(
        self, key: Key, outcome: Secret | ProviderError, loaded: set[Key], started: float
    ) -> Entry:
        if isinstance(outcome, Secret):
            text, version = "ok", outcome.version
        else:
            text, version = type(outcome).__name__, key[1]
        return self.entry(
            "get", key[0], text, version=version, hit=key not in loaded, started=started
        )

    def set(self, write: Write) -> SecretVersion:
        result: SecretVersion = self._around("set", write.name, lambda: self.inner.set(write))
        return result

    def delete(self, name: str) -> None:
        self._around("delete", name, lambda: self.inner.delete(name))

    def list(self, prefix: str = "") -> builtins.list[str]:
        result: builtins.list[str] = self._around("list", prefix, lambda: self.inner.list(prefix))
        return result

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        result: builtins.list[SecretVersion] = self._around(
            "versions", name, lambda: self.inner.versions(name)
        )
        return result

    def annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        self._around("annotate", name, lambda: self.inner.annotate(name, version, metadata))

    def stage(self, write: Write, token: str) -> SecretVersion:
        result: SecretVersion = self._around(
            "stage", write.name, lambda: self.inner.stage(write, token)
        )
        return result

    def promote(self, name: str, version: str) -> SecretVersion:
        result: SecretVersion = self._around(
            "promote", name, lambda: self.inner.promote(name, version)
        )
        return result

    def unstage(self, name: str, version: str) -> None:
        self._around("unstage", name, lambda: self.inner.unstage(name, version))

    def authorize(self, operation: str, name: str, *, principal: str | None = None) -> None:
        """Records an operation the pipeline does not perform itself (``rotate``,
        ``run``...) once the layers above allowed it."""
        self.inner.authorize(operation, name, principal=principal)
        who = principal or self.principal
        rule = None if self.rule is None or principal else self.rule(operation, name)
        entry = make_entry(self.trail, who, self.environment, operation, name, "allowed", rule=rule)
        self.trail.record([entry])

    def close(self) -> None:
        try:
            self.trail.close()
        finally:
            self.inner.close()
