"""Azure Key Vault secrets (``provider: azure``), through ``azure-keyvault-secrets``.

Every backend call goes through :class:`azure.keyvault.secrets.SecretClient`; the
credential comes from ``azure-identity`` (``DefaultAzureCredential`` unless told
otherwise). Both are optional dependencies, imported when the provider is built::

    pip install 'secretwire[azure]'

**Names.** Key Vault names allow only ``[0-9a-zA-Z-]{1,127}`` and are
case-insensitive. With ``name_encoding="verbatim"`` (the default) a secretwire name
is the Key Vault name, so a secret that the portal, the Azure CLI, Terraform or the
SDK created as ``interop-1234`` reads as ``${secret:interop-1234}``; a name Key
Vault cannot hold (``db/password``) is an :class:`~secretwire.errors.InvalidSecret`
whose message says how to opt into ``escape``.

With ``name_encoding="escape"`` any string is a name (``db/password``,
``app.api_key``): it is mapped by :func:`encode_name`, a reversible, injective rule
whose output is lower-case, so two different secretwire names never meet in one
Key Vault name (but ``interop-1234`` is stored as ``interop--1234``, so names that
other tools wrote are not reachable):

================  ===================  =========================================
character         Key Vault name       example
================  ===================  =========================================
``a-z`` ``0-9``   itself               ``db`` -> ``db``
``-``             ``--``               ``my-app`` -> ``my--app``
``/``             ``-s-``              ``db/password`` -> ``db-s-password``
``_``             ``-u-``              ``api_key`` -> ``api-u-key``
``.``             ``-d-``              ``app.url`` -> ``app-d-url``
``A-Z`` (a run)   ``-c<lower>-``       ``DB_URL`` -> ``-cdb--u--curl-``
anything else     ``-x<hex>-``         ``clé`` -> ``cl-xe9-``
================  ===================  =========================================

:func:`decode_name` reverses it and accepts a Key Vault name only when encoding
the decoded name gives that Key Vault name back (compared case-insensitively), so
every name :meth:`AzureKeyVaultProvider.list` reports reads the same secret.
Key Vault names that are not encodings (``db-password`` written by another tool)
are skipped by ``list`` with a warning.

**Errors** are translated in one place, :meth:`AzureKeyVaultProvider._error`. No
SDK exception is chained to the errors raised here (a failed ``set`` holds the
request, and so the value), and no SDK message is copied into them. A value being
written, and a client secret read from a variable or a file, are
:class:`~secretwire.SecretValue` in this module's frames and revealed only in the
SDK call's arguments.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ...errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    InvalidSecret,
    ProviderError,
    ProviderUnavailable,
    SecretDisabled,
    SecretExpired,
    SecretNotFound,
    SecretNotYetValid,
)
from ...references import check_name
from ...values import SecretValue
from ..base import (
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
    read_secret_file,
    secret_value,
    shown,
    string_map,
)

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.keyvault.secrets import SecretClient, SecretProperties

__all__ = [
    "MAX_NAME_CHARS",
    "MAX_TAGS",
    "MAX_VALUE_BYTES",
    "AzureKeyVaultProvider",
    "decode_name",
    "encode_name",
]

T = TypeVar("T")

_log = logging.getLogger(__name__)

#: Key Vault's limit on a secret value (25 KiB), checked before any call.
MAX_VALUE_BYTES = 25 * 1024
#: Key Vault's limit on the length of a secret name.
MAX_NAME_CHARS = 127
#: Key Vault's limit on the number of tags of a secret version.
MAX_TAGS = 15
_MAX_TAG_NAME = 512
_MAX_TAG_VALUE = 256

#: Tags whose name starts with this carry secretwire ``metadata``; other tags are ``tags``.
META_TAG_PREFIX = "secretwire:"
#: The tag recording when secretwire wrote a version, in ns since the epoch. Key Vault
#: timestamps have a one-second resolution; this orders versions written in one second.
WRITTEN_TAG = "secretwire-written-ns"
#: Metadata keys mapped to Key Vault attributes instead of tags.
_CONTENT_TYPE = "content_type"
_NOT_BEFORE = "not_before"
_ENABLED = "enabled"

_VAULT_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
_LITERALS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_HEX = frozenset("0123456789abcdef")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_SHORT = {"-": "--", "/": "-s-", "_": "-u-", ".": "-d-"}
_SHORT_DECODE = {"s": "/", "u": "_", "d": "."}
_HEALTH_PROBE = "secretwire-health-probe"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

#: The Key Vault permission each operation needs (access policy / RBAC data action).
_PERMISSIONS = {
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

_EXTRA_HINT = "pip install 'secretwire[azure]'"


# -- name mapping ----------------------------------------------------------------------


def encode_name(name: str) -> str:
    """The Key Vault name for secretwire name ``name`` (see the module docstring).

    Pure and total: any string maps, to ``[0-9a-z-]*``. The provider rejects an
    empty name or an encoding longer than 127 characters.
    """
    out: builtins.list[str] = []
    i, end = 0, len(name)
    while i < end:
        char = name[i]
        if char in _LITERALS:
            out.append(char)
            i += 1
        elif char in _SHORT:
            out.append(_SHORT[char])
            i += 1
        elif "A" <= char <= "Z":
            run = i
            while run < end and "A" <= name[run] <= "Z":
                run += 1
            out.append(f"-c{name[i:run].lower()}-")
            i = run
        else:
            out.append(f"-x{ord(char):x}-")
            i += 1
    return "".join(out)


def decode_name(vault_name: str) -> str | None:
    """The secretwire name whose encoding is ``vault_name``, or ``None`` if there is none.

    Key Vault names are case-insensitive, so ``vault_name`` is lower-cased first. A
    name is accepted only when it is the exact encoding of what it decodes to, so
    ``decode_name(encode_name(x)) == x`` and every decoded name maps back.
    """
    text = vault_name.lower()
    out: builtins.list[str] = []
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char != "-":
            if char not in _LITERALS:
                return None
            out.append(char)
            i += 1
            continue
        if i + 1 >= end:
            return None
        kind = text[i + 1]
        if kind == "-":
            out.append("-")
            i += 2
            continue
        close = text.find("-", i + 2)
        if close < 0:
            return None
        body = text[i + 2 : close]
        if kind in _SHORT_DECODE and not body:
            out.append(_SHORT_DECODE[kind])
        elif kind == "c" and body and all(c in _LOWER for c in body):
            out.append(body.upper())
        elif kind == "x" and 1 <= len(body) <= 6 and all(c in _HEX for c in body):
            point = int(body, 16)
            if point > 0x10FFFF:
                return None
            out.append(chr(point))
        else:
            return None
        i = close + 1
    name = "".join(out)
    if not name or encode_name(name) != text:
        return None
    return name


# -- helpers ---------------------------------------------------------------------------


def _load_sdk() -> tuple[type[SecretClient], Any]:
    try:
        from azure import identity  # noqa: PLC0415 - optional extra, imported lazily
        from azure.keyvault.secrets import SecretClient  # noqa: PLC0415
    except ImportError as err:
        raise ImportError(
            f"the 'azure' provider needs azure-keyvault-secrets and azure-identity: {_EXTRA_HINT}"
        ) from err
    return SecretClient, identity


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _check_moment(value: object, what: str, name: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidSecret(
                f"{what} must be an ISO 8601 date-time", name=name, provider="azure"
            ) from None
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidSecret(f"{what} must be timezone-aware", name=name, provider="azure")
    return value.astimezone(timezone.utc)


def _written_ns(props: SecretProperties) -> int:
    text = (props.tags or {}).get(WRITTEN_TAG, "")
    return int(text) if text.isdigit() else 0


def _newest_first(items: builtins.list[SecretProperties]) -> builtins.list[SecretProperties]:
    def key(props: SecretProperties) -> tuple[datetime, int, str]:
        return (_aware(props.created_on) or _EPOCH, _written_ns(props), props.version or "")

    return sorted(items, key=key, reverse=True)


def _split_tags(props: SecretProperties) -> tuple[dict[str, str], dict[str, str]]:
    """(metadata, tags) of a version: prefixed tags and attributes vs. plain tags."""
    metadata: dict[str, str] = {}
    tags: dict[str, str] = {}
    for key, value in (props.tags or {}).items():
        if key == WRITTEN_TAG:
            continue
        if key.startswith(META_TAG_PREFIX):
            metadata[key[len(META_TAG_PREFIX) :]] = value
        else:
            tags[key] = value
    if props.content_type:
        metadata[_CONTENT_TYPE] = props.content_type
    not_before = _aware(props.not_before)
    if not_before is not None:
        metadata[_NOT_BEFORE] = _iso(not_before)
    return metadata, tags


def _option(options: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """An option's value checked for type; strings may come from a secret (``SecretValue``)."""
    value = options.get(key)
    if value is None:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if str in kinds and isinstance(value, SecretValue):
        return value
    # bool is an int subclass: ``timeout: true`` is not a number.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = (
            "a boolean"
            if bool in kinds
            else "a string"
            if str in kinds
            else "a number"
            if float in kinds
            else "an integer"
        )
        raise ConfigError(f"option must be {expected}, not {type(value).__name__}", key=key)
    return value


