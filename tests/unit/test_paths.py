"""The site-level tree primitives: walk_strings, walk_leaves, replace_at, format_location."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from secretwire import ConfigError, format_location, replace_at, walk_leaves, walk_strings
from secretwire.paths import MAX_DEPTH


def test_walk_strings_in_tree_order_with_the_trees_own_keys() -> None:
    tree = {
        "db": {"url": "u", "port": 5432, 1: "one", "1": "one-text"},
        "hosts": ["a", ("b", None, "c")],
        True: "flag",
        "empty": {},
    }
    assert list(walk_strings(tree)) == [
        (("db", "url"), "u"),
        (("db", 1), "one"),
        (("db", "1"), "one-text"),
        (("hosts", 0), "a"),
        (("hosts", 1, 0), "b"),
        (("hosts", 1, 2), "c"),
        ((True,), "flag"),
    ]


def test_walk_strings_of_a_bare_string_and_of_a_scalar() -> None:
    assert list(walk_strings("x")) == [((), "x")]
    assert list(walk_strings(5)) == []


def test_walk_strings_refuses_deep_and_self_containing_trees() -> None:
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ConfigError, match=f"deeper than {MAX_DEPTH}") as info:
        list(walk_strings(deep, source="app.yaml"))
    assert info.value.source == "app.yaml"
    cyclic: dict[str, Any] = {"a": "x"}
    cyclic["self"] = cyclic
    with pytest.raises(ConfigError, match="contains itself"):
        list(walk_strings(cyclic))


class _Opaque:
    """A leaf that is neither a scalar nor a container (a framework's lazy value)."""

    def __init__(self, items: list[str]) -> None:
        self.items = items


def test_walk_leaves_gives_every_leaf_whatever_its_type() -> None:
    opaque = _Opaque(["not", "looked", "into"])
    tree = {"db": {"url": "u", "port": 5432, "lazy": opaque}, "hosts": ["a", (None, 1.5)], "e": {}}
    assert list(walk_leaves(tree)) == [
        (("db", "url"), "u"),
        (("db", "port"), 5432),
        (("db", "lazy"), opaque),
        (("hosts", 0), "a"),
        (("hosts", 1, 0), None),
        (("hosts", 1, 1), 1.5),
    ]
    assert list(walk_leaves(5)) == [((), 5)]
    assert list(walk_leaves("x")) == [((), "x")]
    assert list(walk_leaves([])) == []
    # the strings are exactly walk_strings'
    strings = [(path, leaf) for path, leaf in walk_leaves(tree) if isinstance(leaf, str)]
    assert strings == list(walk_strings(tree))


def test_walk_leaves_refuses_deep_and_self_containing_trees() -> None:
    deep: Any = 5
    for _ in range(MAX_DEPTH + 1):
        deep = {"k": deep}
    with pytest.raises(ConfigError, match=f"deeper than {MAX_DEPTH}") as info:
        list(walk_leaves(deep, source="app.yaml"))
    assert info.value.source == "app.yaml"
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    with pytest.raises(ConfigError, match="contains itself"):
        list(walk_leaves(cyclic))


def test_replace_at_copies_and_never_mutates() -> None:
    tree = {"db": {"url": "${x}", 1: "keep"}, "hosts": ["a", ("b", "c")], "n": 5}
    before = copy.deepcopy(tree)
    out = replace_at(tree, {("db", "url"): "resolved", ("hosts", 1, 1): "C"})
    assert out == {"db": {"url": "resolved", 1: "keep"}, "hosts": ["a", ("b", "C")], "n": 5}
    assert tree == before
    assert out["db"] is not tree["db"] and out["hosts"] is not tree["hosts"]
    assert isinstance(out["hosts"][1], tuple)


def test_replace_at_can_replace_a_container_or_the_root() -> None:
    assert replace_at({"a": {"b": "c"}}, {("a",): [1, 2]}) == {"a": [1, 2]}
    assert replace_at("text", {(): "other"}) == "other"
    assert replace_at({"a": 1}, {}) == {"a": 1}


def test_replace_at_keys_1_and_text_1_are_two_places() -> None:
    out = replace_at({1: "int", "1": "str"}, {(1,): "x"})
    assert out == {1: "x", "1": "str"}


def test_replace_at_refuses_self_containing_trees_on_and_off_the_replaced_paths() -> None:
    cyclic: dict[str, Any] = {"a": "x"}
    cyclic["self"] = cyclic
    for replacements in ({}, {("a",): "y"}, {("self", "a"): "y"}):
        with pytest.raises(ConfigError, match="contains itself"):
            replace_at(cyclic, replacements)


def test_replace_at_names_a_path_that_is_not_in_the_tree() -> None:
    with pytest.raises(KeyError, match=r"db\.nope"):
        replace_at({"db": {"url": "u"}}, {("db", "nope"): "x"})


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (("database", "url"), "database.url"),
        (("hosts", 0), "hosts[0]"),
        (("ports", 8080), "ports[8080]"),
        (("flags", True), "flags[True]"),
        ((None,), "[None]"),
        (("a", "1.5"), "a['1.5']"),
        (("days", datetime.date(2024, 1, 1)), "days[2024-01-01]"),
        ((), ""),
    ],
)
def test_format_location(path: tuple[Any, ...], shown: str) -> None:
    assert format_location(path) == shown


def test_the_resolver_module_still_offers_format_location() -> None:
    from secretwire import resolver

    assert resolver.format_location is format_location
    assert resolver.MAX_DEPTH == MAX_DEPTH
