"""OmegaConf (and Hydra) adapter: a ``${secret:...}`` resolver backed by secretwire.

The few lines an application adds::

    from omegaconf import OmegaConf
    from secretwire.adapters import omegaconf as sw_omegaconf

    sw_omegaconf.register()  # resolver "secret"; manager from secretwire.yaml
    cfg = OmegaConf.load("config.yaml")
    sw_omegaconf.check(cfg)  # ONE error listing every reference that fails
    password = cfg.db.password  # resolved when read, like any interpolation

``${secret:NAME}`` is an ordinary OmegaConf resolver (registered with
``use_cache=False``: caching is the manager's TTL cache). Its first argument is the
bare reference ``NAME[#FIELD][@VERSION][:-DEFAULT]``, an optional second one a
default. It fetches through ``SecretManager.get_many`` and lets
:func:`secretwire.reference_value` pick the field and apply the default; managers are
:func:`secretwire.shared_manager`'s. The rest keeps values out of what OmegaConf
prints (``docs/adapters/omegaconf.md``):

* A :class:`_Session` is a guarded read: the resolver records failures in it instead
  of raising, and notes what it read. :func:`check` reads each interpolation node in
  one (after a read that only collects references, fetched together); :func:`resolve`
  reads the config in one.
* A plain read (``cfg.port``) that reaches a secret is replayed once in a session
  first (:func:`_verified`); if it would fail, the resolver raises the clean error and
  OmegaConf, whose messages and frames can quote a value, never sees one.
* Each OmegaConf internal used sits in one small function (``# -- OmegaConf internals``).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import inspect
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from secretwire import (
    MASK,
    ConfigError,
    InvalidSecret,
    Key,
    Provenance,
    ProviderError,
    Reference,
    ReferenceSyntaxError,
    ResolutionError,
    ResolutionFailure,
    Secret,
    SecretManager,
    SecretNotFound,
    SecretValue,
    SecretwireError,
    Settings,
    as_reference,
    format_location,
    load_config,
    load_settings,
    reference_value,
    replace_at,
    shared_manager,
    walk_strings,
)
from secretwire.adapters import require

if TYPE_CHECKING:
    from omegaconf.errors import InterpolationResolutionError

    class SecretResolutionError(ResolutionError, InterpolationResolutionError):
        """Raised by :func:`check`: a :class:`secretwire.ResolutionError` that is also
        OmegaConf's ``InterpolationResolutionError``."""


