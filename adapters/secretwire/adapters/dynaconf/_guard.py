"""What the adapter changes in dynaconf, for the whole process, from its first use.

Importing the adapter changes nothing. :func:`install` (run by the first
``SecretwireHook()``, by every run of the loader, or by you) wraps two functions
that dynaconf looks up in module-level tables no settings object can override, so
the change cannot be scoped to one settings object. Each wrapper acts only for
settings that use secretwire (a ``SecretwireHook`` in ``POST_HOOKS``, or this
package in ``LOADERS_FOR_DYNACONF``); for any other settings it returns what
dynaconf's function returns and lets its errors through untouched.

1. ``dynaconf.utils.parse_conf.converters["@format"]`` and ``["@jinja"]``: a template
   whose text holds a reference becomes an :class:`Unresolved` value, so dynaconf
   evaluating it before secretwire resolves it never runs a cast on the reference.
2. ``dynaconf.validator.Validator.validate``: a failing validator's
   ``ValidationError`` (whose message quotes the value it checked) is raised again
   with every secret text the settings hold masked, from the wrapper (not from
   dynaconf's frames, which hold the value) and without a chained context; after each
   validation the secret texts a validator wrote back into dynaconf's history
   (``loaded_by_loaders``) are masked there.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from secretwire import (
    MASK,
    Redactor,
    ReferenceSyntaxError,
    contains_reference,
    parse,
    replace_at,
    walk_leaves,
)
from secretwire.adapters import require

from ._values import Lazy, Unresolved, plain, secret_texts

_parse_conf: Any = require("dynaconf.utils.parse_conf", "dynaconf")
_validator: Any = require("dynaconf.validator", "dynaconf")
_ValidationError: Any = _validator.ValidationError

#: This package's name, as it goes in ``LOADERS_FOR_DYNACONF``.
LOADER = __name__.rpartition(".")[0]
_lock = threading.Lock()


def install() -> None:
    """Wrap dynaconf's ``@format`` / ``@jinja`` converters and ``Validator.validate``
    for this process, once (see the module docstring for exactly what changes)."""
    with _lock:
        converters = _parse_conf.converters
        for name in ("@format", "@jinja"):
            if name in converters and not hasattr(converters[name], "__secretwire__"):
                converters[name] = _mark(_deferring(converters[name]))
        validator = _validator.Validator
        if not hasattr(validator.validate, "__secretwire__"):
            validator.validate = _mark(_scrubbing(validator.validate))


def _mark(wrapper: Callable[..., Any]) -> Callable[..., Any]:
    wrapper.__secretwire__ = True  # type: ignore[attr-defined]
    return wrapper


def uses_secretwire(settings: Any) -> bool:
    """Whether dynaconf ``settings`` resolve with a ``SecretwireHook`` or the loader."""
    try:
        hooks = settings.get("POST_HOOKS") or ()
        loaders = settings.get("LOADERS_FOR_DYNACONF") or ()
    except (AttributeError, KeyError, TypeError, ValueError):
        return False
    hooks = hooks if isinstance(hooks, list | tuple) else (hooks,)
    loaders = loaders if isinstance(loaders, list | tuple) else (loaders,)
    return any(getattr(hook, "resolves_secretwire", False) is True for hook in hooks) or any(
        str(loader) == LOADER for loader in loaders
    )


def _has_references(text: str) -> bool:
    try:
        return contains_reference(text) and bool(parse(text).references)
    except ReferenceSyntaxError:
        return True  # reported by the hook or the loader, with its location


def _deferring(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def convert(value: Any, box_settings: Any = None) -> Any:
        try:  # called as dynaconf's apply_converter calls a converter
            lazy = original(value, box_settings=box_settings)
        except TypeError:
            lazy = original(value)
        deferred = type(lazy) is Lazy and _has_references(str(lazy.value))
        return Unresolved(lazy) if deferred and uses_secretwire(box_settings) else lazy

    return convert


def _scrubbing(validate: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(validate)
    def validate_scrubbed(self: Any, settings: Any, *args: Any, **kwargs: Any) -> Any:
        if not uses_secretwire(settings):
            return validate(self, settings, *args, **kwargs)
        fresh: Any = None
        try:
            return validate(self, settings, *args, **kwargs)
        except _ValidationError as error:
            if type(error) is not _ValidationError:
                raise  # ours (SecretResolutionError) or another kind: value-free
            fresh = _scrubbed(error, settings)
            if fresh is None:
                raise
        finally:
            _mask_history(settings)
        raise fresh  # outside the except block: no context, no validator frames

    return validate_scrubbed


def _scrubbed(error: Any, settings: Any) -> Any:
    """A new ``ValidationError`` like ``error`` with every secret text of ``settings``
    masked, or None when they hold none. The texts stay in this frame."""
    secrets = secret_texts(settings)
    if not secrets:
        return None
    redactor = Redactor()
    for secret in secrets:
        redactor.add(secret)
    redact = redactor.redact
    details = [
        tuple(redact(part) if isinstance(part, str) else part for part in detail)
        if isinstance(detail, tuple)
        else detail
        for detail in getattr(error, "details", None) or []
    ]
    return _ValidationError(redact(str(error)), details=details)


def _mask_history(settings: Any) -> None:
    """Mask secret texts in dynaconf's history: a validator writes the plain value it
    checked back with ``settings.set()``, which records it there (``inspect_settings``
    shows it, and so does the repr of the settings' internals in traceback frames).
    Each entry is replaced, never changed in place: its containers may be the
    settings' own."""
    history = getattr(settings, "loaded_by_loaders", None)
    if not isinstance(history, dict) or not history:
        return
    secrets = secret_texts(settings)
    redactor = Redactor()
    for secret in secrets:
        redactor.add(secret)
    redact = redactor.redact
    for source, data in list(history.items()) if secrets else ():
        tree = plain(data)
        masks = {
            path: MASK
            for path, leaf in walk_leaves(tree)
            if isinstance(leaf, str) and redact(leaf) != leaf
        }
        if masks:
            history[source] = replace_at(tree, masks)
