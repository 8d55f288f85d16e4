"""Client-side RBAC: the pipeline layer that refuses what the policy does not allow.

:class:`AuthorizeLayer` is the outermost layer (``authorize -> audit -> cache``): a
cached value is never served to a principal the policy does not allow to ``get``
it, one read or a batch. A refusal is :class:`~secretwire.AccessDenied` (for a batch,
that key's outcome), and is recorded in the audit trail when there is one.

``rotate``, ``rollback``, ``run`` and ``export`` are checked by the code that
performs them, through :meth:`SecretManager.authorize` (which travels down the
pipeline to this layer) or :func:`authorize` for a principal of your choice.
This is defence in depth: the principal is asserted by the process, not
authenticated, so the backend's own policy is the boundary (``docs/rbac.md``).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence

from ..errors import AccessDenied
from ..pipeline import Handler, Key, Layer, Results
from ..types import Secret, SecretVersion, Write
from .audit import AuditTrail, make_entry
from .policy import Decision, Policy

__all__ = ["AuthorizeLayer", "Authorizer", "authorize"]

_MEMO_LIMIT = 65536


def refusal(decision: Decision, provider: str | None = None) -> AccessDenied:
    """The error for a refused request: names the principal and the deciding rule."""
    return AccessDenied(
        operation=decision.operation,
        name=decision.name,
        provider=provider,
        detail=f"the secretwire policy refuses principal {decision.principal!r}: {decision.reason}",
    )


def authorize(
    policy: Policy,
    principal: str,
    operation: str,
    name: str,
    *,
    environment: str | None = None,
) -> Decision:
    """The decision for one request; :class:`AccessDenied` if it is a refusal. Not
    audited: inside a manager, call :meth:`SecretManager.authorize`, which is."""
    decision = policy.decide(principal, operation, name, environment)
    if not decision.allowed:
        raise refusal(decision)
    return decision


class Authorizer:
    """One principal's view of a policy in one environment, with decisions memoized
    (a decision costs a dict lookup after the first) and refusals audited."""

    def __init__(
        self, policy: Policy, principal: str, environment: str | None, *, trail: AuditTrail | None
    ) -> None:
        self.policy, self.principal, self.environment, self.trail = (
            policy, principal, environment, trail,
        )  # fmt: skip
        self._memo: dict[tuple[str, str, str], Decision] = {}

    def decide(self, operation: str, name: str, principal: str | None = None) -> Decision:
        key = (principal or self.principal, operation, name)
        decision = self._memo.get(key)
        if decision is None:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            decision = self._memo[key] = self.policy.decide(*key, self.environment)
        return decision

    def rule(self, operation: str, name: str) -> str | None:
        """The rule that allowed a request (for the audit record); ``None`` when none
        did (a ``list`` whose prefix itself is not allowed, but some names under it)."""
        decision = self.decide(operation, name)
        return decision.rule.where if decision.allowed and decision.rule else None

    def refuse(self, decision: Decision, provider: str | None) -> AccessDenied:
        """Record the refusal in the trail, then return the error to raise."""
        rule = decision.rule.where if decision.rule else None
        self.record_denial(decision.operation, decision.name, decision.principal, rule)
        return refusal(decision, provider)

    def record_denial(
        self, operation: str, name: str, principal: str | None = None, rule: str | None = None
    ) -> None:
        """A ``denied`` record in the trail (when there is one)."""
        if self.trail is not None:
            who = principal or self.principal
            entry = make_entry(
                self.trail, who, self.environment, operation, name, "denied", rule=rule
            )
            self.trail.record([entry])

    def check(self, operation: str, name: str, provider: str | None = None) -> None:
        decision = self.decide(operation, name)
        if not decision.allowed:
            raise self.refuse(decision, provider)


class AuthorizeLayer(Layer):
    """Refuses what the :class:`Authorizer` refuses, before anything below runs."""

    def __init__(self, inner: Handler, authorizer: Authorizer) -> None:
        super().__init__(inner)
        self.authorizer = authorizer

    def get(self, name: str, *, version: str | None = None) -> Secret:
        self.authorizer.check("get", name, self.provider_name)
        return self.inner.get(name, version=version)

    def get_many(self, keys: Sequence[Key]) -> Results:
        refused: Results = {}
        allowed = []
        for key in keys:
            decision = self.authorizer.decide("get", key[0])
            if decision.allowed:
                allowed.append(key)
            else:
                refused[key] = self.authorizer.refuse(decision, self.provider_name)
        results = self.inner.get_many(allowed) if allowed else {}
        results.update(refused)
        return results

    def set(self, write: Write) -> SecretVersion:
        self.authorizer.check("set", write.name, self.provider_name)
        return self.inner.set(write)

    def delete(self, name: str) -> None:
        self.authorizer.check("delete", name, self.provider_name)
        self.inner.delete(name)

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        self.authorizer.check("versions", name, self.provider_name)
        return self.inner.versions(name)

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Only the names the principal may ``list``: refused outright when no rule
        allows it to list anything, or a deny covers every name under ``prefix``;
        names withheld make one ``denied`` record (for the prefix), not one each."""
        authorizer = self.authorizer
        who, env = authorizer.principal, authorizer.environment
        if not authorizer.policy.may_ever(who, "list", prefix, env):
            raise authorizer.refuse(authorizer.decide("list", prefix), self.provider_name)
        names = self.inner.list(prefix)
        shown = [name for name in names if authorizer.decide("list", name).allowed]
        if len(shown) < len(names):
            authorizer.record_denial("list", prefix)
        return shown

    # The rotation steps (docs/rotation.md) are the ``rotate`` operation: a principal
    # without it cannot annotate, stage, promote or unstage a version, whatever way in.
    def annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        self.authorizer.check("rotate", name, self.provider_name)
        self.inner.annotate(name, version, metadata)

    def stage(self, write: Write, token: str) -> SecretVersion:
        self.authorizer.check("rotate", write.name, self.provider_name)
        return self.inner.stage(write, token)

    def promote(self, name: str, version: str) -> SecretVersion:
        self.authorizer.check("rotate", name, self.provider_name)
        return self.inner.promote(name, version)

    def unstage(self, name: str, version: str) -> None:
        self.authorizer.check("rotate", name, self.provider_name)
        self.inner.unstage(name, version)

    def authorize(self, operation: str, name: str, *, principal: str | None = None) -> None:
        decision = self.authorizer.decide(operation, name, principal)
        if not decision.allowed:
            raise self.authorizer.refuse(decision, self.provider_name)
        self.inner.authorize(operation, name, principal=principal)
