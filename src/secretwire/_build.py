"""The one place that turns settings into pipeline layers (``SecretManager.from_settings``).

Each feature that is a layer adds one line here; the order, top to bottom, is
authorize (RBAC) -> audit -> cache -> fallback/breaker -> provider.
"""

from __future__ import annotations

from .pipeline import LayerFactory
from .settings import Settings

__all__ = ["settings_layers"]


def settings_layers(
    settings: Settings, environment: str, *, principal: str | None = None
) -> tuple[list[LayerFactory], list[LayerFactory]]:
    """``(before_cache, after_cache)`` layer factories the settings ask for,
    outermost first, for ``environment``."""
    before: list[LayerFactory] = []
    after: list[LayerFactory] = []
    before += settings.governance.layers(environment, principal=principal)  # RBAC, audit
    return before, after
