"""The Azure Key Vault provider.

No Key Vault emulator can be obtained on this machine (see docs/providers/azure.md,
"Testing"). What runs here:

* name mapping: pure functions, property-tested with hypothesis;
* checks made before any call (names, sizes, tags, options), and outages, against a
  real closed port (or a real silent server) on loopback;
* everything that needs an answer from Key Vault through the real ``SecretClient``
  and the real azure-core pipeline, with a **fake transport**: a ``requests``
  adapter that returns one canned Key Vault answer per request (it keeps no state,
  so it is no emulator). Those tests say so in their names.

``test_azure_conformance.py`` runs the shipped ``ProviderContract`` through a
stateful model of Key Vault's REST API behind the same transport.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import ClientSecretCredential, EnvironmentCredential, ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient
from hypothesis import given
from hypothesis import strategies as st
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse

from secretwire import (
    AccessDenied,
    ConfigError,
    Conflict,
    HealthStatus,
    InvalidSecret,
    ProviderError,
    ProviderUnavailable,
    ResolutionError,
    SecretDisabled,
    SecretExpired,
    SecretManager,
    SecretNotFound,
    SecretNotYetValid,
    Unauthenticated,
    get_provider_class,
)
from secretwire.providers.azure import (
    MAX_TAGS,
    MAX_VALUE_BYTES,
    META_TAG_PREFIX,
    WRITTEN_TAG,
    AzureKeyVaultProvider,
    decode_name,
    encode_name,
)
from secretwire.testing import CANARY, FakeClock, assert_no_leak, check_options, error_texts
from secretwire.values import SecretValue
from tests.servers.harness import free_port

VAULT_NAME = re.compile(r"[0-9a-z-]+")
FAKE_TOKEN = "fake-bearer-token-6d1c"


# -- name mapping: pure -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "vault_name"),
    [
        ("db", "db"),
        ("db/password", "db-s-password"),
        ("my-app", "my--app"),
        ("app.api_key", "app-d-api-u-key"),
        ("DB_URL", "-cdb--u--curl-"),
        ("MyApp", "-cm-y-ca-pp"),
        ("clé", "cl-xe9-"),
        ("a b", "a-x20-b"),
        ("密", "-x5bc6-"),
        ("\U0001f511", "-x1f511-"),
    ],
)
def test_documented_examples(name: str, vault_name: str) -> None:
    assert encode_name(name) == vault_name
    assert decode_name(vault_name) == name


@given(st.text(min_size=1))
def test_round_trip_and_alphabet(name: str) -> None:
    encoded = encode_name(name)
    assert VAULT_NAME.fullmatch(encoded)
    assert decode_name(encoded) == name


@given(st.text(min_size=1))
def test_key_vault_case_insensitivity_does_not_matter(name: str) -> None:
    encoded = encode_name(name)
    assert decode_name(encoded.upper()) == name
    assert encoded == encoded.lower()


@given(st.text(min_size=1), st.text(min_size=1))
def test_mapping_is_injective_even_ignoring_case(first: str, second: str) -> None:
    if first != second:
        assert encode_name(first).lower() != encode_name(second).lower()


@given(st.from_regex(r"[0-9a-zA-Z-]{1,60}", fullmatch=True))
def test_decode_accepts_only_exact_encodings(vault_name: str) -> None:
    decoded = decode_name(vault_name)
    if decoded is not None:
        assert encode_name(decoded) == vault_name.lower()


@given(
    st.from_regex(
        r"(?:[0-9a-z]|--|-s-|-u-|-d-|-c[a-z]+-|-x[1-9a-f][0-9a-f]{0,3}-){1,12}", fullmatch=True
    )
)
def test_decode_of_token_strings_round_trips_when_accepted(vault_name: str) -> None:
    decoded = decode_name(vault_name)
    if decoded is not None:
        assert encode_name(decoded) == vault_name


@pytest.mark.parametrize(
    "vault_name",
    [
        "db-password",  # a plain Key Vault name with one dash: not an encoding
        "-",
        "a-",
        "-s",
        "-q-",
        "-x-",
        "-xg1-",
        "-x110000-",  # beyond Unicode
        "-x2d-",  # '-' has the shorter form '--'
        "-x41-",  # 'A' has the form '-ca-'
        "-x0061-",  # leading zeros
        "-ca--cb-",  # 'AB' is encoded as one run '-cab-'
        "-c-",
    ],
)
def test_names_that_are_not_encodings(vault_name: str) -> None:
    assert decode_name(vault_name) is None


# -- the provider, with nothing listening --------------------------------------------------


class FakeCredential:
    """Test setup: a TokenCredential returning a fixed token, for endpoints that
    ignore authentication (a closed port, the fake transport)."""

    def __init__(self, token: str = FAKE_TOKEN) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture
def offline() -> Iterator[AzureKeyVaultProvider]:
    """A provider whose vault URL is a closed loopback port: any call that reaches
    the network fails with ProviderUnavailable."""
    provider = AzureKeyVaultProvider(
        f"https://127.0.0.1:{free_port()}",
        credential=FakeCredential(),
        retries=0,
        timeout=5,
        name_encoding="escape",
    )
    yield provider
    provider.close()


def test_registered_as_azure() -> None:
    assert get_provider_class("azure") is AzureKeyVaultProvider


def test_closed_port_is_unavailable_for_every_operation(offline: AzureKeyVaultProvider) -> None:
    calls: list[Callable[[], object]] = [
        lambda: offline.get("db/password"),
        lambda: offline.get("db/password", version="0123"),
        lambda: list(offline.list()),
        lambda: offline.versions("db/password"),
        lambda: offline.set("db/password", "x"),
        lambda: offline.delete("db/password"),
        lambda: offline.recover("db/password"),
        lambda: offline.purge("db/password"),
        lambda: list(offline.deleted()),
    ]
    for call in calls:
        with pytest.raises(ProviderUnavailable) as info:
            call()
        assert not isinstance(info.value, SecretNotFound)
        assert info.value.__cause__ is None
        assert info.value.__context__ is None
    health = offline.health()
    assert health.status is HealthStatus.UNAVAILABLE
    assert "ServiceRequestError" in health.detail


def test_failed_write_leaks_the_value_nowhere(
    offline: AzureKeyVaultProvider, all_logs: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ProviderUnavailable) as info:
        offline.set("db/password", CANARY)
    assert_no_leak(info.value, CANARY)
    assert CANARY not in all_logs.text


def test_value_over_25_kib_is_refused_before_any_call(offline: AzureKeyVaultProvider) -> None:
    # The closed port proves no call is made: a call would raise ProviderUnavailable.
    with pytest.raises(InvalidSecret) as info:
        offline.set("big", "x" * (MAX_VALUE_BYTES + 1))
    assert "25600" in str(info.value)
    with pytest.raises(InvalidSecret):
        offline.set("big", "\u00e9" * (MAX_VALUE_BYTES // 2 + 1))  # counted in UTF-8 bytes
    assert AzureKeyVaultProvider.capabilities.max_value_bytes == 25 * 1024


def test_unmappable_names_are_invalid(offline: AzureKeyVaultProvider) -> None:
    for name in ("", "x" * 128, "/" * 43, "\u00e9" * 30):
        with pytest.raises(InvalidSecret):
            offline.get(name)
    assert offline.vault_name("x" * 127) == "x" * 127
    with pytest.raises(InvalidSecret):
        offline.get("db", version="")


def test_shared_name_rule_and_surrogate_values_are_refused_before_any_call(
    offline: AzureKeyVaultProvider,
) -> None:
    # The closed port proves no call is made: a call would raise ProviderUnavailable.
    for name in ("a b", "a\u200bb", "a\udcffb"):
        with pytest.raises(InvalidSecret, match="invalid secret name"):
            offline.get(name)
        with pytest.raises(InvalidSecret, match="invalid secret name"):
            offline.set(name, "v")
    with pytest.raises(InvalidSecret, match="lone surrogate") as info:
        offline.set("db", CANARY + "\udcff")
    assert_no_leak(info.value, CANARY)
    assert info.value.__context__ is None


def test_verbatim_names() -> None:
    provider = AzureKeyVaultProvider(
        "https://127.0.0.1:1", credential=FakeCredential(), name_encoding="verbatim"
    )
    assert provider.vault_name("Db-Password") == "Db-Password"
    assert provider.secretwire_name("Db-Password") == "Db-Password"
    for name in ("db/password", "a_b", "x" * 128):
        with pytest.raises(InvalidSecret):
            provider.vault_name(name)
    provider.close()


def test_tags_and_metadata_are_checked_before_any_call(offline: AzureKeyVaultProvider) -> None:
    too_many = {f"t{i}": "v" for i in range(MAX_TAGS)}  # + secretwire's own tag = 16
    bad: list[dict[str, Any]] = [
        {"tags": too_many},
        {"tags": {f"{META_TAG_PREFIX}owner": "x"}},
        {"tags": {WRITTEN_TAG: "1"}},
        {"tags": {"k" * 513: "v"}},
        {"tags": {"k": "v" * 257}},
        {"metadata": {"enabled": "false"}},
        {"metadata": {"not_before": "not a date"}},
        {"metadata": {"not_before": "2030-01-01T00:00:00"}},  # naive
        {"expires_at": datetime(2030, 1, 1)},  # naive
    ]
    for kwargs in bad:
        with pytest.raises(InvalidSecret):
            offline.set("db", "v", **kwargs)


# -- settings --------------------------------------------------------------------------------


def _credential_of(options: dict[str, Any], base_dir: Path) -> object:
    """The credential ``from_options`` makes for ``options`` (closed with its provider)."""
    options = {"vault_url": "https://myvault.vault.azure.net", **options}
    provider = AzureKeyVaultProvider.from_options(options, base_dir=base_dir)
    credential = provider._client._client._config.credential
    provider.close()
    return credential


def test_from_options_builds_a_provider(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("")
    provider = AzureKeyVaultProvider.from_options(
        {
            "vault_url": "https://myvault.vault.azure.net",
            "name_encoding": "verbatim",
            "enforce_validity": False,
            "purge_on_delete": True,
            "timeout": 5,
            "retries": 1,
            "api_version": "7.4",
            "connection_verify": "ca.pem",
        },
        base_dir=tmp_path,
    )
    assert provider.vault_url == "https://myvault.vault.azure.net"
    assert provider.vault_name("Db-Password") == "Db-Password"
    assert repr(provider) == (
        "<AzureKeyVaultProvider name='azure' vault_url='https://myvault.vault.azure.net'>"
    )
    provider.close()


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "vault_url"),
        ({"vault_url": "http://myvault.vault.azure.net"}, "vault_url"),
        ({"vault_url": "https://v", "vaulturl": "x"}, "vaulturl"),
        ({"vault_url": "https://v", "timeout": True}, "timeout"),
        ({"vault_url": "https://v", "timeout": 0}, "timeout"),
        ({"vault_url": "https://v", "retries": 1.5}, "retries"),
        ({"vault_url": "https://v", "enforce_validity": "yes"}, "enforce_validity"),
        ({"vault_url": "https://v", "connection_verify": 1}, "connection_verify"),
        ({"vault_url": "https://v", "name_encoding": "base32"}, "name_encoding"),
        ({"vault_url": "https://v", "credential": "cli"}, "credential"),
        ({"vault_url": "https://v", "tenant_id": "t"}, "tenant_id"),
        ({"vault_url": "https://v", "credential": "client_secret", "client_id": "c"}, "tenant_id"),
        (
            {"vault_url": "https://v", "credential": "client_secret", "tenant_id": "t"},
            "client_id",
        ),
        (
            {
                "vault_url": "https://v",
                "credential": "client_secret",
                "tenant_id": "t",
                "client_id": "c",
            },
            "client_secret_env",
        ),
        (
            {
                "vault_url": "https://v",
                "credential": "client_secret",
                "tenant_id": "t",
                "client_id": "c",
                "client_secret_env": "SWTEST_AZURE_UNSET",
            },
            "client_secret_env",
        ),
        (
            {
                "vault_url": "https://v",
                "credential": "client_secret",
                "tenant_id": "t",
                "client_id": "c",
                "client_secret_file": "missing.txt",
            },
            "client_secret_file",
        ),
    ],
)
def test_bad_options_name_the_key(
    options: dict[str, Any], key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWTEST_AZURE_UNSET", raising=False)
    with pytest.raises(ConfigError) as info:
        AzureKeyVaultProvider.from_options(options, base_dir=tmp_path)
    assert info.value.key == key


def test_settings_file_builds_the_provider_and_outages_never_become_defaults(
    tmp_path: Path,
) -> None:
    port = free_port()
    (tmp_path / "secretwire.yaml").write_text(
        "default_environment: production\n"
        "environments:\n"
        "  production:\n"
        "    provider: azure\n"
        "    options:\n"
        f"      vault_url: https://127.0.0.1:{port}\n"
        "      credential: managed_identity\n"
        "      retries: 0\n"
        "      timeout: 5\n"
    )
    manager = SecretManager.from_settings(tmp_path / "secretwire.yaml")
    with manager, pytest.raises(ResolutionError) as info:
        manager.resolve({"password": "${secret:db-password:-fallback}"})
    assert isinstance(info.value.failures[0].error, ProviderUnavailable)


def test_client_secret_from_env_or_file_never_in_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = {"credential": "client_secret", "tenant_id": "tenant", "client_id": "client"}
    monkeypatch.setenv("SWTEST_AZURE_SECRET", CANARY)
    credential = _credential_of({**base, "client_secret_env": "SWTEST_AZURE_SECRET"}, tmp_path)
    assert isinstance(credential, ClientSecretCredential)
    (tmp_path / "secret.txt").write_text(CANARY + "\n")
    credential = _credential_of({**base, "client_secret_file": "secret.txt"}, tmp_path)
    assert isinstance(credential, ClientSecretCredential)
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ConfigError) as info:
        _credential_of({**base, "client_secret_file": "empty.txt"}, tmp_path)
    assert "empty" in str(info.value)
    with pytest.raises(ConfigError) as info:
        _credential_of(
            {**base, "client_secret_env": "SWTEST_AZURE_SECRET", "client_secret_file": "x"},
            tmp_path,
        )
    assert CANARY not in str(info.value)


def test_client_secret_file_that_is_not_utf8_is_a_config_error_without_the_secret(
    tmp_path: Path,
) -> None:
    """A UnicodeDecodeError carries the file's bytes, the client secret, in its args."""
    (tmp_path / "secret.bin").write_bytes(b"\xff" + CANARY.encode())
    options = {
        "vault_url": "https://myvault.vault.azure.net",
        "credential": "client_secret",
        "tenant_id": "tenant",
        "client_id": "client",
        "client_secret_file": "secret.bin",
    }
    with pytest.raises(ConfigError) as info:
        AzureKeyVaultProvider.from_options(options, base_dir=tmp_path)
    assert info.value.key == "client_secret_file"
    assert_no_leak(info.value, CANARY)
    assert "secret.bin" in str(info.value)


