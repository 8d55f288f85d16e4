"""Vault logins and token renewal, through hvac's typed auth API.

* ``token``: the given token (``token`` / ``token_env`` / ``token_file``, default
  ``$VAULT_TOKEN``), looked up once (``Token.lookup_self``) to learn its TTL.
* ``approle``, ``cert``, ``jwt``, ``kubernetes``: ``POST auth/<mount>/login`` with
  hvac's ``AppRole``, ``Cert``, ``JWT`` and ``Kubernetes`` ``login``, made on a
  :class:`~._http.Call` (``use_token=False``: the token Vault issues is kept here,
  as a SecretValue, and sent per request; the shared adapter never holds one).

After two thirds of its TTL a token is renewed (``Token.renew_self``, by the
original TTL); a login method logs in again instead when the token is not
renewable, renewal is refused, or renewal gives back less than a third of the
original TTL (the token is near its max TTL). A given token cannot be replaced:
when its renewal fails, a warning is logged and it is used until Vault refuses it.

Credentials are read (a :class:`~secretwire.providers.base.CredentialSource`) at
each login, so a rotated file is picked up, and are revealed only inside the call.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from ...errors import AccessDenied, InvalidSecret, ProviderUnavailable
from ...values import SecretValue
from ..base import CredentialSource
from ._http import PROVIDER, Transport

__all__ = ["KUBERNETES_JWT", "METHODS", "Auth", "Login", "Token"]

logger = logging.getLogger("secretwire.vault")

METHODS = ("token", "approle", "cert", "jwt", "kubernetes")
KUBERNETES_JWT = "/var/run/secrets/kubernetes.io/serviceaccount/token"
#: After this fraction of a token's TTL has passed, it is renewed (or replaced).
_REFRESH_FRACTION = 2 / 3

#: One login per method with hvac's typed API: (hvac.api.auth_methods, adapter, auth
#: mount, the login's fields in plain text, revealed inside the call only).
_LOGINS: dict[str, Callable[[Any, Any, str, dict[str, str]], Any]] = {
    "approle": lambda api, adapter, mount, given: api.AppRole(adapter).login(
        given["role_id"], given.get("secret_id"), use_token=False, mount_point=mount
    ),
    "cert": lambda api, adapter, mount, given: api.Cert(adapter).login(
        name=given.get("role", ""), mount_point=mount, use_token=False
    ),
    "jwt": lambda api, adapter, mount, given: api.JWT(adapter).jwt_login(
        given["role"], given["jwt"], use_token=False, path=mount
    ),
    "kubernetes": lambda api, adapter, mount, given: api.Kubernetes(adapter).login(
        given["role"], given["jwt"], use_token=False, mount_point=mount
    ),
}


def _api() -> Any:
    from hvac.api import auth_methods  # noqa: PLC0415 - optional extra

    return auth_methods


def _seconds(value: object) -> float:
    """A TTL from Vault's answer; 0 for anything else (never raises)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return max(float(value), 0.0)
    return 0.0


@dataclass(frozen=True, slots=True)
class Token:
    value: SecretValue
    #: ``time.monotonic()`` after which the token should be renewed or replaced.
    refresh_at: float | None
    ttl: float
    renewable: bool
    #: False when Vault refused the token's own lookup: a 403 then means the token
    #: itself is not accepted (an :class:`~secretwire.errors.Unauthenticated`).
    verified: bool = True

    @classmethod
    def lasting(cls, value: SecretValue, ttl: float, *, renewable: bool) -> Token:
        refresh_at = time.monotonic() + ttl * _REFRESH_FRACTION if ttl > 0 else None
        return cls(value, refresh_at, ttl, renewable)


def _issued(auth: object) -> Token | None:
    """The token a login answered (its ``auth``); ``None`` if there is none. Keeps the
    answer, which holds the token in plain text, out of the caller's frame."""
    if not isinstance(auth, Mapping) or not isinstance(auth.get("client_token"), str):
        return None
    value = SecretValue(auth["client_token"])
    if not value:
        return None
    ttl = _seconds(auth.get("lease_duration"))
    return Token.lasting(value, ttl, renewable=bool(auth.get("renewable")))


@dataclass(frozen=True)
class Login:
    """How to log in: the method, its auth mount (and how messages show it), the
    role and the credential sources the method uses."""

    method: str
    mount: str
    mount_shown: str
    role: str | None = None
    token: CredentialSource | None = None
    role_id: CredentialSource | None = None
    secret_id: CredentialSource | None = None
    jwt: CredentialSource | None = None


