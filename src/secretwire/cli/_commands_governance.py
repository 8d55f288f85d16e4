"""The governance commands: ``policy explain``, ``policy export``, ``audit verify``,
``audit keygen`` (docs/rbac.md, docs/audit.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..governance import OPERATIONS, AuditKey, Policy, load_key, verify_trail
from ..governance.export import Export, export_iam, export_vault
from ..security.files import create_private
from ..settings import Settings, load_settings
from ._common import EXIT_ERROR, EXIT_OK, _printable, add_command

__all__ = ["register"]


def _policy(args: argparse.Namespace) -> tuple[Settings, Policy, str]:
    settings = load_settings(args.config)
    policy = settings.governance.policy
    if policy is None:
        raise ConfigError("the settings have no policy (docs/rbac.md)", source=settings.source)
    return settings, policy, settings.select(args.env)


def cmd_policy_explain(args: argparse.Namespace) -> int:
    _, policy, environment = _policy(args)
    decision = policy.decide(args.principal, args.operation, args.name, environment)
    verdict = "allow" if decision.allowed else "deny"
    request = f"{args.principal} {args.operation} {args.name!r} in {environment}"
    print(_printable(f"{verdict}: {request}"))
    print(_printable(f"  {decision.reason}"))
    return EXIT_OK if decision.allowed else EXIT_ERROR


def _option(settings: Settings, environment: str, option: str) -> str | None:
    value = settings.environments[environment].options.get(option)
    return value if isinstance(value, str) and "${" not in value else None


def cmd_policy_export(args: argparse.Namespace) -> int:
    settings, policy, environment = _policy(args)
    subject: dict[str, Any] = {"role": args.role, "principal": args.principal}
    if args.vault:
        mount = args.mount or _option(settings, environment, "mount") or "secret"
        result = export_vault(policy, environment=environment, mount=mount, **subject)
    else:
        region = args.region or _option(settings, environment, "region") or "*"
        account = args.account or "*"
        result = export_iam(
            policy, environment=environment, region=region, account=account, **subject
        )
    return _report_export(result, args.allow_broader)


def _report_export(result: Export, allow_broader: bool) -> int:
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for difference in result.narrower:
        print(_printable(f"note: stricter at the backend: {difference}"), file=sys.stderr)
    if result.broader and not allow_broader:
        shown = "; ".join(str(d) for d in result.broader[:5])
        more = f" (and {len(result.broader) - 5} more)" if len(result.broader) > 5 else ""
        raise ConfigError(
            "the backend's language cannot say exactly what these rules say; the exported "
            f"policy would allow more: {shown}{more}. Narrow the rules, or pass "
            "--allow-broader to write it anyway"
        )
    for difference in result.broader:
        print(_printable(f"warning: broader at the backend: {difference}"), file=sys.stderr)
    sys.stdout.write(result.text)
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace) -> int:
    if args.key_file or args.key_env:
        key_file = Path(args.key_file) if args.key_file else None
        key = load_key(key_file=key_file, key_env=args.key_env)
    else:
        audit = load_settings(args.config).governance.audit
        if audit is None:
            raise ConfigError("give the trail's key: --key-file PATH or --key-env VARIABLE")
        key = audit.key()
    print(_printable(str(verify_trail(args.file, key, allow_open=args.open))))
    return EXIT_OK


def cmd_audit_keygen(args: argparse.Namespace) -> int:
    _, text = AuditKey.generate()
    path = Path(args.path)
    try:
        created = create_private(path, (text + "\n").encode("ascii"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot write ({err.strerror or err})") from None
    if not created:
        raise ConfigError(f"{path} already exists; refusing to overwrite it")
    print(f"created {path} (mode 0600): point audit.key_file at it", file=sys.stderr)
    return EXIT_OK


def register(sub: Any) -> None:
    """Register ``policy`` and ``audit`` on the top-level subparsers."""
    policy = sub.add_parser("policy", help="explain or export the access policy")
    commands = policy.add_subparsers(dest="policy_command", required=True, metavar="COMMAND")
    p = add_command(
        commands,
        "explain",
        summary="say which rule decides a request",
        example=("secretwire policy explain alice get db/password",),
    )
    p.add_argument("principal", metavar="PRINCIPAL")
    p.add_argument("operation", metavar="OPERATION", choices=OPERATIONS)
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_policy_explain)
    p = add_command(
        commands,
        "export",
        summary="write the backend's policy (Vault HCL, AWS IAM)",
        example=(
            "secretwire policy export --vault --role app > app.hcl",
            "secretwire policy export --aws-iam --principal ci --account 123456789012",
        ),
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--vault", action="store_true", help="Vault / OpenBao HCL (KV v2)")
    target.add_argument("--aws-iam", action="store_true", help="an AWS IAM policy document")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--role", metavar="ROLE", help="one role's rules")
    who.add_argument("--principal", metavar="NAME", help="all the rules of a principal's roles")
    p.add_argument("--mount", metavar="PATH", help="Vault KV v2 mount (default: from settings)")
    p.add_argument("--region", metavar="REGION", help="AWS region in ARNs (default: * )")
    p.add_argument("--account", metavar="ID", help="AWS account in ARNs (default: *)")
    p.add_argument(
        "--allow-broader", action="store_true", help="write it even if the backend allows more"
    )
    p.set_defaults(func=cmd_policy_export)

    audit = sub.add_parser("audit", help="verify an audit trail, make its key")
    commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    p = add_command(
        commands,
        "verify",
        summary="check every record's MAC and link, and the seal",
        example=("secretwire audit verify audit.jsonl --key-file .secretwire/audit.key",),
    )
    p.add_argument("file", metavar="FILE")
    key = p.add_mutually_exclusive_group()
    key.add_argument("--key-file", metavar="PATH", help="the key (default: from settings)")
    key.add_argument("--key-env", metavar="VARIABLE", help="a variable holding the key")
    p.add_argument("--open", action="store_true", help="accept a trail still being written")
    p.set_defaults(func=cmd_audit_verify)
    p = add_command(
        commands,
        "keygen",
        summary="create a new audit key file (0600)",
        example=("secretwire audit keygen .secretwire/audit.key",),
    )
    p.add_argument("path", metavar="PATH")
    p.set_defaults(func=cmd_audit_keygen)
