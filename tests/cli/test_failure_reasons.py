"""``check``, ``render`` and ``get`` name why a reference failed (which endpoint, what
the connection said), not just "unavailable": a real Vault provider pointed at a
loopback port where nothing listens."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from secretwire.cli import main

TOKEN = "s.closed-port-token-6d1e"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    (tmp_path / "secretwire.yaml").write_text(
        "environments:\n  prod:\n    provider: vault\n"
        f"    options: {{url: '{url}', token_env: SW_TEST_VAULT_TOKEN, timeout: 5}}\n"
    )
    (tmp_path / "config.yaml").write_text("db:\n  password: ${secret:db/password}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRETWIRE_CONFIG", raising=False)
    monkeypatch.delenv("SECRETWIRE_ENV", raising=False)
    monkeypatch.setenv("SW_TEST_VAULT_TOKEN", TOKEN)
    return url


def test_check_names_the_reason_and_the_endpoint(
    project: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "config.yaml"]) == 1
    captured = capsys.readouterr()
    assert captured.out == (
        f"config.yaml: db.password (line 2): ${{secret:db/password}}: unavailable at {project}: "
        "cannot connect to Vault (Connection refused)\n"
    )
    assert TOKEN not in captured.out + captured.err


def test_render_names_the_reason_and_the_endpoint(
    project: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "config.yaml"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "secretwire: error: 1 secret reference(s) could not be resolved in config.yaml: "
        f"db.password (line 2): ${{secret:db/password}}: unavailable at {project}: cannot "
        "connect to Vault (Connection refused)\n"
    )
    assert TOKEN not in captured.err
