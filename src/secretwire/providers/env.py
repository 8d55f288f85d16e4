"""Read-only secrets from environment variables.

A secret name maps to a variable as ``prefix + name`` where every character of
the name outside ``[A-Za-z0-9_]`` becomes ``_`` and, with ``uppercase=True`` (the
default), the result of the name part is upper-cased: with ``prefix="APP_"``,
``db/password`` reads ``APP_DB_PASSWORD``. The prefix is used exactly as given.

The mapping is lossy: ``db/password``, ``db-password`` and ``db_password`` (and,
when upper-casing, ``DB_password``) all map to the same variable. :meth:`list`
therefore returns the canonical form (the variable name minus the prefix,
lower-cased when upper-casing) and only names that map back to their variable.

Environment variables have no versions, metadata or history; the provider cannot
write, delete or list versions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SecretNotFound
from ..references import check_name
from ..values import SecretValue
from .base import HIDDEN, Capabilities, Secret, SecretProvider, option_text

__all__ = ["EnvProvider"]

_PROVIDER = "env"
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


class EnvProvider(SecretProvider):
    """Secrets read from environment variables (see the module docstring).

    ``environ`` replaces ``os.environ`` (tests inject a dict); ``os.environ`` is
    read at call time, so variables set after construction are seen.
    """

    name = _PROVIDER
    capabilities = Capabilities(list=True)

    def __init__(
        self,
        *,
        prefix: str | SecretValue = "",
        uppercase: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(prefix, str | SecretValue):
            raise ConfigError("option must be a string", key="prefix")
        if not isinstance(uppercase, bool):
            raise ConfigError("option must be a boolean", key="uppercase")
        # A prefix from a bootstrap secret is used, never shown (nor the variable names).
        self._hidden = isinstance(prefix, SecretValue)
        self._prefix = option_text(prefix)
        self._uppercase = uppercase
        self._environ = environ

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, base_dir: Path) -> EnvProvider:
        """Build from settings: ``prefix`` (string) and ``uppercase`` (boolean)."""
        unknown = sorted(set(options) - {"prefix", "uppercase"})
        if unknown:
            raise ConfigError(
                "unknown option for provider 'env' (known: prefix, uppercase)", key=unknown[0]
            )
        prefix = options.get("prefix", "")
        uppercase = options.get("uppercase", True)
        if not isinstance(prefix, str | SecretValue):
            raise ConfigError(f"option must be a string, not {type(prefix).__name__}", key="prefix")
        if not isinstance(uppercase, bool):
            raise ConfigError(
                f"option must be a boolean, not {type(uppercase).__name__}", key="uppercase"
            )
        return cls(prefix=prefix, uppercase=uppercase)

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def variable_for(self, name: str) -> str:
        """The environment variable that holds secret ``name``."""
        part = _UNSAFE.sub("_", name)
        return self._prefix + (part.upper() if self._uppercase else part)

    def get(self, name: str, *, version: str | None = None) -> Secret:
        check_name(name, provider=_PROVIDER)
        variable = self.variable_for(name)
        if version is not None:
            raise SecretNotFound(
                f"not found: secret {name!r} version {version!r} in provider 'env' "
                "(environment variables have no versions)",
                name=name,
                provider=_PROVIDER,
                version=str(version),
            )
        value = self._env().get(variable)
        if value is None:
            raise SecretNotFound(
                f"not found: secret {name!r} in provider 'env' "
                f"(environment variable {HIDDEN if self._hidden else variable} is not set)",
                name=name,
                provider=_PROVIDER,
            )
        return Secret(name=name, value=SecretValue(value), provider=_PROVIDER)

    def list(self, prefix: str = "") -> Iterator[str]:
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be str, not {type(prefix).__name__}")
        names: set[str] = set()
        for variable in list(self._env()):
            if not variable.startswith(self._prefix) or len(variable) == len(self._prefix):
                continue
            rest = variable[len(self._prefix) :]
            name = rest.lower() if self._uppercase else rest
            if name.startswith(prefix) and self.variable_for(name) == variable:
                names.add(name)
        return iter(sorted(names))

    def __repr__(self) -> str:
        prefix = HIDDEN if getattr(self, "_hidden", False) else getattr(self, "_prefix", "?")
        return f"<{type(self).__name__} name={self.name!r} prefix={prefix!r}>"
