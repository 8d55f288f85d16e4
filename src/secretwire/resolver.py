"""Resolve every reference in a configuration tree, in one batch.

The resolver walks dicts, lists, tuples and strings; collects the distinct
``(name, version)`` pairs the references need; fetches each pair once (the
manager fetches uncached pairs concurrently, bounded); and substitutes. The input
is never mutated, and a substituted value is never parsed again.

Every site is keyed by its path of the tree's own key objects, so the mapping
keys ``1`` and ``"1"`` (or ``True`` and ``"True"``) are two sites, never one.
Trees nested deeper than :data:`MAX_DEPTH` containers (or that contain
themselves) are refused with a :class:`ConfigError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from .errors import (
    ConfigError,
    ProviderError,
    ReferenceSyntaxError,
    ResolutionError,
    ResolutionFailure,
    SecretNotFound,
    reason_of,
)
from .references import Reference, Template, contains_reference, parse
from .types import Key, Secret
from .values import MASK, SecretValue

__all__ = [
    "MAX_DEPTH",
    "Provenance",
    "Resolution",
    "Resolver",
    "SecretSource",
    "format_location",
]


#: How deeply mappings and lists may nest (the root container is level 1). Deeper
#: trees, and trees that contain themselves, are refused with a :class:`ConfigError`;
#: :func:`secretwire.load_config` enforces the same limit on files.
MAX_DEPTH = 100

#: A site's place in the tree: the mapping keys (the tree's own key objects, never
#: their text) and list indexes that lead to it. A path names one node: at each
#: step the container is either a mapping or a list, so a mapping key ``0`` and a
#: list index ``0`` never meet at the same step.
TreePath = tuple[Any, ...]


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


def format_location(path: Sequence[Any]) -> str:
    """``("database", "url")`` → ``database.url``; ``("hosts", 0)`` → ``hosts[0]``.

    A key that is not a string shows in brackets (``ports[8080]``, ``flags[True]``,
    ``[None]``, ``rates[1.5]``, ``days[2024-01-01]``) and a string key that is not a
    plain word in quoted brackets (``['1.5']``), so keys that print alike (``1`` and
    ``"1"``, ``True`` and ``"True"``) get different locations.
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, str):
            if part.isidentifier() or (part and all(c.isalnum() or c in "_-" for c in part)):
                out.append(f".{part}" if out else part)
            else:
                out.append(f"[{part!r}]")
        elif isinstance(part, date):
            out.append(f"[{part.isoformat()}]")
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


@dataclass(slots=True)
class _Site:
    """A string in the tree that holds references (or a malformed one)."""

    path: TreePath
    text: str
    template: Template | None
    syntax_error: ReferenceSyntaxError | None = None


@dataclass(slots=True)
class _Run:
    """The state of one resolution: inputs, fetched results and what came out."""

    source: str | None
    lines: Mapping[str, int]
    reveal: bool
    fetched: Mapping[Key, Secret | ProviderError] = field(default_factory=dict)
    failures: list[ResolutionFailure] = field(default_factory=list)
    provenance: list[Provenance] = field(default_factory=list)

    def where(self, location: str) -> str:
        line = self.lines.get(location)
        return f"{location} (line {line})" if line is not None else location