__all__ = [
    "DEFAULT_NAME",
    "ENVIRONMENT_KEY",
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
#: The config key whose value, when the config has it, names the secretwire
#: environment (one of ``secretwire.yaml``'s) that serves the config's secrets.
ENVIRONMENT_KEY = "secretwire.environment"

_EXTRA = "omegaconf"
_NO_DEFAULT: Any = object()
_SPELLING = "$<secret:"
_Outcome = Secret | ProviderError


def _omegaconf() -> Any:
    """The ``omegaconf.OmegaConf`` class, imported on first use."""
    return require("omegaconf", _EXTRA).OmegaConf


# -- the resolver ------------------------------------------------------------------
class SecretResolver:
    """The callable OmegaConf invokes for ``${secret:...}``.

    ``manager`` is used as given (and never closed here). Without it, the managers
    are :func:`secretwire.shared_manager`'s for the settings file (``settings``, else
    ``$SECRETWIRE_CONFIG`` or the nearest ``secretwire.yaml``): the one for
    ``environment`` (else the settings' environment variable, else their default),
    and one per environment a config names at ``environment_key`` (see
    :meth:`manager_for`). :meth:`close` closes those it used.
    """

    def __init__(
        self,
        manager: SecretManager | None = None,
        *,
        settings: str | Path | None = None,
        environment: str | None = None,
        name: str = DEFAULT_NAME,
        environment_key: str | None = ENVIRONMENT_KEY,
    ) -> None:
        self.name = name
        self.environment_key = environment_key
        self._given = manager
        self._settings = settings
        self._environment = environment
        self._loaded: Settings | None = None
        self._used: dict[str | None, SecretManager] = {}  # by environment; None: the default
        self._lock = threading.Lock()

    @property
    def manager(self) -> SecretManager:
        """The manager for configs that do not name an environment."""
        return self._given if self._given is not None else self._shared(None)

    def manager_for(self, cfg: Any) -> SecretManager:
        """The manager that serves ``cfg``'s secrets: the one for the environment
        ``cfg``'s root names at :attr:`environment_key`, else :attr:`manager`.

        A config that names an environment must agree with an explicit choice: a
        manager given to :func:`register` (its ``environment``), ``environment=``,
        and the settings' environment variable when it is set; a disagreement is a
        :class:`secretwire.ConfigError`, never a silent pick of one backend.
        """
        chosen = self._config_environment(_root_of(cfg))
        if chosen is None:
            return self.manager
        picks = f"the config picks environment {chosen!r} ({self.environment_key})"
        if self._given is not None:
            if self._given.environment != chosen:
                raise ConfigError(
                    f"{picks}, but the resolver was registered with a manager for "
                    f"{self._given.environment!r}; register() without a manager builds "
                    "the one the config picks"
                )
            return self._given
        if self._environment is not None and self._environment != chosen:
            raise ConfigError(
                f"{picks}, but register() was given environment={self._environment!r}"
            )
        settings = self._settings_file()
        variable = settings.environment_variable
        selected = os.environ.get(variable)
        if selected and selected != chosen:
            raise ConfigError(
                f"{picks}, but ${variable} is {selected!r}; unset ${variable} or make them agree",
                source=settings.source,
            )
        if chosen not in settings.environments:
            known = ", ".join(sorted(settings.environments))
            raise ConfigError(
                f"{picks}, which the settings do not define; known: {known}",
                source=settings.source,
            )
        return self._shared(chosen)

    def _settings_file(self) -> Settings:
        with self._lock:
            if self._loaded is None:
                self._loaded = load_settings(self._settings)
            return self._loaded

    def _shared(self, environment: str | None) -> SecretManager:
        settings = self._settings_file()
        with self._lock:
            manager = self._used.get(environment)
            if manager is None or manager.closed:
                manager = shared_manager(settings, environment or self._environment)
                self._used[environment] = manager
            return manager

    def _config_environment(self, root: Any) -> str | None:
        """The environment ``root`` names at :attr:`environment_key`, or None.

        Read (interpolations resolved) before any secret, in a session that only
        collects references: it may read other nodes or ``${oc.env:...}``, not a secret.
        """
        key = self.environment_key
        omegaconf = _omegaconf()
        if key is None or root is None or not omegaconf.is_dict(root):
            return None
        session = _Session(fetched=None)
        value, problem = _guarded(session, lambda: omegaconf.select(root, key, default=None))
        if session.wanted or session.failures:
            raise ConfigError(
                f"{key} cannot read a secret: the environment that serves the secrets "
                "must be known before any of them is read"
            )
        if problem is not None:
            shown = " ".join(str(problem).split())
            raise ConfigError(f"{key} could not be read ({type(problem).__name__}: {shown})")
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(
                f"{key} must name an environment of the secretwire settings (a non-empty "
                f"string), not {type(value).__name__}"
            )
        return value

    def same_source(
        self,
        manager: SecretManager | None,
        settings: str | Path | None,
        environment: str | None,
        environment_key: str | None = ENVIRONMENT_KEY,
    ) -> bool:
        """Would a resolver built with these arguments read the same secrets?"""
        if environment_key != self.environment_key:
            return False
        if manager is not None or self._given is not None:
            return manager is self._given
        return (settings, environment) == (self._settings, self._environment)

    def close(self) -> None:
        """Close the shared managers this resolver used (the next
        :func:`secretwire.shared_manager` call builds new ones). Idempotent."""
        with self._lock:
            managers, self._used = list(self._used.values()), {}
        for manager in managers:
            manager.close()

    def __call__(self, *args: Any, _node_: Any = None, _root_: Any = None) -> Any:
        """Resolve one ``${secret:...}`` through the manager (cached)."""
        marker = "${" + self.name + ":"
        session = _SESSION.get()
        fetched: dict[Key, _Outcome] = {}
        if session is None:
            outer, read, reporting = _outer_read(_node_)
            if reporting:  # an error tracker serializing a config: never a value
                return MASK
            if _node_ is not None:
                fetched = _verified(_node_, outer, read, marker)
        raw = _raw_text(_node_)
        shown = _display(args)
        spans = _interpolations(raw or "", marker)
        problem = None
        if any(nested and raw.startswith(marker, start) for start, _, nested in spans):  # type: ignore[union-attr]
            problem = "a secret name cannot contain another secret reference"
        elif (
            session
            and any(nested for *_, nested in spans)
            and _holds_a_value(shown, session.values)
        ):
            # ``${secret:app/${other}}`` where ``other`` read a secret
            problem = "a secret name cannot be built from a secret's value"
        if problem is not None:
            err = ReferenceSyntaxError(
                problem + " (its value would show in error messages)", text=raw or "", position=0
            )
            return _fail(session, _node_, _shorten(raw or "${...}"), err)
        parsed = _parsed(args)
        if isinstance(parsed, ReferenceSyntaxError):
            return _fail(session, _node_, shown, parsed)
        ref, default = parsed
        if session is not None and session.fetched is None:  # only collecting
            session.wanted.append(ref.key)
            return ""
        if session is not None and session.fetched is not None:
            fetched = session.fetched
        outcome = fetched.get(ref.key)
        if outcome is None:
            manager = self.manager_for(_root_) if _root_ is not None else self.manager
            outcome = fetched[ref.key] = manager.get_many([ref.key])[ref.key]
        value, defaulted, failure = _looked_up(ref, outcome, default)
        if failure is None and isinstance(value, SecretValue):
            failure = _check_type(_node_, raw, value, ref)
        if failure is not None:
            return _fail(session, _node_, ref.format(), failure)
        if session is not None:
            session.read.append((_full_key(_node_), ref, outcome, defaulted))
            if isinstance(value, SecretValue):
                session.values.append(value)
        return value.reveal() if isinstance(value, SecretValue) else value

    def __repr__(self) -> str:
        managers = [self._given] if self._given is not None else list(self._used.values())
        return f"<SecretResolver managers={managers!r}>"


def _fail(
    session: _Session | None, node: Any, reference: str, err: ProviderError | ReferenceSyntaxError
) -> str:
    """Record a failure in ``session``, or raise it. Called outside any ``except``
    block, so the error chains no exception (whose frames could hold values)."""
    failure = ResolutionFailure(_full_key(node), reference, err.reason, err)
    if session is None:
        raise ResolutionError([failure]) from None
    session.failures.append(failure)
    return ""


def _parsed(args: Sequence[Any]) -> tuple[Reference, Any] | ReferenceSyntaxError:
    """The reference and the second-argument default (or ``_NO_DEFAULT``)."""
    problem = None
    if not args:
        problem = "missing secret name"
    elif len(args) > 2:
        problem = "expected a reference and at most one default, separated by ','"
    else:
        try:
            ref = as_reference(_name_text(args[0]))
        except ReferenceSyntaxError as err:
            return err
        if len(args) == 1:
            return ref, _NO_DEFAULT
        if ref.default is None:
            return ref, args[1]
        problem = "give the default as ':-default' or as a second argument, not both"
    return ReferenceSyntaxError(problem, text=_display(args), position=0)


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
    return "${secret:" + ",".join("null" if a is None else str(a) for a in args) + "}"


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width] + "..."


