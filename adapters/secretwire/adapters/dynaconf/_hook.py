"""The post hook: the references in dynaconf's store, resolved in one batch.

Each string holding references, and each reference of an ``@format`` / ``@jinja``
template, is a site (:class:`_Site`, at its :data:`~secretwire.TreePath`);
:meth:`~secretwire.SecretManager.resolve_texts` resolves them together and reports
failures by site, labelled with the key path and where dynaconf got the text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from secretwire import (
    ConfigError,
    ReferenceSyntaxError,
    ResolutionError,
    ResolutionFailure,
    ResolvedText,
    SecretManager,
    SecretValue,
    Settings,
    SiteFailure,
    Template,
    TreePath,
    auto_log_masking,
    close_shared_managers,
    contains_reference,
    format_location,
    load_settings,
    parse,
    replace_at,
    shared_manager,
    walk_leaves,
)
from secretwire.adapters import require

from ._guard import LOADER, install
from ._values import NAME, Resolved, SecretTemplate, history, is_lazy, plain, token, upper

_ValidationError: Any = require("dynaconf.validator", "dynaconf").ValidationError

#: dynaconf before 3.2.2 stores a hook's result as defaults, which survive
#: ``setenv`` and are evaluated before the new environment loads.
HOOKS_SUPPORTED = tuple(
    int(part) for part in re.findall(r"\d+", metadata.version("dynaconf"))[:3]
) >= (3, 2, 2)
_FORMAT_CLASH = (
    "${secret:...} inside an @format string clashes with str.format fields; "
    "write $<secret:...> there"
)
_CAST_FAILED = "the cast failed on the rendered text (not shown: it holds a secret)"


class SecretResolutionError(ResolutionError, _ValidationError):  # type: ignore[misc]
    """References in dynaconf settings could not be resolved.

    A :class:`~secretwire.ResolutionError` (``.failures``, ``.one_line()``) that is
    also a ``dynaconf.validator.ValidationError``, so code that catches dynaconf's
    validation errors at start-up catches missing secrets too. Each failure's
    location is the key path plus where the value came from (a settings file and
    dynaconf environment, or an environment variable). Never a value.
    """


class SecretwireHook:
    """A dynaconf post hook: ``Dynaconf(..., post_hooks=[SecretwireHook()])``.

    dynaconf calls it with a copy of the settings after every loader has run (at
    start-up, ``setenv``, ``from_env``, ``reload`` and fresh reads); it returns the
    top-level keys whose values held references, with the references resolved.

    ``manager``: use this :class:`~secretwire.SecretManager` for every environment
    (the hook does not close it). Without it the hook loads ``settings_file`` (or
    finds ``secretwire.yaml`` from dynaconf's root path upwards, or
    ``$SECRETWIRE_CONFIG``) and uses :func:`~secretwire.shared_manager` of the
    secretwire environment. ``environment`` pins that environment; by default it
    follows dynaconf's current environment (lower-cased) when dynaconf environments
    are enabled. ``masked=True`` stores resolved strings as
    :class:`~secretwire.SecretValue`. Creating a hook calls :func:`install`.
    Backend calls: one ``get_many`` batch per load, through the manager's cache.
    """

    #: How the adapter's dynaconf wrappers recognise settings that use secretwire.
    resolves_secretwire = True

    def __init__(
        self,
        manager: SecretManager | None = None,
        *,
        settings_file: str | Path | None = None,
        environment: str | None = None,
        masked: bool = False,
    ) -> None:
        install()
        auto_log_masking()  # served values masked in logs (SECRETWIRE_MASK_LOGS=0: off)
        self._manager = manager
        self._settings_file = settings_file
        self._environment = environment
        self.masked = masked
        self._settings: Settings | None = None
        self.__name__ = "secretwire_hook"  # dynaconf names hooks by their __name__

    def __call__(self, settings: Any = None) -> dict[str, Any]:
        if not HOOKS_SUPPORTED:
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
        load = _Load(settings, key)
        if not load.texts and not load.failures:
            return {}
        env = environment or self._environment or dynaconf_environment(settings)
        updates, failures = load.run(lambda: self.manager_for(settings, env), self.masked)
        if failures:
            failures.sort(key=lambda failure: failure.location)
            source = f"dynaconf settings (environment {env!r})" if env else "dynaconf settings"
            raise SecretResolutionError(failures, source=source)
        return updates

    def manager_for(self, settings: Any, environment: str | None = None) -> SecretManager:
        """The manager that serves ``environment``: the one given, else the shared one."""
        if self._manager is not None:
            return self._manager
        if self._settings is None:
            root = settings.get("ROOT_PATH_FOR_DYNACONF")
            start = Path(root) if root else None
            self._settings = load_settings(self._settings_file, start=start)
        try:
            name = self._settings.select(environment)
        except ConfigError as err:
            if environment is None:
                raise
            message = f"dynaconf environment {environment!r} has no secretwire environment"
            raise ConfigError(f"{message}: {err.reason}", source=err.source, key=err.key) from None
        return shared_manager(self._settings, name)

    def close(self) -> None:
        """:func:`~secretwire.close_shared_managers`, unless a manager was passed in
        (the shared managers serve every hook, the loader and other adapters; the next
        load builds new ones)."""
        if self._manager is None:
            close_shared_managers()

    def __deepcopy__(self, memo: dict[int, Any]) -> SecretwireHook:
        return self  # dynaconf deep-copies settings; the hook has no per-copy state

    def __repr__(self) -> str:
        pinned = f" environment={self._environment!r}" if self._environment else ""
        return f"<SecretwireHook masked={self.masked}{pinned}>"


def dynaconf_environment(settings: Any) -> str | None:
    """dynaconf's current environment lower-cased, or None without environments."""
    if not settings.get("ENVIRONMENTS_FOR_DYNACONF"):
        return None
    current = settings.current_env
    return str(current).lower() if current else None


@dataclass(frozen=True)
class _Site:
    """A string at ``path`` (``ref`` None), or the ``ref``-th reference of the
    template at ``path``."""

    path: TreePath
    ref: int | None = None


class _Load:
    """One load: the sites in dynaconf's store (top-level ``key`` only, if given),
    then :meth:`run` resolves them and builds the values to store."""

    def __init__(self, settings: Any, key: str | None) -> None:
        self.settings = settings
        self.tree = {
            top: plain(value)
            for top, value in dict.items(settings.store)
            if key is None or str(top).upper() == key.upper()
        }
        self.texts: dict[_Site, str] = {}
        self.labels: dict[_Site, str] = {}
        self.templates: dict[TreePath, tuple[Any, Template, str]] = {}
        self.failures: list[ResolutionFailure] = []
        self._tokens: dict[TreePath, str] = {}  # "@int 5"-like texts dynaconf parsed once
        self._origins = _Origins(settings)
        for path, leaf in walk_leaves(self.tree):
            if isinstance(leaf, str) and contains_reference(leaf):
                self._add(_Site(path), leaf, self._origins.label(path, leaf))
            elif isinstance(leaf, str) and leaf.startswith("@"):
                self._tokens[path] = leaf
            elif is_lazy(leaf) and not isinstance(leaf, Resolved | SecretTemplate):
                self._template(path, leaf)

    def _add(self, site: _Site, text: str, label: str) -> None:
        self.texts[site] = text
        self.labels[site] = label

    def _template(self, path: TreePath, lazy: Any) -> None:
        text, kind = lazy.value, token(lazy)
        if not isinstance(text, str) or not contains_reference(text):
            return
        label = f"{self._origins.label(path, text)} (@{kind})"
        try:
            template = parse(text)
        except ReferenceSyntaxError:
            self._add(_Site(path), text, label)  # the batch reports it
            return
        refs = template.references
        clashing = [ref for ref in refs if ref.style == "${" and kind == "format"]
        if refs and kind not in ("format", "jinja"):
            reason = f"references are resolved in @format and @jinja values, not in @{kind}"
            self._fail(path, label, refs[0].format(), reason)
        for ref in clashing:
            self._fail(path, label, ref.format(), _FORMAT_CLASH)
        if refs and kind in ("format", "jinja") and not clashing:
            self.templates[path] = (lazy, template, label)
            for index, ref in enumerate(refs):
                self._add(_Site(path, index), ref.format(), label)

    def _fail(self, path: TreePath, label: str, reference: str, reason: str) -> None:
        error = ConfigError(reason)
        self.failures.append(SiteFailure(label, reference, reason, error, _Site(path)))

    def run(
        self, manager: Callable[[], SecretManager], masked: bool
    ) -> tuple[dict[str, Any], list[ResolutionFailure]]:
        """The updates (each value held by a wrapper that never shows it), or the
        failures: every failed reference, else every cast that fails."""
        failures = list(self.failures)
        resolved: dict[_Site, ResolvedText] = {}
        try:
            resolved = manager().resolve_texts(self.texts, where=self.labels) if self.texts else {}
        except ResolutionError as err:
            failures += err.failures
        if failures:
            return {}, failures
        replacements: dict[TreePath, Any] = {
            site.path: _stored(self.texts[site], text, masked)
            for site, text in resolved.items()
            if site.ref is None
        }
        casts: list[tuple[TreePath, SecretTemplate]] = []
        for path, (lazy, template, label) in self.templates.items():
            values = tuple(
                _secret(resolved[_Site(path, i)]) for i in range(len(template.references))
            )
            replacements[path] = SecretTemplate(lazy, template, values, label, masked=masked)
            if lazy.casting is not None:
                casts.append((path, replacements[path]))
        tops = {path[0] for path in replacements}
        for path, written in self._tokens.items():
            if path[0] in tops:  # dynaconf would parse it again on update
                replacements[path] = Resolved(written, written, secret=False)
        updates = replace_at({top: self.tree[top] for top in tops}, replacements)
        failures = _cast_failures(self.settings, updates, casts)
        return ({}, failures) if failures else (updates, [])


