"""examples/pydantic_settings runs as users run it: a program in a fresh project folder."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.examples import support

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pydantic_settings"
DEV_SECRETS = {
    "db/password": "dev-pw-canary-6c1e",
    "db/creds": '{"user": "dev-user-canary-2a7d", "host": "db.internal", "port": 5432}',
    "api/token": "dev-token-canary-93f0",
}
CI_SECRETS = {
    "APP_SECRET_DB_PASSWORD": "ci-pw-canary-0d4b",
    "APP_SECRET_DB_CREDS": '{"user": "ci-user-canary-5e88", "host": "ci-db", "port": 6543}',
    "APP_SECRET_API_TOKEN": "ci-token-canary-71aa",
}
LEAKS = ["canary"]  # every value above contains it; none may be printed


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


DROP = ("APP_", "PYDANTIC_SETTINGS_")


def run(
    args: list[str], cwd: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return support.run([sys.executable, *args], cwd, stdin, drop=DROP, **env)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The example copied to a fresh folder, its development store seeded."""
    for name in ("app.py", "settings.yaml", "secretwire.yaml", ".env.example"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    shutil.copy(EXAMPLE / ".env.example", tmp_path / ".env")
    for name, value in DEV_SECRETS.items():
        result = run(["-m", "secretwire", "set", name], tmp_path, value)
        assert result.returncode == 0, result.stderr
    return tmp_path


def assert_masked(result: subprocess.CompletedProcess[str]) -> None:
    out = result.stdout + result.stderr
    assert "canary" not in out
    assert "**********" in out


def test_development_reads_the_local_store(project: Path) -> None:
    result = run(["app.py"], project)
    assert result.returncode == 0, result.stderr
    creds = json.loads(DEV_SECRETS["db/creds"])
    assert "database host: db.internal, pool size: 10" in result.stdout  # pool size from .env
    assert "database port is a number: True" in result.stdout  # Secret[int] from .env
    assert f"database user fingerprint: {fingerprint(creds['user'])}" in result.stdout
    assert (
        f"database password fingerprint: {fingerprint(DEV_SECRETS['db/password'])}" in result.stdout
    )
    assert f"api token fingerprint: {fingerprint(DEV_SECRETS['api/token'])}" in result.stdout
    dumped = json.loads(result.stdout.splitlines()[1])
    assert dumped["database"]["password"] == "**********"
    assert dumped["api_token"] == "**********"
    assert "settings loaded: AppSettings(" in result.stderr  # the log line, masked
    assert_masked(result)


def test_environment_switch_reads_variables_instead(project: Path) -> None:
    shutil.rmtree(project / ".secretwire")  # the ci environment needs no store
    result = run(["app.py"], project, SECRETWIRE_ENV="ci", **CI_SECRETS)
    assert result.returncode == 0, result.stderr
    creds = json.loads(CI_SECRETS["APP_SECRET_DB_CREDS"])
    assert "database host: ci-db" in result.stdout
    assert "database port is a number: True" in result.stdout
    assert f"database user fingerprint: {fingerprint(creds['user'])}" in result.stdout
    token = fingerprint(CI_SECRETS["APP_SECRET_API_TOKEN"])
    assert f"api token fingerprint: {token}" in result.stdout
    assert_masked(result)


def test_missing_secrets_are_listed_in_one_error(project: Path) -> None:
    env = dict(CI_SECRETS)
    del env["APP_SECRET_DB_PASSWORD"]
    del env["APP_SECRET_API_TOKEN"]
    result = run(["app.py"], project, SECRETWIRE_ENV="ci", **env)
    assert result.returncode == 2
    assert "\nerror: 2 secret reference(s) could not be resolved in AppSettings:\n" in (
        result.stderr
    )
    assert "  .env line 2 (APP_API_TOKEN): ${secret:api/token}: not found" in result.stderr
    assert (
        "  settings.yaml line 6 (database.password): ${secret:db/password}: not found"
        in result.stderr
    )
    assert "canary" not in result.stdout + result.stderr
