"""Adapters are thin: they may import only secretwire's curated public API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import secretwire

ADAPTERS = Path(__file__).resolve().parents[2] / "adapters" / "secretwire" / "adapters"
ALLOWED_MODULES = {"secretwire", "secretwire.adapters"}


def _adapter_modules() -> list[Path]:
    return sorted(p for p in ADAPTERS.glob("*.py") if p.name != "__init__.py")


def _secretwire_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, imported name or None) for every import of a secretwire module."""
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend(
                (node.lineno, alias.name, None)
                for alias in node.names
                if alias.name.split(".")[0] == "secretwire"
            )
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                module = "secretwire.adapters" + ("." + node.module if node.module else "")
            else:
                module = node.module or ""
            if module.split(".")[0] == "secretwire":
                found.extend((node.lineno, module, alias.name) for alias in node.names)
    return found


def test_there_are_adapters_to_check() -> None:
    names = {p.stem for p in _adapter_modules()}
    assert {"pydantic_settings", "dynaconf", "omegaconf"} <= names


@pytest.mark.parametrize("path", _adapter_modules(), ids=lambda p: p.stem)
def test_adapter_imports_only_public_names(path: Path) -> None:
    for line, module, name in _secretwire_imports(path):
        where = f"{path.name}:{line}"
        assert module in ALLOWED_MODULES, f"{where} imports internal module {module}"
        if module == "secretwire":
            assert name is not None, f"{where}: use `from secretwire import ...`"
            assert name in secretwire.__all__, f"{where} imports non-public {name}"
        else:
            assert name == "require", f"{where} imports {name} from secretwire.adapters"


def test_the_checker_catches_an_internal_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from secretwire.resolver import Resolver\nimport secretwire.errors\n")
    assert [m for _, m, _ in _secretwire_imports(bad)] == [
        "secretwire.resolver",
        "secretwire.errors",
    ]
