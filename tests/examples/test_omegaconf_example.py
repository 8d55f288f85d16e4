"""examples/omegaconf runs as a user runs it: a program in a fresh project folder."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.examples import support

pytest.importorskip("omegaconf")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "omegaconf"
SECRETS = {
    "db/port": "5432",
    "db/creds": '{"user": "app-canary-e1", "host": "ignored"}',
    "db/password": "pw-canary-91ab",
    "api/prod/key": "sk-canary-4d2f",
}
CI_VARIABLES = {
    "APP_SECRET_DB_PORT": "6543",
    "APP_SECRET_DB_CREDS": '{"user": "ci-user-canary"}',
    "APP_SECRET_DB_PASSWORD": "ci-pw-canary-77",
    "APP_SECRET_API_PROD_KEY": "ci-key-canary-31",
}
HAS_HYDRA = importlib.util.find_spec("hydra") is not None


DROP = ("APP_SECRET_", "APP_ENV")


def run(
    args: list[str], cwd: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return support.run([sys.executable, *args], cwd, stdin, drop=DROP, **env)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The example's files in a new folder, with a development store seeded by the CLI."""
    for name in ("app.py", "hydra_app.py", "config.yaml", "hydra_config.yaml"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    shutil.copytree(EXAMPLE / "env", tmp_path / "env")  # the Hydra config group
    assert run(["-m", "secretwire", "init"], tmp_path).returncode == 0  # the store and key
    shutil.copy(EXAMPLE / "secretwire.yaml", tmp_path / "secretwire.yaml")  # + the ci env
    for name, value in SECRETS.items():
        done = run(["-m", "secretwire", "set", name], tmp_path, value)
        assert done.returncode == 0, done.stderr
    return tmp_path


def assert_no_values(text: str, values: dict[str, str]) -> None:
    for value in values.values():
        assert value not in text
        if value.startswith("{"):
            assert "canary" not in text


def test_app_resolves_from_the_local_store_and_prints_masked(project: Path) -> None:
    result = run(["app.py", "config.yaml"], project)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "  password: '**********'" in out
    assert "  url: '**********'" in out  # built from a secret: masked whole
    assert "  host: db.internal" in out
    assert "  webhook_secret: disabled" in out  # the default
    assert "  sentry_dsn: null" in out
    assert "  template_example: ${secret:not/resolved}" in out
    assert "database.port is int" in out
    assert "environment: development (file)" in out
    assert "api key **********" in result.stderr
    assert "password: ${secret:db/password}" in result.stderr  # logged as written
    assert_no_values(out + result.stderr, SECRETS)


def test_app_switches_backend_with_the_environment_variable(project: Path) -> None:
    result = run(["app.py", "config.yaml"], project, APP_ENV="ci", **CI_VARIABLES)
    assert result.returncode == 0, result.stderr
    assert "environment: ci (env)" in result.stdout
    assert "  password: '**********'" in result.stdout
    assert_no_values(result.stdout + result.stderr, CI_VARIABLES)
    assert_no_values(result.stdout + result.stderr, SECRETS)


def test_app_reports_every_missing_secret_once(project: Path) -> None:
    # ci without its variables: every reference is missing, reported in one error
    result = run(["app.py", "config.yaml"], project, APP_ENV="ci")
    assert result.returncode == 1
    err = result.stderr
    assert "5 secret reference(s) could not be resolved in config.yaml" in err
    for line in (
        "database.port (line 7): ${secret:db/port}: not found",
        "database.user (line 8): ${secret:db/creds#user}: not found",
        "database.password (line 9): ${secret:db/password}: not found",
        "database.url (line 11): ${secret:db/password}: not found",
        "api.key (line 13): ${secret:api/prod/key}: not found",
    ):
        assert line in err
    assert "${secret:git/webhook" not in err  # served by its default


NEEDS_HYDRA = pytest.mark.skipif(
    not HAS_HYDRA,
    reason="hydra-core is not installed (hydra-core 1.3.x declares omegaconf<2.4 from "
    "1.3.1 on); runs in the OmegaConf 2.3 environment",
)


@NEEDS_HYDRA
def test_hydra_app(project: Path) -> None:
    result = run(["hydra_app.py", "hydra.job.chdir=False"], project)
    assert result.returncode == 0, result.stderr
    assert "  password: '**********'" in result.stdout
    assert "database url has" in result.stdout
    assert "environment: development (file)" in result.stdout  # the default env option
    saved = list(project.glob("outputs/*/*/.hydra/config.yaml"))
    assert len(saved) == 1
    assert "password: ${secret:db/password}" in saved[0].read_text()
    assert "secretwire:\n  environment: development" in saved[0].read_text()
    logs = "".join(p.read_text() for p in project.glob("outputs/*/*/*.log"))
    assert "password: ${secret:db/password}" in logs
    assert_no_values(result.stdout + result.stderr + saved[0].read_text() + logs, SECRETS)


@NEEDS_HYDRA
def test_hydra_config_group_picks_the_environment(project: Path) -> None:
    # issue 8, item 16: `env=ci` (a config group) chooses the backend; no APP_ENV
    result = run(["hydra_app.py", "env=ci"], project, **CI_VARIABLES)
    assert result.returncode == 0, result.stderr
    assert "environment: ci (env)" in result.stdout
    assert "  password: '**********'" in result.stdout
    url = "postgres://ci-user-canary:ci-pw-canary-77@db.internal:6543/app"  # the ci values
    assert f"database url has {len(url)} characters" in result.stdout
    assert_no_values(result.stdout + result.stderr, CI_VARIABLES)
    assert_no_values(result.stdout + result.stderr, SECRETS)


@NEEDS_HYDRA
def test_hydra_config_group_and_app_env_must_agree(project: Path) -> None:
    result = run(["hydra_app.py"], project, APP_ENV="ci", **CI_VARIABLES)
    assert result.returncode == 1
    assert (
        "the config picks environment 'development' (secretwire.environment), but $APP_ENV "
        "is 'ci'; unset $APP_ENV or make them agree"
    ) in result.stderr
    assert run(["hydra_app.py", "env=ci"], project, APP_ENV="ci", **CI_VARIABLES).returncode == 0


@NEEDS_HYDRA
def test_hydra_app_reports_missing_secrets(project: Path) -> None:
    result = run(["hydra_app.py", "env=ci"], project)  # ci without its variables
    assert result.returncode == 1
    assert "5 secret reference(s) could not be resolved in config.yaml" in result.stderr
    assert "database.password: ${secret:db/password}: not found" in result.stderr
