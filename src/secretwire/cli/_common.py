"""What every command shares: exit codes, the manager, printable lines."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..manager import SecretManager

#: ``parser.add_subparsers()``: where each command module registers its command.
if TYPE_CHECKING:
    Subcommands = argparse._SubParsersAction[Any]
else:  # not subscriptable at run time before Python 3.12... and not needed there
    Subcommands = argparse._SubParsersAction

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _manager(args: argparse.Namespace) -> SecretManager:
    """The manager of ``--config`` / ``--env`` (or the discovered settings)."""
    return SecretManager.from_settings(args.config, environment=args.env)


def _printable(line: str) -> str:
    """``line`` (names and locations, never a value) with anything that is not text,
    such as an undecodable byte in a file name, escaped as stderr does it."""
    return line.encode("utf-8", "backslashreplace").decode("utf-8")


def examples(*lines: str) -> str:
    """A help epilog: ``examples:`` and the command lines, one per line."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def add_command(
    sub: Subcommands,
    name: str,
    *,
    summary: str,
    example: tuple[str, ...],
) -> argparse.ArgumentParser:
    """A subcommand whose help ends with examples (kept as written)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary[:1].upper() + summary[1:] + ".",
        epilog=examples(*example),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser
