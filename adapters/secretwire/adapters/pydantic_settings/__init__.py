"""pydantic-settings adapter: ``${secret:...}`` references in a settings model.

Subclass :class:`SecretSettings` instead of ``BaseSettings``::

    from pydantic import Field, SecretStr
    from secretwire.adapters.pydantic_settings import SecretSettings, SecretSettingsConfigDict

    class AppSettings(SecretSettings):
        model_config = SecretSettingsConfigDict(env_prefix="APP_", env_nested_delimiter="__")

        db_password: SecretStr = Field("${secret:db/password}")

    settings = AppSettings()  # secretwire.yaml + $SECRETWIRE_ENV pick the backend

pydantic-settings reads and merges its sources as usual; each source records where
the references it returns came from (``_sources``). Before pydantic validates the
merged input, every reference in it, and in field defaults (``_fields``), is
resolved in **one** batch (:meth:`SecretManager.resolve_texts`, keyed by tree path).
Failures raise one :class:`SecretResolutionError` (a ``pydantic_settings.SettingsError``
and a :class:`secretwire.ResolutionError`) naming every failed reference and where it
came from (``env var APP_DB__PASSWORD``, ``settings.yaml line 3 (db.password)``,
``field default db_password``).

Safe defaults: ``hide_input_in_errors=True``; a ``ValidationError`` touching a
resolved value is re-raised with that input replaced by ``**********``; and a
reference may only land in a field whose type masks it (``SecretStr``,
``SecretBytes``, ``pydantic.Secret[...]``) unless the model allows it in
``secretwire_allow_unmasked``.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from secretwire import (
    ConfigError,
    ResolutionError,
    ResolutionFailure,
    ResolvedText,
    SecretManager,
    SecretValue,
    SecretwireError,
    SiteFailure,
    TreePath,
    auto_log_masking,
    close_shared_managers,
    contains_reference,
    find_references,
    replace_at,
    shared_manager,
    walk_strings,
)
from secretwire.adapters import require

require("pydantic_settings", "pydantic")  # an ImportError that names the extra

# The framework imports follow the check above on purpose.
from pydantic import ValidationError  # noqa: E402
from pydantic import model_validator as _model_validator  # noqa: E402
from pydantic_settings import (  # noqa: E402
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from ._fields import masked_validation_error, unmasked, with_defaults  # noqa: E402
from ._sources import LOAD, Load, recording  # noqa: E402

__all__ = [
    "SecretResolutionError",
    "SecretSettings",
    "SecretSettingsConfigDict",
    "SecretSettingsError",
    "close_managers",
]


class SecretSettingsConfigDict(SettingsConfigDict, total=False):
    """``SettingsConfigDict`` plus secretwire's keys (all optional).

    ``secretwire_manager``: a :class:`SecretManager`, or a callable returning one, to
    resolve through. Without it the adapter uses :func:`secretwire.shared_manager`
    for the settings file and environment below.
    ``secretwire_settings``: the settings file (default: ``$SECRETWIRE_CONFIG`` or
    the nearest ``secretwire.yaml`` / ``pyproject.toml`` from the current directory).
    ``secretwire_environment``: the environment (default: the selecting variable,
    ``$SECRETWIRE_ENV`` unless the settings file names another).
    ``secretwire_allow_unmasked``: ``True``, or the dotted field paths
    (``{"database.dsn"}``) allowed to receive a secret in a type that does not mask
    it (``str``, ``int``...). Default: none.
    """

    secretwire_manager: SecretManager | Callable[[], SecretManager] | None
    secretwire_settings: str | Path | None
    secretwire_environment: str | None
    secretwire_allow_unmasked: bool | Collection[str]


class SecretSettingsError(SettingsError):
    """secretwire could not load secrets for a settings model (bad ``secretwire.yaml``,
    unknown environment, a backend that failed as a whole). The secretwire error is
    the ``__cause__``. Never carries a secret value."""


class SecretResolutionError(SecretSettingsError, ResolutionError):
    """One or more references in a settings model could not be resolved.

    A ``pydantic_settings.SettingsError`` (as pydantic-settings raises for source
    problems) and a :class:`secretwire.ResolutionError`: ``failures`` lists every
    failed reference with the place it came from, ``one_line()`` shortens it.
    """

    def __init__(self, failures: Sequence[ResolutionFailure], *, source: str | None = None) -> None:
        ResolutionError.__init__(self, failures, source=source)


#: Closes the shared managers (:func:`secretwire.close_shared_managers`): the ones
#: the adapter used, and those other adapters share with it. A closed shared
#: manager is replaced on its next use, so this is safe between tests.
close_managers = close_shared_managers


class _Abort(Exception):
    """Carries our error through pydantic's validation, which wraps ValueErrors."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class SecretSettings(BaseSettings):
    """``BaseSettings`` that resolves ``${secret:...}`` references in what every source
    produced and in field defaults, in one batch, before validation.

    The backend call is the manager's ``resolve_texts`` (``get_many``: one read per
    distinct secret not in its cache). Pass a manager per instance with
    ``AppSettings(_secretwire_manager=manager)`` or per class with
    ``secretwire_manager`` in ``model_config``. Also works as a mixin in front of
    another ``BaseSettings`` subclass.
    """

    model_config: ClassVar[SecretSettingsConfigDict] = SecretSettingsConfigDict(
        hide_input_in_errors=True,
    )

    def __init__(
        __pydantic_self__,  # noqa: N805 - BaseSettings' spelling: a field may be named self
        *,
        _secretwire_manager: SecretManager | None = None,
        **values: Any,
    ) -> None:
        auto_log_masking()  # served values masked in logs (SECRETWIRE_MASK_LOGS=0: off)
        parent = LOAD.get()
        if _secretwire_manager is None and parent is not None:
            _secretwire_manager = parent.manager
        load = Load(type(__pydantic_self__), _secretwire_manager, parent)
        token = LOAD.set(load)
        failure: BaseException | None = None
        try:
            super().__init__(**values)
        except _Abort as abort:
            failure = abort.error
        except ValidationError as err:
            failure = masked_validation_error(err, load.resolved)
            if failure is None:
                raise
        finally:
            LOAD.reset(token)
        if failure is not None:
            # Raised outside the except block: no chained context holds an input.
            raise failure

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # A subclass (or a base after us in the MRO) may customise its sources;
        # what it returns records too.
        current = cls.settings_customise_sources
        func = getattr(current, "__func__", None)
        if func is not None and not getattr(func, "__secretwire_recording__", False):
            cls.settings_customise_sources = classmethod(recording(func))  # type: ignore[method-assign,assignment]

    @classmethod
    @recording
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return super().settings_customise_sources(
            settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        )

    @classmethod
    def _settings_log_debug(cls, states: dict[str, dict[str, Any]]) -> None:
        # pydantic-settings (newer releases) log every source's values at DEBUG with
        # PYDANTIC_SETTINGS_DEBUG=1, before resolution: references, except in a nested
        # SecretSettings, whose init arguments are the values its parent resolved.
        load = LOAD.get()
        if load is not None and load.parent is not None:
            states = {name: load.masked_above(state) for name, state in states.items()}
        super()._settings_log_debug(states)

    @_model_validator(mode="before")
    @classmethod
    def _secretwire_resolve(cls, data: Any) -> Any:
        load = LOAD.get()
        # Only for the object being created, once.
        if load is None or load.owner is not cls or load.done or not isinstance(data, dict):
            return data
        load.done = True
        try:
            return _resolve(cls, data, load)
        except SecretwireError as err:
            raise _Abort(_settings_error(cls, err)) from None


