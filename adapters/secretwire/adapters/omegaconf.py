"""OmegaConf (and Hydra) adapter: a ``${secret:...}`` resolver backed by secretwire.

The few lines an application adds::

    from omegaconf import OmegaConf
    from secretwire.adapters import omegaconf as sw_omegaconf

    sw_omegaconf.register()  # resolver "secret"; manager from secretwire.yaml
    cfg = OmegaConf.load("config.yaml")
    sw_omegaconf.check(cfg)  # ONE error listing every reference that fails
    password = cfg.db.password  # resolved when read, like any interpolation

Design (``docs/adapters/omegaconf.md`` says more):

* ``${secret:NAME}`` is an ordinary OmegaConf resolver. Its first argument is the
  bare reference ``NAME[#FIELD][@VERSION][:-DEFAULT]``; OmegaConf's grammar lets
  ``@`` and ``:-`` through unquoted, while ``#`` must be quoted:
  ``${secret:'db/creds#user'}``. An optional second argument is a default, as in
  OmegaConf's own ``${oc.env:VAR,default}``.
* The resolver is registered with ``use_cache=False`` (OmegaConf's cache would pin
  the first value per config object forever); caching is the manager's TTL cache,
  so a rotated value shows up once the TTL has passed.
* The resolver returns a plain ``str`` (OmegaConf nodes are typed, so ``port: int``
  converts it). ``repr(cfg)``, ``str(cfg)`` and ``OmegaConf.to_yaml(cfg)`` show the
  references, never values; :func:`resolve` with ``reveal=False`` gives a resolved
  copy with every secret-derived value masked.
* A resolver's string result is never parsed again by OmegaConf, so a value that
  contains ``${secret:...}`` comes back literally.
* The ``$<secret:...>`` spelling is not an OmegaConf interpolation; it is not
  resolved, and :func:`check` reports it so it cannot reach the application as text.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretwire import (
    MASK,
    ConfigError,
    InvalidSecret,
    ProviderError,
    Reference,
    ReferenceSyntaxError,
    ResolutionError,
    ResolutionFailure,
    Secret,
    SecretManager,
    SecretNotFound,
    SecretwireError,
    as_reference,
    load_config,
)
from secretwire.adapters import require

if TYPE_CHECKING:
    from omegaconf.errors import InterpolationResolutionError

    class SecretResolutionError(ResolutionError, InterpolationResolutionError):
        """Raised by :func:`check`: a :class:`secretwire.ResolutionError` that is also
        OmegaConf's ``InterpolationResolutionError``."""


__all__ = [
    "DEFAULT_NAME",
    "SecretResolutionError",
    "SecretResolver",
    "check",
    "load",
    "register",
    "registered",
    "resolve",
    "unregister",
]

#: The resolver name :func:`register` uses unless told otherwise.
DEFAULT_NAME = "secret"

_EXTRA = "omegaconf"
_NO_DEFAULT: Any = object()
Key = tuple[str, str | None]


def _omegaconf() -> Any:
    """The ``omegaconf.OmegaConf`` class, imported on first use."""
    return require("omegaconf", _EXTRA).OmegaConf


# -- the resolver ------------------------------------------------------------------
@dataclass(slots=True)
class _Session:
    """What :func:`check` / :func:`resolve` ask of resolver calls in this context.

    ``collect``: note each reference, fetch nothing (prefetch pass). ``check``: use
    ``fetched`` first; record failures instead of raising. ``track``: resolve as
    usual, and note that a secret was read (for masking).
    """

    mode: str
    references: list[Reference] = field(default_factory=list)
    fetched: Mapping[Key, Secret | ProviderError] = field(default_factory=dict)
    #: (dotted key of the node holding the reference, reference, reason, error)
    failures: list[tuple[str, str, str, SecretwireError]] = field(default_factory=list)
    touched: bool = False
    #: the references whose values this session read, and those values (only to
    #: tell whether an OmegaConf error that followed could quote one)
    read: list[Reference] = field(default_factory=list)
    values: list[str] = field(default_factory=list)


_SESSION: contextvars.ContextVar[_Session | None] = contextvars.ContextVar(
    "secretwire_omegaconf_session", default=None
)


