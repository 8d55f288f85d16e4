"""The pydantic-settings adapter (``secretwire.adapters.pydantic_settings``).

Secrets come from a real ``MemoryProvider`` (or the encrypted local store and the
env provider, for the environment switch) behind a real ``SecretManager``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field, Secret, SecretBytes, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    JsonConfigSettingsSource,
    PydanticBaseSettingsSource,
    SettingsError,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from secretwire import (
    AccessDenied,
    ConfigError,
    Layer,
    ResolutionError,
    SecretManager,
    SecretNotFound,
)
from secretwire import Secret as SecretwireSecret
from secretwire.adapters.pydantic_settings import (
    SecretResolutionError,
    SecretSettings,
    SecretSettingsConfigDict,
    SecretSettingsError,
    close_managers,
)
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, assert_no_leak

# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No stray APP_/SECRETWIRE_ variables; run from an empty folder; close managers."""
    import os

    for name in list(os.environ):
        if name.startswith(("APP_", "SECRETWIRE_")):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield
    close_managers()


@pytest.fixture
def provider() -> MemoryProvider:
    return MemoryProvider(
        {
            "db/password": CANARY,
            "db/creds": json.dumps({"user": "app", "host": "db.internal"}),
            "api/key": "key-" + CANARY,
            "literal": "${secret:db/password}",
            "port": "5432",
        }
    )


@pytest.fixture
def manager(provider: MemoryProvider) -> Iterator[SecretManager]:
    with SecretManager(provider) as secrets:
        yield secrets


class Database(BaseModel):
    host: str = "localhost"
    user: str = "app"
    password: SecretStr = Field("${secret:db/password}")


class AppSettings(SecretSettings):
    model_config = SecretSettingsConfigDict(env_prefix="APP_", env_nested_delimiter="__")

    db: Database = Database()
    api_key: SecretStr = Field("${secret:api/key}")
    token: SecretStr | None = None


def assert_no_canary(*texts: object) -> None:
    for text in texts:
        assert CANARY not in str(text)
        assert CANARY not in repr(text)


# -- values from every source ------------------------------------------------------------


def test_env_var_reference_is_resolved_and_stays_masked(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager, all_logs: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("APP_TOKEN", "${secret:db/password}")
    settings = AppSettings(_secretwire_manager=manager)
    assert settings.token is not None
    assert settings.token.get_secret_value() == CANARY
    assert settings.api_key.get_secret_value() == "key-" + CANARY
    assert settings.db.password.get_secret_value() == CANARY
    dumped_json = settings.model_dump_json()
    assert json.loads(dumped_json)["token"] == "**********"
    assert_no_canary(settings, settings.model_dump(), dumped_json, all_logs.text)
    assert_no_canary(settings.model_dump(mode="json"))


def test_nested_value_through_env_nested_delimiter(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager
) -> None:
    monkeypatch.setenv("APP_DB__PASSWORD", "${secret:api/key}")
    monkeypatch.setenv("APP_DB__HOST", "db.example")
    settings = AppSettings(_secretwire_manager=manager)
    assert settings.db.password.get_secret_value() == "key-" + CANARY
    assert settings.db.host == "db.example"


def test_nested_value_in_a_json_env_var(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager
) -> None:
    monkeypatch.setenv("APP_DB", json.dumps({"host": "h", "password": "${secret:api/key}"}))
    settings = AppSettings(_secretwire_manager=manager)
    assert settings.db.password.get_secret_value() == "key-" + CANARY
    assert settings.db.host == "h"


class EverySource(SecretSettings):
    """One field per source; ``shared`` is set by several, with different references."""

    model_config = SecretSettingsConfigDict(
        env_prefix="APP_", env_nested_delimiter="__", extra="ignore"
    )

    from_init: SecretStr = SecretStr("unset")
    from_env: SecretStr = SecretStr("unset")
    from_dotenv: SecretStr = SecretStr("unset")
    from_secrets_dir: SecretStr = SecretStr("unset")
    from_yaml: SecretStr = SecretStr("unset")
    from_toml: SecretStr = SecretStr("unset")
    from_json: SecretStr = SecretStr("unset")
    from_default: SecretStr = Field("${secret:db/creds#user}")
    hosts: list[SecretStr] = Field(default_factory=list)
    shared: SecretStr = SecretStr("unset")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The user's own override, not calling super(): sources are still seen.
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            YamlConfigSettingsSource(settings_cls),
            TomlConfigSettingsSource(settings_cls),
            JsonConfigSettingsSource(settings_cls),
        )


