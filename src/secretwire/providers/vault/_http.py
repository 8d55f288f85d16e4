"""Vault's HTTP side: the session, one call, and the one translation of outcomes.

Every request goes through hvac's adapter (URL joining, the namespace header,
status -> exception) over a session that retries idempotent reads (GET, LIST) on
connection errors, read timeouts and HTTP 502/504. Each call gets its own
:class:`Call`, hvac's adapter interface for that call alone: it puts the token into
that request's headers (the shared adapter never holds one, so a renewal or a new
login never races with requests in flight) and a value or a credential into its
body, revealing them only there.

Calls run through the kit's :func:`~secretwire.providers.base.call` with
:func:`translate`: the error is raised outside the ``except`` block, with neither
``__cause__`` nor ``__context__`` (hvac's and requests' exceptions hold the
request: its body and the ``X-Vault-Token`` header), and its traceback starts at
``call`` (the frames that held the token or the body in plain text are on none).
Frames outside :class:`Call` hold tokens, credentials and values only as
:class:`~secretwire.SecretValue`.

Under a deadline (:mod:`secretwire.deadlines`) every attempt's timeout, the retries
and their back-off are capped at what remains of it (:func:`_timeout`, :func:`_retry`).
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ... import deadlines, errors
from ...errors import ConfigError, ProviderError, ProviderUnavailable, SecretwireError
from ...masking._redactor import Redactor
from ...values import SecretValue
from ..base import FETCH_WORKERS, call, os_reason, require_extra, ssl_reason, timed_out

__all__ = ["PROVIDER", "Call", "Transport", "translate"]

PROVIDER = "vault"
_READ_METHODS = frozenset({"GET", "LIST", "HEAD"})
#: The status hvac's exception classes stand for (``VaultError.from_status``).
_STATUS = {
    "InvalidRequest": 400,
    "Unauthorized": 401,
    "Forbidden": 403,
    "InvalidPath": 404,
    "RateLimitExceeded": 429,
    "InternalServerError": 500,
    "VaultNotInitialized": 501,
    "BadGateway": 502,
    "VaultDown": 503,
}


class Call:
    """hvac's adapter interface (``request``, ``get``, ``post``, ``login``) for one call:
    the shared adapter, and this call's token, revealed into this request's headers
    only. hvac's typed API classes (``AppRole(call).login(...)``) take it as their
    adapter; a ``login`` never stores the token it gets back."""

    def __init__(self, adapter: Any, token: SecretValue | None, timeout: float) -> None:
        self._adapter = adapter
        self._token = token
        self._timeout = timeout
        self._kwargs: dict[str, Any] = adapter._kwargs  # hvac's cert login reads these

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        body: SecretValue | None = None,
        **kwargs: Any,
    ) -> Any:
        """One request; ``body`` is a JSON body holding a value or a credential."""
        sent = dict(headers or {})
        if self._token:
            sent["X-Vault-Token"] = self._token.reveal()
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
            kwargs["data"] = body.reveal().encode("utf-8")
        timeout = _timeout(self._timeout)
        return self._adapter.request(method, url, headers=sent, timeout=timeout, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def login(self, url: str, use_token: bool = True, **kwargs: Any) -> Any:
        return self.post(url, **kwargs)


class Transport:
    """Where and how to reach Vault: one session (built on first use) for every call.

    ``shown`` is how messages show the address (hidden when it came from a secret);
    ``hidden`` are option values that came from a secret: Vault's text that quotes
    one is withheld."""

    def __init__(
        self,
        url: str,
        shown: str,
        *,
        namespace: str | None,
        ca_cert: str | None,
        client_cert: tuple[str, str] | None,
        timeout: float,
        read_retries: int,
        hidden: tuple[SecretValue, ...],
    ) -> None:
        require_extra("hvac", "vault")
        self.url = url
        self.shown = shown
        self.endpoint = url if shown == url else None
        self.namespace = namespace
        self.ca_cert = ca_cert
        self.client_cert = client_cert
        self.verify: bool | str = ca_cert if ca_cert is not None else True
        self.timeout = timeout
        self.read_retries = read_retries
        self.hidden = hidden
        self._lock = threading.Lock()
        self._adapter: Any = None

    def adapter(self) -> Any:
        """hvac's adapter over the shared session (built on first use)."""
        adapter = self._adapter
        if adapter is None:
            with self._lock:
                if self._adapter is None:
                    self._adapter = self._build()
                adapter = self._adapter
        return adapter

    def _build(self) -> Any:
        import requests  # noqa: PLC0415 - hvac's dependency
        from hvac.adapters import RawAdapter  # noqa: PLC0415 - optional extra
        from requests.adapters import HTTPAdapter  # noqa: PLC0415

        retries = self.read_retries
        retry = _bounded()[1](
            total=retries, connect=retries, read=retries, status=retries, other=0,
            allowed_methods=_READ_METHODS, status_forcelist=(502, 504), backoff_factor=0.1,
            raise_on_status=False, raise_on_redirect=False,
        )  # fmt: skip
        session = requests.Session()
        for scheme in ("http://", "https://"):
            # One kept-alive connection per fetch thread (the pipeline's bound).
            session.mount(scheme, HTTPAdapter(max_retries=retry, pool_maxsize=FETCH_WORKERS))
        # The environment (proxy variables, REQUESTS_CA_BUNDLE) is read once, here:
        # requests reads it (and ~/.netrc) again on every request otherwise, a sixth
        # of an uncached read's CPU. netrc is not read: Vault takes a token header.
        session.trust_env = False
        session.proxies.update(requests.utils.get_environ_proxies(self.url))
        verify = self.verify
        if verify is True:
            verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            )
        session.verify = verify
        session.cert = self.client_cert
        return RawAdapter(
            base_uri=self.url,
            token=None,  # never the ambient VAULT_TOKEN: each Call sends its own
            cert=self.client_cert,
            verify=verify,  # type: ignore[arg-type]  # a CA bundle path works too
            timeout=max(1, math.ceil(self.timeout)),
            session=session,
            namespace=self.namespace,
        )

    def send(
        self,
        fn: Callable[[Call], Any],
        *,
        token: SecretValue | None,
        sensitive: tuple[SecretValue, ...] = (),
        **fields: Any,
    ) -> dict[str, Any]:
        """``fn(call)`` (one request through hvac), translated; the JSON object it
        answered (``{}`` for an empty answer). ``fields`` are the error's fields and
        :func:`translate`'s flags (``login``, ``token_call``, ``unverified``)."""
        adapter = self.adapter()
        response = call(
            lambda: fn(Call(adapter, token, self.timeout)),
            translate,
            provider=PROVIDER,
            endpoint=self.endpoint,
            shown=self.shown,
            timeout=self.timeout,
            sensitive=(*((token,) if token else ()), *sensitive, *self.hidden),
            **fields,
        )
        return self.answer(response, fields)

    def answer(self, response: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON object of a successful answer."""
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderUnavailable(
                operation=fields.get("operation"),
                name=fields.get("name"),
                provider=PROVIDER,
                endpoint=self.endpoint,
                detail="unexpected answer from Vault (not a JSON object)",
            )
        return body

    def request(
        self, method: str, path: str, *, token: SecretValue | None, **fields: Any
    ) -> dict[str, Any]:
        """One call to ``path`` (``/v1/...``); ``body``, ``params`` and ``json`` go to
        the request, the rest to :meth:`send`."""
        options = {key: fields.pop(key) for key in ("body", "params", "json") if key in fields}
        return self.send(lambda c: c.request(method, path, **options), token=token, **fields)

    def health(self) -> Any:
        """``GET sys/health``: no token, no namespace (it exists only at the root)."""
        session = self.adapter().session
        return call(
            lambda: session.get(
                f"{self.url}/v1/sys/health",
                params={"standbyok": "true", "perfstandbyok": "true"},
                timeout=_timeout(self.timeout),
                # explicit: requests lets REQUESTS_CA_BUNDLE override session.verify
                verify=self.verify,
                cert=self.client_cert,
            ),
            translate,
            operation="check health",
            provider=PROVIDER,
            endpoint=self.endpoint,
            shown=self.shown,
            timeout=self.timeout,
        )

    def close(self) -> None:
        """Close the session; the next call opens a new one."""
        with self._lock:
            adapter, self._adapter = self._adapter, None
        if adapter is not None:
            adapter.close()


def _timeout(seconds: float) -> Any:
    """requests' ``timeout`` for one call: ``seconds`` for each attempt, and under a
    deadline each attempt (the retries too) capped at what remains of it."""
    if deadlines.current() is None:
        return seconds
    return _bounded()[0](seconds)


@functools.cache
def _bounded() -> tuple[type[Any], type[Any]]:
    """urllib3's ``Timeout`` and ``Retry``, bounded by the deadline in force (urllib3
    clones the timeout and asks the retry for every attempt, in the caller's thread)."""
    from urllib3.util.retry import Retry  # noqa: PLC0415 - hvac's dependency
    from urllib3.util.timeout import Timeout  # noqa: PLC0415

    class DeadlineTimeout(Timeout):
        def __init__(self, seconds: float) -> None:
            super().__init__(connect=seconds, read=seconds)
            self.seconds = seconds

        def clone(self) -> Timeout:
            left = deadlines.budget(self.seconds)
            return Timeout(connect=left, read=left)

    class DeadlineRetry(Retry):
        def is_exhausted(self) -> bool:
            return super().is_exhausted() or deadlines.expired()

        def get_backoff_time(self) -> float:
            return deadlines.budget(super().get_backoff_time())

    return DeadlineTimeout, DeadlineRetry


# -- translation -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """One row of the table: hvac's exception (class names; empty: any), what Vault's
    text says (lower case; ``None``: anything), a flag of the call that must be set,
    and the outcome: an error class (or a ``ConfigError`` for ``config``), its detail
    and hint, and whether Vault's own words are quoted."""

    types: tuple[str, ...]
    says: str | None
    error: type[ProviderError] | None
    detail: str
    config: str | None = None
    flag: str | None = None
    hint: str | None = None
    quote: bool = True
    #: without the endpoint and the status (a plain "not found")
    bare: bool = False

    def fits(self, err: BaseException, lowered: str, context: Mapping[str, Any]) -> bool:
        return (
            (not self.types or type(err).__name__ in self.types)
            and (self.says is None or self.says in lowered)
            and (self.flag is None or bool(context.get(self.flag)))
        )


_NOT_ACCEPTED = "Vault did not accept the token (invalid, expired or revoked)"
#: Vault's answers, first fit wins. A missing KV entry is a 404 with an empty
#: ``errors`` list; a 404 that says something is Vault's router (no such mount or
#: namespace): a configuration problem, never "not found" (a default must not hide it).
_RULES = (
    _Rule(("InvalidPath",), "namespace not found", None,
          "has no such namespace", config="namespace"),
    _Rule(("InvalidPath",), "no handler for route", None,
          "has nothing mounted at that path (check mount and namespace)", config="mount"),
    _Rule(("InvalidPath",), None, errors.SecretNotFound, "", quote=False, bare=True),
    _Rule(("InvalidRequest",), None, errors.Unauthenticated,
          "Vault refused the login: {refused}", flag="login"),
    _Rule(("Forbidden",), None, errors.Unauthenticated,
          _NOT_ACCEPTED, flag="token_call", quote=False),
    _Rule(("Forbidden",), None, errors.Unauthenticated,
          "permission denied, and the token could not look itself up: it is invalid or "
          "expired (or has no default policy)", flag="unverified", quote=False),
    _Rule(("Unauthorized", "Forbidden"), "invalid token", errors.Unauthenticated, _NOT_ACCEPTED),
    _Rule(("Unauthorized",), None, errors.Unauthenticated, _NOT_ACCEPTED),
    _Rule(("Forbidden",), None, errors.AccessDenied, "permission denied", quote=False),
    _Rule(("InvalidRequest",), "check-and-set parameter required", errors.Conflict,
          "the mount requires check-and-set writes", hint="set cas: true", quote=False),
    _Rule(("InvalidRequest",), "check-and-set", errors.Conflict,
          "another writer changed it first"),
    _Rule(("InvalidRequest",), None, errors.InvalidSecret, "Vault refused the request"),
    _Rule(("VaultDown",), None, ProviderUnavailable,
          "Vault is sealed or unavailable", quote=False),
    _Rule(("VaultNotInitialized",), None, ProviderUnavailable,
          "Vault is not initialized", quote=False),
    _Rule(("RateLimitExceeded",), None, ProviderUnavailable, "Vault is rate limiting requests"),
    _Rule((), "too large", errors.InvalidSecret, "the value is too large for Vault"),
    _Rule((), None, ProviderUnavailable, "Vault failed ({type})"),
)  # fmt: skip

#: What a refused login means, per auth method; never the credential itself.
_REFUSED = {
    "approle": (
        "the role_id or the secret_id is not valid (or the secret_id expired or reached "
        "its use limit)"
    ),
    "jwt": "the JWT or the role was not accepted",
    "kubernetes": "the service account token or the role was not accepted",
    "cert": "the client certificate was not accepted",
}


def _refused(auth: str, lowered: str) -> str:
    if auth == "approle" and "missing secret_id" in lowered:
        return "the role needs a secret_id (give secret_id, secret_id_env or secret_id_file)"
    return _REFUSED.get(auth, "the credentials were not accepted")


def _vault_text(err: Any) -> str:
    """Vault's error text (to classify the error; shown only if it quotes nothing sensitive)."""
    listed = getattr(err, "errors", None)
    if isinstance(listed, list) and listed:
        text = "; ".join(str(item) for item in listed)
    else:
        text = str(err.args[0]) if err.args and err.args[0] else ""
    return " ".join(text.split())


def _quoted(text: str, sensitive: tuple[SecretValue, ...]) -> str:
    """``; Vault says: <text>``, unless the text quotes a credential, a value being
    written or an option value that came from a secret."""
    if not text:
        return ""
    redactor = Redactor(min_length=1)
    for item in sensitive:
        if len(item.reveal()) <= len(text):  # a longer one cannot be quoted in it
            redactor.add(item)
    if redactor.may_contain(text):
        return "; Vault's message is withheld (it quoted the request)"
    return f"; Vault says: {text[:300]}"


def _transport(err: BaseException, context: Mapping[str, Any]) -> str | None:
    """The detail for a failure to talk to Vault at all; ``None`` if it is none."""
    from requests import exceptions as http  # noqa: PLC0415 - hvac's dependency
    from urllib3.exceptions import (  # noqa: PLC0415
        ConnectTimeoutError,
        NewConnectionError,
        ReadTimeoutError,
    )

    timeouts = (ReadTimeoutError, ConnectTimeoutError, TimeoutError)
    if isinstance(err, http.SSLError):
        return f"TLS with Vault failed: {ssl_reason(err)}"
    if isinstance(err, http.Timeout) or timed_out(
        err, timeouts=timeouts, excluded=(NewConnectionError,)
    ):
        return f"Vault did not answer within {context['timeout']:g} s"
    if isinstance(err, http.ConnectionError):
        return f"cannot connect to Vault ({os_reason(err)})"
    if isinstance(err, http.RequestException):
        return f"unexpected answer from Vault ({type(err).__name__})"
    return None


def translate(err: Exception, context: Mapping[str, Any]) -> SecretwireError | None:
    """The one place where hvac and requests outcomes become secretwire errors (the
    kit's :func:`call` raises the result); ``None`` for an exception that is no
    backend outcome (a bug). ``context`` holds the error's fields, ``shown`` (the
    address as messages show it), ``timeout``, ``sensitive`` (what Vault's text must
    not quote) and the call's flags: ``login`` (the auth method of a login call),
    ``token_call`` (the token's own lookup or renewal) and ``unverified`` (the token
    could not look itself up)."""
    from hvac.exceptions import VaultError  # noqa: PLC0415 - optional extra

    fields = {key: context.get(key) for key in ("operation", "name", "version", "provider")}
    fields["endpoint"] = context.get("endpoint")
    if not isinstance(err, VaultError):
        detail = _transport(err, context)
        return None if detail is None else ProviderUnavailable(detail=detail, **fields)
    text = _vault_text(err)
    lowered = text.lower()
    rule = next(rule for rule in _RULES if rule.fits(err, lowered, context))
    detail = rule.detail.format(
        type=type(err).__name__, refused=_refused(str(context.get("login")), lowered)
    )
    said = _quoted(text, context.get("sensitive", ())) if rule.quote else ""
    if rule.config is not None:
        subject = str(fields["operation"] or "")
        subject += "" if fields["name"] is None else f" secret {fields['name']!r}"
        message = f"Vault at {context['shown']} {detail}: {subject}{said}"
        return ConfigError(message, key=rule.config)
    detail += said
    assert rule.error is not None  # noqa: S101 - every other row names one
    status = None if rule.bare else _STATUS.get(type(err).__name__)
    if rule.bare:
        fields["endpoint"] = None
    return rule.error(
        detail=detail or None,
        code=None if status is None else f"HTTP {status}",
        hint=rule.hint,
        **fields,
    )
