"""``secretwire check --omegaconf`` / ``render --omegaconf`` on the docs' own OmegaConf examples.

Without the flag, secretwire's own grammar reads ``${secret:'db/creds#user'}``,
``${secret:x,null}`` and ``${secret:app/${env}/key}`` as other names or as errors
(issue 8, item 15); with it, the file is loaded with OmegaConf and checked through
the OmegaConf adapter. The examples are taken from docs/adapters/omegaconf*.md, so
the docs cannot drift from what works.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

pytest.importorskip("omegaconf")

from secretwire.cli import main
from secretwire.testing import CANARY

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs" / "adapters").glob("omegaconf*.md"))
#: What the docs' examples name, stored before each test (values are canaries).
SECRETS = {
    "db/password": CANARY,
    "db/port": "5432",
    "db/creds": json.dumps({"user": "app-" + CANARY, "host": "db.internal"}),
    "api/prod/key": "key-" + CANARY,
    "app/prod/key": "app-" + CANARY,
    "a-b.c_d/e": "abc-" + CANARY,
    "a,b": "comma-" + CANARY,
    "123": "numeric-" + CANARY,
}


def docs_yaml_blocks() -> list[tuple[str, str]]:
    """Every ```yaml block of the OmegaConf docs that names a secret."""
    blocks = []
    for doc in DOCS:
        for index, block in enumerate(re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.S)):
            if "${secret:" in block:
                blocks.append((f"{doc.name}#{index}", block))
    return blocks


def docs_working_references() -> list[str]:
    """The references the docs' "You write | Works?" table says work."""
    refs = []
    for doc in DOCS:
        for line in doc.read_text().splitlines():
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            if len(cells) == 2 and cells[1].startswith("yes") and "${secret:" in cells[0]:
                refs += [ref.replace("\\|", "|") for ref in re.findall(r"`([^`]+)`", cells[0])]
    return refs


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for variable in ("SECRETWIRE_CONFIG", "SECRETWIRE_ENV", "APP_ENV"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["init"]) == 0
    for name, value in SECRETS.items():
        monkeypatch.setattr(sys, "stdin", io.StringIO(value))
        assert main(["set", name]) == 0
    for version in ("first", "second"):  # ${secret:db/pw@2}
        monkeypatch.setattr(sys, "stdin", io.StringIO(version + "-" + CANARY))
        assert main(["set", "db/pw"]) == 0
    return tmp_path


def assert_no_values(text: str) -> None:
    assert "canary" not in text.lower()


def test_the_docs_have_examples_to_check() -> None:
    assert [name for name, _ in docs_yaml_blocks()]  # at least the config.yaml one
    assert len(docs_working_references()) >= 10


@pytest.mark.parametrize(("name", "block"), docs_yaml_blocks())
def test_the_docs_yaml_examples_check_and_render_with_omegaconf(
    project: Path, capsys: pytest.CaptureFixture[str], name: str, block: str
) -> None:
    (project / "config.yaml").write_text(block)
    capsys.readouterr()
    assert main(["check", "config.yaml"]) == 1  # the false failures of issue 8, item 15
    plain = capsys.readouterr()
    assert "check --omegaconf config.yaml" in plain.err  # the hint
    assert_no_values(plain.out + plain.err)

    assert main(["check", "--omegaconf", "config.yaml"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert re.fullmatch(r"ok: \d+ reference\(s\) resolvable in config\.yaml.*\n", out)
    assert main(["render", "--omegaconf", "config.yaml"]) == 0
    masked = capsys.readouterr().out
    assert_no_values(masked)
    assert "**********" in masked
    assert main(["render", "--omegaconf", "--reveal", "config.yaml"]) == 0
    assert CANARY in capsys.readouterr().out


def test_the_docs_reference_table_rows_that_work_check_with_omegaconf(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refs = docs_working_references()
    lines = ["env: prod"] + [f"ref{i}: {ref}" for i, ref in enumerate(refs)]
    (project / "table.yaml").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["check", "--omegaconf", "table.yaml"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert out.startswith(f"ok: {len(refs)} reference(s) resolvable in table.yaml")
    assert main(["render", "--omegaconf", "--reveal", "--format", "json", "table.yaml"]) == 0
    rendered = json.loads(capsys.readouterr().out)
    assert rendered["ref0"] == CANARY  # ${secret:db/password}
    assert "second-" + CANARY in rendered.values()  # ${secret:db/pw@2}
    assert None in rendered.values() and 8080 in rendered.values()  # ,null and ,8080
    assert main(["check", "table.yaml"]) == 1  # the plain grammar reads them otherwise
    capsys.readouterr()


def test_failures_are_listed_like_a_plain_check_without_values(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "bad.yaml").write_text(
        textwrap.dedent(
            """\
            db:
              password: ${secret:db/password}
              user: ${secret:'db/creds#login'}
              token: ${secret:api/token}
            decoded: ${oc.decode:${secret:db/password}}
            """
        )
    )
    capsys.readouterr()
    assert main(["check", "--omegaconf", "bad.yaml"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "bad.yaml: db.user (line 3): ${secret:db/creds#login}: field not found: field 'login' "
        "of secret 'db/creds'",
        "bad.yaml: db.token (line 4): ${secret:api/token}: not found",
        "bad.yaml: decoded (line 5): ${secret:db/password}: reading this node failed after it "
        "read a secret (InterpolationResolutionError: not shown, OmegaConf's message can quote "
        "the value)",
    ]
    assert captured.err == "3 reference(s) failed\n"
    assert main(["render", "--omegaconf", "--reveal", "bad.yaml"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("secretwire: error: 3 secret reference(s) could not be")
    assert_no_values(captured.err)


def test_other_omegaconf_errors_are_one_line_naming_the_key(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "other.yaml").write_text("a: ${secret:db/password}-${nope}\n")
    (project / "bad.toml").write_text("a = 1\n")
    (project / "dup.yaml").write_text("a: 1\na: 2\n")
    capsys.readouterr()
    assert main(["check", "--omegaconf", "other.yaml"]) == 1
    assert capsys.readouterr().err == (
        "secretwire: error: other.yaml: OmegaConf could not resolve a: "
        "InterpolationKeyError: Interpolation key 'nope' not found\n"
    )
    assert main(["render", "--omegaconf", "bad.toml"]) == 1
    assert "--omegaconf reads YAML" in capsys.readouterr().err
    assert main(["check", "--omegaconf", "dup.yaml"]) == 1
    assert "dup.yaml: OmegaConf cannot load it: ConstructorError" in capsys.readouterr().err


def test_the_file_may_pick_the_environment(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = project / "secretwire.yaml"
    settings.write_text(
        settings.read_text() + "  ci:\n    provider: env\n    options: {prefix: APP_SECRET_}\n"
    )
    monkeypatch.setenv("APP_SECRET_DB_PASSWORD", "from-ci")
    (project / "ci.yaml").write_text(
        "secretwire: {environment: ci}\npassword: ${secret:db/password}\n"
    )
    capsys.readouterr()
    assert main(["render", "--omegaconf", "--reveal", "ci.yaml"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["password"] == "from-ci"
    assert main(["--env", "development", "check", "--omegaconf", "ci.yaml"]) == 1
    assert capsys.readouterr().err == (
        "secretwire: error: the config picks environment 'ci' (secretwire.environment), "
        "but register() was given environment='development'\n"
    )


def test_without_omegaconf_the_flag_names_the_extra_and_plain_mode_needs_none(
    project: Path, tmp_path: Path
) -> None:
    (project / "config.yaml").write_text("password: ${secret:db/password}\n")
    code = textwrap.dedent(
        """
        import sys
        sys.modules["omegaconf"] = None  # as if it were not installed
        from secretwire.cli import main
        print("plain", main(["check", "config.yaml"]), "omegaconf" in sys.modules and
              sys.modules["omegaconf"] is not None)
        print("flag", main(["check", "--omegaconf", "config.yaml"]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=project, check=True
    )
    assert "plain 0 False" in done.stdout
    assert "flag 1" in done.stdout
    assert done.stderr.endswith(
        "secretwire: error: --omegaconf needs OmegaConf: omegaconf is not installed; "
        "install it with: pip install 'secretwire[omegaconf]'\n"
    )