def _resolve(base_dir: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _text(value: str | SecretValue | None) -> str | None:
    return None if value is None else option_text(value)


def _display_url(url: str) -> str:
    """``url`` as shown in messages: scheme, host, port and path only (no user info,
    query or fragment, which could hold a credential)."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<the client's vault URL>"
    return f"{parts.scheme}://{host}{port}{parts.path}"


# -- the provider ----------------------------------------------------------------------


class AzureKeyVaultProvider(SecretProvider):
    """Secrets in one Azure Key Vault (``https://<vault>.vault.azure.net``).

    ``credential`` is any ``azure.core.credentials.TokenCredential``; without one a
    ``DefaultAzureCredential`` is made (and closed by :meth:`close`). ``client``
    replaces ``vault_url`` and ``credential`` with a ready ``SecretClient``.

    ``name_encoding``: ``"verbatim"`` (default: names are Key Vault names, as other
    tools write them) or ``"escape"`` (any name, see :func:`encode_name`). ``enforce_validity``:
    raise :class:`SecretExpired` / :class:`SecretNotYetValid` for a version outside
    its ``expires_on`` / ``not_before`` window (Key Vault itself still returns it).
    ``purge_on_delete``: purge after the soft delete, so the name is free at once.
    ``timeout`` (seconds) bounds connecting, each read and waiting for a delete or
    recovery; ``retries`` is the SDK's retry count for throttling and 5xx answers.
    ``verify_challenge_resource=False`` and ``connection_verify`` (``False`` or a CA
    bundle path) are for emulators. ``api_version`` pins the Key Vault REST version.
    """

    name = "azure"
    _legacy_public_methods = True  # TRANSITION: converted to the kit's hooks in k9-azure
    capabilities = Capabilities(
        write=True,
        delete=True,
        list=True,
        versions=True,
        metadata=True,
        max_value_bytes=MAX_VALUE_BYTES,
    )

    def __init__(
        self,
        vault_url: str | SecretValue | None = None,
        *,
        credential: TokenCredential | None = None,
        client: SecretClient | None = None,
        name_encoding: str = "verbatim",
        enforce_validity: bool = True,
        purge_on_delete: bool = False,
        timeout: float = 30.0,
        retries: int = 3,
        poll_interval: float = 1.0,
        api_version: str | SecretValue | None = None,
        verify_challenge_resource: bool = True,
        connection_verify: bool | str = True,
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
        self._enforce_validity = enforce_validity
        self._purge_on_delete = purge_on_delete
        self._timeout = float(timeout)
        self._poll_interval = poll_interval
        self._owned_credential: Any = None
        self._closed = False
        self._close_lock = threading.Lock()
        if client is not None:
            if vault_url is not None or credential is not None:
                raise ConfigError("give either client, or vault_url (and credential)")
            self._client = client
            self.vault_url: str = client.vault_url
            self._url_shown = _display_url(client.vault_url)
            return
        if vault_url is None:
            raise ConfigError("vault_url must be an https:// URL", key="vault_url")
        # A vault_url from a bootstrap secret (SecretValue) is used, never shown.
        url = str(plain_url(vault_url, "vault_url", schemes=("https",)))
        self._url_shown = shown(vault_url, url)
        secret_client, identity = _load_sdk()
        if credential is None:
            credential = self._owned_credential = identity.DefaultAzureCredential()
        kwargs: dict[str, Any] = {
            "verify_challenge_resource": verify_challenge_resource,
            "connection_verify": connection_verify,
            "connection_timeout": self._timeout,
            "read_timeout": self._timeout,
            "retry_total": retries,
        }
        if api_version is not None:
            kwargs["api_version"] = option_text(api_version)
        # The SDK's message may quote vault_url or api_version: shown only when
        # neither came from a secret. Raised outside the except block.
        problem = ""
        try:
            self._client = secret_client(url, credential, **kwargs)
        except (ValueError, NotImplementedError) as err:
            hidden = isinstance(vault_url, SecretValue) or isinstance(api_version, SecretValue)
            problem = "check vault_url and api_version" if hidden else str(err)[:300]
        if problem:
            raise ConfigError(f"invalid Key Vault client settings: {problem}", key="vault_url")
        self.vault_url = url

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, base_dir: Path) -> AzureKeyVaultProvider:
        """Build from settings (see ``docs/providers/azure.md`` for every option).

        ``credential`` is ``default`` (``DefaultAzureCredential``), ``client_secret``
        (``ClientSecretCredential``: ``tenant_id``, ``client_id`` and the secret from
        ``client_secret_env`` or ``client_secret_file``) or ``managed_identity``
        (``ManagedIdentityCredential``, ``client_id`` for a user-assigned identity).
        """
        known = {
            "vault_url",
            "credential",
            "tenant_id",
            "client_id",
            "client_secret_env",
            "client_secret_file",
            "name_encoding",
            "enforce_validity",
            "purge_on_delete",
            "timeout",
            "retries",
            "api_version",
            "verify_challenge_resource",
            "connection_verify",
        }
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown option for provider 'azure' (known: {', '.join(sorted(known))})",
                key=unknown[0],
            )
        vault_url = _option(options, "vault_url", str)
        if vault_url is None or not vault_url:
            raise ConfigError("the vault URL is required", key="vault_url")
        verify = options.get("connection_verify", True)
        if isinstance(verify, str | SecretValue):
            verify = str(_resolve(base_dir, option_text(verify)))
        elif not isinstance(verify, bool):
            raise ConfigError(
                "option must be a boolean or a CA bundle path", key="connection_verify"
            )
        timeout = _option(options, "timeout", (int, float))
        retries = _option(options, "retries", int)
        settings: dict[str, Any] = {
            "name_encoding": _text(_option(options, "name_encoding", str)) or "verbatim",
            "enforce_validity": _bool(options, "enforce_validity", default=True),
            "purge_on_delete": _bool(options, "purge_on_delete", default=False),
            "timeout": 30.0 if timeout is None else float(timeout),
            "retries": 3 if retries is None else retries,
            "api_version": _option(options, "api_version", str),
            "verify_challenge_resource": _bool(options, "verify_challenge_resource", default=True),
            "connection_verify": verify,
        }
        credential = _credential_from_options(options, base_dir)
        try:
            provider = cls(vault_url, credential=credential, **settings)
        except BaseException:
            credential.close()  # type: ignore[attr-defined]
            raise
        # The provider made this credential, so its close() closes it too.
        provider._owned_credential = credential
        return provider

    # -- names and errors ----------------------------------------------------------------
    def vault_name(self, name: str) -> str:
        """The Key Vault name secretwire name ``name`` is stored under.

        Raises :class:`InvalidSecret` for an empty name, a name whose encoding is over
        127 characters, or (``verbatim``) a name that is not a Key Vault name.
        """
        check_name(name, provider=self.name)
        if self._verbatim:
            if not _VAULT_NAME.fullmatch(name):
                raise InvalidSecret(
                    f"secret name {name!r} is not a Key Vault name (1-127 characters of "
                    "0-9, a-z, A-Z and '-'); to store names like 'db/password', set the "
                    "provider option name_encoding: escape (names are then encoded, see "
                    "docs/providers/azure.md)",
                    name=name,
                    provider=self.name,
                )
            return name
        encoded = encode_name(name)
        if len(encoded) > MAX_NAME_CHARS:
            raise InvalidSecret(
                f"secret name {name!r} maps to a Key Vault name of {len(encoded)} characters; "
                f"Key Vault allows {MAX_NAME_CHARS}",
                name=name,
                provider=self.name,
            )
        return encoded

    def secretwire_name(self, vault_name: str) -> str | None:
        """The secretwire name for a Key Vault name, or ``None`` if it is not one."""
        if self._verbatim:
            return vault_name
        return decode_name(vault_name)

    def _error(
        self, err: BaseException, action: str, *, name: str | None, version: str | None = None
    ) -> ProviderError:
        """Translate one SDK or credential error into secretwire's types.

        The only place backend errors are mapped. The message holds the action, the
        name, the HTTP status and Key Vault's error codes; never the SDK's text, which
        for a failed write can hold the request (and so the value).
        """
        from azure.core.exceptions import (  # noqa: PLC0415 - the SDK is an optional extra
            ClientAuthenticationError,
            HttpResponseError,
            ServiceRequestError,
            ServiceResponseError,
        )

        where = f"{action} of secret {name!r}" if name is not None else action
        if version is not None:
            where += f" version {version!r}"
        context: dict[str, Any] = {"name": name, "provider": self.name, "version": version}
        if isinstance(err, (ServiceRequestError, ServiceResponseError)):
            return ProviderUnavailable(
                f"Key Vault {self._url_shown} did not answer the {where}: {type(err).__name__}",
                **context,
            )
        if isinstance(err, ClientAuthenticationError) and err.status_code is None:
            # Raised by the credential (azure-identity): no token could be obtained.
            # Its text names the credentials tried, never a value; --debug shows it.
            denied = AccessDenied(
                f"could not authenticate to Key Vault {self._url_shown} for the {where}: "
                f"{type(err).__name__} (run with --debug for the credential chain)",
                **context,
            )
            denied.original = err
            return denied
        if not isinstance(err, HttpResponseError):
            return ProviderError(f"Key Vault {where} failed: {type(err).__name__}", **context)
        status = err.status_code
        odata = err.error
        code = odata.code if odata is not None else None
        inner = odata.innererror.get("code") if odata is not None and odata.innererror else None
        message = (odata.message or "") if odata is not None else ""
        codes = "/".join(str(c) for c in (code, inner) if c) or "no Key Vault error code"
        if status == 404:
            if odata is None:
                return ProviderUnavailable(
                    f"{self._url_shown} answered 404 without a Key Vault error to the {where}; "
                    "check vault_url",
                    **context,
                )
            return SecretNotFound(**context)
        # Key Vault: 403 Forbidden/SecretDisabled, "Operation get is not allowed on a
        # disabled secret." Other 403s may say "disabled" too ("Public network access
        # is disabled", a firewall): those are plain access denials.
        if status == 403 and (inner == "SecretDisabled" or "disabled secret" in message.lower()):
            return SecretDisabled(
                f"secret {name!r} is disabled in Key Vault {self._url_shown} ({codes})", **context
            )
        if status in (401, 403):
            needed = _PERMISSIONS.get(action, action)
            return AccessDenied(
                f"Key Vault {self._url_shown} refused the {where} (HTTP {status}, {codes}); "
                f"the identity needs the secrets {needed} permission",
                **context,
            )
        if status == 409:
            if action == "set":
                return Conflict(
                    f"secret {name!r} is deleted but recoverable in Key Vault {self._url_shown} "
                    f"({codes}); recover it (AzureKeyVaultProvider.recover) or purge it "
                    "(AzureKeyVaultProvider.purge) before writing it again",
                    **context,
                )
            return Conflict(
                f"Key Vault {self._url_shown} refused the {where} because of the secret's "
                f"state (HTTP 409, {codes})",
                **context,
            )
        if status == 400:
            return InvalidSecret(
                f"Key Vault {self._url_shown} rejected the {where} as invalid (HTTP 400, {codes})",
                **context,
            )
        if status is not None and (status == 429 or status >= 500):
            return ProviderUnavailable(
                f"Key Vault {self._url_shown} failed the {where} (HTTP {status}, {codes})",
                **context,
            )
        return ProviderError(
            f"Key Vault {self._url_shown} answered the {where} with HTTP {status} ({codes})",
            **context,
        )

    def _call(
        self,
        action: str,
        call: Callable[[], T],
        *,
        name: str | None,
        version: str | None = None,
    ) -> T:
        from azure.core.exceptions import AzureError  # noqa: PLC0415 - optional extra

        try:
            return call()
        except AzureError as err:
            failure = self._error(err, action, name=name, version=version)
        # Raised outside the except block: no __context__ links back to the SDK error.
        raise failure

    def _check_state(self, name: str, version: str | None, props: SecretProperties) -> None:
        if props.enabled is False:
            raise SecretDisabled(
                f"secret {name!r} is disabled in Key Vault {self._url_shown}",
                name=name,
                provider=self.name,
                version=version,
            )
        if not self._enforce_validity:
            return
        now = datetime.now(timezone.utc)
        not_before = _aware(props.not_before)
        if not_before is not None and now < not_before:
            raise SecretNotYetValid(
                f"secret {name!r} version {props.version!r} is not valid before {_iso(not_before)}",
                name=name,
                provider=self.name,
                version=version,
                not_before=not_before,
            )
        expires = _aware(props.expires_on)
        if expires is not None and now >= expires:
            raise SecretExpired(
                f"secret {name!r} version {props.version!r} expired at {_iso(expires)}",
                name=name,
                provider=self.name,
                version=version,
                expires_at=expires,
            )

    def _version_of(self, name: str, props: SecretProperties, *, current: bool) -> SecretVersion:
        metadata, tags = _split_tags(props)
        metadata[_ENABLED] = "false" if props.enabled is False else "true"
        return SecretVersion(
            name=name,
            version=props.version or "",
            created_at=_aware(props.created_on),
            expires_at=_aware(props.expires_on),
            current=current,
            metadata=metadata,
            tags=tags,
        )

    def _tags_for(
        self,
        name: str,
        metadata: Mapping[str, str] | None,
        tags: Mapping[str, str] | None,
    ) -> tuple[dict[str, str], str | None, datetime | None]:
        """Key Vault tags, content type and not-before for a write, checked against limits."""
        result: dict[str, str] = {}
        content_type: str | None = None
        not_before: datetime | None = None
        for key, value in string_map(tags, "tags").items():
            if key.startswith(META_TAG_PREFIX) or key == WRITTEN_TAG:
                raise InvalidSecret(
                    f"tag {key!r} is reserved for secretwire metadata",
                    name=name,
                    provider=self.name,
                )
            result[key] = value
        for key, value in string_map(metadata, "metadata").items():
            if key == _CONTENT_TYPE:
                content_type = value
            elif key == _NOT_BEFORE:
                not_before = _check_moment(value, "metadata 'not_before'", name)
            elif key == _ENABLED:
                raise InvalidSecret(
                    "metadata 'enabled' is read-only (set by Key Vault)",
                    name=name,
                    provider=self.name,
                )
            else:
                result[META_TAG_PREFIX + key] = value
        result[WRITTEN_TAG] = str(time.time_ns())
        if len(result) > MAX_TAGS:
            raise InvalidSecret(
                f"Key Vault allows {MAX_TAGS} tags per version, and tags plus metadata need "
                f"{len(result)} (secretwire uses one)",
                name=name,
                provider=self.name,
            )
        for key, value in result.items():
            if len(key) > _MAX_TAG_NAME or len(value) > _MAX_TAG_VALUE:
                raise InvalidSecret(
                    f"tag {key!r} is too long (Key Vault allows names of {_MAX_TAG_NAME} and "
                    f"values of {_MAX_TAG_VALUE} characters)",
                    name=name,
                    provider=self.name,
                )
        return result, content_type, not_before

    # -- reads -----------------------------------------------------------------------------
    def get(self, name: str, *, version: str | None = None) -> Secret:
        """``SecretClient.get_secret`` (``GET /secrets/{name}/{version}``).

        A disabled secret raises :class:`SecretDisabled`; with ``enforce_validity`` an
        expired or not-yet-valid version raises :class:`SecretExpired` or
        :class:`SecretNotYetValid`.
        """
        vault_name = self.vault_name(name)
        if version is not None and (not isinstance(version, str) or not version):
            raise InvalidSecret("version must be a non-empty string", name=name, provider=self.name)
        bundle = self._call(
            "get", lambda: self._client.get_secret(vault_name, version), name=name, version=version
        )
        props = bundle.properties
        self._check_state(name, version, props)
        if bundle.value is None:
            raise ProviderError(
                f"Key Vault {self._url_shown} returned secret {name!r} without a value",
                name=name,
                provider=self.name,
                version=version,
            )
        metadata, tags = _split_tags(props)
        return Secret(
            name=name,
            value=SecretValue(bundle.value),
            version=props.version,
            created_at=_aware(props.created_on),
            updated_at=_aware(props.updated_on),
            expires_at=_aware(props.expires_on),
            metadata=metadata,
            tags=tags,
            provider=self.name,
        )

    def list(self, prefix: str = "") -> Iterator[str]:
        """``SecretClient.list_properties_of_secrets`` (``GET /secrets``), decoded and sorted.

        Key Vault names that are not encodings of a secretwire name are skipped and
        logged (by Key Vault name) at WARNING.
        """
        items = self._call(
            "list", lambda: builtins.list(self._client.list_properties_of_secrets()), name=None
        )
        return iter(self._decoded(items, prefix, "secrets"))

    def _decoded(self, items: builtins.list[Any], prefix: str, what: str) -> builtins.list[str]:
        names: builtins.set[str] = set()
        skipped: builtins.list[str] = []
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

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        """``SecretClient.list_properties_of_secret_versions`` (``GET /secrets/{name}/versions``).

        Newest first by creation time (ties, within Key Vault's one-second resolution,
        by the time secretwire recorded at write); the newest is ``current``.
        """
        vault_name = self.vault_name(name)
        items = self._call(
            "versions",
            lambda: builtins.list(self._client.list_properties_of_secret_versions(vault_name)),
            name=name,
        )
        if not items:
            raise SecretNotFound(name=name, provider=self.name)
        ordered = _newest_first(items)
        return [
            self._version_of(name, props, current=index == 0) for index, props in enumerate(ordered)
        ]

    # -- writes ----------------------------------------------------------------------------
    def set(  # type: ignore[override]  # TRANSITION: the kit's _set hook in k9-azure
        self,
        name: str,
        value: str,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
    ) -> SecretVersion:
        """``SecretClient.set_secret`` (``PUT /secrets/{name}``): a new version.

        ``metadata["content_type"]`` becomes the content type and
        ``metadata["not_before"]`` (ISO 8601) the not-before time; other metadata is
        stored as ``secretwire:<key>`` tags. Values over 25 KiB (UTF-8) raise
        :class:`InvalidSecret` before any call. A name that is soft-deleted raises
        :class:`Conflict`: recover or purge it first.
        """
        secret = secret_value(value)
        del value  # only the masked value stays in this frame (and the closure below)
        vault_name = self.vault_name(name)
        check_value(secret, name=name, provider=self.name)
        size = len(secret.reveal().encode("utf-8"))
        if size > MAX_VALUE_BYTES:
            raise InvalidSecret(
                f"value of secret {name!r} is {size} bytes; Key Vault allows {MAX_VALUE_BYTES} "
                "(25 KiB)",
                name=name,
                provider=self.name,
            )
        expires = None if expires_at is None else _check_moment(expires_at, "expires_at", name)
        kv_tags, content_type, not_before = self._tags_for(name, metadata, tags)
        bundle = self._call(
            "set",
            lambda: self._client.set_secret(
                vault_name,
                secret.reveal(),
                tags=kv_tags,
                content_type=content_type,
                not_before=not_before,
                expires_on=expires,
            ),
            name=name,
        )
        return self._version_of(name, bundle.properties, current=True)

    def delete(self, name: str) -> None:
        """``SecretClient.begin_delete_secret`` (``DELETE /secrets/{name}``), waiting for
        the soft delete to finish (polling ``GET /deletedsecrets/{name}``); then, with
        ``purge_on_delete``, ``purge_deleted_secret`` (``DELETE /deletedsecrets/{name}``).
        """
        vault_name = self.vault_name(name)

        def run() -> None:
            self._finish(self._client.begin_delete_secret, vault_name, "deleting", name)

        self._call("delete", run, name=name)
        if self._purge_on_delete:
            self.purge(name)

    def recover(self, name: str) -> None:
        """``SecretClient.begin_recover_deleted_secret`` (``POST
        /deletedsecrets/{name}/recover``), waiting until the secret is readable again.
        Raises :class:`SecretNotFound` if ``name`` is not soft-deleted."""
        vault_name = self.vault_name(name)

        def run() -> None:
            self._finish(self._client.begin_recover_deleted_secret, vault_name, "recovering", name)

        self._call("recover", run, name=name)

    def _finish(self, begin: Callable[..., Any], vault_name: str, doing: str, name: str) -> None:
        """Start a long-running operation and wait for it, up to ``timeout``."""
        poller = begin(vault_name, _polling_interval=self._poll_interval)
        poller.wait(timeout=self._timeout)
        if not poller.done():
            raise ProviderUnavailable(
                f"{doing} secret {name!r} did not finish within {self._timeout:g} s",
                name=name,
                provider=self.name,
            )

    def purge(self, name: str) -> None:
        """``SecretClient.purge_deleted_secret`` (``DELETE /deletedsecrets/{name}``):
        remove a soft-deleted secret for good. Raises :class:`SecretNotFound` if
        ``name`` is not soft-deleted."""
        vault_name = self.vault_name(name)
        self._call("purge", lambda: self._client.purge_deleted_secret(vault_name), name=name)

    def deleted(self, prefix: str = "") -> Iterator[str]:
        """``SecretClient.list_deleted_secrets`` (``GET /deletedsecrets``): names of
        soft-deleted secrets starting with ``prefix``, sorted."""
        items = self._call(
            "list deleted", lambda: builtins.list(self._client.list_deleted_secrets()), name=None
        )
        return iter(self._decoded(items, prefix, "deleted secrets"))

    # -- lifecycle -------------------------------------------------------------------------
    def health(self) -> Health:
        """``SecretClient.get_secret`` of a probe name: 404 (or the secret) means the
        vault answered and accepted the identity; needs only the ``get`` permission."""
        started = time.perf_counter()
        try:
            self._call("health check", lambda: self._client.get_secret(_HEALTH_PROBE), name=None)
        except SecretNotFound:
            pass
        except SecretDisabled:
            pass
        except AccessDenied as err:
            return Health(self.name, HealthStatus.UNAUTHENTICATED, str(err))
        except ProviderUnavailable as err:
            return Health(self.name, HealthStatus.UNAVAILABLE, str(err))
        except ProviderError as err:
            return Health(self.name, HealthStatus.DEGRADED, str(err))
        return Health(self.name, HealthStatus.OK, latency_seconds=time.perf_counter() - started)

    def close(self) -> None:
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


# -- settings-file credentials ---------------------------------------------------------------


def _bool(options: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = _option(options, key, bool)
    return default if value is None else bool(value)


def _credential_from_options(options: Mapping[str, Any], base_dir: Path) -> TokenCredential:
    """The credential the settings name. Its options may come from a secret
    (``SecretValue``); the client secret is held as a ``SecretValue`` from the moment
    it is read, and revealed only in the call that builds the credential."""
    kind = _text(_option(options, "credential", str)) or "default"
    if kind not in ("default", "client_secret", "managed_identity"):
        raise ConfigError(
            "credential must be default, client_secret or managed_identity", key="credential"
        )
    tenant_id = _text(_option(options, "tenant_id", str))
    client_id = _text(_option(options, "client_id", str))
    secret_env = _option(options, "client_secret_env", str)
    secret_file = _option(options, "client_secret_file", str)
    if kind != "client_secret":
        for key, value in (
            ("tenant_id", tenant_id),
            ("client_secret_env", secret_env),
            ("client_secret_file", secret_file),
        ):
            if value is not None:
                raise ConfigError(f"only used with credential: client_secret (not {kind})", key=key)
    _, identity = _load_sdk()
    if kind == "default":
        if client_id is None:
            return identity.DefaultAzureCredential()  # type: ignore[no-any-return]
        return identity.DefaultAzureCredential(  # type: ignore[no-any-return]
            managed_identity_client_id=client_id
        )
    if kind == "managed_identity":
        return identity.ManagedIdentityCredential(client_id=client_id)  # type: ignore[no-any-return]
    if not tenant_id:
        raise ConfigError("credential client_secret needs tenant_id", key="tenant_id")
    if not client_id:
        raise ConfigError("credential client_secret needs client_id", key="client_id")
    if (secret_env is None) == (secret_file is None):
        raise ConfigError(
            "credential client_secret needs exactly one of client_secret_env and "
            "client_secret_file",
            key="client_secret_env",
        )
    secret = _client_secret(secret_env, secret_file, base_dir)
    # azure-identity checks the tenant id (ValueError, quoting nothing): raised as a
    # ConfigError outside the except block, from a frame that holds the secret masked.
    credential: TokenCredential | None = None
    with contextlib.suppress(ValueError):
        credential = identity.ClientSecretCredential(tenant_id, client_id, secret.reveal())
    if credential is None:
        raise ConfigError(
            "tenant_id is not a valid tenant id (a GUID or a domain name)", key="tenant_id"
        )
    return credential


def _client_secret(
    secret_env: str | SecretValue | None, secret_file: str | SecretValue | None, base_dir: Path
) -> SecretValue:
    """The client secret from a variable or a file, as a SecretValue (never echoed:
    a variable name or path that came from a secret is not shown either)."""
    if secret_env is not None:
        variable = env_variable(secret_env, "client_secret_env")
        secret = SecretValue(os.environ.get(variable, "").strip())
        if not secret:
            raise ConfigError(
                f"environment variable {shown(secret_env, variable)} is not set or empty",
                key="client_secret_env",
            )
        return secret
    assert secret_file is not None  # noqa: S101 - one of the two is given
    path = _resolve(base_dir, option_text(secret_file))
    where = shown(secret_file, str(path))
    secret = read_secret_file(
        path, option="client_secret_file", what="client secret file", shown_path=where
    )
    secret = SecretValue(secret.reveal().strip())
    if not secret:
        raise ConfigError(f"client secret file {where} is empty", key="client_secret_file")
    return secret
