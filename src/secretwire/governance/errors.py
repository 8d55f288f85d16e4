"""The governance errors: a trail that cannot be written, a trail that does not verify.

Both are :class:`~secretwire.SecretwireError` but not
:class:`~secretwire.ProviderError`: a failed audit write fails the whole operation
(a batch included), it is never one key's outcome. A refused request is the core
:class:`~secretwire.AccessDenied`.
"""

from __future__ import annotations

from ..errors import SecretwireError

__all__ = ["AuditError", "AuditTrailInvalid", "AuditUnavailable"]


class AuditError(SecretwireError):
    """Base of the audit trail's errors."""


class AuditUnavailable(AuditError):
    """A sink could not record an operation, so (failing closed) the operation failed:
    no value was served. ``sink`` names the sink (``file logs/audit.jsonl``)."""

    def __init__(self, sink: str, reason: str) -> None:
        self.sink = sink
        self.reason = reason
        super().__init__(
            f"audit sink {sink} cannot record ({reason}); the operation was refused "
            "(audit fails closed; see docs/audit.md#fail_open)"
        )


class AuditTrailInvalid(AuditError):
    """``secretwire audit verify`` found a record that was modified, removed, moved or
    inserted, or a trail cut short. ``source`` is the file, ``line`` the 1-based line."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        super().__init__(f"{source}:{line}: {reason}")
