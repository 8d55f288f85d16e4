"""`run` and `export --reveal` ask the policy for their own operation before they read
a value: a principal allowed to `get` but not to `run` or `export` gets nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secretwire import AccessDenied, SecretManager
from secretwire.governance import AuditKey, AuditTrail, FileSink, governance_layers, parse_policy
from secretwire.injection.template import template_variables
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY
from secretwire.transfer import export_text

KEY, _ = AuditKey.generate()


def governed(tmp_path: Path, operations: list[str]) -> SecretManager:
    policy = parse_policy(
        {
            "roles": {"app": {"allow": [{"operations": operations, "names": ["app/*"]}]}},
            "bindings": {"svc": ["app"]},
        }
    )
    trail = AuditTrail([FileSink(tmp_path / "audit.jsonl")], KEY)
    layers = governance_layers(policy, trail, principal="svc", environment="test")
    return SecretManager(MemoryProvider({"app/db": CANARY}), before_cache=layers)


def denials(tmp_path: Path) -> list[tuple[str, str]]:
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    return [(r["op"], r["name"]) for r in records if r.get("outcome") == "denied"]


def test_run_needs_the_run_operation_not_only_get(tmp_path: Path) -> None:
    template = tmp_path / "app.env"
    template.write_text("DB_PASSWORD=${secret:app/db}\n")
    with governed(tmp_path, ["get", "list"]) as manager:
        with pytest.raises(AccessDenied) as info:
            template_variables(manager, env_files=[template])
        assert CANARY not in str(info.value)
    assert denials(tmp_path) == [("run", "app/db")]
    with governed(tmp_path, ["get", "list", "run"]) as manager:
        (variable,) = template_variables(manager, env_files=[template])
        assert variable.value.reveal() == CANARY


def test_export_reveal_needs_the_export_operation(tmp_path: Path) -> None:
    with governed(tmp_path, ["get", "list"]) as manager:
        assert CANARY not in export_text(manager, "app/", "dotenv", reveal=False)
        with pytest.raises(AccessDenied):
            export_text(manager, "app/", "dotenv", reveal=True)
    assert ("export", "app/db") in denials(tmp_path)
    with governed(tmp_path, ["get", "list", "export"]) as manager:
        assert CANARY in export_text(manager, "app/", "dotenv", reveal=True)
