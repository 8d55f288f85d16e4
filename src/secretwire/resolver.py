"""Resolve references in one batch: keyed texts, or every string of a configuration tree.

:meth:`Resolver.resolve_texts` is the site-level call: it takes texts keyed by
whatever names their place for the caller (a tree path, a field name, an OmegaConf
node...), collects the distinct ``(name, version)`` pairs their references need,
fetches each pair once through a :class:`SecretSource` (the manager fetches
uncached pairs concurrently, bounded), and substitutes. A failure carries the
caller's key (:attr:`SiteFailure.site`); a substituted value is never parsed again.

:meth:`Resolver.resolve` and :meth:`Resolver.resolve_with_provenance` walk a tree
with :func:`secretwire.paths.walk_strings`, resolve its strings with
``resolve_texts`` keyed by :data:`~secretwire.paths.TreePath`, and rebuild a copy
with :func:`secretwire.paths.replace_at`; the input is never mutated.

No frame of this module holds a resolved value in clear on an error path: texts
that hold a secret stay :class:`SecretValue` until a caller reveals them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from .errors import (
    ConfigError,
    ProviderError,
    ReferenceSyntaxError,
    ResolutionError,
    ResolutionFailure,
    SecretwireError,
    reason_of,
)
from .paths import MAX_DEPTH, TreePath, format_location, replace_at, walk_strings
from .references import Reference, Scheme, Template, contains_reference, parse, reference_value
from .types import Key, Secret
from .values import MASK, SecretValue

__all__ = [
    "MAX_DEPTH",
    "Provenance",
    "Resolution",
    "ResolvedText",
    "Resolver",
    "SecretSource",
    "SiteFailure",
    "TreePath",
    "format_location",
    "reference_value",
]

K = TypeVar("K", bound=Hashable)


class SecretSource(Protocol):
    """What the resolver needs: a batch read. :class:`SecretManager` provides it."""

    def get_many(self, keys: Sequence[Key]) -> Mapping[Key, Secret | ProviderError]: ...


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a resolved value came from; never the value itself. ``location`` is the
    site's label (for trees: its :func:`format_location`)."""

    location: str
    reference: str
    provider: str | None
    version: str | None
    defaulted: bool = False


@dataclass(frozen=True, slots=True)
class Resolution:
    value: Any
    provenance: tuple[Provenance, ...]


@dataclass(frozen=True, slots=True)
class ResolvedText:
    """What one text resolved to.

    ``value`` is a :class:`SecretValue` when the text took a value from a secret
    (:attr:`is_secret`; a reference whose default was used does not count), so the
    caller decides when to reveal it; otherwise the plain ``str`` (no references,
    only escapes, only defaults or environment variables). ``provenance`` lists the
    text's secret references in order.
    """

    value: str | SecretValue
    provenance: tuple[Provenance, ...] = ()

    @property
    def is_secret(self) -> bool:
        return isinstance(self.value, SecretValue)

    def reveal(self) -> str:
        """The text in clear (with :data:`MASK` in place of values if resolved with
        ``reveal=False``)."""
        return self.value.reveal() if isinstance(self.value, SecretValue) else self.value


@dataclass(frozen=True)
class SiteFailure(ResolutionFailure):
    """A :class:`ResolutionFailure` of :meth:`Resolver.resolve_texts`: ``site`` is the
    caller's key of the failing text (a :data:`TreePath` for trees); ``location`` is
    its label, with ``(line N)`` when ``lines`` knew it."""

    site: Any = None


class Resolver:
    """Resolves references through a :class:`SecretSource`.

    With ``environ`` (a mapping such as ``os.environ``) it also reads ``${env:VAR}``
    / ``${env:VAR:-default}`` in the same pass, from that mapping; the settings
    loader does this for provider options. ``source=None`` leaves ``${secret:...}``
    as literal text (only ``env`` is read). Configuration files and adapters use a
    resolver without ``environ``: there ``${env:...}`` is literal text.
    """

    def __init__(
        self, source: SecretSource | None, *, environ: Mapping[str, str] | None = None
    ) -> None:
        if source is None and environ is None:
            raise ValueError("a Resolver needs a secret source, an environ, or both")
        self._source = source
        self._environ = environ
        schemes: list[Scheme] = []
        if source is not None:
            schemes.append("secret")
        if environ is not None:
            schemes.append("env")
        self.schemes: tuple[Scheme, ...] = tuple(schemes)

    def resolve_texts(
        self,
        texts: Mapping[K, str],
        *,
        reveal: bool = True,
        where: Callable[[K], str] | Mapping[K, str] | None = None,
        source: str | None = None,
        lines: Mapping[str, int] | None = None,
    ) -> dict[K, ResolvedText]:
        """Resolve every text of ``texts`` in one batch; the result has the same keys,
        in the same order.

        ``where`` labels a key for messages and provenance (a function, or a mapping
        whose missing keys get the default label: a tuple key is a :data:`TreePath`
        shown with :func:`format_location`, any other key ``str(key)``). ``lines`` maps a
        label to the line it came from and ``source`` names the file; both only
        decorate messages. With ``reveal=False`` every reference is still fetched
        (so missing ones are reported) but its value is replaced by :data:`MASK`.

        Raises :class:`ResolutionError` listing every failure (syntax errors too),
        in the order of ``texts``; each failure is a :class:`SiteFailure` whose
        ``site`` is the key.
        """
        run = _Run(_labeller(where), source, lines or {}, reveal, self._environ)
        results: dict[K, ResolvedText] = {}
        sites: list[_Site[K]] = []
        for key, text in texts.items():
            site = self._site(key, text)
            if site is None:
                results[key] = ResolvedText(text)
            else:
                sites.append(site)
        wanted = [
            r.key
            for s in sites
            if s.template
            for r in s.template.references
            if r.scheme == "secret"
        ]
        keys = list(dict.fromkeys(wanted))
        if keys and self._source is not None:
            run.fetched = self._source.get_many(keys)
        for site in sites:
            resolved = _render(site, run)
            if resolved is not None:
                results[site.key] = resolved
        if run.failures:
            raise ResolutionError(run.failures, source=source)
        return {key: results[key] for key in texts}

    def _site(self, key: K, text: str) -> _Site[K] | None:
        """The text as a site to render, or None when it is plain text."""
        if not isinstance(text, str):
            raise TypeError(f"texts must map keys to str, not {type(text).__name__}")
        if not contains_reference(text, schemes=self.schemes):
            return None
        try:
            template = parse(text, schemes=self.schemes)
        except ReferenceSyntaxError as err:
            return _Site(key, text, None, err)
        # A literal template still matters when it held escapes ($${secret:...}).
        if template.is_literal and template.parts == (text,):
            return None
        return _Site(key, text, template)

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
        """A copy of ``tree`` with every string's references resolved (see
        :meth:`resolve_texts`; failures' ``site`` is the :data:`TreePath`)."""
        texts = {
            path: text
            for path, text in walk_strings(tree, source=source)
            if contains_reference(text, schemes=self.schemes)
        }
        resolved = self.resolve_texts(
            texts, reveal=reveal, where=format_location, source=source, lines=lines
        )
        provenance = tuple(item for text in resolved.values() for item in text.provenance)
        changed = {path: text.reveal() for path, text in resolved.items()}
        return Resolution(replace_at(tree, changed), provenance)


