"""Optional dependencies: one import helper whose error names the extra to install."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

__all__ = ["require_extra"]


def require_extra(module: str, extra: str) -> ModuleType:
    """Import ``module``, an optional dependency that ``secretwire[extra]`` installs.

    A missing module raises an :class:`ImportError` that says what to install
    (``pip install 'secretwire[vault]'``), chained to the original for the details.
    Providers call it when they are first used, never at import time, so naming a
    provider or importing :mod:`secretwire` never needs its SDK.
    """
    try:
        return import_module(module)
    except ImportError as err:
        raise ImportError(
            f"{module} is not installed; install it with: pip install 'secretwire[{extra}]'"
        ) from err
