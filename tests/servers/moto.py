"""moto's server (``moto_server``): a real AWS Secrets Manager / IAM / STS emulator on loopback.

Two session-scoped servers:

* ``moto_server`` -- no authentication: any (fake) credentials are accepted. Tests
  hand the provider a ``boto3.Session`` with the fake keys below, so no
  ``AWS_*`` variable is set in the test process.
* ``moto_iam_server`` -- a second instance that authenticates and authorizes
  every request with its IAM (users, access keys, inline policies, roles and
  ``sts:AssumeRole``). The users and the role are created first, then
  ``POST /moto-api/reset-auth 0`` turns enforcement on for the rest of the session.
  moto evaluates policies per *action* only (the resource it checks is always
  ``*``), so restrictions are expressed by leaving actions out, not by denying
  one secret's ARN.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.servers.harness import ServerProcess, executable, free_port, running, start_server

#: Fake static credentials for the unauthenticated server; never real ones.
FAKE_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"
ACCOUNT = "123456789012"


def _ready(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/moto-api/", timeout=2) as response:  # noqa: S310
        return bool(response.status == 200)


def _start(name: str, port: int | None = None) -> ServerProcess:
    """Start a moto server (on ``port`` when given: a restart)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    return start_server(
        name,
        [executable("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        port=port,
        url=url,
        ready=lambda: _ready(url),
        # Keep the emulator from reading a developer's real AWS settings.
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )


def fake_session(**extra: str):  # type: ignore[no-untyped-def]
    """A boto3 session with the fake keys, for the unauthenticated server."""
    import boto3

    return boto3.Session(region_name=REGION, **FAKE_KEYS, **extra)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The URL of a running moto server that accepts any credentials."""
    with running("moto", lambda: _start("moto")) as server:
        yield server.url


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str

    def session(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.Session(
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )


@dataclass(frozen=True)
class MotoIam:
    """A moto server that enforces IAM, and the principals created on it."""

    url: str
    #: may do everything
    admin: Keys
    #: may list and describe secrets, but not read a value (GetSecretValue, Batch...)
    no_read: Keys
    #: may call GetSecretValue only (not BatchGetSecretValue)
    get_only: Keys
    #: may do nothing at all (not even sts:AssumeRole)
    nobody: Keys
    #: a role that may read and list (not write); admin may assume it
    reader_role_arn: str


def _policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(*actions: str) -> dict[str, object]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": "*"}


def _set_up_iam(url: str) -> MotoIam:
    import boto3

    iam = boto3.client("iam", endpoint_url=url, region_name=REGION, **FAKE_KEYS)

    def user(name: str, *statements: dict[str, object]) -> Keys:
        iam.create_user(UserName=name)
        if statements:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_policy(*statements))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Keys(key["AccessKeyId"], key["SecretAccessKey"])

    admin = user("admin", _allow("*"))
    no_read = user("no-read", _allow("secretsmanager:ListSecrets", "secretsmanager:DescribeSecret"))
    get_only = user("get-only", _allow("secretsmanager:GetSecretValue"))
    nobody = user("nobody")
    trust = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/admin"},
            "Action": "sts:AssumeRole",
        }
    )
    role = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(
        RoleName="reader",
        PolicyName="read",
        PolicyDocument=_policy(
            _allow(
                "secretsmanager:GetSecretValue",
                "secretsmanager:BatchGetSecretValue",
                "secretsmanager:ListSecrets",
            )
        ),
    )
    # From now on every request must be signed by one of these principals.
    request = urllib.request.Request(  # noqa: S310 - loopback URL built above
        f"{url}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
    return MotoIam(url, admin, no_read, get_only, nobody, role["Arn"])


@pytest.fixture(scope="session")
def moto_iam_server() -> Iterator[MotoIam]:
    """A second moto server that enforces IAM, with the principals of :class:`MotoIam`."""
    with running("moto-iam", lambda: _start("moto-iam")) as server:
        yield _set_up_iam(server.url)