def every_source_files(folder: Path, refs: dict[str, str]) -> dict[str, Any]:
    """Write a .env, a secrets dir, settings.yaml/.toml/.json; return model_config keys."""
    (folder / ".env").write_text(
        f"# dotenv\nAPP_FROM_DOTENV={refs['dotenv']}\nAPP_SHARED={refs['dotenv_shared']}\n",
        encoding="utf-8",
    )
    secrets_dir = folder / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "app_from_secrets_dir").write_text(refs["secrets_dir"], encoding="utf-8")
    (folder / "settings.yaml").write_text(
        "# yaml\nfrom_yaml: "
        + refs["yaml"]
        + "\nhosts:\n  - plain\n  - "
        + refs["yaml_list"]
        + "\nshared: "
        + refs["yaml_shared"]
        + "\n",
        encoding="utf-8",
    )
    (folder / "settings.toml").write_text(
        f'# toml\n\nfrom_toml = "{refs["toml"]}"\n', encoding="utf-8"
    )
    (folder / "settings.json").write_text(
        json.dumps({"from_json": refs["json"]}, indent=2), encoding="utf-8"
    )
    return {
        "env_file": str(folder / ".env"),
        "secrets_dir": str(secrets_dir),
        "yaml_file": str(folder / "settings.yaml"),
        "toml_file": str(folder / "settings.toml"),
        "json_file": str(folder / "settings.json"),
    }


def every_source_model(config: dict[str, Any]) -> type[EverySource]:
    class Model(EverySource):
        model_config = SecretSettingsConfigDict(**config)  # type: ignore[typeddict-item]

    return Model


def test_references_from_every_source_keep_the_merge_priority(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    provider: MemoryProvider,
    manager: SecretManager,
) -> None:
    refs = {
        "dotenv": "${secret:api/key}",
        "dotenv_shared": "${secret:missing/dotenv-loses}",
        "secrets_dir": "${secret:db/creds#host}",
        "yaml": "${secret:port}",
        "yaml_list": "${secret:db/creds#user}",
        "yaml_shared": "${secret:missing/yaml-loses}",
        "toml": "${secret:db/password}",
        "json": "prefix-${secret:port}",
    }
    model = every_source_model(every_source_files(tmp_path, refs))
    monkeypatch.setenv("APP_FROM_ENV", "${secret:db/creds#host}")
    # The environment beats the .env file and YAML for "shared": their references,
    # which name missing secrets, lose the merge and are never fetched.
    monkeypatch.setenv("APP_SHARED", "${secret:api/key}")
    settings = model(from_init="${secret:db/password}", _secretwire_manager=manager)
    values = {
        name: value.get_secret_value() for name, value in settings if isinstance(value, SecretStr)
    }
    assert values == {
        "from_init": CANARY,
        "from_env": "db.internal",
        "from_dotenv": "key-" + CANARY,
        "from_secrets_dir": "db.internal",
        "from_yaml": "5432",
        "from_toml": CANARY,
        "from_json": "prefix-5432",
        "from_default": "app",
        "shared": "key-" + CANARY,
    }
    assert [h.get_secret_value() for h in settings.hosts] == ["plain", "app"]
    # Every distinct secret once, in one batch; the losing references not at all.
    assert provider.calls["get"] == 4  # db/password, db/creds, api/key, port
    assert_no_canary(settings, settings.model_dump_json())


