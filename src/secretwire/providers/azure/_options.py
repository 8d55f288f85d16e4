"""The provider's declared options (they drive ``from_options`` and the docs' table),
and the ``SecretClient`` keywords they give."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...values import SecretValue
from ..base import REQUIRED, Credential, Option, Options, option_text
from ._credentials import KINDS

__all__ = ["OPTIONS", "client_options"]

#: The options of ``provider: azure`` (``docs/providers/azure.md`` shows this table).
OPTIONS = Options(
    Option(
        "vault_url",
        str,
        default=REQUIRED,
        nonempty=True,
        missing="the vault URL is required",
        help="`https://<vault>.vault.azure.net` (no user, password, query or fragment: "
        "a URL that could carry a credential is refused, without being echoed).",
    ),
    Option(
        "credential",
        str,
        default="default",
        choices=KINDS,
        help="How to authenticate, [below](#credentials).",
    ),
    Option("tenant_id", str, help="`client_secret` only: the Microsoft Entra tenant."),
    Option(
        "client_id",
        str,
        help="`client_secret`: the application (client) ID. `managed_identity`: a "
        "user-assigned identity's client ID. `default`: passed as "
        "`managed_identity_client_id`.",
    ),
    Option(
        "client_secret",
        Credential,
        label="client secret",
        help="`client_secret` only: the client secret itself (best from a bootstrap secret, "
        "`${secret:...}`), the name of an environment variable holding it (anything but a "
        "variable name is refused, unechoed), or a file holding it (relative to the "
        "settings file's folder). Surrounding whitespace is ignored; it is never shown.",
    ),
    Option(
        "name_encoding",
        str,
        default="verbatim",
        choices=("verbatim", "escape"),
        help="How secretwire names become Key Vault names, [below](#names).",
    ),
    Option(
        "enforce_validity",
        bool,
        default=True,
        help="Refuse versions outside their `not_before` / `expires_on` window, "
        "[below](#disabled-expired-and-not-yet-valid-secrets).",
    ),
    Option(
        "purge_on_delete",
        bool,
        default=False,
        help="After deleting, purge the secret so the name can be used again at once "
        "(needs the purge permission).",
    ),
    Option(
        "timeout",
        float,
        default=30.0,
        help="Seconds for connecting, for each read, and for waiting on a delete or recovery.",
    ),
    Option(
        "retries",
        int,
        default=3,
        help="How often the SDK retries throttled (429) and failed (5xx) requests, with "
        "exponential back-off.",
    ),
    Option(
        "poll_interval",
        float,
        default=1.0,
        help="Seconds between checks while waiting for a delete or recovery to finish.",
    ),
    Option(
        "api_version",
        str,
        help="Pin the Key Vault REST API version (the SDK's default otherwise).",
    ),
    Option(
        "verify_challenge_resource",
        bool,
        default=True,
        help="Check that the authentication challenge names a Key Vault domain. Turn off "
        "only for an emulator.",
    ),
    Option(
        "connection_verify",
        (bool, Path),
        default=True,
        help="TLS verification: `false`, or a CA bundle (relative to the settings file's "
        "folder). For emulators with a self-signed certificate.",
    ),
)


def client_options(
    timeout: float,
    retries: int,
    api_version: str | SecretValue | None,
    verify_challenge_resource: bool,
    connection_verify: bool | str | os.PathLike[str] | SecretValue,
) -> dict[str, Any]:
    """``SecretClient``'s keyword arguments for the provider's options."""
    verify = connection_verify
    if not isinstance(verify, bool):
        verify = option_text(verify) if isinstance(verify, SecretValue) else os.fspath(verify)
    kwargs: dict[str, Any] = {
        "verify_challenge_resource": verify_challenge_resource,
        "connection_verify": verify,
        "connection_timeout": timeout,
        "read_timeout": timeout,
        "retry_total": retries,
    }
    if api_version is not None:
        kwargs["api_version"] = option_text(api_version)
    return kwargs
