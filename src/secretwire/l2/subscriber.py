"""The background thread that applies other processes' invalidations.

It subscribes to the environment's channel (``<prefix>inv:<MAC>``) on a pub/sub
connection of its own and, for each message that opens under the key and did not
come from this process, calls the layer's ``apply(name, sent)``: the manager drops
the name from its cache within milliseconds of the write. While Redis is
unreachable it tries again every ``retry_after`` seconds; messages sent meanwhile
are lost, and the names they concerned expire by TTL, as without the L2.

It starts with the first read (a process that reads nothing needs no
invalidations), again in a child process after a fork, and stops on ``close``.
Each time it has subscribed (Redis answers), it calls ``subscribed()``: the layer
sends the invalidations Redis could not take while it was away.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from .store import RedisStore

__all__ = ["Subscriber"]

logger = logging.getLogger("secretwire")

#: Seconds one wait for a message lasts (how soon ``stop`` is noticed).
_POLL = 0.5


class Subscriber:
    """See the module docstring. ``ready`` is set while it is subscribed."""

    def __init__(
        self,
        store: RedisStore,
        channel: str,
        handle: Callable[[bytes], None],
        *,
        subscribed: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._channel = channel
        self._handle = handle
        self._subscribed = subscribed
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.ready = threading.Event()

    def start(self) -> None:
        """Start the thread unless it runs in this process (cheap when it does)."""
        if self._pid == os.getpid() or self._stop.is_set():
            return
        with self._lock:
            if self._pid == os.getpid() or self._stop.is_set():
                return
            self._pid = os.getpid()
            self.ready.clear()
            self._thread = threading.Thread(
                target=self._run, name="secretwire-l2-invalidations", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop listening: the thread ends within half a second (not waited for: a
        manager's ``close`` stays fast; it is a daemon thread)."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub: Any = None
            try:
                pubsub = self._store.pubsub()
                pubsub.subscribe(self._channel)
                self._listen(pubsub)
            except Exception as err:  # noqa: BLE001 - Redis errors, and its client closed under it
                self.ready.clear()
                if not self._stop.is_set():
                    logger.debug("l2: invalidation subscriber: %s", type(err).__name__)
                    self._stop.wait(self._store.retry_after)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        pubsub.close()

    def _listen(self, pubsub: Any) -> None:
        while not self._stop.is_set():
            message = pubsub.get_message(timeout=_POLL)
            if message is None:
                continue
            if message.get("type") == "subscribe":
                self.ready.set()
                self._subscribed()
            elif message.get("type") == "message" and isinstance(message.get("data"), bytes):
                self._handle(message["data"])
