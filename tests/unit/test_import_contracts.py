"""The import layering holds: import-linter's contracts in pyproject.toml, run as CI
runs them (scripts/lint_imports.py, which lets it see the adapters portion too)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from secretwire.configfile import parse_toml

ROOT = Path(__file__).resolve().parents[2]


def contracts() -> dict[str, dict[str, object]]:
    config = parse_toml((ROOT / "pyproject.toml").read_text(encoding="utf-8"), "pyproject.toml")
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_every_contract_is_kept() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/lint_imports.py", "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.stdout
    assert "secretwire.adapters" not in result.stderr  # the adapters were found and checked


def test_the_contracts_are_the_ones_the_design_asks_for() -> None:
    found = contracts()
    assert {c["type"] for c in found.values()} == {
        "layers",
        "forbidden",
        "independence",
        "acyclic_siblings",
    }
    assert found["stack"]["exhaustive"] is True
    layers = found["stack"]["layers"]
    assert layers.index("security") == layers.index("providers") + 1  # type: ignore[attr-defined]
    assert found["adapters"]["forbidden_modules"] == ["secretwire.*"]
    assert set(found["providers"]["forbidden_modules"]) >= {  # type: ignore[arg-type]
        "secretwire.pipeline",
        "secretwire.manager",
        "secretwire.settings",
        "secretwire.shared",
        "secretwire.cli",
        "secretwire.resolver",
    }
    # No exceptions: no provider imports the pipeline (the one fan-out lives there).
    ignored = [i for c in found.values() for i in c.get("ignore_imports", [])]  # type: ignore[attr-defined]
    assert ignored == []