def test_init_argument_beats_environment(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager
) -> None:
    monkeypatch.setenv("APP_TOKEN", "${secret:missing/loses}")
    settings = AppSettings(token="${secret:port}", _secretwire_manager=manager)
    assert settings.token is not None
    assert settings.token.get_secret_value() == "5432"


def test_one_error_lists_every_failure_with_its_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, manager: SecretManager
) -> None:
    refs = {
        "dotenv": "${secret:missing/dotenv}",
        "dotenv_shared": "plain",
        "secrets_dir": "${secret:missing/secrets-dir}",
        "yaml": "${secret:missing/yaml}",
        "yaml_list": "${secret:missing/yaml-list}",
        "yaml_shared": "plain",
        "toml": "${secret:missing/toml}",
        "json": "${secret:missing/json}",
    }
    files = every_source_files(tmp_path, refs)
    model = every_source_model(files)
    monkeypatch.setenv("APP_FROM_ENV", "${secret:missing/env}")
    with pytest.raises(SettingsError) as info:
        model(
            from_init="${secret:missing/init}",
            from_default="${secret:db/creds#nofield}",
            _secretwire_manager=manager,
        )
    err = info.value
    assert isinstance(err, SecretResolutionError)
    assert isinstance(err, ResolutionError)
    assert err.headline == "9 secret reference(s) could not be resolved in Model"
    where = {failure.reference: failure.location for failure in err.failures}
    assert where == {
        "${secret:missing/init}": "init argument from_init",
        "${secret:db/creds#nofield}": "init argument from_default",
        "${secret:missing/env}": "env var APP_FROM_ENV",
        "${secret:missing/dotenv}": f"{files['env_file']} line 2 (APP_FROM_DOTENV)",
        "${secret:missing/secrets-dir}": (
            f"secrets dir file {Path(files['secrets_dir']) / 'app_from_secrets_dir'}"
        ),
        "${secret:missing/yaml}": f"{files['yaml_file']} line 2 (from_yaml)",
        "${secret:missing/yaml-list}": f"{files['yaml_file']} line 5 (hosts[1])",
        "${secret:missing/toml}": f"{files['toml_file']} line 3 (from_toml)",
        "${secret:missing/json}": f"{files['json_file']} line 2 (from_json)",
    }
    reasons = {failure.reference: failure.reason for failure in err.failures}
    assert reasons["${secret:missing/env}"] == "not found"
    assert "field 'nofield'" in reasons["${secret:db/creds#nofield}"]
    assert all(isinstance(f.error, SecretNotFound) for f in err.failures)
    assert str(err).count("\n") == 9
    assert err.one_line().startswith("9 secret reference(s) could not be resolved in Model: ")
    assert err.__cause__ is None
    assert err.__context__ is None
    assert_no_canary(err, err.one_line())
    assert_no_leak(err, CANARY)


def test_the_same_reference_in_two_places_names_each_place(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager
) -> None:
    # Where a value came from is recorded as each source returns it, not found
    # afterwards by looking for its text (which named the first variable or secret
    # file holding the same text).
    class Twice(SecretSettings):
        model_config = SecretSettingsConfigDict(env_prefix="APP_", secrets_dir="secrets")
        api_token: SecretStr = SecretStr("unset")
        token: SecretStr = SecretStr("unset")
        a_key: SecretStr = SecretStr("unset")
        b_key: SecretStr = SecretStr("unset")

    reference = "${secret:missing/shared}"
    monkeypatch.setenv("APP_API_TOKEN", reference)  # first in the environment
    monkeypatch.setenv("APP_TOKEN", reference)
    secrets = Path.cwd() / "secrets"
    secrets.mkdir()
    for name in ("app_a_key", "app_b_key"):
        (secrets / name).write_text(reference, encoding="utf-8")
    with pytest.raises(SecretResolutionError) as info:
        Twice(_secretwire_manager=manager)
    assert sorted(failure.location for failure in info.value.failures) == [
        "env var APP_API_TOKEN",
        "env var APP_TOKEN",
        f"secrets dir file {Path('secrets') / 'app_a_key'}",
        f"secrets dir file {Path('secrets') / 'app_b_key'}",
    ]