# -- one batch -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Site(Generic[K]):
    """A text that holds references (or a malformed one), under the caller's key."""

    key: K
    text: str
    template: Template | None
    syntax_error: ReferenceSyntaxError | None = None


@dataclass(slots=True)
class _Run:
    """The state of one batch: how to label sites, what was fetched, what failed."""

    label: Callable[[Any], str]
    source: str | None
    lines: Mapping[str, int]
    reveal: bool
    environ: Mapping[str, str] | None = field(repr=False)
    fetched: Mapping[Key, Secret | ProviderError] = field(default_factory=dict)
    failures: list[ResolutionFailure] = field(default_factory=list)

    def where(self, location: str) -> str:
        line = self.lines.get(location)
        return f"{location} (line {line})" if line is not None else location


def _default_label(key: Any) -> str:
    return format_location(key) if isinstance(key, tuple) else str(key)


def _labeller(where: Callable[[K], str] | Mapping[K, str] | None) -> Callable[[Any], str]:
    if where is None:
        return _default_label
    if isinstance(where, Mapping):
        labels = where
        return lambda key: labels[key] if key in labels else _default_label(key)
    return where


def _render(site: _Site[K], run: _Run) -> ResolvedText | None:
    """The site's text with its references substituted, or None after recording
    failures. A text that took a value from a secret is kept masked (a
    :class:`SecretValue`), so no frame on the way of a ResolutionError holds it."""
    location = run.label(site.key)
    if site.template is None:
        err = site.syntax_error
        assert err is not None  # noqa: S101 - a site has a template or an error
        located = err.located(source=run.source, line=run.lines.get(location))
        failure = SiteFailure(
            run.where(location), _snippet(site.text, err.position), err.reason, located, site.key
        )
        run.failures.append(failure)
        return None
    ok = True
    secret = False
    provenance: list[Provenance] = []

    def lookup(ref: Reference) -> str:
        nonlocal ok, secret
        try:
            if ref.scheme == "env":
                return _variable(ref, run)
            outcome = run.fetched.get(ref.key)
            value, defaulted = reference_value(ref, outcome)
        except SecretwireError as err:
            ok = False
            failure = SiteFailure(run.where(location), ref.format(), reason_of(err), err, site.key)
            run.failures.append(failure)
            return ""
        if defaulted or not isinstance(outcome, Secret):
            provenance.append(Provenance(location, ref.format(), None, None, True))
        else:
            secret = True
            provenance.append(Provenance(location, ref.format(), outcome.provider, outcome.version))
        return value if run.reveal else MASK

    text = SecretValue(site.template.render(lookup))
    if not ok:
        return None
    return ResolvedText(text if secret else text.reveal(), tuple(provenance))


def _variable(ref: Reference, run: _Run) -> str:
    """The value of ``${env:VAR}`` (or its default when the variable is unset).

    The environment stays on ``run`` (whose repr leaves it out): a frame local
    holding it would show every variable in an error tracker's report."""
    value = None if run.environ is None else run.environ.get(ref.name)
    if value is not None:
        return value
    if ref.default is not None:
        return ref.default
    raise ConfigError(f"environment variable {ref.name} is not set")


def _snippet(text: str, position: int, width: int = 40) -> str:
    """The malformed reference text around ``position``, for error messages.

    Config text outside references is not secret, but keep the excerpt short.
    """
    start = text.rfind("$", 0, position + 1)
    start = max(start, 0)
    return text[start : start + width] + ("..." if len(text) > start + width else "")
