"""HashiCorp Vault (and OpenBao) KV secrets engine, through hvac.

* **KV v2** (the default ``secret/`` mount of a dev server) and **KV v1**. The
  version is read from ``sys/internal/ui/mounts/<mount>`` on first use, or set
  with ``kv_version``.
* **Auth**: a token (``token``, ``token_env``, ``token_file``; ``VAULT_TOKEN`` by
  default), AppRole, TLS client certificates, JWT/OIDC and Kubernetes. Tokens
  obtained by a login are renewed, or the provider logs in again, before they
  expire (after two thirds of their TTL).
* **Values**: an entry ``{"value": "<string>"}`` reads as that string; any other
  entry (several keys, another key, a non-string) reads as the compact JSON of its
  data, so ``${secret:db#password}`` picks one key. ``set`` always stores
  ``{"value": <str>}``, so what is written reads back byte for byte.
* **Errors** are translated in one function, :func:`_translate`, and never chained
  to the hvac/requests exception (those carry the request, with its body and the
  ``X-Vault-Token`` header). Vault's own error text is quoted only when it holds
  neither the token nor a value being written.
* **Frames**: tokens, login credentials and values being written are held as
  :class:`~secretwire.SecretValue` and revealed only in :meth:`VaultProvider._exchange`,
  whose frame returns normally (with the response or the translated error), so no
  frame of an error's traceback holds them.

Every HTTP call goes through hvac's adapter (token and namespace headers, URL
quoting, status -> exception); the session retries idempotent reads (GET, LIST)
on connection errors, read timeouts and HTTP 502/504.
"""

from __future__ import annotations

import builtins
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from ..errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    InvalidSecret,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
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
    os_reason,
    plain_url,
    read_secret_file,
    secret_value,
    shown,
    ssl_reason,
    string_map,
    timed_out,
)

if TYPE_CHECKING:
    import hvac
    import requests

__all__ = ["VaultProvider"]

logger = logging.getLogger("secretwire.vault")

_PROVIDER = "vault"
#: Vault's and OpenBao's default listener ``max_request_size`` (32 MiB).
DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024
#: Room left in a request for the JSON around the value (``{"options":...,"data":...}``).
_ENVELOPE_BYTES = 4096
_MAX_VALUE_BYTES = DEFAULT_MAX_REQUEST_BYTES - _ENVELOPE_BYTES
_KUBERNETES_JWT = "/var/run/secrets/kubernetes.io/serviceaccount/token"
_AUTH_METHODS = ("token", "approle", "cert", "jwt", "kubernetes")
_READ_METHODS = frozenset({"GET", "LIST", "HEAD"})
#: After this fraction of a token's TTL has passed, it is renewed (or replaced).
_REFRESH_FRACTION = 2 / 3

KV2_CAPABILITIES = Capabilities(
    write=True,
    delete=True,
    list=True,
    versions=True,
    metadata=True,
    max_value_bytes=_MAX_VALUE_BYTES,
)
KV1_CAPABILITIES = Capabilities(
    write=True,
    delete=True,
    list=True,
    versions=False,
    metadata=False,
    max_value_bytes=_MAX_VALUE_BYTES,
)


def _import_hvac() -> Any:
    try:
        import hvac  # noqa: PLC0415 - optional extra, imported on first use
        import requests  # noqa: PLC0415, F401 - hvac's dependency
    except ImportError as err:
        raise ImportError(
            "the 'vault' provider needs hvac: pip install 'secretwire[vault]'"
        ) from err
    return hvac


# -- credentials -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Credential:
    """Where a credential comes from: given directly, an environment variable or a file.

    It is read on every login (files such as a Kubernetes projected token are
    rotated), into a :class:`SecretValue`; ``repr`` names the source, never the
    credential (nor a variable name or path that came from a secret).
    """

    option: str
    value: SecretValue | None = None
    env: str | None = None
    path: Path | None = None
    #: how messages name the variable or file
    source: str = ""

    def read(self) -> SecretValue:
        if self.value is not None:
            raw = self.value
        elif self.env is not None:
            raw = SecretValue(os.environ.get(self.env, ""))
        else:
            assert self.path is not None  # noqa: S101 - one source is guaranteed
            raw = read_secret_file(
                self.path, option=f"{self.option}_file", what="file", shown_path=self.source
            )
        credential = _clean_credential(self.option, raw)
        if isinstance(credential, str):
            if self.env is not None and credential == "is empty":
                raise ConfigError(
                    f"environment variable {self.source} is not set or empty",
                    key=f"{self.option}_env",
                )
            raise ConfigError(f"the {self.option} {credential}", key=self.option)
        return credential

    def __repr__(self) -> str:
        if self.value is not None:
            return f"<{self.option}: given>"
        if self.env is not None:
            return f"<{self.option}: ${self.source}>"
        return f"<{self.option}: file {self.source}>"


def _clean_credential(option: str, raw: SecretValue) -> SecretValue | str:
    """The credential without surrounding whitespace, or what is wrong with it. Never
    raises, so the text is on no traceback."""
    text = raw.reveal().strip()
    if not text:
        return "is empty"
    if option != "role_id" and not text.isascii():
        # Sent in a header or a JSON body; Vault issues ASCII credentials.
        return "has non-ASCII characters"
    return SecretValue(text)


def _credential(
    option: str,
    value: str | SecretValue | None,
    env: str | SecretValue | None,
    path: str | os.PathLike[str] | SecretValue | None,
    *,
    required: bool,
    default_env: str | None = None,
) -> _Credential | None:
    given = [
        name
        for name, item in ((option, value), (f"{option}_env", env), (f"{option}_file", path))
        if item is not None
    ]
    if len(given) > 1:
        raise ConfigError(f"give only one of {', '.join(given)}", key=given[1])
    if value is not None:
        if not isinstance(value, str | SecretValue) or not value:
            raise ConfigError("must be a non-empty string", key=option)
        return _Credential(option, value=secret_value(value))
    if env is not None:
        # Checked for shape, never echoed: given the credential itself by mistake,
        # the error must not show it.
        variable = env_variable(env, f"{option}_env")
        return _Credential(option, env=variable, source=shown(env))
    if path is not None:
        if isinstance(path, SecretValue):
            return _Credential(option, path=Path(path.reveal()).expanduser(), source=shown(path))
        expanded = Path(path).expanduser()
        return _Credential(option, path=expanded, source=str(expanded))
    if default_env is not None:
        return _Credential(option, env=default_env, source=default_env)
    if required:
        raise ConfigError(
            f"needs one of {option}, {option}_env or {option}_file", key=f"{option}_env"
        )
    return None


