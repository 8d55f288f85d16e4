"""Shared managers: one :class:`SecretManager` per settings file and environment.

Framework adapters (and applications that resolve configuration in several places)
ask for the manager of a settings file and environment many times; building one
each time would lose the cache and open a new backend session. :func:`shared_manager`
builds it on first use and hands the same one out after; :func:`close_shared_managers`
closes them all (at shutdown, or between tests). Both are thread-safe.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .manager import SecretManager
from .settings import Settings, load_settings

__all__ = ["close_shared_managers", "shared_manager"]

_lock = threading.Lock()
_managers: dict[tuple[str, str], SecretManager] = {}


def shared_manager(
    settings: str | Path | Settings | None = None, environment: str | None = None
) -> SecretManager:
    """The shared manager for ``environment`` of ``settings``.

    ``settings`` is a settings file, a loaded :class:`Settings` or ``None`` (found as
    :meth:`SecretManager.from_settings` finds it); ``environment`` is chosen as there
    too (explicit, else the selecting variable, else the default). Managers are kept
    per (settings file as an absolute path, chosen environment): asking with
    ``environment=None`` and with its explicit name gives the same manager. One that
    was closed is replaced by a new one. Close them with :func:`close_shared_managers`,
    not one by one.
    """
    loaded = settings if isinstance(settings, Settings) else load_settings(settings)
    name = loaded.select(environment)
    key = (str(Path(loaded.source).resolve()), name)
    with _lock:
        manager = _managers.get(key)
        if manager is None or manager.closed:
            # Built under the lock: two threads never build two managers for one key.
            manager = _managers[key] = SecretManager.from_settings(loaded, environment=name)
        return manager


def close_shared_managers() -> None:
    """Close every shared manager and forget them; the next :func:`shared_manager`
    call builds a new one. Safe to call at any time, any number of times."""
    with _lock:
        managers = list(_managers.values())
        _managers.clear()
    failed: list[Exception] = []
    for manager in managers:
        try:
            manager.close()
        except Exception as err:  # noqa: BLE001 - the others are closed all the same
            failed.append(err)
    if failed:
        raise failed[0]
