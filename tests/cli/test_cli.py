"""The CLI end to end on the encrypted local store, in-process and as a subprocess."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from secretwire.cli import main, read_value
from secretwire.testing import CANARY


@pytest.fixture
def project(cli_project: Path) -> Path:
    """The project ``secretwire init`` made (tests/conftest.py)."""
    return cli_project


def run(monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(args)


def test_init_creates_files_and_refuses_to_overwrite(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = project / ".secretwire" / "dev.key"
    assert (project / "secretwire.yaml").is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (project / ".secretwire" / "dev.store").is_file()
    assert ".secretwire/" in (project / ".gitignore").read_text().splitlines()
    capsys.readouterr()
    assert main(["init"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("secretwire: error:") and "refusing to overwrite" in err
    assert err.count("\n") == 1


def test_set_get_list_versions_delete(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["set", "db/password"], "first\n") == 0
    assert run(monkeypatch, ["set", "db/password"], "second\n") == 0
    assert run(monkeypatch, ["set", "db/creds"], '{"user": "app"}') == 0
    capsys.readouterr()
    assert main(["get", "db/password"]) == 0
    assert capsys.readouterr().out == "second"
    assert main(["get", "db/password", "--version", "1"]) == 0
    assert capsys.readouterr().out == "first"
    assert main(["get", "db/creds", "--field", "user"]) == 0
    assert capsys.readouterr().out == "app"
    assert main(["get", "--ref", "db/creds#user"]) == 0
    assert capsys.readouterr().out == "app"
    assert main(["list", "db/"]) == 0
    assert capsys.readouterr().out.split() == ["db/creds", "db/password"]
    assert main(["versions", "db/password"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["2", "1"]
    assert "(current)" in lines[0]
    assert run(monkeypatch, ["delete", "db/password"]) == 1  # not a terminal, no --yes
    assert "--yes" in capsys.readouterr().err
    assert main(["delete", "db/password", "--yes"]) == 0
    capsys.readouterr()
    assert main(["get", "db/password"]) == 1
    assert capsys.readouterr().err == (
        "secretwire: error: not found: get secret 'db/password' in provider 'file'\n"
    )


def test_empty_value_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["set", "x"], "\n") == 1
    assert "empty value" in capsys.readouterr().err
    assert run(monkeypatch, ["set", "x", "--allow-empty"], "") == 0


def test_hidden_prompt_asks_twice() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["v", "v"])
    assert read_value(Tty(), prompt=lambda _: next(answers)).reveal() == "v"
    answers = iter(["v", "w"])
    with pytest.raises(Exception, match="differ"):
        read_value(Tty(), prompt=lambda _: next(answers))


CONFIG = """\
app:
  token: ${secret:api/token}
  dsn: postgres://u:$<secret:db/password>@h/db
  missing_with_default: ${secret:nope:-fallback}
  port: 5432
