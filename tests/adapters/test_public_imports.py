"""Adapters are thin: they may import only secretwire's curated public API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import secretwire

ADAPTERS = Path(__file__).resolve().parents[2] / "adapters" / "secretwire" / "adapters"
ALLOWED_MODULES = {"secretwire", "secretwire.adapters"}


def _adapter_modules() -> list[Path]:
    """Every module of every adapter (a module, or a package of modules)."""
    return sorted(p for p in ADAPTERS.rglob("*.py") if p != ADAPTERS / "__init__.py")


def _adapter_of(path: Path) -> str:
    """``secretwire.adapters.<adapter>``: the adapter a module belongs to."""
    return f"secretwire.adapters.{path.relative_to(ADAPTERS).parts[0].removesuffix('.py')}"


def _package_of(path: Path) -> str:
    parts = path.relative_to(ADAPTERS).parent.parts
    return ".".join(("secretwire", "adapters", *parts))


def _secretwire_imports(path: Path, text: str | None = None) -> list[tuple[int, str, str | None]]:
    """(line, module, imported name or None) for every import of a secretwire module."""
    found: list[tuple[int, str, str | None]] = []
    source = path.read_text() if text is None else text
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend(
                (node.lineno, alias.name, None)
                for alias in node.names
                if alias.name.split(".")[0] == "secretwire"
            )
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(path).split(".")
                base = ".".join(package[: len(package) - node.level + 1])
                module = base + ("." + node.module if node.module else "")
            else:
                module = node.module or ""
            if module.split(".")[0] == "secretwire":
                found.extend((node.lineno, module, alias.name) for alias in node.names)
    return found


def test_there_are_adapters_to_check() -> None:
    names = {_adapter_of(p).rpartition(".")[2] for p in _adapter_modules()}
    assert {"pydantic_settings", "dynaconf", "omegaconf"} <= names


@pytest.mark.parametrize(
    "path", _adapter_modules(), ids=lambda p: str(p.relative_to(ADAPTERS).with_suffix(""))
)
def test_adapter_imports_only_public_names(path: Path) -> None:
    own = _adapter_of(path)
    for line, module, name in _secretwire_imports(path):
        where = f"{path.name}:{line}"
        if module == own or module.startswith(own + "."):
            continue  # a module of the same adapter package
        assert module in ALLOWED_MODULES, f"{where} imports internal module {module}"
        if module == "secretwire":
            assert name is not None, f"{where}: use `from secretwire import ...`"
            assert name in secretwire.__all__, f"{where} imports non-public {name}"
        else:
            assert name == "require", f"{where} imports {name} from secretwire.adapters"


def test_the_checker_catches_an_internal_import() -> None:
    bad = ADAPTERS / "demo" / "_bad.py"  # parsed, never written
    text = (
        "from secretwire.resolver import Resolver\nimport secretwire.errors\n"
        "from .. import require\nfrom ._ok import x\nfrom ..omegaconf import y\n"
    )
    assert [m for _, m, _ in _secretwire_imports(bad, text)] == [
        "secretwire.resolver",
        "secretwire.errors",
        "secretwire.adapters",
        "secretwire.adapters.demo._ok",
        "secretwire.adapters.omegaconf",
    ]
    assert _adapter_of(bad) == "secretwire.adapters.demo"
