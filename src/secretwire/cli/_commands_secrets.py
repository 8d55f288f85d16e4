"""The commands that read and write secrets: set, get, list, versions, delete."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from collections.abc import Sequence

from ..errors import (
    ConfigError,
    InvalidSecret,
    ReferenceSyntaxError,
    SecretNotFound,
    SecretwireError,
)
from ..references import Reference, as_reference, check_name
from ._common import EXIT_ERROR, EXIT_OK, _manager
from ._io import _utf8_out, _write_out, read_value
from ._output import print_json, secret_json, version_json


def _pairs(items: Sequence[str], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--{option} expects KEY=VALUE, got {item!r}")
        out[key] = value
    return out


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
    stored = f" version {version.version}" if version.version else ""  # KV v1, keyring: none
    print(f"stored {name!r}{stored}{_reference_note(name)}", file=sys.stderr)
    return EXIT_OK


def cmd_get(args: argparse.Namespace) -> int:
    if args.json and (args.field is not None or args.default is not None):
        raise ConfigError("get --json prints the version and metadata: no --field or --default")
    ref = _get_reference(args)
    if args.json:
        with _manager(args) as manager:
            print_json(secret_json(manager.get(ref.name, version=ref.version)))
        return EXIT_OK
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
    if args.json:
        print_json({"prefix": args.prefix, "names": names})
        return EXIT_OK
    _write_out(_utf8_out("".join(f"{name}\n" for name in names), "the names"))
    return EXIT_OK


def cmd_versions(args: argparse.Namespace) -> int:
    name = _name(args)
    with _manager(args) as manager:
        versions = manager.versions(name)
    if args.json:
        print_json({"name": name, "versions": [version_json(v) for v in versions]})
        return EXIT_OK
    for version in versions:
        created = version.created_at.isoformat() if version.created_at else "-"
        marker = "  (current)" if version.current else "  (staged)" if version.staged else ""
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
