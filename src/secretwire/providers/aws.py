"""AWS Secrets Manager, through boto3.

Each provider method makes these Secrets Manager calls (the IAM actions they need
are listed in ``docs/providers/aws.md``):

* ``get`` -- ``GetSecretValue`` (by ``VersionId`` or ``VersionStage``).
* ``get_many`` -- ``BatchGetSecretValue`` for current versions, 20 names per call
  (following ``NextToken``); ``GetSecretValue`` for pinned versions. When the
  batch call itself is denied, the provider falls back to ``GetSecretValue`` per
  name for the rest of its life.
* ``list`` -- ``ListSecrets`` (boto3 paginator, name filter, then an exact
  case-sensitive prefix match here).
* ``versions`` -- ``ListSecretVersionIds`` (paged by hand: boto3 has no paginator).
* ``set`` -- ``PutSecretValue``; ``CreateSecret`` when the secret does not exist;
  ``TagResource`` / ``UpdateSecret`` for tags and description on an existing secret.
* ``delete`` -- ``DeleteSecret`` (``DescribeSecret`` first when forcing deletion
  without recovery, because AWS reports no error for a missing name then).
* ``restore`` -- ``RestoreSecret``. ``health`` -- ``ListSecrets`` with one result.

Every backend error goes through :func:`_translate`, the one place that maps
botocore outcomes to :mod:`secretwire.errors`. The AWS message text is never
copied into our messages (validation errors can echo request values); only the
error code is. Translated errors are raised outside the ``except`` block, so they
carry neither ``__cause__`` nor ``__context__``.

While this provider calls AWS, botocore's DEBUG and INFO log records (which hold
request and response bodies, hence values, and signed headers) are dropped (the
kit's ``quiet_loggers``).

A value being written is a :class:`~secretwire.SecretValue` in every frame of this
module; it is revealed only inside the call to botocore, whose frames end with the
translated error (raised outside the ``except`` block), so no frame on an error's
traceback shows it.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import functools
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from .._version import __version__
from ..errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    DecryptionFailed,
    InvalidSecret,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SecretwireError,
    UnsupportedOperation,
)
from ..references import check_name
from ..values import SecretValue
from .base import (
    Capabilities,
    Health,
    HealthStatus,
    Secret,
    SecretProvider,
    SecretVersion,
    check_value,
    env_variable,
    option_text,
    plain_url,
    quiet_loggers,
    secret_value,
    shown,
    string_map,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_secretsmanager.type_defs import (
        BatchGetSecretValueRequestTypeDef,
        GetSecretValueResponseTypeDef,
        ListSecretVersionIdsRequestTypeDef,
        SecretValueEntryTypeDef,
    )

__all__ = ["AwsSecretsManagerProvider"]

T = TypeVar("T")

_PROVIDER = "aws"
_EXTRA_HINT = "the aws provider needs boto3: pip install 'secretwire[aws]'"

#: Secret names AWS accepts (CreateSecret): 1-512 of these characters.
_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
#: A full secret ARN is accepted wherever a name is read.
_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+")
#: AWS version ids are UUIDs (ClientRequestToken: 32-64 characters).
_VERSION_ID = re.compile(r"[A-Za-z0-9-]{32,64}")
#: Staging labels: 1-256 characters, no whitespace or control characters.
_STAGE = re.compile(r"[^\s\x00-\x1f]{1,256}")
_MAX_VALUE_BYTES = 65536
_BATCH_SIZE = 20
_MAX_TAGS = 50
_METADATA_TAG_PREFIX = "secretwire:"

RetryMode = Literal["standard", "adaptive", "legacy"]
BinaryMode = Literal["auto", "base64"]

# -- error translation ------------------------------------------------------------------

_NOT_FOUND_CODES = frozenset({"ResourceNotFoundException"})
#: Codes that mean "these credentials are not valid" rather than "not allowed".
_UNAUTHENTICATED_CODES = frozenset(
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
_DENIED_CODES = _UNAUTHENTICATED_CODES | {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "NotAuthorized",
    "RegionDisabledException",
}
_UNAVAILABLE_CODES = frozenset(
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
_INVALID_CODES = frozenset(
    {
        "InvalidParameterException",
        "InvalidParameterValue",
        "ValidationException",
        "LimitExceededException",
        "MalformedPolicyDocumentException",
        "SerializationException",
    }
)
_CONFLICT_CODES = frozenset(
    {
        "ResourceExistsException",
        "PreconditionNotMetException",
        "InvalidRequestException",
        "InvalidNextTokenException",
    }
)
_XML_CODE = re.compile(r"<Code>([A-Za-z0-9.]{1,64})</Code>")


@dataclass(frozen=True, slots=True)
class _Outcome:
    """An error reported inside a successful response (BatchGetSecretValue ``Errors``)."""

    code: str
    message: str


Action = Literal["read", "write", "delete"]


def _where(name: str | None, version: str | None) -> str:
    if name is None:
        return f"in provider {_PROVIDER!r}"
    text = f"secret {name!r}"
    if version is not None:
        text += f" version {version!r}"
    return f"{text} in provider {_PROVIDER!r}"


def _error_code(err: Any) -> tuple[str, int, str]:
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


def _translate(
    err: BaseException | _Outcome,
    *,
    operation: str,
    name: str | None = None,
    version: str | None = None,
    action: Action = "read",
) -> SecretwireError | None:
    """Map one botocore outcome to secretwire's error type; ``None`` if it is not one.

    The only function in this provider that decides what a backend outcome means.
    Messages carry the secret's name, the operation and the AWS error *code*, never
    the AWS message (which can echo request parameters) or an exception's text.
    """
    from botocore import exceptions as bex  # noqa: PLC0415 - optional SDK

    where = _where(name, version)
    subject = f"on {where}" if name is not None else where
    if isinstance(err, _Outcome):
        code, status, aws_message = err.code, 0, err.message
    elif isinstance(err, bex.ClientError):
        code, status, aws_message = _error_code(err)
        # An STS error while refreshing role credentials surfaces from the
        # Secrets Manager call: name the call that failed.
        operation = str(getattr(err, "operation_name", "") or operation)
    elif isinstance(err, bex.ParamValidationError):
        # Its report quotes the rejected value ("value: ..."): keep none of it.
        return InvalidSecret(
            f"invalid secret: {where}: botocore rejected the request parameters for {operation}",
            name=name,
            provider=_PROVIDER,
            version=version,
        )
    elif isinstance(err, (bex.ConnectTimeoutError, bex.ReadTimeoutError)):
        return ProviderUnavailable(
            f"unavailable: {operation} timed out {subject} ({type(err).__name__})",
            name=name,
            provider=_PROVIDER,
            version=version,
        )
    elif isinstance(
        err,
        (bex.EndpointConnectionError, bex.ConnectionClosedError, bex.HTTPClientError),
    ):
        return ProviderUnavailable(
            f"unavailable: cannot reach AWS Secrets Manager for {operation} {subject} "
            f"({type(err).__name__})",
            name=name,
            provider=_PROVIDER,
            version=version,
        )
    elif isinstance(
        err, (bex.NoCredentialsError, bex.PartialCredentialsError, bex.CredentialRetrievalError)
    ):
        return AccessDenied(
            f"access denied: no usable AWS credentials for {operation} {subject} "
            f"({type(err).__name__}); configure a profile, role_arn, key variables or the "
            "standard credential chain",
            name=name,
            provider=_PROVIDER,
            version=version,
        )
    elif isinstance(err, bex.NoRegionError):
        return ConfigError(
            "no AWS region: set the provider option 'region' or AWS_REGION / AWS_DEFAULT_REGION",
            key="region",
        )
    elif isinstance(err, bex.ProfileNotFound):
        return ConfigError("the AWS profile named by 'profile' does not exist", key="profile")
    elif isinstance(err, bex.BotoCoreError):
        return ProviderError(
            f"provider error: {operation} failed {subject} ({type(err).__name__})",
            name=name,
            provider=_PROVIDER,
            version=version,
        )
    else:
        return None

    detail = f"{code} on {operation}"
    kwargs: dict[str, Any] = {"name": name, "provider": _PROVIDER, "version": version}
    lowered = aws_message.lower()
    if code == "DecryptionFailure":
        return DecryptionFailed(
            f"decryption failed: {where}: AWS could not decrypt it with its KMS key "
            f"(check kms:Decrypt on the key and that the key is enabled) ({detail})",
            **kwargs,
        )
    if code == "EncryptionFailure":
        return AccessDenied(
            f"access denied: {where}: AWS could not encrypt it with the KMS key "
            f"(check kms:GenerateDataKey on the key and that it is enabled) ({detail})",
            **kwargs,
        )
    if code == "InvalidRequestException" and ("deleted" in lowered or "deletion" in lowered):
        if action == "write":
            return Conflict(
                f"conflict: {where} is scheduled for deletion; restore it first "
                f"(AwsSecretsManagerProvider.restore) ({detail})",
                **kwargs,
            )
        return SecretNotFound(
            f"not found: {where} is scheduled for deletion ({detail})",
            **kwargs,
        )
    if code in _NOT_FOUND_CODES:
        return SecretNotFound(f"not found: {where} ({detail})", **kwargs)
    if code in _DENIED_CODES or status in (401, 403):
        reason = "credentials rejected" if code in _UNAUTHENTICATED_CODES else "not allowed"
        return AccessDenied(f"access denied: {where}: {reason} ({detail})", **kwargs)
    if code in _UNAVAILABLE_CODES or status >= 500 or status == 429:
        return ProviderUnavailable(
            f"unavailable: AWS Secrets Manager did not serve {operation} {subject} ({code})",
            **kwargs,
        )
    if code in _INVALID_CODES:
        return InvalidSecret(f"invalid secret: {where} ({detail})", **kwargs)
    if code in _CONFLICT_CODES:
        return Conflict(f"conflict: {where}: the secret's state forbids this ({detail})", **kwargs)
    if status == 404:
        # Secrets Manager says "not found" only with ResourceNotFoundException. A bare
        # 404 comes from something else at endpoint_url (a proxy, a wrong URL): never
        # "not found", or a ``:-default`` would hide the misconfiguration.
        return ProviderUnavailable(
            f"unavailable: the endpoint answered HTTP 404 without a Secrets Manager error "
            f"to {operation} {subject} (check endpoint_url) ({code})",
            **kwargs,
        )
    return ProviderError(f"provider error: {where} ({detail})", **kwargs)


# -- keeping botocore's debug logs out of our calls ---------------------------------------

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


def _quiet() -> contextlib.AbstractContextManager[None]:
    """The kit's SDK log guard (``quiet_loggers``) for botocore and its HTTP stack."""
    return quiet_loggers(_LOGGER_PREFIXES, known=_KNOWN_LOGGERS)


