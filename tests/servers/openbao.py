"""Real OpenBao dev servers (``bao server -dev``) on loopback, for the vault provider tests.

``openbao_server`` (session): plain HTTP, configured once with

* ``secret/`` KV v2 (the dev default) and ``kv1/`` KV v1;
* policies ``secretwire-rw`` (everything under both mounts) and ``restricted``
  (only ``public/`` under both mounts);
* AppRole at ``approle/`` with roles ``app`` (1 h tokens), ``renew`` (3 s
  renewable tokens, 1 h max) and ``short`` (2 s tokens, 2 s max: must log in again);
* JWT auth at ``jwt/`` and, with the same configuration, at ``kubernetes/`` (the
  Kubernetes method's login API is the same ``{role, jwt}`` POST), trusting a
  locally generated RSA key; role ``app`` wants audience ``secretwire-test``;
* a namespace ``swt-ns`` with its own KV v2 ``secret/`` mount.

``openbao_tls_server`` (session): ``-dev-tls`` (a generated CA in a temp folder)
with cert auth at ``cert/`` trusting a locally generated client CA (role ``app``).

``openbao(...)`` starts a dedicated server (for tests that seal, stop, hang or
restart it: :meth:`OpenBao.restart`).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.servers.harness import ServerProcess, executable, free_port, running, start_server

JWT_AUDIENCE = "secretwire-test"
NAMESPACE = "swt-ns"

RW_POLICY = """
path "secret/*" { capabilities = ["create", "read", "update", "delete", "list", "patch"] }
path "kv1/*" { capabilities = ["create", "read", "update", "delete", "list"] }
"""
RESTRICTED_POLICY = """
path "secret/data/public/*" { capabilities = ["read"] }
path "secret/metadata/public/*" { capabilities = ["read", "list"] }
path "kv1/public/*" { capabilities = ["read", "list"] }
"""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class OpenBao:
    """One running dev server and what the tests need to talk to it."""

    url: str
    root_token: str
    process: ServerProcess
    workdir: Path
    ca_cert: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- raw access (the "other client" of the interop tests) ------------------------
    def client(self, token: str | None = None, namespace: str | None = None) -> Any:
        import hvac

        return hvac.Client(
            url=self.url,
            token=token or self.root_token,
            verify=str(self.ca_cert) if self.ca_cert else True,
            namespace=namespace,
            timeout=10,
        )

    def api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        namespace: str | None = None,
    ) -> Any:
        """One raw API call as root; returns the parsed JSON body (or None)."""
        client = self.client(namespace=namespace)
        try:
            response = client.adapter.request(method, f"/v1/{path}", json=body)
        finally:
            client.adapter.close()
        if isinstance(response, dict):
            return response
        return response.json() if response.content else None

    def bao(
        self, *args: str, token: str | None = None, check: bool = True, namespace: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the ``bao`` CLI against this server."""
        env = {
            **os.environ,
            "BAO_ADDR": self.url,
            "BAO_TOKEN": token or self.root_token,
            "HOME": str(self.workdir),  # no token helper file in the real home
        }
        if self.ca_cert is not None:
            env["BAO_CACERT"] = str(self.ca_cert)
        if namespace is not None:
            env["BAO_NAMESPACE"] = namespace
        return subprocess.run(
            [executable("bao"), *args],
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def token(self, *policies: str, ttl: str = "1h") -> str:
        """A new token with these policies (and the default policy)."""
        body = {"policies": list(policies), "ttl": ttl}
        return str(self.api("POST", "auth/token/create", body)["auth"]["client_token"])

    def approle(self, role: str) -> tuple[str, str]:
        """(role_id, a fresh secret_id) for an AppRole role."""
        role_id = self.api("GET", f"auth/approle/role/{role}/role-id")["data"]["role_id"]
        secret_id = self.api("POST", f"auth/approle/role/{role}/secret-id", {})["data"]["secret_id"]
        return str(role_id), str(secret_id)

    def jwt(self, subject: str = "app", audience: str = JWT_AUDIENCE, lifetime: int = 300) -> str:
        """An RS256 JWT signed by the key the jwt/ and kubernetes/ mounts trust."""
        key: rsa.RSAPrivateKey = self.extra["jwt_key"]
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": "swt"}
        claims = {
            "iss": "secretwire-tests",
            "sub": subject,
            "aud": audience,
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + lifetime,
        }
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def seal(self) -> None:
        self.bao("operator", "seal")

    def restart(self) -> None:
        """Stop the server and start it again on the same port with the same root token,
        inside the same :class:`ServerProcess` (the fixture still stops it). A dev
        server keeps nothing in between: write again what the test needs."""
        assert self.ca_cert is None, "restart: plain HTTP dev servers only"
        self.process.stop()
        again, _, _ = _start(
            self.process.name,
            tls=False,
            workdir=self.workdir,
            port=self.process.port,
            root_token=self.root_token,
        )
        self.process.process = again.process


def _ready(url: str, ca_file: Path | None) -> bool:
    context = None
    if url.startswith("https://"):
        if ca_file is None or not ca_file.exists():
            return False
        context = ssl.create_default_context(cafile=str(ca_file))
    with urllib.request.urlopen(f"{url}/v1/sys/health", timeout=2, context=context) as reply:  # noqa: S310 - loopback
        return bool(reply.status == 200)


def _start(
    name: str,
    *,
    tls: bool,
    workdir: Path,
    port: int | None = None,
    root_token: str | None = None,
    config: str | None = None,
) -> tuple[ServerProcess, str, Path | None]:
    """Start a dev server (on ``port`` with ``root_token`` when given: a restart), with
    ``config`` (HCL: an audit device, say) added to the dev server's own."""
    port = port or free_port()
    root_token = root_token or f"root-{secrets.token_hex(12)}"
    command = [
        executable("bao"),
        "server",
        "-dev",
        f"-dev-root-token-id={root_token}",
        f"-dev-listen-address=127.0.0.1:{port}",
        "-dev-no-store-token",
    ]
    if config is not None:
        (workdir / "extra.hcl").write_text(config)
        command.append(f"-config={workdir / 'extra.hcl'}")
    ca_file: Path | None = None
    scheme = "http"
    if tls:
        cert_dir = Path(tempfile.mkdtemp(prefix="tls-", dir=workdir))
        command += ["-dev-tls", f"-dev-tls-cert-dir={cert_dir}"]
        ca_file = cert_dir / "vault-ca.pem"
        scheme = "https"
    url = f"{scheme}://127.0.0.1:{port}"
    process = start_server(
        name,
        command,
        port=port,
        url=url,
        ready=lambda: _ready(url, ca_file),
        env={"HOME": str(workdir), "BAO_ADDR": url},
        cwd=workdir,
    )
    return process, root_token, ca_file


@contextlib.contextmanager
def openbao(name: str, *, tls: bool = False, config: str | None = None) -> Iterator[OpenBao]:
    """A dedicated dev server, stopped (and its folder removed) on exit; ``config``:
    HCL added to its configuration (``{workdir}`` is replaced by its folder)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    started: dict[str, Any] = {}
    extra = None if config is None else config.replace("{workdir}", str(workdir))

    def starter() -> ServerProcess:
        process, token, ca_file = _start(name, tls=tls, workdir=workdir, config=extra)
        started.update(token=token, ca_file=ca_file)
        return process

    try:
        with running(name, starter) as process:
            yield OpenBao(process.url, started["token"], process, workdir, started["ca_file"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -- configuration ---------------------------------------------------------------------


def _configure(bao: OpenBao) -> None:
    bao.api("POST", "sys/mounts/kv1", {"type": "kv", "options": {"version": "1"}})
    bao.api("PUT", "sys/policies/acl/secretwire-rw", {"policy": RW_POLICY})
    bao.api("PUT", "sys/policies/acl/restricted", {"policy": RESTRICTED_POLICY})
    # AppRole
    bao.api("POST", "sys/auth/approle", {"type": "approle"})
    roles = {
        "app": {"token_ttl": "1h", "token_max_ttl": "4h"},
        "renew": {"token_ttl": "3s", "token_max_ttl": "1h"},
        "short": {"token_ttl": "2s", "token_max_ttl": "2s"},
    }
    for role, ttl in roles.items():
        body = {"token_policies": ["secretwire-rw"], **ttl}
        bao.api("POST", f"auth/approle/role/{role}", body)
    # JWT, and the same at kubernetes/ (same login API: POST {role, jwt})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    bao.extra["jwt_key"] = key
    for mount in ("jwt", "kubernetes"):
        bao.api("POST", f"sys/auth/{mount}", {"type": "jwt"})
        bao.api("POST", f"auth/{mount}/config", {"jwt_validation_pubkeys": [public_pem]})
        bao.api(
            "POST",
            f"auth/{mount}/role/app",
            {
                "role_type": "jwt",
                "bound_audiences": [JWT_AUDIENCE],
                "user_claim": "sub",
                "token_policies": ["secretwire-rw"],
                "token_ttl": "1h",
            },
        )
    # A namespace with its own KV v2 mount.
    bao.api("POST", f"sys/namespaces/{NAMESPACE}", {})
    bao.api(
        "POST",
        "sys/mounts/secret",
        {"type": "kv", "options": {"version": "2"}},
        namespace=NAMESPACE,
    )


def _certificate(
    common_name: str, key: ec.EllipticCurvePrivateKey, *, issuer: tuple[Any, Any] | None
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer_name, issuer_key = (subject, key) if issuer is None else issuer
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _configure_cert_auth(bao: OpenBao) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("secretwire test client CA", ca_key, issuer=None)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _certificate("secretwire-app", client_key, issuer=(ca.subject, ca_key))
    folder = bao.workdir / "client-tls"
    folder.mkdir()
    pem = serialization.Encoding.PEM
    (folder / "client.pem").write_bytes(client.public_bytes(pem))
    key_path = folder / "client-key.pem"
    key_path.write_bytes(
        client_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    bao.extra["client_cert"] = folder / "client.pem"
    bao.extra["client_key"] = key_path
    bao.api("POST", "sys/policies/acl/secretwire-rw", {"policy": RW_POLICY})
    bao.api("POST", "sys/auth/cert", {"type": "cert"})
    bao.api(
        "POST",
        "auth/cert/certs/app",
        {
            "certificate": ca.public_bytes(pem).decode("ascii"),
            "token_policies": ["secretwire-rw"],
            "token_ttl": "1h",
        },
    )


@pytest.fixture(scope="session")
def openbao_server() -> Iterator[OpenBao]:
    """A configured OpenBao dev server over HTTP (see the module docstring)."""
    with openbao("openbao") as bao:
        _configure(bao)
        yield bao


@pytest.fixture(scope="session")
def openbao_tls_server() -> Iterator[OpenBao]:
    """An OpenBao dev server over TLS (``-dev-tls``) with cert auth configured."""
    with openbao("openbao-tls", tls=True) as bao:
        _configure_cert_auth(bao)
        yield bao
