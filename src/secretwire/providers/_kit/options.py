"""Declarative provider options: one declaration drives ``from_options``, the
unknown-option error and the option table in the provider's docs.

::

    class VaultProvider(SecretProvider):
        options = Options(
            Option("url", str, required=True, help="The Vault address."),
            Option("token", Credential, default_env="VAULT_TOKEN", help="..."),
            Option("ca_cert", Path, help="CA bundle, relative to the settings folder."),
            Option("kv_version", int, choices=(1, 2), help="..."),
        )

Kinds: ``str``, ``int``, ``float`` (an int is accepted), ``bool``, ``dict`` (a
mapping), :class:`pathlib.Path` (relative to the settings folder, ``~`` expanded),
:class:`Credential` (the three options ``X``, ``X_env``, ``X_file``, exactly one,
which become one :class:`~.credentials.CredentialSource`), or a tuple of these
(the first that fits). A string from a bootstrap secret (:class:`SecretValue`) is
accepted wherever a string or a path is, and stays a ``SecretValue`` (a path from a
secret is resolved and stays hidden). No error echoes an option's value: errors
name the option and the shape that was expected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...values import SecretValue
from .credentials import CredentialSource

__all__ = ["INSECURE", "REQUIRED", "Credential", "Option", "Options"]


class Credential:
    """Option kind: a credential given as ``X``, ``X_env`` (a variable's name) or
    ``X_file`` (a file's path), exactly one; the provider receives a
    :class:`CredentialSource` under ``X``."""


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: ``Option(default=REQUIRED)``: the option must be given.
REQUIRED: Any = _Required()

_KIND_NAMES: dict[type, tuple[str, str]] = {
    str: ("string", "a string"),
    int: ("integer", "an integer"),
    float: ("number", "a number"),
    bool: ("boolean", "true or false"),
    dict: ("mapping", "a mapping"),
    Path: ("path", "a path"),
    Credential: ("credential", "a credential"),
}


def _fits(kind: type, value: object) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is str:
        return isinstance(value, str | SecretValue)
    if kind is Path:
        return isinstance(value, str | os.PathLike | SecretValue) and bool(value)
    if kind is dict:
        return isinstance(value, Mapping)
    return isinstance(value, kind)


def _resolved(value: str | os.PathLike[str] | SecretValue, base_dir: Path) -> Path | SecretValue:
    """A path option taken from ``base_dir``; still hidden if it came from a secret."""
    text = value.reveal() if isinstance(value, SecretValue) else value
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base_dir / path
    return SecretValue(str(path)) if isinstance(value, SecretValue) else path


@dataclass(frozen=True)
class Option:
    """One provider option (see the module docstring).

    ``default`` is what the constructor uses when the option is absent (the docs
    show it; ``secretwire.testing.check_options`` checks it against the
    constructor's signature); :data:`REQUIRED` makes the option mandatory, with
    ``missing`` as the error. ``argument`` is the constructor keyword when it differs
    from the option's name. ``nonempty`` refuses an empty string. For a
    :class:`Credential`: ``default_env`` / ``default_file`` apply when none of the
    three options is given, ``label`` names it in messages and ``ascii_only``
    refuses a credential with non-ASCII characters.
    """

    name: str
    kind: type | tuple[type, ...] = str
    default: Any = None
    help: str = ""
    choices: tuple[Any, ...] | None = None
    missing: str | None = None
    argument: str | None = None
    nonempty: bool = False
    default_env: str | None = None
    default_file: str | None = None
    label: str | None = None
    ascii_only: bool = False

    @property
    def kinds(self) -> tuple[type, ...]:
        return self.kind if isinstance(self.kind, tuple) else (self.kind,)

    @property
    def is_credential(self) -> bool:
        return Credential in self.kinds

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def keys(self) -> tuple[str, ...]:
        """The settings keys this option accepts."""
        if self.is_credential:
            return (self.name, f"{self.name}_env", f"{self.name}_file")
        return (self.name,)

    def source(
        self,
        value: str | SecretValue | CredentialSource | None = None,
        env: str | SecretValue | None = None,
        file: str | os.PathLike[str] | SecretValue | None = None,
        *,
        base_dir: Path | None = None,
    ) -> CredentialSource | None:
        """For a :class:`Credential` option: its :class:`CredentialSource` from the three
        values (constructors call this with their ``X``, ``X_env``, ``X_file``)."""
        return CredentialSource.of(
            self.name,
            value,
            env,
            file,
            default_env=self.default_env,
            default_file=self.default_file,
            required=self.required,
            base_dir=base_dir,
            label=self.label,
            ascii_only=self.ascii_only,
        )

    def convert(self, value: object, *, base_dir: Path) -> Any:
        """``value`` (given for this option, not ``None``) checked and converted."""
        for kind in self.kinds:
            if kind is Credential or not _fits(kind, value):
                continue
            if kind is Path:
                return _resolved(value, base_dir)  # type: ignore[arg-type]
            if kind is float:
                return float(value)  # type: ignore[arg-type]
            if kind is dict:
                return dict(value)  # type: ignore[call-overload]
            if kind is str and self.nonempty and not value:
                raise ConfigError("option must be a non-empty string", key=self.name)
            if self.choices is not None:
                plain = value.reveal() if isinstance(value, SecretValue) else value
                if plain not in self.choices:
                    allowed = ", ".join(str(choice) for choice in self.choices)
                    raise ConfigError(f"option must be one of: {allowed}", key=self.name)
                return plain
            return value
        expected = " or ".join(_KIND_NAMES.get(kind, ("", kind.__name__))[1] for kind in self.kinds)
        raise ConfigError(f"option must be {expected}, not {type(value).__name__}", key=self.name)

    def row(self) -> str:
        """This option's line in the docs' option table."""
        names = " / ".join(f"`{key}`" for key in self.keys)
        kind = " or ".join(_KIND_NAMES.get(k, (k.__name__, ""))[0] for k in self.kinds)
        if self.choices is not None:
            kind = "one of " + ", ".join(f"`{_literal(choice)}`" for choice in self.choices)
        if self.required:
            default = "required"
        elif self.is_credential and self.default_env:
            default = f"`${self.default_env}`"
        elif self.is_credential and self.default_file:
            default = f"`{self.default_file}`"
        elif self.default is None:
            default = "none"
        else:
            default = f"`{_literal(self.default)}`"
        return f"| {names} | {kind} | {default} | {' '.join(self.help.split())} |"


def _literal(value: object) -> str:
    """A default or a choice as a settings file writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if not value or value != value.strip() else value
    if isinstance(value, Mapping):
        return "{}" if not value else str(dict(value))
    return str(value)


class Options:
    """A provider's declared options, in order (see the module docstring)."""

    def __init__(self, *options: Option) -> None:
        self._options = {option.name: option for option in options}
        if len(self._options) != len(options):
            raise ValueError("option names must be unique")
        self._by_key = {key: option for option in options for key in option.keys}
        if len(self._by_key) != sum(len(option.keys) for option in options):
            raise ValueError("option keys (X, X_env, X_file) must be unique")

    def __iter__(self) -> Iterator[Option]:
        return iter(self._options.values())

    def __len__(self) -> int:
        return len(self._options)

    def __getitem__(self, name: str) -> Option:
        return self._options[name]

    def __contains__(self, name: object) -> bool:
        return name in self._options

    def known(self) -> list[str]:
        """Every settings key accepted, sorted."""
        return sorted(self._by_key)

    def parse(self, options: Mapping[str, Any], *, base_dir: Path, provider: str) -> dict[str, Any]:
        """Constructor keywords from a settings ``options`` mapping: unknown keys and
        ill-typed values are a :class:`ConfigError` naming the key; absent options
        (and ``null`` ones) are left to the constructor's defaults."""
        unknown = sorted(str(key) for key in options if key not in self._by_key)
        if unknown:
            known = ", ".join(self.known()) or "none"
            raise ConfigError(
                f"unknown option for provider {provider!r} (known: {known})", key=unknown[0]
            )
        values: dict[str, Any] = {}
        for option in self:
            argument = option.argument or option.name
            if option.is_credential:
                given = [options.get(key) for key in option.keys]
                if any(item is not None for item in given):
                    values[argument] = self._credential(option, given, base_dir)
                elif option.required:
                    option.source(base_dir=base_dir)  # raises: names the three options
                continue
            value = options.get(option.name)
            if value is not None:
                values[argument] = option.convert(value, base_dir=base_dir)
            elif option.required:
                raise ConfigError(option.missing or "option is required", key=option.name)
        return values

    @staticmethod
    def _credential(option: Option, given: list[Any], base_dir: Path) -> CredentialSource | None:
        value, env, file = given
        for key, item in zip(option.keys, given, strict=True):
            if item is not None and not isinstance(item, str | SecretValue):
                raise ConfigError(f"option must be a string, not {type(item).__name__}", key=key)
        return option.source(value, env, file, base_dir=base_dir)

    def table(self) -> str:
        """The Markdown option table for the provider's docs page."""
        lines = ["| Option | Type | Default | Meaning |", "|---|---|---|---|"]
        return "\n".join(lines + [option.row() for option in self])


#: The option a provider with endpoint URLs declares to allow ``http://`` to another host.
INSECURE = Option(
    "insecure",
    bool,
    default=False,
    help="Allow an `http://` endpoint on another host than this one (tokens and values "
    "then cross the network unencrypted); `health` and `check` warn about it. Without it "
    "only `https://`, or `http://` to `localhost` / `127.0.0.1` / `::1`, is accepted. It "
    "does not turn off certificate checks.",
)