# -- helpers --------------------------------------------------------------------------------


def _import_sdk() -> None:
    try:
        import boto3  # noqa: F401, PLC0415
        import botocore  # noqa: F401, PLC0415
    except ImportError as err:
        raise ImportError(_EXTRA_HINT) from err


def _check_name(name: object, *, allow_arn: bool) -> str:
    if not isinstance(name, str):
        raise TypeError(f"secret name must be str, not {type(name).__name__}")
    check_name(name, provider=_PROVIDER)
    if _NAME.fullmatch(name) or (allow_arn and _ARN.fullmatch(name)):
        return name
    shown = name if len(name) <= 80 else name[:77] + "..."
    raise InvalidSecret(
        f"invalid secret: name {shown!r} is not valid for AWS Secrets Manager "
        "(1-512 characters of A-Z a-z 0-9 / _ + = . @ -)",
        name=name,
        provider=_PROVIDER,
    )


def _version_selector(name: str, version: str) -> dict[str, str]:
    """``VersionId`` for a UUID-like version, else ``VersionStage`` (a staging label)."""
    if not isinstance(version, str) or not version:
        raise InvalidSecret("version must be a non-empty string", name=name, provider=_PROVIDER)
    if _VERSION_ID.fullmatch(version):
        return {"VersionId": version}
    if _STAGE.fullmatch(version):
        return {"VersionStage": version}
    raise InvalidSecret(
        f"invalid secret: {version[:40]!r} is neither a version id nor a staging label",
        name=name,
        provider=_PROVIDER,
        version=version,
    )


