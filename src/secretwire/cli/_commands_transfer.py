"""``import``, ``export`` and ``copy``: moving secrets in, out and between environments."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..dotenv import DotenvError, read_dotenv
from ..errors import SecretwireError
from ..manager import SecretManager
from ..references import check_name
from ..transfer import EXPORT_FORMATS, TransferReport, export_text, transfer
from ..values import SecretValue
from ._common import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, _manager, _printable
from ._io import _utf8_out, _write_out

__all__ = ["register"]


def register(sub: Any) -> None:
    """The parsers of ``import``, ``export`` and ``copy``."""
    p = sub.add_parser("import", help="store the variables of a .env file as secrets")
    p.add_argument("file", metavar="FILE.env")
    p.add_argument("--prefix", default="", help="put before each name (e.g. 'app/')")
    _transfer_options(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="print secrets as dotenv, json or shell (masked)")
    p.add_argument("prefix", nargs="?", default="", metavar="PREFIX")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="dotenv")
    p.add_argument("--reveal", action="store_true", help="print the values, not masks")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("copy", help="copy current versions from one environment to another")
    p.add_argument("--from", dest="source", required=True, metavar="ENV")
    p.add_argument("--to", dest="target", required=True, metavar="ENV")
    p.add_argument("prefix", nargs="?", default="", metavar="PREFIX")
    _transfer_options(p)
    p.set_defaults(func=cmd_copy)


def _transfer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="say what would be written")
    p.add_argument("--overwrite", action="store_true", help="replace existing secrets")


def cmd_import(args: argparse.Namespace) -> int:
    entries = read_dotenv(args.file)
    values: dict[str, SecretValue] = {}
    for entry in entries:
        name = args.prefix + entry.key
        try:
            check_name(name)
        except SecretwireError as err:
            raise DotenvError(f"{entry.key}: {err}", source=args.file, line=entry.line) from None
        values[name] = entry.value
    empty = {name for name, value in values.items() if not value.reveal()}
    with _manager(args) as manager:
        existing = set(manager.list(args.prefix))
        report = transfer(
            [name for name in values if name not in empty],
            existing=existing,
            read=values.__getitem__,
            write=manager.set,
            overwrite=args.overwrite,
            dry_run=args.dry_run,
            progress=_progress_bar(),
        )
    report.skipped += [(name, "empty value") for name in sorted(empty)]
    report.total += len(empty)
    return _finish(report, "imported")


def cmd_copy(args: argparse.Namespace) -> int:
    with (
        SecretManager.from_settings(args.config, environment=args.source) as source,
        SecretManager.from_settings(args.config, environment=args.target) as target,
    ):
        report = transfer(
            source.list(args.prefix),
            existing=set(target.list(args.prefix)),
            read=lambda name: source.get(name).value,
            write=target.set,
            overwrite=args.overwrite,
            dry_run=args.dry_run,
            progress=_progress_bar(),
        )
    return _finish(report, "copied")


def cmd_export(args: argparse.Namespace) -> int:
    with _manager(args) as manager:  # no frame of this one keeps the values
        _write_out(
            _utf8_out(
                export_text(manager, args.prefix, args.format, reveal=args.reveal), "the values"
            )
        )
    return EXIT_OK


def _finish(report: TransferReport, verb: str) -> int:
    for line in report.lines(verb):
        print(_printable(line))
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_ERROR if report.failed else EXIT_OK


def _progress_bar() -> Any:
    """A progress bar on stderr when it is a terminal, else nothing."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int, name: str) -> None:
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if done == total else ""
        print(
            f"\r[{bar}] {done}/{total} {_printable(name)[:40]:<40}",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    return show
