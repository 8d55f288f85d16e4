"""``secretwire rotate``: rotate one secret, or every declared secret that is due."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import RotationFailed, SecretwireError
from ..lifecycle.status import due_names, inventory_status
from ..manager import SecretManager
from ._common import EXIT_ERROR, EXIT_OK, Subcommands, _manager, _printable, add_command
from ._output import add_json_flag, print_json

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    p = add_command(
        sub,
        "rotate",
        summary="rotate a secret: generate, store, apply, verify (docs/rotation.md)",
        example=(
            "secretwire rotate db/password          # the policy declared in secrets:",
            "secretwire rotate --due                # every declared secret that is due",
            "secretwire rotate --due --dry-run      # only list them",
        ),
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="the secret (default: --due)")
    p.add_argument("--due", action="store_true", help="rotate every declared secret that is due")
    p.add_argument("--dry-run", action="store_true", help="say what would be rotated, do nothing")
    add_json_flag(p, "each rotation's outcome")
    p.set_defaults(func=cmd_rotate)


def cmd_rotate(args: argparse.Namespace) -> int:
    if (args.name is None) == (not args.due):
        raise SecretwireError("give a NAME or --due (not both)")
    with _manager(args) as manager:
        names = [args.name] if args.name else _due(manager)
        if args.dry_run:
            return _dry_run(args, manager, names)
        results = [_rotate_one(manager, name) for name in names]
    ok = all(result["ok"] for result in results)
    if args.json:
        print_json({"ok": ok, "dry_run": False, "results": results})
    elif args.due and not names:
        print("nothing is due", file=sys.stderr)
    return EXIT_OK if ok else EXIT_ERROR


def _due(manager: SecretManager) -> list[str]:
    if not manager.inventory:
        raise SecretwireError("rotate --due: the settings declare no secrets (secrets:)")
    return due_names(inventory_status(manager, manager.inventory))


def _rotate_one(manager: SecretManager, name: str) -> dict[str, Any]:
    """One rotation; its outcome as a JSON-ready dict (a failure is reported on stderr)."""
    try:
        result = manager.rotate(name)
    except RotationFailed as err:
        print(_printable(f"secretwire: error: {err}"), file=sys.stderr)
        return {
            "name": name, "ok": False, "step": err.step, "outcome": err.outcome,
            "rotation": err.rotation, "error": str(err),
        }  # fmt: skip
    except SecretwireError as err:
        print(_printable(f"secretwire: error: {' '.join(str(err).split())}"), file=sys.stderr)
        return {
            "name": name,
            "ok": False,
            "step": "start",
            "outcome": "unchanged",
            "error": str(err),
        }
    resumed = " (finished an interrupted rotation)" if result.resumed else ""
    was = f" (was {result.previous})" if result.previous else ""
    print(_printable(f"rotated {name!r}: version {result.version}{was}{resumed}"), file=sys.stderr)
    return result.as_dict()


def _dry_run(args: argparse.Namespace, manager: SecretManager, names: list[str]) -> int:
    plans = []
    for name in names:
        declared = manager.inventory.declared(name)
        policy = declared.rotation if declared else None
        plan = policy.describe() if policy else "password, no hooks (no declared policy)"
        plans.append({"name": name, "plan": plan})
        if not args.json:
            print(_printable(f"would rotate {name!r}: {plan}"))
    if args.json:
        print_json({"ok": True, "dry_run": True, "results": plans})
    elif not names:
        print("nothing is due", file=sys.stderr)
    return EXIT_OK
