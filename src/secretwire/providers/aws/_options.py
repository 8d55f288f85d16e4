"""The aws provider's options: the one declaration (``from_options``, the unknown-option
error and the docs' option table) and the rules the constructor adds to it (ranges,
and which credential options go together)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import ConfigError
from ...values import SecretValue
from ..base import INSECURE, CredentialSource, Option, Options, option_text, plain_url
from ._session import Connection, RetryMode, Role

if TYPE_CHECKING:
    import boto3

    Text = str | SecretValue
    File = str | os.PathLike[str] | SecretValue

__all__ = ["BINARY_MODES", "OPTIONS", "RETRY_MODES", "check_range", "connection"]

RETRY_MODES = ("standard", "adaptive", "legacy")
BINARY_MODES = ("auto", "base64")

OPTIONS = Options(
    Option(
        "region",
        str,
        help="The AWS region (default: boto3's, from `AWS_REGION`, `AWS_DEFAULT_REGION` "
        "or the profile).",
    ),
    Option(
        "endpoint_url",
        str,
        help="Another endpoint: a VPC interface endpoint, or an emulator such as moto or "
        "LocalStack. An `http://` or `https://` URL without a user, password, query or "
        "fragment (refused without being echoed); `http://` only to this machine, unless "
        "`insecure`.",
    ),
    INSECURE,
    Option("profile", str, help="A named profile from the AWS config and credentials files."),
    Option(
        "config_file",
        Path,
        help="Another AWS config file (default: `~/.aws/config` or `AWS_CONFIG_FILE`).",
    ),
    Option(
        "shared_credentials_file",
        Path,
        help="Another AWS credentials file (default: `~/.aws/credentials` or "
        "`AWS_SHARED_CREDENTIALS_FILE`).",
    ),
    Option(
        "access_key_id_env",
        str,
        help="The **name** of an environment variable holding an access key id.",
    ),
    Option(
        "secret_access_key_env",
        str,
        help="The **name** of an environment variable holding the secret access key. "
        "Give it together with `access_key_id_env`.",
    ),
    Option(
        "session_token_env",
        str,
        help="The **name** of an environment variable holding a session token (temporary keys).",
    ),
    Option("role_arn", str, help="Assume this role (`sts:AssumeRole`) with the credentials above."),
    Option(
        "role_session_name",
        str,
        default="secretwire",
        help="The role session name (shows in CloudTrail).",
    ),
    Option("external_id", str, help="The external id the role's trust policy requires."),
    Option(
        "role_duration_seconds",
        int,
        default=3600,
        help="Lifetime of the role credentials, 900 to 43200.",
    ),
    Option("sts_endpoint_url", str, help="Another STS endpoint (an emulator, a VPC endpoint)."),
    Option(
        "kms_key_id",
        str,
        help="The KMS key (id, ARN or alias) for secrets that `set` **creates** (default: "
        "AWS's managed key `aws/secretsmanager`).",
    ),
    Option(
        "recovery_window_days",
        int,
        default=30,
        help="Days, 7 to 30, during which a deleted secret can be restored.",
    ),
    Option(
        "force_delete_without_recovery",
        bool,
        default=False,
        help="Delete at once, with no way back.",
    ),
    Option(
        "max_attempts",
        int,
        default=5,
        help="Attempts per call, first one included (1 to 20). `1` means no retry.",
    ),
    Option(
        "retry_mode",
        str,
        default="standard",
        choices=RETRY_MODES,
        help="botocore's retry mode (`adaptive` adds client-side rate limiting).",
    ),
    Option(
        "connect_timeout",
        float,
        default=5.0,
        help="Seconds to open a connection (more than 0, at most 300).",
    ),
    Option(
        "read_timeout",
        float,
        default=10.0,
        help="Seconds to wait for an answer (more than 0, at most 300).",
    ),
    Option(
        "binary",
        str,
        default="auto",
        choices=BINARY_MODES,
        help="How binary secrets are returned ([below](#binary-secrets)).",
    ),
    Option("batch", bool, default=True, help="Read several secrets with `BatchGetSecretValue`."),
)


def check_range(key: str, value: float, low: float, high: float, words: str) -> None:
    """``value`` of option ``key`` is within ``low`` and ``high`` (both included)."""
    if not low <= value <= high:
        raise ConfigError(f"must be {words}", key=key)


def _text(value: str | SecretValue | None) -> str | None:
    return None if value is None else option_text(value)


def _path(value: str | os.PathLike[str] | SecretValue | None) -> str | None:
    if value is None:
        return None
    return value.reveal() if isinstance(value, SecretValue) else str(value)


def connection(
    *,
    endpoints: tuple[Text | None, Text | None, Text | None],
    sources: tuple[Text | None, File | None, File | None, boto3.Session | None],
    keys: tuple[Text | None, Text | None, Text | None],
    role: tuple[Text | None, Text, Text | None, int],
    client: tuple[int, RetryMode, float, float],
    insecure: bool = False,
) -> Connection:
    """The client settings from the constructor's options, checked: ``endpoints``
    (region, endpoint_url, sts_endpoint_url); ``sources`` of credentials (profile,
    config_file, shared_credentials_file, session); ``keys``, the three ``*_env``
    variable names (checked for shape now, never echoed: given a key instead of a
    name, the error must not show it; read when the client is made); ``role``
    (role_arn, role_session_name, external_id, role_duration_seconds); ``client``
    (max_attempts, retry_mode, connect_timeout, read_timeout); ``insecure`` allows
    ``http://`` endpoints on another host."""
    region, endpoint_url, sts_endpoint_url = endpoints
    profile, config_file, shared_credentials_file, session = sources
    role_arn, role_session_name, external_id, role_duration_seconds = role
    max_attempts, retry_mode, connect_timeout, read_timeout = client
    key_env, secret_env, token_env = keys
    if (key_env is None) != (secret_env is None):
        raise ConfigError(
            "give both access_key_id_env and secret_access_key_env, or neither",
            key="access_key_id_env" if key_env is None else "secret_access_key_env",
        )
    if token_env is not None and key_env is None:
        raise ConfigError("session_token_env needs access_key_id_env", key="session_token_env")
    if key_env is not None and profile is not None:
        raise ConfigError(
            "give either profile or the key variables, not both", key="access_key_id_env"
        )
    if session is not None and (profile is not None or key_env is not None):
        raise ConfigError("a session already carries its credentials", key="profile")
    check_range("max_attempts", max_attempts, 1, 20, "from 1 to 20")
    check_range(
        "role_duration_seconds", role_duration_seconds, 900, 43200, "from 900 to 43200 seconds"
    )
    for key, timeout in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout)):
        if not 0 < timeout <= 300:
            raise ConfigError("must be more than 0 and at most 300 seconds", key=key)
    if retry_mode not in RETRY_MODES:
        raise ConfigError("must be standard, adaptive or legacy", key="retry_mode")
    assumed = None
    if role_arn is not None:
        assumed = Role(
            option_text(role_arn),
            option_text(role_session_name),
            role_duration_seconds,
            _text(external_id),
        )
    return Connection(
        region=_text(region),
        endpoint_url=plain_url(endpoint_url, "endpoint_url", insecure=insecure),
        sts_endpoint_url=plain_url(sts_endpoint_url, "sts_endpoint_url", insecure=insecure),
        profile=_text(profile),
        credentials_file=_path(shared_credentials_file),
        config_file=_path(config_file),
        keys=(
            CredentialSource.of("access_key_id", env=key_env),
            CredentialSource.of("secret_access_key", env=secret_env),
            CredentialSource.of("session_token", env=token_env),
        ),
        role=assumed,
        retry_mode=retry_mode,
        max_attempts=max_attempts,
        connect_timeout=float(connect_timeout),
        read_timeout=float(read_timeout),
        session=session,
    )
