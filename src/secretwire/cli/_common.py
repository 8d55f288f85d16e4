"""What every command shares: exit codes, the manager, printable lines."""

from __future__ import annotations

import argparse

from ..manager import SecretManager

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
