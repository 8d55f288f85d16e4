"""pydantic-settings adapter: ``${secret:...}`` references in a settings model.

Subclass :class:`SecretSettings` instead of ``BaseSettings``::

    from pydantic import Field, SecretStr
    from secretwire.adapters.pydantic_settings import SecretSettings, SecretSettingsConfigDict

    class AppSettings(SecretSettings):
        model_config = SecretSettingsConfigDict(env_prefix="APP_", env_nested_delimiter="__")

        db_password: SecretStr = Field("${secret:db/password}")

    settings = AppSettings()  # secretwire.yaml + $SECRETWIRE_ENV pick the backend

When the object is created, pydantic-settings reads and merges its sources as
usual (init arguments, environment, dotenv, secrets dir, YAML/TOML/JSON files,
custom sources, in the priority the model defines). Then, before pydantic
validates the merged input, every reference in it, and in field defaults, is
resolved in **one** pass: each distinct secret is fetched once, through the
manager's cache. Failures raise one :class:`SecretResolutionError` (a
``pydantic_settings.SettingsError`` and a :class:`secretwire.ResolutionError`)
naming every failed reference and where it came from (``env var APP_DB__PASSWORD``,
``settings.yaml line 3 (db.password)``, ``field default db_password``).

Safe defaults: ``hide_input_in_errors=True``; a ``ValidationError`` touching a
resolved value is re-raised with that input replaced by ``**********`` (also in
``errors()`` and ``json()``); and a reference may only land in a field whose type
masks it (``SecretStr``, ``SecretBytes``, ``pydantic.Secret[...]``) unless the
model allows it in ``secretwire_allow_unmasked``.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import threading
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar, Union

from secretwire import (
    MASK,
    ConfigError,
    ResolutionError,
    ResolutionFailure,
    SecretManager,
    SecretValue,
    SecretwireError,
    contains_reference,
    load_config,
    load_settings,
    parse,
)
from secretwire.adapters import require

require("pydantic_settings", "pydantic")  # an ImportError that names the extra

# The framework imports follow the check above on purpose.
from pydantic import BaseModel, Secret, SecretBytes, SecretStr, ValidationError  # noqa: E402
from pydantic import model_validator as _model_validator  # noqa: E402
from pydantic.fields import FieldInfo  # noqa: E402
from pydantic_core import InitErrorDetails, PydanticCustomError, PydanticUndefined  # noqa: E402
from pydantic_settings import (  # noqa: E402
    BaseSettings,
    CliSettingsSource,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

__all__ = [
    "SecretResolutionError",
    "SecretSettings",
    "SecretSettingsConfigDict",
    "SecretSettingsError",
    "close_managers",
]

Path_ = tuple[str | int, ...]
_F = TypeVar("_F", bound=Callable[..., Any])


class SecretSettingsConfigDict(SettingsConfigDict, total=False):
    """``SettingsConfigDict`` plus secretwire's keys (all optional).

    ``secretwire_manager``: a :class:`SecretManager`, or a callable returning one, to
    resolve through. Without it the adapter builds one from the settings file and
    keeps it for the process (see :func:`close_managers`).
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


# -- one settings load -----------------------------------------------------------------


@dataclass(eq=False)
class _Load:
    """What one ``SecretSettings.__init__`` call knows, shared with its hooks.

    Its repr (a frame local in tracebacks) shows no value: the sources of a nested
    load hold its parent's resolved values as init arguments."""

    owner: type[BaseSettings]
    manager: SecretManager | None
    parent: _Load | None = field(default=None, repr=False)
    sources: tuple[PydanticBaseSettingsSource, ...] = field(default=(), repr=False)
    resolved: list[Path_] = field(default_factory=list)
    #: the strings resolution produced, by id: a nested SecretSettings created while
    #: validating them must take them as they are (a value is never resolved twice)
    produced: dict[int, SecretValue] = field(default_factory=dict, repr=False)
    done: bool = False

    def produced_above(self, text: str) -> bool:
        load = self.parent
        while load is not None:
            held = load.produced.get(id(text))
            if held is not None and held.reveal() is text:
                return True
            load = load.parent
        return False

    def masked_above(self, node: Any) -> Any:
        """``node`` with every string a parent load produced shown as the mask."""
        if isinstance(node, str):
            return MASK if self.produced_above(node) else node
        if isinstance(node, Mapping):
            return {key: self.masked_above(value) for key, value in node.items()}
        if isinstance(node, list | tuple):
            return type(node)(self.masked_above(value) for value in node)
        return node


