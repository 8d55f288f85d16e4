"""Key Vault's outcomes as secretwire errors: the one translation, mostly a table.

Used through the kit's :func:`~secretwire.providers.base.call`, which raises the
result outside its ``except`` block: no SDK exception is chained to an error (a
failed ``set`` holds the request, and so the value), and no SDK message is copied
into one. Errors carry fields: the HTTP status and Key Vault's error codes as
``code``, what happened as ``detail``, what to do as ``hint``.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping
from typing import Any

from ...errors import (
    AccessDenied,
    Conflict,
    InvalidSecret,
    ProviderError,
    ProviderUnavailable,
    SecretDisabled,
    SecretNotFound,
    Unauthenticated,
)
from ..base import exception_chain, from_table, os_reason, ssl_reason, timed_out

__all__ = ["PERMISSIONS", "translate"]

#: The Key Vault permission each operation needs (access policy / RBAC data action).
PERMISSIONS = {
    "get": "get (Microsoft.KeyVault/vaults/secrets/getSecret/action)",
    "set": "set (Microsoft.KeyVault/vaults/secrets/setSecret/action)",
    "list": "list (Microsoft.KeyVault/vaults/secrets/readMetadata/action)",
    "versions": "list (Microsoft.KeyVault/vaults/secrets/readMetadata/action)",
    "delete": "delete (Microsoft.KeyVault/vaults/secrets/delete)",
    "recover": "recover (Microsoft.KeyVault/vaults/deletedSecrets/recover/action)",
    "purge": "purge (Microsoft.KeyVault/vaults/deletedSecrets/delete)",
    "list deleted": "list (Microsoft.KeyVault/vaults/deletedSecrets/read)",
    "health check": "get (Microsoft.KeyVault/vaults/secrets/getSecret/action)",
}

#: HTTP status -> (error, detail); 5xx answers are ProviderUnavailable, others ProviderError.
_STATUS: dict[int, tuple[type[ProviderError], str | None]] = {
    400: (InvalidSecret, "Key Vault rejected the request as invalid"),
    401: (Unauthenticated, "Key Vault did not accept the identity's token"),
    403: (AccessDenied, "Key Vault refused the identity"),
    404: (SecretNotFound, None),
    409: (Conflict, "Key Vault refused it because of the secret's state"),
    429: (ProviderUnavailable, "Key Vault is throttling requests (after the SDK's retries)"),
}

_CREDENTIAL_HINT = "run with --debug to see why each credential in the chain failed"
_RECOVER_HINT = (
    "recover it (AzureKeyVaultProvider.recover) or purge it (AzureKeyVaultProvider.purge) "
    "before writing it again"
)


Table = tuple[tuple[type[BaseException], type[ProviderError], str], ...]


@functools.cache
def _sdk_types() -> tuple[Table, tuple[type[BaseException], ...]]:
    """Failures without an answer from Key Vault, and the SDK's timeouts (the SDK is
    imported when first used)."""
    from azure.core.exceptions import (  # noqa: PLC0415 - the SDK is an optional extra
        ClientAuthenticationError,
        ServiceRequestError,
        ServiceRequestTimeoutError,
        ServiceResponseError,
        ServiceResponseTimeoutError,
    )

    table: Table = (
        (ServiceRequestError, ProviderUnavailable, "Key Vault did not answer"),
        (ServiceResponseError, ProviderUnavailable, "no complete answer from Key Vault"),
        # Raised by the credential (azure-identity): no token could be obtained. Its
        # text names the credentials tried, never a value; --debug shows it.
        (ClientAuthenticationError, Unauthenticated, "could not get a token"),
    )
    return table, (ServiceRequestTimeoutError, ServiceResponseTimeoutError)


def _why(err: Exception) -> str:
    """Why no answer came: a timeout, a TLS failure or the operating system's words
    (the kit's chain walk follows azure-core's ``inner_exception``)."""
    if isinstance(err, _sdk_types()[1]) or timed_out(err):
        return "timed out"
    if any(isinstance(item, ssl.SSLError) for item in exception_chain(err)):
        return ssl_reason(err)
    return os_reason(err)


def _unanswered(err: Exception, fields: dict[str, Any]) -> ProviderError | None:
    error = from_table(err, _sdk_types()[0], **fields)
    if isinstance(error, ProviderUnavailable):
        detail = f"{error.detail}: {_why(err)} ({type(err).__name__})"
        return ProviderUnavailable(detail=detail, **fields)
    if isinstance(error, Unauthenticated):
        detail = f"{error.detail} ({type(err).__name__})"
        error = Unauthenticated(detail=detail, hint=_CREDENTIAL_HINT, **fields)
        error.original = err  # off the chain; secretwire --debug prints it
    return error


def translate(err: Exception, context: Mapping[str, Any]) -> ProviderError | None:
    """``err`` (an SDK or credential exception) as a secretwire error; ``context``
    holds the error's fields (``operation``, ``name``, ``version``, ``provider``,
    ``endpoint``)."""
    from azure.core.exceptions import HttpResponseError  # noqa: PLC0415 - optional extra

    fields = dict(context)
    status = err.status_code if isinstance(err, HttpResponseError) else None
    if status is None:
        return _unanswered(err, fields)
    assert isinstance(err, HttpResponseError)  # noqa: S101 - it has a status
    odata = err.error
    inner = odata.innererror.get("code") if odata is not None and odata.innererror else None
    codes = "/".join(str(c) for c in (odata and odata.code, inner) if c)
    fields["code"] = f"HTTP {status}, {codes or 'no Key Vault error code'}"
    operation = str(fields.get("operation"))
    if status == 404 and odata is None:
        words = "the address answered 404 without a Key Vault error"
        return ProviderUnavailable(detail=words, hint="check vault_url", **fields)
    # Key Vault: 403 Forbidden/SecretDisabled, "Operation get is not allowed on a
    # disabled secret." Other 403s may say "disabled" too ("Public network access
    # is disabled", a firewall): those are plain access denials.
    said = (odata.message or "").lower() if odata is not None else ""
    if status == 403 and (inner == "SecretDisabled" or "disabled secret" in said):
        return SecretDisabled(detail="the secret is disabled in Key Vault", **fields)
    if status == 409 and operation == "set":
        words = "the name is deleted but recoverable, so it cannot be written"
        return Conflict(detail=words, hint=_RECOVER_HINT, **fields)
    fallback: tuple[type[ProviderError], str | None] = (
        (ProviderUnavailable, "Key Vault failed the request")
        if status >= 500
        else (ProviderError, "Key Vault gave an unexpected answer")
    )
    error, detail = _STATUS.get(status, fallback)
    if error is AccessDenied:
        needed = PERMISSIONS.get(operation, operation)
        fields["hint"] = f"the identity needs the secrets {needed} permission"
    return error(detail=detail, **fields)
