"""``--json`` output, in one place for every command (import it from here).

Objects only (never a bare list), UTF-8, indented, one trailing newline; times as
ISO 8601 UTC. What is printed holds names, versions, times and metadata, never a
value: :func:`secret_json` leaves the value out.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .._time import isoformat
from ..types import Secret, SecretVersion
from ._io import _utf8_out, _write_out

__all__ = ["add_json_flag", "print_json", "secret_json", "version_json"]


def add_json_flag(parser: argparse.ArgumentParser, what: str) -> None:
    """``--json``: print ``what`` as one JSON object instead of text."""
    parser.add_argument("--json", action="store_true", help=f"print {what} as one JSON object")


def _default(item: object) -> Any:
    if isinstance(item, datetime):
        return isoformat(item)
    if isinstance(item, Mapping):
        return dict(item)
    raise TypeError(f"not JSON: {type(item).__name__}")  # a bug here, never a value


def print_json(data: Mapping[str, Any]) -> None:
    """``data`` on stdout as JSON."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=_default) + "\n"
    _write_out(_utf8_out(text, "the JSON output"))


def _fields(item: object, names: str) -> dict[str, Any]:
    return {name: getattr(item, name) for name in names.split()}


def version_json(version: SecretVersion) -> dict[str, Any]:
    return _fields(version, "version created_at expires_at current staged metadata tags")


def secret_json(secret: Secret) -> dict[str, Any]:
    """What is known about a secret version, **without its value**."""
    names = "name version provider created_at updated_at expires_at not_before metadata tags"
    return _fields(secret, names)
