"""The examples run as users run them: as programs, in a fresh project folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
SECRETS = {
    "ai/anthropic/api-key": "sk-ant-canary-4d2f",
    "db/password": "pw-canary-91ab",
    "db/creds": '{"user": "app", "host": "db.internal"}',
}


def sw(args: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretwire", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
        env=_env(),
    )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETWIRE_")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(QUICKSTART / "config.yaml", tmp_path / "config.yaml")
    sw(["init"], tmp_path)
    for name, value in SECRETS.items():
        sw(["set", name], tmp_path, value)
    return tmp_path


def test_quickstart_app(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(QUICKSTART / "app.py"), "config.yaml"],
        capture_output=True,
        text=True,
        cwd=project,
        check=True,
        env=_env(),
    )
    assert "database host: db.internal:5432/app" in result.stdout
    assert "features.webhook_secret: ${secret:git/github/webhook-secret:-disabled} <- default" in (
        result.stdout
    )
    assert "ai.anthropic.api_key: ${secret:ai/anthropic/api-key} <- file v1" in result.stdout
    assert "api key **********" in result.stderr
    for value in SECRETS.values():
        assert value not in result.stdout + result.stderr


def test_quickstart_config_renders(project: Path) -> None:
    rendered = sw(["render", "--reveal", "config.yaml"], project).stdout
    assert "url: postgres://app:pw-canary-91ab@db.internal:5432/app" in rendered
    assert "password: pw-canary-91ab" in rendered
    assert "webhook_secret: disabled" in rendered
    assert "template_example: ${secret:not/resolved}" in rendered
    masked = sw(["render", "config.yaml"], project).stdout
    assert all(value not in masked for value in SECRETS.values())


@pytest.mark.slow
@pytest.mark.skipif(
    not (Path(sys.prefix) / "bin" / "python").exists() or sys.prefix == sys.base_prefix,
    reason="needs to run inside a virtual environment it may install into",
)
def test_readme_demo_command(tmp_path: Path) -> None:
    """README command 1, in the venv the tests run in (so no second install)."""
    env = {**_env(), "VENV": sys.prefix, "TMPDIR": str(tmp_path)}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "api_key: sk-ant-demo-0123456789" in result.stdout
    assert "ok: " in result.stdout
