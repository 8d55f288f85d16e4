"""Public names that load on first use: what a package's ``__init__`` uses so that
importing it costs nothing until a name is used (``python -X importtime``).

A package lists its names by module::

    __getattr__, __dir__ = lazy_exports(__name__, {"cache": "SecretCache CacheStats"})

and imports the same names under ``if TYPE_CHECKING:`` for type checkers. The first
use of a name imports its module and keeps the name in the package's namespace, so
later uses are a plain attribute lookup.
"""

import sys

# Not typing.TYPE_CHECKING: importing typing costs more than this whole module
# (type checkers read any name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, table: "dict[str, str]"
) -> "tuple[Callable[[str], Any], Callable[[], list[str]]]":
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose public names are
    ``table``'s: a module (relative to ``package``) mapped to its names, one string
    separated by spaces."""
    where = {name: module for module, names in table.items() for name in names.split()}

    def __getattr__(name: str) -> "Any":  # noqa: N807 - the module hook's name
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        import importlib  # noqa: PLC0415 - only on a first use

        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # later uses find it directly
        return value

    def __dir__() -> "list[str]":  # noqa: N807 - the module hook's name
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