def _tags_for(tags: Mapping[str, str], metadata: Mapping[str, str]) -> list[dict[str, str]]:
    merged = dict(tags)
    for key, value in metadata.items():
        if key != "description":
            merged[_METADATA_TAG_PREFIX + key] = value
    for key, value in merged.items():
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
            raise InvalidSecret(
                f"invalid secret: tag key {key[:40]!r} is not accepted by AWS "
                "(1-128 characters, value at most 256, no 'aws:' prefix)",
                provider=_PROVIDER,
            )
    if len(merged) > _MAX_TAGS:
        raise InvalidSecret(
            f"invalid secret: {len(merged)} tags (metadata included); AWS allows {_MAX_TAGS}",
            provider=_PROVIDER,
        )
    return [{"Key": k, "Value": v} for k, v in sorted(merged.items())]


def _check_size(name: str, size: int) -> None:
    if size > _MAX_VALUE_BYTES:
        raise InvalidSecret(
            f"invalid secret: value of {size} bytes for secret {name!r} is over the AWS limit "
            f"of {_MAX_VALUE_BYTES} bytes",
            name=name,
            provider=_PROVIDER,
        )


def _utc(moment: object) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _env_value(variable: str, shown_variable: str, option: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(f"environment variable {shown_variable} is not set or empty", key=option)
    return value


def _utf8_size(value: SecretValue) -> int:
    """The UTF-8 size of ``value`` (checked by ``check_value``: no lone surrogates)."""
    return len(value.reveal().encode("utf-8"))


def _payload(value: SecretValue, *, binary: bool) -> dict[str, Any]:
    """The ``SecretString`` / ``SecretBinary`` argument, built in the botocore call."""
    if binary:
        return {"SecretBinary": base64.b64decode(value.reveal())}
    return {"SecretString": value.reveal()}


def _text_option(value: str | SecretValue | None) -> str | None:
    return None if value is None else option_text(value)


def _path_option(value: str | os.PathLike[str] | SecretValue | None) -> str | None:
    if value is None:
        return None
    return value.reveal() if isinstance(value, SecretValue) else str(value)


_OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "region": (str,),
    "endpoint_url": (str,),
    "sts_endpoint_url": (str,),
    "profile": (str,),
    "access_key_id_env": (str,),
    "secret_access_key_env": (str,),
    "session_token_env": (str,),
    "shared_credentials_file": (str,),
    "config_file": (str,),
    "role_arn": (str,),
    "role_session_name": (str,),
    "external_id": (str,),
    "role_duration_seconds": (int,),
    "kms_key_id": (str,),
    "recovery_window_days": (int,),
    "force_delete_without_recovery": (bool,),
    "max_attempts": (int,),
    "retry_mode": (str,),
    "connect_timeout": (int, float),
    "read_timeout": (int, float),
    "binary": (str,),
    "batch": (bool,),
}


