"""The access policy: roles of allow and deny rules, principals bound to roles.

In the settings file (``docs/rbac.md``)::

    policy:
      principal_variable: SECRETWIRE_PRINCIPAL   # optional (this is the default)
      roles:
        reader:
          allow:
            - operations: [get, list, versions]
              names: ["app/*"]
              environments: [production]         # optional: every environment
          deny:
            - operations: [get]
              names: ["app/admin/*"]
      bindings:
        alice: [reader]

Once a policy exists, everything it does not allow is denied; a deny beats an
allow (in any role of the principal). Every error names the file, the line and
the key.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .globs import GlobError, NameGlob, parse_glob

__all__ = [
    "OPERATIONS",
    "PRINCIPAL_VARIABLE",
    "Decision",
    "Policy",
    "Rule",
    "parse_policy",
    "resolve_principal",
]

#: Every operation a rule may name. ``rotate``, ``rollback``, ``run`` and ``export``
#: are checked by the code that performs them (``SecretManager.authorize``), in
#: addition to the reads and writes they make.
OPERATIONS = ("get", "list", "versions", "set", "delete", "rotate", "rollback", "run", "export")
#: The variable naming the principal unless the policy names another.
PRINCIPAL_VARIABLE = "SECRETWIRE_PRINCIPAL"

_POLICY_KEYS = {"roles", "bindings", "principal", "principal_variable"}
_ROLE_KEYS = {"allow", "deny"}
_RULE_KEYS = {"operations", "names", "environments"}


@dataclass(frozen=True, slots=True)
class Rule:
    """One allow or deny rule of a role."""

    role: str
    effect: str  # "allow" or "deny"
    index: int
    operations: frozenset[str]
    names: tuple[NameGlob, ...]
    environments: frozenset[str] | None
    line: int | None = None

    @property
    def where(self) -> str:
        """``roles.reader.deny[0]``: where the rule is in the policy."""
        return f"roles.{self.role}.{self.effect}[{self.index}]"

    def matches(self, operation: str, name: str, environment: str | None) -> bool:
        if operation not in self.operations:
            return False
        if self.environments is not None and environment not in self.environments:
            return False
        return any(glob.matches(name) for glob in self.names)

    def describe(self) -> str:
        ops = ", ".join(op for op in OPERATIONS if op in self.operations)
        names = ", ".join(glob.text for glob in self.names)
        envs = "" if self.environments is None else f" in {', '.join(sorted(self.environments))}"
        line = f", line {self.line}" if self.line is not None else ""
        return f"policy.{self.where} ({self.effect} {ops} on {names}{envs}{line})"


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether ``principal`` may do ``operation`` on ``name``, and which rule decided."""

    allowed: bool
    principal: str
    operation: str
    name: str
    environment: str | None
    rule: Rule | None
    reason: str

    def __str__(self) -> str:
        verdict = "allow" if self.allowed else "deny"
        return f"{verdict}: {self.principal} {self.operation} {self.name!r}: {self.reason}"


@dataclass(frozen=True)
class Policy:
    """A parsed policy. :meth:`decide` answers; it never raises for a request."""

    roles: Mapping[str, tuple[Rule, ...]]
    bindings: Mapping[str, tuple[str, ...]]
    source: str = "<policy>"
    principal: str | None = None
    principal_variable: str = PRINCIPAL_VARIABLE

    def rules_of(self, principal: str) -> tuple[Rule, ...]:
        """The principal's rules, denies first (so the first match decides)."""
        rules = [rule for role in self.bindings.get(principal, ()) for rule in self.roles[role]]
        return tuple(sorted(rules, key=lambda rule: rule.effect != "deny"))

    def decide(
        self, principal: str, operation: str, name: str, environment: str | None = None
    ) -> Decision:
        """The decision for one request: a matching deny, else a matching allow,
        else deny by default."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r} (one of: {', '.join(OPERATIONS)})")

        def decision(allowed: bool, rule: Rule | None, reason: str) -> Decision:
            return Decision(allowed, principal, operation, name, environment, rule, reason)

        if principal not in self.bindings:
            return decision(False, None, f"principal {principal!r} is bound to no role")
        for rule in self.rules_of(principal):
            if rule.matches(operation, name, environment):
                verb = "allowed" if rule.effect == "allow" else "denied"
                return decision(rule.effect == "allow", rule, f"{verb} by {rule.describe()}")
        roles = ", ".join(self.bindings[principal])
        return decision(False, None, f"no rule of role(s) {roles} allows it (deny by default)")

    def may_ever(
        self, principal: str, operation: str, prefix: str = "", environment: str | None = None
    ) -> bool:
        """Whether ``operation`` could be allowed to ``principal`` on some name starting
        with ``prefix``: some allow rule names it, and no deny rule covers them all."""
        rules = [
            rule
            for rule in self.rules_of(principal)
            if operation in rule.operations
            and (rule.environments is None or environment in rule.environments)
        ]
        under = _under(prefix)
        if under is not None and any(
            rule.effect == "deny" and any(glob.contains(under) for glob in rule.names)
            for rule in rules
        ):
            return False
        return any(rule.effect == "allow" for rule in rules)


def _under(prefix: str) -> NameGlob | None:
    try:
        return parse_glob(prefix + "*")
    except GlobError:
        return None  # a prefix with glob characters: no rule covers it whole


def resolve_principal(
    explicit: str | None = None,
    policy: Policy | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Who is asking, in this order: ``explicit`` (the ``principal=`` argument), the
    policy's ``principal``, the policy's variable (``SECRETWIRE_PRINCIPAL`` by
    default), the operating system user. Asserted, not authenticated (see
    ``docs/rbac.md``)."""
    if explicit:
        return explicit
    if policy is not None and policy.principal:
        return policy.principal
    environ = os.environ if environ is None else environ
    variable = policy.principal_variable if policy is not None else PRINCIPAL_VARIABLE
    if environ.get(variable):
        return environ[variable]
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user name for this uid (a container)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


