"""Credentials and clients: the boto3 session, the assumed role, the client config.

Credentials come from, in this order of precedence: ``session`` (a ready
``boto3.Session``); the environment variables named by ``access_key_id_env`` /
``secret_access_key_env`` / ``session_token_env`` (read by the kit's
:class:`CredentialSource` when the client is made); ``profile``; the standard boto3
chain. With a :class:`Role`, those credentials are only used to call
``sts:AssumeRole``; the role's credentials are refreshed before they expire.

Every client obeys the deadline in force (:mod:`secretwire.deadlines`): no attempt
starts after it, each attempt's read timeout is capped at what remains, and no
retry is made whose back-off might not fit (:func:`bound_by_deadline`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ... import deadlines
from ..._time import isoformat
from ..._version import __version__
from ..base import FETCH_WORKERS, CredentialSource

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sts import STSClient

__all__ = ["Connection", "RetryMode", "Role"]

RetryMode = Literal["standard", "adaptive", "legacy"]


@dataclass(frozen=True, repr=False)
class Role:
    """``sts:AssumeRole`` parameters (``role_arn`` and its options)."""

    arn: str
    session_name: str = "secretwire"
    duration_seconds: int = 3600
    external_id: str | None = None


@dataclass(frozen=True, repr=False)
class Connection:
    """How to build the Secrets Manager client (no repr: the values may come from a
    secret, and the provider's repr shows what may be shown)."""

    region: str | None = None
    endpoint_url: str | None = None
    sts_endpoint_url: str | None = None
    profile: str | None = None
    credentials_file: str | None = None
    config_file: str | None = None
    #: access key id, secret access key, session token (the variables' sources)
    keys: tuple[CredentialSource | None, CredentialSource | None, CredentialSource | None] = (
        None,
        None,
        None,
    )
    role: Role | None = None
    retry_mode: RetryMode = "standard"
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    session: boto3.Session | None = None

    def open(self) -> tuple[SecretsManagerClient, STSClient | None]:
        """A new Secrets Manager client, and with a role the STS client it uses (which
        has its own connection pool: close it with the other)."""
        session = self._base_session()
        sts: STSClient | None = None
        if self.role is not None:
            region = self.region or session.region_name
            sts = session.client(
                "sts", region_name=region, endpoint_url=self.sts_endpoint_url, config=self.config()
            )
            bound_by_deadline(sts, self.read_timeout)
            session = _role_session(sts, self.role, region)
        try:
            client = session.client(
                "secretsmanager",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=self.config(),
            )
        except BaseException:
            if sts is not None:
                sts.close()
            raise
        bound_by_deadline(client, self.read_timeout)
        return client, sts

    def _base_session(self) -> boto3.Session:
        import boto3  # noqa: PLC0415 - optional SDK
        import botocore.session  # noqa: PLC0415

        if self.session is not None:
            return self.session
        core = botocore.session.get_session()
        if self.credentials_file is not None:
            core.set_config_variable("credentials_file", self.credentials_file)
        if self.config_file is not None:
            core.set_config_variable("config_file", self.config_file)
        key, secret, token = self.keys
        if key is not None and secret is not None:
            # Read now (a missing variable is a ConfigError naming it); revealed
            # only in the call's arguments.
            return boto3.Session(
                aws_access_key_id=key.read().reveal(),
                aws_secret_access_key=secret.read().reveal(),
                aws_session_token=None if token is None else token.read().reveal(),
                region_name=self.region,
                botocore_session=core,
            )
        return boto3.Session(
            profile_name=self.profile, region_name=self.region, botocore_session=core
        )

    def config(self) -> Any:
        """botocore's client config: retries, timeouts, our user agent."""
        from botocore.config import Config  # noqa: PLC0415 - optional SDK

        return Config(
            # total_max_attempts counts the first try (botocore's max_attempts does not).
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            user_agent_extra=f"secretwire/{__version__}",
            # One kept-alive connection per fetch thread (the pipeline's bound).
            max_pool_connections=FETCH_WORKERS,
        )


def bound_by_deadline(client: Any, read_timeout: float) -> None:
    """Make ``client`` obey the deadline in force, through botocore's events: before
    each attempt, refuse to send past the deadline and cap the attempt's read timeout
    at what remains; before a retry, give up when botocore's back-off (at most
    2**(attempts - 1) s, in every retry mode) might not fit in what remains."""

    def before_send(request: Any, event_name: str = "", **_: Any) -> None:
        deadlines.check(provider="aws", operation=event_name.rpartition(".")[2] or None)
        # botocore reads a per-request read timeout here (an older one ignores it:
        # then the client's read_timeout bounds each attempt).
        context = getattr(request, "context", None)
        if deadlines.current() is not None and isinstance(context, dict):
            context["read_timeout"] = deadlines.budget(read_timeout)

    def needs_retry(attempts: int = 1, **_: Any) -> bool | None:
        left = deadlines.remaining()
        if left is None or left > min(2.0 ** (attempts - 1), 20.0):
            return None  # botocore's own retry handler decides
        return False

    client.meta.events.register_first("before-send", before_send)
    client.meta.events.register_first("needs-retry", needs_retry)


def _role_session(sts: STSClient, role: Role, region: str | None) -> boto3.Session:
    """A session whose credentials come from ``sts:AssumeRole`` and are refreshed by
    botocore before they expire (in their last 15 minutes, before a call is signed)."""
    import boto3  # noqa: PLC0415 - optional SDK
    import botocore.session  # noqa: PLC0415
    from botocore.credentials import (  # noqa: PLC0415
        CredentialProvider,
        DeferredRefreshableCredentials,
    )

    arguments: dict[str, Any] = {
        "RoleArn": role.arn,
        "RoleSessionName": role.session_name,
        "DurationSeconds": role.duration_seconds,
    }
    if role.external_id is not None:
        arguments["ExternalId"] = role.external_id

    def refresh() -> dict[str, str]:
        # Runs inside a Secrets Manager call (botocore refreshes before signing);
        # an STS error then surfaces from that call and is translated there.
        credentials = sts.assume_role(**arguments)["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": isoformat(credentials["Expiration"]),
        }

    class _RoleProvider(CredentialProvider):
        METHOD = "secretwire-assume-role"
        CANONICAL_NAME = "secretwire-assume-role"

        def load(self) -> DeferredRefreshableCredentials:
            return DeferredRefreshableCredentials(refresh_using=refresh, method=self.METHOD)

    core = botocore.session.get_session()
    core.get_component("credential_provider").insert_before("env", _RoleProvider())
    return boto3.Session(region_name=region, botocore_session=core)
