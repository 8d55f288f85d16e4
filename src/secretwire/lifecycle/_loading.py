"""Loading what the settings name: an entry point of a group, or ``module:attribute``."""

from __future__ import annotations

import importlib
import re
from typing import Any

from ..errors import ConfigError

__all__ = ["IMPORT_PATH", "load_object"]

#: ``package.module:attribute.attribute``
IMPORT_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def load_object(reference: str, *, group: str, what: str, source: str | None, key: str) -> Any:
    """The object ``reference`` names: ``module:attribute`` is imported; any other
    text is the name of an entry point in ``group``. A :class:`ConfigError` naming
    ``key`` if there is none (the import error's type only: its text is not shown)."""
    if IMPORT_PATH.fullmatch(reference):
        module_name, _, attributes = reference.partition(":")
        problem = None
        try:
            found: Any = importlib.import_module(module_name)
            for attribute in attributes.split("."):
                found = getattr(found, attribute)
        except Exception as err:  # noqa: BLE001 - any failure to import is reported by type
            problem = f"cannot load {what} {reference!r} ({type(err).__name__})"
        if problem is not None:
            raise ConfigError(problem, source=source, key=key)
        return found
    from importlib.metadata import entry_points  # noqa: PLC0415 - ~10 ms, on first use

    matches = [point for point in entry_points(group=group) if point.name == reference]
    if not matches:
        raise ConfigError(
            f"unknown {what} {reference[:80]!r}: not built in, no entry point of that name in "
            f"group {group!r}, and not a module:attribute path",
            source=source,
            key=key,
        )
    problem = None
    try:
        return matches[0].load()
    except Exception as err:  # noqa: BLE001 - reported by type, as above
        problem = f"cannot load {what} {reference!r} from its entry point ({type(err).__name__})"
    raise ConfigError(problem, source=source, key=key)