def test_close_closes_the_credential_from_options_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The docs promise close() closes the credential the provider made; with a
    settings file it is from_options that makes it (here a ClientSecretCredential)."""
    monkeypatch.setenv("SWTEST_AZURE_SECRET", CANARY)
    provider = AzureKeyVaultProvider.from_options(
        {
            "vault_url": "https://myvault.vault.azure.net",
            "credential": "client_secret",
            "tenant_id": "tenant",
            "client_id": "client",
            "client_secret_env": "SWTEST_AZURE_SECRET",
        },
        base_dir=tmp_path,
    )
    credential = provider._client._client._config.credential
    assert isinstance(credential, ClientSecretCredential)
    transport = credential._client._pipeline._transport
    credential._client.__enter__()  # opens its HTTP session, as a first token request does
    assert transport.session is not None
    provider.close()
    assert transport.session is None
    assert CANARY not in repr(provider)


def test_managed_identity_credential(tmp_path: Path) -> None:
    credential = _credential_of(
        {"credential": "managed_identity", "client_id": "00000000-0000-0000-0000-000000000001"},
        tmp_path,
    )
    assert isinstance(credential, ManagedIdentityCredential)


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.keyvault.secrets", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'secretwire[azure]'")):
        AzureKeyVaultProvider("https://myvault.vault.azure.net", credential=FakeCredential())


def test_client_or_url_not_both() -> None:
    client = SecretClient("https://myvault.vault.azure.net", FakeCredential())
    with pytest.raises(ConfigError):
        AzureKeyVaultProvider("https://other.vault.azure.net", client=client)
    for makes_a_credential in ({"credential": "managed_identity"}, {"client_id": "c"}):
        with pytest.raises(ConfigError):
            AzureKeyVaultProvider(client=client, **makes_a_credential)
    provider = AzureKeyVaultProvider(client=client)
    assert provider.vault_url == "https://myvault.vault.azure.net"
    provider.close()
    provider.close()


# -- the fake transport ----------------------------------------------------------------------

_CHALLENGE = (
    'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000",'
    ' resource="https://vault.azure.net"'
)


@dataclass
class Answer:
    method: str
    path: str  # a regex matched against the URL path
    status: int = 200
    body: object = None  # dict -> JSON, str -> text, None -> empty
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: str
    body: bytes


class FakeKeyVaultTransport(BaseAdapter):
    """Test double for the HTTP layer, under the real SecretClient and azure-core.

    An unauthenticated request gets Key Vault's 401 challenge (so the SDK's
    challenge policy runs as in production); an authenticated one gets the first
    canned answer whose method and path match (consumed once). It keeps no secrets
    and no state: each test states the exact answers Key Vault would give.
    """

    def __init__(self, answers: list[Answer]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.seen: list[Seen] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = urlsplit(request.url or "")
        body = request.body or b""
        data = body.encode() if isinstance(body, str) else bytes(body)  # type: ignore[arg-type]
        if "Authorization" not in request.headers:
            return self._response(
                request, 401, {"error": {"code": "Unauthorized"}}, {"WWW-Authenticate": _CHALLENGE}
            )
        seen = Seen(request.method or "", url.path, url.query, data)
        self.seen.append(seen)
        status, body, headers = self.answer(seen, request.headers["Authorization"])
        return self._response(request, status, body, headers)

    def answer(self, request: Seen, authorization: str) -> tuple[int, object, Mapping[str, str]]:
        """(status, body, headers) for an authenticated request: the first canned answer
        whose method and path match, consumed."""
        for index, answer in enumerate(self.answers):
            if answer.method == request.method and re.fullmatch(answer.path, request.path):
                del self.answers[index]
                return answer.status, answer.body, answer.headers
        raise AssertionError(f"unexpected request {request.method} {request.path}")

    @staticmethod
    def _response(
        request: requests.PreparedRequest, status: int, body: object, headers: Mapping[str, str]
    ) -> requests.Response:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            headers = {"Content-Type": "application/json; charset=utf-8", **headers}
        elif isinstance(body, str):
            data = body.encode()
            headers = {"Content-Type": "text/html", **headers}
        else:
            data = b""
        raw = HTTPResponse(
            body=io.BytesIO(data),
            headers={"Content-Length": str(len(data)), **headers},
            status=status,
            reason="Fake",
            preload_content=False,
            decode_content=False,
        )
        return HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass


def fake_host() -> str:
    """A fresh vault host per test: the SDK caches challenges per host, process-wide."""
    return f"vault-{uuid.uuid4().hex[:12]}.vault.azure.net"


def client_through(fake: FakeKeyVaultTransport, host: str, **kwargs: Any) -> SecretClient:
    """A real SecretClient for ``https://{host}`` whose HTTP requests go to ``fake``."""
    session = requests.Session()
    session.mount("https://", fake)
    return SecretClient(
        f"https://{host}",
        kwargs.pop("credential", FakeCredential()),
        transport=RequestsTransport(session=session, session_owner=False),
        retry_total=0,
        **kwargs,
    )


