"""The ``secretwire`` command line: thin commands over :class:`SecretManager`.

Errors are one line on stderr and a non-zero exit code; never a traceback unless
``--debug``, never a value. Only ``get``, ``render --reveal`` and ``export --reveal``
print values.

The parser is in ``_parser``, the commands in ``_commands_secrets`` (set, get, list,
versions, delete), ``_commands_config`` (init, render, check), ``health``,
``_commands_inject`` (run), ``_commands_transfer`` (import, export, copy),
``_commands_scan`` (scan), the lifecycle and governance commands, reading and
printing values in ``_io``, JSON in ``_output``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence

from ..errors import ResolutionError, SecretwireError
from ._common import EXIT_ERROR, EXIT_INTERRUPTED
from ._io import read_value
from ._parser import build_parser, command_line, parse

__all__ = ["build_parser", "main", "read_value"]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(command_line() if argv is None else list(argv))
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        code = func(args)
    except KeyboardInterrupt:
        print("secretwire: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SecretwireError as err:
        if args.debug:
            traceback.print_exc()
            original = getattr(err, "original", None)
            if original is not None:
                traceback.print_exception(original)
        print(f"secretwire: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as err:  # noqa: BLE001 - last resort, reported without its text
        # Unexpected: the text of a foreign exception could hold anything, so only
        # its type is shown unless the user asked for the traceback.
        if args.debug:
            traceback.print_exc()
        print(
            f"secretwire: internal error: {type(err).__name__} (run with --debug for details)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if argv is None and getattr(args, "child_signal", None):  # ended by a signal
        from ._commands_inject import pass_on_signal  # noqa: PLC0415 - only after run

        pass_on_signal(args)
    return code


def _one_line(err: SecretwireError) -> str:
    if isinstance(err, ResolutionError):
        return err.one_line()
    return " ".join(str(err).split())