def test_failure_in_a_field_default_names_the_default(provider: MemoryProvider) -> None:
    class Defaults(SecretSettings):
        password: SecretStr = Field("${secret:missing/one}")
        db: Database = Database(password=SecretStr("${secret:missing/two}"))

    with SecretManager(provider) as secrets, pytest.raises(SecretResolutionError) as info:
        Defaults(_secretwire_manager=secrets)
    assert [(f.location, f.reference) for f in info.value.failures] == [
        ("field default password", "${secret:missing/one}"),
        ("field default db.password", "${secret:missing/two}"),
    ]
    assert_no_leak(info.value, CANARY)


def test_defaults_resolve_at_every_depth(manager: SecretManager) -> None:
    class Inner(BaseModel):
        user: SecretStr = Field("${secret:db/creds#user}")
        host: str = "h"

    class Outer(BaseModel):
        inner: Inner = Inner(host="custom")
        password: SecretStr = SecretStr("${secret:db/password}")

    class Model(SecretSettings):
        outer: Outer = Outer()
        plain: str = "no reference"

    settings = Model(_secretwire_manager=manager)
    assert settings.outer.inner.user.get_secret_value() == "app"
    assert settings.outer.inner.host == "custom"  # the default instance's own value kept
    assert settings.outer.password.get_secret_value() == CANARY
    assert settings.plain == "no reference"


def test_default_fills_in_next_to_a_value_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager
) -> None:
    monkeypatch.setenv("APP_DB__HOST", "from-env")
    settings = AppSettings(_secretwire_manager=manager)
    assert settings.db.host == "from-env"
    assert settings.db.password.get_secret_value() == CANARY


def test_secret_value_holding_a_reference_comes_back_literally(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager
) -> None:
    monkeypatch.setenv("APP_TOKEN", "${secret:literal}")
    settings = AppSettings(_secretwire_manager=manager)
    assert settings.token is not None
    assert settings.token.get_secret_value() == "${secret:db/password}"


def test_escaped_reference_stays_text(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager
) -> None:
    monkeypatch.setenv("APP_TOKEN", "$${secret:db/password}")
    settings = AppSettings(_secretwire_manager=manager)
    assert settings.token is not None
    assert settings.token.get_secret_value() == "${secret:db/password}"


def test_model_without_references_needs_no_settings_file() -> None:
    class Plain(SecretSettings):
        name: str = "app"

    assert Plain().name == "app"


# -- caching -----------------------------------------------------------------------------


def test_repeated_loads_hit_the_cache(
    monkeypatch: pytest.MonkeyPatch, provider: MemoryProvider, manager: SecretManager
) -> None:
    monkeypatch.setenv("APP_TOKEN", "${secret:db/password}")
    AppSettings(_secretwire_manager=manager)
    assert provider.calls["get"] == 2  # db/password (twice referenced) and api/key
    for _ in range(3):
        AppSettings(_secretwire_manager=manager)
    assert provider.calls["get"] == 2
    stats = manager.metrics().cache
    assert stats is not None
    assert stats.hits == 6


def test_manager_from_model_config(provider: MemoryProvider) -> None:
    with SecretManager(provider) as secrets:

        class ByInstance(SecretSettings):
            model_config = SecretSettingsConfigDict(secretwire_manager=secrets)
            password: SecretStr = Field("${secret:db/password}")

        class ByFactory(SecretSettings):
            model_config = SecretSettingsConfigDict(secretwire_manager=lambda: secrets)
            password: SecretStr = Field("${secret:db/password}")

        assert ByInstance().password.get_secret_value() == CANARY
        assert ByFactory().password.get_secret_value() == CANARY
        assert provider.calls["get"] == 1


# -- environments ------------------------------------------------------------------------