class AwsSecretsManagerProvider(SecretProvider):
    """Secrets in AWS Secrets Manager.

    Credentials come from, in this order of precedence: ``session`` (a
    ``boto3.Session``, Python only); the environment variables named by
    ``access_key_id_env`` / ``secret_access_key_env`` / ``session_token_env``;
    ``profile``; the standard boto3 chain. With ``role_arn`` those credentials
    are only used to call ``sts:AssumeRole``; the role's credentials are refreshed
    before they expire. Nothing is contacted until the first call.
    """

    name = _PROVIDER
    _legacy_public_methods = True  # TRANSITION: converted to the kit's hooks in k9-aws
    capabilities = Capabilities(
        write=True,
        delete=True,
        list=True,
        versions=True,
        metadata=False,
        max_value_bytes=_MAX_VALUE_BYTES,
    )

    #: Options accepted by :meth:`from_options` (``secretwire.yaml``).
    OPTIONS: ClassVar[frozenset[str]] = frozenset(_OPTION_TYPES)

    def __init__(
        self,
        *,
        region: str | SecretValue | None = None,
        endpoint_url: str | SecretValue | None = None,
        sts_endpoint_url: str | SecretValue | None = None,
        profile: str | SecretValue | None = None,
        access_key_id_env: str | SecretValue | None = None,
        secret_access_key_env: str | SecretValue | None = None,
        session_token_env: str | SecretValue | None = None,
        shared_credentials_file: str | os.PathLike[str] | SecretValue | None = None,
        config_file: str | os.PathLike[str] | SecretValue | None = None,
        role_arn: str | SecretValue | None = None,
        role_session_name: str | SecretValue = "secretwire",
        external_id: str | SecretValue | None = None,
        role_duration_seconds: int = 3600,
        kms_key_id: str | SecretValue | None = None,
        recovery_window_days: int = 30,
        force_delete_without_recovery: bool = False,
        max_attempts: int = 5,
        retry_mode: RetryMode = "standard",
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        binary: BinaryMode = "auto",
        batch: bool = True,
        session: boto3.Session | None = None,
    ) -> None:
        _import_sdk()
        if (access_key_id_env is None) != (secret_access_key_env is None):
            raise ConfigError(
                "give both access_key_id_env and secret_access_key_env, or neither",
                key="access_key_id_env" if access_key_id_env is None else "secret_access_key_env",
            )
        if session_token_env is not None and access_key_id_env is None:
            raise ConfigError("session_token_env needs access_key_id_env", key="session_token_env")
        if access_key_id_env is not None and profile is not None:
            raise ConfigError(
                "give either profile or the key variables, not both", key="access_key_id_env"
            )
        if session is not None and (profile is not None or access_key_id_env is not None):
            raise ConfigError("a session already carries its credentials", key="profile")
        if not 7 <= recovery_window_days <= 30:
            raise ConfigError("must be from 7 to 30 days", key="recovery_window_days")
        if not 1 <= max_attempts <= 20:
            raise ConfigError("must be from 1 to 20", key="max_attempts")
        if retry_mode not in ("standard", "adaptive", "legacy"):
            raise ConfigError("must be standard, adaptive or legacy", key="retry_mode")
        if binary not in ("auto", "base64"):
            raise ConfigError("must be auto or base64", key="binary")
        if not 900 <= role_duration_seconds <= 43200:
            raise ConfigError("must be from 900 to 43200 seconds", key="role_duration_seconds")
        for option, timeout in (
            ("connect_timeout", connect_timeout),
            ("read_timeout", read_timeout),
        ):
            if not 0 < timeout <= 300:
                raise ConfigError("must be more than 0 and at most 300 seconds", key=option)
        # Option values given as SecretValue (from a bootstrap secret) are used and
        # never shown (the repr uses _shown); variable names are checked for shape and
        # never echoed (given a key instead of a name, the error must not show it).
        self._shown = {
            label: shown(value)
            for label, value in (
                ("region", region),
                ("endpoint_url", endpoint_url),
                ("profile", profile),
                ("role_arn", role_arn),
            )
            if value is not None
        }
        self.region = _text_option(region)
        self.endpoint_url = plain_url(endpoint_url, "endpoint_url")
        self.sts_endpoint_url = plain_url(sts_endpoint_url, "sts_endpoint_url")
        self.profile = _text_option(profile)
        self.role_arn = _text_option(role_arn)
        self.role_session_name = option_text(role_session_name)
        self.role_duration_seconds = role_duration_seconds
        self.kms_key_id = _text_option(kms_key_id)
        self.recovery_window_days = recovery_window_days
        self.force_delete_without_recovery = force_delete_without_recovery
        self.max_attempts = max_attempts
        self.retry_mode: RetryMode = retry_mode
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.binary: BinaryMode = binary
        self.batch = batch
        self._external_id = _text_option(external_id)
        self._key_envs = tuple(
            None if value is None else (env_variable(value, option), shown(value))
            for option, value in (
                ("access_key_id_env", access_key_id_env),
                ("secret_access_key_env", secret_access_key_env),
                ("session_token_env", session_token_env),
            )
        )
        self._credentials_file = _path_option(shared_credentials_file)
        self._config_file = _path_option(config_file)
        self._session = session
        self._client: SecretsManagerClient | None = None
        self._sts: Any = None
        self._lock = threading.Lock()
        self._batch_denied = False

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], *, base_dir: Path
    ) -> AwsSecretsManagerProvider:
        known = ", ".join(sorted(_OPTION_TYPES))
        for key, value in options.items():
            types = _OPTION_TYPES.get(key)
            if types is None:
                raise ConfigError(f"unknown option for provider 'aws' (known: {known})", key=key)
            if str in types and isinstance(value, SecretValue):
                continue  # a string from a bootstrap secret: used, never shown
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                expected = " or ".join(t.__name__ for t in types)
                raise ConfigError(f"must be {expected}", key=key)
        kwargs = dict(options)
        for key in ("shared_credentials_file", "config_file"):
            if key in kwargs:
                path = str(base_dir / Path(option_text(kwargs[key])).expanduser())
                kwargs[key] = SecretValue(path) if isinstance(kwargs[key], SecretValue) else path
        return cls(**kwargs)

    # -- the client ----------------------------------------------------------------------
    @property
    def client(self) -> SecretsManagerClient:
        """The boto3 ``secretsmanager`` client, created on first use (thread-safe)."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._call("CreateClient", self._make_client)
                client = self._client
        return client

    def _base_session(self) -> boto3.Session:
        import boto3  # noqa: PLC0415 - optional SDK
        import botocore.session  # noqa: PLC0415

        if self._session is not None:
            return self._session
        core = botocore.session.get_session()
        if self._credentials_file is not None:
            core.set_config_variable("credentials_file", self._credentials_file)
        if self._config_file is not None:
            core.set_config_variable("config_file", self._config_file)
        key_env, secret_env, token_env = self._key_envs
        if key_env is not None and secret_env is not None:
            return boto3.Session(
                aws_access_key_id=_env_value(*key_env, "access_key_id_env"),
                aws_secret_access_key=_env_value(*secret_env, "secret_access_key_env"),
                aws_session_token=(
                    None if token_env is None else _env_value(*token_env, "session_token_env")
                ),
                region_name=self.region,
                botocore_session=core,
            )
        return boto3.Session(
            profile_name=self.profile, region_name=self.region, botocore_session=core
        )

    def _assume_role_session(self, source: boto3.Session, role_arn: str) -> boto3.Session:
        import boto3  # noqa: PLC0415 - optional SDK
        import botocore.session  # noqa: PLC0415
        from botocore.credentials import (  # noqa: PLC0415
            CredentialProvider,
            DeferredRefreshableCredentials,
        )

        sts = source.client(
            "sts",
            region_name=self.region or source.region_name,
            endpoint_url=self.sts_endpoint_url,
            config=self._config(),
        )
        self._sts = sts  # closed with the Secrets Manager client (close())
        extra: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": self.role_session_name,
            "DurationSeconds": self.role_duration_seconds,
        }
        if self._external_id is not None:
            extra["ExternalId"] = self._external_id

        def refresh() -> dict[str, str]:
            # Runs inside a Secrets Manager call (botocore refreshes before signing);
            # an STS error then surfaces from that call and is translated there.
            creds = sts.assume_role(**extra)["Credentials"]
            expiry = creds["Expiration"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": expiry.astimezone(timezone.utc).isoformat(),
            }

        class _RoleProvider(CredentialProvider):
            METHOD = "secretwire-assume-role"
            CANONICAL_NAME = "secretwire-assume-role"

            def load(self) -> DeferredRefreshableCredentials:
                return DeferredRefreshableCredentials(refresh_using=refresh, method=self.METHOD)

        core = botocore.session.get_session()
        resolver = core.get_component("credential_provider")
        resolver.insert_before("env", _RoleProvider())
        return boto3.Session(region_name=self.region or source.region_name, botocore_session=core)

    def _config(self) -> Any:
        from botocore.config import Config  # noqa: PLC0415 - optional SDK

        return Config(
            # total_max_attempts counts the first try (botocore's max_attempts does not).
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            user_agent_extra=f"secretwire/{__version__}",
        )

    def _make_client(self) -> SecretsManagerClient:
        session = self._base_session()
        if self.role_arn is not None:
            session = self._assume_role_session(session, self.role_arn)
        return session.client(
            "secretsmanager",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=self._config(),
        )

    def _call(
        self,
        operation: str,
        fn: Callable[[], T],
        *,
        name: str | None = None,
        version: str | None = None,
        action: Action = "read",
    ) -> T:
        """Run one backend call with botocore's logs quiet; translate its errors."""
        mapped: SecretwireError | None = None
        with _quiet():
            try:
                return fn()
            except Exception as err:
                mapped = _translate(
                    err, operation=operation, name=name, version=version, action=action
                )
                if mapped is None:
                    raise
        # Raised here, outside the except block: no __context__ to the botocore error.
        raise mapped

    # -- reads ---------------------------------------------------------------------------
    def _secret(
        self, name: str, entry: GetSecretValueResponseTypeDef | SecretValueEntryTypeDef
    ) -> Secret:
        metadata = {
            "arn": str(entry.get("ARN", "")),
            "stages": ",".join(entry.get("VersionStages", [])),
        }
        if "SecretString" in entry:
            text = entry["SecretString"]
            metadata["type"] = "string"
        else:
            data = entry.get("SecretBinary", b"")
            metadata["type"] = "binary"
            text = ""
            if self.binary == "auto":
                try:
                    text = data.decode("utf-8")
                    metadata["encoding"] = "utf-8"
                except UnicodeDecodeError:
                    pass
            if "encoding" not in metadata:
                text = base64.b64encode(data).decode("ascii")
                metadata["encoding"] = "base64"
        return Secret(
            name=name,
            value=SecretValue(text),
            version=entry.get("VersionId"),
            updated_at=_utc(entry.get("CreatedDate")),
            metadata=metadata,
            provider=_PROVIDER,
        )

    def get(self, name: str, *, version: str | None = None) -> Secret:
        """``GetSecretValue``: by ``VersionId`` when ``version`` is a UUID-like id, by
        ``VersionStage`` when it is any other label (``AWSCURRENT``, ``AWSPREVIOUS``)."""
        _check_name(name, allow_arn=True)
        selector = _version_selector(name, version) if version is not None else {}
        client = self.client
        response = self._call(
            "GetSecretValue",
            lambda: client.get_secret_value(SecretId=name, **selector),
            name=name,
            version=version,
        )
        return self._secret(name, response)

    def get_many(
        self, keys: Sequence[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], Secret | ProviderError]:
        """``BatchGetSecretValue`` (20 names a call) for current versions; ``get`` for
        the rest. A denied batch call falls back to ``GetSecretValue`` per name."""
        results: dict[tuple[str, str | None], Secret | ProviderError] = {}
        batchable: list[str] = []
        singles: list[tuple[str, str | None]] = []
        for key in dict.fromkeys(keys):
            name, version = key
            if (
                self.batch
                and version is None
                and isinstance(name, str)
                and _NAME.fullmatch(name)
                and not self._batch_denied
            ):
                batchable.append(name)
            else:
                singles.append(key)
        for start in range(0, len(batchable), _BATCH_SIZE):
            chunk = batchable[start : start + _BATCH_SIZE]
            if self._batch_denied:
                singles.extend((n, None) for n in chunk)
                continue
            try:
                results.update(self._batch(chunk))
            except AccessDenied:
                # No secretsmanager:BatchGetSecretValue: read one by one from now on.
                self._batch_denied = True
                singles.extend((n, None) for n in chunk)
        if singles:
            from ..pipeline import fetch_each  # noqa: PLC0415 - only for unbatched reads

            # Concurrently (8 at a time, within the client's pool of 10 connections).
            results.update(fetch_each(self.get, singles))
        return results

    def _batch(self, names: list[str]) -> dict[tuple[str, str | None], Secret | ProviderError]:
        client = self.client
        found: dict[tuple[str, str | None], Secret | ProviderError] = {}
        token: str | None = None
        while True:
            request: BatchGetSecretValueRequestTypeDef = {"SecretIdList": names}
            if token:
                request["NextToken"] = token
            response = self._call(
                "BatchGetSecretValue",
                functools.partial(client.batch_get_secret_value, **request),
            )
            for entry in response.get("SecretValues", []):
                entry_name = entry.get("Name", "")
                if entry_name in names:
                    found[(entry_name, None)] = self._secret(entry_name, entry)
            for error in response.get("Errors", []):
                secret_id = error.get("SecretId", "")
                if secret_id in names:
                    outcome = _Outcome(error.get("ErrorCode", ""), error.get("Message", ""))
                    mapped = _translate(outcome, operation="BatchGetSecretValue", name=secret_id)
                    assert isinstance(mapped, ProviderError)  # noqa: S101 - codes map to these
                    found[(secret_id, None)] = mapped
            token = response.get("NextToken") or None
            if token is None:
                break
        for name in names:
            if (name, None) not in found:
                found[(name, None)] = ProviderError(
                    "provider error: BatchGetSecretValue returned nothing for "
                    + _where(name, None),
                    name=name,
                    provider=_PROVIDER,
                )
        return found

    def list(self, prefix: str = "") -> Iterator[str]:
        """``ListSecrets`` (paginated, ``name`` filter), excluding secrets scheduled for
        deletion. The AWS filter ignores case, so names are matched again exactly."""
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be str, not {type(prefix).__name__}")
        if prefix and not _NAME.fullmatch(prefix):
            return iter(())  # no AWS name can start with it
        client = self.client

        def fetch() -> builtins.list[str]:
            paginator = client.get_paginator("list_secrets")
            arguments: dict[str, Any] = {"PaginationConfig": {"PageSize": 100}}
            if prefix:
                arguments["Filters"] = [{"Key": "name", "Values": [prefix]}]
            names: set[str] = set()
            for page in paginator.paginate(**arguments):
                for entry in page.get("SecretList", []):
                    secret_name = entry.get("Name", "")
                    if secret_name.startswith(prefix) and "DeletedDate" not in entry:
                        names.add(secret_name)
            return sorted(names)

        return iter(self._call("ListSecrets", fetch))

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        """``ListSecretVersionIds`` (``IncludeDeprecated``, paged by ``NextToken``).

        Newest first by creation date; ``current`` marks the ``AWSCURRENT`` version;
        ``metadata["stages"]`` lists a version's staging labels (comma-separated).
        """
        _check_name(name, allow_arn=True)
        client = self.client
        entries: builtins.list[Any] = []
        token: str | None = None
        while True:
            request: ListSecretVersionIdsRequestTypeDef = {
                "SecretId": name,
                "IncludeDeprecated": True,
                "MaxResults": 100,
            }
            if token:
                request["NextToken"] = token
            response = self._call(
                "ListSecretVersionIds",
                functools.partial(client.list_secret_version_ids, **request),
                name=name,
            )
            entries.extend(response.get("Versions", []))
            token = response.get("NextToken") or None
            if token is None:
                break
        epoch = datetime.min.replace(tzinfo=timezone.utc)
        rank = {"AWSCURRENT": 2, "AWSPREVIOUS": 1}

        def order(item: tuple[int, Any]) -> tuple[datetime, int, int]:
            index, entry = item
            stages = entry.get("VersionStages", [])
            return (
                _utc(entry.get("CreatedDate")) or epoch,
                max((rank.get(s, 0) for s in stages), default=0),
                index,
            )

        ordered = [entry for _, entry in sorted(enumerate(entries), key=order, reverse=True)]
        return [
            SecretVersion(
                name=name,
                version=entry["VersionId"],
                created_at=_utc(entry.get("CreatedDate")),
                current="AWSCURRENT" in entry.get("VersionStages", []),
                metadata={"stages": ",".join(entry.get("VersionStages", []))},
            )
            for entry in ordered
        ]

    # -- writes --------------------------------------------------------------------------
    def set(  # type: ignore[override]  # TRANSITION: the kit's _set hook in k9-aws
        self,
        name: str,
        value: str,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
    ) -> SecretVersion:
        """``PutSecretValue`` (a new ``AWSCURRENT`` version); ``CreateSecret`` (with
        ``kms_key_id``, tags and description) when the secret does not exist.

        On an existing secret, tags are added with ``TagResource`` and
        ``metadata["description"]`` is set with ``UpdateSecret``. Other metadata keys
        are stored as tags named ``secretwire:<key>``. AWS keeps no expiry:
        ``expires_at`` raises :class:`UnsupportedOperation`.
        """
        secret = secret_value(value)
        del value  # only the masked value stays in this frame (and the ones below)
        _check_name(name, allow_arn=False)
        check_value(secret, name=name, provider=_PROVIDER)
        size = _utf8_size(secret)
        return self._write(name, secret, size, metadata, tags, expires_at, binary=False)

    def set_binary(
        self,
        name: str,
        data: bytes,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> SecretVersion:
        """Like :meth:`set`, storing ``data`` as ``SecretBinary``."""
        if not isinstance(data, bytes):
            raise TypeError(f"secret data must be bytes, not {type(data).__name__}")
        size = len(data)
        secret = SecretValue(base64.b64encode(data).decode("ascii"))  # held masked from here
        del data
        return self._write(name, secret, size, metadata, tags, None, binary=True)

    def _write(
        self,
        name: str,
        secret: SecretValue,
        size: int,
        metadata: Mapping[str, str] | None,
        tags: Mapping[str, str] | None,
        expires_at: datetime | None,
        *,
        binary: bool,
    ) -> SecretVersion:
        _check_name(name, allow_arn=False)
        _check_size(name, size)
        if expires_at is not None:
            raise UnsupportedOperation(
                "AWS Secrets Manager keeps no expiry date; use rotation instead",
                name=name,
                provider=_PROVIDER,
            )
        new_metadata = string_map(metadata, "metadata")
        new_tags = string_map(tags, "tags")
        tag_list = _tags_for(new_tags, new_metadata)
        description = new_metadata.get("description")
        client = self.client

        # The value is revealed in the botocore call's arguments only.
        def put() -> Any:
            return client.put_secret_value(SecretId=name, **_payload(secret, binary=binary))

        def create() -> Any:
            extra: dict[str, Any] = {}
            if self.kms_key_id is not None:
                extra["KmsKeyId"] = self.kms_key_id
            if tag_list:
                extra["Tags"] = tag_list
            if description is not None:
                extra["Description"] = description
            return client.create_secret(Name=name, **_payload(secret, binary=binary), **extra)

        # Errors are raised outside except blocks, so none carries another as context.
        missing = False
        try:
            response = self._call("PutSecretValue", put, name=name, action="write")
        except SecretNotFound:
            missing = True
        if missing:
            raced = False
            try:
                response = self._call("CreateSecret", create, name=name, action="write")
            except Conflict as err:
                if "ResourceExistsException" not in str(err):
                    raise
                raced = True
            if not raced:
                return self._written(name, response, new_metadata, new_tags)
            # Another writer created it first: add our value as a new version.
            response = self._call("PutSecretValue", put, name=name, action="write")
        if tag_list:
            self._call(
                "TagResource",
                lambda: client.tag_resource(SecretId=name, Tags=tag_list),  # type: ignore[arg-type]
                name=name,
                action="write",
            )
        if description is not None:
            self._call(
                "UpdateSecret",
                lambda: client.update_secret(SecretId=name, Description=description),
                name=name,
                action="write",
            )
        return self._written(name, response, new_metadata, new_tags)

    @staticmethod
    def _written(
        name: str, response: Any, metadata: dict[str, str], tags: dict[str, str]
    ) -> SecretVersion:
        stages = response.get("VersionStages") or ["AWSCURRENT"]
        return SecretVersion(
            name=name,
            version=response["VersionId"],
            created_at=datetime.now(timezone.utc),
            current="AWSCURRENT" in stages,
            metadata=metadata,
            tags=tags,
        )

    def delete(self, name: str) -> None:
        """``DeleteSecret`` with ``RecoveryWindowInDays`` (default 30): the secret is
        scheduled for deletion and can be restored until then. With
        ``force_delete_without_recovery``, ``DescribeSecret`` first (AWS reports no
        error for a missing name in that mode), then ``ForceDeleteWithoutRecovery``."""
        _check_name(name, allow_arn=True)
        client = self.client
        if self.force_delete_without_recovery:
            self._call(
                "DescribeSecret",
                lambda: client.describe_secret(SecretId=name),
                name=name,
                action="delete",
            )
            self._call(
                "DeleteSecret",
                lambda: client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True),
                name=name,
                action="delete",
            )
            return
        window = self.recovery_window_days
        self._call(
            "DeleteSecret",
            lambda: client.delete_secret(SecretId=name, RecoveryWindowInDays=window),
            name=name,
            action="delete",
        )

    def restore(self, name: str) -> None:
        """``RestoreSecret``: cancel a scheduled deletion. Raises :class:`SecretNotFound`
        when there is no such secret (or it was already deleted for good)."""
        _check_name(name, allow_arn=True)
        client = self.client
        self._call(
            "RestoreSecret",
            lambda: client.restore_secret(SecretId=name),
            name=name,
            action="write",
        )

    # -- lifecycle -----------------------------------------------------------------------
    def health(self) -> Health:
        """``ListSecrets`` with one result: ok; rejected credentials: unauthenticated;
        authenticated but not allowed to list: degraded (reads may still work)."""
        started = time.perf_counter()
        try:
            client = self.client
            self._call("ListSecrets", lambda: client.list_secrets(MaxResults=1))
        except AccessDenied as err:
            elapsed = time.perf_counter() - started
            status = (
                HealthStatus.UNAUTHENTICATED if "credentials" in str(err) else HealthStatus.DEGRADED
            )
            return Health(self.name, status, str(err), elapsed)
        except (ProviderError, ConfigError) as err:
            return Health(
                self.name, HealthStatus.UNAVAILABLE, str(err), time.perf_counter() - started
            )
        return Health(self.name, HealthStatus.OK, "", time.perf_counter() - started)

    def close(self) -> None:
        """Close the client's connection pool (and the STS client's, with ``role_arn``).
        Idempotent; a later call reconnects."""
        with self._lock:
            client, self._client = self._client, None
            sts, self._sts = self._sts, None
        if client is not None:
            client.close()
        if sts is not None:  # the role_arn STS client has its own connection pool
            sts.close()

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}"]
        # getattr: also called on a half-built provider (a frame of a failed __init__)
        for label, value in getattr(self, "_shown", {}).items():
            parts.append(f"{label}={value!r}")
        return f"<{type(self).__name__} {' '.join(parts)}>"
