"""The provider contract: one ABC every backend implements, and its value types.

A provider only knows how to talk to its backend and how to translate that
backend's errors into :mod:`secretwire.errors`. Caching, authorization, audit and
fallback live in the manager pipeline, once, not in providers.
"""

from __future__ import annotations

import builtins
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from ..errors import ConfigError, InvalidSecret, ProviderError, UnsupportedOperation
from ..types import Capabilities, Health, HealthStatus, Secret, SecretVersion
from ..values import SecretValue

__all__ = [
    "HIDDEN",
    "Capabilities",
    "Health",
    "HealthStatus",
    "Secret",
    "SecretProvider",
    "SecretVersion",
    "check_value",
    "env_variable",
    "option_text",
    "plain_url",
    "read_secret_file",
    "secret_value",
    "shown",
    "string_map",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_value(value: SecretValue, *, name: str, provider: str) -> None:
    """Refuse a value ``set`` cannot store as text, before any backend call.

    A value holding a lone surrogate (what ``surrogateescape`` makes of bytes that
    are not UTF-8) cannot be encoded as UTF-8: every provider refuses it with
    :class:`InvalidSecret` naming the character offset, never the value. Every
    provider's ``set`` calls this on the :func:`secret_value` it wrapped first, so no
    frame holds the plain value."""
    found = _SURROGATE.search(value.reveal())
    if found is None:
        return
    offset = found.start()
    del found  # the match holds the text: the frame that raises holds no value
    raise InvalidSecret(
        f"value of secret {name!r} is not valid Unicode text (a lone surrogate at character "
        f"{offset}; bytes that are not UTF-8?); nothing stored",
        name=name,
        provider=provider,
    )


# -- option values -----------------------------------------------------------------------
#
# A settings file may fill provider options from secrets (an environment's
# ``bootstrap``); those values reach ``from_options`` (and the constructors) as
# :class:`SecretValue`. Providers use them through :func:`option_text` and show them
# only through :func:`shown`, so an option that came from a secret is never echoed in
# an error, a repr or a health detail.

#: How an option value that came from a secret is shown.
HIDDEN = "<from a secret>"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")


def option_text(value: str | SecretValue) -> str:
    """The text of an option value, whether given plainly or from a secret."""
    return value.reveal() if isinstance(value, SecretValue) else value


def shown(value: str | SecretValue | None, text: str | None = None) -> str:
    """How an option value appears in messages, reprs and health details: ``text``
    (a cleaned form, e.g. a URL) or the value itself, unless it came from a secret."""
    if isinstance(value, SecretValue):
        return HIDDEN
    if text is not None:
        return text
    return "" if value is None else value


def env_variable(value: object, option: str) -> str:
    """``value`` checked to be an environment variable name.

    The value is never echoed: an option such as ``key_env`` given the key itself
    instead of a variable name must not put the key into the error."""
    text = value.reveal() if isinstance(value, SecretValue) else value
    if not isinstance(text, str) or not _ENV_NAME.fullmatch(text):
        raise ConfigError(
            "must name an environment variable (letters, digits and '_', not starting "
            "with a digit); the value given is not shown",
            key=option,
        )
    return text


def plain_url(
    url: str | SecretValue | None, option: str, *, schemes: tuple[str, ...] = ("http", "https")
) -> str | None:
    """The text of ``url``, checked to be an absolute URL with one of ``schemes`` that
    carries no credentials: no ``user:password@``, no query and no fragment.

    Providers show their endpoint in reprs, errors and health details, so a URL
    that could hold a credential (``https://host/?token=...``) is refused
    (``ConfigError`` naming the option, never echoing the URL). Credentials belong
    in the provider's auth options."""
    if url is None:
        return None
    from urllib.parse import urlsplit  # noqa: PLC0415 - only providers with URLs need it

    text = option_text(url) if isinstance(url, str | SecretValue) else None
    if not isinstance(text, str):
        raise ConfigError("must be a URL string", key=option)
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"is not a valid {wanted} URL", key=option) from None
    if parts.scheme not in schemes or not parts.hostname or any(c.isspace() for c in text):
        raise ConfigError(f"must be a {wanted} URL", key=option)
    if parts.netloc.rpartition("@")[0]:
        raise ConfigError(
            "must not contain a user name or password (use the provider's auth options)",
            key=option,
        )
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ConfigError(
            "must not contain a query or a fragment (use the provider's auth options for "
            "credentials)",
            key=option,
        )
    return text