SETTINGS_YAML = """\
environment_variable: SECRETWIRE_ENV
default_environment: development
environments:
  development:
    provider: file
    options: {path: .secretwire/dev.store, key_file: .secretwire/dev.key}
  ci:
    provider: env
    options: {prefix: APP_SECRET_}
"""


class Deployed(SecretSettings):
    model_config = SecretSettingsConfigDict(env_prefix="APP_")
    db_password: SecretStr = Field("${secret:db/password}")


def test_environment_variable_switches_the_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Path.cwd()
    (project / "secretwire.yaml").write_text(SETTINGS_YAML, encoding="utf-8")
    with SecretManager.from_settings(environment="development") as dev:
        dev.set("db/password", "dev-" + CANARY)
    monkeypatch.setenv("APP_SECRET_DB_PASSWORD", "ci-" + CANARY)

    assert Deployed().db_password.get_secret_value() == "dev-" + CANARY  # default env
    monkeypatch.setenv("SECRETWIRE_ENV", "ci")
    assert Deployed().db_password.get_secret_value() == "ci-" + CANARY
    monkeypatch.setenv("SECRETWIRE_ENV", "development")
    assert Deployed().db_password.get_secret_value() == "dev-" + CANARY


def test_environment_and_settings_file_from_model_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secretwire.yaml").write_text(SETTINGS_YAML, encoding="utf-8")
    monkeypatch.setenv("APP_SECRET_DB_PASSWORD", "ci-pw")

    class Pinned(Deployed):
        model_config = SecretSettingsConfigDict(
            secretwire_settings=elsewhere / "secretwire.yaml", secretwire_environment="ci"
        )

    assert Pinned().db_password.get_secret_value() == "ci-pw"


def test_missing_settings_file_is_a_settings_error() -> None:
    with pytest.raises(SecretSettingsError) as info:
        Deployed()
    assert "Deployed: secrets could not be loaded: no settings file found" in str(info.value)
    assert isinstance(info.value, SettingsError)
    assert isinstance(info.value.__cause__, ConfigError)


def test_unknown_environment_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    (Path.cwd() / "secretwire.yaml").write_text(SETTINGS_YAML, encoding="utf-8")
    monkeypatch.setenv("SECRETWIRE_ENV", "staging")
    with pytest.raises(SecretSettingsError, match="unknown environment 'staging'"):
        Deployed()


# -- masking -----------------------------------------------------------------------------


def test_reference_in_a_plain_str_field_is_refused(manager: SecretManager) -> None:
    class Leaky(SecretSettings):
        dsn: str = "postgres://app:${secret:db/password}@db/app"
        port: int = Field("${secret:port}")

    with pytest.raises(SecretResolutionError) as info:
        Leaky(_secretwire_manager=manager)
    failures = info.value.failures
    assert [(f.location, f.reference) for f in failures] == [
        ("field default dsn", "${secret:db/password}"),
        ("field default port", "${secret:port}"),
    ]
    assert "field dsn is str, which would show the secret in repr()" in failures[0].reason
    assert "secretwire_allow_unmasked={'dsn'}" in failures[0].reason
    assert "field port is int" in failures[1].reason
    assert_no_canary(info.value)
    assert_no_leak(info.value, CANARY)


def test_plain_field_allowed_explicitly(manager: SecretManager) -> None:
    class Allowed(SecretSettings):
        model_config = SecretSettingsConfigDict(secretwire_allow_unmasked={"db.port"})
        db: dict[str, int] = Field({"port": "${secret:port}"})

    class Everything(SecretSettings):
        model_config = SecretSettingsConfigDict(secretwire_allow_unmasked=True)
        dsn: str = "postgres://${secret:db/creds#user}@db/app"

    assert Allowed(_secretwire_manager=manager).db == {"port": 5432}
    assert Everything(_secretwire_manager=manager).dsn == "postgres://app@db/app"


