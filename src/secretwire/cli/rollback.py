"""``secretwire rollback``: a new version carrying an older version's value."""

from __future__ import annotations

import argparse
import sys

from ._common import EXIT_OK, Subcommands, _manager, _printable, add_command
from ._output import add_json_flag, print_json, version_json

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    p = add_command(
        sub,
        "rollback",
        summary="write a new version that carries an older version's value",
        example=(
            "secretwire versions db/password",
            "secretwire rollback db/password --to 3",
        ),
    )
    p.add_argument("name", metavar="NAME", help="the secret's name")
    p.add_argument("--to", required=True, metavar="VERSION", help="the version to go back to")
    add_json_flag(p, "the new version")
    p.set_defaults(func=cmd_rollback)


def cmd_rollback(args: argparse.Namespace) -> int:
    with _manager(args) as manager:
        written = manager.rollback(args.name, args.to)
    if args.json:
        print_json({"name": args.name, "rolled_back_to": args.to, **version_json(written)})
    else:
        line = f"rolled back {args.name!r} to the value of version {args.to}"
        print(_printable(f"{line}: version {written.version}"), file=sys.stderr)
    return EXIT_OK
