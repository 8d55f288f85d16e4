"""Machine-readable output shared by the commands' ``--json`` options."""

from __future__ import annotations

import json
import sys
from typing import Any

__all__ = ["print_json"]


def print_json(obj: Any) -> None:
    """``obj`` (names, states and numbers: never a value) as one JSON document on stdout."""
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, sort_keys=False)
    sys.stdout.write("\n")
