"""Keep an SDK's debug logs out of a provider's calls.

SDKs log request and response bodies (values) and signed headers (credentials) at
DEBUG. :func:`quiet_loggers` drops records below WARNING from the named loggers
while a provider call runs in the current thread or task; other users of the SDK
in the process keep their logs.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["quiet_loggers"]

_ACTIVE: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "secretwire_quiet_loggers", default=()
)


class _QuietFilter(logging.Filter):
    """Drops records below WARNING from a logger that is quiet in this context."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        active = _ACTIVE.get()
        return not (active and record.name.startswith(active))


_FILTER = _QuietFilter()
_lock = threading.Lock()
_guarded: set[str] = set()
_seen: dict[tuple[str, ...], int] = {}


def _guard(prefixes: tuple[str, ...], known: tuple[str, ...]) -> None:
    """Attach the filter to every logger under ``prefixes`` (new ones included; a
    filter on a logger sees only records logged to that logger itself)."""
    registry = logging.Logger.manager.loggerDict
    if _seen.get(prefixes) == len(registry):
        return
    with _lock:
        names = set(known) | {name for name in list(registry) if name.startswith(prefixes)}
        for name in names - _guarded:
            logging.getLogger(name).addFilter(_FILTER)
            _guarded.add(name)
        _seen[prefixes] = len(registry)


@contextmanager
def quiet_loggers(prefixes: Iterable[str], *, known: Iterable[str] = ()) -> Iterator[None]:
    """Inside the block, records below WARNING from loggers whose names start with
    one of ``prefixes`` (``("botocore", "urllib3")``) are dropped, in this thread or
    task only. A logger the SDK creates during a call is guarded from the end of that
    call on; name such loggers in ``known`` to guard them from the start."""
    active = tuple(prefixes)
    names = tuple(known)
    _guard(active, names)
    token = _ACTIVE.set(_ACTIVE.get() + active)
    try:
        yield
    finally:
        _ACTIVE.reset(token)
        _guard(active, names)  # loggers the SDK created during the call