class SecretResolver:
    """The callable OmegaConf invokes for ``${secret:...}``.

    ``manager`` is used as given (and never closed here). Without it, a manager is
    built on first use with ``SecretManager.from_settings(settings,
    environment=environment)`` (the nearest ``secretwire.yaml``, environment from
    ``$SECRETWIRE_ENV``); :meth:`close` closes that one.
    """

    def __init__(
        self,
        manager: SecretManager | None = None,
        *,
        settings: str | Path | None = None,
        environment: str | None = None,
        name: str = DEFAULT_NAME,
    ) -> None:
        self.name = name
        self._manager = manager
        self._owns_manager = manager is None
        self._settings = settings
        self._environment = environment
        self._lock = threading.Lock()

    @property
    def manager(self) -> SecretManager:
        """The manager; built from the settings file on first use if none was given."""
        with self._lock:
            if self._manager is None:
                self._manager = SecretManager.from_settings(
                    self._settings, environment=self._environment
                )
            return self._manager

    def same_source(
        self,
        manager: SecretManager | None,
        settings: str | Path | None,
        environment: str | None,
    ) -> bool:
        """Would a resolver built with these arguments read the same secrets?"""
        if manager is not None or not self._owns_manager:
            return manager is self._manager
        return (settings, environment) == (self._settings, self._environment)

    def close(self) -> None:
        """Close the manager if this resolver built it. Idempotent."""
        if not self._owns_manager:
            return
        with self._lock:
            manager, self._manager = self._manager, None
        if manager is not None:
            manager.close()

    def __call__(self, *args: Any, _node_: Any = None) -> Any:
        """Resolve one ``${secret:...}``: a batch read of one ``(name, version)``
        through the manager (``SecretManager.get_many``), served from its cache
        when fresh."""
        session = _SESSION.get()
        raw = _raw_text(_node_)
        if raw is not None and _nests(raw, "${" + self.name + ":"):
            err = ReferenceSyntaxError(
                "a secret name cannot contain another secret reference (its value would "
                "show in error messages)",
                text=raw,
                position=0,
            )
            return self._fail(session, _node_, _shorten(raw), err.reason, err)
        text = _display(args)
        try:
            ref, default = _reference(args)
        except ReferenceSyntaxError as err:
            return self._fail(session, _node_, text, err.reason, err)
        if session is not None and session.mode == "collect":
            session.references.append(ref)
            return ""
        fetched = session.fetched if session is not None else {}
        outcome = fetched.get(ref.key)
        if outcome is None:
            outcome = self.manager.get_many([ref.key])[ref.key]
        try:
            value, defaulted = _value_of(ref, outcome, default)
            _check_type(_node_, raw, value, ref)
        except ProviderError as err:
            return self._fail(session, _node_, ref.format(), _reason(err), err)
        if session is not None and not defaulted:
            session.touched = True
            session.read.append(ref)
            session.values.append(value)
        return value

    @staticmethod
    def _fail(
        session: _Session | None, node: Any, reference: str, reason: str, err: SecretwireError
    ) -> str:
        location = _node_location(node)
        if session is not None and session.mode != "track":
            session.failures.append((location, reference, reason, err))
            return ""
        raise ResolutionError([ResolutionFailure(location, reference, reason, err)]) from None

    def __repr__(self) -> str:
        return f"<SecretResolver manager={self._manager!r}>"


def _reference(args: Sequence[Any]) -> tuple[Reference, Any]:
    """The reference and the second-argument default (or ``_NO_DEFAULT``)."""
    if not args:
        raise ReferenceSyntaxError("missing secret name", text="", position=0)
    if len(args) > 2:
        raise ReferenceSyntaxError(
            "expected a reference and at most one default, separated by ','",
            text=_display(args),
            position=0,
        )
    ref = as_reference(_name_text(args[0]))
    default = args[1] if len(args) == 2 else _NO_DEFAULT
    if default is not _NO_DEFAULT and ref.default is not None:
        raise ReferenceSyntaxError(
            "give the default as ':-default' or as a second argument, not both",
            text=_display(args),
            position=0,
        )
    return ref, default


def _name_text(arg: Any) -> str:
    """The reference text OmegaConf parsed into ``arg``.

    OmegaConf turns a bare ``123`` into an int; its text is exactly ``str(arg)``
    (up to a leading ``+`` or ``_`` digit separators). Floats, booleans and null
    have several spellings each, so rather than guess the name they are refused
    with the fix (quote the name).
    """
    if isinstance(arg, str):
        return arg
    if isinstance(arg, int) and not isinstance(arg, bool):
        return str(arg)
    kind = "null" if arg is None else type(arg).__name__
    raise ReferenceSyntaxError(
        f"OmegaConf read the secret name as {kind} {arg!r}; quote it: ${{secret:'...'}}",
        text=repr(arg),
        position=0,
    )


