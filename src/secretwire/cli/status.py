"""``secretwire status``: one row per declared secret (names, versions and times; a
value is read only to validate it, never shown)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from ..errors import SecretwireError
from ..lifecycle.status import StatusRow, inventory_status, load_problems
from ..manager import SecretManager
from ._common import EXIT_OK, Subcommands, _manager, _printable, add_command
from ._output import add_json_flag, print_json

__all__ = ["inventory_failures", "register"]

_COLUMNS = ("NAME", "EXISTS", "VERSION", "AGE", "LAST ROTATED", "NEXT DUE", "EXPIRY", "VALIDATION")


def register(sub: Subcommands) -> None:
    p = add_command(
        sub,
        "status",
        summary="show each declared secret: version, age, rotation, expiry, validation",
        example=("secretwire status", "secretwire status --json | jq '.secrets[] | select(.due)'"),
    )
    add_json_flag(p, "every row")
    p.set_defaults(func=cmd_status)


def _day(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d")


def _cells(row: StatusRow) -> tuple[str, ...]:
    if row.problem is not None:
        return (row.name, "?", "-", "-", "-", "-", "-", row.problem)
    version = (row.version or "-")[:12]
    due = "now" if row.due else _day(row.next_due)
    if row.unfinished:
        due = "now (unfinished)"
    expiry = row.expiry if row.expires_at is None else f"{row.expiry} {_day(row.expires_at)}"
    validation = "failed: " + ", ".join(row.validation) if row.validation else "ok"
    if not row.exists:
        validation = "missing" + (" (required)" if row.required else "")
    return (row.name, "yes" if row.exists else "no", version, row.age,
            _day(row.last_rotated), due, expiry, validation)  # fmt: skip


def cmd_status(args: argparse.Namespace) -> int:
    with _manager(args) as manager:
        if not manager.inventory:
            raise SecretwireError("status: the settings declare no secrets (secrets:)")
        rows = inventory_status(manager, manager.inventory)
    if args.json:
        print_json(
            {"ok": not any(r.failures for r in rows), "secrets": [r.as_dict() for r in rows]}
        )
        return EXIT_OK
    table = [_COLUMNS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_COLUMNS) - 1)]
    for line in table:
        padded = [cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)]
        print(_printable("  ".join([*padded, line[-1]]).rstrip()))
    return EXIT_OK


def inventory_failures(manager: SecretManager) -> dict[str, Any]:
    """What ``check`` says of the declared secrets: a missing required secret, a
    failed validation rule (named, never the value), an expired secret, a glob that
    matches nothing, a generator or hook that cannot be loaded; each naming the key."""
    rows = inventory_status(manager, manager.inventory)
    source = manager.inventory.source or "settings"
    failures = [f"{source}: {row.key}: {failure}" for row in rows for failure in row.failures]
    return {"checked": len(rows), "failures": failures + load_problems(manager.inventory)}
