"""The access policy: globs, decisions, the principal, bad input, ``policy explain``."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from secretwire import ConfigError, load_settings
from secretwire.cli import main
from secretwire.governance import (
    OPERATIONS,
    parse_glob,
    parse_policy,
    resolve_principal,
)
from secretwire.governance.globs import GlobError

SETTINGS = """\
environments:
  dev: {provider: memory}
  prod: {provider: memory}
policy:
  roles:
    reader:
      allow:
        - operations: [get, list, versions]
          names: ["app/*"]
      deny:
        - operations: [get]
          names: ["app/admin/*"]
    deployer:
      allow:
        - operations: ["*"]
          names: ["app/+/deploy-key", "ci/*"]
          environments: [prod]
  bindings:
    alice: [reader]
    ci: [reader, deployer]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secretwire.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return write(tmp_path, SETTINGS)


# -- globs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glob", "matches", "misses"),
    [
        ("app/db", ["app/db"], ["app/db2", "app", "app/db/x"]),
        ("app/*", ["app/x", "app/x/y", "app/"], ["app", "apps/x"]),
        ("app/db-*", ["app/db-", "app/db-main", "app/db-x/y"], ["app/db", "app/x"]),
        ("*", ["a", "a/b/c"], []),
        ("app/+/key", ["app/web/key"], ["app/key", "app/a/b/key", "app//key"]),
        ("+", ["a"], ["a/b"]),
        ("a+b/c", ["a+b/c"], ["axb/c"]),  # '+' inside a segment is a literal
        ("app/+/*", ["app/a/b", "app/a/"], ["app/a"]),
    ],
)
def test_glob_semantics(glob: str, matches: list[str], misses: list[str]) -> None:
    parsed = parse_glob(glob)
    assert all(parsed.matches(name) for name in matches)
    assert not any(parsed.matches(name) for name in misses)


@pytest.mark.parametrize(
    ("glob", "reason"),
    [
        ("", "must not be empty"),
        ("a*b", "'*' may appear only at the end"),
        ("**", "'*' may appear only at the end"),
        ("app/?", "'?' is not glob syntax here"),
        ("app/[ab]", "'[' is not glob syntax here"),
        ("app/{a,b}", "'{' is not glob syntax here"),
        ("app/+*", "ambiguous"),
        ("app/ x", "whitespace"),
    ],
)
def test_malformed_globs_are_refused(glob: str, reason: str) -> None:
    with pytest.raises(GlobError, match=re.escape(reason)):
        parse_glob(glob)


def test_glob_containment_agrees_with_matching() -> None:
    globs = ["*", "app/*", "app/db-*", "app/+", "app/+/*", "app/db", "app/db-x/*", "+/db"]
    names = ["app/db", "app/db-x", "app/db-x/y", "app/z", "app/z/y", "x/db", "app", "app/db-"]
    for outer in map(parse_glob, globs):
        for inner in map(parse_glob, globs):
            if outer.contains(inner):  # never claims more than matching shows
                assert all(outer.matches(n) for n in names if inner.matches(n)), (outer, inner)
    assert parse_glob("app/*").contains(parse_glob("app/+/x"))
    assert not parse_glob("app/+").contains(parse_glob("app/*"))


# -- decisions ------------------------------------------------------------------------------


def test_deny_beats_allow_and_default_is_deny(settings_file: Path) -> None:
    policy = load_settings(settings_file).governance.policy
    assert policy is not None
    assert policy.decide("alice", "get", "app/db", "dev").allowed
    denied = policy.decide("alice", "get", "app/admin/root", "dev")
    assert not denied.allowed
    assert denied.rule is not None and denied.rule.where == "roles.reader.deny[0]"
    assert "line 11" in denied.reason
    assert policy.decide("alice", "versions", "app/admin/root", "dev").allowed  # deny is get only
    default = policy.decide("alice", "set", "app/db", "dev")
    assert not default.allowed and default.rule is None and "deny by default" in default.reason
    unbound = policy.decide("mallory", "get", "app/db", "dev")
    assert not unbound.allowed and "bound to no role" in unbound.reason


