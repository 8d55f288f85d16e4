"""The L2 layer an environment's ``l2:`` settings ask for (``_build`` calls it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._extras import require_extra
from ..errors import ConfigError
from ..pipeline import Handler, LayerFactory
from ..values import SecretValue
from .config import L2Settings
from .crypto import load_key
from .layer import L2Layer
from .store import RedisStore

__all__ = ["l2_layers"]


def l2_layers(
    spec: L2Settings,
    strings: Mapping[str, Any],
    *,
    environment: str,
    base_dir: Path,
    source: str,
) -> list[LayerFactory]:
    """The layer factory for environment ``environment``'s ``l2`` settings, whose
    ``strings`` are resolved (``Settings.resolved``). The key is read now, so a
    missing or malformed one fails the build, naming its settings key; Redis is not
    contacted until the first read."""
    require_extra("redis", "redis")  # now rather than at the first read
    at = f"environments.{environment}.l2"
    key = load_key(
        key_file=spec.key_file,
        key_env=spec.key_env,
        key=strings.get("key"),
        base_dir=base_dir,
        source=source,
        at=at,
    )
    url = _text(strings["url"])
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            "must start with redis://, rediss:// or unix://", source=source, key=f"{at}.url"
        )
    store = RedisStore(
        url,
        username=_text(strings["username"]) if "username" in strings else None,
        password=strings.get("password"),
        timeout=spec.timeout,
        retry_after=spec.retry_after,
    )

    def factory(inner: Handler) -> Handler:
        return L2Layer(inner, store, key, environment, spec)

    return [factory]


def _text(value: Any) -> str:
    return value.reveal() if isinstance(value, SecretValue) else str(value)
