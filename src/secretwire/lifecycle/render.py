"""``secretwire docs``: the declared secrets as Markdown (names, descriptions,
owners, rules and rotation; never a value, and nothing read from a backend)."""

from __future__ import annotations

from .inventory import Declared, Inventory

__all__ = ["inventory_markdown"]


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split()) or "-"


def _rules(entry: Declared) -> str:
    rules = entry.validation
    parts = []
    if rules.min_length is not None:
        parts.append(f"at least {rules.min_length} characters")
    if rules.pattern is not None:
        parts.append(f"matches `{rules.pattern.pattern}`")
    if rules.json_fields:
        parts.append("JSON with " + ", ".join(f"`{f}`" for f in rules.json_fields))
    return "; ".join(parts)


def inventory_markdown(inventory: Inventory, *, title: str = "Secrets") -> str:
    """A Markdown page: one table row per declared name or glob."""
    lines = [
        f"# {title}",
        "",
        f"{len(inventory.entries)} declared in `{inventory.source or 'the settings'}`.",
        "",
        "| Name | Description | Owner | Required | Rules | Rotation |",
        "|---|---|---|---|---|---|",
    ]
    for entry in inventory.entries:
        rotation = entry.rotation.describe() if entry.rotation else ""
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{entry.pattern}`",
                    _cell(entry.description),
                    _cell(entry.owner),
                    "yes" if entry.required else "no",
                    _cell(_rules(entry)),
                    _cell(rotation),
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"
