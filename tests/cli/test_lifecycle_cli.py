"""The lifecycle commands end to end on the file store: rotate (NAME, --due,
--dry-run), rollback, status, check of the declared secrets, docs, init --template,
``--json`` on the read commands, and an example in every command's help."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretwire.cli import build_parser, main
from secretwire.cli.init import TEMPLATES
from secretwire.settings import load_settings
from secretwire.testing import CANARY, FakeClock

DAY = 86400.0


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for variable in ("SECRETWIRE_CONFIG", "SECRETWIRE_ENV"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["init"]) == 0
    return tmp_path


def declare(project: Path, secrets: dict[str, Any]) -> None:
    path = project / "secretwire.yaml"
    data = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**data, "secrets": secrets}, sort_keys=False))


def put(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(value))
    assert main(["set", name]) == 0


def out_json(capsys: pytest.CaptureFixture[str], args: list[str], code: int = 0) -> Any:
    capsys.readouterr()
    assert main(args) == code
    return json.loads(capsys.readouterr().out)


def test_every_command_has_an_example_in_its_help() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"rotate", "rollback", "status", "docs"} <= set(commands)
    for name, command in commands.items():
        examples = command.format_help().partition("\nexamples:\n")[2]
        assert f"secretwire {name}" in examples, name


def test_rotate_rollback_and_the_json_read_commands(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    declare(project, {"db/password": {"rotation": {"generator": {"type": "hex", "bytes": 20}}}})
    put(monkeypatch, "db/password", CANARY)
    done = out_json(capsys, ["rotate", "db/password", "--json"])
    (result,) = done["results"]
    assert done["ok"] and result["version"] == "2" and result["previous"] == "1"
    assert result["steps"] == ["started", "generated", "stored", "finished"]
    meta = out_json(capsys, ["get", "db/password", "--json"])
    assert meta["version"] == "2" and meta["metadata"]["secretwire-rotation-state"] == "done"
    assert "value" not in meta
    capsys.readouterr()
    assert main(["get", "db/password"]) == 0
    assert len(capsys.readouterr().out) == 40
    assert out_json(capsys, ["list", "--json"]) == {"prefix": "", "names": ["db/password"]}
    assert out_json(capsys, ["rollback", "db/password", "--to", "1", "--json"])["version"] == "3"
    versions = out_json(capsys, ["versions", "db/password", "--json"])["versions"]
    assert [(v["version"], v["current"]) for v in versions] == [
        ("3", True),
        ("2", False),
        ("1", False),
    ]
    assert versions[0]["metadata"] == {"secretwire-rollback-of": "1"}
    capsys.readouterr()
    assert main(["get", "db/password"]) == 0
    assert capsys.readouterr().out == CANARY


def test_a_failed_rotation_exits_non_zero_naming_the_step(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    verify = {"command": ["sh", "-c", "cat >/dev/null; exit 3"]}
    declare(project, {"db/password": {"rotation": {"verify": verify}}})
    put(monkeypatch, "db/password", CANARY)
    capsys.readouterr()
    assert main(["rotate", "db/password"]) == 1
    captured = capsys.readouterr()
    hook = "hook command \"sh -c 'cat >/dev/null; exit 3'\""
    assert f"failed at verify: {hook} exited with code 3; reverted" in captured.err
    assert CANARY not in captured.out + captured.err
    assert main(["get", "db/password"]) == 0
    assert capsys.readouterr().out == CANARY


def test_a_hook_that_hangs_is_stopped_at_its_timeout(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    apply = {"command": ["sleep", "30"], "timeout": "1s"}
    declare(project, {"db/password": {"rotation": {"apply": apply}}})
    put(monkeypatch, "db/password", "v1")
    failed = out_json(capsys, ["rotate", "db/password", "--json"], code=1)["results"][0]
    assert (failed["step"], failed["outcome"]) == ("apply", "reverted")
    assert "timed out after 1 s" in failed["error"]


def test_rotate_due_on_a_fake_clock(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    declare(
        project,
        {
            "db/password": {"rotation": {"interval": "30d"}},
            "api/key": {"rotation": {"interval": "7d"}},
        },
    )
    clock = FakeClock()
    with clock.installed():
        put(monkeypatch, "db/password", "p1")
        put(monkeypatch, "api/key", "k1")
        clock.advance(8 * DAY)
        planned = out_json(capsys, ["rotate", "--due", "--dry-run", "--json"])
        assert [p["name"] for p in planned["results"]] == ["api/key"]
        assert planned["results"][0]["plan"] == "every 7d, password"
        capsys.readouterr()
        assert main(["rotate", "--due"]) == 0
        assert "rotated 'api/key': version 2 (was 1)" in capsys.readouterr().err
        assert main(["rotate", "--due"]) == 0
        assert "nothing is due" in capsys.readouterr().err
        clock.advance(30 * DAY)
        rows = out_json(capsys, ["status", "--json"])["secrets"]
        assert [row["due"] for row in rows] == [True, True]
        capsys.readouterr()
        assert main(["status"]) == 0
        table = capsys.readouterr().out.splitlines()
        assert table[0].split()[:4] == ["NAME", "EXISTS", "VERSION", "AGE"]
        assert table[1].split()[:5] == ["db/password", "yes", "1", "38d", "-"]
        assert table[2].split()[:5] == ["api/key", "yes", "2", "30d", "2030-01-09"]


def test_check_fails_on_the_declared_secrets_naming_the_rule(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    declare(
        project,
        {
            "db/password": {"validation": {"min_length": 40}},
            "api/*": {"owner": "team-api"},
            "db/token": {"rotation": {"generator": {"type": "no-such"}}},
        },
    )
    put(monkeypatch, "db/password", CANARY)
    capsys.readouterr()
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    source = str(project / "secretwire.yaml")
    assert captured.out.splitlines() == [
        f"{source}: secrets.db/password: secret 'db/password' fails validation rule min_length 40",
        f"{source}: secrets.api/*: the glob matches no secret",
        f"{source}: secrets.db/token: required secret 'db/token' does not exist",
        f"{source}: secrets.db/token.rotation.generator.type: unknown generator 'no-such': not "
        "built in, no entry point of that name in group 'secretwire.generators', and not a "
        "module:attribute path",
    ]
    assert "4 problem(s) in 3 declared secret(s) checked" in captured.err
    assert CANARY not in captured.out + captured.err
    report = out_json(capsys, ["check", "--json"], code=1)
    assert report["ok"] is False and len(report["secrets"]["failures"]) == 4


def test_docs_renders_the_inventory_without_values(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = {"interval": "30d", "apply": {"command": ["./set.sh"]}, "verify": {"python": "m:f"}}
    declare(
        project,
        {
            "db/password": {
                "description": "Postgres | app user",
                "owner": "team-db",
                "rotation": policy,
            }
        },
    )
    put(monkeypatch, "db/password", CANARY)
    capsys.readouterr()
    assert main(["docs"]) == 0
    page = capsys.readouterr().out
    assert "| `db/password` | Postgres \\| app user | team-db | yes | - |" in page
    assert "every 30d, password, apply: command, verify: python |" in page
    assert CANARY not in page
    assert main(["docs", "--output", "SECRETS.md"]) == 0
    assert (project / "SECRETS.md").read_text() == page


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_init_templates(
    template: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRETWIRE_CONFIG", raising=False)
    assert main(["init", "--template", template]) == 0
    settings = load_settings(tmp_path / "secretwire.yaml")
    expected = {"development"} | ({"production"} if template != "local" else set())
    assert set(settings.environments) == expected
    if template != "local":
        assert settings.environments["production"].provider == template
    assert settings.secrets.declared("app/session-key") is not None
    assert main(["check"]) == 0  # a fresh project passes
    put(monkeypatch, "app/session-key", "x" * 40)
    assert main(["rotate", "app/session-key"]) == 0
