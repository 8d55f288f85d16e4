"""The CLI's arguments and input: values never echoed from the command line, names
read literally (references only through --ref), UTF-8 input and output whatever
the locale. In-process through ``main`` and as a subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretwire import Reference, SecretManager
from secretwire.cli import main
from secretwire.references import MAX_NAME_LENGTH
from secretwire.testing import CANARY


@pytest.fixture
def project(cli_project: Path) -> Path:
    """The project ``secretwire init`` made (tests/conftest.py)."""
    return cli_project


def run(monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str | bytes = "") -> int:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    return main(args)


def stored_names(project: Path) -> list[str]:
    with SecretManager.from_settings(project / "secretwire.yaml") as manager:
        return manager.list()


def python(
    project: Path, *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    base = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "secretwire", *args],
        input=stdin,
        capture_output=True,
        env={**base, **(env or {})},
        check=False,
        cwd=project,
    )


# -- item 4: a value typed on the command line is refused, never echoed -------------------


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["set", "db/password", CANARY], "refused 1 unexpected argument(s)"),
        (["set", "db/password", CANARY, CANARY + "2"], "refused 2 unexpected argument(s)"),
        (["get", "db/password", f"--token={CANARY}"], "refused 1 unexpected argument(s)"),
        (["list", "db/", CANARY], "refused 1 unexpected argument(s)"),
        (["versions", "x", CANARY], "refused 1 unexpected argument(s)"),
        (["--env", "dev", "delete", "x", "--yes", CANARY], "refused 1 unexpected argument(s)"),
        ([CANARY], "invalid choice: (not shown)"),
        (["delete", f"--yes={CANARY}", "x"], "ignored explicit argument (not shown)"),
        (["render", "--format", CANARY, "config.yaml"], "invalid choice: (not shown)"),
        (["set", f"--allow-empty={CANARY}", "x"], "ignored explicit argument (not shown)"),
    ],
)
def test_extra_arguments_are_refused_without_echo(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    shown: str,
) -> None:
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin"))
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert CANARY[:20] not in err
    assert shown in err
    if "unexpected" in shown:
        assert "stdin or a hidden prompt" in err
    assert err.startswith("usage: secretwire")
    assert stored_names(project) == []


def test_extra_argument_refused_as_a_subprocess(project: Path) -> None:
    result = python(project, "set", "db/password", CANARY, stdin=b"from stdin")
    assert result.returncode == 2
    assert CANARY[:20].encode() not in result.stdout + result.stderr
    assert result.stdout == b""
    assert b"refused 1 unexpected argument(s), not shown" in result.stderr
    assert b"Traceback" not in result.stderr
    assert stored_names(project) == []


# -- item 9: one name rule; names read literally; references only through --ref ----------


def test_names_are_read_literally_and_references_need_ref(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["set", "feature"], "on") == 0
    assert run(monkeypatch, ["set", "feature"], "on-2") == 0
    capsys.readouterr()
    # NAME is never parsed: these name secrets that do not exist (they used to
    # print the value of 'feature' and version 1 of 'feature').
    for name in ("feature:-off", "feature@1", "${secret:feature}"):
        assert main(["get", name]) == 1, name
        out, err = capsys.readouterr()
        assert out == ""
        assert f"not found: get secret {name!r}" in err
        assert "use --ref" in err  # says how to ask for the reference instead
    assert run(monkeypatch, ["set", "feature:-off"], "literal") == 0
    assert r"(in a reference: ${secret:feature\:-off})" in capsys.readouterr().err
    expected = {
        ("get", "feature:-off"): "literal",
        ("get", "--ref", r"feature\:-off"): "literal",
        ("get", "--ref", r"${secret:feature\:-off}"): "literal",
        ("get", "--ref", "feature:-off"): "on-2",  # 'feature' with a default
        ("get", "--ref", "feature@1"): "on",
        ("get", "feature", "--version", "1"): "on",
        ("get", "nope", "--default", "off"): "off",
    }
    for args, value in expected.items():
        assert main(list(args)) == 0, args
        assert capsys.readouterr().out == value, args


def test_aws_style_names_with_at_are_set_and_read(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "a/user@example.com"
    assert run(monkeypatch, ["set", name], '{"k": "v"}') == 0
    assert "${secret:a/user\\@example.com}" in capsys.readouterr().err
    for args in (
        ["get", name, "--field", "k"],
        ["get", "--ref", r"a/user\@example.com#k"],
        ["get", "--ref", r"$<secret:a/user\@example.com#k>"],
    ):
        assert main(args) == 0, args
        assert capsys.readouterr().out == "v"
    (project / "config.yaml").write_text("k: ${secret:a/user\\@example.com#k}\n")
    assert main(["render", "--reveal", "config.yaml"]) == 0
    assert capsys.readouterr().out == "k: v\n"
    assert main(["versions", "--ref", r"a/user\@example.com"]) == 0
    assert capsys.readouterr().out.startswith("1\t")
    assert main(["delete", "--yes", name]) == 0
    assert stored_names(project) == []


@pytest.mark.parametrize(
    "name",
    ["a b", "a\u200bb", "\ufeffname", "a\udcffb", "tab\there", "x" * (MAX_NAME_LENGTH + 1)],
)
def test_set_refuses_a_name_no_reference_can_hold_before_reading_the_value(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    stdin = io.StringIO(CANARY)
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["set", name]) == 1
    err = capsys.readouterr().err
    assert err.startswith("secretwire: error: invalid secret name ")
    assert "docs/references.md#names" in err
    assert err.count("\n") == 1 and len(err) < 400
    assert stdin.tell() == 0  # the value was not even read
    assert stored_names(project) == []


def test_ref_for_whole_secret_commands_names_only_a_secret(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["set", "--ref", "${secret:x}"], "v") == 0
    assert stored_names(project) == ["x"]
    capsys.readouterr()
    for command in (["set"], ["versions"], ["delete", "--yes"]):
        for ref in ("x#f", "x@1", "x:-d"):
            assert run(monkeypatch, [*command, "--ref", ref], "v") == 1
            assert "--ref may not name a" in capsys.readouterr().err
    assert main(["get", "--ref", "x#f", "--field", "g"]) == 1
    assert "either in --ref or with --field" in capsys.readouterr().err
    assert main(["get", "--ref", "a b"]) == 1
    assert "unexpected character ' ' in reference at position 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["get", "x", "--ref", "x"])
    assert "not allowed with" in capsys.readouterr().err


# -- item 11: an empty --version or --field is an error, never ignored ---------------------


@pytest.mark.parametrize("option", ["--version", "--field"])
def test_empty_version_or_field_is_an_error(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str,
) -> None:
    run(monkeypatch, ["set", "p"], '{"a": "1"}')
    capsys.readouterr()
    assert main(["get", "p", option, ""]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"secretwire: error: {option} must not be empty\n"
    assert main(["get", "--ref", "p", option, ""]) == 1


# -- item 10: input that is not UTF-8; output under a strict locale ------------------------


def test_stdin_that_is_not_utf8_is_refused_with_its_offset(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["set", "x"], b"abc\xff" + CANARY.encode()) == 1
    err = capsys.readouterr().err
    assert err == (
        "secretwire: error: the value is not valid UTF-8 text "
        "(invalid byte at offset 3); nothing stored\n"
    )
    assert stored_names(project) == []
    assert run(monkeypatch, ["set", "x"], "välue ✓\n".encode()) == 0
    capsys.readouterr()
    assert main(["get", "x"]) == 0
    assert capsys.readouterr().out == "välue ✓"


STRICT = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}


@pytest.fixture
def strict_env() -> dict[str, str]:
    env = dict(STRICT)
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.stdout.encoding, sys.flags.utf8_mode)"],
        capture_output=True,
        text=True,
        env={k: v for k, v in {**os.environ, **env}.items() if k != "PYTHONIOENCODING"},
        check=True,
    )
    if probe.stdout.split() != ["ascii", "0"] and probe.stdout.split()[0] != "ANSI_X3.4-1968":
        pytest.skip(f"this platform has no strict C locale ({probe.stdout.strip()})")
    return env


def test_strict_locale_set_and_get_as_a_subprocess(
    project: Path, strict_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONIOENCODING", raising=False)
    bad = python(project, "set", "x", stdin=b"abc\xff" + CANARY.encode(), env=strict_env)
    assert bad.returncode == 1
    assert bad.stderr == (
        b"secretwire: error: the value is not valid UTF-8 text "
        b"(invalid byte at offset 3); nothing stored\n"
    )
    value = "välue ✓ " + CANARY
    good = python(project, "set", "clé", stdin=value.encode() + b"\n", env=strict_env)
    assert good.returncode == 0, good.stderr
    assert CANARY.encode() not in good.stderr
    with SecretManager.from_settings(project / "secretwire.yaml") as manager:
        assert manager.get("clé").reveal() == value  # the name and value as typed, in UTF-8
        manager.set("api/key", CANARY)
    got = python(project, "get", "clé", env=strict_env)
    assert (got.returncode, got.stdout, got.stderr) == (0, value.encode(), b"")
    got = python(project, "get", "api/key", env=strict_env)
    assert (got.returncode, got.stdout, got.stderr) == (0, CANARY.encode(), b"")
    listed = python(project, "list", env=strict_env)
    assert (listed.returncode, listed.stdout) == (0, "api/key\nclé\n".encode())


def test_lone_surrogate_from_a_strict_locale_prompt_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from secretwire.cli import read_value

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    # What getpass returns under LC_ALL=C for the UTF-8 bytes of "é", and for a
    # byte that is not UTF-8.
    assert read_value(Tty(), prompt=lambda _: "\udcc3\udca9").reveal() == "é"
    with pytest.raises(Exception, match="offset 1") as info:
        read_value(Tty(), prompt=lambda _: "a\udcff")
    assert type(info.value).__name__ == "InvalidSecret"


def test_reference_of_every_name_set_accepts_reads_it_back(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["a/user@example.com", "x{y}<z>", "c#d", "e$f", "g\\h", "i:-j", "k:", "🔑/clé"]
    for name in names:
        assert run(monkeypatch, ["set", name], f"v-{name}") == 0
    config = "".join(f"k{i}: '{Reference(name).format()}'\n" for i, name in enumerate(names))
    (project / "config.yaml").write_text(config)
    capsys.readouterr()
    assert main(["render", "--reveal", "--format", "json", "config.yaml"]) == 0
    import json

    rendered = json.loads(capsys.readouterr().out)
    assert rendered == {f"k{i}": f"v-{name}" for i, name in enumerate(names)}


def test_get_of_a_value_that_is_not_text_is_a_typed_error(tmp_path: Path) -> None:
    # An environment variable holding bytes that are not UTF-8 reaches Python as
    # lone surrogates; printing it used to end in "internal error: UnicodeEncodeError".
    (tmp_path / "secretwire.yaml").write_text(
        "environments:\n  ci:\n    provider: env\n    options: {prefix: SWT_}\n"
    )
    env = {"SWT_BAD": "abc\udcff", "SWT_GOOD": CANARY}
    bad = python(tmp_path, "get", "bad", env=env)
    assert bad.returncode == 1
    assert bad.stdout == b""
    assert bad.stderr.startswith(b"secretwire: error: cannot print the value: not valid Unicode")
    assert b"character 3" in bad.stderr
    good = python(tmp_path, "get", "good", env=env)
    assert (good.returncode, good.stdout) == (0, CANARY.encode())