def _looked_up(
    ref: Reference, outcome: _Outcome, default: Any
) -> tuple[Any, bool, ProviderError | None]:
    """``(value, defaulted, failure)``: :func:`secretwire.reference_value`, with the
    value kept a :class:`SecretValue` (no frame holds it in clear) and the second
    argument's default, which applies only when nothing is found."""
    failure: ProviderError
    try:
        text, defaulted = reference_value(ref, outcome)
        return (text if defaulted else SecretValue(text)), defaulted, None
    except SecretNotFound as err:  # the secret or its field does not exist
        if default is not _NO_DEFAULT:
            return default, True, None
        failure = err
    except ProviderError as err:
        failure = err
    return None, False, failure


def _check_type(
    node: Any, raw: str | None, value: SecretValue, ref: Reference
) -> InvalidSecret | None:
    """The error, without the value, for a value the node's type would reject.

    OmegaConf puts the rejected value in its own message (``Value '...' could not be
    converted to Integer``), so the conversion is tried here first. A secret inside
    a longer string cannot be checked that way and needs a ``str`` or ``Any`` field.
    """
    validate = getattr(node, "validate_and_convert", None)
    nodes = require("omegaconf.nodes", _EXTRA)
    if validate is None or isinstance(node, (nodes.AnyNode, nodes.StringNode, nodes.PathNode)):
        return None
    kind = type(node).__name__.removesuffix("Node").lower()
    text = (raw or "").strip()
    spans = _interpolations(text, "${")
    if not spans or spans[0][:2] != (0, len(text) - 1):
        return InvalidSecret(
            f"secret {ref.name!r} is part of a longer string in a {kind} field; "
            "use a str or Any field",
            name=ref.name,
        )
    try:
        validate(value.reveal())
    except Exception:  # noqa: BLE001 - OmegaConf raises ValidationError or ValueError
        return InvalidSecret(
            f"value of secret {ref.name!r} does not convert to {kind}", name=ref.name
        )
    return None


