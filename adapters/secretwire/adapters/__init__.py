"""Thin adapters that plug secretwire into existing settings frameworks.

Each adapter module imports only names from :mod:`secretwire`'s public API, and
its framework lazily, so ``import secretwire.adapters`` costs nothing and needs no
framework installed. Install the matching extra to use one::

    pip install "secretwire[pydantic]"   # secretwire.adapters.pydantic_settings
    pip install "secretwire[dynaconf]"   # secretwire.adapters.dynaconf
    pip install "secretwire[omegaconf]"  # secretwire.adapters.omegaconf
"""

from __future__ import annotations

from types import ModuleType

from secretwire import require_extra

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that names the extra to install
    (:func:`secretwire.require_extra`)."""
    return require_extra(module, extra)
