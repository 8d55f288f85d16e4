"""The RBAC matrix: every operation x allowed, denied and unbound principals x cached
and uncached. 0 allowed-when-denied; every denial is in the (verified) audit trail.

``alice`` is allowed everything on ``app/*``; ``mallory`` has the same allow and a deny
of everything on ``app/*`` (deny beats allow); ``eve`` is bound to no role.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from secretwire import AccessDenied, ResolutionError, Secret, SecretManager
from secretwire.governance import (
    OPERATIONS,
    AuditKey,
    AuditTrail,
    FileSink,
    governance_layers,
    parse_policy,
    verify_trail,
)
from secretwire.pipeline import cache_key
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY

KEY, _ = AuditKey.generate()
POLICY = parse_policy(
    {
        "roles": {
            "granted": {"allow": [{"operations": ["*"], "names": ["app/*"]}]},
            "blocked": {
                "allow": [{"operations": ["*"], "names": ["app/*"]}],
                "deny": [{"operations": ["*"], "names": ["app/*"]}],
            },
        },
        "bindings": {"alice": ["granted"], "mallory": ["blocked"]},
    }
)
PRINCIPALS = {"alice": True, "mallory": False, "eve": False}
NAME = "app/db"


def _get(m: SecretManager) -> object:
    return m.get(NAME)


def _get_many(m: SecretManager) -> object:
    outcome = m.get_many([(NAME, None)])[(NAME, None)]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _resolve(m: SecretManager) -> object:
    try:
        return m.resolve({"password": "${secret:app/db}"})
    except ResolutionError as err:
        raise err.failures[0].error from None


#: How the matrix exercises each operation (the first three are the read paths of get).
ACTIONS: dict[str, tuple[str, Callable[[SecretManager], object]]] = {
    "get": ("get", _get),
    "get_many": ("get", _get_many),
    "resolve": ("get", _resolve),
    "list": ("list", lambda m: m.list("app/")),
    "versions": ("versions", lambda m: m.versions(NAME)),
    "set": ("set", lambda m: m.set(NAME, CANARY)),
    "delete": ("delete", lambda m: m.delete(NAME)),
    "rotate": ("rotate", lambda m: m.rotate(NAME)),
    "rollback": ("rollback", lambda m: m.rollback(NAME, "1")),
    # run and export are commands over the manager: they ask authorize() first.
    **{op: (op, lambda m, op=op: m.authorize(op, NAME)) for op in OPERATIONS[7:]},
}


@pytest.fixture
def trail_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


def manager(trail_path: Path, principal: str) -> tuple[SecretManager, MemoryProvider]:
    provider = MemoryProvider({NAME: CANARY, "app/other": "x"})
    trail = AuditTrail([FileSink(trail_path)], KEY)
    layers = governance_layers(POLICY, trail, principal=principal, environment="test")
    return SecretManager(provider, before_cache=layers), provider


def records(path: Path) -> Iterator[dict[str, Any]]:
    verify_trail(path, KEY)  # the trail itself is intact
    for line in path.read_text().splitlines():
        yield json.loads(line)


@pytest.mark.parametrize("cached", [False, True], ids=["uncached", "cached"])
@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("action", ACTIONS)
def test_matrix(trail_path: Path, action: str, principal: str, cached: bool) -> None:
    operation, perform = ACTIONS[action]
    m, provider = manager(trail_path, principal)
    if cached:  # the value sits in this manager's cache, loaded by an earlier caller
        assert m._cache is not None
        m._cache.get_or_load(cache_key(NAME, None), lambda: provider.get(NAME))
    calls = dict(provider.calls)
    try:
        result: object = perform(m)
        refused = None
    except AccessDenied as err:
        result, refused = None, err
    m.close()
    assert OPERATIONS[5:7] == ("rotate", "rollback")
    if PRINCIPALS[principal]:
        assert refused is None, f"{principal} was refused {action}"
        return
    # denied: nothing served, nothing reached the backend, the refusal is audited
    assert refused is not None, f"ALLOWED WHEN DENIED: {principal} {action} (cached={cached})"
    assert result is None and not isinstance(result, Secret)
    assert CANARY not in str(refused)
    assert "secretwire policy" in str(refused)
    assert dict(provider.calls) == calls
    subject = "app/" if operation == "list" else NAME
    denials = [
        r
        for r in records(trail_path)
        if r.get("outcome") == "denied" and r["op"] == operation and r["name"] == subject
    ]
    assert [r["principal"] for r in denials] == [principal]


def test_cached_value_is_served_to_the_allowed_principal_from_the_cache(trail_path: Path) -> None:
    m, provider = manager(trail_path, "alice")
    assert m.get(NAME).reveal() == CANARY
    assert m.get(NAME).reveal() == CANARY
    m.close()
    assert provider.calls["get"] == 1
    hits = [r["cache"] for r in records(trail_path) if r.get("op") == "get"]
    assert hits == [False, True]


def test_a_batch_serves_allowed_keys_and_refuses_the_others(trail_path: Path) -> None:
    provider = MemoryProvider({"app/a": "1", "ops/b": "2"})
    trail = AuditTrail([FileSink(trail_path)], KEY)
    layers = governance_layers(POLICY, trail, principal="alice", environment="test")
    with SecretManager(provider, before_cache=layers) as m:
        results = m.get_many([("app/a", None), ("ops/b", None)])
    assert isinstance(results[("app/a", None)], Secret)
    assert isinstance(results[("ops/b", None)], AccessDenied)
    assert provider.calls["get"] == 1
    outcomes = {(r["name"], r["outcome"]) for r in records(trail_path) if r.get("op") == "get"}
    assert outcomes == {("app/a", "ok"), ("ops/b", "denied")}


def test_list_shows_only_names_the_principal_may_list(trail_path: Path) -> None:
    provider = MemoryProvider({"app/a": "1", "app/b": "2", "ops/c": "3"})
    trail = AuditTrail([FileSink(trail_path)], KEY)
    layers = governance_layers(POLICY, trail, principal="alice", environment="test")
    with SecretManager(provider, before_cache=layers) as m:
        assert m.list() == ["app/a", "app/b"]
        assert m.list("app/") == ["app/a", "app/b"]
    lists = [(r["name"], r["outcome"]) for r in records(trail_path) if r.get("op") == "list"]
    assert lists == [("", "ok"), ("", "denied"), ("app/", "ok")]  # ops/c withheld: one record


def test_a_principal_without_rotate_cannot_run_a_rotation_step_however_it_is_reached(
    trail_path: Path,
) -> None:
    # get and set are allowed, rotate is not: neither manager.rotate nor the
    # pipeline's rotation steps (annotate, stage, promote, unstage) get through.
    policy = parse_policy(
        {
            "roles": {
                "writer": {
                    "allow": [{"operations": ["get", "set", "versions"], "names": ["app/*"]}]
                }
            },
            "bindings": {"bob": ["writer"]},
        }
    )
    provider = MemoryProvider({NAME: CANARY})
    trail = AuditTrail([FileSink(trail_path)], KEY)
    layers = governance_layers(policy, trail, principal="bob", environment="test")
    with SecretManager(provider, before_cache=layers) as m:
        with pytest.raises(AccessDenied):
            m.rotate(NAME)
        with pytest.raises(AccessDenied):
            m._pipeline.annotate(NAME, "1", {"k": "v"})
        with pytest.raises(AccessDenied):
            m._pipeline.promote(NAME, "1")
        assert m.versions(NAME)[0].version == "1"  # nothing was written
    ops = {(r["op"], r["outcome"]) for r in records(trail_path) if r.get("op")}
    assert ("rotate", "denied") in ops
