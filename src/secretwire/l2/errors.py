"""The L2 cache's typed errors. Neither reaches the application as an exception:
each is logged (a ``WARNING`` on the ``secretwire`` logger), counted
(:class:`~secretwire.l2.L2Stats`), shown by ``health``, and the read goes to the
backend instead; no entry that fails them is ever served."""

from __future__ import annotations

from ..errors import ProviderUnavailable, StoreCorrupted, StoreKeyMismatch

__all__ = ["L2EntryCorrupted", "L2KeyMismatch", "L2Unavailable"]


class L2KeyMismatch(StoreKeyMismatch):
    """This process's L2 key is not the one the environment's entries in Redis were
    written with (its key check record names another key id): it does not use the
    L2 until restarted with the right key."""

    kind = "wrong l2 key"


class L2EntryCorrupted(StoreCorrupted):
    """An entry in Redis did not authenticate under this process's key and its
    place (secret name, version): modified, truncated, or copied from another key."""

    kind = "l2 entry corrupted"


class L2Unavailable(ProviderUnavailable):
    """Redis could not be used for this read (down, slow, refusing, or skipped while it
    recovers): the layer reads the backend instead. Never raised to the application."""

    kind = "l2 unavailable"
