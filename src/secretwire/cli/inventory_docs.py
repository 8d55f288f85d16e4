"""``secretwire docs``: the declared secrets as Markdown (no backend is read)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import SecretwireError
from ..lifecycle.render import inventory_markdown
from ..settings import load_settings
from ._common import EXIT_OK, Subcommands, add_command
from ._io import _utf8_out, _write_out

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    p = add_command(
        sub,
        "docs",
        summary="print the declared secrets as Markdown (names, owners, rotation; no values)",
        example=("secretwire docs > docs/secrets.md", "secretwire docs --output SECRETS.md"),
    )
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--title", default="Secrets", help="the page title (default: Secrets)")
    p.set_defaults(func=cmd_docs)


def cmd_docs(args: argparse.Namespace) -> int:
    inventory = load_settings(args.config).secrets
    if not inventory:
        raise SecretwireError("docs: the settings declare no secrets (secrets:)")
    text = inventory_markdown(inventory, title=args.title)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        _write_out(_utf8_out(text, "the page"))
    return EXIT_OK
