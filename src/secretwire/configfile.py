"""Load YAML, JSON or TOML configuration files, remembering where each value sits.

Used by ``secretwire render`` / ``check`` (and available to applications) so that
an error names the file and line of a failing reference.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .resolver import format_location

if TYPE_CHECKING:
    import yaml

# yaml and tomllib are imported on first use: ``import secretwire`` stays cheap.

__all__ = ["ConfigFile", "dump_config", "load_config"]

_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


@dataclass(frozen=True, slots=True)
class ConfigFile:
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
        try:
            return ConfigFile(str(file), fmt, json.loads(text))
        except json.JSONDecodeError as err:
            raise ConfigError(
                f"invalid JSON: {err.msg}", source=str(file), key=f"line {err.lineno}"
            ) from None
    return ConfigFile(str(file), fmt, parse_toml(text, str(file)))


def parse_toml(text: str, source: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # noqa: PLC0415
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"invalid TOML: {err}", source=source) from None


def _load_yaml(text: str, source: str) -> ConfigFile:
    import yaml  # noqa: PLC0415

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"invalid YAML: {problem}", source=source, key=where) from None
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    if node is not None:
        _record_lines(node, (), lines)
    return ConfigFile(source, "yaml", data, lines)


def _record_lines(node: yaml.Node, path: tuple[str | int, ...], lines: dict[str, int]) -> None:
    import yaml  # noqa: PLC0415 - already loaded by _load_yaml

    if isinstance(node, yaml.ScalarNode):
        lines[format_location(path)] = node.start_mark.line + 1
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            _record_lines(value_node, (*path, str(key)), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines)


def dump_config(data: Any, format: str) -> str:
    """Serialise ``data`` as YAML or JSON for ``secretwire render``."""
    if format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    import yaml  # noqa: PLC0415

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
