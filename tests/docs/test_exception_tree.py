"""The exception tree drawn in ``errors.py``'s docstring and in
``docs/writing-a-provider.md`` is the real class hierarchy: every class, its parent,
and the builtin it also inherits, nothing missing and nothing extra."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secretwire import SecretwireError, errors

ROOT = Path(__file__).resolve().parents[2]

#: class name -> (parent name or None, builtins named in "(+ ...)")
Tree = dict[str, tuple[str | None, frozenset[str]]]


def parse_tree(text: str) -> Tree:
    """Read the first box-drawn tree that starts with ``SecretwireError``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "SecretwireError")
    indent = len(lines[start]) - len(lines[start].lstrip())
    tree: Tree = {"SecretwireError": (None, frozenset())}
    stack = ["SecretwireError"]
    for raw in lines[start + 1 :]:
        line = raw[indent:]
        match = re.match(r"^((?:[│ ]   )*)[├└]── (\w+)(.*)$", line)
        if match is None:
            break
        depth = len(match.group(1)) // 4 + 1
        name, rest = match.group(2), match.group(3)
        mixins = re.search(r"\(\+ ([\w, ]+)\)", rest)
        del stack[depth:]
        tree[name] = (stack[-1], frozenset(mixins.group(1).split(", ")) if mixins else frozenset())
        stack.append(name)
    return tree


def actual_tree() -> Tree:
    tree: Tree = {}
    for name in errors.__all__:
        cls = getattr(errors, name)
        if not (isinstance(cls, type) and issubclass(cls, SecretwireError)):
            continue
        parents = [b for b in cls.__bases__ if issubclass(b, SecretwireError)]
        mixins = frozenset(
            b.__name__ for b in cls.__bases__ if not issubclass(b, SecretwireError)
        ) - {"Exception"}
        tree[name] = (parents[0].__name__ if parents else None, mixins)
    return tree


@pytest.mark.parametrize(
    "where",
    ["src/secretwire/errors.py", "docs/writing-a-provider.md"],
)
def test_drawn_tree_is_the_class_hierarchy(where: str) -> None:
    drawn = parse_tree((ROOT / where).read_text(encoding="utf-8"))
    real = actual_tree()
    assert sorted(set(real) - set(drawn)) == [], f"{where} does not draw these classes"
    assert sorted(set(drawn) - set(real)) == [], f"{where} draws classes errors.py lacks"
    for name, shape in real.items():
        assert drawn[name] == shape, f"{where}: {name}"


def test_parser_reads_nesting_and_mixins() -> None:
    text = (
        "SecretwireError\n"
        "├── A                  (+ ValueError)   words\n"
        "└── B\n"
        "    ├── C             (+ LookupError)\n"
        "    │   └── D\n"
        "    └── E\n"
    )
    assert parse_tree(text) == {
        "SecretwireError": (None, frozenset()),
        "A": ("SecretwireError", frozenset({"ValueError"})),
        "B": ("SecretwireError", frozenset()),
        "C": ("B", frozenset({"LookupError"})),
        "D": ("C", frozenset()),
        "E": ("B", frozenset()),
    }
