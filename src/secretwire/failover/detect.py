"""``provider: auto``: pick the provider from what the environment configures.

In this order, the first that applies:

1. **vault** when ``VAULT_ADDR`` or ``BAO_ADDR`` is set (its value is the ``url``),
   or ``options.vault.url`` is given;
2. **aws** when AWS credentials or a region are configured in the environment
   (``AWS_ACCESS_KEY_ID``, ``AWS_PROFILE``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``,
   ``AWS_WEB_IDENTITY_TOKEN_FILE``, ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``,
   ``AWS_CONTAINER_CREDENTIALS_FULL_URI``), or ``options.aws`` names a region or profile;
3. **azure** when ``AZURE_KEYVAULT_URL`` is set (the ``vault_url``), or
   ``options.azure.vault_url`` is given;
4. else **file**, the encrypted local store (default ``.secretwire/dev.store`` with
   ``.secretwire/dev.key``, what ``secretwire init`` creates).

``options`` holds one mapping per candidate (``options: {vault: {mount: kv}, file:
{...}}``): the picked one's are its options. The reason is kept as a note that
``health`` shows (``provider auto picked vault: $VAULT_ADDR is set``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

__all__ = ["AUTO", "CANDIDATES", "VARIABLES", "Detection", "check_auto_options", "detect"]

AUTO = "auto"
CANDIDATES = ("vault", "aws", "azure", "file")

_VAULT_VARIABLES = ("VAULT_ADDR", "BAO_ADDR")
_AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
_AZURE_VARIABLE = "AZURE_KEYVAULT_URL"
#: Every variable ``provider: auto`` reads.
VARIABLES = (*_VAULT_VARIABLES, "VAULT_TOKEN", "BAO_TOKEN", *_AWS_VARIABLES, _AZURE_VARIABLE)
_TOKEN_OPTIONS = ("token", "token_env", "token_file")
DEFAULT_FILE_OPTIONS = {"path": ".secretwire/dev.store", "key_file": ".secretwire/dev.key"}


@dataclass(frozen=True, slots=True)
class Detection:
    """The provider picked, its options and why."""

    provider: str
    options: Mapping[str, Any]
    reason: str

    @property
    def note(self) -> str:
        return f"provider auto picked {self.provider}: {self.reason}"


def check_auto_options(options: Mapping[str, Any], *, source: str, key: str) -> None:
    """``options`` of ``provider: auto``: a mapping per candidate provider."""
    for name, value in options.items():
        if name not in CANDIDATES:
            raise ConfigError(
                f"provider auto takes options per provider (one of: {', '.join(CANDIDATES)})",
                source=source,
                key=f"{key}.{name}",
            )
        if value is not None and not isinstance(value, Mapping):
            raise ConfigError(
                f"expected a mapping, got {type(value).__name__}",
                source=source,
                key=f"{key}.{name}",
            )


def detect(options: Mapping[str, Any], environ: Mapping[str, str]) -> Detection:
    """The provider ``provider: auto`` picks (see the module docstring); ``options``
    are the environment's (already resolved), ``environ`` the process environment."""

    def own(name: str) -> dict[str, Any]:
        return dict(options.get(name) or {})

    vault = own("vault")
    for variable in _VAULT_VARIABLES:
        if environ.get(variable):
            vault.setdefault("url", environ[variable])
            if (
                variable == "BAO_ADDR"
                and not any(option in vault for option in _TOKEN_OPTIONS)
                and environ.get("BAO_TOKEN")
                and not environ.get("VAULT_TOKEN")
            ):
                vault["token_env"] = "BAO_TOKEN"  # noqa: S105 - a variable name
            return Detection("vault", vault, f"${variable} is set")
    if vault.get("url"):
        return Detection("vault", vault, "options.vault.url is given")
    aws = own("aws")
    for variable in _AWS_VARIABLES:
        if environ.get(variable):
            return Detection("aws", aws, f"${variable} is set")
    for option in ("region", "profile"):
        if aws.get(option):
            return Detection("aws", aws, f"options.aws.{option} is given")
    azure = own("azure")
    if environ.get(_AZURE_VARIABLE):
        azure.setdefault("vault_url", environ[_AZURE_VARIABLE])
        return Detection("azure", azure, f"${_AZURE_VARIABLE} is set")
    if azure.get("vault_url"):
        return Detection("azure", azure, "options.azure.vault_url is given")
    local = own("file") or dict(DEFAULT_FILE_OPTIONS)
    return Detection(
        "file", local, "no Vault, AWS or Azure address, credentials or region is configured"
    )