def test_masked_container_and_generic_secret_types(manager: SecretManager) -> None:
    class Typed(SecretSettings):
        port: Secret[int] = Field("${secret:port}")
        maybe: SecretStr | None = Field("${secret:db/password}")
        many: dict[str, SecretStr] = Field({"a": "${secret:api/key}"})
        blob: SecretBytes = SecretBytes(b"${secret:db/password}")

    settings = Typed(_secretwire_manager=manager)
    assert settings.port.get_secret_value() == 5432
    assert settings.maybe is not None
    assert settings.many["a"].get_secret_value() == "key-" + CANARY
    assert settings.blob.get_secret_value() == CANARY.encode()
    assert_no_canary(settings, settings.model_dump(), settings.model_dump_json())


class DbPort(BaseModel):
    port: Secret[int] = Secret(1)


class SecretPorts(SecretSettings):
    model_config = SecretSettingsConfigDict(
        env_prefix="APP_", env_nested_delimiter="__", env_file=".env", secrets_dir="secrets"
    )

    port: Secret[int] = Secret(1)
    maybe: Secret[int] | None = None
    db: DbPort = DbPort()
    ports: dict[str, Secret[int]] = Field(default_factory=dict)  # complex: JSON still decoded


@pytest.mark.parametrize("source", ["env", "dotenv", "secrets_dir"])
def test_secret_int_from_a_variable_holding_a_reference(
    source: str, monkeypatch: pytest.MonkeyPatch, manager: SecretManager
) -> None:
    # Older pydantic-settings (2.4.0) decodes a Secret[int] field's text as JSON, so a
    # reference failed with "error parsing value for field" before secretwire saw it.
    values = {
        "APP_PORT": "${secret:port}",
        "APP_MAYBE": "${secret:port}",
        "APP_DB__PORT": "${secret:port}",
        "APP_PORTS": '{"a": "${secret:port}", "b": 7}',
    }
    work = Path.cwd()
    (work / "secrets").mkdir()
    for name, value in values.items():
        if source == "env":
            monkeypatch.setenv(name, value)
        elif source == "dotenv":
            with (work / ".env").open("a", encoding="utf-8") as env_file:
                env_file.write(f"{name}='{value}'\n")
        elif name != "APP_DB__PORT":  # the secrets dir has no nested delimiter
            (work / "secrets" / name.lower()).write_text(value, encoding="utf-8")
    settings = SecretPorts(_secretwire_manager=manager)
    assert settings.port.get_secret_value() == 5432
    assert settings.maybe is not None and settings.maybe.get_secret_value() == 5432
    assert {k: v.get_secret_value() for k, v in settings.ports.items()} == {"a": 5432, "b": 7}
    assert settings.db.port.get_secret_value() == (1 if source == "secrets_dir" else 5432)


def test_secret_int_from_a_variable_that_is_not_a_reference_still_fails(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager
) -> None:
    (Path.cwd() / "secrets").mkdir()
    monkeypatch.setenv("APP_PORT", "5432")
    assert SecretPorts(_secretwire_manager=manager).port.get_secret_value() == 5432
    monkeypatch.setenv("APP_PORT", "not a number")
    with pytest.raises((SettingsError, ValidationError)):
        SecretPorts(_secretwire_manager=manager)


@pytest.mark.parametrize("field_type", ["int", "Secret[int]"])
def test_validation_error_never_shows_the_value(
    manager: SecretManager, provider: MemoryProvider, field_type: str
) -> None:
    provider.set("port", CANARY)

    class Ports(SecretSettings):
        model_config = SecretSettingsConfigDict(secretwire_allow_unmasked=True)
        port: Secret[int] = Field("${secret:port}")
        other: int = 1

    class PlainPort(Ports):
        port: int = Field("${secret:port}")  # type: ignore[assignment]

    model = Ports if field_type == "Secret[int]" else PlainPort
    with pytest.raises(ValidationError) as info:
        model(other="not a number", _secretwire_manager=manager)
    err = info.value
    assert err.error_count() == 2
    assert {e["loc"] for e in err.errors()} == {("port",), ("other",)}
    inputs = {e["loc"][0]: e["input"] for e in err.errors()}
    assert inputs == {"port": "**********", "other": "not a number"}
    assert_no_canary(err, err.errors(), err.json())
    assert err.__cause__ is None
    assert err.__context__ is None
    assert_no_leak(err, CANARY)


