"""Hostile config files end in a typed, located error, in bounded time and memory:
YAML alias bombs, deep nesting (YAML, JSON, TOML, and trees built in code), control
characters, lone surrogates. None of these tests measures time: each asserts the
typed error, or counts the work done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secretwire import ConfigError, SecretManager, load_config
from secretwire.cli import main
from secretwire.configfile import MAX_ALIAS_NODES
from secretwire.providers.memory import MemoryProvider
from secretwire.resolver import MAX_DEPTH


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


@pytest.fixture
def project(cli_project: Path) -> Path:
    """The project ``secretwire init`` made (tests/conftest.py)."""
    return cli_project


def cli_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    return captured.err.rstrip("\n")


# -- alias bombs --------------------------------------------------------------------------


def laughs(levels: int) -> str:
    """The classic "billion laughs": each level is a list of ten aliases of the last."""
    lines = ['a: &a ["${secret:s}", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        name, last = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{last}"] * 10) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 9])
def test_billion_laughs_is_refused_naming_file_and_line(tmp_path: Path, levels: int) -> None:
    path = write(tmp_path, "laughs.yaml", laughs(levels))
    assert len(path.read_bytes()) < 512
    # 10 + 100 aliased nodes fit on line 3; the 10 aliases of line 4 add 10 * 1,111
    assert refused(path) == (f"{path}: line 4: aliases expand to more than {MAX_ALIAS_NODES} nodes")


def test_check_and_render_refuse_the_bomb(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "laughs.yaml", laughs(6))
    expected = (
        f"secretwire: error: laughs.yaml: line 4: aliases expand to more than "
        f"{MAX_ALIAS_NODES} nodes"
    )
    assert cli_error(capsys, "check", "laughs.yaml") == expected
    assert cli_error(capsys, "render", "laughs.yaml") == expected


def budget_file(aliases: int) -> str:
    """One list of 100 nodes (itself and 99 items), aliased ``aliases`` times."""
    items = ", ".join(['"${secret:s}"'] + ['"x"'] * 98)
    return f"a: &a [{items}]\nb: [" + ", ".join(["*a"] * aliases) + "]\n"


def test_alias_budget_counts_expanded_nodes(tmp_path: Path) -> None:
    assert MAX_ALIAS_NODES % 100 == 0
    fits = MAX_ALIAS_NODES // 100
    config = load_config(write(tmp_path, "fits.yaml", budget_file(fits)))
    # Bounded work, counted: every value of the expanded document has its line...
    assert len(config.lines) == 99 * (1 + fits)
    # ...and the resolver visits each reference once per expanded copy, no more.
    with SecretManager(MemoryProvider({"s": "v"})) as manager:
        resolution = manager.resolve_with_provenance(config.data, lines=config.lines)
    assert len(resolution.provenance) == 1 + fits
    assert resolution.provenance[-1].location == f"b[{fits - 1}][0]"
    path = write(tmp_path, "over.yaml", budget_file(fits + 1))
    assert refused(path) == f"{path}: line 2: aliases expand to more than {MAX_ALIAS_NODES} nodes"


def test_anchors_and_merge_keys_in_ordinary_use_still_work(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "merge.yaml",
        "base: &base\n  host: db\n  port: 5432\n"
        "dev:\n  <<: *base\n  port: 6543\n"
        "hosts: [&h one, *h]\n",
    )
    config = load_config(path)
    assert config.data["dev"] == {"host": "db", "port": 6543}
    assert config.data["hosts"] == ["one", "one"]
    assert config.lines["dev.host"] == 2  # where the merged text is written
    assert config.lines["dev.port"] == 6
    assert config.lines["hosts[1]"] == 7


def test_an_alias_inside_the_node_it_names_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "loop.yaml", "x: 1\na: &a [1, {b: *a}]\n")
    assert refused(path) == f"{path}: line 2: an alias inside the node it names"


# -- nesting depth ------------------------------------------------------------------------


def nested(fmt: str, depth: int) -> str:
    """``depth`` nested containers (the top-level mapping is the first), the innermost
    opening on line 2."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    if fmt == "json":
        return '{"a":\n' + inner + "}\n"
    if fmt == "toml":
        return "x = 1\na = " + inner + "\n"
    return "x: 1\na: " + inner + "\n"


@pytest.mark.parametrize("fmt", ["yaml", "json", "toml"])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 600, 5000])
def test_nesting_past_the_limit_is_refused_with_its_line(
    tmp_path: Path, fmt: str, depth: int
) -> None:
    path = write(tmp_path, f"deep.{fmt}", nested(fmt, depth))
    assert refused(path) == f"{path}: line 2: nested deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize("fmt", ["yaml", "json", "toml"])
def test_nesting_up_to_the_limit_loads(tmp_path: Path, fmt: str) -> None:
    data = load_config(write(tmp_path, f"deep.{fmt}", nested(fmt, MAX_DEPTH))).data
    depth, node = 0, data
    while isinstance(node, dict | list):
        depth += 1
        node = node["a"] if isinstance(node, dict) else (node[0] if node else None)
    assert depth == MAX_DEPTH


def test_deep_yaml_block_mappings_name_the_line(tmp_path: Path) -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(600)) + "  " * 600 + "v: 1\n"
    path = write(tmp_path, "deep.yaml", text)
    assert refused(path) == f"{path}: line {MAX_DEPTH + 1}: nested deeper than {MAX_DEPTH} levels"