def _display(args: Sequence[Any]) -> str:
    """How a failing call is shown: the reference, as close to the source as known."""
    inner = ",".join("null" if a is None else str(a) for a in args)
    return "${secret:" + inner + "}"


def _value_of(ref: Reference, outcome: Secret | ProviderError, default: Any) -> tuple[Any, bool]:
    """The text ``ref`` stands for, and whether it is a default (which applies only
    when nothing is found)."""
    try:
        if isinstance(outcome, ProviderError):
            raise outcome
        return (outcome.field(ref.field) if ref.field is not None else outcome.reveal()), False
    except SecretNotFound:
        if ref.default is not None:
            return ref.default, True
        if default is not _NO_DEFAULT:
            return default, True
        raise


def _reason(err: ProviderError) -> str:
    """A value-free reason, as secretwire's own resolver words it (the provider's
    message, e.g. which endpoint refused the connection; for the adapter's own type
    check, what it found)."""
    return err.reason


def _check_type(node: Any, raw: str | None, value: Any, ref: Reference) -> None:
    """Refuse, without showing it, a value the node's type would reject.

    OmegaConf puts the rejected value in its own message (``Value '...' could not be
    converted to Integer``), so the conversion is tried here first. A secret inside
    a longer string cannot be checked that way and needs a ``str`` or ``Any`` field.
    """
    validate = getattr(node, "validate_and_convert", None)
    if validate is None or not isinstance(value, str) or _accepts_text(node):
        return
    kind = type(node).__name__.removesuffix("Node").lower()
    if raw is not None and not _is_single_interpolation(raw.strip()):
        raise InvalidSecret(
            f"secret {ref.name!r} is part of a longer string in a {kind} field; "
            "use a str or Any field",
            name=ref.name,
        )
    try:
        validate(value)
        converts = True
    except Exception:  # noqa: BLE001 - OmegaConf raises ValidationError or ValueError
        converts = False
    if not converts:  # raised outside the except block: nothing chains the value
        raise InvalidSecret(
            f"value of secret {ref.name!r} does not convert to {kind}", name=ref.name
        )


def _accepts_text(node: Any) -> bool:
    nodes = require("omegaconf.nodes", _EXTRA)
    text_nodes = tuple(
        getattr(nodes, cls) for cls in ("AnyNode", "StringNode", "PathNode") if hasattr(nodes, cls)
    )
    return isinstance(node, text_nodes)


def _is_single_interpolation(text: str) -> bool:
    """Is ``text`` exactly one ``${...}`` (whose value becomes the node's value)?"""
    if not text.startswith("${"):
        return False
    depth = 0
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return pos == len(text) - 1
        pos += 1
    return False


def _raw_text(node: Any) -> str | None:
    """The node's text as written (``_value()``: no public accessor either)."""
    raw = getattr(node, "_value", None)
    if raw is None:
        return None
    try:
        value = raw()
    except Exception:  # noqa: BLE001 - a best-effort safety check only
        return None
    return value if isinstance(value, str) else None


def _nests(text: str, marker: str) -> bool:
    """Does a ``marker`` (``${secret:``) open inside another one's braces?"""
    stack: list[bool] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if text.startswith(marker, pos):
            if any(stack):
                return True
            stack.append(True)
            pos += len(marker)
            continue
        if char == "{":
            stack.append(False)
        elif char == "}" and stack:
            stack.pop()
        pos += 1
    return False


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width] + "..."


def _node_location(node: Any) -> str:
    """The node's dotted key. OmegaConf has no public accessor for it; its own
    error messages use ``_get_full_key``, so use that when it is there."""
    get_full_key = getattr(node, "_get_full_key", None)
    if get_full_key is None:
        return ""
    try:
        return str(get_full_key(None) or "")
    except Exception:  # noqa: BLE001 - decoration only; never hide the real failure
        return ""


# -- registration ------------------------------------------------------------------
_installed: dict[str, SecretResolver] = {}
_registry_lock = threading.RLock()


