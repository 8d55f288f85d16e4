"""The L2's counters: what ``SecretManager.metrics().l2`` returns."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COUNTS", "L2Stats"]

#: the counters the layer keeps itself (the store keeps ``errors`` and ``bypassed``)
COUNTS = (
    "hits", "misses", "negative_hits", "stale_served", "stores", "locks", "waits",
    "waited_hits", "fallbacks", "corrupt", "invalidations_sent", "invalidations_received",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class L2Stats:
    """The L2's counters (``SecretManager.metrics().l2``; exported as
    ``secretwire_l2_*``). ``hits``/``misses``: keys Redis answered fresh / did not;
    ``locks``: keys this process loaded for the fleet; ``waits``: keys it waited for
    while another process loaded them, ``waited_hits`` of which appeared in time and
    ``fallbacks`` did not (read from the backend after all); ``errors``: Redis
    commands that failed; ``bypassed``: commands not sent (Redis skipped after a
    failure, or too little deadline left); ``corrupt``: entries that did not
    authenticate (never served)."""

    available: bool
    key_mismatch: bool
    hits: int
    misses: int
    negative_hits: int
    stale_served: int
    stores: int
    locks: int
    waits: int
    waited_hits: int
    fallbacks: int
    errors: int
    bypassed: int
    corrupt: int
    invalidations_sent: int
    invalidations_received: int
    #: the longest time, in seconds, from a write elsewhere to its message here
    invalidation_delay_max: float