def _fake_client(
    answers: list[Answer], **kwargs: Any
) -> tuple[SecretClient, FakeKeyVaultTransport, str]:
    host = fake_host()
    fake = FakeKeyVaultTransport(answers)
    return client_through(fake, host, **kwargs), fake, host


def _provider(
    answers: list[Answer], **options: Any
) -> tuple[AzureKeyVaultProvider, FakeKeyVaultTransport, str]:
    client, fake, host = _fake_client(
        answers, credential=options.pop("credential", FakeCredential())
    )
    return AzureKeyVaultProvider(client=client, **options), fake, host


def _bundle(
    host: str,
    vault_name: str,
    *,
    value: str | None = "v",
    version: str = "0" * 32,
    enabled: bool = True,
    created: int = 1_700_000_000,
    exp: int | None = None,
    nbf: int | None = None,
    tags: dict[str, str] | None = None,
    content_type: str | None = None,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "enabled": enabled,
        "created": created,
        "updated": created,
        "recoveryLevel": "Recoverable+Purgeable",
    }
    if exp is not None:
        attributes["exp"] = exp
    if nbf is not None:
        attributes["nbf"] = nbf
    bundle: dict[str, Any] = {
        "id": f"https://{host}/secrets/{vault_name}/{version}",
        "attributes": attributes,
    }
    if value is not None:
        bundle["value"] = value
    if tags is not None:
        bundle["tags"] = tags
    if content_type is not None:
        bundle["contentType"] = content_type
    return bundle


