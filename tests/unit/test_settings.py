"""Settings files: environments, the selecting variable, bootstrap, typed errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secretwire import ConfigError, SecretManager, SecretValue, load_settings
from secretwire.providers.env import EnvProvider
from secretwire.providers.memory import MemoryProvider


def write(tmp_path: Path, text: str, name: str = "secretwire.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SETTINGS = """\
environment_variable: APP_ENV
default_environment: development
cache: {ttl: 60, maxsize: 10}
environments:
  development:
    provider: memory
    options:
      secrets: {db/password: dev-pw}
  ci:
    provider: env
    options: {prefix: CI_SECRET_}
    cache: {enabled: false}
  production:
    provider: memory
    bootstrap: ci
    options:
      secrets:
        db/password: ${secret:prod/db-password}
        region: ${env:REGION:-eu-west-1}
"""


def test_environment_variable_switches_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(write(tmp_path, SETTINGS))
    monkeypatch.delenv("APP_ENV", raising=False)
    assert settings.select() == "development"
    with SecretManager.from_settings(settings) as manager:
        assert isinstance(manager.provider, MemoryProvider)
        assert manager.get("db/password").reveal() == "dev-pw"
        assert manager.metrics().cache is not None
    monkeypatch.setenv("APP_ENV", "ci")
    with SecretManager.from_settings(settings) as manager:
        assert isinstance(manager.provider, EnvProvider)
        assert manager.environment == "ci"
        assert manager.metrics().cache is None


def test_bootstrap_resolves_options_through_another_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_SECRET_PROD_DB_PASSWORD", "from-bootstrap")
    monkeypatch.delenv("REGION", raising=False)
    settings = load_settings(write(tmp_path, SETTINGS))
    with SecretManager.from_settings(settings, environment="production") as manager:
        assert manager.get("db/password").reveal() == "from-bootstrap"
        assert manager.get("region").reveal() == "eu-west-1"


def test_bootstrap_failure_names_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI_SECRET_PROD_DB_PASSWORD", raising=False)
    path = write(tmp_path, SETTINGS)
    with pytest.raises(ConfigError) as info:
        SecretManager.from_settings(load_settings(path), environment="production")
    assert str(path) in str(info.value)
    assert "environments.production.options" in str(info.value)
    assert "${secret:prod/db-password}" in str(info.value)


def test_missing_env_var_in_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_VAR", raising=False)
    path = write(
        tmp_path,
        "environments:\n  dev:\n    provider: env\n    options: {prefix: '${env:NOPE_VAR}'}\n",
    )
    with pytest.raises(ConfigError, match=r"environments\.dev\.options\.prefix.*NOPE_VAR"):
        SecretManager.from_settings(load_settings(path))


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("environments: {dev: {provider: nope}}", "environments.dev.provider", "unknown provider"),
        ("environments: {dev: {provider: env, color: red}}", "environments.dev.color", "unknown"),
        ("environments: {}", "environments", "at least one"),
        ("foo: 1\nenvironments: {dev: {provider: env}}", "foo", "unknown key"),
        (
            "environments: {dev: {provider: env, options: {prefix: 3}}}",
            "environments.dev.options.prefix",
            "",
        ),
        (
            "environments: {dev: {provider: env, options: {shade: 3}}}",
            "environments.dev.options.shade",
            "",
        ),
        (
            "default_environment: prod\nenvironments: {dev: {provider: env}}",
            "default_environment",
            "not one of",
        ),
        (
            "cache: {ttl: -1}\nenvironments: {dev: {provider: env}}",
            "cache.ttl",
            "positive",
        ),
        (
            "environments: {a: {provider: env, bootstrap: b}, b: {provider: env, bootstrap: a}}",
            "environments",
            "cycle",
        ),
        ("environments: [1, 2]", "environments", "mapping"),
        ("environments: {dev: {provider: env}\n", "line", "invalid YAML"),
    ],
)
def test_bad_settings_name_file_and_key(tmp_path: Path, text: str, key: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        SecretManager.from_settings(
            load_settings(path), environment="dev" if "dev" in text else "a"
        )
    assert str(path) in str(info.value)
    assert key in str(info.value)
    assert message in str(info.value)


def test_unknown_environment_lists_known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(write(tmp_path, SETTINGS))
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(ConfigError, match=r"unknown environment 'staging' \(from \$APP_ENV\)"):
        SecretManager.from_settings(settings)


def test_no_environment_selected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRETWIRE_ENV", raising=False)
    path = write(tmp_path, "environments: {a: {provider: env}, b: {provider: env}}")
    with pytest.raises(ConfigError, match="set SECRETWIRE_ENV"):
        load_settings(path).select()


def test_discovery_walks_up_and_reads_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRETWIRE_CONFIG", raising=False)
    write(
        tmp_path,
        '[tool.secretwire.environments.dev]\nprovider = "env"\n'
        '[tool.secretwire.environments.dev.options]\nprefix = "X_"\n',
        "pyproject.toml",
    )
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    manager = SecretManager.from_settings()
    assert isinstance(manager.provider, EnvProvider)
    monkeypatch.setenv("SECRETWIRE_CONFIG", os.fspath(write(tmp_path, SETTINGS)))
    assert load_settings().environment_variable == "APP_ENV"


def test_no_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRETWIRE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="secretwire init"):
        load_settings(start=tmp_path)


def test_file_provider_paths_are_relative_to_the_settings_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "environments:\n  dev:\n    provider: file\n"
        "    options: {path: store/dev.store, key_file: store/dev.key}\n",
    )
    (tmp_path / "store").mkdir()
    with SecretManager.from_settings(load_settings(path)) as manager:
        manager.set("a", "b")
    assert (tmp_path / "store" / "dev.store").exists()


def test_env_values_are_not_parsed_as_references_during_bootstrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_SECRET_PROD_DB_PASSWORD", "pw")
    monkeypatch.setenv("REGION", "${secret:prod/db-password}")  # hostile variable value
    settings = load_settings(write(tmp_path, SETTINGS))
    with SecretManager.from_settings(settings, environment="production") as manager:
        assert manager.get("region").reveal() == "${secret:prod/db-password}"


def test_bootstrap_on_itself_is_rejected_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "environments: {dev: {provider: env, bootstrap: dev}}")
    with pytest.raises(ConfigError, match=r"environments\.dev\.bootstrap"):
        load_settings(path)


def test_unrelated_broken_pyproject_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRETWIRE_CONFIG", raising=False)
    write(tmp_path, "environments: {dev: {provider: env}}")
    inner = tmp_path / "pkg"
    inner.mkdir()
    write(inner, "[tool.other\nbroken = ", "pyproject.toml")
    assert load_settings(start=inner).source == str(tmp_path / "secretwire.yaml")


# -- ${env:...} is a scheme of the one grammar; one way to build a manager ----------------

ONE_PASS = """\
environments:
  ci:
    provider: env
    options: {prefix: CI_SECRET_}
  app:
    provider: memory
    bootstrap: ci
    options:
      secrets:
        both: ${env:SW_T_HOST:-h}/${secret:db/password}
        escaped: $${env:SW_T_HOST} $${secret:db/password}
        windows: ${env:SW_T_UNSET:-C:\\\\temp}
        defaulted: ${secret:nope:-fallback}
