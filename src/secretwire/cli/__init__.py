"""The ``secretwire`` command line: thin commands over :class:`SecretManager`.

Errors are one line on stderr and a non-zero exit code; never a traceback unless
``--debug``, never a value. Only ``get`` and ``render --reveal`` print values.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from .._version import __version__
from ..configfile import dump_config, load_config
from ..errors import ConfigError, ResolutionError, SecretwireError
from ..manager import SecretManager
from ..references import as_reference
from ..settings import load_settings
from .init import init_project

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="secretwire",
        description="Manage secrets and resolve ${secret:...} references in config files.",
    )
    parser.add_argument("--version", action="version", version=f"secretwire {__version__}")
    parser.add_argument("--config", metavar="PATH", help="settings file (default: discovered)")
    parser.add_argument("--env", metavar="NAME", help="environment (default: from settings)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create secretwire.yaml, a dev store and its key")
    p.add_argument("--dir", default=".", help="project folder (default: current)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("set", help="store a value read from stdin or a hidden prompt")
    p.add_argument("name")
    p.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--allow-empty", action="store_true", help="accept an empty value")
    p.set_defaults(func=cmd_set)

    p = sub.add_parser("get", help="print one value alone on stdout")
    p.add_argument("name", help="a name, or a reference such as 'db/creds#user@2'")
    p.add_argument("--version", dest="secret_version", metavar="ID")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("list", help="list secret names (never values)")
    p.add_argument("prefix", nargs="?", default="")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("versions", help="list the versions of a secret, newest first")
    p.add_argument("name")
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser("delete", help="delete a secret and all its versions")
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("render", help="print a YAML/JSON/TOML config with references resolved")
    p.add_argument("file")
    p.add_argument("--reveal", action="store_true", help="print values instead of masks")
    p.add_argument("--format", choices=["yaml", "json"], help="output format (default: input's)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("check", help="check that every reference in a config resolves")
    p.add_argument("file")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("health", help="check the provider of the current environment")
    p.set_defaults(func=cmd_health)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
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


def _one_line(err: SecretwireError) -> str:
    if isinstance(err, ResolutionError):
        return err.one_line()
    return " ".join(str(err).split())


def _manager(args: argparse.Namespace) -> SecretManager:
    return load_settings(args.config).manager(args.env)


def cmd_init(args: argparse.Namespace) -> int:
    for line in init_project(Path(args.dir)):
        print(line)
    return EXIT_OK


def _pairs(items: Sequence[str], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--{option} expects KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def read_value(stdin: TextIO, *, prompt: Callable[[str], str] = getpass.getpass) -> str:
    """A value from stdin (one trailing newline dropped) or, on a terminal, a hidden prompt."""
    if stdin.isatty():
        first = prompt("Value (hidden): ")
        if prompt("Repeat value: ") != first:
            raise ConfigError("the two values differ; nothing stored")
        return first
    value = stdin.read()
    if value.endswith("\r\n"):
        return value[:-2]
    return value[:-1] if value.endswith("\n") else value


def cmd_set(args: argparse.Namespace) -> int:
    metadata = _pairs(args.metadata, "metadata")
    tags = _pairs(args.tag, "tag")
    value = read_value(sys.stdin)
    if not value and not args.allow_empty:
        raise ConfigError("empty value; nothing stored (use --allow-empty to store one)")
    with _manager(args) as manager:
        version = manager.set(args.name, value, metadata=metadata, tags=tags)
    print(f"stored {args.name!r} version {version.version}", file=sys.stderr)
    return EXIT_OK


def cmd_get(args: argparse.Namespace) -> int:
    ref = as_reference(args.name)
    if args.secret_version:
        if ref.version is not None:
            raise ConfigError("give the version either with @ in the name or with --version")
        ref = dataclasses.replace(ref, version=args.secret_version)
    with _manager(args) as manager:
        value = manager.value(ref).reveal()
    sys.stdout.write(value + ("\n" if sys.stdout.isatty() else ""))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with _manager(args) as manager:
        for name in manager.list(args.prefix):
            print(name)
    return EXIT_OK


def cmd_versions(args: argparse.Namespace) -> int:
    with _manager(args) as manager:
        for version in manager.versions(args.name):
            created = version.created_at.isoformat() if version.created_at else "-"
            marker = "  (current)" if version.current else ""
            print(f"{version.version}\t{created}{marker}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError("refusing to delete without --yes when not on a terminal")
        answer = input(f"Delete {args.name!r} and all its versions? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted", file=sys.stderr)
            return EXIT_ERROR
    with _manager(args) as manager:
        manager.delete(args.name)
    print(f"deleted {args.name!r}", file=sys.stderr)
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    with _manager(args) as manager:
        resolved = manager.resolve(
            config.data, source=config.path, lines=config.lines, reveal=args.reveal
        )
    output_format = args.format or ("json" if config.format == "json" else "yaml")
    sys.stdout.write(dump_config(resolved, output_format))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    with _manager(args) as manager:
        try:
            resolution = manager.resolve_with_provenance(
                config.data, source=config.path, lines=config.lines, reveal=False
            )
        except ResolutionError as err:
            for failure in err.failures:
                print(_printable(f"{config.path}: {failure}"))
            print(f"{len(err.failures)} reference(s) failed", file=sys.stderr)
            return EXIT_ERROR
    total = len(resolution.provenance)
    defaulted = sum(item.defaulted for item in resolution.provenance)
    note = f" ({defaulted} by their default: the secret does not exist)" if defaulted else ""
    print(_printable(f"ok: {total} reference(s) resolvable in {config.path}{note}"))
    return EXIT_OK


def _printable(line: str) -> str:
    """``line`` (names and locations, never a value) with anything that is not text,
    such as an undecodable byte in a file name, escaped as stderr does it."""
    return line.encode("utf-8", "backslashreplace").decode("utf-8")


def cmd_health(args: argparse.Namespace) -> int:
    with _manager(args) as manager:
        health = manager.health()
    latency = f" in {health.latency_seconds * 1000:.1f} ms" if health.latency_seconds else ""
    detail = f": {health.detail}" if health.detail else ""
    env = f" ({manager.environment})" if manager.environment else ""
    print(f"{health.provider}{env}: {health.status.value}{latency}{detail}")
    return EXIT_OK if health.ok else EXIT_ERROR
