"""The command line parser: commands, options, and usage errors that echo no argument."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .._version import __version__
from . import (
    _commands_inject,
    _commands_scan,
    _commands_transfer,
    inventory_docs,
    rollback,
    rotate,
    status,
)
from ._commands_config import cmd_check, cmd_init, cmd_render
from ._commands_governance import add_governance_commands
from ._commands_secrets import cmd_delete, cmd_get, cmd_list, cmd_set, cmd_versions
from ._common import EXIT_USAGE, Subcommands, examples
from ._output import add_json_flag
from .health import cmd_health
from .init import TEMPLATES

__all__ = ["build_parser", "command_line", "parse"]


class _UsageError(Exception):
    """A command line argparse refused; ``main`` reports it without echoing values."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


_OMEGACONF_HELP = "read the file as OmegaConf does (${secret:'a#b'}, ${x,null}, ${oc.env:...})"

#: The examples at the end of each command's help (commands registered by their own
#: module bring theirs).
EXAMPLES = {
    "init": ("secretwire init", "secretwire init --template vault --dir services/api"),
    "set": (
        'printf %s "$PASSWORD" | secretwire set db/password',
        "secretwire set db/password --metadata owner=team-db   # prompts, hidden",
    ),
    "get": (
        "secretwire get db/password",
        "secretwire get db/creds --field user --version 2",
        "secretwire get db/password --json   # version and metadata, never the value",
    ),
    "list": ("secretwire list db/", "secretwire list --json"),
    "versions": ("secretwire versions db/password", "secretwire versions db/password --json"),
    "delete": ("secretwire delete db/old-password --yes",),
    "render": ("secretwire render config.yaml", "secretwire render config.yaml --format json"),
    "check": ("secretwire check config.yaml", "secretwire check --json   # declared secrets only"),
    "health": (
        "secretwire health",
        "secretwire --env production health --json",
    ),
    "run": (
        "secretwire run --env-file app.env -- python app.py",
        "secretwire run --from-config config.yaml --files -- ./server",
    ),
    "import": ("secretwire import .env --prefix app/ --dry-run",),
    "export": ("secretwire export app/ --format json", "secretwire export app/ --reveal > .env"),
    "copy": ("secretwire copy --from development --to staging app/ --dry-run",),
    "scan": ("secretwire scan src/ config/", "secretwire scan --git ."),
    "policy": (
        "secretwire policy explain alice get db/password",
        "secretwire policy export --vault --role app > app.hcl",
    ),
    "audit": (
        "secretwire audit verify audit.jsonl --key-file .secretwire/audit.key",
        "secretwire audit keygen .secretwire/audit.key",
    ),
}