def _install(name: str, resolver: SecretResolver) -> None:
    """Register with ``use_cache=False``: ``register_resolver`` in OmegaConf 2.4+,
    ``register_new_resolver`` before (where ``register_resolver`` is the deprecated
    legacy API without nested interpolation)."""
    omegaconf = _omegaconf()
    parameters = inspect.signature(omegaconf.register_resolver).parameters
    if "use_cache" in parameters:
        omegaconf.register_resolver(name, resolver, replace=True, use_cache=False)
    else:
        omegaconf.register_new_resolver(name, resolver, replace=True, use_cache=False)


def register(
    manager: SecretManager | None = None,
    *,
    name: str = DEFAULT_NAME,
    settings: str | Path | None = None,
    environment: str | None = None,
    replace: bool = False,
) -> SecretResolver:
    """Install the ``${secret:...}`` resolver in OmegaConf and return it.

    Idempotent: calling it again with the same arguments keeps the installed
    resolver (and its cache); with another manager it swaps the resolver. A
    resolver of the same name that secretwire did not install is an error unless
    ``replace=True``. Without ``manager``, one is built from the settings file on
    first use (see :class:`SecretResolver`).
    """
    omegaconf = _omegaconf()
    with _registry_lock:
        previous = _installed.get(name)
        if previous is not None and omegaconf.has_resolver(name):
            if previous.same_source(manager, settings, environment):
                return previous
        elif omegaconf.has_resolver(name) and not replace:
            raise ConfigError(
                f"an OmegaConf resolver named {name!r} is already registered by someone "
                "else; pass replace=True to replace it, or choose another name"
            )
        resolver = SecretResolver(manager, settings=settings, environment=environment, name=name)
        _install(name, resolver)
        _installed[name] = resolver
    if previous is not None:
        previous.close()
    return resolver


def unregister(name: str = DEFAULT_NAME) -> bool:
    """Remove the resolver secretwire installed under ``name`` (and close the manager
    it built). Returns ``False`` if there was none; another library's resolver of
    that name is left alone."""
    omegaconf = _omegaconf()
    with _registry_lock:
        resolver = _installed.pop(name, None)
        if resolver is None:
            return False
        omegaconf.clear_resolver(name)
    resolver.close()
    return True


@contextlib.contextmanager
def registered(
    manager: SecretManager | None = None,
    *,
    name: str = DEFAULT_NAME,
    settings: str | Path | None = None,
    environment: str | None = None,
) -> Iterator[SecretResolver]:
    """Install the resolver for the ``with`` block, then put back what was there
    (a previously installed secretwire resolver, or nothing)."""
    omegaconf = _omegaconf()
    with _registry_lock:
        previous = _installed.get(name) if omegaconf.has_resolver(name) else None
        if previous is None and omegaconf.has_resolver(name):
            raise ConfigError(
                f"an OmegaConf resolver named {name!r} is already registered by someone else"
            )
        resolver = SecretResolver(manager, settings=settings, environment=environment, name=name)
        _install(name, resolver)
        _installed[name] = resolver
    try:
        yield resolver
    finally:
        with _registry_lock:
            if previous is not None:
                _install(name, previous)
                _installed[name] = previous
            else:
                _installed.pop(name, None)
                omegaconf.clear_resolver(name)
        resolver.close()


def _installed_resolver(name: str) -> SecretResolver:
    with _registry_lock:
        resolver = _installed.get(name)
        if resolver is None or not _omegaconf().has_resolver(name):
            raise ConfigError(
                f"no secretwire resolver named {name!r} is registered; call "
                "secretwire.adapters.omegaconf.register() first"
            )
        return resolver


# -- whole-config helpers ------------------------------------------------------------
_KeyPath = tuple[Any, ...]
_SPELLING = "$<secret:"