class Resolver:
    """Resolves references in configuration trees through a :class:`SecretSource`.

    ``lines`` may map a location (``database.url``, as :func:`format_location`
    writes it) to the line it came from, and ``source`` names the file; both only
    decorate error messages.
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
        run = _Run(source, lines or {}, reveal)
        sites: list[_Site] = []
        _collect(tree, (), sites, source)
        keys = list(
            dict.fromkeys(
                ref.key for site in sites if site.template for ref in site.template.references
            )
        )
        run.fetched = self._source.get_many(keys) if keys else {}
        # Rendered texts hold values: kept masked, so that no frame on the way of
        # the ResolutionError below holds one in clear.
        rendered: dict[TreePath, SecretValue] = {}
        for site in sites:
            text = _render(site, run)
            if text is not None:
                rendered[site.path] = text
        if run.failures:
            raise ResolutionError(run.failures, source=source)
        return Resolution(_rebuild(tree, (), rendered), tuple(run.provenance))


def _collect(node: Any, path: TreePath, sites: list[_Site], source: str | None) -> None:
    """Find, in tree order, every string that holds a reference."""
    if isinstance(node, str):
        if not contains_reference(node):
            return
        try:
            template = parse(node)
        except ReferenceSyntaxError as err:
            sites.append(_Site(path, node, None, err))
            return
        # A literal template still matters when it held escapes ($${secret:...}).
        if not (template.is_literal and template.parts == (node,)):
            sites.append(_Site(path, node, template))
    elif isinstance(node, Mapping):
        _check_depth(path, source)
        for key, value in node.items():
            _collect(value, (*path, key), sites, source)
    elif isinstance(node, list | tuple):
        _check_depth(path, source)
        for index, value in enumerate(node):
            _collect(value, (*path, index), sites, source)


def _check_depth(path: TreePath, source: str | None) -> None:
    """Refuse a container below :data:`MAX_DEPTH` others (a cycle ends here too)."""
    if len(path) >= MAX_DEPTH:
        raise ConfigError(
            f"nested deeper than {MAX_DEPTH} levels at {format_location(path[:5])}... "
            "(or the tree contains itself)",
            source=source,
        )


def _render(site: _Site, run: _Run) -> SecretValue | None:
    """The site's text with references substituted (masked: it holds values), or
    None after recording failures."""
    location = format_location(site.path)
    if site.template is None:
        err = site.syntax_error
        assert err is not None  # noqa: S101 - a site has a template or an error
        located = err.located(source=run.source, line=run.lines.get(location))
        snippet = _snippet(site.text, err.position)
        run.failures.append(ResolutionFailure(run.where(location), snippet, err.reason, located))
        return None
    ok = True

    def lookup(ref: Reference) -> str:
        nonlocal ok
        outcome = run.fetched.get(ref.key)
        try:
            value, defaulted = reference_value(ref, outcome)
        except ProviderError as err:
            ok = False
            run.failures.append(
                ResolutionFailure(run.where(location), ref.format(), reason_of(err), err)
            )
            return ""
        if defaulted or not isinstance(outcome, Secret):
            run.provenance.append(Provenance(location, ref.format(), None, None, True))
        else:
            run.provenance.append(
                Provenance(location, ref.format(), outcome.provider, outcome.version)
            )
        return value if run.reveal else MASK

    text = SecretValue(site.template.render(lookup))
    return text if ok else None


def reference_value(ref: Reference, outcome: Secret | ProviderError | None) -> tuple[str, bool]:
    """The text ``ref`` stands for, given what fetching ``ref.key`` produced, and
    whether that text is the reference's default.

    The field is selected here; the default is used only when the secret or the
    field does not exist. Any other outcome raises its typed error.
    """
    try:
        if outcome is None:
            raise ProviderError("no result for reference", name=ref.name)
        if isinstance(outcome, ProviderError):
            raise outcome
        value = outcome.field(ref.field) if ref.field is not None else outcome.reveal()
    except SecretNotFound:
        if ref.default is None:
            raise
        return ref.default, True
    return value, False


def _snippet(text: str, position: int, width: int = 40) -> str:
    """The malformed reference text around ``position``, for error messages.

    Config text outside references is not secret, but keep the excerpt short.
    """
    start = text.rfind("$", 0, position + 1)
    start = max(start, 0)
    return text[start : start + width] + ("..." if len(text) > start + width else "")


def _rebuild(node: Any, path: TreePath, rendered: Mapping[TreePath, SecretValue]) -> Any:
    if isinstance(node, str):
        text = rendered.get(path)
        return node if text is None else text.reveal()
    if isinstance(node, Mapping):
        return {key: _rebuild(value, (*path, key), rendered) for key, value in node.items()}
    if isinstance(node, list):
        return [_rebuild(value, (*path, i), rendered) for i, value in enumerate(node)]
    if isinstance(node, tuple):
        return tuple(_rebuild(value, (*path, i), rendered) for i, value in enumerate(node))
    return node
