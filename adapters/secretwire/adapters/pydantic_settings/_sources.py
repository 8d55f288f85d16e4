"""Where the values of one load came from, recorded as the sources return them.

``settings_customise_sources`` hands each source it returns to :func:`recorded`,
which wraps it in a subclass of its own class (same name, so pydantic-settings'
``isinstance`` checks and debug log see the source they expect). When
pydantic-settings calls it, the wrapper records each string holding a reference in
the :class:`Load` with its path and its source. Only when a reference fails is the
source asked for a label: the variable, the file and its line.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dotenv.parser import parse_stream
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    CliSettingsSource,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
)

from secretwire import (
    MASK,
    SecretManager,
    SecretValue,
    SecretwireError,
    TreePath,
    contains_reference,
    format_location,
    load_config,
    replace_at,
    walk_strings,
)

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(eq=False)
class Load:
    """What one ``SecretSettings.__init__`` call knows, shared with its hooks.

    Its repr (a frame local in tracebacks) shows no value: the sources of a nested
    load hold its parent's resolved values as init arguments."""

    owner: type[BaseSettings]
    manager: SecretManager | None
    parent: Load | None = field(default=None, repr=False)
    #: per path, each source's string there (highest priority first)
    origins: dict[TreePath, list[tuple[str, PydanticBaseSettingsSource]]] = field(
        default_factory=dict, repr=False
    )
    resolved: list[TreePath] = field(default_factory=list)
    #: the strings resolution produced, by id: a nested SecretSettings created while
    #: validating them must take them as they are (a value is never resolved twice)
    produced: dict[int, SecretValue] = field(default_factory=dict, repr=False)
    done: bool = False

    def record(self, source: PydanticBaseSettingsSource, output: Mapping[str, Any]) -> None:
        try:
            found = [
                (path, text) for path, text in walk_strings(output) if contains_reference(text)
            ]
        except SecretwireError:
            return  # too deep a tree: resolution reports it
        for path, text in found:
            self.origins.setdefault(path, []).append((text, source))

    def where(self, path: TreePath, text: str) -> str:
        """Where ``text`` at ``path`` came from: the source whose string won the merge
        (it is the very object in the merged input) names its place."""
        source = next((s for held, s in self.origins.get(path, ()) if held is text), None)
        try:
            label = None if source is None else _label(source, path, text)
        except (OSError, ValueError, AttributeError, SecretwireError):
            label = None  # an unreadable file or an odd source only costs the nicer label
        return label or format_location(path)

    def produced_above(self, text: str) -> bool:
        load = self.parent
        while load is not None:
            held = load.produced.get(id(text))
            if held is not None and held.reveal() is text:
                return True
            load = load.parent
        return False

    def masked_above(self, tree: Any) -> Any:
        """``tree`` with every string a parent load produced shown as the mask."""
        masked = {path: MASK for path, text in walk_strings(tree) if self.produced_above(text)}
        return replace_at(tree, masked) if masked else tree


LOAD: contextvars.ContextVar[Load | None] = contextvars.ContextVar(
    "secretwire_pydantic_settings_load", default=None
)


# -- the wrapper ---------------------------------------------------------------------


@functools.cache
def _recording_type(base: type[PydanticBaseSettingsSource]) -> type[PydanticBaseSettingsSource]:
    """``base`` with calls that record what they return in the current load (a
    subclass with no slots of its own: a copy of a ``base`` object can become one)."""

    class Recording(base):  # type: ignore[valid-type,misc]
        __slots__ = ()
        _secretwire_records = True

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            output = super().__call__(*args, **kwargs)
            load = LOAD.get()
            if isinstance(output, dict) and load is not None and load.owner is self.settings_cls:
                load.record(self, output)
            return output

        def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
            """Text that is not JSON but holds a reference passes on as text.

            A source decodes a "complex" field's text as JSON, and older releases
            (2.4.0 among them; not 2.16) count ``Secret[int]`` as complex, so
            ``APP_PORT='${secret:port}'`` (env var, dotenv, secrets dir) failed with
            "error parsing value for field" before the reference was resolved. Now it
            is resolved with the rest, and pydantic validates the value. JSON holding
            references decodes as before."""
            try:
                return super().decode_complex_value(field_name, field, value)
            except ValueError:
                if isinstance(value, str) and contains_reference(value):
                    return value
                raise

    Recording.__name__, Recording.__qualname__ = base.__name__, base.__qualname__
    Recording.__module__ = base.__module__
    return Recording


def recorded(sources: tuple[Any, ...]) -> tuple[Any, ...]:
    """``sources`` with each settings source replaced by a recording copy (the
    caller's objects are not changed; other callables are kept as they are)."""
    return tuple(_recording_copy(source) for source in sources)


def _recording_copy(source: Any) -> Any:
    if not isinstance(source, PydanticBaseSettingsSource) or hasattr(source, "_secretwire_records"):
        return source
    clone = copy.copy(source)
    clone.__class__ = _recording_type(type(source))  # same layout: no slots of its own
    return clone


