"""The Vault provider reads requests' environment settings (proxy variables,
``REQUESTS_CA_BUNDLE``) once, when it builds its session, instead of on every request
(requests' ``trust_env``: a sixth of an uncached read's CPU, see docs/performance.md).
These tests pin that the settings are still honoured, against a real OpenBao."""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse
from collections.abc import Iterator

import pytest

from secretwire.providers.vault import VaultProvider
from tests.servers.openbao import OpenBao

_PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY")
_BYPASS_VARIABLES = ("NO_PROXY", "no_proxy")


class _ForwardingProxy(http.server.ThreadingHTTPServer):
    """A real (tiny) forward HTTP proxy on loopback: it records each request line it
    is sent and forwards the request to the absolute URL in it."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(http.server.BaseHTTPRequestHandler):
    server: _ForwardingProxy
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")
        target = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        upstream = http.client.HTTPConnection(target.hostname or "", target.port, timeout=10)
        path = target.path + (f"?{target.query}" if target.query else "")
        upstream.request(self.command, path, body=body, headers=headers)
        reply = upstream.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_LIST = _forward  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: object) -> None:
        pass


def _round_trip(bao: OpenBao, name: str) -> None:
    """Store and read back one secret, with a provider built from the environment."""
    provider = VaultProvider(bao.url, token=bao.root_token)  # no proxy or ca_cert option
    try:
        provider.set(name, "round trip")
        assert provider.get(name).reveal() == "round trip"
    finally:
        provider.close()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[_ForwardingProxy]:
    for name in (*_PROXY_VARIABLES, *_BYPASS_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    server = _ForwardingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_proxy_variables_are_honoured(
    openbao_server: OpenBao, proxy: _ForwardingProxy, monkeypatch: pytest.MonkeyPatch, ns: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    _round_trip(openbao_server, f"{ns}/through-proxy")
    assert any(f"{openbao_server.url}/v1/" in line for line in proxy.seen), proxy.seen


def test_no_proxy_bypasses_the_proxy_for_vaults_host(
    openbao_server: OpenBao, proxy: _ForwardingProxy, monkeypatch: pytest.MonkeyPatch, ns: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    _round_trip(openbao_server, f"{ns}/direct")
    assert proxy.seen == []


def test_requests_ca_bundle_is_honoured(
    openbao_tls_server: OpenBao, monkeypatch: pytest.MonkeyPatch, ns: str
) -> None:
    bao = openbao_tls_server
    assert bao.ca_cert is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bao.ca_cert))
    _round_trip(bao, f"{ns}/bundle")
