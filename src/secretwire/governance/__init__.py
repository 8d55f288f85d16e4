"""Governance: client-side RBAC and a tamper-evident audit trail, as pipeline layers.

Both come from the settings file (``policy:`` and ``audit:``, see ``docs/rbac.md``
and ``docs/audit.md``) and sit above the cache::

    SecretManager -> AuthorizeLayer -> AuditLayer -> CacheLayer -> ... -> provider

Code that performs an operation the pipeline does not (``rotate``, ``rollback``,
``run``, ``export``) asks first: ``manager.authorize("rotate", name)`` raises
:class:`~secretwire.AccessDenied` when the policy refuses, and is audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .audit import AuditLayer, AuditTrail
    from .chain import AuditKey, Head, TrailReport, load_key, verify_stream, verify_trail
    from .config import AuditSettings, Governance, governance_layers, parse_governance
    from .errors import AuditError, AuditTrailInvalid, AuditUnavailable
    from .globs import NameGlob, parse_glob
    from .policy import (
        OPERATIONS,
        PRINCIPAL_VARIABLE,
        Decision,
        Policy,
        Rule,
        parse_policy,
        resolve_principal,
    )
    from .rbac import AuthorizeLayer, Authorizer, authorize
    from .sinks import FileSink, LoggingSink, Sink, StreamSink, SyslogSink

# Each name's module loads on its first use (python -X importtime).
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "audit": "AuditLayer AuditTrail",
        "chain": "AuditKey Head TrailReport load_key verify_stream verify_trail",
        "config": "AuditSettings Governance governance_layers parse_governance",
        "errors": "AuditError AuditTrailInvalid AuditUnavailable",
        "globs": "NameGlob parse_glob",
        "policy": (
            "OPERATIONS PRINCIPAL_VARIABLE Decision Policy Rule parse_policy resolve_principal"
        ),
        "rbac": "AuthorizeLayer Authorizer authorize",
        "sinks": "FileSink LoggingSink Sink StreamSink SyslogSink",
    },
)

__all__ = [
    "OPERATIONS",
    "PRINCIPAL_VARIABLE",
    "AuditError",
    "AuditKey",
    "AuditLayer",
    "AuditSettings",
    "AuditTrail",
    "AuditTrailInvalid",
    "AuditUnavailable",
    "AuthorizeLayer",
    "Authorizer",
    "Decision",
    "FileSink",
    "Governance",
    "Head",
    "LoggingSink",
    "NameGlob",
    "Policy",
    "Rule",
    "Sink",
    "StreamSink",
    "SyslogSink",
    "TrailReport",
    "authorize",
    "governance_layers",
    "load_key",
    "parse_glob",
    "parse_governance",
    "parse_policy",
    "resolve_principal",
    "verify_stream",
    "verify_trail",
]