"""


def test_render_masks_unless_reveal(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "config.yaml").write_text(CONFIG)
    run(monkeypatch, ["set", "api/token"], CANARY)
    run(monkeypatch, ["set", "db/password"], "pw")
    capsys.readouterr()
    assert main(["render", "config.yaml"]) == 0
    masked = capsys.readouterr().out
    assert CANARY not in masked
    assert yaml.safe_load(masked)["app"]["dsn"] == "postgres://u:**********@h/db"
    assert main(["render", "--reveal", "--format", "json", "config.yaml"]) == 0
    revealed = json.loads(capsys.readouterr().out)
    assert revealed["app"] == {
        "token": CANARY,
        "dsn": "postgres://u:pw@h/db",
        "missing_with_default": "fallback",
        "port": 5432,
    }


def test_check_lists_missing_with_locations(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "config.yaml").write_text(CONFIG)
    run(monkeypatch, ["set", "api/token"], CANARY)
    capsys.readouterr()
    assert main(["check", "config.yaml"]) == 1
    out, err = capsys.readouterr()
    assert out == ("config.yaml: app.dsn (line 3): $<secret:db/password>: not found\n")
    assert CANARY not in out + err
    run(monkeypatch, ["set", "db/password"], "pw")
    capsys.readouterr()
    assert main(["check", "config.yaml"]) == 0
    assert "3 reference(s) resolvable" in capsys.readouterr().out


def test_render_failure_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "config.yaml").write_text("a: ${secret:x}\nb: ${secret:bad name}\n")
    assert main(["render", "config.yaml"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "b (line 2)" in err or "config.yaml:2" in err
    assert "a (line 1): ${secret:x}: not found" in err


def test_health(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health"]) == 0
    assert capsys.readouterr().out.startswith("file (development): ok")


def test_unknown_environment_is_one_clear_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--env", "prod", "list"]) == 1
    err = capsys.readouterr().err
    assert "unknown environment 'prod'" in err
    assert "secretwire.yaml" in err


def test_canary_never_in_cli_output_except_get_and_reveal(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "config.yaml").write_text("k: ${secret:c}\nj: ${secret:c#field}\n")
    run(monkeypatch, ["set", "c", "--metadata", "owner=me"], CANARY)
    for args in (
        ["list"],
        ["versions", "c"],
        ["render", "config.yaml"],
        ["check", "config.yaml"],
        ["get", "c", "--field", "field"],
        ["get", "--ref", "c#field"],
        ["get", "c", "--version", "99"],
        ["get", "c#field"],
        ["health"],
    ):
        main(args)
        out, err = capsys.readouterr()
        assert CANARY not in out + err, args


def test_module_entry_point_exit_code_and_no_traceback(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-m", "secretwire", "get", "nope"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=project,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("secretwire: error: not found")
    debug = subprocess.run(
        [sys.executable, "-m", "secretwire", "--debug", "get", "nope"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=project,
    )
    assert "Traceback" in debug.stderr


def test_usage_error_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_get_version_flag_with_a_default(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run(monkeypatch, ["set", "p"], "one")
    run(monkeypatch, ["set", "p"], "two")
    capsys.readouterr()
    assert main(["get", "--ref", "p:-dflt", "--version", "1"]) == 0
    assert capsys.readouterr().out == "one"
    assert main(["get", "--ref", "nope:-dflt", "--version", "1"]) == 0
    assert capsys.readouterr().out == "dflt"
    assert main(["get", "nope", "--default", "dflt", "--version", "1"]) == 0
    assert capsys.readouterr().out == "dflt"
    assert main(["get", "p", "--default", "", "--version", "1"]) == 0
    assert capsys.readouterr().out == "one"
    assert main(["get", "--ref", "p@1", "--version", "1"]) == 1
    assert "either in --ref or with --version" in capsys.readouterr().err


def test_check_counts_defaults_apart(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "config.yaml").write_text("a: ${secret:nope:-x}\n")
    capsys.readouterr()
    assert main(["check", "config.yaml"]) == 0
    assert "1 by their default" in capsys.readouterr().out


def test_set_on_a_provider_without_versions_names_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Vault KV v1 and the keyring provider keep no versions: their SecretVersion has "".
    from secretwire import SecretVersion, register_provider
    from secretwire.providers.memory import MemoryProvider

    class Unversioned(MemoryProvider):
        name = "unversioned"

        def _set(self, write):  # type: ignore[no-untyped-def]
            super()._set(write)
            return SecretVersion(name=write.name, version="")

    register_provider("unversioned", Unversioned)
    (tmp_path / "secretwire.yaml").write_text("environments: {dev: {provider: unversioned}}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRETWIRE_CONFIG", raising=False)
    assert run(monkeypatch, ["set", "db/password"], "x") == 0
    assert capsys.readouterr().err == "stored 'db/password'\n"


def _loaded_by_get(project: Path, *extra: str) -> set[str]:
    """The ``secretwire*`` and ``extra`` modules a process that ran ``secretwire get``
    on the project's file store (a secret set by an earlier process) has loaded."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run(
        [sys.executable, "-m", "secretwire", "set", "db/pw"],
        input="pw-value",
        text=True,
        env=env,
        check=True,
        cwd=project,
        capture_output=True,
    )
    code = (
        "import sys; from secretwire.cli import main; code = main(['get', 'db/pw']);"
        f"print(sorted(m for m in sys.modules if m.startswith(('secretwire', *{extra!r}))),"
        " file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
    )
    assert result.stdout == "pw-value"
    return set(eval(result.stderr))  # noqa: S307 - our own printed list


def test_a_command_imports_only_what_it_needs(project: Path) -> None:
    """``secretwire get`` builds only its own parser and loads no other command's
    modules (injection, transfer, scanning, policy export, rotation, status)."""
    loaded = _loaded_by_get(project)
    others = {
        "secretwire.injection",
        "secretwire.transfer",
        "secretwire.leakscan",
        "secretwire.governance.export",
        "secretwire.governance.audit",
        "secretwire.lifecycle.rotation",
        "secretwire.lifecycle.status",
        "secretwire.cli._commands_inject",
        "secretwire.cli._commands_config",
        "secretwire.cli.health",
    }
    assert loaded & others == set()
    assert "secretwire.cli._commands_secrets" in loaded


def test_get_loads_no_machinery_its_settings_do_not_use(project: Path) -> None:
    """Start-up time (docs/performance.md): ``secretwire get`` on the file store whose
    settings have no ``l2:``, no ``provider: auto`` and no ``$`` in the options loads
    neither the resolver nor the shared cache nor provider detection; a reference
    is read without the resolver."""
    loaded = _loaded_by_get(project, "redis")
    unused = {
        "secretwire.resolver",
        "secretwire.l2",
        "secretwire.l2.config",
        "secretwire.failover.detect",
        "redis",
    }
    assert loaded & unused == set()
    assert "secretwire.providers.localfile" in loaded
