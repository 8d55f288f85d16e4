"""The shipped conformance suite against the Azure provider, through a fake Key Vault.

No Key Vault emulator can be installed on this machine (docs/providers/azure.md,
"Testing"). ``TestAzureProviderWithFakeTransport`` runs ``ProviderContract`` against
the real ``AzureKeyVaultProvider``, ``SecretClient`` and azure-core pipeline
(challenge authentication, request and response serialisation, paging, the
long-running-operation pollers, the provider's error translation); only the HTTP
exchange is faked, by :class:`FakeKeyVault`.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qs

import pytest

from secretwire import Conflict, SecretProvider
from secretwire.providers.azure import AzureKeyVaultProvider
from secretwire.testing import ProviderContract
from tests.providers.test_azure import (
    FAKE_TOKEN,
    FakeCredential,
    FakeKeyVaultTransport,
    Seen,
    _kv_error,
    client_through,
    fake_host,
)

Reply = tuple[int, object, Mapping[str, str]]

RESTRICTED_TOKEN = "fake-restricted-token-93b0"
_NAME = re.compile(r"[0-9a-zA-Z-]{1,127}")
_PAGE = 25


class FakeKeyVault(FakeKeyVaultTransport):
    """An in-memory model of Key Vault's secrets REST API (7.x), behind the real SDK.

    What it models, after the REST reference:

    * ``PATCH /secrets/{name}/{version}``: new tags, content type or attributes of
      one version (``update_secret_properties``).
    * ``PUT /secrets/{name}``: a new version (32 hex digits) with ``created`` /
      ``updated`` in whole seconds, tags, content type, ``enabled`` / ``nbf`` /
      ``exp``. Names match ``[0-9a-zA-Z-]{1,127}`` (else 400 ``BadParameter``) and are
      case-insensitive. Writing a soft-deleted name is 409 ``Conflict``.
    * ``GET /secrets/{name}/{version}`` (no version: the newest): 404
      ``SecretNotFound`` for a missing name or version, 403 ``Forbidden`` /
      ``SecretDisabled`` for a disabled version.
    * ``GET /secrets`` and ``GET /secrets/{name}/versions``: items without values, in
      pages of 25 linked by ``nextLink`` (``$skiptoken``); no versions is 404.
    * Soft delete: ``DELETE /secrets/{name}`` moves the secret to the deleted
      collection (a deleted bundle with ``recoveryId`` and dates); ``GET
      /deletedsecrets/{name}`` (what the SDK's poller asks), ``GET /deletedsecrets``,
      ``POST /deletedsecrets/{name}/recover`` and ``DELETE /deletedsecrets/{name}``
      (purge, 204); each 404 for a name that is not deleted.
    * Authorisation: the base class's 401 challenge, then the bearer token: a token
      not in ``tokens`` gets 403 ``Forbidden`` / ``ForbiddenByRbac`` for everything
      (an identity without a role on the vault).

    Not modelled: deletion and recovery finish at once (in Key Vault they take
    seconds; the poller waiting through 404s is tested with canned answers in
    test_azure.py); throttling, 5xx and retries; purge protection and retention;
    value and tag limits (the provider refuses over-limit writes before a call);
    api-version checks; error message texts (approximations: the provider reads
    only statuses and codes).
    """

    def __init__(self, host: str, tokens: Sequence[str] = (FAKE_TOKEN,)) -> None:
        super().__init__([])
        self.host = host
        self.tokens = set(tokens)
        self.live: dict[str, list[dict[str, Any]]] = {}  # lower-case name -> versions
        self.deleted: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Reply]]] = [
            ("PUT", re.compile(r"/secrets/([^/]+)"), self._put),
            ("PATCH", re.compile(r"/secrets/([^/]+)/([^/]+)"), self._patch),
            ("GET", re.compile(r"/secrets/?"), self._list_live),
            ("GET", re.compile(r"/secrets/([^/]+)/versions"), self._versions),
            ("GET", re.compile(r"/secrets/([^/]+)/?([^/]*)"), self._get),
            ("DELETE", re.compile(r"/secrets/([^/]+)"), self._delete),
            ("GET", re.compile(r"/deletedsecrets/?"), self._list_deleted),
            ("GET", re.compile(r"/deletedsecrets/([^/]+)"), self._get_deleted),
            ("POST", re.compile(r"/deletedsecrets/([^/]+)/recover"), self._recover),
            ("DELETE", re.compile(r"/deletedsecrets/([^/]+)"), self._purge),
        ]

    def answer(self, request: Seen, authorization: str) -> Reply:
        if authorization.removeprefix("Bearer ") not in self.tokens:
            return 403, _kv_error("Forbidden", "Caller is not authorized.", "ForbiddenByRbac"), {}
        for method, pattern, handler in self.routes:
            found = pattern.fullmatch(request.path)
            if method == request.method and found:
                with self.lock:
                    return handler(request, *found.groups())
        return 400, _kv_error("BadParameter", "No such operation."), {}

    # -- the model ------------------------------------------------------------------
    def _id(self, name: str, version: str | None = None, kind: str = "secrets") -> str:
        return f"https://{self.host}/{kind}/{name}" + (f"/{version}" if version else "")

    @staticmethod
    def _missing(what: str = "A secret") -> Reply:
        return 404, _kv_error("SecretNotFound", f"{what} was not found in this key vault."), {}

    def _item(self, bundle: dict[str, Any], *, versioned: bool) -> dict[str, Any]:
        item = {k: v for k, v in bundle.items() if k not in ("value", "name", "version")}
        item["id"] = self._id(bundle["name"], bundle["version"] if versioned else None)
        return item

    def _deleted_bundle(self, versions: list[dict[str, Any]]) -> dict[str, Any]:
        name = versions[-1]["name"]
        deleted = self._item(versions[-1], versioned=True)
        since = versions[-1]["deletedDate"]
        return {
            **deleted,
            "recoveryId": self._id(name, kind="deletedsecrets"),
            "deletedDate": since,
            "scheduledPurgeDate": since + 90 * 86400,
        }

    def _page(self, request: Seen, items: list[dict[str, Any]]) -> Reply:
        query = parse_qs(request.query)
        skip = int(query.get("$skiptoken", ["0"])[0])
        body: dict[str, Any] = {"value": items[skip : skip + _PAGE], "nextLink": None}
        if skip + _PAGE < len(items):
            version = query.get("api-version", ["7.5"])[0]
            body["nextLink"] = (
                f"https://{self.host}{request.path}?api-version={version}&$skiptoken={skip + _PAGE}"
            )
        return 200, body, {}

    # -- handlers -------------------------------------------------------------------
    def _put(self, request: Seen, name: str) -> Reply:
        if not _NAME.fullmatch(name):
            return 400, _kv_error("BadParameter", "The secret name is invalid."), {}
        if name.lower() in self.deleted:
            return 409, _kv_error("Conflict", f"Secret {name} is in a deleted state."), {}
        sent = json.loads(request.body)
        now = int(time.time())
        versions = self.live.setdefault(name.lower(), [])
        attributes = {"enabled": True, **sent.get("attributes", {})}
        attributes |= {"created": now, "updated": now, "recoveryLevel": "Recoverable+Purgeable"}
        bundle = {
            "name": versions[0]["name"] if versions else name,
            "version": uuid.uuid4().hex,
            "value": sent["value"],
            "attributes": attributes,
            "tags": sent.get("tags"),
            "contentType": sent.get("contentType"),
        }
        versions.append(bundle)
        return 200, self._bundle(bundle), {}

    def _patch(self, request: Seen, name: str, version: str) -> Reply:
        """``update_secret_properties``: tags, content type and attributes of one version
        change; its value, id and ``created`` stay (``updated`` moves)."""
        found = [v for v in self.live.get(name.lower(), []) if v["version"] == version]
        if not found:
            return self._missing()
        sent = json.loads(request.body)
        bundle = found[0]
        for field in ("tags", "contentType"):
            if field in sent:
                bundle[field] = sent[field]
        bundle["attributes"] |= sent.get("attributes", {}) | {"updated": int(time.time())}
        return 200, self._item(bundle, versioned=True), {}

    def _bundle(self, bundle: dict[str, Any]) -> dict[str, Any]:
        return {**self._item(bundle, versioned=True), "value": bundle["value"]}

    def _get(self, request: Seen, name: str, version: str) -> Reply:
        versions = self.live.get(name.lower(), [])
        found = [v for v in versions if v["version"] == version] if version else versions[-1:]
        if not found:
            return self._missing()
        if found[0]["attributes"]["enabled"] is False:
            message = "Operation get is not allowed on a disabled secret."
            return 403, _kv_error("Forbidden", message, "SecretDisabled"), {}
        return 200, self._bundle(found[0]), {}

    def _list_live(self, request: Seen) -> Reply:
        newest = [self._item(v[-1], versioned=False) for v in self.live.values()]
        return self._page(request, newest)

    def _versions(self, request: Seen, name: str) -> Reply:
        versions = self.live.get(name.lower())
        if not versions:
            return self._missing()
        return self._page(request, [self._item(v, versioned=True) for v in versions])

    def _delete(self, request: Seen, name: str) -> Reply:
        versions = self.live.pop(name.lower(), None)
        if versions is None:
            return self._missing()
        versions[-1]["deletedDate"] = int(time.time())
        self.deleted[name.lower()] = versions
        return 200, self._deleted_bundle(versions), {}

    def _get_deleted(self, request: Seen, name: str) -> Reply:
        versions = self.deleted.get(name.lower())
        if versions is None:
            return self._missing("A deleted secret")
        return 200, self._deleted_bundle(versions), {}

    def _list_deleted(self, request: Seen) -> Reply:
        return self._page(request, [self._deleted_bundle(v) for v in self.deleted.values()])

    def _recover(self, request: Seen, name: str) -> Reply:
        versions = self.deleted.pop(name.lower(), None)
        if versions is None:
            return self._missing("A deleted secret")
        del versions[-1]["deletedDate"]
        self.live[name.lower()] = versions
        return 200, self._item(versions[-1], versioned=True), {}

    def _purge(self, request: Seen, name: str) -> Reply:
        if self.deleted.pop(name.lower(), None) is None:
            return self._missing("A deleted secret")
        return 204, None, {}


class TestAzureProviderWithFakeTransport(ProviderContract):
    """``ProviderContract`` through :class:`FakeKeyVault` (see its docstring for what is
    faked). ``name_encoding: escape``, since the suite's names hold ``/``; a second
    provider with a token the fake vault refuses is ``restricted_provider``. Every case
    runs: the model covers what the suite asks of a backend."""

    unsupported: ClassVar[dict[str, str]] = {}

    @pytest.fixture
    def vault(self) -> FakeKeyVault:
        return FakeKeyVault(fake_host())

    def _provider(self, vault: FakeKeyVault, token: str) -> AzureKeyVaultProvider:
        client = client_through(vault, vault.host, credential=FakeCredential(token))
        return AzureKeyVaultProvider(client=client, name_encoding="escape", poll_interval=0.01)

    @pytest.fixture
    def provider(self, vault: FakeKeyVault) -> Iterator[SecretProvider]:
        provider = self._provider(vault, FAKE_TOKEN)
        yield provider
        provider.close()

    @pytest.fixture
    def restricted_provider(self, vault: FakeKeyVault) -> Iterator[SecretProvider]:
        provider = self._provider(vault, RESTRICTED_TOKEN)
        yield provider
        provider.close()

    @pytest.fixture
    def credentials(self) -> Sequence[str]:
        return (FAKE_TOKEN, RESTRICTED_TOKEN)


def test_the_fake_vault_soft_deletes_recovers_and_purges_with_fake_transport() -> None:
    """What the contract does not reach: Azure's own soft-delete methods, end to end."""
    vault = FakeKeyVault(fake_host())
    provider = TestAzureProviderWithFakeTransport()._provider(vault, FAKE_TOKEN)
    provider.set("db/password", "v1")
    provider.delete("db/password")
    assert list(provider.deleted()) == ["db/password"]
    assert ("GET", "/deletedsecrets/db-s-password") in [(s.method, s.path) for s in vault.seen]
    with pytest.raises(Conflict, match="deleted but recoverable"):
        provider.set("db/password", "v2")
    provider.recover("db/password")
    assert provider.get("db/password").reveal() == "v1"
    provider.delete("db/password")
    provider.purge("db/password")
    assert list(provider.deleted()) == []
    provider.set("db/password", "v3")
    assert [v.current for v in provider.versions("db/password")] == [True]
    provider.close()