def _kv_error(code: str, message: str, inner: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if inner is not None:
        error["innererror"] = {"code": inner}
    return {"error": error}


# -- answers from Key Vault, through the fake transport --------------------------------------


def test_get_reads_value_metadata_tags_and_dates_with_fake_transport() -> None:
    provider, fake, host = _provider([], name_encoding="escape")
    fake.answers.append(
        Answer(
            "GET",
            "/secrets/db-s-password/?",
            body=_bundle(
                host,
                "db-s-password",
                value="s3cr3t",
                version="a" * 32,
                exp=2_000_000_000,
                tags={f"{META_TAG_PREFIX}owner": "team-a", "env": "prod", WRITTEN_TAG: "5"},
                content_type="text/plain",
            ),
        )
    )
    secret = provider.get("db/password")
    assert secret.reveal() == "s3cr3t"
    assert secret.name == "db/password"
    assert secret.version == "a" * 32
    assert secret.provider == "azure"
    assert secret.metadata == {"owner": "team-a", "content_type": "text/plain"}
    assert secret.tags == {"env": "prod"}
    assert secret.created_at == datetime.fromtimestamp(1_700_000_000, timezone.utc)
    assert secret.expires_at == datetime.fromtimestamp(2_000_000_000, timezone.utc)
    assert fake.seen[0].method == "GET"


def test_get_by_version_asks_for_that_version_with_fake_transport() -> None:
    provider, fake, host = _provider([])
    fake.answers.append(
        Answer("GET", f"/secrets/db/{'b' * 32}", body=_bundle(host, "db", version="b" * 32))
    )
    assert provider.get("db", version="b" * 32).version == "b" * 32


def test_missing_secret_is_not_found_with_fake_transport() -> None:
    body = _kv_error(
        "SecretNotFound", "A secret with (name/id) db was not found in this key vault."
    )
    provider, _, _ = _provider([Answer("GET", "/secrets/db/?", 404, body)])
    with pytest.raises(SecretNotFound) as info:
        provider.get("db")
    assert not isinstance(info.value, AccessDenied)
    assert info.value.__context__ is None


def test_404_without_a_key_vault_error_is_an_outage_with_fake_transport() -> None:
    provider, _, _ = _provider([Answer("GET", "/secrets/db/?", 404, "<html>Not Found</html>")])
    with pytest.raises(ProviderUnavailable) as info:
        provider.get("db")
    assert "vault_url" in str(info.value)


def test_forbidden_is_access_denied_never_not_found_with_fake_transport() -> None:
    body = _kv_error(
        "Forbidden",
        "The user, group or application 'appid=x' does not have secrets get permission.",
        "AccessDenied",
    )
    provider, _, _ = _provider([Answer("GET", "/secrets/db/?", 403, body)])
    with pytest.raises(AccessDenied) as info:
        provider.get("db")
    assert not isinstance(info.value, (SecretNotFound, SecretDisabled))
    assert "getSecret" in str(info.value)
    assert "HTTP 403" in str(info.value)


def test_disabled_secret_is_secret_disabled_with_fake_transport() -> None:
    body = _kv_error(
        "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled"
    )
    provider, _, _ = _provider([Answer("GET", "/secrets/db/?", 403, body)])
    with pytest.raises(SecretDisabled) as info:
        provider.get("db")
    assert isinstance(info.value, AccessDenied)
    assert not isinstance(info.value, SecretNotFound)
    assert "disabled" in str(info.value)


def test_a_firewall_403_is_access_denied_not_a_disabled_secret_with_fake_transport() -> None:
    """Key Vault's network rules answer 403 saying public access "is disabled": the
    secret is not disabled, the caller's network is refused."""
    body = _kv_error(
        "Forbidden",
        "Public network access is disabled and request is not from a trusted service nor "
        "via an approved private link.",
        "ForbiddenByConnection",
    )
    provider, _, _ = _provider([Answer("GET", "/secrets/db/?", 403, body)])
    with pytest.raises(AccessDenied) as info:
        provider.get("db")
    assert not isinstance(info.value, SecretDisabled)
    assert "ForbiddenByConnection" in str(info.value)


def test_disabled_flag_in_an_answer_is_secret_disabled_with_fake_transport() -> None:
    # Some emulators return a disabled secret's value; the provider still refuses it.
    provider, fake, host = _provider([])
    fake.answers.append(
        Answer("GET", "/secrets/db/?", body=_bundle(host, "db", value=CANARY, enabled=False))
    )
    with pytest.raises(SecretDisabled) as info:
        provider.get("db")
    assert_no_leak(info.value, CANARY)


def test_an_answer_without_a_value_is_an_error_not_empty_with_fake_transport() -> None:
    provider, fake, host = _provider([])
    fake.answers.append(Answer("GET", "/secrets/db/?", body=_bundle(host, "db", value=None)))
    with pytest.raises(ProviderError) as info:
        provider.get("db")
    assert type(info.value) is ProviderError
    assert "without a value" in str(info.value)


def test_expired_and_not_yet_valid_are_errors_with_fake_transport() -> None:
    now = int(time.time())
    provider, fake, host = _provider([])
    fake.answers += [
        Answer("GET", "/secrets/old/?", body=_bundle(host, "old", value=CANARY, exp=now - 60)),
        Answer("GET", "/secrets/new/?", body=_bundle(host, "new", value=CANARY, nbf=now + 3600)),
    ]
    with pytest.raises(SecretExpired) as expired:
        provider.get("old")
    assert expired.value.expires_at == datetime.fromtimestamp(now - 60, timezone.utc)
    assert not isinstance(expired.value, SecretNotFound)
    with pytest.raises(SecretNotYetValid) as early:
        provider.get("new")
    assert early.value.not_before == datetime.fromtimestamp(now + 3600, timezone.utc)
    for error in (expired.value, early.value):
        assert_no_leak(error, CANARY)


def test_validity_not_enforced_when_disabled_by_option_with_fake_transport() -> None:
    now = int(time.time())
    provider, fake, host = _provider([], enforce_validity=False)
    fake.answers.append(
        Answer("GET", "/secrets/old/?", body=_bundle(host, "old", value="v", exp=now - 60))
    )
    secret = provider.get("old")
    assert secret.reveal() == "v"
    assert secret.expired(datetime.now(timezone.utc))


def test_set_sends_value_tags_content_type_and_dates_with_fake_transport() -> None:
    provider, fake, host = _provider([], name_encoding="escape")
    expires = datetime(2031, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    fake.answers.append(
        Answer(
            "PUT",
            "/secrets/app-d-api-u-key",
            body=_bundle(
                host,
                "app-d-api-u-key",
                version="c" * 32,
                exp=int(expires.timestamp()),
                tags={f"{META_TAG_PREFIX}owner": "team-a", "env": "prod", WRITTEN_TAG: "7"},
                content_type="application/json",
            ),
        )
    )
    version = provider.set(
        "app.api_key",
        '{"k": 1}',
        metadata={
            "owner": "team-a",
            "content_type": "application/json",
            "not_before": "2030-01-01T00:00:00+00:00",
        },
        tags={"env": "prod"},
        expires_at=expires,
    )
    sent = json.loads(fake.seen[-1].body)
    assert sent["value"] == '{"k": 1}'
    assert sent["contentType"] == "application/json"
    assert sent["tags"]["env"] == "prod"
    assert sent["tags"][f"{META_TAG_PREFIX}owner"] == "team-a"
    assert sent["tags"][WRITTEN_TAG].isdigit()
    assert sent["attributes"]["exp"] == int(expires.timestamp())
    assert sent["attributes"]["nbf"] == int(datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp())
    assert version.current
    assert version.version == "c" * 32
    assert version.name == "app.api_key"
    assert version.tags == {"env": "prod"}
    assert version.metadata["owner"] == "team-a"
    assert version.expires_at == expires


def test_write_to_a_soft_deleted_name_is_a_conflict_with_fake_transport(
    all_logs: pytest.LogCaptureFixture,
) -> None:
    body = _kv_error(
        "Conflict",
        "Secret db is currently in a deleted but recoverable state, and its name cannot be "
        "reused; in this state, the secret can only be recovered or purged.",
    )
    provider, _, _ = _provider([Answer("PUT", "/secrets/db", 409, body)])
    with pytest.raises(Conflict) as info:
        provider.set("db", CANARY)
    message = str(info.value)
    assert "recover" in message
    assert "purge" in message
    assert_no_leak(info.value, CANARY)
    assert CANARY not in all_logs.text


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidSecret),
        (401, Unauthenticated),
        (403, AccessDenied),
        (429, ProviderUnavailable),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (418, ProviderError),
    ],
)
def test_write_errors_are_typed_and_leak_nothing_with_fake_transport(
    status: int, error: type[ProviderError], all_logs: pytest.LogCaptureFixture
) -> None:
    body = _kv_error("SomeCode", "Key Vault says no.")
    answers = [Answer("PUT", "/secrets/db", status, body)]
    if status == 401:
        answers[0].headers["WWW-Authenticate"] = _CHALLENGE
    provider, _, _ = _provider(answers)
    with pytest.raises(error) as info:
        provider.set("db", CANARY)
    assert type(info.value) is error
    assert f"HTTP {status}" in str(info.value)
    # no message, chain or frame holds the value or the bearer token
    assert_no_leak(info.value, CANARY, FAKE_TOKEN)
    assert CANARY not in all_logs.text


