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
the secretwire environment is ``settings.current_env`` lower-cased, so
``ENV_FOR_DYNACONF=production``, ``settings.setenv("production")`` and
``settings.from_env("production")`` switch the secret backend too. Without dynaconf
environments, secretwire's own selection applies (``SECRETWIRE_ENV``...).

Every reference in the loaded settings is fetched in one batch (each distinct secret
once, through the manager's cache). If any fails, :class:`SecretResolutionError`
(a :class:`~secretwire.ResolutionError` and a ``dynaconf.ValidationError``) lists
every failure with its key path and where the value came from; ``silent=True`` never
hides it. Resolved values are stored so dynaconf never parses them again (a value
that reads ``@int 5`` or ``${secret:x}`` stays that text). With ``masked=True``
they are :class:`~secretwire.SecretValue` objects; :func:`masked_dict` is a dump
that is safe to log in both modes. Requires ``pip install 'secretwire[dynaconf]'``.

Importing this module changes two things in dynaconf (see the end of the module),
both inert for settings without secrets: the ``@format`` / ``@jinja`` converters
keep a template that holds a reference from being evaluated before it is resolved,
and ``Validator.validate`` re-raises a failing validator's error with secret texts
masked.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import secrets as _random
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from secretwire import (
    MASK,
    ConfigError,
    ReferenceSyntaxError,
    ResolutionError,
    ResolutionFailure,
    SecretManager,
    SecretValue,
    Settings,
    Template,
    contains_reference,
    load_settings,
    parse,
)
from secretwire.adapters import require

require("dynaconf", "dynaconf")
_parse_conf = require("dynaconf.utils.parse_conf", "dynaconf")
# dynaconf ships no type information: its classes are Any to mypy.
_validator: Any = require("dynaconf.validator", "dynaconf")
_ValidationError: Any = _validator.ValidationError
_Lazy: Any = _parse_conf.Lazy
_ParseError: Any = _parse_conf.DynaconfParseError
_SourceMetadata: Any = require("dynaconf.loaders.base", "dynaconf").SourceMetadata


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


#: dynaconf before 3.2.2 stores a hook's result as defaults, which survive
#: ``setenv`` and are evaluated before the new environment loads.
_HOOKS_SUPPORTED = _version(metadata.version("dynaconf")) >= (3, 2, 2)

__all__ = [
    "LOADER",
    "SecretResolutionError",
    "SecretwireHook",
    "close_loader_managers",
    "load",
    "masked_dict",
]

#: This module's name, as it goes in ``LOADERS_FOR_DYNACONF``.
LOADER = __name__
_ENV_LOADER = "dynaconf.loaders.env_loader"
#: dynaconf settings keys the loader reads its options from.
_OPTION_FILE = "SECRETWIRE_SETTINGS_FOR_DYNACONF"
_OPTION_MASKED = "SECRETWIRE_MASKED_FOR_DYNACONF"
_NAME = "secretwire"
# Lazy templates whose text secretwire substitutes before dynaconf formats it.
_TEXT_FORMATTERS = ("format", "jinja")
_FORMAT_CLASH = (
    "${secret:...} inside an @format string clashes with str.format fields; "
    "write $<secret:...> there"
)


class _CastError(_ParseError, ValueError):  # type: ignore[misc]
    """A cast (``@int @format ...``) failed on a value holding a secret. A
    ``DynaconfParseError`` as dynaconf 3.3 raises, and a ``ValueError`` as 3.2 does;
    the message names the references, never the text."""


class SecretResolutionError(ResolutionError, _ValidationError):  # type: ignore[misc]
    """References in dynaconf settings could not be resolved.

    A :class:`~secretwire.ResolutionError` (``.failures``, ``.one_line()``) that is
    also a ``dynaconf.validator.ValidationError``, so code that catches dynaconf's
    validation errors at start-up catches missing secrets too. Each failure's
    location is the key path plus where the value came from (a settings file and
    dynaconf environment, or an environment variable). Never a value.
    """


def _as_written(value: str, **context: Any) -> str:
    return value


_WRITTEN = _parse_conf.BaseFormatter(_as_written, _NAME)


class _Resolved(_Lazy):  # type: ignore[misc]
    """A value secretwire produced, stored so dynaconf neither parses nor shows it.

    ``.value`` (what dynaconf's ``repr``, ``inspect`` and ``write`` use) is the text as
    written, references and all; the resolved text, held as a :class:`SecretValue`, is
    returned only when dynaconf evaluates the value on access.
    """

    def __init__(self, written: str, resolved: str, *, secret: bool) -> None:
        super().__init__(written, formatter=_WRITTEN)
        self._resolved = SecretValue(resolved)
        self.secret = secret
        if secret:
            _remember(self)

    def __call__(self, settings: Any, validator_object: Any = None) -> str:
        return self._resolved.reveal()

    def __repr__(self) -> str:
        return f"'@{_NAME} {self.value}'"

    def _dynaconf_encode(self) -> str:
        return str(self.value)

    def _secret_texts(self) -> tuple[str, ...]:
        return (self._resolved.reveal(),) if self.secret else ()


class _SecretTemplate(_Lazy):  # type: ignore[misc]
    """An ``@format`` / ``@jinja`` value with ``$<secret:...>`` references in it.

    On access each reference becomes a random marker, dynaconf's formatter renders the
    template, then each marker is replaced by its value in one pass, so a secret's
    text is never interpreted by the formatter (``{`` in a password is harmless) and
    never resolved again. ``.value`` stays the template as written.
    """

    def __init__(
        self,
        original: Any,
        template: Template,
        values: tuple[str, ...],
        *,
        masked: bool,
        location: str = "",
    ) -> None:
        super().__init__(original.value, formatter=original.formatter, casting=original.casting)
        self._template = template
        self._values = tuple(SecretValue(value) for value in values)
        self._masked = masked
        self.location = location
        _remember(self)

    def __call__(self, settings: Any, validator_object: Any = None) -> Any:
        if self.casting is None:
            return self._render(settings, masked=self._masked)
        cast, value = self._cast(settings)
        if cast:
            return value
        # No value in this frame: int()/float() and dynaconf's own cast errors quote the
        # rendered text, which holds the secret, so the cast ran in _cast, nothing chains.
        raise self.cast_error()

    def _render(self, settings: Any, *, masked: bool) -> Any:
        """The template rendered with the values in (a SecretValue if ``masked``)."""
        nonce = _random.token_hex(8)
        names = iter(f"SECRETWIRE{nonce}X{i}X" for i in range(len(self._values)))
        text = "".join(p if isinstance(p, str) else next(names) for p in self._template.parts)
        self.settings = settings
        # The formatter sees only the markers: its errors cannot quote a value.
        rendered = str(self.formatter(text, **self.context))
        if self._values:
            pattern = re.compile(f"SECRETWIRE{nonce}X([0-9]+)X")
            rendered = pattern.sub(lambda m: self._values[int(m.group(1))].reveal(), rendered)
        return SecretValue(rendered) if masked else rendered

    def _cast(self, settings: Any) -> tuple[bool, Any]:
        """(True, the cast value) or (False, None) when the cast fails."""
        rendered = self._render(settings, masked=False)
        try:
            return True, self.casting(rendered)
        except Exception:  # noqa: BLE001 - any cast error may quote the text it got
            return False, None

    def casts(self, settings: Any) -> bool:
        """Whether the cast succeeds on the text rendered against ``settings``."""
        return self._cast(settings)[0]

    def cast_error(self) -> _CastError:
        refs = ", ".join(ref.format() for ref in self._template.references)
        kind = getattr(self.formatter, "token", self.formatter)
        return _CastError(
            f"the cast of an @{kind} value holding {refs} failed on its rendered text "
            "(not shown: it holds a secret)"
        )

    def _secret_texts(self) -> tuple[str, ...]:
        return tuple(value.reveal() for value in self._values)


class _Unresolved(_Lazy):  # type: ignore[misc]
    """An ``@format`` / ``@jinja`` value whose text holds references, not resolved yet.

    dynaconf evaluates lazy values before secretwire runs: while it merges an
    environment variable into a table (``DYNACONF_DATABASE__HOST``), and (3.2) while
    it copies the settings for a post hook. A cast (``@int @format $<secret:port>``)
    would then run on the reference text and fail. Until the hook or the loader
    replaces it, evaluating this value gives the value itself, unchanged.
    """

    def __init__(self, original: Any) -> None:
        super().__init__(original.value, formatter=original.formatter, casting=original.casting)

    def __call__(self, settings: Any, validator_object: Any = None) -> Any:
        return self


#: Every value holding a secret that the adapter stored and is still alive: a failing
#: dynaconf Validator's message is scrubbed of their texts.
_live: weakref.WeakSet[_Resolved | _SecretTemplate] = weakref.WeakSet()
_live_lock = threading.Lock()


def _remember(value: _Resolved | _SecretTemplate) -> None:
    with _live_lock:
        _live.add(value)


def _live_secret_texts() -> list[str]:
    """The texts of the live secret values, longest first (plaintext: keep it local)."""
    with _live_lock:
        values = list(_live)
    texts = {text for value in values for text in value._secret_texts() if text}
    return sorted(texts, key=len, reverse=True)


# -- resolving the store ------------------------------------------------------------
_Path = tuple[str | int, ...]


class _Pending:
    """A string with references, waiting for the batch."""

    def __init__(self, probe: str, written: str, secret: bool) -> None:
        self.probe = probe
        self.written = written
        self.secret = secret


class _PendingTemplate:
    """A lazy template with references, waiting for the batch (one probe each)."""

    def __init__(
        self, original: Any, template: Template, probes: tuple[str, ...], location: str
    ) -> None:
        self.original = original
        self.template = template
        self.probes = probes
        self.location = location


class _Batch:
    """Walks dynaconf's store, collects every reference into one resolve call."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.probes: dict[str, str] = {}
        self.where: dict[str, str] = {}
        self.failures: list[ResolutionFailure] = []

    def _probe(self, text: str, location: str) -> str:
        probe = f"p{len(self.probes)}"
        self.probes[probe] = text
        self.where[probe] = location
        return probe

    def walk(self, node: Any, path: _Path) -> tuple[Any, bool]:
        """``node`` with references replaced by pending markers, and whether it changed."""
        if isinstance(node, str):
            if not contains_reference(node):
                return node, False
            try:
                secret = bool(parse(node).references)
            except ReferenceSyntaxError:
                secret = True  # reported by the resolver, with its location
            return _Pending(self._probe(node, self._location(path, node)), node, secret), True
        if isinstance(node, _Resolved | _SecretTemplate | SecretValue):
            return node, False  # already resolved (dynaconf ran the hook before)
        if getattr(node, "_dynaconf_lazy_format", False):
            return self._lazy(node, path)
        if isinstance(node, Mapping):
            items = dict.items(node) if isinstance(node, dict) else node.items()
            walked = {key: self.walk(value, (*path, str(key))) for key, value in items}
            if any(changed for _, changed in walked.values()):
                return {key: value for key, (value, _) in walked.items()}, True
            return node, False
        if isinstance(node, list | tuple):
            elements = list.__iter__(node) if isinstance(node, list) else iter(node)
            walked_list = [self.walk(value, (*path, i)) for i, value in enumerate(elements)]
            if any(changed for _, changed in walked_list):
                return [value for value, _ in walked_list], True
        return node, False

    def _lazy(self, node: Any, path: _Path) -> tuple[Any, bool]:
        text = getattr(node, "value", None)
        if not isinstance(text, str) or not contains_reference(text):
            return node, False
        kind = str(getattr(node.formatter, "token", node.formatter))
        location = f"{self._location(path, text)} (@{kind})"
        try:
            template = parse(text)
        except ReferenceSyntaxError as err:
            start = max(text.rfind("$", 0, err.position + 1), 0)
            self.failures.append(
                ResolutionFailure(location, text[start : start + 40], err.reason, err)
            )
            return node, False
        refs = template.references
        if not refs:
            return node, False
        if kind not in _TEXT_FORMATTERS:
            reason = f"references are resolved in @format and @jinja values, not in @{kind}"
            self.failures.append(
                ResolutionFailure(location, refs[0].format(), reason, ConfigError(reason))
            )
            return node, False
        if kind == "format":
            clashing = [ref for ref in refs if ref.style == "${"]
            if clashing:
                for ref in clashing:
                    error = ConfigError(_FORMAT_CLASH)
                    self.failures.append(
                        ResolutionFailure(location, ref.format(), _FORMAT_CLASH, error)
                    )
                return node, False
        probes = tuple(self._probe(ref.format(), location) for ref in refs)
        return _PendingTemplate(node, template, probes, location), True

    def materialize(self, node: Any, resolved: Mapping[str, Any], *, masked: bool) -> Any:
        """The value to store: pending markers replaced, every string protected."""
        if isinstance(node, _Pending):
            value = str(resolved[node.probe])
            if masked and node.secret:
                return SecretValue(value)
            return _Resolved(node.written, value, secret=node.secret)
        if isinstance(node, _PendingTemplate):
            values = tuple(str(resolved[p]) for p in node.probes)
            return _SecretTemplate(
                node.original, node.template, values, masked=masked, location=node.location
            )
        if isinstance(node, str) and node.startswith("@"):
            # dynaconf parses "@int 5"-like strings on set(); this one was parsed already.
            return _Resolved(node, node, secret=False)
        if isinstance(node, Mapping) and not getattr(node, "_dynaconf_lazy_format", False):
            items = dict.items(node) if isinstance(node, dict) else node.items()
            return {key: self.materialize(value, resolved, masked=masked) for key, value in items}
        if isinstance(node, list | tuple):
            elements = list.__iter__(node) if isinstance(node, list) else iter(node)
            return [self.materialize(value, resolved, masked=masked) for value in elements]
        return node

    # -- locations ------------------------------------------------------------------
    def _location(self, path: _Path, text: str) -> str:
        dotted = "".join(
            f"[{part}]" if isinstance(part, int) else (f".{part}" if i else part)
            for i, part in enumerate(path)
        )
        origin = self._origin(path, text)
        return f"{dotted} ({origin})" if origin else dotted

    def _origin(self, path: _Path, text: str) -> str | None:
        """Where dynaconf got ``text`` at ``path``: a file and environment, or a variable.

        The first source that recorded this text there (merges copy it forward)."""
        variable = _environment_variable(self.settings, path)
        if variable is not None:
            return f"environment variable {variable}"
        history = getattr(self.settings, "loaded_by_loaders", None) or {}
        for source, data in list(history.items()):
            loader = str(getattr(source, "loader", source))
            if loader.startswith(("env", "set_method", "setdefault", "validator", _NAME)):
                continue
            recorded = _lookup(data, path)
            if recorded is not None and _same_text(recorded, text):
                identifier = str(getattr(source, "identifier", "") or loader)
                env = str(getattr(source, "env", "") or "").lower()
                return f"{identifier} [{env}]" if env and env != "global" else identifier
        return None


def _same_text(recorded: Any, text: str) -> bool:
    """Whether a value in dynaconf's history is ``text`` (raw, or a parsed lazy value)."""
    if isinstance(recorded, str):
        return recorded == text or recorded.endswith(" " + text)
    return getattr(recorded, "value", None) == text


def _lookup(data: Any, path: _Path) -> Any:
    node = data
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return None
            node = list.__getitem__(node, part)
        else:
            if not isinstance(node, Mapping):
                return None
            match = [k for k in node if str(k).upper() == part.upper()]
            if not match:
                return None
            node = dict.__getitem__(node, match[0]) if isinstance(node, dict) else node[match[0]]
    return node


def _environment_variable(settings: Any, path: _Path) -> str | None:
    """The variable that set the value at ``path`` (``DYNACONF_DATABASE__password``)."""
    prefix = settings.get("ENVVAR_PREFIX_FOR_DYNACONF")
    if prefix is False:
        return None
    names = [p for p in path if isinstance(p, str)]
    upper_env = {k.upper(): k for k in os.environ}
    for n in range(len(names), 0, -1):
        key = "__".join(names[:n])
        candidate = f"{prefix}_{key}" if prefix else key
        name = upper_env.get(candidate.upper())
        if name is not None and contains_reference(os.environ[name]):
            return name
    return None


def _dynaconf_environment(settings: Any) -> str | None:
    """dynaconf's current environment lower-cased, or None without environments."""
    if not settings.get("ENVIRONMENTS_FOR_DYNACONF"):
        return None
    current = settings.current_env
    return str(current).lower() if current else None


_CAST_FAILED = "the cast failed on the rendered text (not shown: it holds a secret)"


def _cast_failures(settings: Any, updates: Mapping[str, Any]) -> list[ResolutionFailure]:
    """A failure for each cast template (``@int @format $<secret:port>``) whose cast
    fails on its value, found at load time: on access the error would be raised inside
    dynaconf, whose frames hold the settings, whose repr shows (plain) values."""
    templates = [
        node
        for node in _nodes(updates)
        if isinstance(node, _SecretTemplate) and node.casting is not None
    ]
    if not templates:
        return []
    view = settings.dynaconf_clone()  # rendered as on access: with the resolved values
    view.update(dict(updates), tomlfy=False, merge=False, validate=False)
    failures: list[ResolutionFailure] = []
    for template in templates:
        try:
            casts = template.casts(view)
        except Exception:  # noqa: BLE001, S112 - a formatting error: dynaconf's, on access
            continue
        if not casts:
            refs = ", ".join(ref.format() for ref in template._template.references)
            error = ConfigError(_CAST_FAILED)
            failures.append(ResolutionFailure(template.location, refs, _CAST_FAILED, error))
    return failures


def _nodes(node: Any) -> Iterator[Any]:
    """Every value in ``node`` (containers walked, lazy values not evaluated)."""
    if isinstance(node, Mapping) and not getattr(node, "_dynaconf_lazy_format", False):
        items = dict.items(node) if isinstance(node, dict) else node.items()
        for _, value in items:
            yield from _nodes(value)
    elif isinstance(node, list | tuple):
        for value in list.__iter__(node) if isinstance(node, list) else node:
            yield from _nodes(value)
    else:
        yield node


# -- the hook -----------------------------------------------------------------------
class SecretwireHook:
    """A dynaconf post hook: ``Dynaconf(..., post_hooks=[SecretwireHook()])``.

    dynaconf calls it with a copy of the settings after every loader has run (at
    start-up, ``setenv``, ``from_env``, ``reload`` and fresh reads); it returns the
    top-level keys whose values held references, with the references resolved.

    ``manager``: use this :class:`~secretwire.SecretManager` for every environment
    (the hook does not close it). Without it the hook loads ``settings_file`` (or
    finds ``secretwire.yaml`` from dynaconf's root path upwards, or
    ``$SECRETWIRE_CONFIG``) and builds one manager per secretwire environment, kept
    so repeated loads are served by its cache. ``environment`` pins the secretwire
    environment; by default it follows dynaconf's current environment (lower-cased)
    when dynaconf environments are enabled. ``masked=True`` stores resolved strings
    as :class:`~secretwire.SecretValue` (``.reveal()`` to read). Backend calls: one
    ``get_many`` batch per load, through the manager's cache.
    """

    def __init__(
        self,
        manager: SecretManager | None = None,
        *,
        settings_file: str | Path | None = None,
        environment: str | None = None,
        masked: bool = False,
    ) -> None:
        self._manager = manager
        self._settings_file = settings_file
        self._environment = environment
        self.masked = masked
        self._settings: Settings | None = None
        self._managers: dict[str, SecretManager] = {}
        self._lock = threading.Lock()
        self.__name__ = "secretwire_hook"  # dynaconf names hooks by their __name__

    def __call__(self, settings: Any = None) -> dict[str, Any]:
        if not _HOOKS_SUPPORTED:
            raise ConfigError(
                "SecretwireHook needs dynaconf >= 3.2.2 (older versions keep hook results "
                f"as defaults across environments); use the loader {LOADER!r} instead"
            )
        if settings is None:
            # dynaconf calls a hook again without arguments when the first call raised
            # TypeError; that error is chained to this one.
            raise TypeError("SecretwireHook must be called with the dynaconf settings")
        return self.resolve(settings)

    def resolve(
        self, settings: Any, *, key: str | None = None, environment: str | None = None
    ) -> dict[str, Any]:
        """The top-level keys of ``settings`` (only ``key`` if given) whose values held
        references, resolved. Raises :class:`SecretResolutionError` listing every
        failure."""
        batch = _Batch(settings)
        pending: dict[str, Any] = {}
        for top, raw in list(dict.items(settings.store)):
            if key is not None and str(top).upper() != key.upper():
                continue
            walked, changed = batch.walk(raw, (str(top),))
            if changed:
                pending[str(top)] = walked
        if not pending and not batch.failures:
            return {}
        env = environment or self._environment or _dynaconf_environment(settings)
        updates, failures = self._resolve_batch(settings, batch, pending, env)
        if failures:
            # Raised here, in a frame that holds no value: _resolve_batch has returned.
            failures.sort(key=lambda f: f.location)
            source = f"dynaconf settings (environment {env!r})" if env else "dynaconf settings"
            raise SecretResolutionError(failures, source=source)
        return updates

    def _resolve_batch(
        self, settings: Any, batch: _Batch, pending: dict[str, Any], env: str | None
    ) -> tuple[dict[str, Any], list[ResolutionFailure]]:
        """The updates (every value held by a wrapper that never shows it), or the
        failures. Plain values live only in this frame, which returns, never raises."""
        failures = list(batch.failures)
        resolved: Mapping[str, Any] = {}
        if batch.probes:
            manager = self.manager_for(settings, env)
            try:
                resolved = manager.resolve(batch.probes)
            except ResolutionError as err:
                failures += [
                    ResolutionFailure(
                        batch.where.get(f.location, f.location), f.reference, f.reason, f.error
                    )
                    for f in err.failures
                ]
        if failures:
            return {}, failures
        updates = {
            top: batch.materialize(value, resolved, masked=self.masked)
            for top, value in pending.items()
        }
        failures = _cast_failures(settings, updates)
        return ({}, failures) if failures else (updates, [])

    def manager_for(self, settings: Any, environment: str | None = None) -> SecretManager:
        """The manager that serves ``environment`` (built once, then reused)."""
        if self._manager is not None:
            return self._manager
        with self._lock:
            if self._settings is None:
                if self._settings_file is not None:
                    self._settings = load_settings(self._settings_file)
                else:
                    root = settings.get("ROOT_PATH_FOR_DYNACONF")
                    self._settings = load_settings(start=Path(root) if root else None)
            try:
                name = self._settings.select(environment)
            except ConfigError as err:
                if environment is None:
                    raise
                raise ConfigError(
                    f"dynaconf environment {environment!r} has no secretwire environment: "
                    f"{err.reason}",
                    source=err.source,
                    key=err.key,
                ) from None
            manager = self._managers.get(name)
            if manager is None:
                manager = self._managers[name] = SecretManager.from_settings(
                    self._settings, environment=name
                )
            return manager

    def close(self) -> None:
        """Close the managers this hook built (not one passed in)."""
        with self._lock:
            managers, self._managers = list(self._managers.values()), {}
        for manager in managers:
            manager.close()

    def __deepcopy__(self, memo: dict[int, Any]) -> SecretwireHook:
        return self  # dynaconf deep-copies settings; the managers are shared on purpose

    def __repr__(self) -> str:
        pinned = f" environment={self._environment!r}" if self._environment else ""
        return f"<SecretwireHook masked={self.masked}{pinned}>"


# -- the loader ---------------------------------------------------------------------
_loader_hooks: dict[tuple[str | None, bool], SecretwireHook] = {}
_loader_lock = threading.Lock()


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
    Backend calls: one ``get_many`` batch, through the manager's cache.
    """
    _check_loader_order(obj)
    path = obj.get(_OPTION_FILE)
    masked = obj.get(_OPTION_MASKED) in (True, "true", "True", "1", 1)
    cache_key = (str(path) if path else None, masked)
    with _loader_lock:
        hook = _loader_hooks.get(cache_key)
        if hook is None:
            hook = _loader_hooks[cache_key] = SecretwireHook(settings_file=path, masked=masked)
    environment = env.lower() if env and _dynaconf_environment(obj) else None
    updates = hook.resolve(obj, key=key, environment=environment)
    if updates:
        source = _SourceMetadata(_NAME, _NAME, (env or "global").lower())
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


def close_loader_managers() -> None:
    """Close the managers the loader built (tests, or before the process exits)."""
    with _loader_lock:
        hooks = list(_loader_hooks.values())
        _loader_hooks.clear()
    for hook in hooks:
        hook.close()


# -- a dump that is safe to log -----------------------------------------------------
_SettingsPath = tuple[str | int, ...]


def masked_dict(settings: Any) -> dict[str, Any]:
    """``settings.as_dict()`` with every value that came from a secret shown as
    :data:`~secretwire.MASK`; other lazy values (``@format``...) are shown as written,
    since their text could pull in a secret (``{this.DB_PASSWORD}``).

    A key is masked if it holds a value secretwire resolved, or if dynaconf's history
    (``loaded_by_loaders``) says secretwire put a secret there: a ``Validator`` writes
    the plain value it checked back into the settings."""
    public = set(settings.as_dict())
    secret = _secret_paths(settings)
    return {
        str(key): _masked(value, settings, (_part(key),), secret)
        for key, value in dict.items(settings.store)
        if key in public
    }


def _part(key: Any) -> str:
    return str(key).upper()


def _masked(node: Any, settings: Any, path: _SettingsPath, secret: set[_SettingsPath]) -> Any:
    if _holds_secret(node):
        return MASK
    if isinstance(node, _Resolved):
        return node(settings)
    if getattr(node, "_dynaconf_lazy_format", False):
        return f"@{getattr(node.formatter, 'token', node.formatter)} {node.value}"
    if isinstance(node, Mapping):
        items = dict.items(node) if isinstance(node, dict) else node.items()
        return {key: _masked(value, settings, (*path, _part(key)), secret) for key, value in items}
    if isinstance(node, list | tuple):
        elements = list.__iter__(node) if isinstance(node, list) else iter(node)
        return [_masked(value, settings, (*path, i), secret) for i, value in enumerate(elements)]
    return MASK if path in secret else node


def _holds_secret(node: Any) -> bool:
    if isinstance(node, _Resolved):
        return bool(node.secret)
    return isinstance(node, _SecretTemplate | SecretValue)


def _secret_paths(settings: Any) -> set[_SettingsPath]:
    """The key paths where dynaconf's history records a value secretwire resolved."""
    history = getattr(settings, "loaded_by_loaders", None) or {}
    paths: set[_SettingsPath] = set()
    for data in list(history.values()):
        _collect_secret_paths(data, (), paths)
    return paths


def _collect_secret_paths(node: Any, path: _SettingsPath, paths: set[_SettingsPath]) -> None:
    if _holds_secret(node):
        paths.add(path)
    elif isinstance(node, Mapping) and not getattr(node, "_dynaconf_lazy_format", False):
        items = dict.items(node) if isinstance(node, dict) else node.items()
        for key, value in items:
            _collect_secret_paths(value, (*path, _part(key)), paths)
    elif isinstance(node, list | tuple):
        elements = list.__iter__(node) if isinstance(node, list) else iter(node)
        for index, value in enumerate(elements):
            _collect_secret_paths(value, (*path, index), paths)


# -- what the adapter changes in dynaconf -------------------------------------------
# Installed once, on import; both leave settings that do not use secretwire alone.
#
# 1. The @format and @jinja converters: in settings that resolve with the hook or the
#    loader, a template holding a reference becomes an _Unresolved value, so dynaconf
#    evaluating it early (a merge, a hook's copy) cannot run its cast on the reference.
# 2. Validator.validate: a failing validator's message quotes the value it checked
#    ("... but it is <value>"); while the adapter holds secrets, the error is raised
#    again with every secret text replaced by the mask, without the frames of
#    dynaconf's validator (they hold the value) and without a chained context. And
#    the value a validator writes back is masked in dynaconf's history.

_TEMPLATE_CONVERTERS = ("@format", "@jinja")


def _uses_secretwire(settings: Any) -> bool:
    """Whether dynaconf ``settings`` resolve with :class:`SecretwireHook` or the loader."""
    get = getattr(settings, "get", None)
    if not callable(get):
        return False
    try:
        hooks = get("POST_HOOKS") or ()
        loaders = get("LOADERS_FOR_DYNACONF") or ()
    except (AttributeError, KeyError, TypeError, ValueError):
        return False
    hooks = hooks if isinstance(hooks, list | tuple) else (hooks,)
    loaders = loaders if isinstance(loaders, list | tuple) else (loaders,)
    return any(isinstance(hook, SecretwireHook) for hook in hooks) or any(
        str(loader) == LOADER for loader in loaders
    )


def _has_references(text: str) -> bool:
    if not contains_reference(text):
        return False
    try:
        return bool(parse(text).references)
    except ReferenceSyntaxError:
        return True  # reported by the hook or the loader, with its location


def _deferring(original: Callable[..., Any]) -> Callable[..., Any]:
    try:
        takes_settings = "box_settings" in inspect.signature(original).parameters
    except (TypeError, ValueError):
        takes_settings = False

    @functools.wraps(original)
    def convert(value: Any, box_settings: Any = None) -> Any:
        lazy = original(value, box_settings=box_settings) if takes_settings else original(value)
        if (
            type(lazy) is _Lazy
            and isinstance(lazy.value, str)
            and _has_references(lazy.value)
            and _uses_secretwire(box_settings)
        ):
            return _Unresolved(lazy)
        return lazy

    convert.__secretwire__ = True  # type: ignore[attr-defined]
    return convert


#: Texts shorter than this are not searched for inside other text (a message, a
#: rendered template): "on" or "1" cannot be told apart from the rest of it.
_SHORTEST_SEARCHED = 4


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:  # longest first
        if len(secret) < _SHORTEST_SEARCHED:
            continue
        for form in dict.fromkeys((secret, repr(secret)[1:-1], json.dumps(secret)[1:-1])):
            text = text.replace(form, MASK)
    return text


def _scrubbed(error: Any) -> Any:
    """A new ``ValidationError`` like ``error`` with every live secret text masked, or
    None when the adapter holds no secret. The texts stay in this frame."""
    secrets = _live_secret_texts()
    if not secrets:
        return None
    details = [
        tuple(_scrub(part, secrets) if isinstance(part, str) else part for part in detail)
        if isinstance(detail, tuple)
        else detail
        for detail in getattr(error, "details", None) or []
    ]
    return _ValidationError(_scrub(str(error), secrets), details=details)


def _mask_history(settings: Any) -> None:
    """Mask the secret texts in dynaconf's history of ``settings``: a validator writes
    the plain value it checked back with ``settings.set()``, which records it there
    (shown by ``inspect_settings``, and by the repr of the settings' internals in
    traceback frames). Each entry is replaced, never changed in place: its containers
    may be the settings' own."""
    history = getattr(settings, "loaded_by_loaders", None)
    if not isinstance(history, dict) or not history:
        return
    secrets = _live_secret_texts()
    if not secrets:
        return
    exact = frozenset(secrets)
    searched = [secret for secret in secrets if len(secret) >= _SHORTEST_SEARCHED]
    for source, data in list(history.items()):
        masked = _masked_leaves(data, exact, searched)
        if masked is not data:
            history[source] = masked


def _masked_leaves(node: Any, exact: frozenset[str], searched: list[str]) -> Any:
    """``node`` with every string that is, or holds, a secret text replaced by the mask
    (the same object when nothing changed; lazy values are left alone)."""
    if isinstance(node, str):
        return MASK if node in exact or any(secret in node for secret in searched) else node
    if getattr(node, "_dynaconf_lazy_format", False):
        return node
    if isinstance(node, Mapping):
        items = list(dict.items(node) if isinstance(node, dict) else node.items())
        masked = [(key, _masked_leaves(value, exact, searched)) for key, value in items]
        if all(new is old for (_, new), (_, old) in zip(masked, items, strict=True)):
            return node
        return dict(masked)
    if isinstance(node, list | tuple):
        elements = list(list.__iter__(node) if isinstance(node, list) else node)
        masked_list = [_masked_leaves(value, exact, searched) for value in elements]
        if all(new is old for new, old in zip(masked_list, elements, strict=True)):
            return node
        return masked_list
    return node


def _scrubbing(validate: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(validate)
    def validate_scrubbed(self: Any, settings: Any, *args: Any, **kwargs: Any) -> Any:
        fresh: Any = None
        try:
            return validate(self, settings, *args, **kwargs)
        except _ValidationError as error:
            if type(error) is not _ValidationError:
                raise  # ours (SecretResolutionError) or another kind: value-free
            fresh = _scrubbed(error)
            if fresh is None:
                raise
        finally:
            _mask_history(settings)
        raise fresh  # outside the except block: no context, no validator frames

    validate_scrubbed.__secretwire__ = True  # type: ignore[attr-defined]
    return validate_scrubbed


def _install() -> None:
    converters = _parse_conf.converters
    for token in _TEMPLATE_CONVERTERS:
        original = converters.get(token)
        if original is not None and not getattr(original, "__secretwire__", False):
            converters[token] = _deferring(original)
    validator = _validator.Validator
    if not getattr(validator.validate, "__secretwire__", False):
        validator.validate = _scrubbing(validator.validate)


_install()
