"""``policy export``: the backend enforces what the client checks.

Vault: the exported HCL is written to a real OpenBao server, a token is made with it,
and every operation on every probe name is tried with that token: the server allows
exactly what the client-side policy allows. AWS: moto's IAM-enforcing server accepts
the exported document (its policy validator) and enforces it where moto can (moto
evaluates every request against the resource ``*``, so only ``ListSecrets`` and
``BatchGetSecretValue``, the actions IAM authorizes on ``*``, can be checked there).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secretwire import AccessDenied, SecretNotFound
from secretwire.cli import main
from secretwire.governance import parse_policy
from secretwire.governance.export import export_iam, export_vault
from secretwire.providers.aws import AwsSecretsManagerProvider
from secretwire.providers.vault import VaultProvider
from tests.servers.moto import ACCOUNT, REGION, Keys, MotoIam
from tests.servers.openbao import OpenBao

RULES: dict[str, Any] = {
    "roles": {
        "app": {
            "allow": [
                {"operations": ["get", "list", "versions"], "names": ["{ns}/app/*"]},
                {"operations": ["set"], "names": ["{ns}/app/db", "{ns}/scratch/*"]},
                {"operations": ["get"], "names": ["{ns}/shared/+/key"]},
                {"operations": ["delete", "versions"], "names": ["{ns}/scratch/*"]},
            ],
            "deny": [{"operations": ["get"], "names": ["{ns}/app/admin/*"]}],
        },
        "getter": {"allow": [{"operations": ["get"], "names": ["{ns}/app/*"]}]},
    },
    "bindings": {"svc": ["app"]},
}
NAMES = [
    "app/db",
    "app/cache",
    "app/admin/root",
    "shared/one/key",
    "shared/one/other",
    "shared/a/b/key",
    "scratch/tmp",
    "other/x",
]


def policy_for(ns: str) -> Any:
    return parse_policy(json.loads(json.dumps(RULES).replace("{ns}", ns)))


def outcome(attempt: Any) -> bool:
    """True when the backend allowed the operation (not found is allowed: the
    backend answered about the secret instead of refusing)."""
    try:
        attempt()
    except SecretNotFound:
        return True
    except AccessDenied:
        return False
    return True


# -- Vault / OpenBao -----------------------------------------------------------------------


@pytest.fixture
def vault_policy_token(openbao_server: OpenBao, ns: str) -> Iterator[tuple[str, Any]]:
    policy = policy_for(ns)
    exported = export_vault(policy, role="app", mount="secret")
    assert exported.broader == (), exported.broader
    name = f"swt-{ns.replace('/', '-')}"
    openbao_server.api("PUT", f"sys/policies/acl/{name}", {"policy": exported.text})
    yield openbao_server.token(name), policy
    openbao_server.api("DELETE", f"sys/policies/acl/{name}")


def test_vault_enforces_what_the_client_policy_says(
    openbao_server: OpenBao, vault_policy_token: tuple[str, Any], ns: str
) -> None:
    token, policy = vault_policy_token
    root = VaultProvider(openbao_server.url, token=openbao_server.root_token)
    for name in NAMES:
        root.set(f"{ns}/{name}", "v")
    scoped = VaultProvider(openbao_server.url, token=token)
    attempts: dict[str, Any] = {
        "get": scoped.get,
        "versions": scoped.versions,
        "set": lambda n: scoped.set(n, "v2"),
        "delete": scoped.delete,
    }
    checked = mismatches = 0
    for operation, attempt in attempts.items():
        for short in NAMES:
            name = f"{ns}/{short}"
            client = policy.decide("svc", operation, name).allowed
            checked += 1
            if outcome(lambda attempt=attempt, name=name: attempt(name)) != client:
                mismatches += 1
                print(f"MISMATCH {operation} {name}: client allows={client}")
    # list is a folder operation in Vault: the folders the rules name
    for folder, client in ((f"{ns}/app/", True), (f"{ns}/other/", False)):
        checked += 1
        mismatches += outcome(lambda folder=folder: scoped.list(folder)) != client
    assert checked == 34 and mismatches == 0
    root.close()
    scoped.close()


def test_vault_export_refuses_what_vault_cannot_say(tmp_path: Path) -> None:
    policy = parse_policy(
        {
            "roles": {
                "r": {
                    "allow": [{"operations": ["delete"], "names": ["app/*"]}],
                    "deny": [{"operations": ["get"], "names": ["app/x/*"]}],
                }
            }
        }
    )
    exported = export_vault(policy, role="r")
    # deleting reads the metadata, which is also what listing versions needs
    assert {d.operation for d in exported.broader} == {"versions"}


def test_policy_export_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "secretwire.yaml"
    settings.write_text(
        "environments:\n  prod:\n    provider: vault\n    options: {url: 'http://v:8200', "
        "mount: kv}\npolicy:\n  roles:\n    r:\n      allow:\n        - operations: [get]\n"
        "          names: ['app/*']\n        - operations: [delete]\n          names: ['*']\n"
    )
    base = ["--config", str(settings), "policy", "export"]
    assert main([*base, "--vault"]) == 1
    assert "would allow more: versions" in capsys.readouterr().err
    assert main([*base, "--vault", "--allow-broader"]) == 0
    captured = capsys.readouterr()
    assert 'path "kv/data/app/*"' in captured.out and "warning: broader" in captured.err
    assert main([*base, "--aws-iam", "--role", "r", "--region", REGION]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["Version"] == "2012-10-17"


# -- AWS IAM (moto) --------------------------------------------------------------------------


def test_iam_document_is_accepted_and_enforced_by_moto(moto_iam_server: MotoIam, ns: str) -> None:
    admin = moto_iam_server.admin.session().client(
        "iam", endpoint_url=moto_iam_server.url, region_name=REGION
    )
    policy = policy_for(ns)
    users = {}
    for role in ("app", "getter"):
        exported = export_iam(policy, role=role, region=REGION, account=ACCOUNT)
        # IAM has no "one segment": shared/+/key becomes shared/*/key, which is broader
        assert {d.name for d in exported.broader} <= {f"{ns}/shared/x/y/key"}
        user = f"{ns}-{role}"
        admin.create_user(UserName=user)
        # moto validates the document as IAM does (MalformedPolicyDocument otherwise)
        admin.put_user_policy(UserName=user, PolicyName="exported", PolicyDocument=exported.text)
        key = admin.create_access_key(UserName=user)["AccessKey"]
        users[role] = Keys(key["AccessKeyId"], key["SecretAccessKey"])
    document = json.loads(export_iam(policy, role="app", region=REGION, account=ACCOUNT).text)
    deny = next(s for s in document["Statement"] if s["Effect"] == "Deny")
    assert deny["Resource"] == f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{ns}/app/admin/*"
    assert deny["Action"] == ["secretsmanager:GetSecretValue"]
    # what moto can enforce: ListSecrets (IAM authorizes it on "*" only)
    for role, may_list in (("app", True), ("getter", False)):
        provider = AwsSecretsManagerProvider(
            endpoint_url=moto_iam_server.url, region=REGION, session=users[role].session()
        )
        assert outcome(lambda p=provider: list(p.list(ns))) is may_list, role
        provider.close()