def _resolve(cls: type[BaseSettings], data: dict[str, Any], load: Load) -> dict[str, Any]:
    """``data`` (and the defaults it lacks) with every reference resolved."""
    defaults: dict[TreePath, str] = {}
    tree = with_defaults(cls, data, defaults)
    texts = {
        path: text
        for path, text in walk_strings(tree)
        if contains_reference(text) and not load.produced_above(text)
    }
    if not texts:
        return data
    config = typing.cast(Mapping[str, Any], cls.model_config)
    failures: dict[TreePath, list[ResolutionFailure]] = {}
    for path, text in texts.items():
        reason = unmasked(cls, path, config)
        if reason is not None:  # refused: its secret is not even fetched
            failures[path] = [SiteFailure("", _references(text), reason, ConfigError(reason), path)]
    wanted = {path: text for path, text in texts.items() if path not in failures}
    resolved: dict[TreePath, ResolvedText] = {}
    if wanted:
        try:
            resolved = _manager_for(load, config).resolve_texts(wanted, source=cls.__name__)
        except ResolutionError as err:
            for failure in err.failures:
                failures.setdefault(typing.cast(SiteFailure, failure).site, []).append(failure)
    if failures:
        # This frame holds values only as SecretValue: nothing to see in a traceback.
        # Labels are looked up now, for the failures only.
        located = [
            dataclasses.replace(failure, location=defaults.get(path) or load.where(path, text))
            for path, text in texts.items()
            for failure in failures.get(path, ())
        ]
        raise SecretResolutionError(located, source=cls.__name__)
    for path, done in resolved.items():
        load.resolved.append(path)
        load.produced[id(done.reveal())] = SecretValue(done.reveal())
    return typing.cast(
        dict[str, Any], replace_at(tree, {path: done.reveal() for path, done in resolved.items()})
    )


def _references(text: str) -> str:
    try:
        return ", ".join(found.reference.format() for found in find_references(text)) or text
    except SecretwireError:
        return text


def _settings_error(cls: type[BaseSettings], err: SecretwireError) -> SettingsError:
    if isinstance(err, SecretResolutionError):
        return err
    wrapped = SecretSettingsError(f"{cls.__name__}: secrets could not be loaded: {err}")
    wrapped.__cause__ = err  # secretwire errors never carry a value
    return wrapped


def _manager_for(load: Load, config: Mapping[str, Any]) -> SecretManager:
    if load.manager is not None:
        return load.manager
    configured = config.get("secretwire_manager")
    if configured is None:
        environment = config.get("secretwire_environment")
        return shared_manager(config.get("secretwire_settings"), environment)
    manager = configured if isinstance(configured, SecretManager) else configured()
    if not isinstance(manager, SecretManager):
        raise ConfigError("secretwire_manager must return a SecretManager")
    return manager
