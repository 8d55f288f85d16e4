"""Resolve every reference in a configuration tree, in one batch.

The resolver walks dicts, lists, tuples and strings; collects the distinct
``(name, version)`` pairs the references need; fetches each pair once (the
manager fetches uncached pairs concurrently, bounded); and substitutes. The input
is never mutated, and a substituted value is never parsed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import (
    ProviderError,
    ReferenceSyntaxError,
    ResolutionError,
    ResolutionFailure,
    SecretNotFound,
    reason_of,
)
from .providers.base import Secret
from .references import Reference, Template, contains_reference, parse
from .values import MASK

__all__ = ["Provenance", "Resolution", "Resolver", "SecretSource", "format_location"]

Key = tuple[str, str | None]


class SecretSource(Protocol):
    """What the resolver needs: a batch read. :class:`SecretManager` provides it."""

    def get_many(self, keys: Sequence[Key]) -> Mapping[Key, Secret | ProviderError]: ...


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a resolved value came from; never the value itself."""

    location: str
    reference: str
    provider: str | None
    version: str | None
    defaulted: bool = False


@dataclass(frozen=True, slots=True)
class Resolution:
    value: Any
    provenance: tuple[Provenance, ...]


def format_location(path: Sequence[str | int]) -> str:
    """``("database", "url")`` → ``database.url``; ``("hosts", 0)`` → ``hosts[0]``."""
    out = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier() or (part and all(c.isalnum() or c in "_-" for c in part)):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


@dataclass(slots=True)
class _Site:
    path: tuple[str | int, ...]
    template: Template


class Resolver:
    """Resolves references in configuration trees through a :class:`SecretSource`.

    ``lines`` may map a location (``database.url``) to the line it came from, and
    ``source`` names the file; both only decorate error messages.
    """

    def __init__(self, source: SecretSource) -> None:
        self._source = source

    def resolve(
        self,
        tree: Any,
        *,
        source: str | None = None,
        lines: Mapping[str, int] | None = None,
        reveal: bool = True,
    ) -> Any:
        return self.resolve_with_provenance(tree, source=source, lines=lines, reveal=reveal).value

    def resolve_with_provenance(
        self,
        tree: Any,
        *,
        source: str | None = None,
        lines: Mapping[str, int] | None = None,
        reveal: bool = True,
    ) -> Resolution:
        """Resolve ``tree``. With ``reveal=False`` every reference is still fetched
        (so missing ones are reported) but replaced by :data:`MASK`."""
        lines = lines or {}
        sites: list[_Site] = []
        failures: list[ResolutionFailure] = []
        self._collect(tree, (), sites, failures, source, lines)
        keys = list(dict.fromkeys(ref.key for site in sites for ref in site.template.references))
        fetched = self._source.get_many(keys) if keys else {}
        rendered: dict[tuple[str | int, ...], str] = {}
        provenance: list[Provenance] = []
        for site in sites:
            location = format_location(site.path)
            text = self._render(site, location, fetched, failures, provenance, lines, reveal)
            if text is not None:
                rendered[site.path] = text
        if failures:
            raise ResolutionError(failures, source=source)
        return Resolution(_rebuild(tree, (), rendered), tuple(provenance))

    def _collect(
        self,
        node: Any,
        path: tuple[str | int, ...],
        sites: list[_Site],
        failures: list[ResolutionFailure],
        source: str | None,
        lines: Mapping[str, int],
    ) -> None:
        if isinstance(node, str):
            if not contains_reference(node):
                return
            try:
                template = parse(node)
            except ReferenceSyntaxError as err:
                location = format_location(path)
                located = err.located(source=source, line=lines.get(location))
                failures.append(
                    ResolutionFailure(location, _snippet(node, err.position), err.reason, located)
                )
                return
            if not template.is_literal:
                sites.append(_Site(path, template))
        elif isinstance(node, Mapping):
            for key, value in node.items():
                self._collect(value, (*path, str(key)), sites, failures, source, lines)
        elif isinstance(node, list | tuple):
            for index, value in enumerate(node):
                self._collect(value, (*path, index), sites, failures, source, lines)

    def _render(
        self,
        site: _Site,
        location: str,
        fetched: Mapping[Key, Secret | ProviderError],
        failures: list[ResolutionFailure],
        provenance: list[Provenance],
        lines: Mapping[str, int],
        reveal: bool,
    ) -> str | None:
        ok = True

        def lookup(ref: Reference) -> str:
            outcome = fetched.get(ref.key)
            try:
                value = _value_of(ref, outcome)
                assert isinstance(outcome, Secret)  # noqa: S101 - _value_of checked it
            except SecretNotFound as err:
                if ref.default is not None:
                    provenance.append(Provenance(location, ref.format(), None, None, True))
                    return ref.default if reveal else MASK
                return fail(ref, err)
            except ProviderError as err:
                return fail(ref, err)
            provenance.append(Provenance(location, ref.format(), outcome.provider, outcome.version))
            return value if reveal else MASK

        def fail(ref: Reference, err: ProviderError) -> str:
            nonlocal ok
            ok = False
            where = location
            if location in lines:
                where = f"{location} (line {lines[location]})"
            failures.append(ResolutionFailure(where, ref.format(), reason_of(err), err))
            return ""

        text = site.template.render(lookup)
        return text if ok else None


def _value_of(ref: Reference, outcome: Secret | ProviderError | None) -> str:
    """The text a reference stands for, or the typed error explaining why not."""
    if outcome is None:
        raise ProviderError("no result for reference", name=ref.name)
    if isinstance(outcome, ProviderError):
        raise outcome
    return outcome.field(ref.field) if ref.field is not None else outcome.reveal()


def _snippet(text: str, position: int, width: int = 40) -> str:
    """The malformed reference text around ``position``, for error messages.

    Config text outside references is not secret, but keep the excerpt short.
    """
    start = text.rfind("$", 0, position + 1)
    start = max(start, 0)
    return text[start : start + width] + ("..." if len(text) > start + width else "")


def _rebuild(node: Any, path: tuple[str | int, ...], rendered: Mapping[Any, str]) -> Any:
    if isinstance(node, str):
        return rendered.get(path, node)
    if isinstance(node, Mapping):
        return {key: _rebuild(value, (*path, str(key)), rendered) for key, value in node.items()}
    if isinstance(node, list):
        return [_rebuild(value, (*path, i), rendered) for i, value in enumerate(node)]
    if isinstance(node, tuple):
        return tuple(_rebuild(value, (*path, i), rendered) for i, value in enumerate(node))
    return node
