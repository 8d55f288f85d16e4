"""Mapping keys that print alike (``1`` and ``"1"``, ``True`` and ``"True"``...) are
different sites: in the resolver, in the line numbers of a loaded file, in ``render``
and ``check`` output. A plain sibling never receives a secret."""

from __future__ import annotations

import datetime
import io
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretwire import ResolutionError, SecretManager, load_config
from secretwire.cli import main
from secretwire.providers.memory import MemoryProvider
from secretwire.resolver import format_location
from secretwire.testing import CANARY

DAY = datetime.date(2024, 1, 1)
EST = datetime.timezone(datetime.timedelta(hours=-5))
MOMENT = datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=EST)

#: A key that is not a string, and the string it prints as.
ALIKE: list[tuple[Any, str]] = [
    (1, "1"),
    (0, "0"),
    (True, "True"),
    (False, "False"),
    (None, "None"),
    (1.5, "1.5"),
    (DAY, "2024-01-01"),
    (MOMENT, str(MOMENT)),
]


@pytest.fixture
def manager() -> SecretManager:
    return SecretManager(MemoryProvider({"db/password": CANARY}))


@pytest.mark.parametrize(("key", "text"), ALIKE, ids=[f"{type(k).__name__}-{t}" for k, t in ALIKE])
@pytest.mark.parametrize("secret_first", [True, False], ids=["secret-first", "text-first"])
def test_a_plain_sibling_that_prints_alike_keeps_its_text(
    manager: SecretManager, key: Any, text: str, secret_first: bool
) -> None:
    items = [(key, "${secret:db/password}"), (text, "public-text")]
    tree = {"outer": dict(items if secret_first else items[::-1])}
    resolved = manager.resolve(tree)
    assert resolved == {"outer": {key: CANARY, text: "public-text"}}
    # the other way round: the secret under the string key
    tree = {"outer": {key: "public-text", text: "${secret:db/password}"}}
    assert manager.resolve(tree) == {"outer": {key: "public-text", text: CANARY}}


@pytest.mark.parametrize(("key", "text"), ALIKE, ids=[f"{type(k).__name__}-{t}" for k, t in ALIKE])
def test_alike_keys_get_different_locations(key: Any, text: str) -> None:
    assert format_location(("a", key)) != format_location(("a", text))
    assert format_location((key,)) != format_location((text,))


def test_location_forms() -> None:
    assert format_location(("database", "url")) == "database.url"
    assert format_location(("hosts", 0)) == "hosts[0]"
    assert format_location(("ports", 8080)) == "ports[8080]"
    assert format_location(("ports", "8080")) == "ports.8080"
    assert format_location(("flags", True)) == "flags[True]"
    assert format_location((None,)) == "[None]"
    assert format_location(("rates", 1.5, "x")) == "rates[1.5].x"
    assert format_location(("rates", "1.5")) == "rates['1.5']"
    assert format_location(("days", DAY)) == "days[2024-01-01]"


def test_failures_under_alike_keys_are_listed_apart(manager: SecretManager) -> None:
    tree = {"a": {1: "${secret:one}", "1": "${secret:two}"}, "b": {True: "x", "True": "${s}"}}
    tree["b"]["True"] = "${secret:t}"
    with pytest.raises(ResolutionError) as info:
        manager.resolve(tree, lines={"a[1]": 2, "a.1": 3, "b.True": 5})
    assert [str(f) for f in info.value.failures] == [
        "a[1] (line 2): ${secret:one}: not found",
        "a.1 (line 3): ${secret:two}: not found",
        "b.True (line 5): ${secret:t}: not found",
    ]


def test_a_mapping_key_zero_is_not_list_index_zero(manager: SecretManager) -> None:
    tree = {"m": {0: "${secret:db/password}", "0": "text"}, "l": ["${secret:db/password}", "0"]}
    assert manager.resolve(tree) == {"m": {0: CANARY, "0": "text"}, "l": [CANARY, "0"]}
    resolution = manager.resolve_with_provenance(tree, reveal=False)
    assert [p.location for p in resolution.provenance] == ["m[0]", "l[0]"]


# -- every YAML scalar key type, through load_config, resolve, render and check --------