# -- parsing -----------------------------------------------------------------------------


class _Parser:
    """Validates the ``policy:`` mapping; every error names the file, line and key."""

    def __init__(self, source: str, lines: Mapping[str, int], environments: Collection[str]):
        self.source = source
        self.lines = lines
        self.environments = environments

    def line(self, key: str) -> int | None:
        """The line of ``key`` or, for a mapping or list, of its first value."""
        if key in self.lines:
            return self.lines[key]
        starts = (key + ".", key + "[")
        inside = [line for where, line in self.lines.items() if where.startswith(starts)]
        return min(inside) if inside else None

    def error(self, message: str, key: str) -> ConfigError:
        return ConfigError(message, source=self.source, key=key, line=self.line(key))

    def mapping(self, value: Any, key: str, allowed: set[str] | None = None) -> Mapping[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.error(f"expected a mapping, got {type(value).__name__}", key)
        for item in value:
            if allowed is not None and item not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.error(f"unknown key (expected one of: {expected})", f"{key}.{item}")
        return value

    def strings(self, value: Any, key: str) -> list[str]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise self.error("expected a string or a non-empty list of strings", key)
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item:
                raise self.error("expected a non-empty string", f"{key}[{index}]")
        return items

    def rule(self, role: str, effect: str, index: int, raw: Any) -> Rule:
        key = f"policy.roles.{role}.{effect}[{index}]"
        spec = self.mapping(raw, key, _RULE_KEYS)
        for required in ("operations", "names"):
            if required not in spec:
                raise self.error(f"a rule needs {required}", key)
        operations: set[str] = set()
        for i, op in enumerate(self.strings(spec["operations"], f"{key}.operations")):
            if op == "*":
                operations.update(OPERATIONS)
            elif op in OPERATIONS:
                operations.add(op)
            else:
                raise self.error(
                    f"unknown operation {op!r} (one of: {', '.join(OPERATIONS)}, or '*')",
                    _item(f"{key}.operations", spec["operations"], i),
                )
        globs = []
        for i, text in enumerate(self.strings(spec["names"], f"{key}.names")):
            try:
                globs.append(parse_glob(text))
            except GlobError as err:
                raise self.error(str(err), _item(f"{key}.names", spec["names"], i)) from None
        environments = None
        if "environments" in spec:
            environments = frozenset(self.strings(spec["environments"], f"{key}.environments"))
            unknown = sorted(environments - set(self.environments))
            if unknown and self.environments:
                known = ", ".join(sorted(self.environments))
                raise self.error(
                    f"unknown environment {unknown[0]!r} (known: {known})",
                    f"{key}.environments",
                )
        return Rule(
            role, effect, index, frozenset(operations), tuple(globs), environments, self.line(key)
        )

    def role(self, name: Any, raw: Any) -> tuple[Rule, ...]:
        key = f"policy.roles.{name}"
        if not isinstance(name, str) or not name:
            raise self.error("a role name must be a non-empty string", key)
        spec = self.mapping(raw, key, _ROLE_KEYS)
        rules: list[Rule] = []
        for effect in ("allow", "deny"):
            items = spec.get(effect) or []
            if not isinstance(items, list):
                raise self.error("expected a list of rules", f"{key}.{effect}")
            rules.extend(self.rule(name, effect, i, item) for i, item in enumerate(items))
        return tuple(rules)

    def bindings(self, raw: Any, roles: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        bound = {}
        for principal, names in self.mapping(raw, "policy.bindings").items():
            key = f"policy.bindings.{principal}"
            if not isinstance(principal, str) or not principal:
                raise self.error("a principal must be a non-empty string", key)
            listed = self.strings(names, key)
            for i, role in enumerate(listed):
                if role not in roles:
                    known = ", ".join(sorted(roles)) or "none"
                    raise self.error(
                        f"unknown role {role!r} (roles: {known})", _item(key, names, i)
                    )
            bound[principal] = tuple(dict.fromkeys(listed))
        return bound


def _item(key: str, value: Any, index: int) -> str:
    """The key of the ``index``-th item of ``value`` (a list, or one string)."""
    return f"{key}[{index}]" if isinstance(value, list) else key


def parse_policy(
    data: Any,
    *,
    source: str = "<policy>",
    lines: Mapping[str, int] | None = None,
    environments: Iterable[str] = (),
) -> Policy | None:
    """The ``policy:`` value of a settings file as a :class:`Policy` (``None`` when
    absent). ``lines`` maps locations (``policy.roles.x.allow[0].names[1]``) to lines,
    ``environments`` are the settings' environment names."""
    if data is None:
        return None
    parser = _Parser(source, lines or {}, frozenset(environments))
    top = parser.mapping(data, "policy", _POLICY_KEYS)
    raw_roles = parser.mapping(top.get("roles"), "policy.roles")
    roles = {str(name): parser.role(name, raw) for name, raw in raw_roles.items()}
    bindings = parser.bindings(top.get("bindings"), roles)
    principal = top.get("principal")
    if principal is not None and (not isinstance(principal, str) or not principal):
        raise parser.error("expected a non-empty string", "policy.principal")
    variable = top.get("principal_variable", PRINCIPAL_VARIABLE)
    if not isinstance(variable, str) or not variable.isidentifier():
        raise parser.error("must be an environment variable name", "policy.principal_variable")
    return Policy(roles, bindings, source, principal, variable)