def test_credential_failure_is_access_denied_with_fake_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A real azure-identity credential with nothing configured: it cannot get a token.
    for variable in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME"):
        monkeypatch.delenv(variable, raising=False)
    provider, _, _ = _provider([], credential=EnvironmentCredential())
    with pytest.raises(AccessDenied) as info:
        provider.set("db", CANARY)
    assert isinstance(info.value, Unauthenticated)
    assert "CredentialUnavailableError" in str(info.value)
    assert info.value.__context__ is None
    assert info.value.original is not None  # shown by --debug: the credential chain
    assert_no_leak(info.value, CANARY)
    health = provider.health()
    assert health.status is HealthStatus.UNAUTHENTICATED


def test_versions_newest_first_within_one_second_with_fake_transport() -> None:
    provider, fake, host = _provider([])
    items = [
        _bundle(host, "db", value=None, version=v, created=created, tags=tags)
        for v, created, tags in (
            ("b" * 32, 1_700_000_000, {WRITTEN_TAG: "300"}),
            ("a" * 32, 1_700_000_000, {WRITTEN_TAG: "100"}),
            ("d" * 32, 1_700_000_001, {}),
            ("c" * 32, 1_700_000_000, {WRITTEN_TAG: "200"}),
        )
    ]
    items[2]["attributes"]["enabled"] = False
    fake.answers.append(Answer("GET", "/secrets/db/versions", body={"value": items}))
    versions = provider.versions("db")
    assert [v.version for v in versions] == ["d" * 32, "b" * 32, "c" * 32, "a" * 32]
    assert [v.current for v in versions] == [True, False, False, False]
    assert versions[0].metadata["enabled"] == "false"
    assert versions[1].metadata["enabled"] == "true"
    assert all(v.name == "db" for v in versions)


