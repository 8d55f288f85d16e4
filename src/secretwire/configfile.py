"""Load YAML, JSON or TOML configuration files, remembering where each value sits.

Used by ``secretwire render`` / ``check`` (and available to applications) so that
an error names the file and line of a failing reference.

A file is untrusted input: whatever it holds, loading it ends in bounded time and
memory, with the data or a :class:`ConfigError` that names the file and, where
known, the line. Refused:

- mappings and lists nested deeper than :data:`MAX_DEPTH` (100) levels, in every
  format (the resolver refuses the same for trees built in code);
- YAML aliases that would add more than :data:`MAX_ALIAS_NODES` (10,000) nodes
  once expanded (a "billion laughs" file), and an alias inside the node it names;
- text that is not UTF-8, YAML control characters, and escapes that decode to a
  lone surrogate (``"\\ud83d"``), which no output could print.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .paths import MAX_DEPTH, format_location

if TYPE_CHECKING:
    import yaml

# yaml and tomllib are imported on first use: ``import secretwire`` stays cheap.

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "ConfigFile", "dump_config", "load_config"]

#: How many nodes YAML aliases may add to a document once expanded (each alias
#: adds the size of the node it names). Past it, loading stops with a ConfigError.
MAX_ALIAS_NODES = 10_000

_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """A loaded file. ``lines`` maps each location, as
    :func:`secretwire.paths.format_location` writes it (``database.url``,
    ``hosts[0]``, ``ports[8080]``), to its 1-based line (YAML files only)."""

    path: str
    format: str
    data: Any
    lines: dict[str, int] = field(default_factory=dict)


def load_config(path: str | Path, *, format: str | None = None) -> ConfigFile:
    """Read ``path``; ``format`` (yaml, json, toml) defaults to the file extension."""
    file = Path(path)
    fmt = format or _FORMATS.get(file.suffix.lower())
    if fmt not in ("yaml", "json", "toml"):
        raise ConfigError("unknown config format; use .yaml, .json or .toml", source=str(file))
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror or err}", source=str(file)) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", source=str(file)) from None
    if fmt == "yaml":
        return _load_yaml(text, str(file))
    if fmt == "json":
        return ConfigFile(str(file), fmt, _load_json(text, str(file)))
    return ConfigFile(str(file), fmt, parse_toml(text, str(file)))


def _load_json(text: str, source: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"invalid JSON: {err.msg}", source=source, key=f"line {err.lineno}"
        ) from None
    except RecursionError:  # deeper than the interpreter's limit: past MAX_DEPTH too
        raise _too_deep(text, "json", source) from None
    _check_tree(data, text, "json", source)
    return data


def parse_toml(text: str, source: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # noqa: PLC0415
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"invalid TOML: {err}", source=source) from None
    except RecursionError:
        raise _too_deep(text, "toml", source) from None
    _check_tree(data, text, "toml", source)
    return data


# -- limits on parsed JSON and TOML ------------------------------------------------------
# (YAML is checked while it is composed, where every node knows its line.)


def _check_tree(data: Any, text: str, fmt: str, source: str) -> None:
    """Refuse nesting past MAX_DEPTH and lone surrogates, walking without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise _surrogate_error(text, source)
        elif isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep(text, fmt, source)
            if isinstance(node, dict):
                for key in node:
                    if isinstance(key, str) and _SURROGATE.search(key):
                        raise _surrogate_error(text, source)
                items = list(node.values())
            else:
                items = node
            stack.extend((item, depth + 1) for item in items)


_BRACKETS = {
    # strings (whose brackets do not count) or a bracket
    "json": re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]'),
    "toml": re.compile(
        r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*|[\[\]{}]'
    ),
}


def _too_deep(text: str, fmt: str, source: str) -> ConfigError:
    """The error for nesting past MAX_DEPTH, with the line where it goes past."""
    depth = 1 if fmt == "toml" else 0  # a TOML document is a table without brackets
    for match in _BRACKETS[fmt].finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                return ConfigError(_DEEP, source=source, key=f"line {line}")
        elif piece in ("]", "}"):
            depth -= 1
    return ConfigError(_DEEP, source=source)  # e.g. TOML tables named a.b.c.d...


_DEEP = f"nested deeper than {MAX_DEPTH} levels"
_LONE_SURROGATE = "an escape stands for a lone surrogate (half of a UTF-16 pair), which is not text"
_SURROGATE_HINT = {
    "json": "; write the character itself or both halves of its pair",
    "yaml": "; write the character itself or one \\U escape (YAML does not join \\u pairs)",
}


def _surrogate_error(text: str, source: str) -> ConfigError:
    """The error for a JSON string whose escapes decode to a lone surrogate."""
    for match in _BRACKETS["json"].finditer(text):
        piece = match.group()
        if piece.startswith('"') and "\\" in piece:
            try:
                lone = _SURROGATE.search(json.loads(piece)) is not None
            except ValueError:  # pragma: no cover - the whole text parsed already
                lone = False
            if lone:
                line = text.count("\n", 0, match.start()) + 1
                message = _LONE_SURROGATE + _SURROGATE_HINT["json"]
                return ConfigError(message, source=source, key=f"line {line}")
    return ConfigError(_LONE_SURROGATE, source=source)  # pragma: no cover - found above


# -- YAML ------------------------------------------------------------------------------


