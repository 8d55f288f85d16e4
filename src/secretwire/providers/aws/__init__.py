"""AWS Secrets Manager, through boto3.

Each provider method makes these Secrets Manager calls (the IAM actions they need
are listed in ``docs/providers/aws.md``):

* ``get`` -- ``GetSecretValue`` (by ``VersionId`` or ``VersionStage``).
* ``get_many`` -- ``BatchGetSecretValue`` for current versions, 20 names per call
  (following ``NextToken``), the calls of one ``get_many`` at once. It serves
  only what those calls answer: pinned versions, ARNs and the names of a batch
  call that was denied are left to the manager's pipeline, which reads them with
  ``get``. A denied batch call (``AccessDenied``) turns batching off for the
  provider's life; rejected credentials or a refused ``AssumeRole``
  (``Unauthenticated``) do not, and are raised for the whole batch.
* ``list`` -- ``ListSecrets`` (boto3 paginator, name filter, then an exact
  case-sensitive prefix match).
* ``versions`` -- ``ListSecretVersionIds`` (paged by hand: boto3 has no paginator).
* ``set`` -- ``PutSecretValue``; ``CreateSecret`` when the secret does not exist;
  ``TagResource`` / ``UpdateSecret`` for tags and description on an existing secret.
* ``delete`` -- ``DeleteSecret`` (``DescribeSecret`` first when forcing deletion
  without recovery, because AWS reports no error for a missing name then).
* ``restore`` -- ``RestoreSecret``. ``health`` -- ``ListSecrets`` with one result.
* ``stage`` / ``promote`` / ``unstage`` -- ``PutSecretValue`` with ``AWSPENDING``,
  ``DescribeSecret`` and ``UpdateSecretVersionStage`` (``_staging``).

The package: this face (the provider), ``_errors`` (the code tables, the one
translation, the quiet botocore logs), ``_session`` (credentials, the assumed role,
the clients) and ``_records`` (requests and answers as secretwire's types). The kit
checks every argument before a hook here runs; a value being written is a
:class:`~secretwire.SecretValue` in every frame and is revealed only in the
botocore call's arguments.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import contextvars
import functools
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ...errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    InvalidSecret,
    ProviderError,
    SecretNotFound,
    Unauthenticated,
)
from ...types import Key
from ...values import SecretValue
from ..base import (
    FETCH_WORKERS,
    Capabilities,
    Health,
    HealthStatus,
    NamePolicy,
    Secret,
    SecretProvider,
    SecretVersion,
    Write,
    insecure_warnings,
    option_text,
    require_extra,
    shown,
    string_map,
)
from . import _staging
from ._errors import PROVIDER, aws_call
from ._options import BINARY_MODES, OPTIONS, check_range, connection
from ._records import (
    BinaryMode,
    batch_results,
    payload,
    secret_from,
    selector,
    tags_for,
    versions_from,
    written,
)
from ._session import RetryMode

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sts import STSClient

__all__ = ["AwsSecretsManagerProvider"]

T = TypeVar("T")
Results = dict[Key, Secret | ProviderError]
Tags = Mapping[str, str]

#: Secret names AWS accepts (CreateSecret): 1-512 of these characters.
_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
#: A full secret ARN is accepted wherever a name is read.
_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+")
_MAX_VALUE_BYTES = 65536
_BATCH_SIZE = 20


class AwsSecretsManagerProvider(SecretProvider):
    """Secrets in AWS Secrets Manager.

    Credentials come from, in this order of precedence: ``session`` (a
    ``boto3.Session``, Python only); the environment variables named by
    ``access_key_id_env`` / ``secret_access_key_env`` / ``session_token_env``;
    ``profile``; the standard boto3 chain. With ``role_arn`` those credentials
    are only used to call ``sts:AssumeRole``; the role's credentials are refreshed
    before they expire. Nothing is contacted until the first call.
    """

    name = PROVIDER
    #: ``metadata`` is off: reads do not return what ``set`` stored as tags.
    #: ``staging``: ``stage`` / ``promote`` / ``unstage`` move ``AWSPENDING`` and
    #: ``AWSCURRENT``; ``annotate`` is off (tags are the secret's, and reads skip them).
    capabilities = Capabilities.full(
        metadata=False,
        expiry=False,
        annotate=False,
        staging=True,
        max_value_bytes=_MAX_VALUE_BYTES,
    )
    unsupported_hints: ClassVar[Mapping[str, str]] = {
        "expiry": "AWS Secrets Manager keeps no expiry date: use rotation"
    }
    name_policy = NamePolicy(
        alphabet=_NAME,
        describe="1-512 characters of A-Z a-z 0-9 / _ + = . @ -",
        read_alphabet=_ARN,
    )
    options = OPTIONS

    def __init__(
        self,
        *,
        region: str | SecretValue | None = None,
        endpoint_url: str | SecretValue | None = None,
        profile: str | SecretValue | None = None,
        config_file: str | os.PathLike[str] | SecretValue | None = None,
        shared_credentials_file: str | os.PathLike[str] | SecretValue | None = None,
        access_key_id_env: str | SecretValue | None = None,
        secret_access_key_env: str | SecretValue | None = None,
        session_token_env: str | SecretValue | None = None,
        role_arn: str | SecretValue | None = None,
        role_session_name: str | SecretValue = "secretwire",
        external_id: str | SecretValue | None = None,
        role_duration_seconds: int = 3600,
        sts_endpoint_url: str | SecretValue | None = None,
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
        insecure: bool = False,
    ) -> None:
        require_extra("boto3", "aws")
        check_range("recovery_window_days", recovery_window_days, 7, 30, "from 7 to 30 days")
        if binary not in BINARY_MODES:
            raise ConfigError("must be auto or base64", key="binary")
        # Option values given as SecretValue (from a bootstrap secret) are used and
        # never shown (the repr uses _shown, errors the endpoint only if shown).
        values = (region, endpoint_url, profile, role_arn)
        labelled = zip(("region", "endpoint_url", "profile", "role_arn"), values, strict=True)
        self._shown = {label: shown(value) for label, value in labelled if value is not None}
        self.connection = connection(
            endpoints=(region, endpoint_url, sts_endpoint_url),
            sources=(profile, config_file, shared_credentials_file, session),
            keys=(access_key_id_env, secret_access_key_env, session_token_env),
            role=(role_arn, role_session_name, external_id, role_duration_seconds),
            client=(max_attempts, retry_mode, connect_timeout, read_timeout),
            insecure=insecure,
        )
        self.warnings = insecure_warnings(
            endpoint_url=self.connection.endpoint_url,
            sts_endpoint_url=self.connection.sts_endpoint_url,
        )
        #: where errors say AWS could not be reached (not when the URL came from a secret)
        self._endpoint = None if isinstance(endpoint_url, SecretValue) else endpoint_url
        self.kms_key_id = None if kms_key_id is None else option_text(kms_key_id)
        self.recovery_window_days = recovery_window_days
        self.force_delete_without_recovery = force_delete_without_recovery
        self.binary: BinaryMode = binary
        self.batch = batch
        self._client: SecretsManagerClient | None = None
        self._sts: STSClient | None = None
        self._lock = threading.Lock()
        self._batch_denied = False

    # -- the client ----------------------------------------------------------------------
    @property
    def client(self) -> SecretsManagerClient:
        """The boto3 ``secretsmanager`` client, created on first use (thread-safe)."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client, self._sts = self._call("CreateClient", self.connection.open)
                client = self._client
        return client

    def _call(self, api: str, fn: Callable[[], T], **fields: Any) -> T:
        """One AWS call ``api``: botocore's logs quiet, its errors translated."""
        return aws_call(api, fn, endpoint=self._endpoint, **fields)

    # -- reads ---------------------------------------------------------------------------
    def _get(self, name: str, version: str | None) -> Secret:
        """``GetSecretValue``: by ``VersionId`` when ``version`` is a UUID-like id, by
        ``VersionStage`` when it is any other label (``AWSCURRENT``, ``AWSPREVIOUS``)."""
        client = self.client
        arguments = selector(version)
        response = self._call(
            "GetSecretValue",
            lambda: client.get_secret_value(SecretId=name, **arguments),
            operation="get",
            name=name,
            version=version,
        )
        return secret_from(name, response, self.binary)

    def _get_many(self, keys: Sequence[Key]) -> Results:
        """``BatchGetSecretValue`` (20 names a call) for the current versions of plain
        names; the rest is left to the caller (see the module docstring)."""
        if not self.batch:
            return {}
        names = [name for name, version in keys if version is None and _NAME.fullmatch(name)]
        chunks = [names[start : start + _BATCH_SIZE] for start in range(0, len(names), _BATCH_SIZE)]
        results: Results = {}
        if len(chunks) <= 1:
            for chunk in chunks:
                results.update(self._batch_unless_denied(chunk))
            return results
        # The calls at once, one thread each (up to the connection pool's size): 200
        # names cost one round trip, not ten. Each runs in a copy of the caller's
        # context, so its deadline reaches the thread; the first error is raised.
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - ~10 ms, rarely needed

        workers = min(len(chunks), FETCH_WORKERS)
        with ThreadPoolExecutor(workers, thread_name_prefix="secretwire-aws") as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, self._batch_unless_denied, chunk)
                for chunk in chunks
            ]
            for future in futures:
                results.update(future.result())
        return results

    def _batch_unless_denied(self, names: builtins.list[str]) -> Results:
        """One batch call; nothing once the batch call was denied (see the module)."""
        if self._batch_denied:
            return {}
        try:
            return self._batch(names)
        except AccessDenied as err:
            if isinstance(err, Unauthenticated):
                raise  # the credentials, not the batch call: keep batching
            # No secretsmanager:BatchGetSecretValue: read one by one from now on.
            self._batch_denied = True
            return {}

    def _batch(self, names: builtins.list[str]) -> Results:
        client = self.client
        request = {"SecretIdList": names}
        pages = self._pages(
            "BatchGetSecretValue", client.batch_get_secret_value, request, operation="get"
        )
        return batch_results(names, pages, self.binary)

    def _pages(
        self, api: str, method: Callable[..., Any], request: dict[str, Any], **fields: Any
    ) -> builtins.list[Any]:
        """Every answer of the call ``api``, following ``NextToken``."""
        pages = []
        while True:
            page = self._call(api, functools.partial(method, **request), **fields)
            pages.append(page)
            if not page.get("NextToken"):
                return pages
            request = {**request, "NextToken": page["NextToken"]}

    def _list(self, prefix: str) -> Iterable[str]:
        """``ListSecrets`` (paginated, ``name`` filter), without the secrets scheduled
        for deletion. The AWS filter ignores case; the kit matches the prefix exactly."""
        if prefix and not _NAME.fullmatch(prefix):
            return ()  # no AWS name can start with it
        client = self.client

        def fetch() -> builtins.list[str]:
            paginator = client.get_paginator("list_secrets")
            arguments: dict[str, Any] = {"PaginationConfig": {"PageSize": 100}}
            if prefix:
                arguments["Filters"] = [{"Key": "name", "Values": [prefix]}]
            return [
                entry.get("Name", "")
                for page in paginator.paginate(**arguments)
                for entry in page.get("SecretList", [])
                if "DeletedDate" not in entry
            ]

        return self._call("ListSecrets", fetch, operation="list")

    def _versions(self, name: str) -> builtins.list[SecretVersion]:
        """``ListSecretVersionIds`` (``IncludeDeprecated``, paged by ``NextToken``).

        Newest first by creation date; ``current`` marks the ``AWSCURRENT`` version;
        ``metadata["stages"]`` lists a version's staging labels (comma-separated).
        """
        client = self.client
        request = {"SecretId": name, "IncludeDeprecated": True, "MaxResults": 100}
        pages = self._pages(
            "ListSecretVersionIds",
            client.list_secret_version_ids,
            request,
            operation="versions",
            name=name,
        )
        return versions_from(name, [entry for page in pages for entry in page.get("Versions", [])])

    # -- writes --------------------------------------------------------------------------
    def _set(self, write: Write) -> SecretVersion:
        """``PutSecretValue`` (a new ``AWSCURRENT`` version); ``CreateSecret`` (with
        ``kms_key_id``, tags and description) when the secret does not exist.

        On an existing secret, tags are added with ``TagResource`` and
        ``metadata["description"]`` is set with ``UpdateSecret``. Other metadata keys
        are stored as tags named ``secretwire:<key>``. AWS keeps no expiry:
        ``expires_at`` raises :class:`UnsupportedOperation` (the kit's ``expiry`` gate).
        """
        return self._write(write, binary=False)

    def set_binary(
        self, name: str, data: bytes, *, metadata: Tags | None = None, tags: Tags | None = None
    ) -> SecretVersion:
        """Like :meth:`set`, storing ``data`` as ``SecretBinary`` (the same checks)."""
        if not isinstance(data, bytes):
            raise TypeError(f"secret data must be bytes, not {type(data).__name__}")
        size = len(data)
        secret = SecretValue(base64.b64encode(data).decode("ascii"))  # held masked from here
        del data
        self._gate("write", "set")
        name = self._checked_name(name, "set", write=True)
        fields = {"operation": "set", "name": name, "provider": PROVIDER}
        if size > _MAX_VALUE_BYTES:
            raise InvalidSecret(
                detail=f"the value is too large: {size} bytes, the limit is {_MAX_VALUE_BYTES}",
                **fields,
            )
        write = Write(
            name,
            secret,
            string_map(metadata, "metadata", **fields),
            string_map(tags, "tags", **fields),
        )
        return self._write(write, binary=True)

    def _write(self, write: Write, *, binary: bool) -> SecretVersion:
        name, secret, metadata, tags = write.name, write.value, write.metadata, write.tags
        tag_list = tags_for(name, tags, metadata)
        description = metadata.get("description")
        client = self.client
        fields = {"operation": "set", "name": name}

        # The value is revealed in the botocore call's arguments only.
        def put() -> Any:
            return client.put_secret_value(SecretId=name, **payload(secret, binary=binary))

        def create() -> Any:
            extra: dict[str, Any] = {}
            if self.kms_key_id is not None:
                extra["KmsKeyId"] = self.kms_key_id
            if tag_list:
                extra["Tags"] = tag_list
            if description is not None:
                extra["Description"] = description
            return client.create_secret(Name=name, **payload(secret, binary=binary), **extra)

        response = None
        with contextlib.suppress(SecretNotFound):  # created below, outside the except
            response = self._call("PutSecretValue", put, **fields)
        if response is None:
            try:
                return written(name, self._call("CreateSecret", create, **fields), metadata, tags)
            except Conflict as err:
                if err.code != "ResourceExistsException":
                    raise
            # Another writer created it first: add our value as a new version.
            response = self._call("PutSecretValue", put, **fields)
        if tag_list:
            self._call(
                "TagResource",
                lambda: client.tag_resource(SecretId=name, Tags=tag_list),  # type: ignore[arg-type]
                **fields,
            )
        if description is not None:
            self._call(
                "UpdateSecret",
                lambda: client.update_secret(SecretId=name, Description=description),
                **fields,
            )
        return written(name, response, metadata, tags)

    # -- staged versions (rotation: docs/rotation.md; the calls are in _staging) -------
    def _stage(self, write: Write, token: str) -> SecretVersion:
        return _staging.stage(self.client, self._call, write, token)

    def _promote(self, name: str, version: str) -> SecretVersion:
        return _staging.promote(self.client, self._call, name, version)

    def _unstage(self, name: str, version: str) -> None:
        _staging.unstage(self.client, self._call, name, version)

    def _delete(self, name: str) -> None:
        """``DeleteSecret`` with ``RecoveryWindowInDays`` (default 30): the secret is
        scheduled for deletion and can be restored until then. With
        ``force_delete_without_recovery``, ``DescribeSecret`` first (AWS reports no
        error for a missing name in that mode), then ``ForceDeleteWithoutRecovery``."""
        client = self.client
        fields = {"operation": "delete", "name": name}
        if self.force_delete_without_recovery:
            self._call("DescribeSecret", lambda: client.describe_secret(SecretId=name), **fields)
            self._call(
                "DeleteSecret",
                lambda: client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True),
                **fields,
            )
            return
        window = self.recovery_window_days
        self._call(
            "DeleteSecret",
            lambda: client.delete_secret(SecretId=name, RecoveryWindowInDays=window),
            **fields,
        )

    def restore(self, name: str) -> None:
        """``RestoreSecret``: cancel a scheduled deletion. Raises :class:`SecretNotFound`
        when there is no such secret (or it was already deleted for good)."""
        name = self._checked_name(name, "restore")
        client = self.client
        self._call(
            "RestoreSecret",
            lambda: client.restore_secret(SecretId=name),
            operation="restore",
            name=name,
        )

    # -- lifecycle -----------------------------------------------------------------------
    def _health(self) -> Health:
        """``ListSecrets`` with one result: ok; credentials rejected or missing:
        unauthenticated; not allowed to list: degraded (reads may still work)."""
        try:
            client = self.client
            self._call("ListSecrets", lambda: client.list_secrets(MaxResults=1), operation="health")
        except Unauthenticated as err:
            return Health(self.name, HealthStatus.UNAUTHENTICATED, str(err))
        except AccessDenied as err:
            return Health(self.name, HealthStatus.DEGRADED, str(err))
        except (ProviderError, ConfigError) as err:
            return Health(self.name, HealthStatus.UNAVAILABLE, str(err))
        return Health(self.name, HealthStatus.OK)

    def _close(self) -> None:
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
