"""The commands about a project and its files: init, render, check (health: ``health.py``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..configfile import dump_config, load_config
from ..errors import ConfigError, ResolutionError
from ..manager import SecretManager
from ._common import EXIT_ERROR, EXIT_OK, _manager, _printable
from ._output import print_json
from .init import init_project
from .status import inventory_failures


def cmd_init(args: argparse.Namespace) -> int:
    for line in init_project(Path(args.dir), template=args.template):
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
    if args.omegaconf and args.file is None:
        raise ConfigError("check --omegaconf needs a config FILE")
    if args.omegaconf:  # imported only here: it needs the omegaconf extra
        from . import omegaconf_mode  # noqa: PLC0415

        return omegaconf_mode.check(args)
    report: dict[str, Any] = {"file": args.file}
    with _manager(args) as manager:
        if args.file is None and not manager.inventory:
            raise ConfigError("check: give a config FILE, or declare secrets (secrets:)")
        if args.file is not None:
            report["references"] = _check_references(args, manager)
        if manager.inventory:
            report["secrets"] = inventory_failures(manager)
        report["warnings"] = manager.warnings()  # e.g. an endpoint allowed by insecure: true
    _warn(report["warnings"])
    failed = [
        f for part in ("references", "secrets") for f in report.get(part, {}).get("failures", [])
    ]
    report["ok"] = not failed
    if args.json:
        print_json(report)
    else:
        for line in failed:
            print(_printable(line))
        _summarise(args, report)
    return EXIT_OK if not failed else EXIT_ERROR


def _check_references(args: argparse.Namespace, manager: SecretManager) -> dict[str, Any]:
    config = load_config(args.file)
    try:
        resolution = manager.resolve_with_provenance(
            config.data, source=config.path, lines=config.lines, reveal=False
        )
    except ResolutionError as err:
        lines = [f"{config.path}: {failure}" for failure in err.failures]
        return {"path": config.path, "failures": lines}
    total = len(resolution.provenance)
    defaulted = sum(item.defaulted for item in resolution.provenance)
    return {"path": config.path, "total": total, "defaulted": defaulted, "failures": []}


def _summarise(args: argparse.Namespace, report: dict[str, Any]) -> None:
    references, secrets = report.get("references"), report.get("secrets")
    if references is not None and references["failures"]:
        print(f"{len(references['failures'])} reference(s) failed", file=sys.stderr)
        _omegaconf_hint(args.file)
    elif references is not None:
        defaulted = references["defaulted"]
        note = f" ({defaulted} by their default: the secret does not exist)" if defaulted else ""
        total, path = references["total"], references["path"]
        print(_printable(f"ok: {total} reference(s) resolvable in {path}{note}"))
    if secrets is not None:
        count, problems = secrets["checked"], len(secrets["failures"])
        where = "declared secret(s) checked"
        if problems:
            print(f"{problems} problem(s) in {count} {where}", file=sys.stderr)
        else:
            print(f"ok: {count} {where}")


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
