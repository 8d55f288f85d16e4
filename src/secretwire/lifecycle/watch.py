"""Running apps see rotations: :meth:`SecretManager.subscribe` and the layer behind it.

:class:`ChangeWatch` sits right below the cache, so it sees every write and every
read that reached the backend. It reports a :class:`Change` to the subscribers:

* at once, after the manager's own ``set``, ``delete`` and ``promote`` (rotations
  and rollbacks are made of these);
* after a re-read (the cache's TTL ran out, or ``invalidate``) whose value differs
  from the one served before for that name (another process rotated it).

It keeps no value: for each current version it served, a keyed 64-bit BLAKE2b
digest (key random per manager) in a plain dict (the most recent 4096 names), so
"has it changed?" needs no copy of the value and little memory.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..pipeline import Handler, Layer, Results
from ..types import Key, Secret, SecretVersion, Write
from ..values import SecretValue

__all__ = ["Change", "ChangeWatch", "Subscribers"]

logger = logging.getLogger("secretwire")

_MAX_TRACKED = 4096


@dataclass(frozen=True)
class Change:
    """A value this manager served (or wrote) changed. ``cause``: ``set``, ``delete``,
    ``promote`` (the manager's own writes) or ``reread`` (the backend's value differs
    from the one served before); ``version`` when known. Never the value."""

    name: str
    cause: str
    version: str | None = None


Subscriber = Callable[[Change], None]


class Subscribers:
    """The callbacks of one manager (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Subscriber] = []

    def add(self, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unsubscribe

    def notify(self, change: Change) -> None:
        """Call every subscriber; one that raises is logged (its type) and skipped."""
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(change)
            except Exception as err:  # noqa: BLE001 - a subscriber never breaks a read
                logger.warning(
                    "secretwire: subscriber %s failed on a change of %r: %s",
                    getattr(callback, "__qualname__", type(callback).__name__),
                    change.name,
                    type(err).__name__,
                )


class ChangeWatch(Layer):
    """See the module docstring."""

    def __init__(self, inner: Handler, subscribers: Subscribers) -> None:
        super().__init__(inner)
        self.subscribers = subscribers
        self._key = os.urandom(32)
        self._lock = threading.Lock()
        self._digests: dict[str, int] = {}  # in the order last seen

    def _record(self, name: str, value: SecretValue | None) -> int | None:
        """Remember ``value``'s digest for ``name`` (forget it for ``None``); the one before."""
        digest = None
        if value is not None:
            import hashlib  # noqa: PLC0415 - on the first read, not at start-up

            text = value.reveal().encode("utf-8", "surrogatepass")
            keyed = hashlib.blake2b(text, key=self._key, digest_size=8)
            digest = int.from_bytes(keyed.digest(), "big")
        with self._lock:
            digests = self._digests
            before = digests.pop(name, None)
            if digest is not None:
                digests[name] = digest
            while len(digests) > _MAX_TRACKED:
                del digests[next(iter(digests))]
        return before if digest is None or before != digest else None

    def _seen(self, secret: Secret) -> None:
        if self._record(secret.name, secret.value) is not None:
            self.subscribers.notify(Change(secret.name, "reread", secret.version))

    def _changed(
        self, name: str, cause: str, version: str | None, value: SecretValue | None
    ) -> None:
        """Our own change: reported at once; the value written (if known) is what a
        later re-read is compared with."""
        self._record(name, value)
        self.subscribers.notify(Change(name, cause, version))

    def get(self, name: str, *, version: str | None = None) -> Secret:
        secret = self.inner.get(name, version=version)
        if version is None:
            self._seen(secret)
        return secret

    def get_many(self, keys: Sequence[Key]) -> Results:
        results = self.inner.get_many(keys)
        for (_, version), outcome in results.items():
            if version is None and isinstance(outcome, Secret):
                self._seen(outcome)
        return results

    def set(self, write: Write) -> SecretVersion:
        written = self.inner.set(write)
        self._changed(write.name, "set", written.version, write.value)
        return written

    def delete(self, name: str) -> None:
        self.inner.delete(name)
        self._changed(name, "delete", None, None)

    def promote(self, name: str, version: str) -> SecretVersion:
        promoted = self.inner.promote(name, version)
        self._changed(name, "promote", version, None)
        return promoted