def read_secret_file(
    path: Path, *, option: str, what: str, shown_path: str | None = None, encoding: str = "utf-8"
) -> SecretValue:
    """The text of a credential file (a token, a key), held as a :class:`SecretValue`.

    Errors name ``what`` and the path (``shown_path`` when the path itself must not
    be shown) and are raised outside the ``except`` blocks: a ``UnicodeDecodeError``
    holds the file's bytes, which must not ride along as ``__context__``."""
    where = f"{what} {shown_path if shown_path is not None else path}"
    try:
        return SecretValue(path.read_text(encoding=encoding))
    except FileNotFoundError:
        reason = "does not exist"
    except OSError as err:
        reason = f"cannot be read: {err.strerror or type(err).__name__}"
    except UnicodeDecodeError:
        reason = f"is not {'ASCII' if encoding == 'ascii' else 'UTF-8'} text"
    raise ConfigError(f"{where} {reason}", key=option)


def secret_value(value: str | SecretValue) -> SecretValue:
    """A value to store, held as a :class:`SecretValue`.

    ``set`` implementations call it first, then drop the plain argument (``del
    value``), so no frame on an error path shows the value (error trackers record
    every frame's local variables)."""
    if isinstance(value, SecretValue):
        return value
    if not isinstance(value, str):
        raise TypeError(f"secret value must be str, not {type(value).__name__}")
    return SecretValue(value)


def string_map(data: Mapping[str, str] | None, what: str) -> dict[str, str]:
    """A copy of ``metadata``/``tags`` given to ``set``, checked to map str to str.

    Providers call it first thing in ``set``, so a wrong type fails before any
    backend call (``TypeError``, naming ``what``, never a value)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise TypeError(f"{what} must map str to str")
    return dict(data)


class SecretProvider(ABC):
    """Base class of every provider.

    Subclasses set ``name`` and ``capabilities`` and implement :meth:`get`.
    Optional operations raise :class:`UnsupportedOperation` unless overridden;
    never a silent no-op. Each method raises only :mod:`secretwire.errors` types.
    """

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, base_dir: Path) -> SecretProvider:
        """Build the provider from a settings-file ``options`` mapping.

        Relative paths are taken relative to ``base_dir`` (the settings file's
        folder). Unknown or ill-typed options raise :class:`ConfigError` naming the
        key. The default accepts no options.
        """
        if options:
            unknown = ", ".join(sorted(options))
            raise ConfigError(f"unknown option(s) for provider {cls.name!r}: {unknown}")
        return cls()

    # -- reads -----------------------------------------------------------------
    @abstractmethod
    def get(self, name: str, *, version: str | None = None) -> Secret:
        """Return the current (or the given) version. Raises :class:`SecretNotFound`."""

    def get_many(
        self, keys: Sequence[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], Secret | ProviderError]:
        """Fetch several secrets. Backends with a batch API override this.

        The result maps every key to its secret or to the error for that key; an
        error that concerns the whole backend (unavailable) may be raised instead.
        """
        results: dict[tuple[str, str | None], Secret | ProviderError] = {}
        for name, version in keys:
            try:
                results[(name, version)] = self.get(name, version=version)
            except ProviderError as err:
                results[(name, version)] = err
        return results

    def list(self, prefix: str = "") -> Iterator[str]:
        """Names (never values) starting with ``prefix``, in sorted order."""
        raise UnsupportedOperation(f"provider {self.name!r} cannot list secrets")

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        """Versions of ``name``, newest first."""
        raise UnsupportedOperation(f"provider {self.name!r} does not keep versions")

    # -- writes ----------------------------------------------------------------
    def set(
        self,
        name: str,
        value: str,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
    ) -> SecretVersion:
        """Store a new version of ``name`` and return it."""
        raise UnsupportedOperation(f"provider {self.name!r} is read-only")

    def delete(self, name: str) -> None:
        """Delete ``name`` and all its versions. Raises :class:`SecretNotFound`."""
        raise UnsupportedOperation(f"provider {self.name!r} cannot delete secrets")

    # -- lifecycle -------------------------------------------------------------
    def health(self) -> Health:
        """Check the backend. The default reports OK without contacting anything;
        providers with a backend override it (the manager times the call)."""
        return Health(self.name, HealthStatus.OK)

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately empty by default
        """Release connections and handles. Idempotent."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"