def check(
    cfg: Any,
    *,
    name: str = DEFAULT_NAME,
    source: str | None = None,
    lines: Mapping[str, int] | None = None,
) -> None:
    """Resolve every ``${secret:...}`` in ``cfg`` and raise ONE error listing each
    one that fails, with its key path (and line, given ``lines`` as from
    :func:`secretwire.load_config`).

    The distinct references are fetched together first (``SecretManager.get_many``:
    cached ones from the cache, the rest concurrently), then each node is resolved
    by OmegaConf as the application would. Raises :class:`SecretResolutionError`
    (both :class:`secretwire.ResolutionError` and OmegaConf's
    ``InterpolationResolutionError``). Other interpolation errors (a missing
    ``${other.key}``) are OmegaConf's and propagate unchanged, after the secret
    failures if there are any; but an error in a node that read a secret (directly or
    through another node) that could quote the value (a failed conversion, another
    resolver's error) is listed as a failure that names only its type.
    """
    resolver = _installed_resolver(name)
    omegaconf = _omegaconf()
    raw = omegaconf.to_container(cfg, resolve=False)
    marker = "${" + name + ":"
    sites = [
        (path, text) for path, text in _strings(raw, ()) if _SPELLING in text or marker in text
    ]

    collect = _Session("collect")
    for path, text in sites:
        if marker in text:
            _visit(cfg, path, collect, swallow=True)
    keys = list(dict.fromkeys(ref.key for ref in collect.references))
    fetched = resolver.manager.get_many(keys) if keys else {}

    # Every other interpolation too: a node that reads a secret through another node
    # (``port: int = ${db.port}``, ``${oc.env:${secret:x}}``) gets OmegaConf errors
    # that quote the value; they must fail here, in a clean error, not on access.
    readers = [path for path, text in _strings(raw, ()) if "${" in text and marker not in text]

    failures: list[ResolutionFailure] = []
    # A node that reads another node (``${database.port}``) meets that node's failures
    # too; they are listed where the reference is written, unless only seen here.
    indirect: list[tuple[ResolutionFailure, tuple[str, str]]] = []
    other: BaseException | None = None
    for path, text in sites:
        location = _format_location(path)
        where = _where(path, lines)
        if _SPELLING in text:
            err = ReferenceSyntaxError(
                "the $<secret:...> spelling is not resolved in OmegaConf configs; "
                f"write {marker}...}} instead",
                text=text,
                position=text.find(_SPELLING),
            )
            failures.append(ResolutionFailure(where, _snippet(text), err.reason, err))
        if marker not in text:
            continue
        session = _Session("check", fetched=fetched)
        error = _visit(cfg, path, session, swallow=False)
        for node_key, reference, reason, cause in session.failures:
            failure = ResolutionFailure(where, reference, reason, cause)
            if node_key in ("", location):
                failures.append(failure)
            else:
                indirect.append((failure, (reference, reason)))
        if error is not None and not session.failures:
            if _may_quote_a_value(error, session):
                failures.append(_withheld(where, session, error))
            elif other is None:
                other = error
    for path in readers:
        session = _Session("check", fetched=fetched)
        error = _visit(cfg, path, session, swallow=False)
        # Failures of the secrets it reads are listed where those are written, and
        # an error without a secret read is not this check's business.
        if error is not None and not session.failures and _may_quote_a_value(error, session):
            failures.append(_withheld(_where(path, lines), session, error))
    direct = {(f.reference, f.reason) for f in failures}
    failures += [failure for failure, key in indirect if key not in direct]
    if failures:
        raise _error_class()(failures, source=source)
    if other is not None:
        raise other


def _where(path: _KeyPath, lines: Mapping[str, int] | None) -> str:
    location = _format_location(path)
    return f"{location} (line {lines[location]})" if lines and location in lines else location


def _may_quote_a_value(error: BaseException, session: _Session) -> bool:
    """Could ``error``, raised after ``session`` read secrets, show one of them?

    A missing key or a missing value is reported by key, so it is passed on unless
    its text holds a value read (``${${secret:x}}`` looks up a key named after it);
    any other error (a failed conversion, another resolver's error) may quote the
    value, or a part of it, that it was given.
    """
    if not session.touched:
        return False
    errors = require("omegaconf.errors", _EXTRA)
    if not isinstance(
        error, errors.InterpolationKeyError | errors.InterpolationToMissingValueError
    ):
        return True
    texts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(texts) < 20:
        texts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    return any(value and value in text for value in session.values for text in texts)


def _withheld(where: str, session: _Session, error: BaseException) -> ResolutionFailure:
    """A failure in place of an OmegaConf ``error`` that may quote a secret's value."""
    refs = list(dict.fromkeys(ref.format() for ref in session.read))
    reason = (
        f"reading this node failed after it read a secret ({type(error).__name__}: "
        "not shown, OmegaConf's message can quote the value)"
    )
    errors = require("omegaconf.errors", _EXTRA)
    cause: SecretwireError
    if isinstance(error, errors.ValidationError):
        cause = InvalidSecret(reason, name=session.read[0].name)
    else:
        cause = ConfigError(reason)
    return ResolutionFailure(where, ", ".join(refs), reason, cause)