_LOAD: contextvars.ContextVar[_Load | None] = contextvars.ContextVar(
    "secretwire_pydantic_settings_load", default=None
)


class _Abort(Exception):
    """Carries our error through pydantic's validation, which wraps ValueErrors."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _recording(func: _F) -> _F:
    """Wrap a ``settings_customise_sources`` so the chosen sources are remembered
    (they name where a failing reference came from) and take references as text."""

    @functools.wraps(func)
    def record(cls: type[BaseSettings], *args: Any, **kwargs: Any) -> Any:
        sources = func(cls, *args, **kwargs)
        for source in sources:
            _keep_references(source)
        load = _LOAD.get()
        if load is not None and load.owner is cls:
            load.sources = tuple(sources)
        return sources

    record.__secretwire_recording__ = True  # type: ignore[attr-defined]
    return typing.cast(_F, record)


def _keep_references(source: Any) -> None:
    """Let ``source`` pass a reference through where it expects JSON.

    A source decodes the text of a "complex" field (a model, a dict, a list) as JSON.
    Older pydantic-settings releases (2.4.0 among them; not 2.16) count ``Secret[int]``
    as complex too, so ``APP_PORT='${secret:port}'`` (env var, dotenv, secrets dir)
    failed with "error parsing value for field" before the reference could be
    resolved. Text that is not JSON but holds a reference is now passed on as text: it
    is resolved with the rest, and pydantic validates the value. JSON holding
    references decodes as before."""
    decode = getattr(source, "decode_complex_value", None)
    if decode is None or getattr(decode, "__secretwire__", False):
        return

    @functools.wraps(decode)
    def decode_complex_value(field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return decode(field_name, field, value)
        except ValueError:
            if isinstance(value, str) and contains_reference(value):
                return value
            raise

    decode_complex_value.__secretwire__ = True  # type: ignore[attr-defined]
    source.decode_complex_value = decode_complex_value


# -- the base class --------------------------------------------------------------------


class SecretSettings(BaseSettings):
    """``BaseSettings`` that resolves ``${secret:...}`` references in what every source
    produced and in field defaults, in one batch, before validation.

    The backend call is the manager's ``resolve`` (``get_many``: one read per distinct
    secret not in its cache). Pass a manager per instance with
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
        parent = _LOAD.get()
        if _secretwire_manager is None and parent is not None:
            _secretwire_manager = parent.manager
        load = _Load(type(__pydantic_self__), _secretwire_manager, parent)
        token = _LOAD.set(load)
        failure: BaseException | None = None
        try:
            super().__init__(**values)
        except _Abort as abort:
            failure = abort.error
        except ValidationError as err:
            failure = _masked_validation_error(err, load.resolved)
            if failure is None:
                raise
        finally:
            _LOAD.reset(token)
        if failure is not None:
            # Raised outside the except block: no chained context holds an input.
            raise failure

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # A subclass (or a base after us in the MRO) may customise its sources;
        # remember what it returns too.
        current = cls.settings_customise_sources
        func = getattr(current, "__func__", None)
        if func is not None and not getattr(func, "__secretwire_recording__", False):
            cls.settings_customise_sources = classmethod(_recording(func))  # type: ignore[method-assign,assignment]

    @classmethod
    @_recording
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
        load = _LOAD.get()
        if load is not None and load.parent is not None:
            states = {name: load.masked_above(state) for name, state in states.items()}
        super()._settings_log_debug(states)

    @_model_validator(mode="before")
    @classmethod
    def _secretwire_resolve(cls, data: Any) -> Any:
        load = _LOAD.get()
        # Only for the object being created, once.
        if load is None or load.owner is not cls or load.done or not isinstance(data, dict):
            return data
        load.done = True
        try:
            return _resolve_model(cls, data, load)
        except SecretwireError as err:
            raise _Abort(_settings_error(cls, err)) from None


