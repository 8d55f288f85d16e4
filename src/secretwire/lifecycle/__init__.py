"""The secret lifecycle: rollback, verified rotation, declared secrets and their
schedules, expiry warnings and change notifications (docs/rotation.md,
docs/lifecycle.md).

It sits between the settings (which parse ``secrets:`` with :mod:`.inventory`) and
the pipeline (which rotation drives, so every layer sees each step). The manager
offers it as ``rotate``, ``rollback`` and ``subscribe``.
"""

from __future__ import annotations

from .generators import JsonField, Password, RandomBytes, generator_from_spec
from .hooks import CommandHook, HookCall, PythonHook, hook_from_spec
from .inventory import Declared, Inventory, RotationPolicy, Validation, parse_inventory
from .render import inventory_markdown
from .rotation import RotationResult, Rotator
from .status import StatusRow, due_names, inventory_status
from .watch import Change

__all__ = [
    "Change",
    "CommandHook",
    "Declared",
    "HookCall",
    "Inventory",
    "JsonField",
    "Password",
    "PythonHook",
    "RandomBytes",
    "RotationPolicy",
    "RotationResult",
    "Rotator",
    "StatusRow",
    "Validation",
    "due_names",
    "generator_from_spec",
    "hook_from_spec",
    "inventory_markdown",
    "inventory_status",
    "parse_inventory",
]