def _secret(text: ResolvedText) -> SecretValue:
    return SecretValue(text.value) if isinstance(text.value, str) else text.value


def _stored(written: str, text: ResolvedText, masked: bool) -> Any:
    """A SecretValue in masked mode when the text held secret references (a default
    may have applied), else a :class:`Resolved` that dynaconf never parses again."""
    secret = bool(text.provenance)
    return _secret(text) if masked and secret else Resolved(written, text.value, secret=secret)


def _cast_failures(
    settings: Any, updates: dict[str, Any], templates: list[tuple[TreePath, SecretTemplate]]
) -> list[ResolutionFailure]:
    """A failure for each template (``@int @format $<secret:port>``) whose cast fails,
    found at load time: on access the error would be raised inside dynaconf, whose
    frames hold the settings, whose repr shows plain values."""
    if not templates:
        return []
    view = settings.dynaconf_clone()  # rendered as on access: with the resolved values
    view.update(dict(updates), tomlfy=False, merge=False, validate=False)
    failures: list[ResolutionFailure] = []
    for path, template in templates:
        try:
            ok, _ = template.cast(view)
        except Exception:  # noqa: BLE001, S112 - a formatting error: dynaconf's, on access
            continue
        if not ok:
            error, refs = ConfigError(_CAST_FAILED), template.references()
            failures.append(SiteFailure(template.location, refs, _CAST_FAILED, error, _Site(path)))
    return failures


class _Origins:
    """Where dynaconf got the text at a path: an environment variable, or the first
    source in its history that recorded that text there (merges copy it forward)."""

    _SKIPPED = ("env", "set_method", "setdefault", "validator", NAME)

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self._history: list[tuple[Any, dict[TreePath, Any]]] | None = None

    def label(self, path: TreePath, text: str) -> str:
        """The key path, with its origin when known."""
        origin = self._variable(path) or self._source(path, text)
        return f"{format_location(path)} ({origin})" if origin else format_location(path)

    def _variable(self, path: TreePath) -> str | None:
        """The variable that set the value at ``path`` (``DYNACONF_DATABASE__password``)."""
        prefix = self.settings.get("ENVVAR_PREFIX_FOR_DYNACONF")
        if prefix is False:
            return None
        names = [part for part in path if isinstance(part, str)]
        variables = {name.upper(): name for name in os.environ}
        for n in range(len(names), 0, -1):
            key = "__".join(names[:n])
            name = variables.get((f"{prefix}_{key}" if prefix else key).upper())
            if name is not None and contains_reference(os.environ[name]):
                return f"environment variable {name}"
        return None

    def _source(self, path: TreePath, text: str) -> str | None:
        if self._history is None:
            self._history = [
                (source, leaves)
                for source, leaves in history(self.settings)
                if not str(getattr(source, "loader", source)).startswith(self._SKIPPED)
            ]
        for source, leaves in self._history:
            recorded = leaves.get(upper(path))
            if isinstance(recorded, str):
                found = recorded == text or recorded.endswith(" " + text)
            else:
                found = recorded is not None and getattr(recorded, "value", None) == text
            if found:
                identifier = str(
                    getattr(source, "identifier", "") or getattr(source, "loader", source)
                )
                env = str(getattr(source, "env", "") or "").lower()
                return f"{identifier} [{env}]" if env and env != "global" else identifier
        return None