"""


def test_env_and_secret_references_in_options_resolve_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SW_T_HOST", "db.internal")
    monkeypatch.delenv("SW_T_UNSET", raising=False)
    monkeypatch.setenv("CI_SECRET_DB_PASSWORD", "pw")
    settings = load_settings(write(tmp_path, ONE_PASS))
    options = settings._options(settings.environments["app"], ())
    secrets = options["secrets"]
    assert isinstance(secrets["both"], SecretValue)
    assert secrets["both"].reveal() == "db.internal/pw"
    assert secrets["escaped"] == "${env:SW_T_HOST} ${secret:db/password}"
    assert secrets["windows"] == "C:\\temp"
    # held a secret reference (its default was used): still never shown by the provider
    assert isinstance(secrets["defaulted"], SecretValue)


def test_without_bootstrap_secret_references_in_options_stay_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SW_T_PREFIX", "X_")
    path = write(
        tmp_path,
        "environments:\n  dev:\n    provider: memory\n    options:\n"
        "      secrets: {a: '${secret:b} ${env:SW_T_PREFIX}', b: '$${secret:b}'}\n",
    )
    with SecretManager.from_settings(path) as manager:
        assert manager.get("a").reveal() == "${secret:b} X_"
        assert manager.get("b").reveal() == "$${secret:b}"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("'${env:9X}'", r"options\.prefix: \$\{env:9X\}: unexpected character '9'"),
        ("'${env:A'", r"options\.prefix: \$\{env:A: unterminated reference"),
        ("['a', '${env:SW_T_UNSET}']", r"options\.prefix\[1\]: environment variable SW_T_UNSET"),
    ],
)
def test_option_reference_errors_name_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, message: str
) -> None:
    monkeypatch.delenv("SW_T_UNSET", raising=False)
    path = write(
        tmp_path, f"environments:\n  dev:\n    provider: env\n    options: {{prefix: {option}}}\n"
    )
    with pytest.raises(ConfigError, match=message) as info:
        SecretManager.from_settings(path)
    assert info.value.source == str(path)


def test_an_unset_variable_is_reported_before_the_bootstrap_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI_SECRET_DB_PASSWORD", raising=False)
    monkeypatch.delenv("SW_T_UNSET", raising=False)
    text = ONE_PASS.replace("${env:SW_T_HOST:-h}", "${env:SW_T_UNSET}")
    with pytest.raises(ConfigError) as info:
        SecretManager.from_settings(write(tmp_path, text), environment="app")
    assert info.value.key == "environments.app.options.secrets.both"
    assert info.value.reason == "environment variable SW_T_UNSET is not set"


def test_from_settings_is_the_one_way_to_build_a_manager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APP_ENV", raising=False)
    path = write(tmp_path, SETTINGS)
    assert not hasattr(load_settings(path), "manager")
    for given in (path, str(path), load_settings(path)):
        with SecretManager.from_settings(given, cache_ttl=5, max_workers=2) as manager:
            assert manager.environment == "development"
            metrics = manager.metrics()
            assert metrics.cache is not None
            assert (metrics.cache.ttl, metrics.cache.maxsize) == (5, 10)
    with SecretManager.from_settings(path, environment="ci") as manager:
        assert manager.metrics().cache is None  # the environment's own cache settings
