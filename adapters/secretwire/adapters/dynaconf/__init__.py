"""Resolve ``${secret:...}`` references in dynaconf settings.

Add a post hook (recommended: it runs after every loader, environment variables and
``INCLUDES_FOR_DYNACONF`` included)::

    from dynaconf import Dynaconf
    from secretwire.adapters.dynaconf import SecretwireHook

    settings = Dynaconf(
        settings_files=["settings.toml"],
        environments=True,
        post_hooks=[SecretwireHook()],
    )
    settings.DATABASE.password  # the secret's value

or the loader, placed after the environment variable loader::

    settings = Dynaconf(
        settings_files=["settings.toml"],
        environments=True,
        loaders=["dynaconf.loaders.env_loader", "secretwire.adapters.dynaconf"],
    )

The secretwire environment follows dynaconf's: with dynaconf environments enabled,
it is ``settings.current_env`` lower-cased. Every reference in the loaded settings is
fetched in one batch through secretwire's shared manager of that environment; if any
fails, :class:`SecretResolutionError` (a :class:`~secretwire.ResolutionError` and a
``dynaconf.ValidationError``) lists every failure with its key path and origin.
Resolved values are stored so dynaconf never parses them again; with ``masked=True``
they are :class:`~secretwire.SecretValue` objects; :func:`masked_dict` is a dump that
is safe to log. Importing this package changes nothing in dynaconf; :func:`install`
(called by the first ``SecretwireHook()`` and by the loader) wraps its ``@format`` /
``@jinja`` converters and ``Validator.validate`` for the process, acting only for
settings that use secretwire (docs/adapters/dynaconf.md, "What the adapter changes
in dynaconf"). Requires ``pip install 'secretwire[dynaconf]'``.
"""

from __future__ import annotations

from typing import Any

from secretwire import ConfigError, close_shared_managers
from secretwire.adapters import require

from ._guard import LOADER, install
from ._hook import HOOKS_SUPPORTED as _HOOKS_SUPPORTED  # noqa: F401 - tests skip on it
from ._hook import SecretResolutionError, SecretwireHook, dynaconf_environment
from ._values import NAME, masked_dict

__all__ = [
    "LOADER",
    "SecretResolutionError",
    "SecretwireHook",
    "close_loader_managers",
    "install",
    "load",
    "masked_dict",
]

_SourceMetadata: Any = require("dynaconf.loaders.base", "dynaconf").SourceMetadata
_ENV_LOADER = "dynaconf.loaders.env_loader"
#: dynaconf settings keys the loader reads its options from.
_OPTION_FILE = "SECRETWIRE_SETTINGS_FOR_DYNACONF"
_OPTION_MASKED = "SECRETWIRE_MASKED_FOR_DYNACONF"

#: Closes the managers the loader (and the hook) use: secretwire's shared managers.
#: The old name of :func:`secretwire.close_shared_managers`, kept for callers.
close_loader_managers = close_shared_managers


def load(
    obj: Any,
    env: str | None = None,
    silent: bool = True,
    key: str | None = None,
    filename: str | None = None,
) -> None:
    """dynaconf loader entry point (``LOADERS_FOR_DYNACONF``): resolve references in
    what the loaders before it loaded.

    Must come after ``dynaconf.loaders.env_loader`` (else values from environment
    variables would stay unresolved: that is an error). ``silent`` does not hide a
    failed reference. Options, as dynaconf settings: ``SECRETWIRE_SETTINGS_FOR_DYNACONF``
    (path of ``secretwire.yaml``) and ``SECRETWIRE_MASKED_FOR_DYNACONF`` (bool).
    Backend calls: one ``get_many`` batch, through the shared manager's cache.
    """
    _check_loader_order(obj)
    masked = obj.get(_OPTION_MASKED) in (True, "true", "True", "1", 1)
    hook = SecretwireHook(settings_file=obj.get(_OPTION_FILE), masked=masked)  # installs
    environment = env.lower() if env and dynaconf_environment(obj) else None
    updates = hook.resolve(obj, key=key, environment=environment)
    if updates:
        source = _SourceMetadata(NAME, NAME, (env or "global").lower())
        obj.update(updates, tomlfy=False, merge=False, loader_identifier=source)


def _check_loader_order(obj: Any) -> None:
    loaders = [str(loader) for loader in obj.get("LOADERS_FOR_DYNACONF") or ()]
    if LOADER in loaders and _ENV_LOADER in loaders[loaders.index(LOADER) :]:
        raise ConfigError(
            f"LOADERS_FOR_DYNACONF: put {LOADER!r} after {_ENV_LOADER!r}, or values from "
            "environment variables are not resolved"
        )
    if obj.get("INCLUDES_FOR_DYNACONF") or obj.get("DYNACONF_INCLUDE"):
        raise ConfigError(
            "INCLUDES_FOR_DYNACONF files load after every loader, so the secretwire loader "
            "cannot resolve them; use post_hooks=[SecretwireHook()] instead"
        )