def close_managers() -> None:
    """Close the managers the adapter built from settings files (and their caches)."""
    with _managers_lock:
        managers = list(_managers.values())
        _managers.clear()
    for manager in managers:
        manager.close()


# -- resolution ------------------------------------------------------------------------


@dataclass(slots=True)
class _Site:
    path: Path_
    text: str
    label: str = ""  # where it came from; found only when a message needs it


def _resolve_model(cls: type[BaseSettings], data: dict[str, Any], load: _Load) -> dict[str, Any]:
    sites: list[_Site] = []
    _collect(data, (), sites)
    sites = [site for site in sites if not load.produced_above(site.text)]
    tree = _with_defaults(cls, data, (), (), sites)
    if not sites:
        return data
    config = typing.cast(Mapping[str, Any], cls.model_config)

    def where(index: int) -> str:
        site = sites[index]
        if not site.label:
            site.label = _attribute(site, load.sources)
        return site.label

    failures: dict[int, list[ResolutionFailure]] = {}
    for index, site in enumerate(sites):
        reason = _unmasked(cls, site, config)
        if reason is not None:  # refused: its secret is not even fetched
            refs = _references_in(site.text)
            failures[index] = [ResolutionFailure(where(index), refs, reason, ConfigError(reason))]
    wanted = [index for index in range(len(sites)) if index not in failures]
    values: dict[int, SecretValue] = {}
    if wanted:
        manager = _manager_for(load, config)
        values, failed = _fetch(manager, sites, wanted, cls.__name__)
        for index, failure in failed:
            label = where(index) if index >= 0 else failure.location
            failures.setdefault(index, []).append(
                ResolutionFailure(label, failure.reference, failure.reason, failure.error)
            )
    if failures:
        # This frame holds values only as SecretValue: nothing to see in a traceback.
        ordered = [f for index in sorted(failures) for f in failures[index]]
        raise SecretResolutionError(ordered, source=cls.__name__)
    for index, site in enumerate(sites):
        held = values[index]
        tree = _replace(tree, site.path, held.reveal())
        load.resolved.append(site.path)
        load.produced[id(held.reveal())] = held
    return tree


def _fetch(
    manager: SecretManager, sites: Sequence[_Site], wanted: Sequence[int], source: str
) -> tuple[dict[int, SecretValue], list[tuple[int, ResolutionFailure]]]:
    """The texts of the ``wanted`` sites resolved in one batch, each held by a
    SecretValue, or the failures (by site index, -1 when unknown)."""
    flat = {f"s{index}": sites[index].text for index in wanted}
    try:
        resolved = manager.resolve(flat, source=source)
    except ResolutionError as err:
        failed: list[tuple[int, ResolutionFailure]] = []
        for failure in err.failures:
            key = failure.location.partition(" ")[0]
            index = int(key[1:]) if key[:1] == "s" and key[1:].isdigit() else -1
            failed.append((index, failure))
        return {}, failed
    return {index: SecretValue(resolved[f"s{index}"]) for index in wanted}, []


def _settings_error(cls: type[BaseSettings], err: SecretwireError) -> SettingsError:
    if isinstance(err, SecretResolutionError):
        return err
    wrapped = SecretSettingsError(f"{cls.__name__}: secrets could not be loaded: {err}")
    wrapped.__cause__ = err  # secretwire errors never carry a value
    return wrapped


def _collect(node: Any, path: Path_, sites: list[_Site]) -> None:
    if isinstance(node, str):
        if contains_reference(node):
            sites.append(_Site(path, node))
    elif isinstance(node, Mapping):
        for key, value in node.items():
            _collect(value, (*path, str(key)), sites)
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            _collect(value, (*path, index), sites)