def _interpolations(text: str, marker: str) -> list[tuple[int, int, bool]]:
    """Each ``${...}`` of ``text``, in order of opening: ``(start, end, nested)``, where
    ``end`` is the offset of its ``}`` (``len(text)`` if unclosed) and ``nested`` says
    whether it opens inside a ``marker`` one (``${secret:``). As in OmegaConf's
    grammar, a backslash escapes the next character and plain braces nest too."""
    found: list[list[Any]] = []
    stack: list[tuple[int | None, bool]] = []  # (index in found, or None for "{"; in marker)
    pos = 0
    while pos < len(text):
        inside = bool(stack) and stack[-1][1]
        if text[pos] == "\\":
            pos += 1
        elif text.startswith("${", pos):
            stack.append((len(found), inside or text.startswith(marker, pos)))
            found.append([pos, len(text), inside])
            pos += 1
        elif text[pos] == "{":
            stack.append((None, inside))
        elif text[pos] == "}" and stack:
            index = stack.pop()[0]
            if index is not None:
                found[index][1] = pos
        pos += 1
    return [(start, end, nested) for start, end, nested in found]


# -- guarded reads -----------------------------------------------------------------
@dataclass(slots=True, eq=False)
class _Session:
    """A read that :func:`check`, :func:`resolve` or a replay guards.

    ``fetched`` is None while only collecting references (``wanted``: fetched by no
    one); else what was fetched, which the resolver adds to. Failures are recorded
    (``location``: the dotted key of the node holding the reference), not raised.
    ``read``: each reference resolved (node key, reference, outcome, defaulted);
    ``values``: the secrets read, only to tell whether an error may quote one.
    """

    fetched: dict[Key, _Outcome] | None = field(default_factory=dict)
    wanted: list[Key] = field(default_factory=list)
    failures: list[ResolutionFailure] = field(default_factory=list)
    read: list[tuple[str, Reference, _Outcome, bool]] = field(default_factory=list)
    values: list[SecretValue] = field(default_factory=list, repr=False)


