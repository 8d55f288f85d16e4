"""``secretwire run``: a command with secrets injected (docs/injection.md)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from typing import Any

from ..errors import ConfigError
from ..injection import RunOptions, run, template_variables
from ..injection.process import STDIN_FORMATS
from ._common import _manager

__all__ = ["cmd_run", "pass_on_signal", "register"]


def register(sub: Any) -> None:
    """The ``run`` command's parser."""
    p = sub.add_parser("run", help="run a command with secrets in its environment, files or stdin")
    p.add_argument(
        "--env-file",
        action="append",
        default=[],
        metavar="FILE",
        help="a .env template: KEY=${secret:name} per line (repeatable)",
    )
    p.add_argument(
        "--from-config",
        action="append",
        default=[],
        metavar="FILE",
        help="a YAML/JSON/TOML config: each string with a reference becomes a "
        "variable (database.password -> DATABASE_PASSWORD)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--files",
        dest="mode",
        action="store_const",
        const="files",
        help="secrets as 0600 files in a private folder, paths in KEY_FILE",
    )
    mode.add_argument(
        "--stdin",
        dest="mode",
        action="store_const",
        const="stdin",
        help="secrets written to the command's stdin",
    )
    p.add_argument(
        "--stdin-format", choices=STDIN_FORMATS, default="json", help="with --stdin (default: json)"
    )
    p.add_argument(
        "--no-mask", action="store_true", help="do not mask values in the command's output"
    )
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS]")
    p.set_defaults(func=cmd_run, mode="env")


def cmd_run(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise ConfigError("run needs a command: secretwire run --env-file FILE -- COMMAND [ARGS]")
    if not args.env_file and not args.from_config:
        raise ConfigError("run needs a template: --env-file FILE or --from-config FILE")
    with _manager(args) as manager:
        variables = template_variables(
            manager, env_files=args.env_file, config_files=args.from_config
        )
    redactor = manager.redactor
    if not args.no_mask and redactor.short_names:
        names = ", ".join(sorted(redactor.short_names))
        _say(f"not masked in the output, shorter than {redactor.min_length} characters: {names}")
    options = RunOptions(mode=args.mode, stdin_format=args.stdin_format, mask=not args.no_mask)
    result = run(
        command,
        variables,
        redactor,
        options,
        notice=lambda key: _say(f"left {key} out of the command's environment: it holds a value"),
    )
    if result.returncode < 0:
        args.child_signal = -result.returncode
        return 128 - result.returncode
    return result.returncode


def _say(text: str) -> None:
    print(f"secretwire: {text}", file=sys.stderr, flush=True)


def pass_on_signal(args: argparse.Namespace) -> None:
    """When the command ``run`` started was ended by a signal: end this process by the
    same signal (after every file was removed), as a shell reports it."""
    number = getattr(args, "child_signal", None)
    if not number:
        return
    with contextlib.suppress(OSError, ValueError):
        signal.signal(number, signal.SIG_DFL)
        sys.stdout.flush()
        os.kill(os.getpid(), number)
