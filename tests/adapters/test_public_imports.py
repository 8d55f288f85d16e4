"""Adapters are thin: they may import only secretwire's curated public API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import secretwire

ADAPTERS = Path(__file__).resolve().parents[2] / "adapters" / "secretwire" / "adapters"
ALLOWED_MODULES = {"secretwire", "secretwire.adapters"}


def _adapter_modules() -> list[Path]:
    """Every module of every adapter: ``adapters/x.py`` or ``adapters/x/**.py``."""
    return sorted(p for p in ADAPTERS.rglob("*.py") if p != ADAPTERS / "__init__.py")


def _adapter_of(path: Path) -> str:
    """The adapter a module belongs to (``pydantic_settings`` for ``pydantic_settings/_x.py``)."""
    return path.relative_to(ADAPTERS).parts[0].removesuffix(".py")


def _secretwire_imports(path: Path, adapters: Path = ADAPTERS) -> list[tuple[int, str, str | None]]:
    """(line, module, imported name or None) for every import of a secretwire module.
    Relative imports are resolved against the module's package below ``adapters``
    (``secretwire/adapters``)."""
    found: list[tuple[int, str, str | None]] = []
    inside = path.parent.relative_to(adapters).parts if path.is_relative_to(adapters) else ()
    package = ["secretwire", "adapters", *inside]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend(
                (node.lineno, alias.name, None)
                for alias in node.names
                if alias.name.split(".")[0] == "secretwire"
            )
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = package[: len(package) - node.level + 1]
                module = ".".join([*parent, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module.split(".")[0] == "secretwire":
                found.extend((node.lineno, module, alias.name) for alias in node.names)
    return found


def test_there_are_adapters_to_check() -> None:
    names = {_adapter_of(p) for p in _adapter_modules()}
    assert {"pydantic_settings", "dynaconf", "omegaconf"} <= names


@pytest.mark.parametrize(
    "path", _adapter_modules(), ids=lambda p: str(p.relative_to(ADAPTERS).with_suffix(""))
)
def test_adapter_imports_only_public_names(path: Path) -> None:
    own = f"secretwire.adapters.{_adapter_of(path)}"
    for line, module, name in _secretwire_imports(path):
        where = f"{path.relative_to(ADAPTERS)}:{line}"
        if module.startswith(own + "."):  # the adapter's own package (adapters/x/_y.py)
            continue
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


def test_the_checker_resolves_relative_imports_in_an_adapter_package(tmp_path: Path) -> None:
    adapters = tmp_path / "secretwire" / "adapters"
    (adapters / "pkg").mkdir(parents=True)
    module = adapters / "pkg" / "_mod.py"
    module.write_text("from ._own import a\nfrom .. import require\nfrom ..other import b\n")
    assert [m for _, m, _ in _secretwire_imports(module, adapters)] == [
        "secretwire.adapters.pkg._own",
        "secretwire.adapters",
        "secretwire.adapters.other",  # another adapter's module: refused by the test above
    ]