_SESSION: contextvars.ContextVar[_Session | None] = contextvars.ContextVar(
    "secretwire_omegaconf_session", default=None
)
#: The plain read verified last: (a weak reference to its identity, what it fetched).
_VERIFIED: contextvars.ContextVar[tuple[weakref.ref[Any], dict[Key, _Outcome]] | None] = (
    contextvars.ContextVar("secretwire_omegaconf_verified", default=None)
)


def _guarded(
    session: _Session, read: Callable[[], Any], where: str = ""
) -> tuple[Any, BaseException | None]:
    """``read()`` in ``session``: its result, and the error to raise if it failed:
    the secret failures recorded; else, for an OmegaConf error, a failure at
    ``where`` naming only its type if it may quote a value read, or a copy of it
    without traceback (OmegaConf's frames hold what it resolved before)."""
    token = _SESSION.set(session)
    try:
        return read(), (ResolutionError(session.failures) if session.failures else None)
    except Exception as err:  # noqa: BLE001 - OmegaConf raises many types; caller decides
        error: BaseException = err
    finally:
        _SESSION.reset(token)
    if session.failures:
        return None, ResolutionError(session.failures)
    if _may_quote_a_value(error, session):
        return None, ResolutionError([_withheld(where, session, error)])
    return None, _fresh(error)


def _verified(node: Any, outer: Any, read: Any, marker: str) -> dict[Key, _Outcome]:
    """Replay the plain read that reached ``node``'s secret in a session; raise the
    clean error if it fails, else return what it fetched.

    ``outer`` is the outermost node OmegaConf is resolving (``port: int = ${pw}``
    reaches the secret through ``pw``, and fails in ``port``), ``read`` that read's
    identity: its first resolver call replays it, the others use what was fetched.
    A read of one ``${secret:...}`` in a node of its own, whose conversion
    :func:`_check_type` tries first, cannot fail after the value: no replay.
    """
    raw = _raw_text(node) or ""
    spans = _interpolations(raw, marker)
    own = outer is node and len(spans) == 1 and raw.startswith(marker, spans[0][0])
    if own and hasattr(node, "validate_and_convert"):
        return {}
    last = _VERIFIED.get()
    if read is not None and last is not None and last[0]() is read:
        return last[1]
    session = _Session()
    problem = _guarded(session, lambda: _dereference(outer), _full_key(outer))[1]
    if problem is not None:
        raise problem from None
    assert session.fetched is not None  # noqa: S101 - a resolving session
    if read is not None:
        _VERIFIED.set((weakref.ref(read), session.fetched))
    return session.fetched


def _may_quote_a_value(error: BaseException, session: _Session) -> bool:
    """Could ``error``, raised after ``session`` read secrets, show one of them?

    A missing key or value is reported by key, so it is passed on unless its text
    holds a value read (``${${secret:x}}`` looks up a key named after it); any other
    error (a failed conversion, another resolver's) may quote what it was given.
    """
    if not session.values:
        return False
    errors = require("omegaconf.errors", _EXTRA)
    if not isinstance(
        error, errors.InterpolationKeyError | errors.InterpolationToMissingValueError
    ):
        return True
    texts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(texts) < 100:
        texts += [str(seen), repr(seen), *map(repr, getattr(seen, "__dict__", {}).values())]
        seen = seen.__cause__ or seen.__context__
    return _holds_a_value("\n".join(texts), session.values)


def _holds_a_value(text: str, values: Sequence[SecretValue]) -> bool:
    """Does ``text`` hold one of ``values``? (At merge: ``Redactor.may_contain``.)"""
    return any(value and value.reveal() in text for value in values)


def _withheld(where: str, session: _Session, error: BaseException) -> ResolutionFailure:
    """A failure in place of an OmegaConf ``error`` that may quote a secret's value."""
    refs = [ref for _, ref, _, defaulted in session.read if not defaulted]
    reason = (
        f"reading this node failed after it read a secret ({type(error).__name__}: "
        "not shown, OmegaConf's message can quote the value)"
    )
    errors = require("omegaconf.errors", _EXTRA)
    cause: SecretwireError = ConfigError(reason)
    if isinstance(error, errors.ValidationError):
        cause = InvalidSecret(reason, name=refs[0].name)
    shown = ", ".join(dict.fromkeys(ref.format() for ref in refs))
    return ResolutionFailure(where, shown, reason, cause)


