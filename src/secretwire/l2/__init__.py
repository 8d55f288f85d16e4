"""A shared, encrypted L2 cache in Redis for fleets of processes (``docs/deployment.md``).

An environment's ``l2:`` settings (:mod:`secretwire.l2.config`) put an
:class:`~secretwire.l2.layer.L2Layer` right below each manager's own cache: a miss
there reads Redis before the backend, one process per key loads it for the whole
fleet, values are sealed with AES-256-GCM under a key the application holds, Redis
keys are MACs (no secret name in Redis), writes invalidate every process's cache
through pub/sub, and Redis being down, slow or refusing never fails a read.

Importing this package imports no Redis client: ``redis`` (the ``redis`` extra) is
imported on first use.
"""

from __future__ import annotations

from .config import L2Settings
from .errors import L2EntryCorrupted, L2KeyMismatch, L2Unavailable
from .stats import L2Stats

__all__ = ["L2EntryCorrupted", "L2KeyMismatch", "L2Settings", "L2Stats", "L2Unavailable"]