YAML = textwrap.dedent(
    """\
    int:
      1: ${secret:db/password}
      "1": int-text
    bool:
      true: ${secret:db/password}
      "True": bool-text
    "null":
      null: ${secret:db/password}
      "None": null-text
    float:
      1.5: ${secret:db/password}
      "1.5": float-text
    date:
      2024-01-01: ${secret:db/password}
      "2024-01-01": date-text
    timestamp:
      2001-12-14t21:59:43.10-05:00: ${secret:db/password}
      "2001-12-14 21:59:43.100000-05:00": timestamp-text
    hex:
      0x1F: ${secret:db/password}
      "31": hex-text
    """
)

#: section, key object, its line in YAML; the string key that prints alike, its line
KEY_LINES: list[tuple[str, Any, int, str, int]] = [
    ("int", 1, 2, "1", 3),
    ("bool", True, 5, "True", 6),
    ("null", None, 8, "None", 9),
    ("float", 1.5, 11, "1.5", 12),
    ("date", DAY, 14, "2024-01-01", 15),
    ("timestamp", MOMENT, 17, str(MOMENT), 18),
    ("hex", 31, 20, "31", 21),
]


def test_load_config_keeps_every_yaml_key_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(YAML)
    config = load_config(path)
    for section, key, line, text, text_line in KEY_LINES:
        keys = config.data[section]
        assert [type(k) for k in keys] == [type(key), str]
        assert keys == {key: "${secret:db/password}", text: f"{section}-text"}
        assert config.lines[format_location((section, key))] == line
        assert config.lines[format_location((section, text))] == text_line


def test_resolving_a_loaded_file_leaves_the_string_keys_alone(
    tmp_path: Path, manager: SecretManager
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(YAML)
    config = load_config(path)
    resolved = manager.resolve(config.data, source=config.path, lines=config.lines)
    for section, key, _, text, _ in KEY_LINES:
        assert resolved[section] == {key: CANARY, text: f"{section}-text"}


def test_duplicate_yaml_keys_keep_the_line_of_the_value_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("a:\n  1: first\n  1.0: second\n  x: 1\n  x: 2\n")
    config = load_config(path)
    assert config.data == {"a": {1: "second", "x": 2}}
    assert config.lines["a[1]"] == 3
    assert config.lines["a.x"] == 5


# -- through the CLI ---------------------------------------------------------------------


@pytest.fixture
def project(cli_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tmp_path = cli_project
    monkeypatch.setattr(sys, "stdin", io.StringIO(CANARY))
    assert main(["set", "db/password"]) == 0
    (tmp_path / "config.yaml").write_text(YAML)
    return tmp_path


def test_render_keeps_alike_keys_apart(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["render", "--reveal", "config.yaml"]) == 0
    out = capsys.readouterr().out
    rendered = yaml.safe_load(out)
    for section, key, _, text, _ in KEY_LINES:
        assert rendered[section] == {key: CANARY, text: f"{section}-text"}
    assert out.count(CANARY) == len(KEY_LINES)


def test_render_as_json_refuses_keys_that_collide(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["render", "--format", "json", "config.yaml"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "secretwire: error: int: keys 1 and '1' are one key in JSON; use --format yaml\n"
    )
    (project / "ok.yaml").write_text(
        "a:\n  1: ${secret:db/password}\n  false: x\n  2024-01-01: d\n"
    )
    assert main(["render", "--format", "json", "ok.yaml"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "a": {"1": "**********", "false": "x", "2024-01-01": "d"}
    }


def test_check_names_each_alike_key_and_its_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "bad.yaml").write_text(YAML.replace("${secret:db/password}", "${secret:missing}"))
    capsys.readouterr()
    assert main(["check", "bad.yaml"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "bad.yaml: int[1] (line 2): ${secret:missing}: not found",
        "bad.yaml: bool[True] (line 5): ${secret:missing}: not found",
        "bad.yaml: null[None] (line 8): ${secret:missing}: not found",
        "bad.yaml: float[1.5] (line 11): ${secret:missing}: not found",
        "bad.yaml: date[2024-01-01] (line 14): ${secret:missing}: not found",
        "bad.yaml: timestamp[2001-12-14T21:59:43.100000-05:00] (line 17): "
        "${secret:missing}: not found",
        "bad.yaml: hex[31] (line 20): ${secret:missing}: not found",
    ]
    # the string keys hold plain text: each line above is the non-string key's own
    (project / "bad.yaml").write_text("a:\n  1: ${secret:db/password}\n  '1': ${secret:missing}\n")
    assert main(["check", "bad.yaml"]) == 1
    assert capsys.readouterr().out == "bad.yaml: a.1 (line 3): ${secret:missing}: not found\n"