def test_validation_error_without_secrets_is_untouched(manager: SecretManager) -> None:
    class Ports(SecretSettings):
        other: int = 1

    with pytest.raises(ValidationError) as info:
        Ports(other="nope", _secretwire_manager=manager)
    assert info.value.errors()[0]["input"] == "nope"


def test_canary_absent_from_failures_and_logs(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager, all_logs: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("APP_TOKEN", "${secret:db/password}")
    monkeypatch.setenv("APP_DB__PASSWORD", "${secret:db/password#nofield}")
    # Newer pydantic-settings log every source's raw values at DEBUG: references only.
    monkeypatch.setenv("PYDANTIC_SETTINGS_DEBUG", "1")
    with pytest.raises(SecretResolutionError) as info:
        AppSettings(_secretwire_manager=manager)
    assert [f.location for f in info.value.failures] == ["env var APP_DB__PASSWORD"]
    monkeypatch.delenv("APP_DB__PASSWORD")
    settings = AppSettings(_secretwire_manager=manager)
    logging.getLogger("test").info("loaded %s / %r / %s", settings, settings, settings.model_dump())
    assert_no_canary(info.value, info.value.failures, all_logs.text)
    assert_no_leak(info.value, CANARY)
    if hasattr(BaseSettings, "_settings_log_debug"):
        assert "APP_TOKEN" in all_logs.text or "${secret:db/password}" in all_logs.text


def test_debug_log_of_a_nested_secret_settings_masks_resolved_values(
    monkeypatch: pytest.MonkeyPatch,
    manager: SecretManager,
    all_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A nested SecretSettings gets the values its parent resolved as init arguments;
    # newer pydantic-settings log every source's values at DEBUG.
    monkeypatch.setenv("PYDANTIC_SETTINGS_DEBUG", "1")
    monkeypatch.setenv("APP_TOKEN", "${secret:db/password}")

    class Inner(SecretSettings):
        token: SecretStr = SecretStr("unset")
        keys: list[SecretStr] = Field(default_factory=list)
        note: str = "none"

    class Outer(SecretSettings):
        model_config = SecretSettingsConfigDict(env_prefix="APP_")
        inner: Inner
        token: SecretStr = SecretStr("unset")

    settings = Outer(
        inner={"token": "${secret:db/password}", "keys": ["${secret:api/key}"], "note": "plain"},
        _secretwire_manager=manager,
    )
    assert settings.inner.token.get_secret_value() == CANARY
    assert settings.inner.keys[0].get_secret_value() == "key-" + CANARY
    assert settings.token.get_secret_value() == CANARY
    logging.getLogger("test").debug("settings: %r", settings)
    assert CANARY not in all_logs.text
    assert CANARY not in "".join(capsys.readouterr())
    if hasattr(BaseSettings, "_settings_log_debug"):  # the log exists (not in 2.4)
        assert "Resolving settings for 'Inner'" in all_logs.text
        assert "'plain'" in all_logs.text  # other values are logged as they are
        assert "**********" in all_logs.text


def test_errors_of_a_failed_load_hold_no_value_in_their_frames(
    monkeypatch: pytest.MonkeyPatch, manager: SecretManager, provider: MemoryProvider
) -> None:
    class Partial(SecretSettings):
        model_config = SecretSettingsConfigDict(env_prefix="APP_")
        good: SecretStr = Field("${secret:db/password}")
        missing: SecretStr = Field("${secret:missing/one}")

    class Refused(SecretSettings):
        good: SecretStr = Field("${secret:db/password}")
        dsn: str = "x${secret:api/key}"

    class Invalid(SecretSettings):
        good: SecretStr = Field("${secret:db/password}")
        port: Secret[int] = Field("${secret:bad/port}")

    class Unrelated(SecretSettings):
        good: SecretStr = Field("${secret:db/password}")
        other: int = Field("not a number")

    provider.set("bad/port", "port-" + CANARY)
    monkeypatch.setenv("APP_GOOD", "${secret:db/password}")
    errors: list[Exception] = []
    for model in (Partial, Refused, Invalid, Unrelated):
        with pytest.raises((SettingsError, ValidationError)) as caught:
            model(_secretwire_manager=manager)
        errors.append(caught.value)
    with pytest.raises(ValidationError) as caught:
        Invalid.model_validate({"good": "${secret:api/key}"})
    errors.append(caught.value)
    for error in errors:
        assert_no_leak(error, CANARY)


# -- errors from the backend -------------------------------------------------------------


class DenyAll(Layer):
    def get(self, name: str, *, version: str | None = None) -> SecretwireSecret:
        raise AccessDenied(name=name, provider=self.provider_name)


def test_access_denied_is_not_reported_as_missing(provider: MemoryProvider) -> None:
    class Guarded(SecretSettings):
        token: SecretStr = Field("${secret:db/password:-fallback}")

    deny: list[Any] = [DenyAll]
    with (
        SecretManager(provider, before_cache=deny) as secrets,
        pytest.raises(SecretResolutionError) as info,
    ):
        Guarded(_secretwire_manager=secrets)
    (failure,) = info.value.failures
    assert failure.reason == "access denied"
    assert isinstance(failure.error, AccessDenied)
    assert not isinstance(failure.error, SecretNotFound)
    assert_no_leak(info.value, CANARY)


def test_default_applies_only_when_not_found(manager: SecretManager) -> None:
    class Defaulted(SecretSettings):
        token: SecretStr = Field("${secret:missing/token:-fallback}")

    assert Defaulted(_secretwire_manager=manager).token.get_secret_value() == "fallback"


# -- other framework paths ---------------------------------------------------------------


def test_mixin_in_front_of_another_base_with_its_own_sources(
    tmp_path: Path, manager: SecretManager
) -> None:
    config = tmp_path / "base.yaml"
    config.write_text("# base\n\npassword: ${secret:missing/from-base}\n", encoding="utf-8")

    class CompanyBase(BaseSettings):
        model_config = SecretSettingsConfigDict(yaml_file=str(config))  # type: ignore[typeddict-unknown-key]

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, YamlConfigSettingsSource(settings_cls)

    class App(SecretSettings, CompanyBase):  # SecretSettings first: see the docs
        password: SecretStr = SecretStr("")

    with pytest.raises(SecretResolutionError) as info:
        App(_secretwire_manager=manager)
    assert info.value.failures[0].location == f"{config} line 3 (password)"


def test_model_validate_resolves_too(manager: SecretManager) -> None:
    # BaseSettings has its own __init__, which pydantic calls from model_validate.
    class Validated(AppSettings):
        model_config = SecretSettingsConfigDict(secretwire_manager=manager)

    settings = Validated.model_validate({"token": "${secret:db/password}"})
    assert settings.token is not None
    assert settings.token.get_secret_value() == CANARY
    with pytest.raises(ValidationError) as info:
        Validated.model_validate({"token": "${secret:missing/token}"})
    assert "token: ${secret:missing/token}: not found" in str(info.value)
    assert_no_canary(info.value, info.value.errors(), info.value.json())
    assert_no_leak(info.value, CANARY)


def test_nested_secret_settings_resolved_once(manager: SecretManager) -> None:
    class Inner(SecretSettings):
        token: SecretStr = SecretStr("unset")

    class Outer(SecretSettings):
        inner: Inner

    settings = Outer(inner={"token": "${secret:literal}"}, _secretwire_manager=manager)
    assert settings.inner.token.get_secret_value() == "${secret:db/password}"


def test_import_error_names_the_extra() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["pydantic_settings"] = None
        try:
            import secretwire.adapters.pydantic_settings
        except ImportError as err:
            print(err)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install 'secretwire[pydantic]'" in result.stdout
