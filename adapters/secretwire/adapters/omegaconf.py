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
* OmegaConf quotes values in its own error messages (a failed conversion, another
  resolver's error, a missing key named after a value). So before the resolver
  hands a value to OmegaConf during a plain read, it replays that read once under
  :func:`check`'s rules; if the read would fail, it raises a clean error instead
  and OmegaConf never sees the value.
* The composed config may pick the secretwire environment: a string at
  ``secretwire.environment`` (``environment_key``) selects the manager, so a Hydra
  config group (``env=prod``) can choose the backend.
* A resolver's string result is never parsed again by OmegaConf, so a value that
  contains ``${secret:...}`` comes back literally.
* The ``$<secret:...>`` spelling is not an OmegaConf interpolation; it is not
  resolved, and :func:`check` reports it so it cannot reach the application as text.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import inspect
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from secretwire import (
    MASK,
    ConfigError,
    InvalidSecret,
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
    load_config,
    load_settings,
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
Key = tuple[str, str | None]


def _omegaconf() -> Any:
    """The ``omegaconf.OmegaConf`` class, imported on first use."""
    return require("omegaconf", _EXTRA).OmegaConf


# -- the resolver ------------------------------------------------------------------
@dataclass(slots=True)
class _Session:
    """What :func:`check` / :func:`resolve` ask of resolver calls in this context.

    ``collect``: note each reference, fetch nothing (prefetch pass). ``check``: use
    ``fetched`` first (and remember what it fetched there); record failures instead
    of raising. ``track``: resolve as usual, and note that a secret was read (for
    masking and to clean up an error that follows).
    """

    mode: str
    references: list[Reference] = field(default_factory=list)
    fetched: dict[Key, Secret | ProviderError] = field(default_factory=dict)
    #: (dotted key of the node holding the reference, reference, reason, error)
    failures: list[tuple[str, str, str, SecretwireError]] = field(default_factory=list)
    #: (dotted key of the node, reference, what was fetched, served by its default)
    resolved: list[tuple[str, Reference, Secret | ProviderError, bool]] = field(
        default_factory=list
    )
    touched: bool = False
    #: the references whose values this session read, and those values (only to
    #: tell whether an OmegaConf error that followed could quote one); masked in repr
    read: list[Reference] = field(default_factory=list)
    values: list[SecretValue] = field(default_factory=list, repr=False)


_SESSION: contextvars.ContextVar[_Session | None] = contextvars.ContextVar(
    "secretwire_omegaconf_session", default=None
)


@dataclass(slots=True)
class _EnvironmentLookup:
    """Set while the config's environment key is read: a secret read there is refused."""

    key: str
    secret_read: bool = False


_LOOKUP: contextvars.ContextVar[_EnvironmentLookup | None] = contextvars.ContextVar(
    "secretwire_omegaconf_environment_lookup", default=None
)


class SecretResolver:
    """The callable OmegaConf invokes for ``${secret:...}``.

    ``manager`` is used as given (and never closed here). Without it, managers are
    built on first use from the settings file (``settings``, else ``$SECRETWIRE_CONFIG``
    or the nearest ``secretwire.yaml``): one for ``environment`` (else the settings'
    environment variable, else their default), and one per environment a config
    names at ``environment_key`` (see :meth:`manager_for`). :meth:`close` closes the
    managers it built.
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
        self._owns_manager = manager is None
        self._settings = settings
        self._environment = environment
        self._loaded: Settings | None = None
        self._default: str | None = None  # the environment of `manager`, once chosen
        self._managers: dict[str, SecretManager] = {}
        self._lock = threading.RLock()

    @property
    def manager(self) -> SecretManager:
        """The manager for configs that do not name an environment; built from the
        settings file on first use if none was given."""
        if self._given is not None:
            return self._given
        with self._lock:
            if self._default is None:
                self._default = self._settings_file().select(self._environment)
            return self._built(self._default)

    def manager_for(self, cfg: Any) -> SecretManager:
        """The manager that serves ``cfg``'s secrets: the one for the environment
        ``cfg``'s root names at :attr:`environment_key`, else :attr:`manager`.

        A config that names an environment must agree with an explicit choice: a
        manager given to :func:`register` (its ``environment``), ``environment=``,
        and the settings' environment variable (``$SECRETWIRE_ENV``, ``$APP_ENV``)
        when it is set; a disagreement is a :class:`secretwire.ConfigError`, never a
        silent pick of one backend over the other.
        """
        chosen = self._config_environment(_root_of(cfg))
        if chosen is None:
            return self.manager
        if self._given is not None:
            if self._given.environment != chosen:
                raise ConfigError(
                    f"the config picks environment {chosen!r} ({self.environment_key}), "
                    "but the resolver was registered with a manager for "
                    f"{self._given.environment!r}; register() without a manager "
                    "builds the one the config picks"
                )
            return self._given
        if self._environment is not None and self._environment != chosen:
            raise ConfigError(
                f"the config picks environment {chosen!r} ({self.environment_key}), "
                f"but register() was given environment={self._environment!r}"
            )
        with self._lock:
            settings = self._settings_file()
            variable = settings.environment_variable
            selected = os.environ.get(variable)
            if selected and selected != chosen:
                raise ConfigError(
                    f"the config picks environment {chosen!r} ({self.environment_key}), "
                    f"but ${variable} is {selected!r}; unset ${variable} or make them agree",
                    source=settings.source,
                )
            if chosen not in settings.environments:
                known = ", ".join(sorted(settings.environments))
                raise ConfigError(
                    f"the config picks environment {chosen!r} ({self.environment_key}), "
                    f"which the settings do not define; known: {known}",
                    source=settings.source,
                )
            return self._built(chosen)

    def _settings_file(self) -> Settings:
        if self._loaded is None:
            self._loaded = load_settings(self._settings)
        return self._loaded

    def _built(self, environment: str) -> SecretManager:
        manager = self._managers.get(environment)
        if manager is None:
            manager = SecretManager.from_settings(self._settings_file(), environment=environment)
            self._managers[environment] = manager
        return manager

    def _config_environment(self, root: Any) -> str | None:
        """The environment the config names at :attr:`environment_key`, or None.

        Read (interpolations resolved) before any secret is: so the key may read
        other nodes, ``${oc.env:...}`` or ``${hydra:runtime.choices.env}``, but not
        a secret.
        """
        key = self.environment_key
        if key is None or root is None:
            return None
        omegaconf = _omegaconf()
        if not omegaconf.is_dict(root):
            return None
        lookup = _EnvironmentLookup(key)
        token = _LOOKUP.set(lookup)
        problem: str | None = None
        try:
            value = omegaconf.select(root, key, default=None)
        except Exception as err:  # noqa: BLE001 - OmegaConf raises many types
            value = None
            problem = f"{type(err).__name__}: {' '.join(str(err).split())}"
        finally:
            _LOOKUP.reset(token)
        if lookup.secret_read:
            raise ConfigError(
                f"{key} cannot read a secret: the environment that serves the secrets "
                "must be known before any of them is read"
            )
        if problem is not None:
            raise ConfigError(f"{key} could not be read ({problem})")
        if value is None:
            return None
        if not isinstance(value, str) or not value:
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
        if manager is not None or not self._owns_manager:
            return manager is self._given
        return (settings, environment) == (self._settings, self._environment)

    def close(self) -> None:
        """Close the managers this resolver built. Idempotent."""
        if not self._owns_manager:
            return
        with self._lock:
            managers, self._managers = list(self._managers.values()), {}
            self._default = None
        for manager in managers:
            manager.close()

    def __call__(self, *args: Any, _node_: Any = None, _root_: Any = None) -> Any:
        """Resolve one ``${secret:...}``: a batch read of one ``(name, version)``
        through the manager (``SecretManager.get_many``), served from its cache
        when fresh."""
        lookup = _LOOKUP.get()
        if lookup is not None:
            lookup.secret_read = True
            raise ConfigError(f"{lookup.key} cannot read a secret")
        session = _SESSION.get()
        fetched: dict[Key, Secret | ProviderError] = {}
        if session is None:
            target, reporting = _read_context(_node_)
            if reporting:
                # An error tracker (Sentry's serializer) iterates a config it found in
                # a frame's locals, to report an error: it gets the mask, not a value.
                return MASK
            if _node_ is not None:
                # A plain read: replay it once under check()'s rules first, so that
                # an OmegaConf error that would quote the value is raised clean instead.
                fetched = _verify_read(_node_, target, "${" + self.name + ":")
        else:
            fetched = session.fetched
        raw = _raw_text(_node_)
        shown = _display(args)
        problem: ReferenceSyntaxError | None = None
        if raw is not None and _nests(raw, "${" + self.name + ":"):
            problem = ReferenceSyntaxError(
                "a secret name cannot contain another secret reference (its value would "
                "show in error messages)",
                text=raw,
                position=0,
            )
        elif (
            session is not None
            and raw is not None
            and _nests(raw, "${" + self.name + ":", "${")
            and any(_quotes(shown, value) for value in session.values)
        ):
            # ``${secret:app/${other}}`` where ``other`` read a secret: the name holds
            # that value, and every message about the name would show it.
            problem = ReferenceSyntaxError(
                "a secret name cannot be built from a secret's value (it would show in "
                "error messages)",
                text=raw or "",
                position=0,
            )
        if problem is not None:
            return self._fail(session, _node_, _shorten(raw or "${...}"), problem.reason, problem)
        parsed = _parsed(args)
        if isinstance(parsed, ReferenceSyntaxError):
            return self._fail(session, _node_, shown, parsed.reason, parsed)
        ref, default = parsed
        if session is not None and session.mode == "collect":
            session.references.append(ref)
            return ""
        manager = self.manager_for(_root_) if _root_ is not None else self.manager
        outcome = fetched.get(ref.key)
        if outcome is None:
            outcome = manager.get_many([ref.key])[ref.key]
            fetched[ref.key] = outcome
        value, defaulted, failure = _value_of(ref, outcome, default)
        if failure is None and not defaulted:
            failure = _check_type(_node_, raw, value, ref)
        if failure is not None:
            return self._fail(session, _node_, ref.format(), _reason(failure), failure)
        if session is not None:
            session.resolved.append((_node_location(_node_), ref, outcome, defaulted))
            if not defaulted:
                session.touched = True
                session.read.append(ref)
                session.values.append(value)
        return value.reveal() if isinstance(value, SecretValue) else value

    @staticmethod
    def _fail(
        session: _Session | None, node: Any, reference: str, reason: str, err: SecretwireError
    ) -> str:
        """Record a failure (check) or raise it. Called outside any ``except`` block,
        so the error carries no chained exception (whose frames could hold values)."""
        location = _node_location(node)
        if session is not None and session.mode != "track":
            session.failures.append((location, reference, reason, err))
            return ""
        raise ResolutionError([ResolutionFailure(location, reference, reason, err)]) from None

    def __repr__(self) -> str:
        managers = [self._given] if self._given is not None else list(self._managers.values())
        return f"<SecretResolver managers={managers!r}>"


def _root_of(cfg: Any) -> Any:
    """The root of ``cfg``'s config tree (``_get_root``: no public accessor)."""
    get_root = getattr(cfg, "_get_root", None)
    if get_root is None:
        return cfg
    try:
        return get_root()
    except Exception:  # noqa: BLE001 - best effort: the config itself then
        return cfg


def _parsed(args: Sequence[Any]) -> tuple[Reference, Any] | ReferenceSyntaxError:
    try:
        return _reference(args)
    except ReferenceSyntaxError as err:
        return err


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


def _value_of(
    ref: Reference, outcome: Secret | ProviderError, default: Any
) -> tuple[Any, bool, ProviderError | None]:
    """What ``ref`` stands for: ``(value, defaulted, failure)``. The value is a
    :class:`secretwire.SecretValue` (so no frame holds it in clear), or the default,
    which applies only when nothing is found."""
    failure: ProviderError | None = None
    if isinstance(outcome, ProviderError):
        failure = outcome
    elif ref.field is None:
        return outcome.value, False, None
    else:
        try:
            return SecretValue(outcome.field(ref.field)), False, None
        except ProviderError as err:  # FieldNotFound: the field does not exist
            failure = err
    if isinstance(failure, SecretNotFound):
        if ref.default is not None:
            return ref.default, True, None
        if default is not _NO_DEFAULT:
            return default, True, None
    return None, False, failure


def _reason(err: ProviderError) -> str:
    """A value-free reason, as secretwire's own resolver words it (the provider's
    message, e.g. which endpoint refused the connection; for the adapter's own type
    check, what it found)."""
    return err.reason


def _check_type(node: Any, raw: str | None, value: Any, ref: Reference) -> InvalidSecret | None:
    """The error, without the value, for a value the node's type would reject.

    OmegaConf puts the rejected value in its own message (``Value '...' could not be
    converted to Integer``), so the conversion is tried here first. A secret inside
    a longer string cannot be checked that way and needs a ``str`` or ``Any`` field.
    """
    validate = getattr(node, "validate_and_convert", None)
    if validate is None or not isinstance(value, SecretValue) or _accepts_text(node):
        return None
    kind = type(node).__name__.removesuffix("Node").lower()
    if raw is not None and not _is_single_interpolation(raw.strip()):
        return InvalidSecret(
            f"secret {ref.name!r} is part of a longer string in a {kind} field; "
            "use a str or Any field",
            name=ref.name,
        )
    try:
        validate(value.reveal())
        converts = True
    except Exception:  # noqa: BLE001 - OmegaConf raises ValidationError or ValueError
        converts = False
    if converts:
        return None
    return InvalidSecret(f"value of secret {ref.name!r} does not convert to {kind}", name=ref.name)


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


def _nests(text: str, marker: str, inner: str | None = None) -> bool:
    """Does an ``inner`` (default: ``marker`` itself, ``${secret:``) open inside a
    ``marker``'s braces?"""
    inner = marker if inner is None else inner
    stack: list[bool] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if text.startswith(inner, pos) and any(stack):
            return True
        if text.startswith(marker, pos):
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
    environment_key: str | None = ENVIRONMENT_KEY,
    replace: bool = False,
) -> SecretResolver:
    """Install the ``${secret:...}`` resolver in OmegaConf and return it.

    Idempotent: calling it again with the same arguments keeps the installed
    resolver (and its cache); with another manager it swaps the resolver. A
    resolver of the same name that secretwire did not install is an error unless
    ``replace=True``. Without ``manager``, one is built from the settings file on
    first use (see :class:`SecretResolver`). A config whose root has
    ``environment_key`` (``secretwire.environment``; ``None`` turns this off) gets
    the manager of the environment it names (see :meth:`SecretResolver.manager_for`).
    """
    omegaconf = _omegaconf()
    with _registry_lock:
        previous = _installed.get(name)
        if previous is not None and omegaconf.has_resolver(name):
            if previous.same_source(manager, settings, environment, environment_key):
                return previous
        elif omegaconf.has_resolver(name) and not replace:
            raise ConfigError(
                f"an OmegaConf resolver named {name!r} is already registered by someone "
                "else; pass replace=True to replace it, or choose another name"
            )
        resolver = SecretResolver(
            manager,
            settings=settings,
            environment=environment,
            name=name,
            environment_key=environment_key,
        )
        _install(name, resolver)
        _installed[name] = resolver
    if previous is not None:
        previous.close()
    return resolver


def unregister(name: str = DEFAULT_NAME) -> bool:
    """Remove the resolver secretwire installed under ``name`` (and close the managers
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
    environment_key: str | None = ENVIRONMENT_KEY,
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
        resolver = SecretResolver(
            manager,
            settings=settings,
            environment=environment,
            name=name,
            environment_key=environment_key,
        )
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
) -> tuple[Provenance, ...]:
    """Resolve every ``${secret:...}`` in ``cfg`` and raise ONE error listing each
    one that fails, with its key path (and line, given ``lines`` as from
    :func:`secretwire.load_config`). Returns where each reference's value comes
    from (:class:`secretwire.Provenance`: location, reference, provider, version,
    whether its default served it); never a value.

    The distinct references are fetched together first (``SecretManager.get_many``:
    cached ones from the cache, the rest concurrently), then each node is resolved
    by OmegaConf as the application would. Raises :class:`SecretResolutionError`
    (both :class:`secretwire.ResolutionError` and OmegaConf's
    ``InterpolationResolutionError``). Other interpolation errors (a missing
    ``${other.key}``) are OmegaConf's and propagate (a copy, without OmegaConf's
    traceback, whose frames can hold values), after the secret failures if there
    are any; but an error in a node that read a secret (directly or through another
    node) that could quote the value (a failed conversion, another resolver's
    error) is listed as a failure that names only its type.
    """
    resolver = _installed_resolver(name)
    failures, other, provenance = _inspect(resolver, cfg, name, lines)
    if failures:
        raise _error_class()(failures, source=source)
    if other is not None:
        raise other
    return provenance


def _inspect(
    resolver: SecretResolver, cfg: Any, name: str, lines: Mapping[str, int] | None
) -> tuple[list[ResolutionFailure], BaseException | None, tuple[Provenance, ...]]:
    """:func:`check`'s work. Returns clean data only: the OmegaConf errors met here
    (and their tracebacks) end with this frame."""
    omegaconf = _omegaconf()
    manager = resolver.manager_for(cfg)
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
    fetched = manager.get_many(keys) if keys else {}

    # Every other interpolation too: a node that reads a secret through another node
    # (``port: int = ${db.port}``, ``${oc.env:${db.password}}``) gets OmegaConf errors
    # that quote the value; they must fail here, in a clean error, not on access.
    readers = [path for path, text in _strings(raw, ()) if "${" in text and marker not in text]

    failures: list[ResolutionFailure] = []
    provenance: list[Provenance] = []
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
        session = _Session("check", fetched=dict(fetched))
        error = _visit(cfg, path, session, swallow=False)
        for node_key, reference, reason, cause in session.failures:
            failure = ResolutionFailure(where, reference, reason, cause)
            if node_key in ("", location):
                failures.append(failure)
            else:
                indirect.append((failure, (reference, reason)))
        provenance += [
            _provenance(location, ref, outcome, defaulted)
            for node_key, ref, outcome, defaulted in session.resolved
            if node_key in ("", location)
        ]
        if error is not None and not session.failures:
            if _may_quote_a_value(error, session):
                failures.append(_withheld(where, session, error))
            elif other is None:
                other = _fresh(error)
    for path in readers:
        session = _Session("check", fetched=dict(fetched))
        error = _visit(cfg, path, session, swallow=False)
        # Failures of the secrets it reads are listed where those are written, and
        # an error without a secret read is not this check's business.
        if error is not None and not session.failures and _may_quote_a_value(error, session):
            failures.append(_withheld(_where(path, lines), session, error))
    direct = {(f.reference, f.reason) for f in failures}
    failures += [failure for failure, key in indirect if key not in direct]
    return failures, other, tuple(provenance)


def _provenance(
    location: str, ref: Reference, outcome: Secret | ProviderError, defaulted: bool
) -> Provenance:
    if defaulted or not isinstance(outcome, Secret):
        return Provenance(location, ref.format(), None, None, True)
    return Provenance(location, ref.format(), outcome.provider, outcome.version)


def _where(path: _KeyPath, lines: Mapping[str, int] | None) -> str:
    location = _format_location(path)
    return f"{location} (line {lines[location]})" if lines and location in lines else location


def _texts(error: BaseException) -> Iterator[str]:
    """What shows of ``error`` and its chain: messages, reprs, attributes."""
    seen: BaseException | None = error
    count = 0
    while seen is not None and count < 20:
        yield str(seen)
        yield repr(seen)
        for value in vars(seen).values() if hasattr(seen, "__dict__") else ():
            yield repr(value)
        seen = seen.__cause__ or seen.__context__
        count += 1


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
    texts = list(_texts(error))
    return any(_quotes(text, value) for value in session.values for text in texts)


def _quotes(text: str, value: SecretValue) -> bool:
    return bool(value) and value.reveal() in text


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


def _fresh(error: BaseException) -> BaseException:
    """A copy of ``error`` without its traceback, cause or context (OmegaConf's frames
    and the exceptions it chained can hold values resolved before it failed)."""
    if isinstance(error, ResolutionError):
        return type(error)(error.failures, source=error.source)
    try:
        fresh = copy.copy(error)
    except Exception:  # noqa: BLE001 - an exception type that does not copy
        return ConfigError(f"{type(error).__name__}: {error}")
    fresh.__traceback__ = None
    fresh.__cause__ = fresh.__context__ = None
    fresh.__suppress_context__ = True
    return fresh


def _cleaned(
    error: BaseException, session: _Session, where: str, *, inside: bool = False
) -> BaseException:
    """The error to raise in place of ``error``, met after ``session`` read secrets:
    secretwire's own error if that is what failed, else OmegaConf's, copied without
    its traceback, or a failure naming only its type if it may quote a value.

    ``inside``: raised from the resolver, into OmegaConf, which rebuilds its own
    error types from their message; so a plain :class:`secretwire.ResolutionError`,
    which OmegaConf wraps, rather than :class:`SecretResolutionError`."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ResolutionError):
            return _fresh(seen)
        seen = seen.__cause__ or seen.__context__
    if _may_quote_a_value(error, session):
        cls = ResolutionError if inside else _error_class()
        return cls([_withheld(where, session, error)])
    return _fresh(error)