def _replace(node: Any, path: Path_, value: str) -> Any:
    """A copy of ``node`` with ``value`` at ``path`` (containers on the way copied)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, Mapping):
        copy = dict(node)
        copy[str(head)] = _replace(node[head], rest, value)
        return copy
    items = list(node)
    assert isinstance(head, int)  # noqa: S101 - paths come from _collect
    items[head] = _replace(items[head], rest, value)
    return tuple(items) if isinstance(node, tuple) else items


# -- field defaults --------------------------------------------------------------------


def _input_keys(name: str, info: FieldInfo) -> list[str]:
    keys: list[str] = []
    alias = info.validation_alias
    if isinstance(alias, str):
        keys.append(alias)
    elif alias is not None and hasattr(alias, "choices"):
        keys.extend(choice for choice in alias.choices if isinstance(choice, str))
    if info.alias:
        keys.append(info.alias)
    keys.append(name)
    return list(dict.fromkeys(keys))


def _model_class(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _default_text(value: Any) -> Any:
    """A default as the resolver sees it: secret wrappers opened, models as dicts."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, SecretBytes):
        try:
            return value.get_secret_value().decode()
        except UnicodeDecodeError:
            return value
    if isinstance(value, BaseModel):
        return {name: _default_text(getattr(value, name)) for name in value.model_fields_set}
    return value


def _with_defaults(
    model: type[BaseModel],
    data: dict[str, Any],
    path: Path_,
    names: tuple[str, ...],
    sites: list[_Site],
) -> dict[str, Any]:
    """``data`` plus the defaults of absent fields that hold references (also inside
    nested models); their sites are added to ``sites``. ``data`` is not modified."""
    out = data
    for name, info in model.model_fields.items():
        keys = _input_keys(name, info)
        present = next((key for key in keys if key in data), None)
        nested = _model_class(info.annotation)
        if present is not None:
            value = data[present]
            if nested is not None and isinstance(value, dict):
                filled = _with_defaults(nested, value, (*path, present), (*names, name), sites)
                if filled is not value:
                    out = dict(out) if out is data else out
                    out[present] = filled
            continue
        default = _default_text(info.default)
        if default is PydanticUndefined or default is None:
            continue  # default_factory is not called here: see the docs' caveats
        key = keys[0]
        before = len(sites)
        found: list[_Site] = []
        _collect(default, (*path, key), found)
        for site in found:
            rest = site.path[len(path) + 1 :]
            site.label = "field default " + _dotted((*names, name, *rest))
        sites.extend(found)
        if nested is not None and isinstance(default, dict):
            default = _with_defaults(nested, default, (*path, key), (*names, name), sites)
        if len(sites) > before:
            out = dict(out) if out is data else out
            out[key] = default
    return out


# -- where a value came from -----------------------------------------------------------


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _lookup(data: Any, path: Path_) -> Any:
    for part in path:
        if isinstance(data, Mapping) and isinstance(part, str):
            if part not in data:
                return None
            data = data[part]
        elif isinstance(data, list | tuple) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _attribute(site: _Site, sources: Sequence[PydanticBaseSettingsSource]) -> str:
    """Name the place ``site`` came from: the first source (highest priority) holding
    its text at its path. Never reads a value into the label."""
    for source in sources:
        try:
            label = _source_label(source, site)
        except (OSError, ValueError, SecretwireError):
            label = None  # an unreadable file only costs the nicer label
        if label:
            return label
    return _dotted(site.path)


def _source_label(source: PydanticBaseSettingsSource, site: _Site) -> str | None:
    dotted = _dotted(site.path)
    if isinstance(source, InitSettingsSource):
        if _lookup(getattr(source, "init_kwargs", None), site.path) != site.text:
            return None
        files = _config_files(source)
        if not files:
            return f"init argument {dotted}"
        for file, prefix in reversed(files):  # later files override earlier ones
            line = _line_of(file, (*prefix, *site.path), site.text)
            if line is not None:
                return f"{file} line {line} ({dotted})"
        return f"{files[-1][0]} ({dotted})"
    if isinstance(source, EnvSettingsSource):
        variable = _variable_holding(source, site)
        if variable is None:
            return None
        if isinstance(source, CliSettingsSource):
            return f"command-line option --{variable}"
        if isinstance(source, DotEnvSettingsSource):
            return _dotenv_label(source, variable)
        return f"env var {_environ_name(variable, source.case_sensitive)}"
    secrets_dir = getattr(source, "secrets_dir", None)
    if secrets_dir is not None:
        for folder in _paths(secrets_dir):
            secret_file = _secret_file_holding(folder, site.text)
            if secret_file is not None:
                return f"secrets dir file {secret_file}"
    return None