def test_deep_toml_tables_without_brackets_are_refused(tmp_path: Path) -> None:
    header = ".".join(f"k{i}" for i in range(MAX_DEPTH + 1))
    path = write(tmp_path, "deep.toml", f"[{header}]\nv = 1\n")
    assert refused(path) == f"{path}: nested deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize("fmt", ["yaml", "json", "toml"])
def test_check_reports_deep_nesting_as_an_error_line(
    project: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    write(project, f"deep.{fmt}", nested(fmt, 5000))
    assert cli_error(capsys, "check", f"deep.{fmt}") == (
        f"secretwire: error: deep.{fmt}: line 2: nested deeper than {MAX_DEPTH} levels"
    )


def deep_tree(depth: int) -> Any:
    tree: Any = "${secret:s}"
    for _ in range(depth):
        tree = {"k": tree}
    return tree


def test_resolver_refuses_deep_trees_built_in_code() -> None:
    with SecretManager(MemoryProvider({"s": "v"})) as manager:
        with pytest.raises(ConfigError) as info:
            manager.resolve(deep_tree(MAX_DEPTH + 1), source="app")
        assert str(info.value) == (
            f"app: nested deeper than {MAX_DEPTH} levels at k.k.k.k.k... "
            "(or the tree contains itself)"
        )
        with pytest.raises(ConfigError):
            manager.resolve(deep_tree(50_000))


def test_resolver_counts_depth_from_the_root_container() -> None:
    with SecretManager(MemoryProvider({"s": "v"})) as manager:
        resolved = manager.resolve(deep_tree(MAX_DEPTH))
    for _ in range(MAX_DEPTH):
        resolved = resolved["k"]
    assert resolved == "v"


@pytest.mark.parametrize("kind", ["dict", "list"])
def test_resolver_refuses_a_tree_that_contains_itself(kind: str) -> None:
    tree: Any = {"a": "${secret:s}"} if kind == "dict" else ["${secret:s}"]
    if kind == "dict":
        tree["self"] = tree
    else:
        tree.append(tree)
    with SecretManager(MemoryProvider({"s": "v"})) as manager, pytest.raises(ConfigError) as info:
        manager.resolve(tree)
    assert "or the tree contains itself" in str(info.value)


# -- characters ---------------------------------------------------------------------------


def test_control_character_in_yaml_names_the_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(project, "ctrl.yaml", 'a: 1\nb: "x\x01y"\n')
    message = (
        "line 2: invalid YAML: unacceptable character #x0001: special characters are not allowed"
    )
    assert refused(path) == f"{path}: {message}"
    assert cli_error(capsys, "check", "ctrl.yaml") == f"secretwire: error: ctrl.yaml: {message}"


YAML_SURROGATE = (
    "an escape stands for a lone surrogate (half of a UTF-16 pair), which is not text; "
    "write the character itself or one \\U escape (YAML does not join \\u pairs)"
)
JSON_SURROGATE = (
    "an escape stands for a lone surrogate (half of a UTF-16 pair), which is not text; "
    "write the character itself or both halves of its pair"
)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("value.yaml", 'a: 1\nb: "\\ud83d\\udd11"\n', YAML_SURROGATE),
        ("key.yaml", 'a: 1\n"\\ud83d": x\n', YAML_SURROGATE),
        ("seq.yaml", 'a: 1\nb:\n  - "\\udd11"\n', YAML_SURROGATE),
        ("value.json", '{"a": "\\ud83d\\udd11",\n "b": "\\ud83d"}\n', JSON_SURROGATE),
        ("key.json", '{"a": 1,\n "\\udd11": 2}\n', JSON_SURROGATE),
    ],
    ids=["yaml-value", "yaml-key", "yaml-item", "json-value", "json-key"],
)
def test_lone_surrogates_are_refused_with_their_line(
    project: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, message: str
) -> None:
    path = write(project, name, text)
    line = 3 if name == "seq.yaml" else 2
    assert refused(path) == f"{path}: line {line}: {message}"
    for command in ("check", "render"):
        assert (
            cli_error(capsys, command, name) == f"secretwire: error: {name}: line {line}: {message}"
        )


def test_surrogate_pairs_in_json_and_big_escapes_in_yaml_are_text(tmp_path: Path) -> None:
    key = "\U0001f511"
    assert load_config(write(tmp_path, "a.json", '{"k": "\\ud83d\\udd11"}')).data == {"k": key}
    assert load_config(write(tmp_path, "a.yaml", 'k: "\\U0001F511"\n')).data == {"k": key}
    assert json.loads(json.dumps(key)) == key


def test_check_prints_an_undecodable_file_name_escaped(project: Path) -> None:
    """On a strict UTF-8 stdout, a file name that is not text is shown escaped."""
    name = os.fsdecode(b"ok\xff.yaml")
    (project / name).write_text("a: ${secret:x:-d}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETWIRE_")}
    env["PYTHONIOENCODING"] = "utf-8"  # errors=strict, as under a UTF-8 locale
    result = subprocess.run(
        [sys.executable, "-m", "secretwire", "check", name],
        cwd=project,
        env=env,
        capture_output=True,
        check=False,
    )
    assert result.stderr == b""
    assert result.stdout == (
        b"ok: 1 reference(s) resolvable in ok\\udcff.yaml (1 by their default: "
        b"the secret does not exist)\n"
    )
