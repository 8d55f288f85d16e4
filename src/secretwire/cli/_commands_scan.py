"""``secretwire scan``: find current secret values in files or git history (docs/scan.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import ProviderError
from ..leakscan import Finding, Fingerprints, scan_git, scan_paths
from ..manager import SecretManager
from ..masking import default_redactor
from ._common import EXIT_ERROR, EXIT_OK, _printable

__all__ = ["register"]


def register(sub: Any) -> None:
    """The ``scan`` command's parser."""
    p = sub.add_parser("scan", help="find current secret values (raw or encoded) in files")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    p.add_argument("--git", action="store_true", help="scan the git history of PATH instead")
    p.add_argument("--prefix", default="", help="only the secrets whose names start so")
    p.set_defaults(func=cmd_scan)


def cmd_scan(args: argparse.Namespace) -> int:
    fingerprints = _fingerprints(args)
    if fingerprints.short_names:
        names = ", ".join(sorted(fingerprints.short_names))
        print(f"secretwire: not scanned for, shorter than 4 characters: {names}", file=sys.stderr)
    problems: list[str] = []
    findings: list[Finding] = []
    for path in args.paths if args.git else ():
        findings += scan_git(fingerprints, path)
    if not args.git:
        findings += scan_paths(fingerprints, args.paths, problems)
    for finding in findings:
        print(_printable(str(finding)))
    for problem in problems:
        print(_printable(f"secretwire: {problem}"), file=sys.stderr)
    count = f"{len(findings)} finding(s)" if findings else "no secret value found"
    print(f"{count} ({fingerprints.values} secret(s) looked for)", file=sys.stderr)
    return EXIT_ERROR if findings or problems else EXIT_OK


def _fingerprints(args: argparse.Namespace) -> Fingerprints:
    """Fingerprints of every current value under ``--prefix``. The manager caches
    nothing, and the redactors that registered the values are cleared: afterwards
    only fingerprints are left of them."""
    fingerprints = Fingerprints()
    with SecretManager.from_settings(args.config, environment=args.env, cache=False) as manager:
        names = manager.list(args.prefix)
        results = manager.get_many([(name, None) for name in names])
        for (name, _), outcome in results.items():
            if isinstance(outcome, ProviderError):
                raise outcome
            fingerprints.add(name, outcome.value)
        del results
        manager.redactor.clear()
    default_redactor().clear()
    return fingerprints
