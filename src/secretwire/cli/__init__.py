"""The ``secretwire`` command line: thin commands over :class:`SecretManager`.

Errors are one line on stderr and a non-zero exit code; never a traceback unless
``--debug``, never a value. Only ``get`` and ``render --reveal`` print values.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import os
import re
import shlex
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from .._version import __version__
from ..configfile import dump_config, load_config
from ..errors import (
    ConfigError,
    InvalidSecret,
    ReferenceSyntaxError,
    ResolutionError,
    SecretNotFound,
    SecretwireError,
)
from ..manager import SecretManager
from ..references import Reference, as_reference, check_name
from ..values import SecretValue
from .init import init_project

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _UsageError(Exception):
    """A command line argparse refused; ``main`` reports it without echoing values."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


_OMEGACONF_HELP = "read the file as OmegaConf does (${secret:'a#b'}, ${x,null}, ${oc.env:...})"


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
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("list", help="list secret names (never values)")
    p.add_argument("prefix", nargs="?", default="")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("versions", help="list the versions of a secret, newest first")
    _add_name(p)
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser("delete", help="delete a secret and all its versions")
    _add_name(p)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("render", help="print a YAML/JSON/TOML config with references resolved")
    p.add_argument("file")
    p.add_argument("--reveal", action="store_true", help="print values instead of masks")
    p.add_argument("--format", choices=["yaml", "json"], help="output format (default: input's)")
    p.add_argument("--omegaconf", action="store_true", help=_OMEGACONF_HELP)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("check", help="check that every reference in a config resolves")
    p.add_argument("file")
    p.add_argument("--omegaconf", action="store_true", help=_OMEGACONF_HELP)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("health", help="check the provider of the current environment")
    p.set_defaults(func=cmd_health)
    for subparser in sub.choices.values():
        subparser.set_defaults(_parser=subparser)
    return parser


def _parse(argv: Sequence[str]) -> argparse.Namespace:
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


def _command_line() -> list[str]:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(_command_line() if argv is None else list(argv))
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
    return SecretManager.from_settings(args.config, environment=args.env)


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


def read_value(stdin: TextIO, *, prompt: Callable[[str], str] = getpass.getpass) -> SecretValue:
    """A value from stdin (one trailing newline dropped) or, on a terminal, a hidden
    prompt. Stdin is read as bytes and decoded as UTF-8 whatever the locale; input
    that is not UTF-8 is an :class:`InvalidSecret` naming the byte offset."""
    if stdin.isatty():
        first = SecretValue(_utf8(_locale_bytes(prompt("Value (hidden): "))))
        again = SecretValue(_utf8(_locale_bytes(prompt("Repeat value: "))))
        if first != again:
            raise ConfigError("the two values differ; nothing stored")
        return first
    buffer = getattr(stdin, "buffer", None)
    value = _utf8(buffer.read() if buffer is not None else _locale_bytes(stdin.read()))
    if value.endswith("\r\n"):
        return SecretValue(value[:-2])
    return SecretValue(value[:-1] if value.endswith("\n") else value)


def _locale_bytes(text: str) -> bytes:
    """The bytes behind text Python decoded with surrogate escapes (a strict locale)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        pass  # a surrogate that is no escaped byte: kept, and refused by _utf8
    return text.encode("utf-8", "surrogatepass")


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        offset = err.start
    # Raised outside the handler and after ``del``: the UnicodeDecodeError and this
    # frame both hold the input, which is the value.
    del data
    raise InvalidSecret(
        f"the value is not valid UTF-8 text (invalid byte at offset {offset}); nothing stored"
    )


def _write_out(data: bytes) -> None:
    """``data`` (from :func:`_utf8_out`) on stdout, whatever the locale."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