def test_environments_and_roles_combine(settings_file: Path) -> None:
    policy = load_settings(settings_file).governance.policy
    assert policy is not None
    assert policy.decide("ci", "set", "app/web/deploy-key", "prod").allowed
    assert not policy.decide("ci", "set", "app/web/deploy-key", "dev").allowed
    assert not policy.decide("ci", "set", "app/web/x/deploy-key", "prod").allowed
    # ci's deployer role allows every operation on ci/*, but reader's deny still wins on get
    assert not policy.decide("ci", "get", "app/admin/x", "prod").allowed
    assert {op for op in OPERATIONS if policy.decide("ci", op, "ci/token", "prod").allowed} == set(
        OPERATIONS
    )


def test_principal_order(settings_file: Path) -> None:
    policy = load_settings(settings_file).governance.policy
    env = {"SECRETWIRE_PRINCIPAL": "from-env"}
    assert resolve_principal("explicit", policy, env) == "explicit"
    assert resolve_principal(None, policy, env) == "from-env"
    assert resolve_principal(None, policy, {}) not in ("", "from-env")  # the OS user
    configured = parse_policy({"principal": "svc", "principal_variable": "APP_USER"})
    assert resolve_principal(None, configured, {"APP_USER": "u"}) == "svc"
    by_variable = parse_policy({"principal_variable": "APP_USER"})
    assert resolve_principal(None, by_variable, {"APP_USER": "u", **env}) == "u"


# -- bad input: typed errors naming file, line and key ------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "reason"),
    [
        ("[get, list, versions]", "[get, lst, versions]", 8, ".allow[0].operations[1]",
         "unknown operation 'lst'"),
        ('["app/admin/*"]', '["app/a*b"]', 12, ".deny[0].names[0]", "malformed glob 'app/a*b'"),
        ("[reader, deployer]", "[reader, deploy]", 20, "policy.bindings.ci[1]",
         "unknown role 'deploy'"),
        ("[prod]", "[staging]", 17, ".environments", "unknown environment 'staging'"),
        ('names: ["app/+/deploy-key", "ci/*"]', 'nams: ["ci/*"]', 16, "allow[0].nams",
         "unknown key"),
    ],
)  # fmt: skip
def test_bad_policy_is_a_config_error_with_file_line_and_key(
    tmp_path: Path, old: str, new: str, line: int, key: str, reason: str
) -> None:
    assert old in SETTINGS
    path = write(tmp_path, SETTINGS.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    err = info.value
    assert err.source == str(path)
    assert err.key is not None and err.key.endswith(key), err.key
    assert reason in err.reason
    assert err.line == line, str(err)
    assert str(err).startswith(f"{path}:{line}: ")


def test_cli_reports_a_bad_policy_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, SETTINGS.replace("[get, list, versions]", "[get, lst]"))
    assert main(["--config", str(path), "policy", "explain", "alice", "get", "app/x"]) == 1
    err = capsys.readouterr().err
    assert f"{path}:8: policy.roles.reader.allow[0].operations[1]: unknown operation 'lst'" in err


# -- policy explain -------------------------------------------------------------------------


def test_policy_explain_names_the_deciding_rule(
    settings_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--config", str(settings_file), "--env", "dev", "policy", "explain"]
    assert main([*base, "alice", "get", "app/admin/root"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "deny: alice get 'app/admin/root' in dev",
        "  denied by policy.roles.reader.deny[0] (deny get on app/admin/*, line 11)",
    ]
    assert main([*base, "alice", "list", "app/db"]) == 0
    assert "allowed by policy.roles.reader.allow[0]" in capsys.readouterr().out
    assert main([*base, "nobody", "get", "app/db"]) == 1
    assert "principal 'nobody' is bound to no role" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*base, "alice", "fetch", "app/db"])  # not an operation: a usage error
