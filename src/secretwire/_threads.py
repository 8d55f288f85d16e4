"""Worker threads kept between calls, that survive a fork."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["KeptThreads"]


class KeptThreads:
    """A :class:`~concurrent.futures.ThreadPoolExecutor` started on first use and
    kept, so a caller does not pay for starting threads on every batch.

    In a process forked after it started (gunicorn's ``preload_app``,
    ``multiprocessing``'s fork start method) the parent's threads do not exist: its
    executor would queue work that never runs, and whoever waits for that work would
    wait forever. So the child gets threads of its own on first use."""

    __slots__ = ("_closed", "_lock", "_pid", "_pool", "_prefix", "_workers")

    def __init__(self, workers: int, prefix: str) -> None:
        self._workers = workers
        self._prefix = prefix
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0
        self._closed = False
        self._lock = threading.Lock()

    def pool(self) -> ThreadPoolExecutor | None:
        """The threads (started now if this process has none yet); ``None`` once closed."""
        pool = self._pool
        if pool is not None and self._pid == os.getpid():
            return pool
        with self._lock:
            if self._closed:
                return None
            if self._pool is None or self._pid != os.getpid():
                from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - ~10 ms, on first use

                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix=self._prefix)
                self._pid = os.getpid()
            return self._pool

    def close(self) -> None:
        """Stop the threads (work already queued still runs); :meth:`pool` gives ``None``
        from now on."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
            ours = self._pid == os.getpid()
        if pool is not None and ours:
            pool.shutdown(wait=False)