def resolve(
    cfg: Any,
    *,
    reveal: bool = True,
    name: str = DEFAULT_NAME,
    source: str | None = None,
    lines: Mapping[str, int] | None = None,
) -> Any:
    """A plain resolved copy of ``cfg`` (dicts and lists) after :func:`check`.

    With ``reveal=False`` every value that read a secret (directly or through
    another interpolation) is :data:`secretwire.MASK`: safe to print or log.
    """
    check(cfg, name=name, source=source, lines=lines)
    omegaconf = _omegaconf()
    if reveal:
        return omegaconf.to_container(cfg, resolve=True)
    return _masked(omegaconf, cfg)


def load(path: str | Path, *, name: str = DEFAULT_NAME) -> Any:
    """``OmegaConf.load(path)``, then :func:`check` with the file's name and the
    line of every key, so an error says ``db.password (line 4)``."""
    omegaconf = _omegaconf()
    cfg = omegaconf.load(path)
    try:
        lines: Mapping[str, int] = load_config(path, format="yaml").lines
    except ConfigError:
        lines = {}  # line numbers only decorate messages; OmegaConf read the file
    check(cfg, name=name, source=str(path), lines=lines)
    return cfg


def _visit(cfg: Any, path: _KeyPath, session: _Session, *, swallow: bool) -> BaseException | None:
    """Read the node at ``path`` under ``session``; return an OmegaConf error, if any."""
    token = _SESSION.set(session)
    try:
        node = cfg
        for part in path:
            node = node[part]
    except Exception as err:  # noqa: BLE001 - OmegaConf raises many types; caller decides
        return None if swallow else err
    finally:
        _SESSION.reset(token)
    return None


def _masked(omegaconf: Any, node: Any) -> Any:
    """``node`` resolved, each value that read a secret replaced by the mask."""
    if omegaconf.is_dict(node):
        keys: list[Any] = list(node.keys())
        out: dict[Any, Any] = {}
    else:
        keys = list(range(len(node)))
        out_list: list[Any] = []
    for key in keys:
        if omegaconf.is_missing(node, key):
            value: Any = "???"
        else:
            session = _Session("track")
            token = _SESSION.set(session)
            try:
                value = node[key]
            finally:
                _SESSION.reset(token)
            if omegaconf.is_config(value):
                value = _masked(omegaconf, value)
            elif session.touched:
                value = MASK
        if omegaconf.is_dict(node):
            out[key] = value
        else:
            out_list.append(value)
    return out if omegaconf.is_dict(node) else out_list


def _strings(node: Any, path: _KeyPath) -> Iterator[tuple[_KeyPath, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, (*path, index))


def _format_location(path: _KeyPath) -> str:
    """``("database", "url")`` -> ``database.url``; ``("hosts", 0)`` -> ``hosts[0]``
    (the form ``secretwire.load_config`` uses for its line numbers)."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out.append(f"[{part}]")
        elif isinstance(part, str) and (
            part.isidentifier() or (part and all(c.isalnum() or c in "_-" for c in part))
        ):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def _snippet(text: str) -> str:
    return _shorten(text[max(text.find(_SPELLING), 0) :], 40)


# -- the error type ------------------------------------------------------------------
_error_classes: dict[str, type[ResolutionError]] = {}


def _error_class() -> type[ResolutionError]:
    """:class:`SecretResolutionError`, built on first use (it needs OmegaConf)."""
    cls = _error_classes.get("cls")
    if cls is None:
        errors = require("omegaconf.errors", _EXTRA)

        class SecretResolutionError(ResolutionError, errors.InterpolationResolutionError):  # type: ignore[misc, name-defined]
            """Raised by :func:`check`: a :class:`secretwire.ResolutionError` that is
            also OmegaConf's ``InterpolationResolutionError``."""

        SecretResolutionError.__module__ = __name__
        cls = _error_classes.setdefault("cls", SecretResolutionError)
    return cls


def __getattr__(attribute: str) -> Any:
    if attribute == "SecretResolutionError":
        return _error_class()
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
