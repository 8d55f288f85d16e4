"""An adapter's error line keeps the reason a reference failed (which endpoint, what
the connection said), not just "unavailable": a real Vault provider pointed at a
loopback port where nothing listens."""

from __future__ import annotations

import copy
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secretwire import ResolutionError, SecretManager
from secretwire.providers.vault import VaultProvider

TOKEN = "s.closed-port-token-6d1e"


@pytest.fixture
def closed_url() -> str:
    """A loopback URL on a port that was free a moment ago: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def manager(closed_url: str) -> Iterator[SecretManager]:
    with SecretManager(VaultProvider(closed_url, token=TOKEN, timeout=5)) as secrets:
        yield secrets


def assert_names_the_reason(text: str, url: str) -> None:
    assert f"unavailable at {url}: cannot connect to Vault (Connection refused)" in text
    assert TOKEN not in text


def test_the_resolver_keeps_the_reason(manager: SecretManager, closed_url: str) -> None:
    with pytest.raises(ResolutionError) as info:
        manager.resolve({"db": {"password": "${secret:db/password}"}})
    (failure,) = info.value.failures
    assert_names_the_reason(failure.reason, closed_url)
    assert_names_the_reason(str(info.value), closed_url)
    assert_names_the_reason(info.value.one_line(), closed_url)


def test_pydantic_settings_error_keeps_the_reason(manager: SecretManager, closed_url: str) -> None:
    from pydantic import Field, SecretStr

    from secretwire.adapters.pydantic_settings import SecretSettings, close_managers

    class AppSettings(SecretSettings):
        password: SecretStr = Field("${secret:db/password}")

    try:
        with pytest.raises(ResolutionError) as info:
            AppSettings(_secretwire_manager=manager)
    finally:
        close_managers()
    assert_names_the_reason(str(info.value), closed_url)


@pytest.mark.parametrize("mode", ["hook", "loader"])
def test_dynaconf_error_keeps_the_reason(
    manager: SecretManager,
    closed_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    from dynaconf import Dynaconf

    import secretwire.adapters.dynaconf as adapter

    (tmp_path / "settings.toml").write_text('password = "${secret:db/password}"\n')
    monkeypatch.chdir(tmp_path)
    kwargs: dict[str, Any] = {"settings_files": [str(tmp_path / "settings.toml")]}
    if mode == "hook":
        if not adapter._HOOKS_SUPPORTED:
            pytest.skip("SecretwireHook needs dynaconf >= 3.2.2")
        kwargs["post_hooks"] = [adapter.SecretwireHook(manager)]
    else:
        (tmp_path / "secretwire.yaml").write_text(
            "environments:\n  development:\n    provider: vault\n"
            f"    options: {{url: '{closed_url}', token_env: SW_TEST_VAULT_TOKEN, timeout: 5}}\n"
        )
        monkeypatch.setenv("SW_TEST_VAULT_TOKEN", TOKEN)
        kwargs["loaders"] = ["dynaconf.loaders.env_loader", adapter.LOADER]
    try:
        with pytest.raises(ResolutionError) as info:
            Dynaconf(**kwargs).get("password")
    finally:
        adapter.close_loader_managers()
    assert_names_the_reason(str(info.value), closed_url)


def test_omegaconf_errors_keep_the_reason(manager: SecretManager, closed_url: str) -> None:
    from omegaconf import OmegaConf
    from omegaconf.basecontainer import BaseContainer
    from omegaconf.errors import InterpolationResolutionError

    from secretwire.adapters import omegaconf as swo

    saved, installed = copy.copy(BaseContainer._resolvers), dict(swo._installed)
    try:
        swo.register(manager)
        cfg = OmegaConf.create({"db": {"password": "${secret:db/password}"}})
        with pytest.raises(ResolutionError) as checked:
            swo.check(cfg)
        assert_names_the_reason(str(checked.value), closed_url)
        with pytest.raises(InterpolationResolutionError) as read:
            _ = cfg.db.password
        assert_names_the_reason(str(read.value), closed_url)
    finally:
        BaseContainer._resolvers = saved
        swo._installed.clear()
        swo._installed.update(installed)
