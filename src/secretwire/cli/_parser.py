"""The command line parser: commands, options, and usage errors that echo no argument."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .._version import __version__
from ._common import EXIT_USAGE, Subcommands, examples
from ._output import add_json_flag
from ._templates import TEMPLATES

__all__ = ["build_parser", "command_line", "parse"]

#: The commands defined here, and the modules whose ``register(sub)`` adds the
#: others. Running one command imports only its own modules (``python -X importtime``).
_SECRET_COMMANDS = ("init", "set", "get", "list", "versions", "delete")
_PROJECT_COMMANDS = ("render", "check", "health")
_REGISTERED = {
    "rotate": "rotate",
    "rollback": "rollback",
    "status": "status",
    "docs": "inventory_docs",
    "policy": "_commands_governance",
    "audit": "_commands_governance",
    "run": "_commands_inject",
    "import": "_commands_transfer",
    "export": "_commands_transfer",
    "copy": "_commands_transfer",
    "scan": "_commands_scan",
}
_GLOBAL_WITH_VALUE = ("--config", "--env")


def _command(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """The function ``name`` of ``module``, imported when the command runs."""

    def run(args: argparse.Namespace) -> int:
        func: Callable[[argparse.Namespace], int] = getattr(_module(module), name)
        return func(args)

    return run


def _module(name: str) -> Any:
    return importlib.import_module(f"{__package__}.{name}")


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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line parser; with ``command`` (a known command's name) only that
    command's parser is built, which imports only its modules."""
    parser = _Parser(
        prog="secretwire",
        description="Manage secrets and resolve ${secret:...} references in config files.",
    )
    parser.add_argument("--version", action="version", version=f"secretwire {__version__}")
    parser.add_argument("--config", metavar="PATH", help="settings file (default: discovered)")
    parser.add_argument("--env", metavar="NAME", help="environment (default: from settings)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if command is None or command in _SECRET_COMMANDS:
        _secret_commands(sub, command)
    if command is None or command in _PROJECT_COMMANDS:
        _project_commands(sub, command)
    registered = [_REGISTERED[command]] if command in _REGISTERED else []
    for module in dict.fromkeys(registered if command else _REGISTERED.values()):
        _module(module).register(sub)
    for name, subparser in sub.choices.items():
        subparser.set_defaults(_parser=subparser)
        if name in EXAMPLES:
            subparser.epilog = examples(*EXAMPLES[name])
            subparser.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


class _Commands:
    """Adds the commands defined here; with ``only``, that command alone."""

    def __init__(self, sub: Subcommands, only: str | None) -> None:
        self.sub, self.only = sub, only

    def add(self, name: str, summary: str, func: str) -> argparse.ArgumentParser | None:
        """The parser of command ``name`` (run by ``func``, ``module:function``), or
        ``None`` when another command alone is wanted."""
        if self.only not in (None, name):
            return None
        parser: argparse.ArgumentParser = self.sub.add_parser(name, help=summary)
        parser.set_defaults(func=_command(*func.split(":")))
        return parser


def _secret_commands(sub: Subcommands, only: str | None) -> None:
    """init, set, get, list, versions, delete."""
    commands = _Commands(sub, only)
    p = commands.add(
        "init", "create secretwire.yaml, a dev store and its key", "_commands_config:cmd_init"
    )
    if p is not None:
        p.add_argument("--dir", default=".", help="project folder (default: current)")
        p.add_argument(
            "--template",
            choices=sorted(TEMPLATES),
            help="settings for a local, Vault, AWS or Azure project",
        )
    p = commands.add(
        "set", "store a value read from stdin or a hidden prompt", "_commands_secrets:cmd_set"
    )
    if p is not None:
        _add_name(p)
        p.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE")
        p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
        p.add_argument("--allow-empty", action="store_true", help="accept an empty value")
    p = commands.add("get", "print one value alone on stdout", "_commands_secrets:cmd_get")
    if p is not None:
        _add_name(p, get=True)
        p.add_argument("--field", metavar="KEY", help="one field of a JSON secret")
        p.add_argument("--version", dest="secret_version", metavar="ID", help="that version")
        p.add_argument("--default", metavar="TEXT", help="printed if the secret does not exist")
        add_json_flag(p, "the version and metadata (not the value)")
    p = commands.add("list", "list secret names (never values)", "_commands_secrets:cmd_list")
    if p is not None:
        p.add_argument("prefix", nargs="?", default="")
        add_json_flag(p, "the names")
    p = commands.add(
        "versions",
        "list the versions of a secret, newest first",
        "_commands_secrets:cmd_versions",
    )
    if p is not None:
        _add_name(p)
        add_json_flag(p, "the versions")
    p = commands.add(
        "delete", "delete a secret and all its versions", "_commands_secrets:cmd_delete"
    )
    if p is not None:
        _add_name(p)
        p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _project_commands(sub: Subcommands, only: str | None) -> None:
    """render, check, health: the commands about a project's files and provider."""
    commands = _Commands(sub, only)
    p = commands.add(
        "render",
        "print a YAML/JSON/TOML config with references resolved",
        "_commands_config:cmd_render",
    )
    if p is not None:
        p.add_argument("file")
        p.add_argument("--reveal", action="store_true", help="print values instead of masks")
        p.add_argument(
            "--format", choices=["yaml", "json"], help="output format (default: input's)"
        )
        p.add_argument("--omegaconf", action="store_true", help=_OMEGACONF_HELP)
    p = commands.add(
        "check",
        "check a config's references, and the declared secrets (secrets:)",
        "_commands_config:cmd_check",
    )
    if p is not None:
        p.add_argument("file", nargs="?", help="a config file (default: the declared secrets only)")
        p.add_argument("--omegaconf", action="store_true", help=_OMEGACONF_HELP)
        add_json_flag(p, "every failure")
    p = commands.add(
        "health", "check the provider(s) of the current environment", "health:cmd_health"
    )
    if p is not None:
        p.add_argument("--json", action="store_true", help="print one JSON object")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line. Any usage error is reported without the text of
    an argument: one typed by mistake could be a value (``set NAME VALUE``)."""
    parser = build_parser(_command_name(argv))
    try:
        args, extras = parser.parse_known_args(argv)
    except _UsageError as err:
        _usage_error(err.parser, _scrub(err.message, argv, parser))
    if extras:
        _usage_error(getattr(args, "_parser", parser), _REFUSED.format(count=len(extras)))
    return args


def _command_name(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs when it names a known one before any help or version
    option; else ``None`` (the whole parser: help lists every command, and argparse
    reports a wrong one)."""
    args = iter(argv)
    for arg in args:
        if arg in _GLOBAL_WITH_VALUE:
            next(args, None)
        elif arg in ("-h", "--help", "--version") or arg == "--":
            return None
        elif not arg.startswith("-"):
            known = arg in _SECRET_COMMANDS or arg in _PROJECT_COMMANDS or arg in _REGISTERED
            return arg if known else None
    return None


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
