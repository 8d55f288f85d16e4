"""Outcomes moto cannot produce, from a fake Secrets Manager server on loopback.

The fake server speaks the AWS JSON protocol over real HTTP, so the provider's real
boto3 client, its retry handler, its timeouts and its response parser all run; only
the answers are scripted. When the script runs out, requests are forwarded to the
real moto server. Every test here is named ``..._with_fake_server``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from secretwire import (
    AccessDenied,
    Conflict,
    DecryptionFailed,
    HealthStatus,
    InvalidSecret,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    Unauthenticated,
)
from secretwire.providers.aws import AwsSecretsManagerProvider
from secretwire.testing import CANARY
from tests.servers.moto import REGION, fake_session


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    delay: float = 0.0
    raw: bytes | None = None


def error(code: str, status: int = 400, message: str = "") -> Reply:
    # AWS error messages may echo request data: every scripted one carries the canary.
    return Reply(status, {"__type": code, "message": f"{message} {CANARY}".strip()})


@dataclass
class FakeAws:
    upstream: str
    url: str = ""
    script: list[Reply] = field(default_factory=list)
    #: (operation, request body) of every request received
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def operations(self) -> list[str]:
        return [op for op, _ in self.seen]


def _handler(fake: FakeAws) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
            with fake.lock:
                fake.seen.append((operation, json.loads(body or b"{}")))
                reply = fake.script.pop(0) if fake.script else None
            if reply is None:
                self._forward(body)
                return
            if reply.delay:
                time.sleep(reply.delay)
            data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                content_type = (
                    "text/html" if reply.raw is not None else "application/x-amz-json-1.1"
                )
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (read timeout)

        def _forward(self, body: bytes) -> None:
            host = fake.upstream.removeprefix("http://")
            connection = http.client.HTTPConnection(host, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            connection.request("POST", self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in ("content-length", "connection", "server", "date"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            connection.close()

    return Handler


@pytest.fixture
def fake(moto_server: str) -> Iterator[FakeAws]:
    state = FakeAws(upstream=moto_server)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _provider(fake: FakeAws, **options: Any) -> AwsSecretsManagerProvider:
    return AwsSecretsManagerProvider(
        endpoint_url=fake.url, region=REGION, session=fake_session(), **options
    )


def _seed(moto_server: str, name: str, value: str) -> None:
    client = fake_session().client("secretsmanager", endpoint_url=moto_server)
    client.create_secret(Name=name, SecretString=value)


def _clean(err: BaseException) -> None:
    assert CANARY not in str(err)
    assert CANARY not in repr(err.args)
    assert err.__cause__ is None
    assert err.__context__ is None


# -- retries -----------------------------------------------------------------------------------


def test_throttling_is_retried_then_succeeds_with_fake_server(
    fake: FakeAws, moto_server: str, ns: str
) -> None:
    _seed(moto_server, f"{ns}/t", "through")
    fake.script = [error("ThrottlingException"), error("ThrottlingException")]
    provider = _provider(fake, max_attempts=3)
    assert provider.get(f"{ns}/t").reveal() == "through"
    assert fake.operations() == ["GetSecretValue"] * 3


def test_throttling_gives_up_after_max_attempts_with_fake_server(fake: FakeAws, ns: str) -> None:
    fake.script = [error("ThrottlingException") for _ in range(10)]
    provider = _provider(fake, max_attempts=2)
    with pytest.raises(ProviderUnavailable) as info:
        provider.get(f"{ns}/t")
    assert "ThrottlingException" in str(info.value)
    assert fake.operations() == ["GetSecretValue"] * 2
    _clean(info.value)


def test_adaptive_mode_retries_too_with_fake_server(
    fake: FakeAws, moto_server: str, ns: str
) -> None:
    _seed(moto_server, f"{ns}/a", "adaptive")
    fake.script = [error("ThrottlingException")]
    provider = _provider(fake, max_attempts=2, retry_mode="adaptive")
    assert provider.get(f"{ns}/a").reveal() == "adaptive"
    assert len(fake.seen) == 2


def test_server_errors_are_retried_with_fake_server(
    fake: FakeAws, moto_server: str, ns: str
) -> None:
    _seed(moto_server, f"{ns}/s", "after 500")
    fake.script = [error("InternalServiceError", status=500)]
    provider = _provider(fake, max_attempts=2)
    assert provider.get(f"{ns}/s").reveal() == "after 500"
    assert len(fake.seen) == 2


def test_html_503_is_unavailable_with_fake_server(fake: FakeAws, ns: str) -> None:
    page = b"<html><body><b>Http/1.1 Service Unavailable</b></body></html>"
    fake.script = [Reply(503, raw=page) for _ in range(3)]
    provider = _provider(fake, max_attempts=3)
    with pytest.raises(ProviderUnavailable) as info:
        provider.get(f"{ns}/x")
    assert not isinstance(info.value, SecretNotFound)
    assert len(fake.seen) == 3


def test_html_404_is_unavailable_not_missing_with_fake_server(fake: FakeAws, ns: str) -> None:
    """A 404 without a Secrets Manager error (a proxy, a wrong endpoint_url) is not
    ResourceNotFoundException: never "not found", so a default cannot hide it."""
    page = b"<html><body><h1>404 Not Found</h1></body></html>"
    fake.script = [Reply(404, raw=page) for _ in range(4)]
    provider = _provider(fake, max_attempts=1)
    for attempt in (
        lambda: provider.get(f"{ns}/x"),
        lambda: provider.versions(f"{ns}/x"),
        lambda: provider.delete(f"{ns}/x"),
    ):
        with pytest.raises(ProviderUnavailable) as info:
            attempt()
        assert not isinstance(info.value, SecretNotFound)
        assert "endpoint_url" in str(info.value)
        _clean(info.value)
    with pytest.raises(ProviderUnavailable):  # the whole batch call failed
        provider.get_many([(f"{ns}/a", None), (f"{ns}/b", None)])


def test_read_timeout_is_unavailable_with_fake_server(fake: FakeAws, ns: str) -> None:
    fake.script = [Reply(200, {}, delay=2.0)]
    provider = _provider(fake, max_attempts=1, read_timeout=0.3)
    with pytest.raises(ProviderUnavailable) as info:
        provider.get(f"{ns}/slow")
    assert "timed out" in str(info.value)
    _clean(info.value)


# -- error mapping -------------------------------------------------------------------------------

_MARKED = "You can't perform this operation on the secret because it was marked for deletion."


@pytest.mark.parametrize(
    ("script", "operation", "expected", "words"),
    [
        ([error("DecryptionFailure")], "get", DecryptionFailed, "KMS key"),
        ([error("AccessDeniedException")], "get", AccessDenied, "not allowed"),
        ([error("ExpiredTokenException")], "get", Unauthenticated, "credentials rejected"),
        ([error("UnrecognizedClientException")], "get", Unauthenticated, "credentials rejected"),
        ([error("InvalidRequestException", message=_MARKED)], "get", SecretNotFound, "scheduled"),
        ([error("InvalidRequestException", message=_MARKED)], "set", Conflict, "restore it"),
        (
            [error("ResourceNotFoundException"), error("InvalidRequestException", message=_MARKED)],
            "set",
            Conflict,
            "scheduled for deletion",
        ),
        ([error("ResourceNotFoundException")], "versions", SecretNotFound, "not found"),
        ([error("InvalidRequestException", message="bad state")], "set", Conflict, "state"),
        ([error("LimitExceededException")], "set", InvalidSecret, "LimitExceeded"),
        ([error("ValidationException", message="Value at 'x'")], "set", InvalidSecret, "invalid"),
        ([error("InvalidParameterException")], "set", InvalidSecret, "invalid"),
        ([error("EncryptionFailure")], "set", AccessDenied, "KMS key"),
        ([error("InternalServiceError", status=500)], "get", ProviderUnavailable, "unavailable"),
        ([error("SomethingNewException")], "get", ProviderError, "SomethingNewException"),
    ],
)
def test_error_codes_map_to_types_with_fake_server(
    fake: FakeAws,
    ns: str,
    script: list[Reply],
    operation: str,
    expected: type[ProviderError],
    words: str,
) -> None:
    fake.script = list(script)
    provider = _provider(fake, max_attempts=1)
    name = f"{ns}/e"
    calls: dict[str, Callable[[], object]] = {
        "get": lambda: provider.get(name),
        "set": lambda: provider.set(name, CANARY),
        "versions": lambda: provider.versions(name),
    }
    with pytest.raises(ProviderError) as info:
        calls[operation]()
    assert type(info.value) is expected
    assert words in str(info.value)
    assert info.value.name == name
    _clean(info.value)
    if expected is DecryptionFailed:
        assert isinstance(info.value, PermissionError)
        assert not isinstance(info.value, LookupError)


def test_batch_errors_map_per_name_with_fake_server(fake: FakeAws, ns: str) -> None:
    now = time.time()
    fake.script = [
        Reply(
            200,
            {
                "SecretValues": [
                    {
                        "Name": f"{ns}/a",
                        "VersionId": "v" * 36,
                        "SecretString": "A",
                        "CreatedDate": now,
                    }
                ],
                "NextToken": "page-2",
            },
        ),
        Reply(
            200,
            {
                "SecretValues": [{"Name": f"{ns}/b", "VersionId": "w" * 36, "SecretString": "B"}],
                "Errors": [
                    {"SecretId": f"{ns}/c", "ErrorCode": "DecryptionFailure", "Message": CANARY},
                    {"SecretId": f"{ns}/d", "ErrorCode": "ResourceNotFoundException"},
                    {"SecretId": f"{ns}/e", "ErrorCode": "AccessDeniedException"},
                ],
            },
        ),
    ]
    provider = _provider(fake)
    names = [f"{ns}/{x}" for x in "abcdef"]
    results = provider.get_many([(n, None) for n in names])
    assert fake.operations() == ["BatchGetSecretValue", "BatchGetSecretValue"]
    assert fake.seen[1][1]["NextToken"] == "page-2"
    assert fake.seen[1][1]["SecretIdList"] == names
    a, b = results[(f"{ns}/a", None)], results[(f"{ns}/b", None)]
    assert not isinstance(a, ProviderError) and a.reveal() == "A"
    assert not isinstance(b, ProviderError) and b.reveal() == "B"
    assert type(results[(f"{ns}/c", None)]) is DecryptionFailed
    assert type(results[(f"{ns}/d", None)]) is SecretNotFound
    assert type(results[(f"{ns}/e", None)]) is AccessDenied
    # neither a value nor an error for f: reported, never taken as "not found"
    assert type(results[(f"{ns}/f", None)]) is ProviderError
    for result in results.values():
        if isinstance(result, ProviderError):
            _clean(result)


def test_batch_outage_is_raised_for_the_whole_batch_with_fake_server(
    fake: FakeAws, ns: str
) -> None:
    fake.script = [error("ServiceUnavailable", status=503)]
    provider = _provider(fake, max_attempts=1)
    with pytest.raises(ProviderUnavailable):
        provider.get_many([(f"{ns}/a", None), (f"{ns}/b", None)])


def test_rejected_credentials_on_a_batch_call_keep_batching_on_with_fake_server(
    fake: FakeAws, moto_server: str, ns: str
) -> None:
    """Expired credentials fail the batch call as they would fail every call: the
    error is raised for the whole batch (not read again one by one) and the next
    batch still uses BatchGetSecretValue. A denied batch call turns batching off."""
    _seed(moto_server, f"{ns}/a", "A")
    keys: list[tuple[str, str | None]] = [(f"{ns}/a", None)]
    fake.script = [error("ExpiredTokenException")]
    provider = _provider(fake, max_attempts=1)
    with pytest.raises(Unauthenticated) as info:
        provider.get_many(keys)
    _clean(info.value)
    found = provider.get_many(keys)[(f"{ns}/a", None)]
    assert not isinstance(found, ProviderError) and found.reveal() == "A"
    assert fake.operations() == ["BatchGetSecretValue"] * 2
    fake.script = [error("AccessDeniedException")]
    assert provider.get_many(keys) == {}  # left to the pipeline's single reads
    assert provider.get_many(keys) == {}
    assert fake.operations() == ["BatchGetSecretValue"] * 3


def test_a_create_race_adds_a_version_with_fake_server(
    fake: FakeAws, moto_server: str, ns: str
) -> None:
    """PutSecretValue says the secret is missing, CreateSecret that another writer
    made it meanwhile (ResourceExistsException, the error's code): put again."""
    name = f"{ns}/raced"
    _seed(moto_server, name, "the other writer's")
    fake.script = [error("ResourceNotFoundException"), error("ResourceExistsException")]
    written = _provider(fake, max_attempts=1).set(name, "ours")
    assert fake.operations() == ["PutSecretValue", "CreateSecret", "PutSecretValue"]
    client = fake_session().client("secretsmanager", endpoint_url=moto_server)
    current = client.get_secret_value(SecretId=name)
    assert (current["SecretString"], current["VersionId"]) == ("ours", written.version)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ExpiredTokenException", HealthStatus.UNAUTHENTICATED),
        ("AccessDeniedException", HealthStatus.DEGRADED),
        ("ThrottlingException", HealthStatus.UNAVAILABLE),
    ],
)
def test_health_follows_the_error_type_with_fake_server(
    fake: FakeAws, code: str, status: HealthStatus
) -> None:
    fake.script = [error(code)]
    health = _provider(fake, max_attempts=1).health()
    assert health.status is status
    assert code in health.detail and CANARY not in health.detail
    assert health.latency_seconds is None  # the manager's pipeline times it


def test_version_ids_are_paged_by_next_token_with_fake_server(fake: FakeAws, ns: str) -> None:
    name = f"{ns}/paged"
    fake.script = [
        Reply(
            200,
            {
                "Name": name,
                "Versions": [
                    {"VersionId": "a" * 36, "CreatedDate": 1_700_000_000, "VersionStages": []},
                    {
                        "VersionId": "c" * 36,
                        "CreatedDate": 1_700_000_200,
                        "VersionStages": ["AWSCURRENT"],
                    },
                ],
                "NextToken": "more",
            },
        ),
        Reply(
            200,
            {
                "Name": name,
                "Versions": [
                    {
                        "VersionId": "b" * 36,
                        "CreatedDate": 1_700_000_100,
                        "VersionStages": ["AWSPREVIOUS"],
                    }
                ],
            },
        ),
    ]
    versions = _provider(fake).versions(name)
    assert [v.version[0] for v in versions] == ["c", "b", "a"]
    assert [v.current for v in versions] == [True, False, False]
    assert fake.operations() == ["ListSecretVersionIds"] * 2
    assert "NextToken" not in fake.seen[0][1]
    assert fake.seen[1][1]["NextToken"] == "more"
    assert fake.seen[0][1]["IncludeDeprecated"] is True