PathOption = str | os.PathLike[str] | SecretValue
#: A credential's sources: (value, variable name, file).
_Sources = tuple[str | SecretValue | None, str | SecretValue | None, PathOption | None]


def _seconds(value: object) -> float:
    """A TTL from Vault's answer; 0 for anything else (never raises: the answer holds
    the token)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return max(float(value), 0.0)
    return 0.0


def _mount_path(value: object, option: str) -> tuple[str, str]:
    """(a non-empty path option without surrounding '/', how messages show it)."""
    text = _text_or_none(value)
    if text is None or not text.strip("/"):
        raise ConfigError(f"{option} must be a non-empty path", key=option)
    path = text.strip("/")
    return path, (shown(value) if isinstance(value, SecretValue) else repr(path))


def _text_or_none(value: object) -> str | None:
    return option_text(value) if isinstance(value, str | SecretValue) else None


def _path_text(value: PathOption) -> str:
    return str(Path(value.reveal() if isinstance(value, SecretValue) else value).expanduser())


@dataclass(frozen=True, slots=True)
class _Token:
    value: SecretValue
    #: ``time.monotonic()`` after which the token should be renewed or replaced.
    refresh_at: float | None
    ttl: float
    renewable: bool


# -- names, times and values ---------------------------------------------------------


def _check_name(name: object) -> str:
    name = check_name(name, provider=_PROVIDER)
    if name.startswith("/") or name.endswith("/"):
        raise InvalidSecret(
            f"secret name {name!r} must not start or end with '/'", provider=_PROVIDER
        )
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise InvalidSecret(
            f"secret name {name!r} has an empty, '.' or '..' path segment", provider=_PROVIDER
        )
    return name


def _parse_version(name: str, version: str | None) -> int | None:
    if version is None:
        return None
    text = str(version)
    # Vault reads version 0 as "the latest": never let "0" or junk reach it.
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise SecretNotFound(name=name, provider=_PROVIDER, version=text)
    return int(text)


_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")


def _parse_time(text: object) -> datetime | None:
    """Vault's RFC 3339 times (nanoseconds, ``Z``) on Python 3.10; ``""`` is no time."""
    if not isinstance(text, str) or not text:
        return None
    match = _TIME.match(text)
    if match is None:
        return None
    base, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    offset = "+00:00" if zone in (None, "Z") else zone
    moment = datetime.fromisoformat(f"{base}.{micro}{offset}")
    if moment.year <= 1:  # Go's zero time
        return None
    return moment.astimezone(timezone.utc)


def _str_map(data: object) -> Mapping[str, str]:
    if not isinstance(data, Mapping):
        return MappingProxyType({})
    return MappingProxyType({str(k): str(v) for k, v in data.items()})


def _value_of(data: object) -> str:
    """The rule for entries: ``{"value": str}`` is that string, anything else its JSON."""
    if isinstance(data, Mapping) and len(data) == 1 and isinstance(data.get("value"), str):
        return cast(str, data["value"])
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# -- error translation ---------------------------------------------------------------


# TRANSITION: the chain diggers live in the kit (secretwire.providers.base); these
# aliases keep this module working until it is converted (k9-vault).
_ssl_reason = ssl_reason
_os_reason = os_reason


def _timed_out(err: BaseException) -> bool:
    """A read timeout that the retry layer turned into a ``ConnectionError``."""
    from urllib3.exceptions import (  # noqa: PLC0415
        ConnectTimeoutError,
        NewConnectionError,
        ReadTimeoutError,
    )

    return timed_out(
        err,
        timeouts=(ReadTimeoutError, ConnectTimeoutError, TimeoutError),
        excluded=(NewConnectionError,),
    )


def _vault_text(err: Any) -> str:
    """Vault's error text (to classify the error; shown only through :func:`_shown_detail`)."""
    errors = getattr(err, "errors", None)
    if isinstance(errors, list) and errors:
        text = "; ".join(str(item) for item in errors)
    else:
        text = str(err.args[0]) if getattr(err, "args", None) and err.args[0] else ""
    return " ".join(text.split())


def _shown_detail(text: str, sensitive: tuple[str, ...]) -> str:
    """Vault's error text, unless it quotes a credential, a value being written or an
    option value that came from a secret."""
    if not text:
        return ""
    if any(secret and secret in text for secret in sensitive):
        return "(Vault's message quoted the request; withheld)"
    return text[:300]


#: What a refused login (HTTP 400) means, per auth method; never the credential itself.
_REFUSED = {
    "approle": (
        "the role_id or the secret_id is not valid (or the secret_id expired or reached "
        "its use limit)"
    ),
    "jwt": "the JWT or the role was not accepted",
    "kubernetes": "the service account token or the role was not accepted",
    "cert": "the client certificate was not accepted",
}


def _refused(auth: str, detail: str) -> str:
    if auth == "approle" and "missing secret_id" in detail.lower():
        return "the role needs a secret_id (give secret_id, secret_id_env or secret_id_file)"
    return _REFUSED.get(auth, "the credentials were not accepted")


