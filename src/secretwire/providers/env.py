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
from collections.abc import Iterable, Mapping

from ..errors import ConfigError, SecretNotFound
from ..values import SecretValue
from .base import HIDDEN, Capabilities, Option, Options, Secret, SecretProvider, option_text

__all__ = ["EnvProvider"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


class EnvProvider(SecretProvider):
    """Secrets read from environment variables (see the module docstring).

    ``environ`` replaces ``os.environ`` (tests inject a dict); ``os.environ`` is
    read at call time, so variables set after construction are seen.
    """

    name = "env"
    capabilities = Capabilities(list=True)
    options = Options(
        Option(
            "prefix", str, default="", help="Put in front of every variable name, exactly as given."
        ),
        Option("uppercase", bool, default=True, help="Upper-case the name part of the variable."),
    )

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

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def variable_for(self, name: str) -> str:
        """The environment variable that holds secret ``name``."""
        part = _UNSAFE.sub("_", name)
        return self._prefix + (part.upper() if self._uppercase else part)

    def _get(self, name: str, version: str | None) -> Secret:
        fields = {"operation": "get", "name": name, "provider": self.name}
        if version is not None:
            raise SecretNotFound(
                version=version, detail="environment variables have no versions", **fields
            )
        variable = self.variable_for(name)
        value = self._env().get(variable)
        if value is None:
            shown = HIDDEN if self._hidden else variable
            raise SecretNotFound(detail=f"environment variable {shown} is not set", **fields)
        return Secret(name=name, value=SecretValue(value), provider=self.name)

    def _list(self, prefix: str) -> Iterable[str]:
        for variable in list(self._env()):
            if not variable.startswith(self._prefix) or len(variable) == len(self._prefix):
                continue
            rest = variable[len(self._prefix) :]
            name = rest.lower() if self._uppercase else rest
            if name.startswith(prefix) and self.variable_for(name) == variable:
                yield name

    def __repr__(self) -> str:
        prefix = HIDDEN if getattr(self, "_hidden", False) else getattr(self, "_prefix", "?")
        return f"<{type(self).__name__} name={self.name!r} prefix={prefix!r}>"
