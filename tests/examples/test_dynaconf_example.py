"""The dynaconf example runs as a user runs it: a program in a fresh project folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.examples import support

pytest.importorskip("dynaconf", reason="the dynaconf example needs dynaconf")

import secretwire.adapters.dynaconf as adapter

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dynaconf"
SECRETS = {
    "db/password": "pw-canary-{0}-91ab",
    "db/creds": json.dumps({"user": "u-canary-5e", "port": 5432}),
}
pytestmark = pytest.mark.skipif(
    not adapter._HOOKS_SUPPORTED, reason="the example's SecretwireHook needs dynaconf >= 3.2.2"
)


DROP = ("PROD_SECRET_", "APP_", "DYNACONF_", "ENV_FOR_DYNACONF")


def _run(
    args: list[str], cwd: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return support.run(args, cwd, stdin, drop=DROP, **env)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("app.py", "settings.toml", "secretwire.yaml"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    for name, value in SECRETS.items():
        done = _run([sys.executable, "-m", "secretwire", "set", name], tmp_path, value)
        assert done.returncode == 0, done.stderr
    return tmp_path


def test_development_reads_the_local_store(project: Path) -> None:
    result = _run([sys.executable, "app.py"], project)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "environment: development" in out
    assert "database host: localhost" in out
    assert "database port is a number: True" in out  # @int @format inside a table
    assert f"password length: {len(SECRETS['db/password'])}" in out
    assert "url: postgres://localhost:5432/app?user=app&password=**********" in out
    assert "webhook: disabled" in out
    assert "repeated reads agree: True" in out
    assert "backend calls: 3" in out  # db/password, db/creds, git/webhook-secret: once each
    assert "'password': '**********'" in result.stderr  # the logged masked_dict
    for secret in (*SECRETS.values(), "u-canary-5e"):
        assert secret not in out + result.stderr


def test_env_for_dynaconf_switches_section_and_backend(project: Path) -> None:
    result = _run(
        [sys.executable, "app.py"],
        project,
        ENV_FOR_DYNACONF="production",
        PROD_SECRET_DB_PASSWORD="prod-canary-77",
        PROD_SECRET_DB_CREDS=json.dumps({"user": "prod-user", "port": 6543}),
    )
    assert result.returncode == 0, result.stderr
    assert "environment: production" in result.stdout
    assert "database host: db.internal" in result.stdout  # [production] section
    # [production.database] merges into the table: the cast still applies
    assert "database port is a number: True" in result.stdout
    assert "password length: 14" in result.stdout  # from PROD_SECRET_DB_PASSWORD
    assert "env.get 'db/password'" in result.stderr  # the env provider served it
    assert "prod-canary-77" not in result.stdout + result.stderr


def test_missing_production_secrets_are_listed_together(project: Path) -> None:
    result = _run([sys.executable, "app.py"], project, ENV_FOR_DYNACONF="production")
    assert result.returncode == 1
    err = result.stderr
    assert "4 secret reference(s) could not be resolved in dynaconf settings" in err
    toml = str(project / "settings.toml")
    assert f"DATABASE.password ({toml} [default]): ${{secret:db/password}}: not found" in err
    assert "  DATABASE.url" in err
    assert "$<secret:db/password>: not found" in err
    assert f"DATABASE.user ({toml} [default]): ${{secret:db/creds#user}}: not found" in err
    assert f"DATABASE.port ({toml} [default]) (@format): $<secret:db/creds#port>: not" in err


def test_environment_variable_settings_are_resolved(project: Path) -> None:
    result = _run(
        [sys.executable, "app.py"],
        project,
        APP_FEATURES__webhook_secret="${secret:db/password}",
        APP_DATABASE__HOST="pg.example",  # dynaconf merges it into the table
    )
    assert result.returncode == 0, result.stderr
    assert "webhook: configured" in result.stdout
    assert "database host: pg.example" in result.stdout
    assert "database port is a number: True" in result.stdout
    assert SECRETS["db/password"] not in result.stdout + result.stderr
