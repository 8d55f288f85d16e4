"""Failover: fallback chains, circuit breakers and ``provider: auto`` (issue 12).

* :mod:`.breaker` -- :class:`CircuitBreaker` and :class:`BreakerLayer`, one per provider;
* :mod:`.fallback` -- :class:`FallbackLayer`, the providers of a chain asked in order;
* :mod:`.config` -- the ``fallback``, ``fallback_on`` and ``breaker`` settings;
* :mod:`.detect` -- ``provider: auto``.

:func:`compose` builds the layer that sits between the cache and the provider stages
(``docs/resilience.md``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..pipeline import Handler
from .breaker import BreakerLayer, CircuitBreaker
from .config import BreakerSettings, FailoverSettings
from .fallback import FallbackLayer, Link

__all__ = [
    "BreakerLayer",
    "BreakerSettings",
    "CircuitBreaker",
    "FailoverSettings",
    "FallbackLayer",
    "Link",
    "compose",
    "guarded",
]


def guarded(
    handler: Handler, breaker: BreakerSettings, clock: Callable[[], float] = time.monotonic
) -> Handler:
    """``handler`` behind a circuit breaker as ``breaker`` says (or as it is, when off)."""
    if not breaker.enabled:
        return handler
    circuit = CircuitBreaker(
        failures=breaker.failures,
        reset_after=breaker.reset_after,
        max_reset_after=breaker.max_reset_after,
        clock=clock,
    )
    return BreakerLayer(handler, circuit)


def compose(
    links: Sequence[tuple[str, Handler, BreakerSettings]],
    *,
    on: Sequence[str] = ("unavailable",),
    clock: Callable[[], float] = time.monotonic,
) -> Handler:
    """The handler for ``links`` (label, provider stage, its breaker settings), in order:
    each behind its circuit breaker, and more than one in a :class:`FallbackLayer`."""
    guarded_links = [Link(label, guarded(stage, breaker, clock)) for label, stage, breaker in links]
    if len(guarded_links) == 1:
        return guarded_links[0].handler
    return FallbackLayer(guarded_links, on=on)