def _utf8_out(text: str, what: str) -> bytes:
    """``text`` as UTF-8: ``get`` and ``list`` print data, not locale text."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:
        offset = err.start
    del text  # the frame that raises holds no value
    raise InvalidSecret(
        f"cannot print {what}: not valid Unicode text (a lone surrogate at character "
        f"{offset}, stored by an older secretwire?)"
    )


def _name(args: argparse.Namespace) -> str:
    """The secret a command acts on: NAME as is, or the name in ``--ref`` (which
    may not name a field, version or default here)."""
    if args.ref is None:
        name: str = args.name
    else:
        ref = as_reference(args.ref)
        parts = {"field": ref.field, "version": ref.version, "default": ref.default}
        extra = [part for part, value in parts.items() if value is not None]
        if extra:
            raise ConfigError(
                f"{args.command} acts on a whole secret: --ref may not name a {extra[0]}"
            )
        name = ref.name
    check_name(name)
    return name


def _get_reference(args: argparse.Namespace) -> Reference:
    ref = as_reference(args.ref) if args.ref is not None else Reference(_name(args))
    options = {"field": args.field, "version": args.secret_version, "default": args.default}
    for part, given in options.items():
        if given is None:
            continue
        if not given and part != "default":
            raise ConfigError(f"--{part} must not be empty")
        if getattr(ref, part) is not None:
            raise ConfigError(f"give the {part} either in --ref or with --{part}, not both")
        ref = dataclasses.replace(ref, **{part: given})
    return ref


def _literal_hint(args: argparse.Namespace) -> str | None:
    """For NAME that reads as a reference with a field, version or default: how to
    ask for that instead (NAME itself is always taken literally)."""
    if args.ref is not None or args.name is None:
        return None
    try:
        ref = as_reference(args.name)
    except ReferenceSyntaxError:
        return None
    if ref == Reference(args.name):
        return None
    return f"NAME is taken as is; to read it as a reference use --ref {shlex.quote(args.name)}"


def _with_hint(err: SecretNotFound | InvalidSecret, args: argparse.Namespace) -> SecretwireError:
    hint = _literal_hint(args)
    if hint is None or type(err) not in (SecretNotFound, InvalidSecret):
        return err
    return type(err)(f"{err}; {hint}", name=err.name, provider=err.provider, version=err.version)


def _reference_note(name: str) -> str:
    text = Reference(name).format()
    return "" if text == "${secret:" + name + "}" else f" (in a reference: {text})"


def cmd_set(args: argparse.Namespace) -> int:
    name = _name(args)
    metadata = _pairs(args.metadata, "metadata")
    tags = _pairs(args.tag, "tag")
    value = read_value(sys.stdin)
    if not value and not args.allow_empty:
        raise ConfigError("empty value; nothing stored (use --allow-empty to store one)")
    with _manager(args) as manager:
        version = manager.set(name, value, metadata=metadata, tags=tags)
    print(f"stored {name!r} version {version.version}{_reference_note(name)}", file=sys.stderr)
    return EXIT_OK


def cmd_get(args: argparse.Namespace) -> int:
    ref = _get_reference(args)
    try:
        with _manager(args) as manager:
            value = manager.value(ref)
    except (SecretNotFound, InvalidSecret) as err:
        hinted = _with_hint(err, args)
        if hinted is err:
            raise
        raise hinted from None
    _write_out(_utf8_out(value.reveal() + ("\n" if sys.stdout.isatty() else ""), "the value"))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with _manager(args) as manager:
        names = manager.list(args.prefix)
    _write_out(_utf8_out("".join(f"{name}\n" for name in names), "the names"))
    return EXIT_OK


def cmd_versions(args: argparse.Namespace) -> int:
    name = _name(args)
    with _manager(args) as manager:
        for version in manager.versions(name):
            created = version.created_at.isoformat() if version.created_at else "-"
            marker = "  (current)" if version.current else ""
            print(f"{version.version}\t{created}{marker}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    name = _name(args)
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError("refusing to delete without --yes when not on a terminal")
        print(f"Delete {name!r} and all its versions? [y/N] ", end="", file=sys.stderr, flush=True)
        answer = input()
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted", file=sys.stderr)
            return EXIT_ERROR
    with _manager(args) as manager:
        manager.delete(name)
    print(f"deleted {name!r}", file=sys.stderr)
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    if args.omegaconf:  # imported only here: it needs the omegaconf extra
        from . import omegaconf_mode  # noqa: PLC0415

        return omegaconf_mode.render(args)
    config = load_config(args.file)
    with _manager(args) as manager:
        resolved = manager.resolve(
            config.data, source=config.path, lines=config.lines, reveal=args.reveal
        )
    output_format = args.format or ("json" if config.format == "json" else "yaml")
    sys.stdout.write(dump_config(resolved, output_format))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    if args.omegaconf:  # imported only here: it needs the omegaconf extra
        from . import omegaconf_mode  # noqa: PLC0415

        return omegaconf_mode.check(args)
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
            _omegaconf_hint(args.file)
            return EXIT_ERROR
    total = len(resolution.provenance)
    defaulted = sum(item.defaulted for item in resolution.provenance)
    note = f" ({defaulted} by their default: the secret does not exist)" if defaulted else ""
    print(_printable(f"ok: {total} reference(s) resolvable in {config.path}{note}"))
    return EXIT_OK


def _omegaconf_hint(path: str) -> None:
    """After a failed check: say so if the file looks like an OmegaConf config."""
    from .omegaconf_mode import hint  # noqa: PLC0415 - reads text only, no OmegaConf

    text = hint(path)
    if text:
        print(text, file=sys.stderr)


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
