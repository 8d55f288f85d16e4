"""AWS outcomes as secretwire errors: the code tables and the one translation.

Every Secrets Manager (and STS) call goes through :func:`aws_call`: botocore's
DEBUG and INFO log records (request and response bodies, hence values, and the
signed request with the session token) are dropped while it runs (the kit's
``quiet_loggers``), and its exceptions go through :func:`translate` with the kit's
``call`` (raised outside the ``except`` block: no ``__cause__``, no ``__context__``).

Errors carry fields: the secretwire ``operation`` (``get``, ``set``...), the AWS
call in the ``detail`` (``not allowed to call GetSecretValue``), the AWS error code
as ``code``. The AWS message text is never copied (validation errors can echo
request values); it is only looked at for the one outcome AWS has no code for, a
secret scheduled for deletion.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ...errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    DecryptionFailed,
    InvalidSecret,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SecretwireError,
    Unauthenticated,
)
from ..base import call, quiet_loggers

__all__ = ["PROVIDER", "aws_call", "from_code", "translate"]

T = TypeVar("T")

PROVIDER = "aws"

#: Codes that mean "these credentials are not valid" rather than "not allowed".
UNAUTHENTICATED_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "AuthFailure",
    }
)
_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "NotAuthorized",
        "RegionDisabledException",
    }
)
_UNAVAILABLE = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalServiceError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
_INVALID = frozenset(
    {
        "InvalidParameterException",
        "InvalidParameterValue",
        "ValidationException",
        "LimitExceededException",
        "MalformedPolicyDocumentException",
        "SerializationException",
    }
)
_CONFLICT = frozenset(
    {
        "ResourceExistsException",
        "PreconditionNotMetException",
        "InvalidRequestException",
        "InvalidNextTokenException",
    }
)
_NONE: frozenset[Any] = frozenset()

Row = tuple[frozenset[str], frozenset[int], type[ProviderError], str | None, str | None]

#: (codes, HTTP statuses, error, detail, hint): the first row that holds the code or
#: the status decides. ``{call}`` in a detail is the AWS call.
_BY_CODE: tuple[Row, ...] = (
    (
        frozenset({"DecryptionFailure"}),
        _NONE,
        DecryptionFailed,
        "AWS could not decrypt it with its KMS key",
        "check kms:Decrypt on the key and that the key is enabled",
    ),
    (
        frozenset({"EncryptionFailure"}),
        _NONE,
        AccessDenied,
        "AWS could not encrypt it with the KMS key",
        "check kms:GenerateDataKey on the key and that it is enabled",
    ),
    (frozenset({"ResourceNotFoundException"}), _NONE, SecretNotFound, None, None),
    (
        UNAUTHENTICATED_CODES,
        frozenset({401}),
        Unauthenticated,
        "credentials rejected on {call}",
        None,
    ),
    (_DENIED, frozenset({403}), AccessDenied, "not allowed to call {call}", None),
    (
        _UNAVAILABLE,
        frozenset({429, *range(500, 600)}),
        ProviderUnavailable,
        "AWS Secrets Manager did not serve {call}",
        None,
    ),
    (_INVALID, _NONE, InvalidSecret, "AWS refused the parameters of {call}", None),
    (_CONFLICT, _NONE, Conflict, "the secret's state forbids {call}", None),
    # Secrets Manager says "not found" only with ResourceNotFoundException. A bare 404
    # comes from something else at endpoint_url (a proxy, a wrong URL): never "not
    # found", or a ``:-default`` would hide the misconfiguration.
    (
        _NONE,
        frozenset({404}),
        ProviderUnavailable,
        "the endpoint answered {call} with HTTP 404 but no Secrets Manager error",
        "check endpoint_url",
    ),
)

_SCHEDULED = "the secret is scheduled for deletion"
_RESTORE = "restore it first (AwsSecretsManagerProvider.restore)"
_XML_CODE = re.compile(r"<Code>([A-Za-z0-9.]{1,64})</Code>")


def from_code(code: str, status: int, message: str, context: Mapping[str, Any]) -> ProviderError:
    """The error for an AWS error ``code`` (or HTTP ``status``) answered to the call
    ``context["api"]``; ``message`` (AWS's text) is only searched, never copied."""
    fields = _fields(context)
    api = context.get("api") or "the call"
    lowered = message.lower()
    if code == "InvalidRequestException" and ("deleted" in lowered or "deletion" in lowered):
        if context.get("operation") in ("set", "restore"):
            return Conflict(detail=_SCHEDULED, code=code, hint=_RESTORE, **fields)
        return SecretNotFound(detail=_SCHEDULED, code=code, **fields)
    for codes, statuses, row_error, detail, hint in _BY_CODE:
        if code in codes or status in statuses:
            error = row_error
            if error is AccessDenied and context.get("credentials"):
                # A refused AssumeRole: without credentials no call can succeed.
                error = Unauthenticated
            if error is ProviderUnavailable:
                fields["endpoint"] = context.get("endpoint")
            text = None if detail is None else detail.format(call=api)
            return error(detail=text, code=code, hint=hint, **fields)
    return ProviderError(detail=f"{api} failed", code=code, **fields)


def _fields(context: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "operation": context.get("operation"),
        "name": context.get("name"),
        "version": context.get("version"),
        "provider": PROVIDER,
    }


def _client_error(err: Any) -> tuple[str, int, str]:
    """(code, HTTP status, AWS message) of a botocore ``ClientError``."""
    response = getattr(err, "response", None) or {}
    error = response.get("Error") or {}
    code = str(error.get("Code") or "")
    message = str(error.get("Message") or "")
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    if code.isdigit():
        # A body botocore could not parse for this protocol (a proxy, or an XML
        # error from an emulator's auth layer): the status is the code; look for a
        # code name in the body. Only the code name is kept.
        status = status or int(code)
        found = _XML_CODE.search(message)
        code = found.group(1) if found else f"HTTP {code}"
    return code, status, message


ExceptionRow = tuple[tuple[type[BaseException], ...], type[ProviderError], str, str | None]


@functools.cache
def _by_exception() -> tuple[ExceptionRow, ...]:
    """(botocore exception types, error, detail, hint): the first row that fits decides.
    ``{call}`` is the AWS call, ``{type}`` the exception's class name."""
    from botocore import exceptions as bex  # noqa: PLC0415 - optional SDK

    return (
        # Its report quotes the rejected value ("value: ..."): keep none of it.
        (
            (bex.ParamValidationError,),
            InvalidSecret,
            "botocore refused the parameters of {call}",
            None,
        ),
        (
            (bex.ConnectTimeoutError, bex.ReadTimeoutError),
            ProviderUnavailable,
            "{call} timed out ({type})",
            None,
        ),
        (
            (bex.EndpointConnectionError, bex.ConnectionClosedError, bex.HTTPClientError),
            ProviderUnavailable,
            "cannot reach AWS Secrets Manager for {call} ({type})",
            None,
        ),
        (
            (bex.NoCredentialsError, bex.PartialCredentialsError, bex.CredentialRetrievalError),
            Unauthenticated,
            "no usable AWS credentials for {call} ({type})",
            "configure a profile, role_arn, key variables or the standard credential chain",
        ),
        ((bex.BotoCoreError,), ProviderError, "{call} failed ({type})", None),
    )


def translate(err: Exception, context: Mapping[str, Any]) -> SecretwireError | None:
    """The one translation of a botocore exception raised by the call ``context["api"]``
    (``None`` for an exception that is not botocore's)."""
    from botocore import exceptions as bex  # noqa: PLC0415 - optional SDK

    if isinstance(err, bex.ClientError):
        code, status, message = _client_error(err)
        # An STS error while refreshing role credentials surfaces from the Secrets
        # Manager call: name the call that failed.
        api = str(getattr(err, "operation_name", "") or context.get("api"))
        credentials = api != context.get("api")
        return from_code(code, status, message, {**context, "api": api, "credentials": credentials})
    if isinstance(err, bex.NoRegionError):
        return ConfigError(
            "no AWS region: set the provider option 'region' or AWS_REGION / AWS_DEFAULT_REGION",
            key="region",
        )
    if isinstance(err, bex.ProfileNotFound):
        return ConfigError("the AWS profile named by 'profile' does not exist", key="profile")
    for types, error, detail, hint in _by_exception():
        if isinstance(err, types):
            fields = _fields(context)
            if error is ProviderUnavailable:
                fields["endpoint"] = context.get("endpoint")
            text = detail.format(call=context.get("api"), type=type(err).__name__)
            return error(detail=text, hint=hint, **fields)
    return None


#: botocore logs request bodies (``SecretString``), response bodies and the signed
#: canonical request (with the session token) at DEBUG: quiet during our calls.
_LOGGER_PREFIXES = ("botocore", "boto3", "urllib3", "s3transfer")
_KNOWN_LOGGERS = (
    "botocore",
    "botocore.endpoint",
    "botocore.parsers",
    "botocore.auth",
    "botocore.awsrequest",
    "botocore.httpsession",
    "botocore.hooks",
    "botocore.retryhandler",
    "botocore.retries.standard",
    "botocore.retries.adaptive",
    "botocore.credentials",
    "botocore.client",
    "botocore.utils",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.response",
)


def aws_call(api: str, fn: Callable[[], T], /, **context: Any) -> T:
    """``fn()``, the AWS call ``api``, with botocore's logs quiet and its errors
    translated; ``context`` holds the error fields (``operation``, ``name``,
    ``version``) and the ``endpoint`` to show when AWS cannot be reached."""
    with quiet_loggers(_LOGGER_PREFIXES, known=_KNOWN_LOGGERS):
        return call(fn, translate, api=api, provider=PROVIDER, **context)