class Auth:
    """The current token: obtained on first use, renewed or replaced before it
    expires; only one thread logs in or renews at a time."""

    def __init__(self, login: Login, transport: Transport) -> None:
        self.login = login
        self._transport = transport
        self._lock = threading.Lock()
        self._token: Token | None = None

    @property
    def current(self) -> Token | None:
        return self._token

    def token(self) -> Token:
        """A valid token: logs in, renews or logs in again as needed."""
        token = self._token
        if token is not None and (token.refresh_at is None or time.monotonic() < token.refresh_at):
            return token
        with self._lock:
            token = self._token
            if token is None:
                token = self._token = self._obtain()
            elif token.refresh_at is not None and time.monotonic() >= token.refresh_at:
                token = self._token = self._refresh(token)
        return token

    def forget(self) -> None:
        """Drop the token: the next call logs in (or looks the token up) again."""
        with self._lock:
            self._token = None

    def lookup(self, value: SecretValue) -> dict[str, Any]:
        """``GET auth/token/lookup-self`` (in Vault's ``default`` policy)."""
        return self._self_call(value, "look up the token", lambda api: api.lookup_self())

    def _self_call(
        self, value: SecretValue, operation: str, fn: Callable[[Any], Any]
    ) -> dict[str, Any]:
        return self._transport.send(
            lambda call: fn(_api().Token(cast(Any, call))),
            token=value,
            operation=operation,
            token_call=True,
        )

    def _obtain(self) -> Token:
        if self.login.method != "token":
            return self._log_in()
        assert self.login.token is not None  # noqa: S101 - the constructor made it
        value = self.login.token.read()
        try:
            data = self.lookup(value).get("data") or {}
        except AccessDenied:
            # Invalid, expired, or without the default policy: the next call reports
            # the outcome (as Unauthenticated); only renewal is off.
            logger.debug("vault: token lookup-self denied; token renewal disabled")
            return Token(value, None, 0.0, renewable=False, verified=False)
        return Token.lasting(
            value, _seconds(data.get("ttl")), renewable=bool(data.get("renewable"))
        )

    def _credentials(self) -> dict[str, SecretValue]:
        """The login's fields, read now (files are read again at every login)."""
        login = self.login
        given = {
            field: source.read()
            for field, source in (
                ("role_id", login.role_id),
                ("secret_id", login.secret_id),
                ("jwt", login.jwt),
            )
            if source is not None
        }
        if login.role is not None:
            given["role"] = SecretValue(login.role)
        return given

    def _log_in(self) -> Token:
        """``POST auth/<mount>/login`` with the method's credentials."""
        login = self.login
        given = self._credentials()
        send = _LOGINS[login.method]
        operation = f"log in with auth method {login.method!r} at auth mount {login.mount_shown}"
        token = _issued(
            self._transport.send(
                lambda call: send(
                    _api(), call, login.mount, {key: item.reveal() for key, item in given.items()}
                ),
                token=None,
                sensitive=tuple(item for key, item in given.items() if key != "role"),
                operation=operation,
                login=login.method,
            ).get("auth")
        )
        if token is None:
            raise ProviderUnavailable(
                operation=operation,
                provider=PROVIDER,
                endpoint=self._transport.endpoint,
                detail="Vault answered without a token",
            )
        logger.debug("vault: logged in with %s (token ttl %.0f s)", login.method, token.ttl)
        return token

    def _renewed_ttl(self, token: Token) -> float | None:
        """``POST auth/token/renew-self``: the new TTL, or ``None`` if Vault refused."""
        increment = f"{math.ceil(token.ttl)}s"
        try:
            answer = self._self_call(
                token.value, "renew the token", lambda api: api.renew_self(increment=increment)
            )
        except (AccessDenied, InvalidSecret) as err:
            logger.debug("vault: token renewal refused (%s)", type(err).__name__)
            return None
        return _seconds((answer.get("auth") or {}).get("lease_duration"))

    def _refresh(self, token: Token) -> Token:
        """Renew; log in again when that cannot give a useful TTL (not renewable, max
        TTL reached, token gone)."""
        ttl = self._renewed_ttl(token) if token.renewable else None
        if ttl is not None and (self.login.method == "token" or ttl >= token.ttl / 3):
            logger.debug("vault: token renewed (ttl %.0f s)", ttl)
            return Token.lasting(token.value, ttl, renewable=True)
        if self.login.method == "token":
            # A given token cannot be replaced: keep it until it fails, and say so.
            logger.warning("vault: the token could not be renewed; it expires soon")
            return Token(token.value, None, token.ttl, renewable=False)
        return self._log_in()
