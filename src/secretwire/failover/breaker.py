"""A circuit breaker per provider: :class:`CircuitBreaker` (the state machine) and
:class:`BreakerLayer` (the pipeline layer around one provider stage).

``closed``: every call goes to the backend; ``failures`` consecutive calls that
found it unavailable (:class:`ProviderUnavailable`: refused, timed out, sealed...)
open it. ``open``: calls fail fast with :class:`ProviderUnavailable` (code ``circuit
open``), which a fallback chain answers from its next provider, for ``reset_after``
seconds. ``half-open``: then one call goes through as a probe (the others still
fail fast); if it reaches the backend the circuit closes, if not it opens again for
twice as long (at most ``max_reset_after``). Any answer from the backend (a value,
not found, access denied) counts as reaching it. The clock is injectable.
"""

from __future__ import annotations

import builtins
import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from ..errors import ProviderError, ProviderUnavailable
from ..pipeline import Backend, CircuitStats, Handler, Layer
from ..types import Health, Key, Secret, SecretVersion, Write

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "BreakerLayer", "CircuitBreaker"]

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"

T = TypeVar("T")
Results = dict[Key, Secret | ProviderError]


class CircuitBreaker:
    """The state machine (see the module docstring); thread-safe."""

    def __init__(
        self,
        *,
        failures: int = 5,
        reset_after: float = 30.0,
        max_reset_after: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``max_reset_after`` defaults to 300 seconds, or ``reset_after`` if longer."""
        if max_reset_after is None:
            max_reset_after = max(300.0, reset_after)
        if failures < 1:
            raise ValueError("failures must be at least 1")
        if not 0 < reset_after <= max_reset_after:
            raise ValueError("need 0 < reset_after <= max_reset_after")
        self.threshold = failures
        self.reset_after = reset_after
        self.max_reset_after = max_reset_after
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened = 0
        self._rejected = 0
        self._opened_at = 0.0
        self._backoff = reset_after
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    def allow(self) -> bool:
        """Whether a call may go to the backend now. In ``open``, the first call after
        the back-off becomes the probe (state ``half-open``); the rest are refused."""
        with self._lock:
            if self._state == CLOSED:
                return True
            if self._state == OPEN and self._clock() >= self._opened_at + self._backoff:
                self._state = HALF_OPEN
                self._probing = True
                return True
            self._rejected += 1
            return False

    def retry_in(self) -> float:
        """Seconds until the next probe may go (0 unless open)."""
        with self._lock:
            return self._retry_in()

    def _retry_in(self) -> float:
        if self._state != OPEN:
            return 0.0
        return max(0.0, self._opened_at + self._backoff - self._clock())

    def success(self) -> None:
        """The backend answered: close (from half-open) and forget the failures."""
        with self._lock:
            if self._state == HALF_OPEN:
                self._backoff = self.reset_after
            self._state = CLOSED
            self._failures = 0
            self._probing = False

    def failure(self) -> None:
        """The backend was unavailable: count it; open at the threshold, or again
        (back-off doubled) when the probe failed."""
        with self._lock:
            if self._state == HALF_OPEN:
                self._backoff = min(self._backoff * 2, self.max_reset_after)
                self._open()
            elif self._state == CLOSED:
                self._failures += 1
                if self._failures >= self.threshold:
                    self._open()

    def _open(self) -> None:
        self._state = OPEN
        self._opened += 1
        self._opened_at = self._clock()
        self._probing = False

    def stats(self) -> CircuitStats:
        with self._lock:
            return CircuitStats(
                state=self._state,
                failures=self._failures,
                opened=self._opened,
                rejected=self._rejected,
                retry_in=self._retry_in(),
            )

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.state} threshold={self.threshold}>"


def _reached(outcomes: Sequence[Secret | ProviderError]) -> bool:
    """Whether a batch reached the backend: some key got an answer that is not
    'unavailable' (an empty batch proves nothing either way: counted as reached)."""
    return not outcomes or any(not isinstance(o, ProviderUnavailable) for o in outcomes)


class BreakerLayer(Layer):
    """Guards the handler below (one provider stage) with a :class:`CircuitBreaker`.

    Every operation but ``health`` and ``close`` is guarded; ``health`` always asks
    the backend (it is the diagnostic) and reports the circuit's state."""

    def __init__(self, inner: Handler, breaker: CircuitBreaker) -> None:
        super().__init__(inner)
        self.breaker = breaker

    def _guarded(self, operation: str, fn: Callable[[], T], name: str | None = None) -> T:
        if not self.breaker.allow():
            raise self._open_error(operation, name)
        try:
            result = fn()
        except ProviderUnavailable:
            self.breaker.failure()
            raise
        except ProviderError:
            self.breaker.success()  # the backend answered (not found, denied...)
            raise
        except BaseException:
            self.breaker.failure()  # interrupted: do not leave a probe in flight
            raise
        if isinstance(result, dict) and not _reached(list(result.values())):
            self.breaker.failure()
        else:
            self.breaker.success()
        return result

    def _open_error(self, operation: str, name: str | None) -> ProviderUnavailable:
        stats = self.breaker.stats()
        return ProviderUnavailable(
            operation=operation,
            name=name,
            provider=self.provider_name,
            code="circuit open",
            detail=f"failing fast after {self.breaker.threshold} consecutive failures; "
            f"next try in {stats.retry_in:.1f} s",
        )

    def get(self, name: str, *, version: str | None = None) -> Secret:
        return self._guarded("get", lambda: self.inner.get(name, version=version), name)

    def get_many(self, keys: Sequence[Key]) -> Results:
        if not keys:
            return {}
        try:
            return self._guarded("get", lambda: self.inner.get_many(keys))
        except ProviderUnavailable as err:
            if err.code != "circuit open":
                raise
            return {key: self._open_error("get", key[0]) for key in keys}

    def set(self, write: Write) -> SecretVersion:
        return self._guarded("set", lambda: self.inner.set(write), write.name)

    def delete(self, name: str) -> None:
        self._guarded("delete", lambda: self.inner.delete(name), name)

    def list(self, prefix: str = "") -> builtins.list[str]:
        return self._guarded("list", lambda: self.inner.list(prefix))

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        return self._guarded("versions", lambda: self.inner.versions(name), name)

    def health(self) -> Health:
        health = self.inner.health()
        stats = self.breaker.stats()
        notes = health.notes
        if stats.state == OPEN:
            notes = (*notes, f"circuit open: next try in {stats.retry_in:.1f} s")
        return dataclasses.replace(health, circuit=stats.state, notes=notes)

    def backends(self) -> tuple[Backend, ...]:
        return tuple(
            dataclasses.replace(backend, circuit=self.breaker) for backend in self.inner.backends()
        )