def _translate(
    err: BaseException,
    *,
    action: str,
    url: str,
    timeout: float,
    name: str | None = None,
    version: str | None = None,
    sensitive: tuple[str, ...] = (),
    login: str | None = None,
) -> ProviderError | ConfigError | None:
    """The one place where hvac and requests outcomes become secretwire errors;
    ``None`` for an exception that is no backend outcome (a bug).

    Callers raise the result outside their ``except`` block: the original
    exceptions hold the request (body and ``X-Vault-Token`` header) and the
    response body, and must be neither ``__cause__`` nor ``__context__``.
    ``login`` names the auth method when the call was a login: a 400 then means
    the credentials were refused, said as such.
    """
    from hvac import exceptions as vault  # noqa: PLC0415 - optional extra
    from requests import exceptions as http  # noqa: PLC0415

    where = f"{action} secret {name!r}" if name is not None else action
    if version is not None:
        where += f" version {version!r}"
    text = _vault_text(err) if isinstance(err, vault.VaultError) else ""
    lowered = text.lower()  # classification uses Vault's text; messages only show `detail`
    detail = _shown_detail(text, sensitive)
    said = f": {detail}" if detail else ""
    kw: dict[str, Any] = {"name": name, "provider": _PROVIDER, "version": version}
    if isinstance(err, vault.InvalidPath):
        # A missing KV entry is a 404 with an empty ``errors`` list. A 404 that says
        # something is Vault's router: no such mount or namespace. That is a
        # configuration problem, never "not found" (a default must not hide it).
        if "namespace not found" in lowered:
            return ConfigError(
                f"Vault at {url} has no such namespace: {where}: {detail}", key="namespace"
            )
        if "no handler for route" in lowered:
            return ConfigError(
                f"Vault at {url} has nothing mounted at that path (check mount and "
                f"namespace): {where}: {detail}",
                key="mount",
            )
        return SecretNotFound(**kw)
    if isinstance(err, vault.Forbidden | vault.Unauthorized):
        return AccessDenied(f"access denied: {where} (Vault: permission denied)", **kw)
    if isinstance(err, vault.InvalidRequest) and login is not None:
        vault_says = f" (Vault: {detail})" if detail else ""
        return AccessDenied(
            f"Vault at {url} refused the login ({action}): {_refused(login, text)}{vault_says}",
            provider=_PROVIDER,
        )
    if isinstance(err, vault.InvalidRequest):
        if "check-and-set parameter required" in lowered:
            return Conflict(
                f"conflict: {where}: the mount requires check-and-set writes (set cas: true)",
                **kw,
            )
        if "check-and-set" in lowered:
            return Conflict(f"conflict: {where}: another writer changed it first{said}", **kw)
        return InvalidSecret(f"invalid request: {where}{said}", **kw)
    if isinstance(err, vault.VaultDown):
        return ProviderUnavailable(f"Vault at {url} is sealed or unavailable: {where}", **kw)
    if isinstance(err, vault.VaultNotInitialized):
        return ProviderUnavailable(f"Vault at {url} is not initialized: {where}", **kw)
    if isinstance(err, vault.RateLimitExceeded):
        return ProviderUnavailable(f"Vault at {url} is rate limiting requests: {where}", **kw)
    if isinstance(err, vault.VaultError):
        if "too large" in lowered:
            return InvalidSecret(f"value too large for Vault: {where}{said}", **kw)
        status = type(err).__name__
        return ProviderUnavailable(f"Vault at {url} failed ({status}): {where}{said}", **kw)
    if isinstance(err, http.SSLError):
        return ProviderUnavailable(f"TLS with {url} failed, {_ssl_reason(err)}: {where}", **kw)
    if isinstance(err, http.Timeout) or _timed_out(err):
        return ProviderUnavailable(
            f"Vault at {url} did not answer within {timeout:g} s: {where}", **kw
        )
    if isinstance(err, http.ConnectionError):
        return ProviderUnavailable(
            f"cannot connect to Vault at {url} ({_os_reason(err)}): {where}", **kw
        )
    if isinstance(err, http.RequestException):
        return ProviderUnavailable(
            f"unexpected answer from Vault at {url} ({type(err).__name__}): {where}", **kw
        )
    return None  # not a backend outcome: a bug


# -- the provider ----------------------------------------------------------------------


