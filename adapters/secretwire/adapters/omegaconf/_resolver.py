"""The ``${secret:...}`` resolver: arguments, managers, one reference (private)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secretwire import (
    MASK,
    ConfigError,
    InvalidSecret,
    Key,
    ProviderError,
    Reference,
    ReferenceSyntaxError,
    ResolutionError,
    ResolutionFailure,
    SecretManager,
    SecretNotFound,
    SecretValue,
    Settings,
    as_reference,
    load_settings,
    reference_value,
    shared_manager,
)
from secretwire.adapters import require

from ._reads import (
    EXTRA,
    SESSION,
    Outcome,
    Session,
    full_key,
    guarded,
    interpolations,
    omegaconf,
    raw_text,
    read_context,
    root_of,
    verified,
)

#: The resolver name :func:`register` uses unless told otherwise.
DEFAULT_NAME = "secret"
#: The config key whose value, when the config has it, names the secretwire
#: environment (one of ``secretwire.yaml``'s) that serves the config's secrets.
ENVIRONMENT_KEY = "secretwire.environment"

_NO_DEFAULT: Any = object()


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
        chosen = self._config_environment(root_of(cfg))
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
        if key is None or root is None or not omegaconf().is_dict(root):
            return None
        session = Session(fetched=None)
        value, problem = guarded(session, lambda: omegaconf().select(root, key, default=None))
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
        session = SESSION.get()
        fetched: dict[Key, Outcome] | None = None if session is None else session.fetched
        if session is None:
            chain, read, reporting = read_context()
            if reporting:  # an error tracker serializing a config: never a value
                return MASK
            fetched = verified(_node_, chain, read, marker) if _node_ is not None else {}
        raw = raw_text(_node_)
        problem = _name_problem(raw or "", marker, _display(args), session)
        if problem is not None:
            return _fail(session, _node_, _shorten(raw or "${...}"), problem)
        parsed = _parsed(args)
        if isinstance(parsed, ReferenceSyntaxError):
            return _fail(session, _node_, _display(args), parsed)
        ref, default = parsed
        if fetched is None:  # a session that only collects references
            if session is not None:
                session.wanted.append(ref.key)
            return ""
        outcome = fetched.get(ref.key)
        if outcome is None:
            manager = self.manager_for(_root_) if _root_ is not None else self.manager
            outcome = fetched[ref.key] = manager.get_many([ref.key])[ref.key]
        value, failure = _looked_up(ref, outcome, default)
        if failure is None and isinstance(value, SecretValue):
            failure = _check_type(_node_, raw, value, ref)
        if failure is not None:
            return _fail(session, _node_, ref.format(), failure)
        if session is not None:
            defaulted = not isinstance(value, SecretValue)
            session.read.append((full_key(_node_), ref, outcome, defaulted))
            if not defaulted:
                session.add(value)
        return value.reveal() if isinstance(value, SecretValue) else value

    def __repr__(self) -> str:
        managers = [self._given] if self._given is not None else list(self._used.values())
        return f"<SecretResolver managers={managers!r}>"


def _fail(
    session: Session | None, node: Any, reference: str, err: ProviderError | ReferenceSyntaxError
) -> str:
    """Record a failure in ``session``, or raise it. Called outside any ``except``
    block, so the error chains no exception (whose frames could hold values)."""
    failure = ResolutionFailure(full_key(node), reference, err.reason, err)
    if session is None:
        raise ResolutionError([failure]) from None
    session.failures.append(failure)
    return ""


def _name_problem(
    raw: str, marker: str, shown: str, session: Session | None
) -> ReferenceSyntaxError | None:
    """A secret name must not show a value: no reference in it to another secret, nor
    (``${secret:app/${other}}``) to a node that read one."""
    spans = interpolations(raw, marker)
    if any(nested and raw.startswith(marker, start) for start, _, nested in spans):
        problem = "contain another secret reference"
    elif session and any(nested for *_, nested in spans) and session.redactor.may_contain(shown):
        problem = "be built from a secret's value"
    else:
        return None
    return ReferenceSyntaxError(
        f"a secret name cannot {problem} (its value would show in error messages)",
        text=raw,
        position=0,
    )


def _parsed(args: Sequence[Any]) -> tuple[Reference, Any] | ReferenceSyntaxError:
    """The reference and the second-argument default (or ``_NO_DEFAULT``)."""
    problem = "expected a reference and at most one default, separated by ','"
    if not args:
        problem = "missing secret name"
    elif len(args) <= 2:
        try:
            ref = as_reference(_name_text(args[0]))
        except ReferenceSyntaxError as err:
            return err
        if len(args) == 1 or ref.default is None:
            return ref, (args[1] if len(args) == 2 else _NO_DEFAULT)
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


def _looked_up(ref: Reference, outcome: Outcome, default: Any) -> tuple[Any, ProviderError | None]:
    """``(value, failure)`` by :func:`secretwire.reference_value`: a secret's value as
    a :class:`SecretValue` (no frame holds it in clear), a default as it is; the
    second argument's default too applies only when nothing is found."""
    failure: ProviderError
    try:
        text, defaulted = reference_value(ref, outcome)
        return (text if defaulted else SecretValue(text)), None
    except SecretNotFound as err:  # the secret or its field does not exist
        if default is not _NO_DEFAULT:
            return default, None
        failure = err
    except ProviderError as err:
        failure = err
    return None, failure


def _check_type(
    node: Any, raw: str | None, value: SecretValue, ref: Reference
) -> InvalidSecret | None:
    """The error, without the value, for a value the node's type would reject.

    OmegaConf puts the rejected value in its own message (``Value '...' could not be
    converted to Integer``), so the conversion is tried here first. A secret inside
    a longer string cannot be checked that way and needs a ``str`` or ``Any`` field.
    """
    nodes = require("omegaconf.nodes", EXTRA)
    validate = getattr(node, "validate_and_convert", None)
    if validate is None or isinstance(node, nodes.AnyNode | nodes.StringNode | nodes.PathNode):
        return None
    kind = type(node).__name__.removesuffix("Node").lower()
    text = (raw or "").strip()
    spans = interpolations(text, "${")
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