def _paths(value: Any) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        return [Path(value).expanduser()]
    return [Path(item).expanduser() for item in value]


def _config_files(source: InitSettingsSource) -> list[tuple[Path, Path_]]:
    for attribute in ("yaml_file_path", "json_file_path", "toml_file_path"):
        if hasattr(source, attribute):
            prefix: Path_ = ()
            section = getattr(source, "yaml_config_section", None)
            if isinstance(section, str) and section:
                prefix = tuple(section.split("."))
            header = getattr(source, "toml_table_header", None)
            if attribute == "toml_file_path" and header:
                prefix = tuple(header)
            return [(file, prefix) for file in _paths(getattr(source, attribute)) if file.is_file()]
    return []


def _line_of(file: Path, path: Path_, text: str) -> int | None:
    if file.suffix.lower() in (".yaml", ".yml"):
        line = load_config(file).lines.get(_dotted(path))
        if line is not None:
            return line
    for number, line_text in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if text in line_text:
            return number
    return None


def _variable_holding(source: EnvSettingsSource, site: _Site) -> str | None:
    """The variable whose value holds the site's text; one named after the field wins."""
    env_vars: Mapping[str, str | None] = getattr(source, "env_vars", {}) or {}
    matches = [name for name, value in env_vars.items() if value and site.text in value]
    if not matches:
        return None
    last = next((str(p) for p in reversed(site.path) if isinstance(p, str)), "").lower()
    return next((name for name in matches if name.lower().endswith(last)), matches[0])


def _environ_name(variable: str, case_sensitive: bool) -> str:
    if case_sensitive:
        return variable
    return next((name for name in os.environ if name.lower() == variable), variable.upper())


_DOTENV_LINE = re.compile(r"\s*(?:export\s+)?([^\s=:#]+)\s*[=:]")


