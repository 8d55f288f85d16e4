"""The variables a template names, resolved: ``.env`` templates and config files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..configfile import load_config
from ..dotenv import env_key, read_dotenv
from ..errors import ReferenceSyntaxError
from ..manager import SecretManager
from ..paths import TreePath, format_location, walk_strings
from ..references import contains_reference, parse
from ..resolver import ResolvedText
from ..values import SecretValue

__all__ = ["Variable", "template_variables"]


@dataclass(frozen=True)
class Variable:
    """One variable for the child: its name, its text (masked until revealed), whether
    that text took a value from a secret, and where it was defined (``file:line``)."""

    key: str
    value: SecretValue
    secret: bool
    where: str


def template_variables(
    manager: SecretManager,
    *,
    env_files: Sequence[str | Path] = (),
    config_files: Sequence[str | Path] = (),
) -> list[Variable]:
    """Every variable of the ``.env`` templates, then of the config files' references
    (a leaf ``database.password`` becomes ``DATABASE_PASSWORD``); a variable defined
    again replaces the earlier one. Each file is one batch through ``manager``;
    failures raise :class:`~secretwire.ResolutionError` naming the file, the variable
    and the line, and a malformed file :class:`~secretwire.dotenv.DotenvError` or
    :class:`~secretwire.ConfigError`. This is where a value for ``run`` is read: the
    one place an authorization for the ``run`` operation belongs."""
    found: dict[str, Variable] = {}
    for path in env_files:
        entries = read_dotenv(path)
        texts = {entry.key: entry.value.reveal() for entry in entries}
        lines = {entry.key: entry.line for entry in entries}
        _authorize_run(manager, texts.values())
        resolved = manager.resolve_texts(texts, source=str(path), lines=lines)
        for key, text in resolved.items():
            found[key] = _variable(key, text, f"{path}:{lines[key]}")
    for path in config_files:
        config = load_config(path)
        strings = {
            site: text
            for site, text in walk_strings(config.data, source=config.path)
            if contains_reference(text)
        }
        _authorize_run(manager, strings.values())
        tree = manager.resolve_texts(
            strings, where=format_location, source=config.path, lines=config.lines
        )
        for site, text in tree.items():
            found[_tree_key(site)] = _variable(_tree_key(site), text, _where(config.path, site))
    return list(found.values())


def _authorize_run(manager: SecretManager, texts: Iterable[str]) -> None:
    """The ``run`` operation on every secret the texts name, before any is read
    (the settings' policy; without one, everything is allowed). A malformed text is
    left to the resolver, which reports it with its file and line."""
    names: dict[str, None] = {}
    for text in texts:
        try:
            names.update((ref.name, None) for ref in parse(text).references)
        except ReferenceSyntaxError:
            continue
    for name in names:
        manager.authorize("run", name)


def _variable(key: str, text: ResolvedText, where: str) -> Variable:
    value = text.value if isinstance(text.value, SecretValue) else SecretValue(text.value)
    return Variable(key, value, text.is_secret, where)


def _tree_key(site: TreePath) -> str:
    return env_key("_".join(str(part) for part in site))


def _where(path: str, site: TreePath) -> str:
    return f"{path}: {format_location(site)}"