def _fresh(error: BaseException) -> BaseException:
    """A copy of ``error`` without its traceback, cause or context."""
    try:
        fresh = copy.copy(error)
    except Exception:  # noqa: BLE001 - an exception type that does not copy
        return ConfigError(f"{type(error).__name__}: {error}")
    fresh.__traceback__ = fresh.__cause__ = fresh.__context__ = None
    fresh.__suppress_context__ = True
    return fresh


# -- OmegaConf internals: each verified on OmegaConf 2.3.0 and 2.4.0 (the tests run both)
def _root_of(cfg: Any) -> Any:
    """The root of ``cfg``'s config tree (``_get_root``), else ``cfg``."""
    with contextlib.suppress(Exception):
        return cfg._get_root()
    return cfg


def _raw_text(node: Any) -> str | None:
    """The node's text as written (``_value()``), or None."""
    with contextlib.suppress(Exception):
        value = node._value()
        return value if isinstance(value, str) else None
    return None


def _full_key(node: Any) -> str:
    """The node's dotted key, as OmegaConf's own messages show it (``_get_full_key``)."""
    with contextlib.suppress(Exception):
        return str(node._get_full_key(None) or "")
    return ""


def _dereference(node: Any) -> Any:
    """Resolve ``node`` as a read of it does (``_dereference_node``)."""
    return node._dereference_node() if hasattr(node, "_dereference_node") else None


_READ_FRAME = "_resolve_interpolation_from_parse_tree"
#: Modules of error trackers that serialize the locals of a failed frame, iterating
#: any Mapping they find there (which resolves an OmegaConf config).
_REPORTERS = ("sentry_sdk.serializer",)


def _outer_read(node: Any) -> tuple[Any, Any, bool]:
    """What reached this resolver call, from the call stack: the outermost node
    OmegaConf is resolving (``node`` if none is found), that read's identity (its
    ``memo`` set, made for each read; None if there is none), and whether an error
    tracker is serializing frame locals. OmegaConf has no public way to tell."""
    outer, read, reporting = node, None, False
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module in _REPORTERS:
            reporting = True
        elif frame.f_code.co_name == _READ_FRAME and module.startswith("omegaconf."):
            outer, read = frame.f_locals.get("value", outer), frame.f_locals.get("memo")
        frame = frame.f_back
    return outer, read, reporting


# -- registration ------------------------------------------------------------------
_installed: dict[str, SecretResolver] = {}
_registry_lock = threading.RLock()


def _install(name: str, resolver: SecretResolver | None) -> None:
    """Register ``resolver`` (None: remove it) with ``use_cache=False``:
    ``register_resolver`` in OmegaConf 2.4+, ``register_new_resolver`` before (where
    ``register_resolver`` is the deprecated legacy API without nested interpolation)."""
    omegaconf = _omegaconf()
    if resolver is None:
        _installed.pop(name, None)
        omegaconf.clear_resolver(name)
        return
    if "use_cache" in inspect.signature(omegaconf.register_resolver).parameters:
        omegaconf.register_resolver(name, resolver, replace=True, use_cache=False)
    else:
        omegaconf.register_new_resolver(name, resolver, replace=True, use_cache=False)
    _installed[name] = resolver


def _ours(name: str) -> SecretResolver | None:
    """The resolver secretwire installed as ``name``, if it is still the one there;
    a ConfigError if someone else's is."""
    resolver = _installed.get(name) if _omegaconf().has_resolver(name) else None
    if resolver is None and _omegaconf().has_resolver(name):
        raise ConfigError(
            f"an OmegaConf resolver named {name!r} is already registered by someone else"
        )
    return resolver


