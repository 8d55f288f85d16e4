"""The secret lifecycle: rollback, verified rotation, declared secrets and their
schedules, expiry warnings and change notifications (docs/rotation.md,
docs/lifecycle.md).

It sits between the settings (which parse ``secrets:`` with :mod:`.inventory`) and
the pipeline (which rotation drives, so every layer sees each step). The manager
offers it as ``rotate``, ``rollback`` and ``subscribe``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .generators import JsonField, Password, RandomBytes, generator_from_spec
    from .hooks import CommandHook, HookCall, PythonHook, hook_from_spec
    from .inventory import Declared, Inventory, RotationPolicy, Validation, parse_inventory
    from .render import inventory_markdown
    from .rotation import RotationResult, Rotator
    from .status import StatusRow, due_names, inventory_status
    from .watch import Change

# Each name's module loads on its first use (python -X importtime).
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "generators": "JsonField Password RandomBytes generator_from_spec",
        "hooks": "CommandHook HookCall PythonHook hook_from_spec",
        "inventory": "Declared Inventory RotationPolicy Validation parse_inventory",
        "render": "inventory_markdown",
        "rotation": "RotationResult Rotator",
        "status": "StatusRow due_names inventory_status",
        "watch": "Change",
    },
)

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