class _Parser(argparse.ArgumentParser):
    """No abbreviated options (``--ver`` is not ``--version``), and errors go to
    ``main``, which removes any argument text from them before printing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise _UsageError(self, message)


_REFUSED = (
    "refused {count} unexpected argument(s), not shown: values are never taken from "
    "the command line (shell history, process listings); 'secretwire set NAME' reads "
    "the value from stdin or a hidden prompt"
)


def _add_name(p: argparse.ArgumentParser, *, get: bool = False) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("name", nargs="?", metavar="NAME", help="the secret's name, as is")
    what = "'db/creds#user@2'" if get else "'db/creds'"
    group.add_argument(
        "--ref",
        metavar="TEXT",
        help=f"a reference instead of a name: {what} or '${{secret:...}}' (docs/references.md)",
    )


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
    p.add_argument(
        "--template",
        choices=sorted(TEMPLATES),
        help="settings for a local, Vault, AWS or Azure project",
    )
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("set", help="store a value read from stdin or a hidden prompt")
    _add_name(p)
    p.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--allow-empty", action="store_true", help="accept an empty value")
    p.set_defaults(func=cmd_set)

    p = sub.add_parser("get", help="print one value alone on stdout")
    _add_name(p, get=True)
    p.add_argument("--field", metavar="KEY", help="one field of a JSON secret")
    p.add_argument("--version", dest="secret_version", metavar="ID", help="that version")
    p.add_argument("--default", metavar="TEXT", help="printed if the secret does not exist")
    add_json_flag(p, "the version and metadata (not the value)")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("list", help="list secret names (never values)")
    p.add_argument("prefix", nargs="?", default="")
    add_json_flag(p, "the names")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("versions", help="list the versions of a secret, newest first")
    _add_name(p)
    add_json_flag(p, "the versions")
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser("delete", help="delete a secret and all its versions")
    _add_name(p)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_delete)

    _project_commands(sub)
    for module in (rotate, rollback, status, inventory_docs):
        module.register(sub)
    add_governance_commands(sub)  # policy, audit
    for module in (_commands_inject, _commands_transfer, _commands_scan):
        module.register(sub)
    for name, subparser in sub.choices.items():
        subparser.set_defaults(_parser=subparser)
        if name in EXAMPLES:
            subparser.epilog = examples(*EXAMPLES[name])
            subparser.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _project_commands(sub: Subcommands) -> None:
    """render, check, health: the commands about a project's files and provider."""
    p = sub.add_parser("render", help="print a YAML/JSON/TOML config with references resolved")
    p.add_argument("file")
    p.add_argument("--reveal", action="store_true", help="print values instead of masks")
    p.add_argument("--format", choices=["yaml", "json"], help="output format (default: input's)")
    p.add_argument("--omegaconf", action="store_true", help=_OMEGACONF_HELP)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser(
        "check", help="check a config's references, and the declared secrets (secrets:)"
    )
    p.add_argument("file", nargs="?", help="a config file (default: the declared secrets only)")
    p.add_argument("--omegaconf", action="store_true", help=_OMEGACONF_HELP)
    add_json_flag(p, "every failure")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("health", help="check the provider(s) of the current environment")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_health)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line. Any usage error is reported without the text of
    an argument: one typed by mistake could be a value (``set NAME VALUE``)."""
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
    except _UsageError as err:
        _usage_error(err.parser, _scrub(err.message, argv, parser))
    if extras:
        _usage_error(getattr(args, "_parser", parser), _REFUSED.format(count=len(extras)))
    return args


def _usage_error(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def _scrub(message: str, argv: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """An argparse ``message`` without any argument text. argparse quotes what it
    echoes (``invalid choice: 'x'``, ``ignored explicit argument 'x'``); if an
    argument still shows after that, the whole message becomes generic."""
    pieces = set()
    for arg in argv:
        pieces.add(arg)
        if "=" in arg:
            pieces.add(arg.partition("=")[2])
        if arg.startswith("-") and not arg.startswith("--"):
            pieces.add(arg[2:])
    pieces.discard("")
    for piece in sorted(pieces, key=len, reverse=True):
        message = message.replace(repr(piece), "(not shown)")
    for piece in pieces - _known_words(parser):
        if re.search(rf"(?<![\w-]){re.escape(piece)}(?![\w-])", message):
            return "invalid arguments (not shown); see --help"
    return message


def _known_words(parser: argparse.ArgumentParser) -> set[str]:
    """Option strings, commands and choices: argument text argparse may show."""
    words: set[str] = set()
    for action in parser._actions:
        words.update(action.option_strings)
        if isinstance(action.choices, dict):
            for command, subparser in action.choices.items():
                words.add(command)
                words |= _known_words(subparser)
        elif action.choices is not None:
            words.update(str(choice) for choice in action.choices)
    return words


def command_line() -> list[str]:
    """``sys.argv[1:]``, with UTF-8 bytes a non-UTF-8 locale could not decode
    (Python keeps them as surrogate escapes) read as UTF-8 when they are."""
    return [_from_locale(arg) for arg in sys.argv[1:]]


def _from_locale(arg: str) -> str:
    if not any("\udc80" <= ch <= "\udcff" for ch in arg):
        return arg
    try:
        return os.fsencode(arg).decode("utf-8")
    except UnicodeError:
        pass
    return arg  # not UTF-8 either: the name check refuses it, naming the character
