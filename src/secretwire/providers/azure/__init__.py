"""Azure Key Vault secrets (``provider: azure``), through ``azure-keyvault-secrets``.

Every backend call goes through :class:`azure.keyvault.secrets.SecretClient`; the
credential comes from ``azure-identity`` (``DefaultAzureCredential`` unless told
otherwise). Both are optional dependencies, imported when the provider is built::

    pip install 'secretwire[azure]'

The provider is built on the provider kit: the base class checks names (the
:mod:`._names` policy chosen by ``name_encoding``), values, metadata and times, and
enforces validity windows; this module holds the Key Vault calls. The parts:

* :mod:`._names` -- the reversible ``escape`` codec (:func:`encode_name`,
  :func:`decode_name`) and the ``verbatim`` / ``escape`` name policies;
* :mod:`._credentials` -- the azure-identity credential the options name;
* :mod:`._errors` -- the one translation of SDK outcomes into secretwire errors;
* :mod:`._props` -- Key Vault attributes and tags as metadata, tags and versions.

No SDK exception is chained to the errors raised here (a failed ``set`` holds the
request, and so the value), and no SDK message is copied into them. A value being
written, and a client secret, are :class:`~secretwire.SecretValue` in this
package's frames and revealed only in the SDK call's arguments.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ... import _time
from ...errors import (
    AccessDenied,
    ConfigError,
    ProviderError,
    ProviderUnavailable,
    SecretDisabled,
    SecretNotFound,
    display_url,
)
from ...values import SecretValue
from ..base import (
    Capabilities,
    CredentialSource,
    Health,
    HealthStatus,
    Secret,
    SecretProvider,
    SecretVersion,
    Write,
    call,
    option_text,
    plain_url,
    require_extra,
    shown,
)
from ._credentials import make_credential
from ._errors import translate
from ._names import ESCAPE, MAX_NAME_CHARS, VERBATIM, decode_name, encode_name
from ._options import OPTIONS, client_options
from ._props import (
    MAX_TAGS,
    META_TAG_PREFIX,
    WRITTEN_TAG,
    annotated_tags,
    kv_attributes,
    newest_first,
    split_tags,
    version_of,
)

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.keyvault.secrets import SecretClient

    from ._credentials import Made

__all__ = [
    "MAX_NAME_CHARS",
    "MAX_TAGS",
    "MAX_VALUE_BYTES",
    "META_TAG_PREFIX",
    "WRITTEN_TAG",
    "AzureKeyVaultProvider",
    "decode_name",
    "encode_name",
]

T = TypeVar("T")

_log = logging.getLogger(__name__)

#: Key Vault's limit on a secret value (25 KiB), checked by the kit before any call.
MAX_VALUE_BYTES = 25 * 1024
_HEALTH_PROBE = "secretwire-health-probe"


class AzureKeyVaultProvider(SecretProvider):
    """Secrets in one Azure Key Vault (``https://<vault>.vault.azure.net``).

    ``credential`` is any ``azure.core.credentials.TokenCredential``, or the kind of
    credential to make (``"default"``, ``"client_secret"``, ``"managed_identity"``;
    with ``tenant_id``, ``client_id`` and ``client_secret`` / ``client_secret_env`` /
    ``client_secret_file``); a credential the provider makes is closed by
    :meth:`close`. ``client`` replaces ``vault_url`` and ``credential`` with a ready
    ``SecretClient``.

    ``name_encoding``: ``"verbatim"`` (default: names are Key Vault names, as other
    tools write them) or ``"escape"`` (any name, see :func:`encode_name`).
    ``enforce_validity``: raise ``SecretExpired`` / ``SecretNotYetValid`` for a
    version outside its ``expires_on`` / ``not_before`` window (Key Vault itself
    still returns it). ``purge_on_delete``: purge after the soft delete, so the name
    is free at once. ``timeout`` (seconds) bounds connecting, each read and waiting
    for a delete or recovery, which is checked every ``poll_interval`` seconds;
    ``retries`` is the SDK's retry count for throttling and 5xx answers.
    ``verify_challenge_resource=False`` and ``connection_verify`` (``False`` or a CA
    bundle path) are for emulators. ``api_version`` pins the Key Vault REST version.
    """

    name = "azure"
    capabilities = Capabilities.full(max_value_bytes=MAX_VALUE_BYTES)
    name_policy = VERBATIM  # per instance: see name_encoding
    options = OPTIONS

    def __init__(
        self,
        vault_url: str | SecretValue | None = None,
        *,
        credential: TokenCredential | str | SecretValue = "default",
        tenant_id: str | SecretValue | None = None,
        client_id: str | SecretValue | None = None,
        client_secret: str | SecretValue | CredentialSource | None = None,
        client_secret_env: str | SecretValue | None = None,
        client_secret_file: str | os.PathLike[str] | SecretValue | None = None,
        client: SecretClient | None = None,
        name_encoding: str = "verbatim",
        enforce_validity: bool = True,
        purge_on_delete: bool = False,
        timeout: float = 30.0,
        retries: int = 3,
        poll_interval: float = 1.0,
        api_version: str | SecretValue | None = None,
        verify_challenge_resource: bool = True,
        connection_verify: bool | str | os.PathLike[str] | SecretValue = True,
    ) -> None:
        if name_encoding not in ("escape", "verbatim"):
            raise ConfigError("name_encoding must be 'escape' or 'verbatim'", key="name_encoding")
        if not timeout > 0:
            raise ConfigError("timeout must be a positive number of seconds", key="timeout")
        if retries < 0:
            raise ConfigError("retries must be 0 or more", key="retries")
        if not poll_interval > 0:
            raise ConfigError("poll_interval must be positive", key="poll_interval")
        self._verbatim = name_encoding == "verbatim"
        # The kit reads the policy from the instance; the base declares it a ClassVar.
        self.name_policy = VERBATIM if self._verbatim else ESCAPE
        self.enforce_validity = enforce_validity
        self._purge_on_delete = purge_on_delete
        self._timeout = float(timeout)
        self._poll_interval = float(poll_interval)
        self._owned_credential: Made | None = None
        self._closed = False
        self._close_lock = threading.Lock()
        option = type(self).options["client_secret"]
        secret = option.source(client_secret, client_secret_env, client_secret_file)
        makes = any(item is not None for item in (tenant_id, client_id, secret))
        if client is not None:
            if vault_url is not None or makes or credential != "default":
                raise ConfigError("give either client, or vault_url (and credential)")
            self._client = client
            self.vault_url: str = client.vault_url
            self._endpoint: str | None = client.vault_url
            self._url_shown = display_url(client.vault_url)
            return
        if vault_url is None:
            raise ConfigError("vault_url must be an https:// URL", key="vault_url")
        # A vault_url from a bootstrap secret (SecretValue) is used, never shown.
        url = str(plain_url(vault_url, "vault_url", schemes=("https",)))
        self._endpoint = None if isinstance(vault_url, SecretValue) else url
        self._url_shown = shown(vault_url, url)
        require_extra("azure.keyvault.secrets", "azure")
        from azure.keyvault.secrets import SecretClient  # noqa: PLC0415 - optional extra

        if isinstance(credential, str | SecretValue):
            credential = self._owned_credential = make_credential(
                option_text(credential),
                tenant_id=tenant_id,
                client_id=client_id,
                client_secret=secret,
            )
        elif makes:
            raise ConfigError(
                "tenant_id, client_id and client_secret make a credential: not used with a "
                "TokenCredential",
                key="credential",
            )
        kwargs = client_options(
            self._timeout, retries, api_version, verify_challenge_resource, connection_verify
        )
        # The SDK's message may quote vault_url or api_version: shown only when
        # neither came from a secret. Raised outside the except block.
        problem = ""
        try:
            self._client = SecretClient(url, credential, **kwargs)
        except (ValueError, NotImplementedError) as err:
            hidden = isinstance(vault_url, SecretValue) or isinstance(api_version, SecretValue)
            problem = "check vault_url and api_version" if hidden else str(err)[:300]
        if problem:
            if self._owned_credential is not None:
                self._owned_credential.close()
            raise ConfigError(f"invalid Key Vault client settings: {problem}", key="vault_url")
        self.vault_url = url

    # -- names and calls --------------------------------------------------------------
    def vault_name(self, name: str) -> str:
        """The Key Vault name secretwire name ``name`` is stored under. Raises
        :class:`~secretwire.errors.InvalidSecret` for a name the ``name_encoding``
        cannot map (``verbatim``: not a Key Vault name; ``escape``: empty, or an
        encoding over 127 characters)."""
        return self._kv(self._checked_name(name, "look up"))

    def secretwire_name(self, vault_name: str) -> str | None:
        """The secretwire name for a Key Vault name, or ``None`` if it is not one."""
        return vault_name if self._verbatim else decode_name(vault_name)

    def _kv(self, name: str) -> str:
        """The Key Vault name of a checked secretwire name."""
        return name if self._verbatim else encode_name(name)

    def _fields(self, operation: str, name: str | None, version: str | None) -> dict[str, Any]:
        return {
            "operation": operation,
            "name": name,
            "version": version,
            "provider": self.name,
            "endpoint": self._endpoint,
        }

    def _call(
        self,
        fn: Callable[[], T],
        operation: str,
        name: str | None = None,
        version: str | None = None,
    ) -> T:
        return call(fn, translate, **self._fields(operation, name, version))

    # -- reads ------------------------------------------------------------------------
    def _get(self, name: str, version: str | None) -> Secret:
        """``SecretClient.get_secret`` (``GET /secrets/{name}/{version}``). A disabled
        secret raises :class:`SecretDisabled`; the kit enforces the validity window."""
        vault_name = self._kv(name)
        bundle = self._call(
            lambda: self._client.get_secret(vault_name, version), "get", name, version
        )
        props = bundle.properties
        if props.enabled is False:
            detail = "the secret is disabled in Key Vault"
            raise SecretDisabled(detail=detail, **self._fields("get", name, version))
        if bundle.value is None:
            detail = "Key Vault returned the secret without a value"
            raise ProviderError(detail=detail, **self._fields("get", name, version))
        metadata, tags = split_tags(props)
        return Secret(
            name=name,
            value=SecretValue(bundle.value),
            version=props.version,
            created_at=_time.aware(props.created_on),
            updated_at=_time.aware(props.updated_on),
            expires_at=_time.aware(props.expires_on),
            not_before=_time.aware(props.not_before),
            metadata=metadata,
            tags=tags,
            provider=self.name,
        )

    def _list(self, prefix: str) -> Iterable[str]:
        """``SecretClient.list_properties_of_secrets`` (``GET /secrets``), decoded. Key
        Vault names that are not encodings of a secretwire name are skipped and logged
        (by Key Vault name) at WARNING."""
        items = self._call(lambda: list(self._client.list_properties_of_secrets()), "list")
        return self._decoded(items, prefix, "secrets")

    def _decoded(self, items: Iterable[Any], prefix: str, what: str) -> list[str]:
        names: set[str] = set()
        skipped: list[str] = []
        for props in items:
            vault_name = props.name or ""
            decoded = self.secretwire_name(vault_name)
            if decoded is None:
                skipped.append(vault_name)
            elif decoded.startswith(prefix):
                names.add(decoded)
        if skipped:
            _log.warning(
                "Key Vault %s: skipped %d %s whose names are not secretwire name encodings "
                "(use name_encoding: verbatim to see them): %s",
                self._url_shown,
                len(skipped),
                what,
                ", ".join(sorted(skipped)[:10]) + (" ..." if len(skipped) > 10 else ""),
            )
        return sorted(names)

    def _versions(self, name: str) -> list[SecretVersion]:
        """``SecretClient.list_properties_of_secret_versions`` (``GET
        /secrets/{name}/versions``): newest first (see :func:`._props.newest_first`)."""
        vault_name = self._kv(name)
        items = self._call(
            lambda: list(self._client.list_properties_of_secret_versions(vault_name)),
            "versions",
            name,
        )
        if not items:
            raise SecretNotFound(**self._fields("versions", name, None))
        ordered = newest_first(items)
        return [version_of(name, props, current=index == 0) for index, props in enumerate(ordered)]

    # -- writes -----------------------------------------------------------------------
    def _set(self, write: Write) -> SecretVersion:
        """``SecretClient.set_secret`` (``PUT /secrets/{name}``): a new version.

        ``metadata["content_type"]`` becomes the content type and
        ``metadata["not_before"]`` (ISO 8601) the not-before time; other metadata is
        stored as ``secretwire:<key>`` tags. A name that is soft-deleted raises
        :class:`~secretwire.errors.Conflict`: recover or purge it first.
        """
        name = write.name
        kv_tags, content_type, not_before = kv_attributes(
            write.metadata, write.tags, name=name, provider=self.name
        )
        vault_name = self._kv(name)
        bundle = self._call(
            lambda: self._client.set_secret(
                vault_name,
                write.value.reveal(),
                tags=kv_tags,
                content_type=content_type,
                not_before=not_before,
                expires_on=write.expires_at,
            ),
            "set",
            name,
        )
        return version_of(name, bundle.properties, current=True)

    def _annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        """``SecretClient.get_secret`` (``GET /secrets/{name}/{version}``) for the
        version's tags, then ``update_secret_properties`` (``PATCH``) with ``metadata``
        merged in as ``secretwire:<key>`` tags."""
        vault_name = self._kv(name)
        props = self._call(
            lambda: self._client.get_secret(vault_name, version).properties,
            "annotate",
            name,
            version,
        )
        tags = annotated_tags(props.tags, metadata, name=name, provider=self.name)
        self._call(
            lambda: self._client.update_secret_properties(vault_name, version, tags=tags),
            "annotate",
            name,
            version,
        )

    def _delete(self, name: str) -> None:
        """``SecretClient.begin_delete_secret`` (``DELETE /secrets/{name}``), waiting for
        the soft delete to finish (polling ``GET /deletedsecrets/{name}``); then, with
        ``purge_on_delete``, ``purge_deleted_secret`` (``DELETE /deletedsecrets/{name}``).
        """
        self._finish(self._client.begin_delete_secret, "delete", name, "deleting")
        if self._purge_on_delete:
            self._purge(name)

    def recover(self, name: str) -> None:
        """``SecretClient.begin_recover_deleted_secret`` (``POST
        /deletedsecrets/{name}/recover``), waiting until the secret is readable again.
        Raises :class:`SecretNotFound` if ``name`` is not soft-deleted."""
        name = self._checked_name(name, "recover")
        self._finish(self._client.begin_recover_deleted_secret, "recover", name, "recovering")

    def _finish(self, begin: Callable[..., Any], operation: str, name: str, doing: str) -> None:
        """Start a long-running operation and wait for it, up to ``timeout``."""
        vault_name = self._kv(name)

        def run() -> None:
            poller = begin(vault_name, _polling_interval=self._poll_interval)
            poller.wait(timeout=self._timeout)
            if not poller.done():
                raise ProviderUnavailable(
                    detail=f"{doing} the secret did not finish within {self._timeout:g} s",
                    **self._fields(operation, name, None),
                )

        self._call(run, operation, name)

    def purge(self, name: str) -> None:
        """``SecretClient.purge_deleted_secret`` (``DELETE /deletedsecrets/{name}``):
        remove a soft-deleted secret for good. Raises :class:`SecretNotFound` if
        ``name`` is not soft-deleted."""
        self._purge(self._checked_name(name, "purge"))

    def _purge(self, name: str) -> None:
        vault_name = self._kv(name)
        self._call(lambda: self._client.purge_deleted_secret(vault_name), "purge", name)

    def deleted(self, prefix: str = "") -> Iterator[str]:
        """``SecretClient.list_deleted_secrets`` (``GET /deletedsecrets``): names of
        soft-deleted secrets starting with ``prefix``, sorted."""
        items = self._call(lambda: list(self._client.list_deleted_secrets()), "list deleted")
        return iter(self._decoded(items, prefix, "deleted secrets"))

    # -- lifecycle --------------------------------------------------------------------
    def _health(self) -> Health:
        """``SecretClient.get_secret`` of a probe name: 404 (or the secret) means the
        vault answered and accepted the identity; needs only the ``get`` permission."""
        try:
            self._call(lambda: self._client.get_secret(_HEALTH_PROBE), "health check")
        except (SecretNotFound, SecretDisabled):
            pass
        except AccessDenied as err:
            return Health(self.name, HealthStatus.UNAUTHENTICATED, str(err))
        except ProviderUnavailable as err:
            return Health(self.name, HealthStatus.UNAVAILABLE, str(err))
        except ProviderError as err:
            return Health(self.name, HealthStatus.DEGRADED, str(err))
        return Health(self.name, HealthStatus.OK)

    def _close(self) -> None:
        """Close the client's connections, and the credential if this provider made it."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._client.close()
        if self._owned_credential is not None:
            self._owned_credential.close()

    def __repr__(self) -> str:
        # getattr: also called on a half-built provider (a frame of a failed __init__)
        return (
            f"<{type(self).__name__} name={self.name!r} "
            f"vault_url={getattr(self, '_url_shown', '?')!r}>"
        )
