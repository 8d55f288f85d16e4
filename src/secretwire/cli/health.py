"""``secretwire health [--json]``: the provider(s) of the current environment.

One line per provider: ``PROVIDER (ENVIRONMENT): STATUS in X ms: DETAIL``; a fallback
chain adds one indented line per link, a circuit that is not closed says so, and
the notes (``provider: auto``'s pick) and warnings (``insecure: true``) follow.
``--json`` prints the same as one JSON object (``docs/cli.md``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..types import Health
from ._common import EXIT_ERROR, EXIT_OK, _manager
from ._output import print_json

__all__ = ["cmd_health", "health_json"]


def cmd_health(args: argparse.Namespace) -> int:
    with _manager(args) as manager:
        health = manager.health()
    if getattr(args, "json", False):
        print_json({"environment": manager.environment, **health_json(health)})
        return EXIT_OK if health.ok else EXIT_ERROR
    env = f" ({manager.environment})" if manager.environment else ""
    print(f"{health.provider}{env}: {_line(health)}")
    for number, link in enumerate(health.links, 1):
        print(f"  {number}. {link.provider}: {_line(link)}")
    providers = health.links or (health,)  # a chain's own warnings repeat its links'
    for item in providers:
        for note in item.notes:
            print(f"  note: {item.provider}: {note}")
    for item in providers:
        for warning in item.warnings:
            print(f"warning: {item.provider}: {warning}", file=sys.stderr)
    return EXIT_OK if health.ok else EXIT_ERROR


def _line(health: Health) -> str:
    latency = f" in {health.latency_seconds * 1000:.1f} ms" if health.latency_seconds else ""
    detail = f": {health.detail}" if health.detail else ""
    circuit = f" (circuit {health.circuit})" if health.circuit not in (None, "closed") else ""
    return f"{health.status.value}{latency}{detail}{circuit}"


def health_json(health: Health) -> dict[str, Any]:
    """``health`` as JSON-ready data (names, states, numbers; never a value)."""
    latency = health.latency_seconds
    return {
        "provider": health.provider,
        "status": health.status.value,
        "ok": health.ok,
        "detail": health.detail,
        "latency_ms": None if latency is None else round(latency * 1000, 3),
        "circuit": health.circuit,
        "notes": list(health.notes),
        "warnings": list(health.warnings),
        "links": [health_json(link) for link in health.links],
    }