def _verify_read(node: Any, target: Any, marker: str) -> dict[Key, Secret | ProviderError]:
    """Replay the plain read that reached ``node``'s secret under :func:`check`'s
    rules, and raise the clean error if it fails; else return what it fetched.

    ``target`` is the read to replay: the outermost node OmegaConf is resolving
    (``port: int = ${db.password}`` reaches the secret through ``db.password``, and
    fails in ``port``; see :func:`_read_context`). A read of just ``node``, whose
    text holds no other interpolation and whose type the resolver checks itself
    (:func:`_check_type`), cannot fail after the value is returned: it is not
    replayed. Other resolvers in a replayed read run twice.
    """
    raw = _raw_text(node)
    if (
        target is node
        and raw is not None
        and raw.count("${") == 1
        and marker in raw
        and hasattr(node, "validate_and_convert")
    ):
        return {}
    session = _Session("check")
    problem: BaseException | None = None
    error = _dereference(target, session)
    if session.failures:
        problem = ResolutionError([ResolutionFailure(*failure) for failure in session.failures])
    elif error is not None:
        problem = _cleaned(error, session, _node_location(target), inside=True)
    del error
    if problem is not None:
        raise problem from None
    return session.fetched


_READ_FRAME = "_resolve_interpolation_from_parse_tree"
#: Modules of error trackers that serialize the locals of a failed frame, iterating
#: any Mapping they find there, which resolves an OmegaConf config.
_REPORTERS = ("sentry_sdk.serializer",)


