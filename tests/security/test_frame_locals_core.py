"""No secret value in the frame locals of the core's errors: ``Secret.field``, the
resolver (``resolve``, ``resolve_with_provenance``), ``SecretManager.value``, and the
``render`` / ``check`` commands. Each error is rendered the way error trackers do it
(``traceback`` with ``capture_locals=True``, Sentry's serializer) by ``assert_no_leak``."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import secretwire.cli
from secretwire import (
    FieldNotFound,
    ResolutionError,
    Secret,
    SecretManager,
    SecretValue,
    SecretwireError,
)
from secretwire.cli import main
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, assert_no_leak

JSON_SECRET = json.dumps({"user": "app", "password": CANARY})


@pytest.fixture
def manager() -> Iterator[SecretManager]:
    provider = MemoryProvider({"db/creds": JSON_SECRET, "db/password": CANARY})
    with SecretManager(provider) as secrets:
        yield secrets


@pytest.mark.parametrize(
    "value", [JSON_SECRET, CANARY, "[" * 5000 + CANARY], ids=["json", "plain", "deep-json"]
)
def test_field_not_found_holds_no_value(value: str) -> None:
    secret = Secret("db/creds", SecretValue(value), version="1", provider="memory")
    with pytest.raises(FieldNotFound) as info:
        secret.field("missing")
    assert info.value.__context__ is None  # no JSONDecodeError (its .doc is the value)
    assert_no_leak(info.value, CANARY)


def test_field_still_reads_fields() -> None:
    secret = Secret("db/creds", SecretValue(json.dumps({"a": CANARY, "n": [1, {"b": 2}]})))
    assert secret.field("a") == CANARY
    assert secret.field("n") == '[1,{"b":2}]'


def failing_tree() -> dict[str, Any]:
    """References that resolve (values in clear once rendered) and one that fails."""
    return {
        "url": "postgres://${secret:db/creds#user}:${secret:db/password}@db/app",
        "password": "${secret:db/password}",
        "user": "${secret:db/creds#password}",
        "missing": "${secret:db/creds#nope}",
        "after": "x-${secret:db/password}",
    }


@pytest.mark.parametrize("reveal", [True, False])
def test_resolution_error_holds_no_resolved_value(manager: SecretManager, reveal: bool) -> None:
    with pytest.raises(ResolutionError) as info:
        manager.resolve(failing_tree(), reveal=reveal)
    assert [f.location for f in info.value.failures] == ["missing"]
    assert_no_leak(info.value, CANARY)


def test_resolve_with_provenance_error_holds_no_resolved_value(manager: SecretManager) -> None:
    with pytest.raises(ResolutionError) as info:
        manager.resolve_with_provenance(failing_tree(), source="app.yaml")
    assert_no_leak(info.value, CANARY)


@pytest.mark.parametrize("reference", ["db/creds#nope", "${secret:db/password#x}", "nope"])
def test_manager_value_errors_hold_no_value(manager: SecretManager, reference: str) -> None:
    with pytest.raises(SecretwireError) as info:
        manager.value(reference)
    assert_no_leak(info.value, CANARY)


# -- the CLI, in-process --------------------------------------------------------------------

CONFIG = """\
database:
  url: postgres://${secret:db/creds#user}:${secret:db/password}@db/app
  password: ${secret:db/password}
  user: ${secret:db/creds#password}
  missing: ${secret:db/creds#nope}
"""


@pytest.fixture
def project(cli_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tmp_path = cli_project
    for name, value in (("db/password", CANARY), ("db/creds", JSON_SECRET)):
        monkeypatch.setattr(sys, "stdin", io.StringIO(value))
        assert main(["set", name]) == 0
    (tmp_path / "config.yaml").write_text(CONFIG)
    return tmp_path


@pytest.mark.parametrize("reveal", [["--reveal"], []])
def test_render_error_holds_no_value(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    reveal: list[str],
) -> None:
    """The error that ``main`` reports (caught by a spy on the line it prints)."""
    seen: list[SecretwireError] = []
    one_line = secretwire.cli._one_line

    def spy(err: SecretwireError) -> str:
        seen.append(err)
        return one_line(err)

    monkeypatch.setattr(secretwire.cli, "_one_line", spy)
    assert main(["render", *reveal, "config.yaml"]) == 1
    captured = capsys.readouterr()
    assert "database.missing (line 5)" in captured.err
    assert CANARY not in captured.out + captured.err
    (err,) = seen
    assert_no_leak(err, CANARY)


def test_check_error_holds_no_value(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``check`` handles its ResolutionError itself: a spy on the manager sees it."""
    seen: list[BaseException] = []
    original = SecretManager.resolve_with_provenance

    def spy(self: SecretManager, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        except BaseException as err:
            seen.append(err)
            raise

    monkeypatch.setattr(SecretManager, "resolve_with_provenance", spy)
    assert main(["check", "config.yaml"]) == 1
    captured = capsys.readouterr()
    assert captured.out == (
        "config.yaml: database.missing (line 5): ${secret:db/creds#nope}: "
        "field not found: field 'nope' of secret 'db/creds'\n"
    )
    assert CANARY not in captured.err
    (err,) = seen
    assert isinstance(err, ResolutionError)
    assert_no_leak(err, CANARY)
