"""Option declarations against constructors and docs: a tester and a generator.

``python -m secretwire.testing options docs/providers/env.md ...`` rewrites every
option table marked ``<!-- options: NAME -->`` (``NAME`` is the registered
provider) from the provider's declaration; :func:`check_option_tables` fails when a
page and a declaration disagree, and :func:`check_options` when a declaration and
its constructor do.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from pathlib import Path

from ..providers import get_provider_class
from ..providers.base import SecretProvider

__all__ = ["check_option_tables", "check_options", "update_option_tables"]

_MARKER = re.compile(r"<!--\s*options:\s*(\S+)\s*-->\n")


def check_options(cls: type[SecretProvider]) -> None:
    """Fail (AssertionError) unless every declared option is a keyword of ``cls``'s
    constructor with the declared default (a credential ``X``: ``X``, ``X_env`` and
    ``X_file``, or ``X`` alone taking the source)."""
    parameters = inspect.signature(cls).parameters
    for option in cls.options:
        argument = option.argument or option.name
        assert argument in parameters, f"{cls.__name__}(): no parameter for option {option.name!r}"
        if option.is_credential:
            continue
        default = parameters[argument].default
        if option.required:
            continue
        assert default is not inspect.Parameter.empty, f"{argument}: the constructor needs it"
        assert default == option.default, (
            f"{cls.__name__}: option {option.name!r} declares default {option.default!r}, "
            f"the constructor {default!r}"
        )


def update_option_tables(text: str, classes: dict[str, type[SecretProvider]] | None = None) -> str:
    """``text`` with the table after each ``<!-- options: NAME -->`` marker replaced
    by the one NAME's declaration gives (``classes`` maps names to provider classes;
    default: the registry)."""
    out: list[str] = []
    position = 0
    for marker in _MARKER.finditer(text):
        name = marker.group(1)
        cls = (classes or {}).get(name) or get_provider_class(name)
        out.append(text[position : marker.end()])
        end = marker.end()
        rest = text[end:].split("\n")
        table_lines = 0
        while table_lines < len(rest) and rest[table_lines].startswith("|"):
            table_lines += 1
        end += sum(len(line) + 1 for line in rest[:table_lines])
        out.append(cls.options.table() + "\n")
        position = end
    out.append(text[position:])
    return "".join(out)


def check_option_tables(
    paths: Iterable[str | Path], classes: dict[str, type[SecretProvider]] | None = None
) -> None:
    """Fail (AssertionError, with the expected page) when a marked option table in
    one of ``paths`` is not what the provider's declaration gives."""
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        assert _MARKER.search(text), f"{path}: no <!-- options: NAME --> marker"
        expected = update_option_tables(text, classes)
        assert text == expected, (
            f"{path}: the option table differs from the declaration; run "
            f"`python -m secretwire.testing options {path}`. Expected:\n{expected}"
        )


def main(argv: list[str]) -> int:
    for path in argv:
        page = Path(path)
        page.write_text(update_option_tables(page.read_text(encoding="utf-8")), encoding="utf-8")
    return 0
