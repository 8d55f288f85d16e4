"""The declared secrets: the settings file's ``secrets:`` section (docs/lifecycle.md).

::

    secrets:
      db/password:
        description: Postgres password of the app user
        owner: team-db
        required: true                     # default
        validation: {min_length: 24, pattern: '^[A-Za-z0-9]+$'}
        warn_before_expiry: 14d            # default
        rotation:
          interval: 30d
          generator: {type: password, length: 32}
          apply: {command: [./bin/set-db-password], timeout: 30s}
          verify: {python: myapp.checks:db_login}
      "api/*":                             # a glob: every name it matches
        owner: team-api
        validation: {json_fields: [key, secret]}

Everything is checked when the settings are loaded (errors name ``secrets.<name>...``);
generators and hooks are loaded when used (``rotate``, ``check``), with errors that
name their key too.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..values import SecretValue
from .durations import parse_duration

if TYPE_CHECKING:
    from .generators import Generator
    from .hooks import Hook

__all__ = ["Declared", "Inventory", "RotationPolicy", "Validation", "parse_inventory"]

_ENTRY_KEYS = {"description", "owner", "required", "validation", "rotation", "warn_before_expiry"}
_VALIDATION_KEYS = {"pattern", "min_length", "json_fields"}
_ROTATION_KEYS = {"interval", "generator", "apply", "verify"}
_GLOB = re.compile(r"[*?\[]")
DEFAULT_WARNING = timedelta(days=14)


@dataclass(frozen=True)
class Validation:
    """Rules a value must pass; :meth:`failures` names the rules it breaks, never it."""

    pattern: re.Pattern[str] | None = None
    min_length: int | None = None
    json_fields: tuple[str, ...] = ()

    def failures(self, value: SecretValue) -> list[str]:
        failed = []
        if self.min_length is not None and len(value.reveal()) < self.min_length:
            failed.append(f"min_length {self.min_length}")
        if self.pattern is not None and not self.pattern.search(value.reveal()):
            failed.append(f"pattern {self.pattern.pattern!r}")
        if self.json_fields:
            present = _json_keys(value)
            if present is None:
                failed.append("json_fields (the value is not a JSON object)")
            else:
                failed += [
                    f"json_fields: no field {f!r}" for f in self.json_fields if f not in present
                ]
        return failed


def _json_keys(value: SecretValue) -> frozenset[str] | None:
    """The keys of a JSON-object value, or None; never raises (the error holds the text)."""
    try:
        data = json.loads(value.reveal())
    except (ValueError, RecursionError):
        return None
    return frozenset(data) if isinstance(data, dict) else None


@dataclass(frozen=True)
class RotationPolicy:
    """How a declared secret is rotated; the specs are loaded by the methods."""

    key: str
    interval: timedelta | None = None
    generator_spec: Any = None
    apply_spec: Any = None
    verify_spec: Any = None
    source: str | None = None
    base_dir: Path | None = None

    def generator(self) -> Generator:
        from .generators import generator_from_spec  # noqa: PLC0415 - on first rotation

        return generator_from_spec(
            self.generator_spec, source=self.source, key=f"{self.key}.generator"
        )

    def hook(self, step: str) -> Hook | None:
        from .hooks import hook_from_spec  # noqa: PLC0415 - on first rotation

        spec = self.apply_spec if step == "apply" else self.verify_spec
        return hook_from_spec(
            spec, base_dir=self.base_dir, source=self.source, key=f"{self.key}.{step}"
        )

    def describe(self) -> str:
        """``every 30d, password; apply: command; verify: python`` (no values)."""
        parts = [f"every {_text(self.interval)}" if self.interval else "on demand"]
        spec = self.generator_spec
        parts.append(str(spec.get("type") if isinstance(spec, Mapping) else spec or "password"))
        for step, hook in (("apply", self.apply_spec), ("verify", self.verify_spec)):
            if isinstance(hook, Mapping):
                kind = next((k for k in ("command", "python", "entry_point") if k in hook), "?")
                parts.append(f"{step}: {kind}")
        return ", ".join(parts)


def _text(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Declared:
    """One entry of ``secrets:``: a name, or a glob (``api/*``) for every name it matches."""

    pattern: str
    key: str
    description: str = ""
    owner: str = ""
    required: bool = True
    validation: Validation = Validation()
    rotation: RotationPolicy | None = None
    warn_before_expiry: timedelta = DEFAULT_WARNING

    @property
    def is_glob(self) -> bool:
        return bool(_GLOB.search(self.pattern))

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.pattern) if self.is_glob else name == self.pattern


@dataclass(frozen=True)
class Inventory:
    """The declared secrets of a settings file (empty when it has no ``secrets:``)."""

    entries: tuple[Declared, ...] = ()
    source: str | None = None
    base_dir: Path | None = field(default=None, compare=False)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def declared(self, name: str) -> Declared | None:
        """The entry for ``name``: its own, else the first glob that matches it."""
        exact = [e for e in self.entries if not e.is_glob and e.pattern == name]
        found = exact or [e for e in self.entries if e.matches(name)]
        return found[0] if found else None

    def expand(self, names: Sequence[str]) -> list[tuple[Declared, list[str]]]:
        """Each entry with the names it stands for: itself, or the names of ``names``
        (the provider's list) its glob matches, sorted."""
        return [
            (
                entry,
                sorted(n for n in names if entry.matches(n)) if entry.is_glob else [entry.pattern],
            )
            for entry in self.entries
        ]


def parse_inventory(data: Any, *, source: str | None, base_dir: Path | None) -> Inventory:
    """The ``secrets:`` section (see the module docstring); :class:`ConfigError`s
    name ``secrets.<name>.<key>``."""
    if data is None:
        return Inventory((), source, base_dir)
    if not isinstance(data, Mapping):
        raise ConfigError(
            "must map secret names (or globs) to their description", source=source, key="secrets"
        )
    entries = []
    for name, spec in data.items():
        key = f"secrets.{name}"
        if not isinstance(name, str) or not name:
            raise ConfigError("a secret name must be a non-empty string", source=source, key=key)
        entries.append(_entry(name, spec, source, base_dir, key))
    return Inventory(tuple(entries), source, base_dir)


def _entry(name: str, spec: Any, source: str | None, base_dir: Path | None, key: str) -> Declared:
    spec = _mapping(spec, source, key, _ENTRY_KEYS)
    required = spec.get("required", True)
    if not isinstance(required, bool):
        raise ConfigError("must be true or false", source=source, key=f"{key}.required")
    texts = {}
    for item in ("description", "owner"):
        text = spec.get(item, "")
        if not isinstance(text, str):
            raise ConfigError("must be a string", source=source, key=f"{key}.{item}")
        texts[item] = text
    warning = DEFAULT_WARNING
    if "warn_before_expiry" in spec:
        warning = parse_duration(
            spec["warn_before_expiry"], source=source, key=f"{key}.warn_before_expiry"
        )
    rotation = None
    if spec.get("rotation") is not None:
        rotation = _rotation(spec["rotation"], source, base_dir, f"{key}.rotation")
    return Declared(
        name,
        key,
        texts["description"],
        texts["owner"],
        required,
        _validation(spec.get("validation"), source, f"{key}.validation"),
        rotation,
        warning,
    )


def _validation(data: Any, source: str | None, key: str) -> Validation:
    spec = _mapping(data, source, key, _VALIDATION_KEYS)
    pattern = spec.get("pattern")
    compiled = None
    if pattern is not None:
        problem = None
        try:
            compiled = re.compile(pattern) if isinstance(pattern, str) else None
        except re.error as err:
            problem = f"not a valid regular expression ({err.msg})"
        if compiled is None:
            raise ConfigError(problem or "must be a string", source=source, key=f"{key}.pattern")
    length = spec.get("min_length")
    if length is not None and (type(length) is not int or length < 1):
        raise ConfigError("must be a positive integer", source=source, key=f"{key}.min_length")
    fields = spec.get("json_fields", [])
    if not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields):
        raise ConfigError("must be a list of field names", source=source, key=f"{key}.json_fields")
    return Validation(compiled, length, tuple(fields))


def _rotation(data: Any, source: str | None, base_dir: Path | None, key: str) -> RotationPolicy:
    spec = _mapping(data, source, key, _ROTATION_KEYS)
    interval = None
    if spec.get("interval") is not None:
        interval = parse_duration(spec["interval"], source=source, key=f"{key}.interval")
    generator = spec.get("generator")
    if generator is not None and not isinstance(generator, str | Mapping):
        raise ConfigError(
            "must be a generator name or a mapping with 'type'",
            source=source,
            key=f"{key}.generator",
        )
    for step in ("apply", "verify"):
        if spec.get(step) is not None and not isinstance(spec[step], Mapping):
            raise ConfigError(
                "must be a mapping: python, entry_point or command",
                source=source,
                key=f"{key}.{step}",
            )
    return RotationPolicy(
        key, interval, generator, spec.get("apply"), spec.get("verify"), source, base_dir
    )


def _mapping(data: Any, source: str | None, key: str, allowed: set[str]) -> Mapping[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"expected a mapping, got {type(data).__name__}", source=source, key=key)
    for item in data:
        if item not in allowed:
            raise ConfigError(
                f"unknown key (expected one of: {', '.join(sorted(allowed))})",
                source=source,
                key=f"{key}.{item}",
            )
    return data
