"""The commands about a project and its files: init, render, check (health: ``health.py``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..configfile import dump_config, load_config
from ..errors import ResolutionError
from ._common import EXIT_ERROR, EXIT_OK, _manager, _printable
from .init import init_project


def cmd_init(args: argparse.Namespace) -> int:
    for line in init_project(Path(args.dir)):
        print(line)
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
            _warn(manager.warnings())
            for failure in err.failures:
                print(_printable(f"{config.path}: {failure}"))
            print(f"{len(err.failures)} reference(s) failed", file=sys.stderr)
            _omegaconf_hint(args.file)
            return EXIT_ERROR
    _warn(manager.warnings())
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


def _warn(warnings: list[str]) -> None:
    """The providers' warnings (an endpoint allowed by ``insecure: true``), on stderr."""
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
