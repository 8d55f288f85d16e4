"""HashiCorp Vault (and OpenBao) KV secrets engine, through hvac.

* **KV v2** (the default ``secret/`` mount of a dev server) and **KV v1**. The
  version is read from ``sys/internal/ui/mounts/<mount>`` on first use, or set
  with ``kv_version``.
* **Auth**: a token, AppRole, TLS client certificates, JWT/OIDC and Kubernetes,
  renewed or replaced before they expire (:mod:`._auth`).
* **Values**: see :mod:`._kv` (``{"value": str}`` is that string, any other entry
  its JSON; ``set`` stores ``{"value": <str>}``).
* **Errors** are translated in one table (:func:`._http.translate`), raised with no
  chain to the hvac/requests exception (which holds the request, with its body and
  the ``X-Vault-Token`` header). Vault's own text is quoted only when it holds
  neither a credential nor a value being written.

The package: this face (:class:`VaultProvider`: options, the kit's hooks, health),
:mod:`._http` (session, one call, translation), :mod:`._auth` (logins, renewal) and
:mod:`._kv` (paths, entries, versions, write bodies).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from ...errors import (
    AccessDenied,
    ConfigError,
    ProviderError,
    SecretNotFound,
    Unauthenticated,
    UnsupportedOperation,
)
from ...values import SecretValue
from ..base import (
    Capabilities,
    CredentialSource,
    Health,
    HealthStatus,
    NamePolicy,
    Secret,
    SecretProvider,
    SecretVersion,
    Write,
    insecure_warnings,
    plain_url,
    shown,
)
from . import _kv
from ._auth import Auth
from ._http import PROVIDER, Transport
from ._options import (
    DEFAULT_MAX_REQUEST_BYTES,
    ENVELOPE_BYTES,
    OPTIONS,
    PathOption,
    Text,
    check_arguments,
    make_login,
    mount_path,
    path_text,
)

__all__ = ["DEFAULT_MAX_REQUEST_BYTES", "VaultProvider"]

#: KV v2 can do everything; KV v1 keeps no versions and no metadata. The value limit
#: follows ``max_request_bytes`` per instance.
KV2_CAPABILITIES = Capabilities.full(
    tags=False, expiry=False, max_value_bytes=DEFAULT_MAX_REQUEST_BYTES - ENVELOPE_BYTES
)
KV1_CAPABILITIES = replace(KV2_CAPABILITIES, versions=False, metadata=False, annotate=False)


class VaultProvider(SecretProvider):
    """Secrets in a Vault / OpenBao KV mount (see ``docs/providers/vault.md``).

    Nothing contacts Vault until the first call. ``capabilities`` reflects KV v2
    until the mount is known to be v1 (given, or detected by the first call).
    ``cas=True`` makes every :meth:`set` a check-and-set write against the version
    read just before (KV v2); ``set(..., cas=N)`` does it for one call. ``destroy``
    makes :meth:`delete` remove every version and the metadata instead of
    soft-deleting the latest version.
    """

    name = PROVIDER
    capabilities = KV2_CAPABILITIES
    name_policy = NamePolicy(path_segments=True, version=r"[1-9][0-9]*")
    unsupported_hints: ClassVar[Mapping[str, str]] = {
        "tags": "Vault has no tags: use metadata (KV v2 custom_metadata)",
        "expiry": "Vault cannot expire one version: see delete_version_after in "
        "docs/providers/vault.md",
    }
    options = OPTIONS

    def __init__(
        self,
        url: Text,
        *,
        mount: Text = "secret",
        kv_version: int | None = None,
        namespace: Text | None = None,
        auth: str = "token",
        auth_mount: Text | None = None,
        token: Text | CredentialSource | None = None,
        token_env: Text | None = None,
        token_file: PathOption | None = None,
        role_id: Text | CredentialSource | None = None,
        role_id_env: Text | None = None,
        role_id_file: PathOption | None = None,
        secret_id: Text | CredentialSource | None = None,
        secret_id_env: Text | None = None,
        secret_id_file: PathOption | None = None,
        role: Text | None = None,
        jwt: Text | CredentialSource | None = None,
        jwt_env: Text | None = None,
        jwt_file: PathOption | None = None,
        client_cert: PathOption | None = None,
        client_key: PathOption | None = None,
        ca_cert: PathOption | None = None,
        timeout: float = 10.0,
        read_retries: int = 2,
        cas: bool = False,
        destroy: bool = False,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        insecure: bool = False,
    ) -> None:
        # Option values given as SecretValue (from a bootstrap secret) are used, never
        # shown: messages, the repr and health details use the *_shown forms, and
        # Vault's own error text is withheld when it quotes one of them.
        hidden = tuple(
            item
            for item in (url, mount, namespace, auth_mount, role)
            if isinstance(item, SecretValue)
        )
        given = check_arguments(
            kv_version=kv_version, auth=auth, timeout=timeout, read_retries=read_retries,
            cas=cas, destroy=destroy, max_request_bytes=max_request_bytes, insecure=insecure,
        )  # fmt: skip
        url_text = str(plain_url(url, "url", insecure=given["insecure"])).rstrip("/")
        self.warnings = insecure_warnings(url=url_text)
        self._url_shown = shown(url, url_text)
        self._mount, self._mount_shown = mount_path(mount, "mount")
        self._namespace: str | None = None
        self._namespace_shown = ""
        if namespace is not None:
            self._namespace, self._namespace_shown = mount_path(namespace, "namespace")
        self._auth_method: str = given["auth"]
        self._kv_version: int | None = given.get("kv_version")
        self._cas: bool = given["cas"]
        self._destroy: bool = given["destroy"]
        self._max_request_bytes: int = given["max_request_bytes"]
        self._set_capabilities(KV1_CAPABILITIES if self._kv_version == 1 else KV2_CAPABILITIES)
        if (client_cert is None) != (client_key is None):
            raise ConfigError("client_cert and client_key go together", key="client_key")
        certificate = (
            None
            if client_cert is None or client_key is None
            else (path_text(client_cert), path_text(client_key))
        )
        login = make_login(
            self._auth_method, auth_mount, role, certificate is not None,
            token=(token, token_env, token_file), role_id=(role_id, role_id_env, role_id_file),
            secret_id=(secret_id, secret_id_env, secret_id_file), jwt=(jwt, jwt_env, jwt_file),
        )  # fmt: skip
        self._ca_cert = None if ca_cert is None else path_text(ca_cert)
        self._transport = Transport(
            url_text, self._url_shown, namespace=self._namespace, ca_cert=self._ca_cert,
            client_cert=certificate, timeout=given["timeout"],
            read_retries=given["read_retries"], hidden=hidden,
        )  # fmt: skip
        self._auth = Auth(login, self._transport)

    def _set_capabilities(self, capabilities: Capabilities) -> None:
        # Per instance: a KV v1 mount has no versions and no metadata, and the value
        # limit follows max_request_bytes.
        limit = self._max_request_bytes - ENVELOPE_BYTES
        self.capabilities = replace(capabilities, max_value_bytes=limit)

    # -- properties --------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._transport.url

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
            version = self._mount_version()
            self._kv_version = version
            if version == 1:
                self._set_capabilities(KV1_CAPABILITIES)
        return self._kv_version

    # -- calls -------------------------------------------------------------------------
    def _call(self, method: str, path: str, **fields: Any) -> dict[str, Any]:
        """One authenticated call (``fields``: see :meth:`Transport.request`)."""
        token = self._auth.token()
        return self._transport.request(
            method, path, token=token.value, unverified=not token.verified, **fields
        )

    def _path(self, kind: str, name: str) -> str:
        """``/v1/<mount>/<kind>/<name>`` (KV v2) or ``/v1/<mount>/<name>`` (v1), quoted."""
        if self.kv_version == 2:
            return _kv.path("/v1/{mount}/" + kind + "/{name}", mount=self._mount, name=name)
        return _kv.path("/v1/{mount}/{name}", mount=self._mount, name=name)

    def _mount_version(self) -> int:
        """``GET sys/internal/ui/mounts/<mount>``: the KV version of the mount.

        Vault answers 403 for a mount that does not exist, and for one the token
        may use nothing under (even a root token gets 403 for a missing mount):
        both are reported as such. Another engine than kv is a :class:`ConfigError`.
        """
        operation = f"read the mount information of {self._mount_shown}"
        self._auth.token()  # a refused login is reported as itself, not as a mount problem
        path = _kv.path("/v1/sys/internal/ui/mounts/{mount}", mount=self._mount)
        denied = False
        try:
            data = self._call("GET", path, operation=operation).get("data") or {}
        except Unauthenticated:
            raise
        except AccessDenied:
            denied = True
        if denied:  # raised outside the except block: no __context__
            raise AccessDenied(
                operation=operation,
                provider=PROVIDER,
                endpoint=self._transport.endpoint,
                detail=f"Vault has no mount {self._mount_shown}, or the token may use nothing "
                "under it",
                hint="check the mount, or set kv_version to skip this check",
            )
        engine = data.get("type")
        if engine not in ("kv", "generic"):
            raise ConfigError(
                f"mount {self._mount_shown} is a {str(engine)[:40]!r} secrets engine, not kv",
                key="mount",
            )
        options = data.get("options") or {}
        return 2 if str(options.get("version", "1")) == "2" else 1

    # -- reads -------------------------------------------------------------------------
    def _get(self, name: str, version: str | None) -> Secret:
        """KV v2: ``GET <mount>/data/<name>[?version=N]``; KV v1: ``GET <mount>/<name>``."""
        path = self._path("data", name)
        if self.kv_version == 1:
            if version is not None:
                raise SecretNotFound(
                    operation="get", name=name, version=version, provider=PROVIDER,
                    detail="a KV v1 mount keeps no versions",
                )  # fmt: skip
            data = self._call("GET", path, operation="get", name=name).get("data")
            if data is None:
                raise SecretNotFound(operation="get", name=name, provider=PROVIDER)
            return Secret(name=name, value=SecretValue(_kv.value_of(data)), provider=PROVIDER)
        params = {} if version is None else {"version": version}
        secret = _kv.secret_of(
            name,
            self._call("GET", path, operation="get", name=name, version=version, params=params).get(
                "data"
            ),
            version,
        )
        if secret is None:
            raise SecretNotFound(operation="get", name=name, version=version, provider=PROVIDER)
        return secret

    def _list(self, prefix: str) -> builtins.list[str]:
        """``LIST <mount>/metadata/<dir>/`` (v1: ``LIST <mount>/<dir>/``) for the
        prefix's folder and each matching sub-folder."""
        folder, _, start = prefix.rpartition("/")
        names: builtins.list[str] = []
        pending = [(f"{folder}/" if folder else "", start)]
        while pending:
            directory, begins = pending.pop()
            for key in self._list_folder(directory):
                if key.startswith(begins):
                    if key.endswith("/"):
                        pending.append((directory + key, ""))
                    else:
                        names.append(directory + key)
        return names

    def _list_folder(self, directory: str) -> builtins.list[str]:
        kind = "{mount}/metadata/{dir}" if self.kv_version == 2 else "{mount}/{dir}"
        path = _kv.path("/v1/" + kind, mount=self._mount, dir=directory)
        try:
            body = self._call("LIST", path, operation=f"list {directory or '/'!r}")
        except SecretNotFound:
            return []  # Vault answers 404 for a folder with no keys
        return [str(key) for key in (body.get("data") or {}).get("keys") or []]

    def _versions(self, name: str) -> builtins.list[SecretVersion]:
        """Newest first, from ``GET <mount>/metadata/<name>`` (KV v2 only). Deleted and
        destroyed versions are listed too; reading them raises :class:`SecretNotFound`."""
        if self.kv_version == 1:
            raise UnsupportedOperation(
                operation="versions", name=name, provider=PROVIDER,
                detail=f"mount {self._mount_shown} is KV v1, which keeps no versions",
            )  # fmt: skip
        meta = self._metadata(name, "versions")
        if meta is None:
            raise SecretNotFound(operation="versions", name=name, provider=PROVIDER)
        return _kv.versions_of(name, meta)

    def _metadata(self, name: str, operation: str) -> dict[str, Any] | None:
        """``GET <mount>/metadata/<name>``; ``None`` when there is none."""
        try:
            body = self._call("GET", self._path("metadata", name), operation=operation, name=name)
        except SecretNotFound:
            return None
        data = body.get("data")
        return data if isinstance(data, dict) else None

    # -- writes ------------------------------------------------------------------------
    def _set(self, write: Write, cas: int | None = None) -> SecretVersion:
        """Store ``{"value": value}``: KV v2 ``POST <mount>/data/<name>`` (with
        ``options.cas`` when check-and-set applies), then ``POST <mount>/metadata/<name>``
        with ``custom_metadata`` when ``metadata`` is given; KV v1 ``POST <mount>/<name>``.
        ``cas=N`` writes only if the current version is ``N`` (``0``: only if the
        secret does not exist); a lost race raises :class:`Conflict`."""
        name, value, metadata = write.name, write.value, write.metadata
        fields = {"operation": "set", "name": name, "provider": PROVIDER}
        if cas is not None and (isinstance(cas, bool) or not isinstance(cas, int) or cas < 0):
            raise TypeError("cas must be a non-negative int")
        v2 = self.kv_version == 2
        if not v2 and (metadata or cas is not None):
            missing = "metadata" if metadata else "check-and-set"
            raise UnsupportedOperation(
                detail=f"mount {self._mount_shown} is KV v1, which has no {missing}", **fields
            )
        cas = self._cas_for(name, cas) if v2 else None
        body = _kv.encode(name, value, cas=cas, v2=v2, limit=self._max_request_bytes)
        path = self._path("data", name)
        answer = self._call("POST", path, operation="set", name=name, sensitive=(value,), body=body)
        if not v2:
            return SecretVersion(name=name, version="", current=True)
        if metadata:
            self._call(
                "POST", self._path("metadata", name), operation="set metadata of", name=name,
                json={"custom_metadata": metadata},
            )  # fmt: skip
        return _kv.written(name, answer.get("data") or {}, metadata)

    def _annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        """KV v2 keeps custom metadata per secret, not per version: ``GET
        <mount>/metadata/<name>``, then ``POST`` it back with ``metadata`` merged into
        ``custom_metadata`` (KV v1 has none: the capability is off)."""
        meta = self._metadata(name, "annotate")
        if meta is None:
            raise SecretNotFound(operation="annotate", name=name, provider=PROVIDER)
        merged = {**_kv.str_map(meta.get("custom_metadata")), **metadata}
        self._call(
            "POST", self._path("metadata", name), operation="annotate", name=name,
            json={"custom_metadata": merged},
        )  # fmt: skip

    def _cas_for(self, name: str, cas: int | None) -> int | None:
        if cas is not None or not self._cas:
            return cas
        meta = self._metadata(name, "set")
        return 0 if meta is None else int(meta.get("current_version") or 0)

    def _delete(self, name: str) -> None:
        """KV v2: soft-deletes the latest version (``DELETE <mount>/data/<name>``), or
        with ``destroy`` removes every version and the metadata (``DELETE
        <mount>/metadata/<name>``); the secret's state is read first (``GET
        <mount>/metadata/<name>``). KV v1: ``GET`` then ``DELETE <mount>/<name>``.
        Raises :class:`SecretNotFound` when there is nothing (left) to delete."""
        if self.kv_version == 1:
            self._get(name, None)
            self._call("DELETE", self._path("data", name), operation="delete", name=name)
            return
        meta = self._metadata(name, "delete")
        if meta is None or (not self._destroy and _kv.gone(meta)):
            raise SecretNotFound(operation="delete", name=name, provider=PROVIDER)
        kind, operation = ("metadata", "destroy") if self._destroy else ("data", "delete")
        self._call("DELETE", self._path(kind, name), operation=operation, name=name)

    # -- lifecycle ---------------------------------------------------------------------
    def _health(self) -> Health:
        """``GET sys/health`` (sealed, uninitialized, unreachable), then log in if
        needed and ``GET auth/token/lookup-self`` (unauthenticated), then the mount."""

        def result(status: HealthStatus, detail: str) -> Health:
            return Health(self.name, status, detail)

        try:
            response = self._transport.health()
        except ProviderError as err:
            return result(HealthStatus.UNAVAILABLE, str(err))
        try:
            state = response.json() if response.content else {}
        except ValueError:
            state = {}
        url, code = self._url_shown, response.status_code
        if code == 503 or (isinstance(state, dict) and state.get("sealed")):
            return result(HealthStatus.SEALED, f"Vault at {url} is sealed")
        if code != 200:
            problem = "is not initialized" if code == 501 else f"answered HTTP {code}"
            return result(HealthStatus.UNAVAILABLE, f"Vault at {url} {problem}")
        try:
            self._auth.lookup(self._auth.token().value)
        except ConfigError as err:
            # No such namespace is not a credential problem; an unreadable credential is.
            status = (
                HealthStatus.UNAVAILABLE if err.key == "namespace" else HealthStatus.UNAUTHENTICATED
            )
            return result(status, str(err))
        except AccessDenied as err:  # lookup-self is in the default policy: the token is bad
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
        mount = f"KV v{version} mount {self._mount_shown}"
        return result(HealthStatus.OK, f"{self._auth_method} auth, {mount}")

    def _close(self) -> None:
        """Close the HTTP session and forget the token (the next call logs in again)."""
        self._auth.forget()
        self._transport.close()

    def __repr__(self) -> str:
        # getattr: also called on a half-built provider (a frame of a failed __init__)
        namespace = getattr(self, "_namespace_shown", "")
        return (
            f"<{type(self).__name__} name={self.name!r} url={getattr(self, '_url_shown', '?')!r} "
            f"mount={getattr(self, '_mount_shown', '?')}"
            f"{f' namespace={namespace}' if namespace else ''} "
            f"auth={getattr(self, '_auth_method', '?')!r}>"
        )
