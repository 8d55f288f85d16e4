"""``import``, ``export`` and ``copy``: dry runs, no overwrite without --overwrite, reports
of what was done (an interruption included), typed errors naming file and line."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from secretwire import SecretManager, SecretValue
from secretwire.cli import main
from secretwire.dotenv import DotenvError, format_dotenv, parse_dotenv, read_dotenv
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, assert_no_leak
from secretwire.transfer import transfer

IMPORT = (
    f"# app\nDB_PASSWORD=\"{CANARY}\\nline 2\"\nAPI_KEY=abc-123456\nEMPTY=\nexport TOKEN='t0k#x'\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings with two encrypted local stores: ``dev`` and ``prod``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRETWIRE_CONFIG", raising=False)
    monkeypatch.delenv("SECRETWIRE_ENV", raising=False)
    environments = {}
    for name in ("dev", "prod"):
        key = tmp_path / f"{name}.key"
        key.write_bytes(base64.urlsafe_b64encode(os.urandom(32)))
        key.chmod(0o600)
        environments[name] = {
            "provider": "file",
            "options": {"path": f"{name}.store", "key_file": f"{name}.key"},
        }
    settings = {"default_environment": "dev", "environments": environments}
    (tmp_path / "secretwire.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    (tmp_path / "in.env").write_text(IMPORT, encoding="utf-8")
    return tmp_path


def names(environment: str = "dev") -> list[str]:
    with SecretManager.from_settings(environment=environment) as manager:
        return manager.list()


def test_import_dry_run_then_import_then_no_overwrite(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "in.env", "--prefix", "app/", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would be imported: app/DB_PASSWORD" in out and "skipped: app/EMPTY (empty value)" in out
    assert names() == []
    assert main(["import", "in.env", "--prefix", "app/"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "3 imported, 1 skipped, 0 failed (of 4)"
    with SecretManager.from_settings() as manager:
        assert manager.get("app/DB_PASSWORD").reveal() == f"{CANARY}\nline 2"
        assert manager.get("app/TOKEN").reveal() == "t0k#x"
        manager.set("app/API_KEY", "changed-elsewhere")
    assert main(["import", "in.env", "--prefix", "app/"]) == 0
    out = capsys.readouterr().out
    assert "skipped: app/API_KEY (exists; --overwrite replaces it)" in out
    with SecretManager.from_settings() as manager:
        assert manager.get("app/API_KEY").reveal() == "changed-elsewhere"
    assert main(["import", "in.env", "--prefix", "app/", "--overwrite"]) == 0
    with SecretManager.from_settings() as manager:
        assert manager.get("app/API_KEY").reveal() == "abc-123456"
    assert CANARY not in capsys.readouterr().out


def test_bad_import_files_are_typed_errors_and_nothing_is_written(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "folder.env").mkdir()
    files = {
        "nope.env": None,
        "folder.env": None,
        "line.env": f"A=1\n{CANARY}\n",
        "quote.env": f'A=1\nB="{CANARY}\n',
        "utf8.env": b"A=1\nB=\xff\n",
        "name.env": "A=1\nB\\C=x\n",
        "again.env": "A=1\nA=2\n",
        "badname.env": "A=1\n",
    }
    for name, text in files.items():
        if isinstance(text, bytes):
            (project / name).write_bytes(text)
        elif text is not None:
            (project / name).write_text(text, encoding="utf-8")
    expected = {
        "nope.env": "nope.env: cannot read the file: No such file or directory",
        "folder.env": "folder.env: cannot read the file: Is a directory",
        "line.env": "line.env:2: expected KEY=VALUE (the line is not shown)",
        "quote.env": "quote.env:2: B: the double quote is not closed",
        "utf8.env": "utf8.env:2: not UTF-8 text",
        "name.env": "name.env:2: the variable name is not [A-Za-z_][A-Za-z0-9_]*",
        "again.env": "again.env:2: A is defined again (first at line 1)",
    }
    for name, message in expected.items():
        assert main(["import", name]) == 1
        err = capsys.readouterr().err
        assert err == f"secretwire: error: {message}\n"
    assert main(["import", "badname.env", "--prefix", "bad name/"]) == 1
    assert "badname.env:1: A: " in capsys.readouterr().err
    assert names() == []
    for name in ("line.env", "quote.env"):
        with pytest.raises(DotenvError) as info:
            read_dotenv(project / name)
        assert_no_leak(info.value, CANARY)


def test_an_interrupted_import_reports_exactly_what_was_done() -> None:
    """Ctrl-C during the third write: two written, the third reported as in flight
    (it may or may not be written), the rest not attempted; the store agrees."""
    with SecretManager(MemoryProvider({})) as manager:
        writes: list[str] = []

        def write(name: str, value: SecretValue) -> None:
            writes.append(name)
            if len(writes) == 3:
                raise KeyboardInterrupt
            manager.set(name, value)

        wanted = [f"n{i}" for i in range(6)]
        report = transfer(
            wanted, existing={"n1"}, read=lambda name: SecretValue(f"value of {name}"), write=write
        )
        assert report.written == ["n0", "n2"]
        assert report.skipped == [("n1", "exists; --overwrite replaces it")]
        assert report.in_flight == "n3"
        assert report.not_attempted == ["n4", "n5"]
        assert manager.list() == ["n0", "n2"]
        assert report.lines("imported")[-2:] == [
            "not attempted: n5",
            "2 imported, 1 skipped, 0 failed, interrupted with 2 not attempted (of 6)",
        ]
        # Interrupted while reading: the name is not attempted, nothing in flight.
        report = transfer(["a", "b"], existing=set(), read=_interrupt, write=write)
        assert (report.in_flight, report.not_attempted) == (None, ["a", "b"])


def _interrupt(name: str) -> SecretValue:
    raise KeyboardInterrupt


def test_export_masks_unless_revealed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "in.env", "--prefix", "app/"]) == 0
    capsys.readouterr()
    assert main(["export", "app/"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "APP_API_KEY='**********'\nAPP_DB_PASSWORD='**********'\nAPP_TOKEN='**********'\n"
    )
    assert main(["export", "--format", "json", "--reveal"]) == 0
    assert f'"app/DB_PASSWORD": "{CANARY}\\nline 2"' in capsys.readouterr().out
    assert main(["export", "--format", "shell", "--reveal", "app/T"]) == 0
    assert capsys.readouterr().out == "export APP_TOKEN='t0k#x'\n"
    assert main(["export", "--reveal"]) == 0
    exported = capsys.readouterr().out
    assert {e.key: e.value.reveal() for e in parse_dotenv(exported)}["APP_DB_PASSWORD"] == (
        f"{CANARY}\nline 2"
    )
    with SecretManager.from_settings() as manager:
        manager.set("app-token", "x-value")
    assert main(["export"]) == 1
    err = capsys.readouterr().err
    assert "'app-token'" in err and "APP_TOKEN" in err


def test_copy_dry_run_then_copy_then_skip_and_report(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "in.env", "--prefix", "app/"]) == 0
    with SecretManager.from_settings(environment="dev") as manager:
        manager.set("other/x", "not under the prefix")
    capsys.readouterr()
    assert main(["copy", "--from", "dev", "--to", "prod", "app/", "--dry-run"]) == 0
    assert (
        capsys.readouterr().out.splitlines()[-1] == "3 would be copied, 0 skipped, 0 failed (of 3)"
    )
    assert names("prod") == []
    assert main(["copy", "--from", "dev", "--to", "prod", "app/"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "copied: app/API_KEY",
        "copied: app/DB_PASSWORD",
        "copied: app/TOKEN",
        "3 copied, 0 skipped, 0 failed (of 3)",
    ]
    with SecretManager.from_settings(environment="prod") as manager:
        assert manager.list() == ["app/API_KEY", "app/DB_PASSWORD", "app/TOKEN"]
        assert manager.get("app/DB_PASSWORD").reveal() == f"{CANARY}\nline 2"
    assert main(["copy", "--from", "dev", "--to", "prod"]) == 0
    out = capsys.readouterr().out
    assert (
        "copied: other/x" in out and "skipped: app/TOKEN (exists; --overwrite replaces it)" in out
    )


def test_copy_reports_failures_and_goes_on(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = yaml.safe_load((project / "secretwire.yaml").read_text())
    settings["environments"]["ro"] = {"provider": "env", "options": {"prefix": "RO_"}}
    (project / "secretwire.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    monkeypatch.setenv("RO_A", "1")
    assert main(["import", "in.env"]) == 0
    capsys.readouterr()
    assert main(["copy", "--from", "dev", "--to", "ro"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("failed: API_KEY: unsupported operation")
    assert lines[-1] == "0 copied, 0 skipped, 3 failed (of 3)"


KEYS = st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True)
VALUES = st.text(st.characters(blacklist_categories=("Cs",)))


@given(st.lists(st.tuples(KEYS, VALUES), unique_by=lambda pair: pair[0]))
def test_dotenv_output_reads_back_as_the_same_values(pairs: list[tuple[str, str]]) -> None:
    text = format_dotenv(pairs)
    assert [(e.key, e.value.reveal()) for e in parse_dotenv(text)] == pairs