def _read_context(node: Any) -> tuple[Any, bool]:
    """What reached this resolver call, from the call stack: the outermost node
    whose interpolation OmegaConf is resolving (``node`` if none is found), and
    whether an error tracker is serializing frame locals.

    OmegaConf has no public way to tell which read reached a resolver, so this
    looks at its ``_resolve_interpolation_from_parse_tree`` frames (the same in
    2.3 and 2.4; the tests check it).
    """
    outer = node
    reporting = False
    frame: FrameType | None = sys._getframe(1)
    try:
        while frame is not None:
            module = str(frame.f_globals.get("__name__", ""))
            if module in _REPORTERS:
                reporting = True
            elif frame.f_code.co_name == _READ_FRAME and module.startswith("omegaconf."):
                candidate = frame.f_locals.get("value")
                if candidate is not None and hasattr(candidate, "_dereference_node"):
                    outer = candidate
            frame = frame.f_back
    finally:
        del frame
    return outer, reporting


def _dereference(node: Any, session: _Session) -> BaseException | None:
    """Resolve ``node`` as a read would, under ``session``; return the error if any."""
    dereference: Callable[[], Any] | None = getattr(node, "_dereference_node", None)
    if dereference is None:
        return None
    token = _SESSION.set(session)
    try:
        dereference()
    except Exception as err:  # noqa: BLE001 - OmegaConf raises many types; caller decides
        return err
    finally:
        _SESSION.reset(token)
    return None


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
    session = _Session("track")
    if reveal:
        result, problem = _guarded(session, lambda: omegaconf.to_container(cfg, resolve=True))
    else:
        result, problem = _guarded(session, lambda: _masked(omegaconf, cfg, session))
    if problem is not None:
        raise problem from None
    return result


def _guarded(session: _Session, read: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """``read()`` under ``session``; an error comes back cleaned (see :func:`_cleaned`)."""
    token = _SESSION.set(session)
    try:
        return read(), None
    except Exception as err:  # noqa: BLE001 - OmegaConf raises many types
        return None, _cleaned(err, session, "")
    finally:
        _SESSION.reset(token)


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


def _masked(omegaconf: Any, node: Any, session: _Session) -> Any:
    """``node`` resolved (under the track ``session``), each value that read a
    secret replaced by the mask."""
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
            before = len(session.read)
            value = node[key]
            if omegaconf.is_config(value):
                value = _masked(omegaconf, value, session)
            elif len(session.read) > before:
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