def _dotenv_label(source: DotEnvSettingsSource, variable: str) -> str:
    wanted = variable if source.case_sensitive else variable.lower()
    for file in reversed(_paths(source.env_file)):
        if not file.is_file():
            continue
        lines = file.read_text(encoding=source.env_file_encoding or "utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            match = _DOTENV_LINE.match(line)
            if match is None:
                continue
            name = match.group(1)
            if (name if source.case_sensitive else name.lower()) == wanted:
                return f"{file} line {number} ({name})"
    return f"dotenv variable {variable}"


def _secret_file_holding(folder: Path, text: str) -> Path | None:
    if not folder.is_dir():
        return None
    for file in sorted(folder.rglob("*")):
        if (
            file.is_file()
            and file.stat().st_size <= 1 << 20
            and text in file.read_text(encoding="utf-8", errors="replace")
        ):
            return file
    return None


# -- masking ---------------------------------------------------------------------------


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` → X and ``X | None`` → X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin is Union or origin is types.UnionType:
            arms = [arm for arm in typing.get_args(annotation) if arm is not type(None)]
            if len(arms) == 1:
                annotation = arms[0]
                continue
        return annotation


def _is_masked(annotation: Any) -> bool:
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        arms = [arm for arm in typing.get_args(annotation) if arm is not type(None)]
        return all(_is_masked(arm) for arm in arms)
    base = origin or annotation
    return isinstance(base, type) and issubclass(base, SecretStr | SecretBytes | Secret)


def _field_for(model: type[BaseModel], key: str) -> tuple[str, FieldInfo] | None:
    for name, info in model.model_fields.items():
        if key in _input_keys(name, info):
            return name, info
    lowered = key.lower()
    for name, info in model.model_fields.items():
        if lowered in (k.lower() for k in _input_keys(name, info)):
            return name, info
    return None


def _annotation_at(model: type[BaseModel], path: Path_) -> tuple[Any, tuple[str, ...]]:
    """The type a value at ``path`` is validated as (None if unknown), and the
    field-name path."""
    annotation: Any = model
    names: list[str] = []
    for depth, part in enumerate(path):
        annotation = _strip(annotation)
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found = _field_for(annotation, str(part))
            if found is None:
                return None, (*names, *(str(p) for p in path[depth:] if isinstance(p, str)))
            names.append(found[0])
            annotation = found[1].annotation
        elif isinstance(origin, type) and issubclass(origin, Mapping) and len(args) == 2:
            names.append(str(part))
            annotation = args[1]
        elif isinstance(origin, type) and issubclass(origin, Sequence | Collection) and args:
            fixed = origin is tuple and Ellipsis not in args
            annotation = (
                args[part] if fixed and isinstance(part, int) and part < len(args) else args[0]
            )
            if isinstance(part, str):
                names.append(part)
        else:
            return None, (*names, *(str(p) for p in path[depth:] if isinstance(p, str)))
    return annotation, tuple(names)


def _unmasked(model: type[BaseModel], site: _Site, config: Mapping[str, Any]) -> str | None:
    """Why a secret may not go where ``site`` sits, or None when its type masks it."""
    annotation, names = _annotation_at(model, site.path)
    if annotation is not None and _is_masked(annotation):
        return None
    allowed = config.get("secretwire_allow_unmasked", False)
    dotted = ".".join(names)
    if allowed is True or (
        not isinstance(allowed, bool)
        and any(dotted == entry or dotted.startswith(entry + ".") for entry in allowed)
    ):
        return None
    kind = getattr(_strip(annotation), "__name__", None) or str(annotation)
    return (
        f"field {dotted} is {'of unknown type' if annotation is None else kind}, which would show "
        "the secret in repr() and model_dump(); declare it SecretStr (or SecretBytes, "
        f"Secret[...]) or allow it with secretwire_allow_unmasked={{{dotted!r}}}"
    )


def _references_in(text: str) -> str:
    try:
        return ", ".join(ref.format() for ref in parse(text).references) or text
    except SecretwireError:
        return text


def _related(loc: tuple[Any, ...], path: Path_) -> bool:
    shorter = min(len(loc), len(path))
    return tuple(loc[:shorter]) == tuple(path[:shorter])


def _masked_validation_error(err: ValidationError, resolved: Sequence[Path_]) -> Exception | None:
    """``err`` with the input of every error about a resolved value replaced by the
    mask, or None when no error concerns one."""
    errors = err.errors()
    hits = [any(_related(tuple(e["loc"]), path) for path in resolved) for e in errors]
    if not any(hits):
        return None
    details: list[InitErrorDetails] = []
    custom: list[InitErrorDetails] = []
    for error, hit in zip(errors, hits, strict=True):
        value = MASK if hit else error["input"]
        detail = InitErrorDetails(type=error["type"], loc=error["loc"], input=value)
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        details.append(detail)
        custom.append(
            InitErrorDetails(
                type=PydanticCustomError(error["type"], error["msg"]), loc=error["loc"], input=value
            )
        )
    for attempt in (details, custom):
        try:
            return ValidationError.from_exception_data(err.title, attempt, hide_input=True)
        except (KeyError, TypeError, ValueError):
            continue
    lines = "\n".join(f"  {_dotted(e['loc'])}: {e['msg']}" for e in errors)  # pragma: no cover
    return SecretSettingsError(f"{err.error_count()} validation error(s) for {err.title}:\n{lines}")


# -- managers --------------------------------------------------------------------------

_managers: dict[tuple[str, str], SecretManager] = {}
_managers_lock = threading.Lock()


def _manager_for(load: _Load, config: Mapping[str, Any]) -> SecretManager:
    if load.manager is not None:
        return load.manager
    configured = config.get("secretwire_manager")
    if isinstance(configured, SecretManager):
        return configured
    if callable(configured):
        manager = configured()
        if not isinstance(manager, SecretManager):
            raise ConfigError("secretwire_manager must return a SecretManager")
        return manager
    settings = load_settings(config.get("secretwire_settings"))
    environment = settings.select(config.get("secretwire_environment"))
    key = (str(Path(settings.source).resolve()), environment)
    with _managers_lock:
        manager = _managers.get(key)
        if manager is None:
            manager = _managers[key] = SecretManager.from_settings(
                settings, environment=environment
            )
    return manager