def recording(func: _F) -> _F:
    """Wrap a ``settings_customise_sources`` so the sources it returns record."""

    @functools.wraps(func)
    def customise(cls: type[BaseSettings], *args: Any, **kwargs: Any) -> Any:
        return recorded(func(cls, *args, **kwargs))

    customise.__secretwire_recording__ = True  # type: ignore[attr-defined]
    return typing.cast(_F, customise)


# -- labels --------------------------------------------------------------------------


def _label(source: PydanticBaseSettingsSource, path: TreePath, text: str) -> str | None:
    if isinstance(source, EnvSettingsSource):  # the environment, dotenv files, the CLI
        name = _variable(source, path)
        if name is None:
            return None
        if isinstance(source, CliSettingsSource):
            return f"command-line option --{name}"
        if isinstance(source, DotEnvSettingsSource):
            return _dotenv_line(source, name)
        if not source.case_sensitive:  # pydantic-settings keeps the name in lower case
            name = next((each for each in os.environ if each.lower() == name), name.upper())
        return f"env var {name}"
    if isinstance(source, SecretsSettingsSource):
        for folder in reversed(_paths(source.secrets_dir)):
            for name in _names(source, path):
                found = source.find_case_path(folder, name, source.case_sensitive)
                if found is not None:
                    return f"secrets dir file {found}"
        return None
    if isinstance(source, InitSettingsSource):  # init arguments, YAML/TOML/JSON files
        return _file_line(source, path, text)
    return None


def _names(source: EnvSettingsSource | SecretsSettingsSource, path: TreePath) -> list[str]:
    """The variable (or secrets file) names of the field at ``path[0]``: with the
    prefix, or without (an alias)."""
    return [(source.env_prefix or "") + str(path[0]), str(path[0])]


def _variable(source: EnvSettingsSource, path: TreePath) -> str | None:
    """The variable of ``source`` that holds the value at ``path``. A nested one
    (``APP_DB__PASSWORD``) overrides the field's JSON (``APP_DB``), so the longest wins."""
    delimiter = source.env_nested_delimiter or ""
    held: Mapping[str, Any] = source.env_vars
    found: str | None = None
    for top in _names(source, path):
        name = top
        for depth, part in enumerate(path):
            if depth:
                if not delimiter or not isinstance(part, str):
                    break
                name = f"{name}{delimiter}{part}"
            key = name if source.case_sensitive else name.lower()
            if key in held and (found is None or len(key) > len(found)):
                found = key
    return found


def _dotenv_line(source: DotEnvSettingsSource, name: str) -> str:
    for file in reversed(_paths(source.env_file)):  # a later file overrides an earlier one
        if not file.is_file():
            continue
        with file.open(encoding=source.env_file_encoding or "utf-8") as stream:
            lines = [  # python-dotenv's parser: what pydantic-settings read
                (binding.original.line, binding.key)
                for binding in parse_stream(stream)
                if binding.key
                and name == (binding.key if source.case_sensitive else binding.key.lower())
            ]
        if lines:  # the last definition wins
            return f"{file} line {lines[-1][0]} ({lines[-1][1]})"
    return f"dotenv variable {name}"


def _paths(value: Any) -> list[Path]:
    if value is None:
        return []
    items = [value] if isinstance(value, str | os.PathLike) else value
    return [Path(item).expanduser() for item in items]


def _config_files(source: InitSettingsSource) -> tuple[list[Path], TreePath, str]:
    """The files of a YAML/TOML/JSON source, the section it reads, and their format."""
    for fmt in ("yaml", "json", "toml"):
        if hasattr(source, f"{fmt}_file_path"):
            section = getattr(source, "yaml_config_section", None)
            prefix = tuple(section.split(".")) if isinstance(section, str) and section else ()
            prefix += tuple(getattr(source, "toml_table_header", None) or ())
            files = _paths(getattr(source, f"{fmt}_file_path"))
            return [file for file in files if file.is_file()], prefix, fmt
    return [], (), ""


def _file_line(source: InitSettingsSource, path: TreePath, text: str) -> str | None:
    """``settings.yaml line 3 (db.password)``: the last file of ``source`` holding
    ``text`` at ``path`` (a later file overrides an earlier one), with its line; or
    ``init argument db.password`` when ``source`` reads no files."""
    files, prefix, fmt = _config_files(source)
    dotted = format_location(path)
    if not fmt:
        return f"init argument {dotted}"
    for file in reversed(files):
        loaded = load_config(file, format=fmt)
        if dict(walk_strings(loaded.data)).get((*prefix, *path)) != text:
            continue
        line = loaded.lines.get(format_location((*prefix, *path)))  # YAML knows its lines
        if line is None:
            numbered = enumerate(file.read_text(encoding="utf-8").splitlines(), 1)
            line = next((number for number, each in numbered if text in each), None)
        return f"{file} line {line} ({dotted})" if line else f"{file} ({dotted})"
    return f"{files[-1]} ({dotted})" if files else None
