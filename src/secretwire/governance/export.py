"""The backend's own policy from the same rules: Vault HCL, an AWS IAM policy document.

The client-side check is defence in depth; the backend's policy is the boundary.
:func:`export_vault` and :func:`export_iam` translate the rules of one role (or of
one principal: all its roles) for one environment, then check the translation:
for names drawn from every glob of the rules (each ``+`` and ``*`` filled in
several ways) and every operation, they evaluate the exported policy as the
backend does (Vault: the most specific path wins, ``deny`` empties it; IAM: an
explicit deny beats any allow) and compare with the client's decision. Where the
backend would allow more, the export is refused unless ``allow_broader`` (the
differences are listed); where it would allow less, a note says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import ConfigError
from .globs import NameGlob, parse_glob
from .policy import OPERATIONS, Policy, Rule

__all__ = ["Export", "export_iam", "export_vault"]

#: KV v2: what each operation needs, as (sub-path, capabilities), from the vault
#: provider's calls (docs/providers/vault.md).
VAULT_NEEDS: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {
    "get": (("data", frozenset({"read"})),),
    "list": (("metadata", frozenset({"list"})),),
    "versions": (("metadata", frozenset({"read"})),),
    "set": (("data", frozenset({"create", "update"})),),
    "delete": (("data", frozenset({"delete"})), ("metadata", frozenset({"read"}))),
    "rotate": (("data", frozenset({"create", "update"})),),
    "rollback": (("data", frozenset({"read", "create", "update"})),),
    "run": (("data", frozenset({"read"})),),
    "export": (("data", frozenset({"read"})),),
}
#: Granted with the needs above, never required: custom metadata on ``set``.
VAULT_EXTRA = {"set": (("metadata", frozenset({"create", "update"})),)}
_VAULT_ORDER = ("create", "read", "update", "patch", "delete", "list", "deny")

#: The operations a backend tells apart. ``rotate``, ``rollback``, ``run`` and
#: ``export`` are secretwire's own: at the backend they are the reads and writes they
#: make (what a rule allowing them grants there), so only the client tells them apart.
BACKEND_OPERATIONS = ("get", "list", "versions", "set", "delete")

#: AWS Secrets Manager actions each operation calls (docs/providers/aws.md).
IAM_NEEDS: dict[str, tuple[str, ...]] = {
    "get": ("GetSecretValue",),
    "list": ("ListSecrets",),
    "versions": ("ListSecretVersionIds",),
    "set": ("PutSecretValue", "CreateSecret"),
    "delete": ("DeleteSecret",),
    "rotate": ("PutSecretValue", "CreateSecret"),
    "rollback": ("GetSecretValue", "PutSecretValue"),
    "run": ("GetSecretValue",),
    "export": ("GetSecretValue",),
}
IAM_EXTRA = {"set": ("TagResource", "UpdateSecret"), "delete": ("DescribeSecret",)}
#: Actions AWS authorizes on ``*`` only (no resource-level permission).
IAM_GLOBAL = {"ListSecrets", "BatchGetSecretValue"}
_SAMPLE_SUFFIX = "-AbCdEf"  # AWS appends six random characters to a secret's ARN


@dataclass(frozen=True)
class Difference:
    operation: str
    name: str
    client: bool

    def __str__(self) -> str:
        backend = "allows" if not self.client else "refuses"
        client = "refuses" if not self.client else "allows"
        return f"{self.operation} {self.name!r}: the backend {backend} what the client {client}"


@dataclass(frozen=True)
class Export:
    """An exported policy: ``text`` (HCL or JSON) and what the check found."""

    text: str
    broader: tuple[Difference, ...] = ()
    narrower: tuple[Difference, ...] = ()
    notes: tuple[str, ...] = field(default=())


def _subject(policy: Policy, role: str | None, principal: str | None) -> tuple[str, Policy]:
    """The principal whose decisions the export reproduces (a role alone is its own
    principal), and the policy to ask."""
    if role is not None:
        if role not in policy.roles:
            known = ", ".join(sorted(policy.roles)) or "none"
            raise ConfigError(f"unknown role {role!r} (roles: {known})", source=policy.source)
        only = Policy({role: policy.roles[role]}, {role: (role,)}, policy.source)
        return role, only
    if principal is None:
        if len(policy.roles) != 1:
            raise ConfigError("say which: --role ROLE or --principal NAME", source=policy.source)
        return _subject(policy, next(iter(policy.roles)), None)
    return principal, policy


def _rules(policy: Policy, who: str, environment: str | None) -> list[Rule]:
    return [
        rule
        for rule in policy.rules_of(who)
        if rule.environments is None or environment in rule.environments
    ]


def _probes(rules: Iterable[Rule]) -> list[str]:
    globs = [glob for rule in rules for glob in rule.names]
    literals = {seg for glob in globs for seg in glob.segments if seg != "+"}
    literals |= {glob.tail + "x" for glob in globs if glob.tail}
    fillers = ("x", "x/y", *sorted(literals))
    names = {name for glob in globs for name in glob.probes(fillers)}
    return sorted((names | {"x", "x/y"}) - {""})  # and names no glob matches


def _compare(
    policy: Policy,
    who: str,
    environment: str | None,
    rules: list[Rule],
    backend: Callable[[str, str], bool],
    operations: Iterable[str] = BACKEND_OPERATIONS,
) -> tuple[tuple[Difference, ...], tuple[Difference, ...]]:
    broader: list[Difference] = []
    narrower: list[Difference] = []
    for name in _probes(rules):
        for op in operations:
            client = policy.decide(who, op, name, environment).allowed
            if backend(op, name) != client:
                (narrower if client else broader).append(Difference(op, name, client))
    return tuple(broader), tuple(narrower)


# -- Vault -------------------------------------------------------------------------------


def _glob_caps(rules: list[Rule], glob: NameGlob) -> dict[str, set[str]]:
    """Capabilities for the names ``glob`` matches, per sub-path: those of every
    operation an allow rule grants on all of them and no deny rule takes back."""
    caps: dict[str, set[str]] = {"data": set(), "metadata": set()}
    for op in OPERATIONS:

        def covering(effect: str, op: str = op) -> bool:
            return any(
                rule.effect == effect
                and op in rule.operations
                and any(g.contains(glob) for g in rule.names)
                for rule in rules
            )

        if covering("allow") and not covering("deny"):
            for sub, needs in (*VAULT_NEEDS[op], *VAULT_EXTRA.get(op, ())):
                caps[sub] |= needs
    return caps


def export_vault(
    policy: Policy,
    *,
    environment: str | None = None,
    role: str | None = None,
    principal: str | None = None,
    mount: str = "secret",
) -> Export:
    """Vault / OpenBao HCL for a KV v2 ``mount``: a ``path`` block per glob of the
    rules (``+`` and a trailing ``*`` are Vault's own), ``deny`` where nothing is
    allowed."""
    who, asked = _subject(policy, role, principal)
    rules = _rules(asked, who, environment)
    mount = mount.strip("/")
    blocks: dict[str, set[str]] = {}
    for glob in sorted({g for rule in rules for g in rule.names}, key=lambda g: g.text):
        for sub, caps in _glob_caps(rules, glob).items():
            blocks[f"{mount}/{sub}/{glob.text}"] = caps or {"deny"}
    header = f"# secretwire policy for {'role' if role or not principal else 'principal'} {who!r}"
    lines = [header + (f" in environment {environment!r}" if environment else "")]
    for path, caps in blocks.items():
        ordered = ", ".join(f'"{cap}"' for cap in _VAULT_ORDER if cap in caps)
        lines.append(f"path {json.dumps(path)} {{\n  capabilities = [{ordered}]\n}}")

    def backend(op: str, name: str) -> bool:
        return all(
            needs <= _vault_caps(blocks, f"{mount}/{sub}/{name}") for sub, needs in VAULT_NEEDS[op]
        )

    broader, narrower = _compare(asked, who, environment, rules, backend)
    return Export("\n".join(lines) + "\n", broader, narrower)


def _vault_caps(blocks: dict[str, set[str]], path: str) -> set[str]:
    """The capabilities Vault grants on ``path``: those of the exact block, else of
    the highest-priority matching glob (Vault's documented order); ``deny`` is none."""
    if path in blocks and "+" not in path and not path.endswith("*"):
        chosen = path
    else:
        matching = [p for p in blocks if parse_glob(p).matches(path)]
        if not matching:
            return set()
        chosen = max(matching, key=_vault_priority)
    caps = blocks[chosen]
    return set() if "deny" in caps else caps


def _vault_priority(pattern: str) -> tuple[int, int, int, int, str]:
    """Higher is preferred: a later first wildcard, no trailing ``*``, fewer ``+``
    segments, longer, then lexicographically greater."""
    wildcards = [i for i, ch in enumerate(pattern) if ch == "*"]
    wildcards += [m.start() for m in re.finditer(r"(?:^|/)\+(?:/|$)", pattern)]
    first = min(wildcards) if wildcards else len(pattern)
    plus = len(re.findall(r"(?:^|/)\+(?=/|$)", pattern))
    return first, not pattern.endswith("*"), -plus, len(pattern), pattern


# -- AWS IAM -----------------------------------------------------------------------------


def _arn(glob: NameGlob, region: str, account: str) -> str:
    """The resource ARN of a glob: ``+`` becomes ``*`` (IAM cannot say "one segment"),
    an exact name gets ``-??????`` for the random suffix AWS appends."""
    text = "/".join("*" if seg == "+" else seg for seg in glob.segments)
    if glob.tail is not None:
        text += ("/" if glob.segments else "") + glob.tail + "*"
    else:
        text += "-??????"
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{text}"


def _statement(
    sid: str, effect: str, actions: Iterable[str], resources: list[str]
) -> dict[str, object]:
    return {
        "Sid": re.sub(r"[^A-Za-z0-9]", "", sid)[:100],
        "Effect": effect,
        "Action": sorted(f"secretsmanager:{action}" for action in set(actions)),
        "Resource": resources if len(resources) > 1 else resources[0],
    }


def export_iam(
    policy: Policy,
    *,
    environment: str | None = None,
    role: str | None = None,
    principal: str | None = None,
    region: str = "*",
    account: str = "*",
) -> Export:
    """An IAM policy document: a statement per rule (``Allow`` or ``Deny`` on the
    ARNs of its globs); ``ListSecrets`` and ``BatchGetSecretValue``, which IAM
    authorizes on ``*`` only, in a statement of their own."""
    who, asked = _subject(policy, role, principal)
    rules = _rules(asked, who, environment)
    statements = []
    global_actions: set[str] = set()
    for rule in rules:
        actions = {a for op in rule.operations for a in (*IAM_NEEDS[op], *IAM_EXTRA.get(op, ()))}
        if rule.effect == "allow" and actions & {"GetSecretValue"}:
            global_actions.add("BatchGetSecretValue")
        global_actions |= actions & IAM_GLOBAL if rule.effect == "allow" else set()
        scoped = actions - IAM_GLOBAL
        if scoped:
            arns = [_arn(glob, region, account) for glob in rule.names]
            effect = "Allow" if rule.effect == "allow" else "Deny"
            sid = f"{rule.role}{rule.effect}{rule.index}"
            statements.append(_statement(sid, effect, scoped, arns))
    if global_actions:
        statements.append(_statement("secretwireGlobal", "Allow", global_actions, ["*"]))
    document = {"Version": "2012-10-17", "Statement": statements}

    def backend(op: str, name: str) -> bool:
        arn = _arn_of(name, region, account)
        return all(
            _iam_allows(statements, f"secretsmanager:{a}", "*" if a in IAM_GLOBAL else arn)
            for a in IAM_NEEDS[op]
        )

    broader, narrower = _compare(asked, who, environment, rules, backend)
    notes: tuple[str, ...] = ()
    if any(d.operation == "list" for d in broader):
        notes = (
            "IAM cannot scope ListSecrets: the backend lists every name; the client shows "
            "only those the policy allows",
        )
        broader = tuple(d for d in broader if d.operation != "list")
    return Export(json.dumps(document, indent=2) + "\n", broader, narrower, notes)


def _arn_of(name: str, region: str, account: str) -> str:
    region = "us-east-1" if region == "*" else region
    account = "123456789012" if account == "*" else account
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}{_SAMPLE_SUFFIX}"


def _iam_match(pattern: str, value: str) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _iam_allows(statements: list[dict[str, object]], action: str, resource: str) -> bool:
    """IAM's evaluation for one action: an explicit deny wins, else an allow, else no."""
    allowed = False
    for statement in statements:
        actions = statement["Action"]
        resources = statement["Resource"]
        listed = resources if isinstance(resources, list) else [resources]
        if action not in (actions if isinstance(actions, list) else [actions]):
            continue
        if not any(_iam_match(str(pattern), resource) for pattern in listed):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed
