"""Places in configuration trees: walk their strings, replace some, name a place.

A configuration tree is what ``json.load``, ``yaml.safe_load`` or a framework hands
over: mappings, lists and tuples nested at will, with strings and other scalars as
leaves. These are the site-level primitives the resolver, ``configfile`` and the
framework adapters share (see ``docs/sites.md``):

- :data:`TreePath`: a node's place, as the keys and indexes that lead to it;
- :func:`walk_strings`: every string leaf with its path, in tree order
  (:func:`walk_leaves`: every leaf, whatever its type);
- :func:`replace_at`: a copy of a tree with the nodes at some paths replaced;
- :func:`format_location`: a path as people read it (``database.hosts[0]``).

Trees nested deeper than :data:`MAX_DEPTH` containers (or that contain themselves)
are refused with a :class:`ConfigError` naming the place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from .errors import ConfigError

__all__ = [
    "MAX_DEPTH",
    "TreePath",
    "format_location",
    "replace_at",
    "walk_leaves",
    "walk_strings",
]

#: How deeply mappings and lists may nest (the root container is level 1). Deeper
#: trees, and trees that contain themselves, are refused with a :class:`ConfigError`;
#: :func:`secretwire.load_config` enforces the same limit on files.
MAX_DEPTH = 100

#: A node's place in the tree: the mapping keys (the tree's own key objects, never
#: their text, so ``1`` and ``"1"`` are two places) and list indexes that lead to it.
#: A path names one node: at each step the container is either a mapping or a list,
#: so a mapping key ``0`` and a list index ``0`` never meet at the same step.
TreePath = tuple[Any, ...]

_SCALARS = (int, float, type(None))  # bool is an int


def format_location(path: Sequence[Any]) -> str:
    """``("database", "url")`` → ``database.url``; ``("hosts", 0)`` → ``hosts[0]``.

    A key that is not a string shows in brackets (``ports[8080]``, ``flags[True]``,
    ``[None]``, ``rates[1.5]``, ``days[2024-01-01]``) and a string key that is not a
    plain word in quoted brackets (``['1.5']``), so keys that print alike (``1`` and
    ``"1"``, ``True`` and ``"True"``) get different locations. The root is ``""``.
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, str):
            if part.isidentifier() or (part and all(c.isalnum() or c in "_-" for c in part)):
                out.append(f".{part}" if out else part)
            else:
                out.append(f"[{part!r}]")
        elif isinstance(part, date):
            out.append(f"[{part.isoformat()}]")
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def walk_strings(tree: Any, *, source: str | None = None) -> Iterator[tuple[TreePath, str]]:
    """Every string leaf of ``tree`` with its path, in tree order (mappings in
    their order, lists and tuples by index). Mapping keys are not leaves.

    A container below :data:`MAX_DEPTH` others raises :class:`ConfigError` (naming
    ``source``, the file the tree came from, when given) once the walk reaches it.
    """
    return _walk(tree, source, strings_only=True)


def walk_leaves(tree: Any, *, source: str | None = None) -> Iterator[tuple[TreePath, Any]]:
    """Every leaf of ``tree`` with its path, in tree order: each node that is not a
    mapping, list or tuple (strings, numbers, ``None`` and any other object, which is
    not looked into). An empty container has no leaves. Refuses deep trees as
    :func:`walk_strings` does.
    """
    return _walk(tree, source, strings_only=False)


def _walk(tree: Any, source: str | None, *, strings_only: bool) -> Iterator[tuple[TreePath, Any]]:
    items = _children(tree)
    if items is None:
        if isinstance(tree, str) or not strings_only:
            yield (), tree
        return
    # Depth first with one iterator per open container: paths are built only for
    # the leaves wanted and for containers, and leaves come out in tree order.
    stack: list[tuple[TreePath, Iterator[tuple[Any, Any]]]] = [((), items)]
    while stack:
        path, items = stack[-1]
        for key, value in items:
            if isinstance(value, str):
                yield (*path, key), value
                continue
            children = None if isinstance(value, _SCALARS) else _children(value)
            if children is None:
                if not strings_only:
                    yield (*path, key), value
                continue
            inner = (*path, key)
            _check_depth(inner, source)
            stack.append((inner, children))
            break
        else:
            stack.pop()


def _children(node: Any) -> Iterator[tuple[Any, Any]] | None:
    """``(key, value)`` pairs of a mapping, ``(index, item)`` of a list or tuple."""
    if isinstance(node, Mapping):
        return iter(node.items())
    if isinstance(node, list | tuple):
        return enumerate(node)
    return None


def replace_at(tree: Any, replacements: Mapping[TreePath, Any]) -> Any:
    """A copy of ``tree`` with the node at each path of ``replacements`` replaced by
    its value. ``tree`` itself is never changed.

    Every mapping, list and tuple on the way is copied (mappings become ``dict``,
    lists stay lists, tuples stay tuples); other leaves are shared. A path that
    names no node in ``tree`` raises ``KeyError`` with its location.
    """
    # The places on the way to a replacement: elsewhere a subtree is copied as it is,
    # without building paths.
    on_the_way = {path[:depth] for path in replacements for depth in range(len(path))}
    used: set[TreePath] = set()

    def replace(node: Any, path: TreePath) -> Any:
        if path in replacements:
            used.add(path)
            return replacements[path]
        if path not in on_the_way:
            return _copy(node, path, len(path))
        if isinstance(node, Mapping):
            _check_depth(path, None)
            return {key: replace(value, (*path, key)) for key, value in node.items()}
        if isinstance(node, list | tuple):
            _check_depth(path, None)
            items = [replace(value, (*path, index)) for index, value in enumerate(node)]
            return items if isinstance(node, list) else tuple(items)
        return node

    result = replace(tree, ())
    if len(used) < len(replacements):
        missing = next(path for path in replacements if path not in used)
        raise KeyError(f"no node at {format_location(missing) or '<root>'}")
    return result


def _copy(node: Any, path: TreePath, depth: int) -> Any:
    """``node`` with every mapping (as ``dict``), list and tuple copied."""
    if isinstance(node, str | int | float) or node is None:
        return node
    if isinstance(node, Mapping):
        _check_depth(path, None, depth)
        return {key: _copy(value, path, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        _check_depth(path, None, depth)
        return [_copy(value, path, depth + 1) for value in node]
    if isinstance(node, tuple):
        _check_depth(path, None, depth)
        return tuple(_copy(value, path, depth + 1) for value in node)
    return node


def _check_depth(path: TreePath, source: str | None, depth: int | None = None) -> None:
    """Refuse a container below :data:`MAX_DEPTH` others (a cycle ends here too);
    ``depth`` when it is more than ``len(path)`` (a copy below ``path``)."""
    if (len(path) if depth is None else depth) >= MAX_DEPTH:
        raise ConfigError(
            f"nested deeper than {MAX_DEPTH} levels at {format_location(path[:5])}... "
            "(or the tree contains itself)",
            source=source,
        )
