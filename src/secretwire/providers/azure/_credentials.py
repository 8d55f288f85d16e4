"""The azure-identity credential a provider makes from its options.

``credential`` names the kind: ``default`` (``DefaultAzureCredential``),
``client_secret`` (``ClientSecretCredential``: ``tenant_id``, ``client_id`` and the
secret from ``client_secret`` / ``client_secret_env`` / ``client_secret_file``) or
``managed_identity`` (``ManagedIdentityCredential``, ``client_id`` for a
user-assigned identity). The client secret is read through the kit's
:class:`~secretwire.providers.base.CredentialSource`: a ``SecretValue`` from the
moment it is read, revealed only in the call that makes the credential, never echoed.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ...errors import ConfigError
from ...values import SecretValue
from ..base import CredentialSource, option_text, require_extra

if TYPE_CHECKING:
    from azure.identity import (
        ClientSecretCredential,
        DefaultAzureCredential,
        ManagedIdentityCredential,
    )

    #: A credential the provider made (and so closes).
    Made = ClientSecretCredential | DefaultAzureCredential | ManagedIdentityCredential

__all__ = ["KINDS", "make_credential"]

#: The values of the ``credential`` option.
KINDS = ("default", "client_secret", "managed_identity")


def _text(value: str | SecretValue | None) -> str | None:
    return None if value is None else option_text(value)


def _given_as(source: CredentialSource) -> str:
    """The option the client secret was given as."""
    if source.value is not None:
        return source.option
    return f"{source.option}_env" if source.env is not None else f"{source.option}_file"


def make_credential(
    kind: str,
    *,
    tenant_id: str | SecretValue | None,
    client_id: str | SecretValue | None,
    client_secret: CredentialSource | None,
) -> Made:
    """The credential of kind ``kind`` (one of :data:`KINDS`). Options that the kind
    does not use, and missing ones it needs, are a :class:`ConfigError` naming the
    option (never its value)."""
    tenant, client = _text(tenant_id), _text(client_id)
    if kind not in KINDS:
        raise ConfigError(f"credential must be {', '.join(KINDS)}", key="credential")
    if kind != "client_secret":
        unused = [] if tenant is None else ["tenant_id"]
        unused += [] if client_secret is None else [_given_as(client_secret)]
        if unused:
            raise ConfigError(
                f"only used with credential: client_secret (not {kind})", key=unused[0]
            )
    require_extra("azure.identity", "azure")
    from azure import identity  # noqa: PLC0415 - optional extra, imported when first used

    if kind == "default":
        if client is None:
            return identity.DefaultAzureCredential()
        return identity.DefaultAzureCredential(managed_identity_client_id=client)
    if kind == "managed_identity":
        return identity.ManagedIdentityCredential(client_id=client)
    if not tenant:
        raise ConfigError("credential client_secret needs tenant_id", key="tenant_id")
    if not client:
        raise ConfigError("credential client_secret needs client_id", key="client_id")
    if client_secret is None:
        raise ConfigError(
            "credential client_secret needs one of client_secret, client_secret_env or "
            "client_secret_file",
            key="client_secret_env",
        )
    secret = client_secret.read()
    # azure-identity checks the tenant id (ValueError, quoting nothing): raised as a
    # ConfigError outside the except block, from a frame that holds the secret masked.
    made: Made | None = None
    with contextlib.suppress(ValueError):
        made = identity.ClientSecretCredential(tenant, client, secret.reveal())
    if made is None:
        raise ConfigError(
            "tenant_id is not a valid tenant id (a GUID or a domain name)", key="tenant_id"
        )
    return made