class VaultProvider(SecretProvider):
    """Secrets in a Vault / OpenBao KV mount (see ``docs/providers/vault.md``).

    ``auth`` picks the login: ``token`` (``token`` / ``token_env`` / ``token_file``,
    default ``$VAULT_TOKEN``), ``approle`` (``role_id[_env|_file]`` and
    ``secret_id[_env|_file]``), ``cert`` (``client_cert`` + ``client_key``, optional
    ``role``), ``jwt`` (``role`` and ``jwt[_env|_file]``) or ``kubernetes``
    (``role``, the service account token file by default). ``auth_mount`` is the
    auth method's path (default: the method name). Nothing contacts Vault until the
    first call.

    ``kv_version`` (1 or 2) skips detection. ``capabilities`` reflects KV v2 until
    the mount is known to be v1 (given, or detected by the first call).

    ``cas=True`` makes every :meth:`set` a check-and-set write against the version
    read just before (KV v2); ``set(..., cas=N)`` does it for one call. ``destroy``
    makes :meth:`delete` remove every version and the metadata instead of
    soft-deleting the latest version.
    """

    name = _PROVIDER
    _legacy_public_methods = True  # TRANSITION: converted to the kit's hooks in k9-vault
    capabilities = KV2_CAPABILITIES

    def __init__(
        self,
        url: str | SecretValue,
        *,
        mount: str | SecretValue = "secret",
        kv_version: int | None = None,
        namespace: str | SecretValue | None = None,
        auth: str = "token",
        auth_mount: str | SecretValue | None = None,
        token: str | SecretValue | None = None,
        token_env: str | SecretValue | None = None,
        token_file: PathOption | None = None,
        role_id: str | SecretValue | None = None,
        role_id_env: str | SecretValue | None = None,
        role_id_file: PathOption | None = None,
        secret_id: str | SecretValue | None = None,
        secret_id_env: str | SecretValue | None = None,
        secret_id_file: PathOption | None = None,
        role: str | SecretValue | None = None,
        jwt: str | SecretValue | None = None,
        jwt_env: str | SecretValue | None = None,
        jwt_file: PathOption | None = None,
        client_cert: PathOption | None = None,
        client_key: PathOption | None = None,
        ca_cert: PathOption | None = None,
        timeout: float = 10.0,
        read_retries: int = 2,
        cas: bool = False,
        destroy: bool = False,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    ) -> None:
        # Option values given as SecretValue (from a bootstrap secret) are used, never
        # shown: messages, the repr and health details use the *_shown forms, and
        # Vault's own error text is withheld when it quotes one of them.
        self._hidden = tuple(
            item
            for item in (url, mount, namespace, auth_mount, role)
            if isinstance(item, SecretValue)
        )
        self._url = str(plain_url(url, "url")).rstrip("/")
        self._url_shown = shown(url, self._url)
        self._mount, self._mount_shown = _mount_path(mount, "mount")
        if kv_version not in (None, 1, 2) or isinstance(kv_version, bool):
            raise ConfigError(
                "kv_version must be 1 or 2 (or omitted to detect it)", key="kv_version"
            )
        self._kv_version = kv_version
        if kv_version == 1:
            self._set_capabilities(KV1_CAPABILITIES)
        self._namespace: str | None = None
        self._namespace_shown = ""
        if namespace is not None:
            self._namespace, self._namespace_shown = _mount_path(namespace, "namespace")
        if auth not in _AUTH_METHODS:
            raise ConfigError(f"auth must be one of: {', '.join(_AUTH_METHODS)}", key="auth")
        self._auth = auth
        self._auth_mount, self._auth_mount_shown = _mount_path(auth_mount or auth, "auth_mount")
        self._role = _text_or_none(role) if role is not None else None
        if role is not None and not self._role:
            raise ConfigError("role must be a non-empty string", key="role")
        self._token_source: _Credential | None = None
        self._role_id: _Credential | None = None
        self._secret_id: _Credential | None = None
        self._jwt: _Credential | None = None
        self._check_auth_options(
            token=(token, token_env, token_file),
            role_id=(role_id, role_id_env, role_id_file),
            secret_id=(secret_id, secret_id_env, secret_id_file),
            jwt=(jwt, jwt_env, jwt_file),
            client_cert=client_cert,
        )
        if (client_cert is None) != (client_key is None):
            raise ConfigError("client_cert and client_key go together", key="client_key")
        self._client_cert = (
            None
            if client_cert is None or client_key is None
            else (_path_text(client_cert), _path_text(client_key))
        )
        self._ca_cert = None if ca_cert is None else _path_text(ca_cert)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError("timeout must be a positive number of seconds", key="timeout")
        self._timeout = float(timeout)
        if isinstance(read_retries, bool) or not isinstance(read_retries, int) or read_retries < 0:
            raise ConfigError("read_retries must be a non-negative integer", key="read_retries")
        self._read_retries = read_retries
        for option, flag in (("cas", cas), ("destroy", destroy)):
            if not isinstance(flag, bool):
                raise ConfigError("must be true or false", key=option)
        self._cas = cas
        self._destroy = destroy
        if (
            isinstance(max_request_bytes, bool)
            or not isinstance(max_request_bytes, int)
            or max_request_bytes <= _ENVELOPE_BYTES
        ):
            raise ConfigError(
                f"max_request_bytes must be an integer above {_ENVELOPE_BYTES}",
                key="max_request_bytes",
            )
        self._max_request_bytes = max_request_bytes
        self._max_value_bytes = max_request_bytes - _ENVELOPE_BYTES
        self._hvac = _import_hvac()
        self._lock = threading.Lock()
        self._client: hvac.Client | None = None
        self._token: _Token | None = None

    def _check_auth_options(
        self,
        *,
        token: _Sources,
        role_id: _Sources,
        secret_id: _Sources,
        jwt: _Sources,
        client_cert: object,
    ) -> None:
        used = {
            "token": any(item is not None for item in token),
            "role_id": any(item is not None for item in role_id),
            "secret_id": any(item is not None for item in secret_id),
            "jwt": any(item is not None for item in jwt),
            "role": self._role is not None,
        }
        allowed = {
            "token": {"token"},
            "approle": {"role_id", "secret_id"},
            "cert": {"role"},
            "jwt": {"role", "jwt"},
            "kubernetes": {"role", "jwt"},
        }[self._auth]
        extra = sorted(
            option for option, present in used.items() if present and option not in allowed
        )
        if extra:
            raise ConfigError(f"option does not apply to auth {self._auth!r}", key=extra[0])
        if self._auth == "token":
            self._token_source = _credential(
                "token", *token, required=True, default_env="VAULT_TOKEN"
            )
        elif self._auth == "approle":
            self._role_id = _credential("role_id", *role_id, required=True)
            self._secret_id = _credential("secret_id", *secret_id, required=False)
        elif self._auth == "cert":
            if client_cert is None:
                raise ConfigError("auth 'cert' needs client_cert and client_key", key="client_cert")
        else:
            if self._role is None:
                raise ConfigError(f"auth {self._auth!r} needs a role", key="role")
            default = _KUBERNETES_JWT if self._auth == "kubernetes" else None
            if not any(item is not None for item in jwt) and default is not None:
                jwt = (None, None, default)
            self._jwt = _credential("jwt", *jwt, required=True)

    def _set_capabilities(self, capabilities: Capabilities) -> None:
        # Per instance: a KV v1 mount has no versions and no metadata.
        vars(self)["capabilities"] = capabilities

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, base_dir: Path) -> VaultProvider:
        """Build from settings. ``url`` is required; see ``docs/providers/vault.md``.

        Relative ``*_file``, ``client_cert``, ``client_key`` and ``ca_cert`` paths are
        taken from ``base_dir``.
        """
        strings = {
            "url", "mount", "namespace", "auth", "auth_mount", "token", "token_env",
            "role_id", "role_id_env", "secret_id", "secret_id_env", "role", "jwt", "jwt_env",
        }  # fmt: skip
        paths = {
            "token_file", "role_id_file", "secret_id_file", "jwt_file",
            "client_cert", "client_key", "ca_cert",
        }  # fmt: skip
        numbers = {"timeout"}
        integers = {"kv_version", "read_retries", "max_request_bytes"}
        flags = {"cas", "destroy"}
        known = strings | paths | numbers | integers | flags
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown option for provider 'vault' (known: {', '.join(sorted(known))})",
                key=unknown[0],
            )
        kwargs: dict[str, Any] = {}
        for key, value in options.items():
            if value is None:
                continue
            if key in strings or key in paths:
                # A SecretValue is a string filled from a bootstrap secret: used, never shown.
                if not isinstance(value, str | SecretValue) or not value:
                    raise ConfigError("option must be a non-empty string", key=key)
                if key in paths:
                    path = Path(option_text(value)).expanduser()
                    path = path if path.is_absolute() else base_dir / path
                    kwargs[key] = SecretValue(str(path)) if isinstance(value, SecretValue) else path
                    continue
            elif key in flags:
                if not isinstance(value, bool):
                    raise ConfigError("option must be true or false", key=key)
            elif key in integers:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ConfigError("option must be an integer", key=key)
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError("option must be a number", key=key)
            kwargs[key] = value
        if "url" not in kwargs:
            raise ConfigError(
                "the Vault address is required (e.g. url: ${env:VAULT_ADDR})", key="url"
            )
        return cls(kwargs.pop("url"), **kwargs)

    # -- properties --------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._url

    @property
    def mount(self) -> str:
        return self._mount

    @property
    def namespace(self) -> str | None:
        return self._namespace

    @property
    def kv_version(self) -> int:
        """The KV version of the mount; detected on first use (``sys/internal/ui/mounts``)."""
        if self._kv_version is None:
            self._detect_kv_version()
        assert self._kv_version is not None  # noqa: S101 - set by detection
        return self._kv_version

    # -- transport ---------------------------------------------------------------------
    def _build_client(self) -> hvac.Client:
        import requests  # noqa: PLC0415 - hvac's dependency
        from requests.adapters import HTTPAdapter  # noqa: PLC0415
        from urllib3.util.retry import Retry  # noqa: PLC0415

        session = requests.Session()
        retry = Retry(
            total=self._read_retries,
            connect=self._read_retries,
            read=self._read_retries,
            status=self._read_retries,
            other=0,
            allowed_methods=_READ_METHODS,
            status_forcelist=(502, 504),
            backoff_factor=0.1,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        for scheme in ("http://", "https://"):
            session.mount(scheme, HTTPAdapter(max_retries=retry))
        verify: bool | str = self._ca_cert if self._ca_cert is not None else True
        session.verify = verify
        session.cert = self._client_cert
        client = self._hvac.Client(
            url=self._url,
            token="",  # never the ambient VAULT_TOKEN / ~/.vault-token: we set it
            cert=self._client_cert,
            verify=verify,
            timeout=max(1, math.ceil(self._timeout)),
            session=session,
            namespace=self._namespace,
            adapter=self._hvac.adapters.RawAdapter,
        )
        return cast("hvac.Client", client)

    def _send(
        self,
        client: hvac.Client,
        method: str,
        path: str,
        *,
        token: SecretValue | None,
        action: str,
        name: str | None = None,
        version: str | None = None,
        sensitive: tuple[SecretValue, ...] = (),
        body: SecretValue | None = None,
        login: str | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One HTTP call to ``path`` through hvac's adapter; every failure translated.

        ``body`` is a JSON request body that holds a value or a credential. The
        token travels in this request's headers only: the shared adapter never
        holds one, so a renewal or a new login never races with requests in flight.
        """
        outcome = self._exchange(
            client, method, path, token=token, action=action, name=name, version=version,
            sensitive=sensitive, body=body, login=login, kwargs=kwargs,
        )  # fmt: skip
        if not isinstance(outcome, BaseException):
            return outcome
        # Raised here, outside any except block and from a frame that holds the token
        # and the body only as SecretValue: no __context__ holds the request, and no
        # frame on the traceback shows a credential or a value.
        raise outcome

    def _exchange(
        self,
        client: hvac.Client,
        method: str,
        path: str,
        *,
        token: SecretValue | None,
        action: str,
        name: str | None,
        version: str | None,
        sensitive: tuple[SecretValue, ...],
        body: SecretValue | None,
        login: str | None,
        kwargs: dict[str, Any],
    ) -> requests.Response | ProviderError | ConfigError:
        """The only frame that holds the token and the body in plain text. It never
        raises for a failed request: it returns the translated error (and so is on
        no traceback)."""
        kwargs = dict(kwargs)  # a copy: the caller's frame must not see the body
        headers = dict(kwargs.pop("headers", None) or {})
        if token is not None and token:
            headers["X-Vault-Token"] = token.reveal()
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
            kwargs["data"] = body.reveal().encode("utf-8")
        try:
            response: requests.Response = client.adapter.request(
                method, path, headers=headers, timeout=self._timeout, **kwargs
            )
        except Exception as err:  # noqa: BLE001 - translated, or wrapped without its text
            revealed = tuple(item.reveal() for item in (token, *sensitive, *self._hidden) if item)
            error = _translate(
                err,
                action=action,
                url=self._url_shown,
                timeout=self._timeout,
                name=name,
                version=version,
                sensitive=revealed,
                login=login,
            )
            if error is None:
                error = ProviderError(
                    f"Vault at {self._url_shown}: {action} failed unexpectedly "
                    f"({type(err).__name__})",
                    name=name,
                    provider=_PROVIDER,
                )
                error.original = err  # for --debug only; it is on no chain
            return error
        return response

    def _body(
        self, response: requests.Response, *, action: str, name: str | None
    ) -> dict[str, Any]:
        """The JSON object a successful call answered."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderUnavailable(
                f"unexpected answer from Vault at {self._url_shown} (not a JSON object): {action}",
                name=name,
                provider=_PROVIDER,
            )
        return body

    def _raw(
        self,
        method: str,
        path: str,
        *,
        action: str,
        name: str | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One authenticated call to ``/v1/<path>``."""
        client, token = self._authenticated()
        return self._send(
            client, method, f"/v1/{path}", token=token, action=action, name=name, **kwargs
        )

    def _json(
        self, method: str, path: str, *, action: str, name: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        response = self._raw(method, path, action=action, name=name, **kwargs)
        return self._body(response, action=action, name=name)

    def _client_or_build(self) -> hvac.Client:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build_client()
                client = self._client
        return client

    # -- authentication ----------------------------------------------------------------
    def _authenticated(self) -> tuple[hvac.Client, SecretValue]:
        """The client and a valid token: logs in, renews or logs in again as needed."""
        client = self._client_or_build()
        token = self._token
        if token is not None and (token.refresh_at is None or time.monotonic() < token.refresh_at):
            return client, token.value
        with self._lock:
            token = self._token
            if token is None:
                token = self._token = self._obtain(client)
            elif token.refresh_at is not None and time.monotonic() >= token.refresh_at:
                token = self._token = self._refresh(client, token)
        return client, token.value

    def _token_info(self, client: hvac.Client, value: SecretValue) -> _Token:
        """Learn a given token's TTL with ``GET auth/token/lookup-self``."""
        action = "look up the token"
        try:
            response = self._send(
                client, "GET", "/v1/auth/token/lookup-self", token=value, action=action
            )
        except AccessDenied:
            # Invalid, or without the default policy: the next call reports the real
            # outcome; only renewal is off.
            logger.debug("vault: token lookup-self denied; token renewal disabled")
            return _Token(value, None, 0.0, renewable=False)
        data = self._body(response, action=action, name=None).get("data") or {}
        ttl = _seconds(data.get("ttl"))
        renewable = bool(data.get("renewable"))
        return self._lifetime(value, ttl, renewable=renewable)

    @staticmethod
    def _lifetime(value: SecretValue, ttl: float, *, renewable: bool) -> _Token:
        refresh_at = time.monotonic() + ttl * _REFRESH_FRACTION if ttl > 0 else None
        return _Token(value, refresh_at, ttl, renewable)

    def _obtain(self, client: hvac.Client) -> _Token:
        if self._auth == "token":
            assert self._token_source is not None  # noqa: S101 - checked in __init__
            value = self._token_source.read()
            return self._token_info(client, value)
        return self._login(client)

    def _login(self, client: hvac.Client) -> _Token:
        """``POST auth/<auth_mount>/login`` with the method's credentials."""
        from hvac import utils  # noqa: PLC0415 - optional extra

        # Credentials stay SecretValue; the JSON body is built in one expression, so
        # no frame here holds them in plain text.
        params: dict[str, SecretValue] = {}
        if self._auth == "approle":
            assert self._role_id is not None  # noqa: S101
            params["role_id"] = self._role_id.read()
            if self._secret_id is not None:
                params["secret_id"] = self._secret_id.read()
        elif self._auth == "cert":
            if self._role is not None:
                params["name"] = SecretValue(self._role)
        else:
            assert self._jwt is not None  # noqa: S101
            assert self._role is not None  # noqa: S101
            params["role"] = SecretValue(self._role)
            params["jwt"] = self._jwt.read()
        body = SecretValue(json.dumps({key: item.reveal() for key, item in params.items()}))
        path = utils.format_url("/v1/auth/{mount}/login", mount=self._auth_mount)
        action = f"log in with auth method {self._auth!r} at auth mount {self._auth_mount_shown}"
        response = self._send(
            client, "POST", path, token=None, action=action, body=body,
            sensitive=tuple(params.values()), login=self._auth,
        )  # fmt: skip
        auth = self._body(response, action=action, name=None).get("auth") or {}
        value = auth.get("client_token")
        if not isinstance(value, str) or not value:
            raise ProviderUnavailable(f"{action}: no token in the answer", provider=_PROVIDER)
        ttl = _seconds(auth.get("lease_duration"))
        logger.debug("vault: logged in with %s (token ttl %.0f s)", self._auth, ttl)
        return self._lifetime(SecretValue(value), ttl, renewable=bool(auth.get("renewable")))

    def _refresh(self, client: hvac.Client, token: _Token) -> _Token:
        """Renew with ``POST auth/token/renew-self``; log in again when that cannot
        give a useful TTL (not renewable, max TTL reached, token gone)."""
        if token.renewable:
            action = "renew the token"
            try:
                response = self._send(
                    client, "POST", "/v1/auth/token/renew-self", token=token.value,
                    action=action, json={"increment": f"{math.ceil(token.ttl)}s"},
                )  # fmt: skip
            except (AccessDenied, InvalidSecret) as err:
                logger.debug("vault: token renewal refused (%s)", type(err).__name__)
            else:
                auth = self._body(response, action=action, name=None).get("auth") or {}
                ttl = _seconds(auth.get("lease_duration"))
                if self._auth == "token" or ttl >= token.ttl / 3:
                    logger.debug("vault: token renewed (ttl %.0f s)", ttl)
                    return self._lifetime(token.value, ttl, renewable=True)
        if self._auth == "token":
            # A given token cannot be replaced: keep it until it fails, and say so.
            logger.warning("vault: the token could not be renewed; it expires soon")
            return _Token(token.value, None, token.ttl, renewable=False)
        return self._login(client)

    # -- KV version ----------------------------------------------------------------------
    def _mount_version(self) -> int:
        """``GET sys/internal/ui/mounts/<mount>``: the KV version of the mount.

        Vault answers 403 for a mount that does not exist, and for one the token
        may use nothing under (even a root token gets 403 for a missing mount):
        both are reported as such. Another engine than kv is a :class:`ConfigError`.
        """
        from hvac import utils  # noqa: PLC0415 - optional extra

        path = utils.format_url("sys/internal/ui/mounts/{mount}", mount=self._mount)
        action = f"read the mount information of {self._mount_shown} (or set kv_version)"
        self._authenticated()  # a refused login is reported as itself, not as a mount problem
        denied = False
        try:
            body = self._json("GET", path, action=action)
        except AccessDenied:
            denied = True
        if denied:  # raised outside the except block: no __context__
            raise AccessDenied(
                f"access denied: {action}: Vault at {self._url_shown} has no mount "
                f"{self._mount_shown}, or the token may use nothing under it",
                provider=_PROVIDER,
            )
        data = body.get("data") or {}
        engine = data.get("type")
        if engine not in ("kv", "generic"):
            raise ConfigError(
                f"mount {self._mount_shown} is a {str(engine)[:40]!r} secrets engine, not kv",
                key="mount",
            )
        options = data.get("options") or {}
        return 2 if str(options.get("version", "1")) == "2" else 1

    def _detect_kv_version(self) -> None:
        version = self._mount_version()
        self._kv_version = version
        if version == 1:
            self._set_capabilities(KV1_CAPABILITIES)

    def _v2(self) -> bool:
        return self.kv_version == 2

    def _path(self, kind: str, name: str) -> str:
        """``<mount>/<kind>/<name>`` (KV v2) or ``<mount>/<name>`` (v1), URL-quoted."""
        from hvac import utils  # noqa: PLC0415 - optional extra

        if self._v2():
            return utils.format_url("{mount}/" + kind + "/{name}", mount=self._mount, name=name)
        return utils.format_url("{mount}/{name}", mount=self._mount, name=name)

    # -- reads -----------------------------------------------------------------------------
    def get(self, name: str, *, version: str | None = None) -> Secret:
        """KV v2: ``GET <mount>/data/<name>[?version=N]``; KV v1: ``GET <mount>/<name>``."""
        _check_name(name)
        number = _parse_version(name, version)
        if not self._v2():
            if number is not None:
                raise SecretNotFound(name=name, provider=_PROVIDER, version=str(version))
            body = self._json("GET", self._path("data", name), action="read", name=name)
            data = body.get("data")
            if data is None:
                raise SecretNotFound(name=name, provider=_PROVIDER)
            return Secret(name=name, value=SecretValue(_value_of(data)), provider=_PROVIDER)
        params = {} if number is None else {"version": number}
        body = self._json(
            "GET", self._path("data", name), action="read", name=name, version=version,
            params=params,
        )  # fmt: skip
        payload = body.get("data") or {}
        data = payload.get("data")
        meta = payload.get("metadata") or {}
        if data is None or meta.get("destroyed"):
            raise SecretNotFound(name=name, provider=_PROVIDER, version=version)
        return Secret(
            name=name,
            value=SecretValue(_value_of(data)),
            version=str(meta.get("version", number or "")) or None,
            updated_at=_parse_time(meta.get("created_time")),
            expires_at=_parse_time(meta.get("deletion_time")),
            metadata=_str_map(meta.get("custom_metadata")),
            provider=_PROVIDER,
        )

    def list(self, prefix: str = "") -> Iterator[str]:
        """Names under ``prefix``, sorted. ``LIST <mount>/metadata/<dir>/`` (v1:
        ``LIST <mount>/<dir>/``) for the prefix's folder and each sub-folder."""
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be str, not {type(prefix).__name__}")
        folder, _, start = prefix.rpartition("/")
        folder = f"{folder}/" if folder else ""
        names: builtins.list[str] = []
        pending = [(folder, start)]
        while pending:
            directory, begins = pending.pop()
            for key in self._list_folder(directory):
                if not key.startswith(begins):
                    continue
                if key.endswith("/"):
                    pending.append((directory + key, ""))
                else:
                    names.append(directory + key)
        return iter(sorted(names))

    def _list_folder(self, directory: str) -> builtins.list[str]:
        from hvac import utils  # noqa: PLC0415 - optional extra

        if self._v2():
            path = utils.format_url("{mount}/metadata/{dir}", mount=self._mount, dir=directory)
        else:
            path = utils.format_url("{mount}/{dir}", mount=self._mount, dir=directory)
        try:
            body = self._json("LIST", path, action=f"list {directory or '/'!r}")
        except SecretNotFound:
            return []  # Vault answers 404 for a folder with no keys
        keys = (body.get("data") or {}).get("keys") or []
        return [str(key) for key in keys]

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        """Newest first, from ``GET <mount>/metadata/<name>`` (KV v2 only). Deleted and
        destroyed versions are listed too; reading them raises :class:`SecretNotFound`."""
        _check_name(name)
        if not self._v2():
            raise UnsupportedOperation(
                f"provider 'vault': mount {self._mount_shown} is KV v1, which keeps no versions"
            )
        meta = self._metadata(name)
        if meta is None:
            raise SecretNotFound(name=name, provider=_PROVIDER)
        current = str(meta.get("current_version", ""))
        custom = _str_map(meta.get("custom_metadata"))
        entries = meta.get("versions") or {}
        ordered = sorted(entries.items(), key=lambda item: int(item[0]), reverse=True)
        return [
            SecretVersion(
                name=name,
                version=str(number),
                created_at=_parse_time(info.get("created_time")),
                expires_at=_parse_time(info.get("deletion_time")),
                current=str(number) == current,
                metadata=custom,
            )
            for number, info in ordered
        ]

    def _metadata(self, name: str) -> dict[str, Any] | None:
        """``GET <mount>/metadata/<name>``; ``None`` when there is none."""
        try:
            body = self._json(
                "GET", self._path("metadata", name), action="read metadata of", name=name
            )
        except SecretNotFound:
            return None
        data = body.get("data")
        return data if isinstance(data, dict) else None

    # -- writes ------------------------------------------------------------------------------
    def set(  # type: ignore[override]  # TRANSITION: the kit's _set hook in k9-vault
        self,
        name: str,
        value: str,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
        cas: int | None = None,
    ) -> SecretVersion:
        """Store ``{"value": value}``: KV v2 ``POST <mount>/data/<name>`` (with
        ``options.cas`` when check-and-set applies), then ``POST <mount>/metadata/<name>``
        with ``custom_metadata`` when ``metadata`` is given; KV v1 ``POST <mount>/<name>``.

        ``cas=N`` writes only if the current version is ``N`` (``0``: only if the
        secret does not exist); a lost race raises :class:`Conflict`.
        """
        secret = secret_value(value)
        del value  # only the masked value stays in this frame
        _check_name(name)
        check_value(secret, name=name, provider=_PROVIDER)
        custom = string_map(metadata, "metadata")
        if string_map(tags, "tags"):
            raise UnsupportedOperation(
                "provider 'vault' has no tags; use metadata (KV v2 custom_metadata)",
                name=name,
                provider=_PROVIDER,
            )
        if expires_at is not None:
            raise UnsupportedOperation(
                "provider 'vault' cannot expire one version (see delete_version_after "
                "in docs/providers/vault.md)",
                name=name,
                provider=_PROVIDER,
            )
        if cas is not None and (isinstance(cas, bool) or not isinstance(cas, int) or cas < 0):
            raise TypeError("cas must be a non-negative int")
        v2 = self._v2()
        if not v2 and (custom or cas is not None):
            raise UnsupportedOperation(
                f"provider 'vault': mount {self._mount_shown} is KV v1 "
                f"({'no metadata' if custom else 'no check-and-set'})",
                name=name,
                provider=_PROVIDER,
            )
        body = self._encode(name, secret, cas=self._cas_for(name, cas) if v2 else None, v2=v2)
        response = self._raw(
            "POST",
            self._path("data", name),
            action="write",
            name=name,
            sensitive=(secret,),
            body=body,
        )
        if not v2:
            return SecretVersion(name=name, version="", current=True)
        written = self._body(response, action="write", name=name).get("data") or {}
        if custom:
            self._raw(
                "POST",
                self._path("metadata", name),
                action="write metadata of",
                name=name,
                json={"custom_metadata": custom},
            )
        return SecretVersion(
            name=name,
            version=str(written.get("version")),
            created_at=_parse_time(written.get("created_time")),
            expires_at=_parse_time(written.get("deletion_time")),
            current=True,
            metadata=MappingProxyType(custom)
            if custom
            else _str_map(written.get("custom_metadata")),
        )

    def _cas_for(self, name: str, cas: int | None) -> int | None:
        if cas is not None or not self._cas:
            return cas
        meta = self._metadata(name)
        return 0 if meta is None else int(meta.get("current_version") or 0)

    def _encode(self, name: str, value: SecretValue, *, cas: int | None, v2: bool) -> SecretValue:
        """The request body, JSON (UTF-8 on the wire, not ``\\u``-escaped), checked
        against the limits. The value and the body stay SecretValue in this frame."""
        size = _utf8_size(value)
        if size < 0:
            raise InvalidSecret(
                "secret value is not valid Unicode (lone surrogate)", name=name, provider=_PROVIDER
            )
        if size > self._max_value_bytes:
            raise InvalidSecret(
                f"secret value is {size} bytes; Vault accepts at most {self._max_value_bytes}",
                name=name,
                provider=_PROVIDER,
            )
        options: dict[str, Any] = {} if cas is None else {"cas": cas}
        body = SecretValue(
            json.dumps(
                {"data": {"value": value.reveal()}, "options": options}
                if v2
                else {"value": value.reveal()},
                ensure_ascii=False,
                separators=(",", ":"),
            )
        )
        body_size = _utf8_size(body)
        if body_size > self._max_request_bytes:
            raise InvalidSecret(
                f"secret value is {body_size} bytes once JSON-encoded; Vault accepts requests "
                f"of at most {self._max_request_bytes}",
                name=name,
                provider=_PROVIDER,
            )
        return body

    def delete(self, name: str) -> None:
        """KV v2: soft-deletes the latest version (``DELETE <mount>/data/<name>``), or
        with ``destroy`` removes every version and the metadata (``DELETE
        <mount>/metadata/<name>``); the secret's state is read first (``GET
        <mount>/metadata/<name>``). KV v1: ``GET`` then ``DELETE <mount>/<name>``.
        Raises :class:`SecretNotFound` when there is nothing (left) to delete."""
        _check_name(name)
        if not self._v2():
            self.get(name)
            self._raw("DELETE", self._path("data", name), action="delete", name=name)
            return
        meta = self._metadata(name)
        if meta is None:
            raise SecretNotFound(name=name, provider=_PROVIDER)
        if self._destroy:
            self._raw("DELETE", self._path("metadata", name), action="destroy", name=name)
            return
        current = str(meta.get("current_version", ""))
        state = (meta.get("versions") or {}).get(current) or {}
        if state.get("destroyed") or _is_past(state.get("deletion_time")):
            raise SecretNotFound(name=name, provider=_PROVIDER)
        self._raw("DELETE", self._path("data", name), action="delete", name=name)

    # -- lifecycle ---------------------------------------------------------------------------
    def health(self) -> Health:
        """``GET sys/health`` (sealed, uninitialized, unreachable), then log in if
        needed and ``GET auth/token/lookup-self`` (unauthenticated)."""
        started = time.perf_counter()

        def result(status: HealthStatus, detail: str = "") -> Health:
            return Health(self.name, status, detail, time.perf_counter() - started)

        client = self._client_or_build()
        failure: ProviderError | ConfigError | None = None
        try:
            response = client.adapter.session.get(
                f"{self._url}/v1/sys/health",
                params={"standbyok": "true", "perfstandbyok": "true"},
                timeout=self._timeout,
                # explicit: requests lets REQUESTS_CA_BUNDLE override session.verify
                verify=self._ca_cert if self._ca_cert is not None else True,
                cert=self._client_cert,
            )
            state = response.json() if response.content else {}
        except Exception as err:  # noqa: BLE001 - translated
            failure = _translate(
                err, action="health check", url=self._url_shown, timeout=self._timeout
            )
            detail = str(failure) if failure is not None else type(err).__name__
            return result(HealthStatus.UNAVAILABLE, detail)
        url = self._url_shown
        code = response.status_code
        if code == 503 or (isinstance(state, dict) and state.get("sealed")):
            return result(HealthStatus.SEALED, f"Vault at {url} is sealed")
        if code == 501:
            return result(HealthStatus.UNAVAILABLE, f"Vault at {url} is not initialized")
        if code != 200:
            return result(HealthStatus.UNAVAILABLE, f"Vault at {url} answered HTTP {code}")
        try:
            self._raw("GET", "auth/token/lookup-self", action="look up the token")
        except ConfigError as err:
            # No such namespace is not a credential problem.
            status = (
                HealthStatus.UNAVAILABLE if err.key == "namespace" else HealthStatus.UNAUTHENTICATED
            )
            return result(status, str(err))
        except AccessDenied as err:
            return result(HealthStatus.UNAUTHENTICATED, str(err))
        except ProviderError as err:
            return result(HealthStatus.UNAVAILABLE, str(err))
        # The token is good: now the mount. A missing mount, or another engine, means
        # nothing can be read: never "ok".
        try:
            version = self._mount_version()
        except (ProviderError, ConfigError) as err:
            return result(HealthStatus.UNAVAILABLE, str(err))
        if self._kv_version is not None and version != self._kv_version:
            return result(
                HealthStatus.UNAVAILABLE,
                f"mount {self._mount_shown} is KV v{version}, but kv_version is {self._kv_version}",
            )
        return result(
            HealthStatus.OK, f"{self._auth} auth, KV v{version} mount {self._mount_shown}"
        )

    def close(self) -> None:
        """Close the HTTP session and forget the token (the next call logs in again)."""
        with self._lock:
            client, self._client, self._token = self._client, None, None
        if client is not None:
            client.adapter.close()

    def __repr__(self) -> str:
        # getattr: also called on a half-built provider (a frame of a failed __init__)
        namespace = getattr(self, "_namespace_shown", "")
        return (
            f"<{type(self).__name__} name={self.name!r} url={getattr(self, '_url_shown', '?')!r} "
            f"mount={getattr(self, '_mount_shown', '?')}"
            f"{f' namespace={namespace}' if namespace else ''} "
            f"auth={getattr(self, '_auth', '?')!r}>"
        )


def _utf8_size(value: SecretValue) -> int:
    """The UTF-8 size of ``value``; -1 if it holds a lone surrogate (the
    UnicodeEncodeError, which quotes the value, ends in this frame)."""
    try:
        return len(value.reveal().encode("utf-8"))
    except UnicodeEncodeError:
        return -1


def _is_past(text: object) -> bool:
    moment = _parse_time(text)
    return moment is not None and moment <= datetime.now(timezone.utc)
