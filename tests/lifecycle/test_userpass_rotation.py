"""End to end: rotate the password of an OpenBao ``userpass`` user, the secret stored
in each backend in turn (memory, the file store, OpenBao's KV, AWS on moto, Azure
through the fake Key Vault transport). The apply hook changes the password through
Vault's API; the verify hook logs in with it. Afterwards only the new password logs
in, and it is the secret's current value. A verify that fails puts the old password
back, in the user and in the secret."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from secretwire import RotationFailed, Secret, SecretManager
from secretwire.lifecycle import HookCall
from secretwire.providers.azure import AzureKeyVaultProvider
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, assert_no_leak
from tests.lifecycle import userpass
from tests.lifecycle.backends import Backend, aws_backend, file_backend, vault_backend
from tests.providers.test_azure import FakeCredential, client_through, fake_host
from tests.providers.test_azure_conformance import FakeKeyVault
from tests.servers.openbao import OpenBao

KINDS = ["memory", "file", "vault", "aws", "azure-fake-transport"]
USERPASS = Path(userpass.__file__)


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    kind = request.param
    if kind == "memory":
        yield Backend("memory", {}, MemoryProvider())
    elif kind == "file":
        yield from file_backend(tmp_path)
    elif kind == "vault":
        yield from vault_backend(request.getfixturevalue("openbao_server"))
    elif kind == "aws":
        yield from aws_backend(request.getfixturevalue("moto_server"))
    else:
        vault = FakeKeyVault(fake_host())
        client = client_through(vault, vault.host, credential=FakeCredential())
        provider = AzureKeyVaultProvider(client=client, name_encoding="escape")
        yield Backend("azure", {}, provider)
        provider.close()


@pytest.fixture
def user(openbao_server: OpenBao, ns: str) -> tuple[str, str]:
    """A new userpass user and its first password (a canary, so leaks show)."""
    userpass.enable(openbao_server.url, openbao_server.root_token)
    name = "app-" + ns.replace("/", "-").replace("_", "-")[-40:]
    password = f"{CANARY}-first"
    userpass.create_user(openbao_server.url, openbao_server.root_token, name, password)
    return name, password


def _current(store: Backend, name: str) -> Secret:
    return store.read_current(name)


@dataclass
class Account:
    """The user, its first password, and the secret that holds it in ``store``."""

    url: str
    admin: str
    login: str
    password: str
    name: str


@pytest.fixture
def account(store: Backend, user: tuple[str, str], openbao_server: OpenBao, ns: str) -> Account:
    name = f"{ns}/bao-user-password"
    store.provider.set(name, user[1])
    return Account(openbao_server.url, openbao_server.root_token, user[0], user[1], name)


@pytest.mark.parametrize("store", KINDS, indirect=True)
def test_rotating_a_userpass_password(store: Backend, account: Account) -> None:
    apply, verify = userpass.hooks(account.url, account.admin, account.login)
    generator = {"type": "password", "length": 40}
    result = SecretManager(store.provider).rotate(
        account.name, generator=generator, apply=apply, verify=verify
    )
    new = _current(store, account.name).reveal()
    assert result.version == _current(store, account.name).version
    assert len(new) == 40
    assert userpass.can_log_in(account.url, account.login, new)
    assert not userpass.can_log_in(account.url, account.login, account.password)


@pytest.mark.parametrize("store", KINDS, indirect=True)
def test_a_failed_verify_puts_the_old_password_back(store: Backend, account: Account) -> None:
    apply, _ = userpass.hooks(account.url, account.admin, account.login)

    def wrong_user(call: HookCall) -> bool:  # logs in as someone else: always refused
        return userpass.can_log_in(account.url, f"{account.login}-nobody", call.new.reveal())

    with pytest.raises(RotationFailed) as info:
        SecretManager(store.provider).rotate(account.name, apply=apply, verify=wrong_user)
    assert (info.value.step, info.value.outcome) == ("verify", "reverted")
    assert_no_leak(info.value, CANARY)
    assert _current(store, account.name).reveal() == account.password
    assert userpass.can_log_in(account.url, account.login, account.password)


@pytest.mark.parametrize("store", ["file", "vault", "aws"], indirect=True)
def test_the_cli_rotates_with_command_hooks_from_the_settings(
    store: Backend, account: Account, tmp_path: Path
) -> None:
    """``secretwire rotate NAME`` with the policy declared in ``secrets:``: the hooks
    are commands that read the old and new values on stdin."""
    command = [sys.executable, str(USERPASS)]
    policy = {
        "interval": "30d",
        "apply": {"command": [*command, "apply", account.login]},
        "verify": {"command": [*command, "verify", account.login]},
    }
    settings = store.settings(tmp_path, {account.name: {"owner": "team-auth", "rotation": policy}})
    store.env |= {"BAO_ADDR": account.url, "SWT_BAO_ADMIN_TOKEN": account.admin}
    argv = ["-m", "secretwire", "--config", str(settings), "rotate", account.name, "--json"]
    done = store.run(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"ok": true' in done.stdout
    new = _current(store, account.name).reveal()
    assert userpass.can_log_in(account.url, account.login, new)
    assert not userpass.can_log_in(account.url, account.login, account.password)
    for output in (done.stdout, done.stderr):
        assert new not in output
        assert CANARY not in output