def register(
    manager: SecretManager | None = None,
    *,
    name: str = DEFAULT_NAME,
    settings: str | Path | None = None,
    environment: str | None = None,
    environment_key: str | None = ENVIRONMENT_KEY,
    replace: bool = False,
) -> SecretResolver:
    """Install the ``${secret:...}`` resolver in OmegaConf and return it.

    Idempotent: calling it again with the same arguments keeps the installed
    resolver (and its cache); with another manager it swaps the resolver. A
    resolver of the same name that secretwire did not install is an error unless
    ``replace=True``. Without ``manager``, the shared one of the settings file is
    used on first use (see :class:`SecretResolver`). A config whose root has
    ``environment_key`` (``None`` turns this off) gets the manager of the
    environment it names (see :meth:`SecretResolver.manager_for`).
    """
    with _registry_lock:
        try:
            previous = _ours(name)
        except ConfigError:
            if not replace:
                raise ConfigError(
                    f"an OmegaConf resolver named {name!r} is already registered by "
                    "someone else; pass replace=True to replace it, or choose another name"
                ) from None
            previous = None
        if previous is not None and previous.same_source(
            manager, settings, environment, environment_key
        ):
            return previous
        resolver = SecretResolver(
            manager,
            settings=settings,
            environment=environment,
            name=name,
            environment_key=environment_key,
        )
        _install(name, resolver)
    if previous is not None:
        previous.close()
    return resolver


def unregister(name: str = DEFAULT_NAME) -> bool:
    """Remove the resolver secretwire installed under ``name`` (and close the managers
    it used). Returns ``False`` if there was none; another library's resolver of
    that name is left alone."""
    with _registry_lock:
        resolver = _installed.get(name)
        if resolver is None:
            return False
        _install(name, None)
    resolver.close()
    return True


@contextlib.contextmanager
def registered(
    manager: SecretManager | None = None,
    *,
    name: str = DEFAULT_NAME,
    settings: str | Path | None = None,
    environment: str | None = None,
    environment_key: str | None = ENVIRONMENT_KEY,
) -> Iterator[SecretResolver]:
    """Install the resolver for the ``with`` block, then put back what was there
    (a previously installed secretwire resolver, or nothing)."""
    with _registry_lock:
        previous = _ours(name)
        resolver = SecretResolver(
            manager,
            settings=settings,
            environment=environment,
            name=name,
            environment_key=environment_key,
        )
        _install(name, resolver)
    try:
        yield resolver
    finally:
        with _registry_lock:
            _install(name, previous)
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
def check(
    cfg: Any,
    *,
    name: str = DEFAULT_NAME,
    source: str | None = None,
    lines: Mapping[str, int] | None = None,
) -> tuple[Provenance, ...]:
    """Resolve every ``${secret:...}`` in ``cfg`` and raise ONE error listing each
    one that fails, with its key path (and line, given ``lines`` as from
    :func:`secretwire.load_config`). Returns where each reference's value comes
    from (:class:`secretwire.Provenance`); never a value.

    The distinct references are fetched together first (``SecretManager.get_many``),
    then every interpolation node is read, as the application would. Raises
    :class:`SecretResolutionError` (both :class:`secretwire.ResolutionError` and
    OmegaConf's ``InterpolationResolutionError``). Other interpolation errors in a
    node with a ``${secret:...}`` (a missing ``${other.key}``) are OmegaConf's and
    propagate (a copy, without OmegaConf's traceback), after the secret failures if
    there are any; but an error in a node that read a secret that could quote the
    value (a failed conversion, another resolver's error) is listed as a failure
    that names only its type.
    """
    failures, other, provenance = _inspect(_installed_resolver(name), cfg, lines or {})
    if failures:
        raise _error_class()(failures, source=source)
    if other is not None:
        raise other
    return provenance


