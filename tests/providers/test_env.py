"""Tests of the environment variable provider (``secretwire.providers.env``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretwire.errors import ConfigError, InvalidSecret, SecretNotFound, UnsupportedOperation
from secretwire.providers.env import EnvProvider

CANARY = "canary-env-51b0e4-do-not-leak"


@pytest.fixture
def environ() -> dict[str, str]:
    return {
        "APP_DB_PASSWORD": CANARY,
        "APP_API_TOKEN": "token",
        "APP_API_URL": "https://example.invalid",
        "APP_mixed": "unreachable when upper-casing",
        "APP_": "empty remainder",
        "OTHER_THING": "not ours",
        "PATH": "/usr/bin",
    }


@pytest.fixture
def provider(environ: dict[str, str]) -> EnvProvider:
    return EnvProvider(prefix="APP_", environ=environ)


def test_get(provider: EnvProvider) -> None:
    secret = provider.get("db/password")
    assert secret.reveal() == CANARY
    assert secret.name == "db/password"
    assert secret.provider == "env"
    assert secret.version is None
    assert CANARY not in repr(secret)


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("db/password", "APP_DB_PASSWORD"),
        ("db-password", "APP_DB_PASSWORD"),
        ("db_password", "APP_DB_PASSWORD"),
        ("DB.Password", "APP_DB_PASSWORD"),
        ("clé", "APP_CL_"),
        ("a b:c", "APP_A_B_C"),
    ],
)
def test_name_to_variable(provider: EnvProvider, name: str, variable: str) -> None:
    assert provider.variable_for(name) == variable


def test_lossy_mapping_reads_the_same_variable(provider: EnvProvider) -> None:
    values = {provider.get(n).reveal() for n in ("db/password", "db_password", "db-password")}
    assert values == {CANARY}


def test_without_uppercase() -> None:
    prov = EnvProvider(prefix="app_", uppercase=False, environ={"app_Db_pw": "x", "app_db_pw": "y"})
    assert prov.variable_for("Db/pw") == "app_Db_pw"
    assert prov.get("Db/pw").reveal() == "x"
    assert prov.get("db.pw").reveal() == "y"
    assert list(prov.list()) == ["Db_pw", "db_pw"]


def test_no_prefix() -> None:
    prov = EnvProvider(environ={"TOKEN": "t"})
    assert prov.get("token").reveal() == "t"


def test_missing_names_variable(provider: EnvProvider) -> None:
    with pytest.raises(SecretNotFound, match="APP_NOPE") as info:
        provider.get("nope")
    assert info.value.name == "nope"
    assert info.value.provider == "env"


def test_version_is_not_found(provider: EnvProvider) -> None:
    with pytest.raises(SecretNotFound, match="no versions") as info:
        provider.get("db/password", version="1")
    assert info.value.version == "1"
    assert CANARY not in str(info.value)


@pytest.mark.parametrize("name", ["", 3, None])
def test_invalid_name(provider: EnvProvider, name: object) -> None:
    with pytest.raises(InvalidSecret):
        provider.get(name)  # type: ignore[arg-type]


def test_list(provider: EnvProvider) -> None:
    assert list(provider.list()) == ["api_token", "api_url", "db_password"]
    assert list(provider.list("api_")) == ["api_token", "api_url"]
    assert list(provider.list("zzz")) == []
    for name in provider.list():
        provider.get(name)  # every listed name can be read back


def test_list_without_prefix_lists_everything_reachable(environ: dict[str, str]) -> None:
    names = list(EnvProvider(environ=environ).list())
    assert names == sorted(names)
    assert "path" in names
    assert "other_thing" in names
    assert "app_mixed" not in names


def test_reads_os_environ_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    prov = EnvProvider(prefix="SWTEST_")
    monkeypatch.delenv("SWTEST_LATE", raising=False)
    with pytest.raises(SecretNotFound):
        prov.get("late")
    monkeypatch.setenv("SWTEST_LATE", "now set")
    assert prov.get("late").reveal() == "now set"
    assert "late" in list(prov.list())


def test_read_only(provider: EnvProvider, environ: dict[str, str]) -> None:
    caps = EnvProvider.capabilities
    assert caps.list
    assert not (caps.write or caps.delete or caps.versions or caps.metadata)
    with pytest.raises(UnsupportedOperation):
        provider.set("db/password", "new")
    with pytest.raises(UnsupportedOperation):
        provider.delete("db/password")
    with pytest.raises(UnsupportedOperation):
        provider.versions("db/password")
    assert environ["APP_DB_PASSWORD"] == CANARY


def test_health_and_repr(provider: EnvProvider) -> None:
    assert provider.health().ok
    assert CANARY not in repr(provider)
    provider.close()
    provider.close()


def test_from_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWOPT_KEY", "v")
    prov = EnvProvider.from_options({"prefix": "swopt_", "uppercase": False}, base_dir=tmp_path)
    assert isinstance(prov, EnvProvider)
    assert prov.variable_for("key") == "swopt_key"
    prov = EnvProvider.from_options({"prefix": "SWOPT_"}, base_dir=tmp_path)
    assert prov.get("key").reveal() == "v"
    assert isinstance(EnvProvider.from_options({}, base_dir=tmp_path), EnvProvider)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"prefix": 3}, "prefix"),
        ({"uppercase": "yes"}, "uppercase"),
        ({"uppercase": 1}, "uppercase"),
        ({"prefix": "A_", "environ": {}}, "environ"),
    ],
)
def test_from_options_errors(tmp_path: Path, options: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        EnvProvider.from_options(options, base_dir=tmp_path)
    assert info.value.key == key


def test_constructor_checks_types() -> None:
    with pytest.raises(ConfigError):
        EnvProvider(prefix=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        EnvProvider(uppercase="no")  # type: ignore[arg-type]
