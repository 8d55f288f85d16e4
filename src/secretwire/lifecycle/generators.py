"""Value generators for rotation: built-in ones and those named by the settings.

A generator is a callable ``generator(current) -> SecretValue`` where ``current`` is
the value being replaced (or ``None``). The settings name one by ``type`` with its
options (``{type: password, length: 40}``); ``type`` is a built-in name, the name of
an entry point in the group ``secretwire.generators``, or ``module:attribute``. Each
names a *factory*: it is called with the other options and returns the generator.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any

from ..errors import ConfigError
from ..values import SecretValue
from ._loading import load_object

__all__ = [
    "BUILTIN_GENERATORS",
    "ENTRY_POINT_GROUP",
    "Generator",
    "GeneratorError",
    "JsonField",
    "Password",
    "RandomBytes",
    "generator_from_spec",
]

ENTRY_POINT_GROUP = "secretwire.generators"

#: ``generator(current) -> new value``.
Generator = Callable[[SecretValue | None], SecretValue]

#: Password character classes. The default symbols avoid quotes, backslash, ``$``,
#: backtick and space, which break shells, URLs and config files most often.
CLASSES = {
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
    "symbols": "!#%+,-.:=@^_~",
}
_MAX_LENGTH = 4096


class GeneratorError(Exception):
    """A generator could not make a value; its message never holds one."""


def _option_error(message: str) -> ConfigError:
    return ConfigError(message)


@dataclass(frozen=True)
class Password:
    """A random password: ``length`` characters with at least one of each class in
    ``classes`` (``lower``, ``upper``, ``digits``, ``symbols``), none of ``exclude``;
    ``symbols`` replaces the default symbol set."""

    length: int = 32
    classes: Sequence[str] = ("lower", "upper", "digits", "symbols")
    exclude: str = ""
    symbols: str | None = None
    _alphabets: tuple[str, ...] = _field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.classes, str) or not self.classes:
            raise _option_error("classes must be a non-empty list of: " + ", ".join(CLASSES))
        unknown = [c for c in self.classes if c not in CLASSES]
        if unknown:
            raise _option_error(
                f"unknown character class {unknown[0]!r} (known: {', '.join(CLASSES)})"
            )
        if not isinstance(self.exclude, str) or (
            self.symbols is not None and not isinstance(self.symbols, str)
        ):
            raise _option_error("exclude and symbols must be strings")
        alphabets = []
        for name in dict.fromkeys(self.classes):
            chars = (
                self.symbols if name == "symbols" and self.symbols is not None else CLASSES[name]
            )
            kept = "".join(ch for ch in chars if ch not in self.exclude)
            if not kept:
                raise _option_error(f"class {name!r} has no character left after exclude")
            alphabets.append(kept)
        if type(self.length) is not int or not len(alphabets) <= self.length <= _MAX_LENGTH:
            raise _option_error(
                f"length must be an integer from {len(alphabets)} (one per class) to {_MAX_LENGTH}"
            )
        object.__setattr__(self, "_alphabets", tuple(alphabets))

    def __call__(self, current: SecretValue | None = None) -> SecretValue:
        everything = "".join(self._alphabets)
        chosen = [secrets.choice(alphabet) for alphabet in self._alphabets]
        chosen += [secrets.choice(everything) for _ in range(self.length - len(chosen))]
        secrets.SystemRandom().shuffle(chosen)
        return SecretValue("".join(chosen))


@dataclass(frozen=True)
class RandomBytes:
    """``size`` random bytes, as ``hex`` or ``base64url`` (no padding)."""

    size: int = 32
    encoding: str = "hex"

    def __post_init__(self) -> None:
        if type(self.size) is not int or not 1 <= self.size <= 1024:
            raise _option_error("bytes must be an integer from 1 to 1024")
        if self.encoding not in ("hex", "base64url"):
            raise _option_error("encoding must be hex or base64url")

    def __call__(self, current: SecretValue | None = None) -> SecretValue:
        data = secrets.token_bytes(self.size)
        if self.encoding == "hex":
            return SecretValue(data.hex())
        return SecretValue(base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii"))


@dataclass(frozen=True)
class JsonField:
    """For a JSON-object secret: ``field`` gets a new value from ``generator``; every
    other field is kept as it is."""

    field: str
    generator: Generator = _field(default_factory=Password)

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not self.field:
            raise _option_error("field must be a non-empty string")

    def __call__(self, current: SecretValue | None = None) -> SecretValue:
        document = _json_object(current)
        if document is None:
            raise GeneratorError(f"the current value is not a JSON object (field {self.field!r})")
        document[self.field] = self.generator(None).reveal()
        return SecretValue(json.dumps(document, ensure_ascii=False, separators=(",", ":")))


def _json_object(current: SecretValue | None) -> dict[str, Any] | None:
    """The current value as a JSON object, or None. Never raises: a decoding error
    holds the text, so it must not reach a traceback."""
    if current is None:
        return None
    try:
        data = json.loads(current.reveal())
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _hex(size: int = 32) -> RandomBytes:
    return RandomBytes(size, "hex")


def _base64url(size: int = 32) -> RandomBytes:
    return RandomBytes(size, "base64url")


BUILTIN_GENERATORS: Mapping[str, Callable[..., Generator]] = {
    "password": Password,
    "hex": _hex,
    "base64url": _base64url,
    "json": JsonField,
}

#: Option names in the settings -> the factories' keywords.
_RENAMED = {"bytes": "size"}


def generator_from_spec(spec: object, *, source: str | None, key: str) -> Generator:
    """The generator a settings entry describes: ``password``, or a mapping with
    ``type`` and the factory's options (``{type: json, field: password, generator:
    {type: password, length: 24}}``). Errors are :class:`ConfigError` naming ``key``."""
    if spec is None:
        return Password()
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping) or not isinstance(spec.get("type"), str):
        raise ConfigError(
            "must be a generator name or a mapping with 'type'", source=source, key=key
        )
    options = {_RENAMED.get(str(k), str(k)): v for k, v in spec.items() if k != "type"}
    kind: str = spec["type"]
    if "generator" in options:
        options["generator"] = generator_from_spec(
            options["generator"], source=source, key=f"{key}.generator"
        )
    factory = BUILTIN_GENERATORS.get(kind) or load_object(
        kind, group=ENTRY_POINT_GROUP, what="generator", source=source, key=f"{key}.type"
    )
    problem = None
    try:
        generator = factory(**options)
    except ConfigError as err:
        problem = err.reason
    except TypeError as err:
        problem = f"bad options for generator {kind!r}: {err}"
    if problem is not None:
        raise ConfigError(problem, source=source, key=key)
    if not callable(generator):
        raise ConfigError(f"generator {kind!r} did not make a callable", source=source, key=key)
    return generator