def test_versions_of_a_missing_secret_with_fake_transport() -> None:
    not_found = _kv_error("SecretNotFound", "A secret with (name/id) db was not found.")
    provider, _, _ = _provider(
        [
            Answer("GET", "/secrets/db/versions", body={"value": []}),
            Answer("GET", "/secrets/db/versions", 404, not_found),
        ]
    )
    for _ in range(2):
        with pytest.raises(SecretNotFound):
            provider.versions("db")


def test_list_decodes_pages_sorts_and_skips_foreign_names_with_fake_transport(
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider, fake, host = _provider([], name_encoding="escape")
    page_two = f"https://{host}/secrets?api-version=7.4&$skiptoken=two"

    def items(*names: str) -> list[dict[str, Any]]:
        return [
            {"id": f"https://{host}/secrets/{n}", "attributes": {"enabled": True}} for n in names
        ]

    fake.answers += [
        Answer(
            "GET",
            "/secrets",
            body={"value": items("db-s-user", "legacy-password"), "nextLink": page_two},
        ),
        Answer("GET", "/secrets", body={"value": items("App-S-Token", "db-s-password", "other")}),
    ]
    caplog.set_level(logging.WARNING, logger="secretwire.providers.azure")
    assert list(provider.list("db/")) == ["db/password", "db/user"]
    assert "skiptoken=two" in fake.seen[1].query
    assert "legacy-password" in caplog.text

    fake.answers.append(Answer("GET", "/secrets", body={"value": items("App-S-Token", "other")}))
    assert list(provider.list()) == ["app/token", "other"]


def test_delete_waits_for_the_soft_delete_then_purges_with_fake_transport() -> None:
    provider, fake, host = _provider([], purge_on_delete=True)
    deleted = {
        **_bundle(host, "db", value=None),
        "recoveryId": f"https://{host}/deletedsecrets/db",
        "deletedDate": 1_700_000_100,
        "scheduledPurgeDate": 1_707_776_100,
    }
    not_yet = _kv_error("SecretNotFound", "Deleted Secret not found")
    fake.answers += [
        Answer("DELETE", "/secrets/db", body=deleted),
        Answer("GET", "/deletedsecrets/db", 404, not_yet),  # deletion still in progress
        Answer("GET", "/deletedsecrets/db", body=deleted),
        Answer("DELETE", "/deletedsecrets/db", 204),
    ]
    provider._poll_interval = 0.01
    provider.delete("db")
    assert [(s.method, s.path) for s in fake.seen] == [
        ("DELETE", "/secrets/db"),
        ("GET", "/deletedsecrets/db"),
        ("GET", "/deletedsecrets/db"),
        ("DELETE", "/deletedsecrets/db"),
    ]
    assert not fake.answers


def test_delete_of_a_missing_secret_is_not_found_with_fake_transport() -> None:
    body = _kv_error("SecretNotFound", "A secret with (name/id) db was not found.")
    provider, _, _ = _provider([Answer("DELETE", "/secrets/db", 404, body)])
    with pytest.raises(SecretNotFound):
        provider.delete("db")


def test_recover_waits_until_the_secret_is_back_with_fake_transport() -> None:
    provider, fake, host = _provider([])
    provider._poll_interval = 0.01
    not_yet = _kv_error("SecretNotFound", "A secret with (name/id) db was not found.")
    fake.answers += [
        Answer("POST", "/deletedsecrets/db/recover", body=_bundle(host, "db", value=None)),
        Answer("GET", "/secrets/db/?", 404, not_yet),
        Answer("GET", "/secrets/db/?", body=_bundle(host, "db", value="v")),
    ]
    provider.recover("db")
    assert not fake.answers


def test_purge_and_recover_of_unknown_names_with_fake_transport() -> None:
    body = _kv_error("SecretNotFound", "Deleted Secret not found")
    provider, _, _ = _provider(
        [
            Answer("DELETE", "/deletedsecrets/db", 404, body),
            Answer("POST", "/deletedsecrets/db/recover", 404, body),
        ]
    )
    with pytest.raises(SecretNotFound):
        provider.purge("db")
    with pytest.raises(SecretNotFound):
        provider.recover("db")


def test_deleted_lists_soft_deleted_names_with_fake_transport() -> None:
    provider, fake, host = _provider([], name_encoding="escape")
    fake.answers.append(
        Answer(
            "GET",
            "/deletedsecrets",
            body={
                "value": [
                    {
                        "id": f"https://{host}/secrets/db-s-password",
                        "recoveryId": f"https://{host}/deletedsecrets/db-s-password",
                        "attributes": {"enabled": True},
                    }
                ]
            },
        )
    )
    assert list(provider.deleted()) == ["db/password"]


def test_health_with_fake_transport() -> None:
    not_found = _kv_error("SecretNotFound", "A secret with (name/id) probe was not found.")
    denied = _kv_error("Forbidden", "Caller is not authorized.", "ForbiddenByRbac")
    provider, _, _ = _provider(
        [
            Answer("GET", "/secrets/secretwire-health-probe/?", 404, not_found),
            Answer("GET", "/secrets/secretwire-health-probe/?", 403, denied),
        ]
    )
    ok = provider.health()
    assert ok.ok, ok.detail
    assert ok.latency_seconds is None  # the manager's pipeline times health checks
    refused = provider.health()
    assert refused.status is HealthStatus.UNAUTHENTICATED
    assert "ForbiddenByRbac" in refused.detail


def test_interop_names_written_by_a_raw_client_with_fake_transport() -> None:
    # What a raw SecretClient writes as "db-s-password" is secretwire's "db/password",
    # and what secretwire writes as "db/password" a raw client reads as "db-s-password".
    provider, fake, host = _provider([], name_encoding="escape")
    fake.answers += [
        Answer("PUT", "/secrets/db-s-password", body=_bundle(host, "db-s-password")),
        Answer("GET", "/secrets/db-s-password/?", body=_bundle(host, "db-s-password")),
    ]
    provider.set("db/password", "v")
    assert fake.seen[-1].path == "/secrets/db-s-password"
    assert provider.get("db/password").name == "db/password"


# -- names: verbatim by default (issue 8, item 18) ---------------------------------------------


def test_names_other_tools_wrote_are_read_as_they_are_by_default_with_fake_transport() -> None:
    """A secret the SDK, the portal or Terraform created as ``interop-1234`` is
    ``${secret:interop-1234}`` (the old default looked for ``interop--1234``)."""
    provider, fake, host = _provider([])
    fake.answers += [
        Answer("GET", "/secrets/interop-1234/?", body=_bundle(host, "interop-1234", value="v1")),
        Answer("PUT", "/secrets/interop-1234", body=_bundle(host, "interop-1234")),
        Answer(
            "GET",
            "/secrets",
            body={
                "value": [
                    {"id": f"https://{host}/secrets/{name}", "attributes": {"enabled": True}}
                    for name in ("interop-1234", "Db-Password")
                ]
            },
        ),
    ]
    with SecretManager(provider) as manager:
        resolved = manager.resolve({"x": "${secret:interop-1234:-a default}"})
        assert resolved == {"x": "v1"}
        manager.set("interop-1234", "v2")
        assert list(manager.list()) == ["Db-Password", "interop-1234"]
    assert [seen.path for seen in fake.seen] == [
        "/secrets/interop-1234/",
        "/secrets/interop-1234",
        "/secrets",
    ]


def test_names_key_vault_cannot_hold_are_invalid_with_a_hint_with_fake_transport() -> None:
    provider, fake, _ = _provider([])
    for name in ("db/password", "app.api_key", "a_b", "x" * 128, "clé"):
        with pytest.raises(InvalidSecret, match="name_encoding: escape"):
            provider.get(name)
    with SecretManager(provider) as manager, pytest.raises(ResolutionError) as info:
        manager.resolve({"x": "${secret:db/password:-a default}"})  # never the default
    assert isinstance(info.value.failures[0].error, InvalidSecret)
    assert fake.seen == []  # refused before any call


def test_settings_default_to_verbatim_and_escape_stays_available(tmp_path: Path) -> None:
    options = {"vault_url": "https://myvault.vault.azure.net", "credential": "managed_identity"}
    default = AzureKeyVaultProvider.from_options(options, base_dir=tmp_path)
    assert default.vault_name("interop-1234") == "interop-1234"
    escape = AzureKeyVaultProvider.from_options(
        {**options, "name_encoding": "escape"}, base_dir=tmp_path
    )
    assert escape.vault_name("db/password") == "db-s-password"
    for provider in (default, escape):
        provider.close()


# -- no value, client secret or option from a secret shown (issue 8, items 2 and 5) -----------


@pytest.mark.parametrize(
    "url",
    [
        f"https://myvault.vault.azure.net/?token={CANARY}",
        f"https://myvault.vault.azure.net/#{CANARY}",
        f"https://{CANARY}:pw@myvault.vault.azure.net",
        f"http://myvault.vault.azure.net/{CANARY}",
    ],
)
def test_a_vault_url_that_may_carry_a_credential_is_refused_unechoed(
    url: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as info:
        AzureKeyVaultProvider(url, credential=FakeCredential())
    assert info.value.key == "vault_url"
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigError) as from_settings:
        AzureKeyVaultProvider.from_options(
            {"vault_url": url, "credential": "managed_identity"}, base_dir=tmp_path
        )
    assert CANARY not in str(from_settings.value)


def test_a_ready_client_url_is_shown_without_credentials() -> None:
    client = SecretClient(f"https://myvault.vault.azure.net/?sig={CANARY}", FakeCredential())
    provider = AzureKeyVaultProvider(client=client)
    assert CANARY not in repr(provider)
    provider.close()


def test_a_client_secret_given_instead_of_a_variable_name_is_not_echoed(tmp_path: Path) -> None:
    options = {
        "credential": "client_secret",
        "tenant_id": "tenant",
        "client_id": "client",
        "client_secret_env": f"Xy7~{CANARY}",
    }
    with pytest.raises(ConfigError, match="must name an environment variable") as info:
        _credential_of(options, tmp_path)
    assert info.value.key == "client_secret_env"
    assert CANARY not in str(info.value)


def test_an_invalid_tenant_is_a_config_error_holding_no_client_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWTEST_AZURE_SECRET", CANARY)
    options = {
        "credential": "client_secret",
        "tenant_id": "not a tenant!",
        "client_id": "client",
        "client_secret_env": "SWTEST_AZURE_SECRET",
    }
    with pytest.raises(ConfigError, match="tenant_id") as info:
        _credential_of(options, tmp_path)
    assert_no_leak(info.value, CANARY)


def test_options_from_a_secret_are_used_but_never_shown_with_fake_transport(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    hidden_url = f"https://127.0.0.1:{port}"
    provider = AzureKeyVaultProvider(
        SecretValue(hidden_url), credential=FakeCredential(), retries=0, timeout=5
    )
    with pytest.raises(ProviderUnavailable) as info:
        provider.get("db")
    health = provider.health()
    for text in (str(info.value), health.detail, repr(provider)):
        assert str(port) not in text
    provider.close()
    monkeypatch.delenv("SWTEST_HIDDEN_VARIABLE", raising=False)
    with pytest.raises(ConfigError, match="<from a secret> is not set") as unset:
        _credential_of(
            {
                "credential": "client_secret",
                "tenant_id": SecretValue("tenant"),
                "client_id": SecretValue("client"),
                "client_secret_env": SecretValue("SWTEST_HIDDEN_VARIABLE"),
            },
            tmp_path,
        )
    assert "SWTEST_HIDDEN_VARIABLE" not in str(unset.value)


# -- on the provider kit (issue 9) --------------------------------------------------------------


def test_the_option_declaration_matches_the_constructor() -> None:
    check_options(AzureKeyVaultProvider)


def test_poll_interval_is_a_settings_option(tmp_path: Path) -> None:
    """The constructor took ``poll_interval``; the settings file could not set it."""
    options = {"vault_url": "https://myvault.vault.azure.net", "credential": "managed_identity"}
    provider = AzureKeyVaultProvider.from_options(
        {**options, "poll_interval": 0.25}, base_dir=tmp_path
    )
    assert provider._poll_interval == 0.25
    provider.close()
    for bad in (0, True, "1"):
        with pytest.raises(ConfigError) as info:
            AzureKeyVaultProvider.from_options({**options, "poll_interval": bad}, base_dir=tmp_path)
        assert info.value.key == "poll_interval"


def test_validity_is_enforced_by_the_kit_with_its_clock_with_fake_transport() -> None:
    """The base class enforces not_before / expires_on with ``secretwire._time``'s clock
    (the provider reports both on the Secret), so a test clock decides, not the wall."""
    clock = FakeClock()  # starts at 2030-01-01, long after the wall clock's now
    start = int(clock.utcnow().timestamp())
    provider, fake, host = _provider([])
    body = _bundle(host, "db", value=CANARY, nbf=start + 100, exp=start + 200)
    fake.answers += [Answer("GET", "/secrets/db/?", body=body) for _ in range(3)]
    with clock.installed():
        with pytest.raises(SecretNotYetValid) as early:
            provider.get("db")
        clock.advance(150)
        secret = provider.get("db")
        assert secret.not_before == datetime.fromtimestamp(start + 100, timezone.utc)
        assert secret.reveal() == CANARY
        clock.advance(50)
        with pytest.raises(SecretExpired) as late:
            provider.get("db")
    for error in (early.value, late.value):
        assert_no_leak(error, CANARY)


def test_a_client_secret_may_be_given_directly_and_is_never_shown(tmp_path: Path) -> None:
    base = {"credential": "client_secret", "tenant_id": "tenant", "client_id": "client"}
    credential = _credential_of({**base, "client_secret": CANARY}, tmp_path)
    assert isinstance(credential, ClientSecretCredential)
    # As from a bootstrap secret (a SecretValue): not in any message, chain or frame.
    hidden = SecretValue(CANARY)
    with pytest.raises(ConfigError, match="give only one of") as info:
        _credential_of({**base, "client_secret": hidden, "client_secret_file": "x"}, tmp_path)
    assert_no_leak(info.value, CANARY)
    with pytest.raises(ConfigError, match="only used with credential: client_secret") as info:
        _credential_of({"client_secret": hidden}, tmp_path)
    assert info.value.key == "client_secret"
    assert_no_leak(info.value, CANARY)
    with pytest.raises(ConfigError) as info:  # given plainly: not in the error's texts
        _credential_of({"client_secret": CANARY}, tmp_path)
    assert not any(CANARY in text for text in error_texts(info.value))


def test_python_callers_may_name_the_kind_of_credential() -> None:
    provider = AzureKeyVaultProvider(
        "https://myvault.vault.azure.net",
        credential="managed_identity",
        client_id="00000000-0000-0000-0000-000000000001",
    )
    assert isinstance(provider._client._client._config.credential, ManagedIdentityCredential)
    provider.close()
    with pytest.raises(ConfigError) as info:
        AzureKeyVaultProvider(
            "https://myvault.vault.azure.net", credential=FakeCredential(), tenant_id="t"
        )
    assert info.value.key == "credential"


@contextlib.contextmanager
def _tcp_server(reply: bytes | None) -> Iterator[int]:
    """A real loopback TCP server that accepts connections and sends ``reply`` on each
    (``None``: never a byte). Yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:  # the accept timeout: look at stop again
                continue
            accepted.append(conn)
            if reply is not None:
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()


@pytest.mark.parametrize(
    ("reply", "reason"),
    [(None, "no complete answer from Key Vault: timed out"), (b"HTTP/1.1 200 OK\r\n\r\n", "TLS")],
)
def test_a_server_that_does_not_answer_in_tls_is_unavailable_and_says_why(
    reply: bytes | None, reason: str
) -> None:
    with _tcp_server(reply) as port:
        provider = AzureKeyVaultProvider(
            f"https://127.0.0.1:{port}", credential=FakeCredential(), retries=0, timeout=1
        )
        with pytest.raises(ProviderUnavailable, match=reason) as info:
            provider.get("db")
        provider.close()
    assert info.value.__context__ is None