def _inspect(
    resolver: SecretResolver, cfg: Any, lines: Mapping[str, int]
) -> tuple[list[ResolutionFailure], BaseException | None, tuple[Provenance, ...]]:
    """:func:`check`'s work; returns clean data only (OmegaConf's errors end here)."""
    manager = resolver.manager_for(cfg)
    marker = "${" + resolver.name + ":"
    raw = _omegaconf().to_container(cfg, resolve=False)
    sites = [(path, text) for path, text in walk_strings(raw) if "${" in text or _SPELLING in text]
    collect = _Session(fetched=None)
    for path, text in sites:
        if marker in text:
            _guarded(collect, functools.partial(_at, cfg, path))
    keys = list(dict.fromkeys(collect.wanted))
    fetched = dict(manager.get_many(keys)) if keys else {}
    failures: list[ResolutionFailure] = []
    # A node that reads another node meets that node's failures too; they are listed
    # where the reference is written, unless only seen here.
    indirect: list[ResolutionFailure] = []
    provenance: list[Provenance] = []
    other: BaseException | None = None
    for path, text in sites:
        location = format_location(path)
        where = f"{location} (line {lines[location]})" if location in lines else location
        if _SPELLING in text:
            err = ReferenceSyntaxError(
                "the $<secret:...> spelling is not resolved in OmegaConf configs; "
                f"write {marker}...}} instead",
                text=text,
                position=text.find(_SPELLING),
            )
            failures.append(
                ResolutionFailure(where, _shorten(text[err.position :], 40), err.reason, err)
            )
        if "${" not in text:
            continue
        session = _Session(fetched=dict(fetched))
        problem = _guarded(session, functools.partial(_at, cfg, path), where)[1]
        provenance += [
            _provenance(location, ref, outcome, defaulted)
            for key, ref, outcome, defaulted in session.read
            if key in ("", location)
        ]
        if isinstance(problem, ResolutionError):
            for failure in problem.failures:
                direct = failure.location in ("", location, where)
                (failures if direct else indirect).append(replace(failure, location=where))
        elif problem is not None and marker in text and other is None:
            other = problem
    seen = {(f.reference, f.reason) for f in failures}
    failures += [f for f in indirect if (f.reference, f.reason) not in seen]
    return failures, other, tuple(provenance)


def _provenance(location: str, ref: Reference, outcome: _Outcome, defaulted: bool) -> Provenance:
    if defaulted or not isinstance(outcome, Secret):
        return Provenance(location, ref.format(), None, None, True)
    return Provenance(location, ref.format(), outcome.provider, outcome.version)


def _at(cfg: Any, path: Sequence[Any]) -> Any:
    """The value at ``path`` (a :data:`secretwire.TreePath`), read as the app reads it."""
    node = cfg
    for part in path:
        node = node[part]
    return node


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
    session = _Session()
    result, problem = _guarded(session, lambda: _copy(cfg, session, reveal))
    if isinstance(problem, ResolutionError):
        problem = _error_class()(problem.failures, source=source)
    if problem is not None:
        raise problem from None
    return result


def _copy(cfg: Any, session: _Session, reveal: bool) -> Any:
    """``cfg`` as dicts and lists, each interpolation read (in ``session``); unless
    ``reveal``, each value that read a secret replaced by the mask."""
    omegaconf = _omegaconf()
    raw = omegaconf.to_container(cfg, resolve=False)
    values: dict[tuple[Any, ...], Any] = {}
    for path, text in walk_strings(raw):
        if "${" in text:
            before = len(session.values)
            value = _at(cfg, path)
            if omegaconf.is_config(value):
                value = _copy(value, session, reveal)
            elif not reveal and len(session.values) > before:
                value = MASK
            values[path] = value
    return replace_at(raw, values)


def load(path: str | Path, *, name: str = DEFAULT_NAME) -> Any:
    """``OmegaConf.load(path)``, then :func:`check` with the file's name and the
    line of every key, so an error says ``db.password (line 4)``."""
    cfg = _omegaconf().load(path)
    try:
        lines: Mapping[str, int] = load_config(path, format="yaml").lines
    except ConfigError:
        lines = {}  # line numbers only decorate messages; OmegaConf read the file
    check(cfg, name=name, source=str(path), lines=lines)
    return cfg


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