def _load_yaml(text: str, source: str) -> ConfigFile:
    import yaml  # noqa: PLC0415

    loader = None
    try:
        # The reader refuses control characters as soon as the loader is built.
        loader = _loader_class()(text, source)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        lines: dict[str, int] = {}
        if node is not None:
            _record_lines(loader, node, (), lines, source)
    except yaml.YAMLError as err:
        raise ConfigError(
            f"invalid YAML: {_yaml_problem(err)}", source=source, key=_yaml_line(err, text)
        ) from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops nesting long before
        raise ConfigError(_DEEP, source=source) from None
    finally:
        if loader is not None:
            loader.dispose()
    return ConfigFile(source, "yaml", data, lines)


def _yaml_problem(err: yaml.YAMLError) -> str:
    import yaml  # noqa: PLC0415

    if isinstance(err, yaml.reader.ReaderError):
        return f"unacceptable character #x{err.character:04x}: {err.reason}"
    return str(getattr(err, "problem", None) or err)


def _yaml_line(err: yaml.YAMLError, text: str) -> str | None:
    import yaml  # noqa: PLC0415

    if isinstance(err, yaml.reader.ReaderError):
        return f"line {text.count(chr(10), 0, err.position) + 1}"
    mark: Any = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    return f"line {mark.line + 1}" if mark is not None else None


@functools.cache
def _loader_class() -> Callable[[str, str], yaml.SafeLoader]:
    """A ``SafeLoader`` that bounds nesting and alias expansion while composing."""
    import yaml  # noqa: PLC0415

    class BoundedLoader(yaml.SafeLoader):
        def __init__(self, stream: str, source: str) -> None:
            super().__init__(stream)
            self.source = source
            self.depth = 0  # containers open around the node being composed
            self.alias_nodes = 0  # nodes the aliases so far add once expanded
            self.sizes: dict[int, int] = {}  # id(node) -> its size, aliases expanded

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()  # type: ignore[no-untyped-call]
                target = self.anchors.get(event.anchor)
                if target is not None:  # (an unknown alias is the composer's error)
                    size = self.sizes.get(id(target))
                    if size is None:
                        raise self.refuse("an alias inside the node it names", event)
                    self.alias_nodes += size
                    if self.alias_nodes > MAX_ALIAS_NODES:
                        raise self.refuse(
                            f"aliases expand to more than {MAX_ALIAS_NODES} nodes", event
                        )
                return super().compose_node(parent, index)
            opens = self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent)
            if opens:
                self.depth += 1
                if self.depth > MAX_DEPTH:
                    raise self.refuse(_DEEP, self.peek_event())  # type: ignore[no-untyped-call]
            try:
                node = super().compose_node(parent, index)
            finally:
                if opens:
                    self.depth -= 1
            if isinstance(node, yaml.SequenceNode):
                size = 1 + sum(self.sizes[id(item)] for item in node.value)
            elif isinstance(node, yaml.MappingNode):
                size = 1 + sum(self.sizes[id(k)] + self.sizes[id(v)] for k, v in node.value)
            else:
                size = 1
            if node is not None:
                self.sizes[id(node)] = size
            return node

        def refuse(self, problem: str, event: yaml.Event) -> ConfigError:
            mark = event.start_mark
            where = f"line {mark.line + 1}" if mark is not None else None
            return ConfigError(problem, source=self.source, key=where)

    return BoundedLoader


def _record_lines(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: tuple[Any, ...],
    lines: dict[str, int],
    source: str,
) -> None:
    """Record the line of every value under ``node``, keyed by its location with the
    document's own key objects, and refuse lone surrogates (the scalars' text)."""
    import yaml  # noqa: PLC0415 - already loaded by _load_yaml

    if isinstance(node, yaml.ScalarNode):
        _check_scalar(node, source)
        lines[format_location(path)] = node.start_mark.line + 1
    elif isinstance(node, yaml.MappingNode):
        keys: dict[Hashable, Hashable] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                _check_scalar(key_node, source)
            # The key as the data holds it: 1, "1", True, None, 1.5, a date... and,
            # for keys that compare equal (1 and 1.0), the first one, as in a dict.
            key = loader.construct_object(key_node, deep=True)
            key = keys.setdefault(key, key)
            _record_lines(loader, value_node, (*path, key), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(loader, item, (*path, index), lines, source)


def _check_scalar(node: yaml.ScalarNode, source: str) -> None:
    if _SURROGATE.search(node.value):
        line = node.start_mark.line + 1
        message = _LONE_SURROGATE + _SURROGATE_HINT["yaml"]
        raise ConfigError(message, source=source, key=f"line {line}")


def dump_config(data: Any, format: str) -> str:
    """Serialise ``data`` as YAML or JSON for ``secretwire render``.

    JSON keys are strings: a key that is not (``1``, ``true``, a date) is written as
    its JSON text, and a mapping whose keys would collide that way (``1`` and
    ``"1"``) is refused with a :class:`ConfigError` rather than merged.
    """
    if format == "json":
        return json.dumps(_json_keys(data, ()), indent=2, ensure_ascii=False, default=str) + "\n"
    import yaml  # noqa: PLC0415

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _json_keys(node: Any, path: tuple[Any, ...]) -> Any:
    """``node`` with every mapping key as the string JSON would write for it."""
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        first: dict[str, Any] = {}
        for key, value in node.items():
            text = _json_key(key)
            if text in out:
                raise ConfigError(
                    f"keys {first[text]!r} and {key!r} are one key in JSON; use --format yaml",
                    key=format_location(path) or "<root>",
                )
            first[text] = key
            out[text] = _json_keys(value, (*path, key))
        return out
    if isinstance(node, list | tuple):
        return [_json_keys(item, (*path, index)) for index, item in enumerate(node)]
    return node


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool | int | float) or key is None:
        return json.dumps(key)
    if isinstance(key, date):
        return key.isoformat()
    return str(key)
