"""OmegaConf (and Hydra) adapter: a ``${secret:...}`` resolver backed by secretwire.

The few lines an application adds::

    from omegaconf import OmegaConf
    from secretwire.adapters import omegaconf as sw_omegaconf

    sw_omegaconf.register()  # resolver "secret"; manager from secretwire.yaml
    cfg = OmegaConf.load("config.yaml")
    sw_omegaconf.check(cfg)  # ONE error listing every reference that fails
    password = cfg.db.password  # resolved when read, like any interpolation

``${secret:NAME}`` is an ordinary OmegaConf resolver (:class:`SecretResolver`,
registered with ``use_cache=False``: caching is the manager's TTL cache). Its first
argument is the bare reference ``NAME[#FIELD][@VERSION][:-DEFAULT]``, an optional
second one a default. OmegaConf's messages and frames can quote a value it was
handed, so :func:`check`, :func:`resolve` and every plain read that reaches a secret
read the config in a guarded session first (``_reads``); see
``docs/adapters/omegaconf.md``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretwire import (
    MASK,
    ConfigError,
    Provenance,
    Reference,
    ReferenceSyntaxError,
    ResolutionError,
    ResolutionFailure,
    Secret,
    SecretManager,
    TreePath,
    auto_log_masking,
    format_location,
    load_config,
    replace_at,
    walk_strings,
)
from secretwire.adapters import require

from ._reads import EXTRA, Outcome, Session, guarded, omegaconf
from ._resolver import DEFAULT_NAME, ENVIRONMENT_KEY, SecretResolver

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

_SPELLING = "$<secret:"

# -- registration ------------------------------------------------------------------
_installed: dict[str, SecretResolver] = {}
_registry_lock = threading.RLock()


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
    ``replace=True``. Without ``manager``, the settings file's shared manager serves
    it, from first use (see :class:`SecretResolver`). A config whose root has
    ``environment_key`` (``None`` turns this off) gets the manager of the
    environment it names (see :meth:`SecretResolver.manager_for`).
    """
    auto_log_masking()  # served values masked in logs (SECRETWIRE_MASK_LOGS=0: off)
    with _registry_lock:
        previous = _ours(name, replace)
        if previous is not None and previous.same_source(
            manager, settings, environment, environment_key
        ):
            return previous
        resolver = _install_new(name, manager, settings, environment, environment_key)
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
        resolver = _install_new(name, manager, settings, environment, environment_key)
    try:
        yield resolver
    finally:
        with _registry_lock:
            _install(name, previous)
        resolver.close()


def _ours(name: str, replace: bool | None = None) -> SecretResolver | None:
    """The resolver secretwire installed as ``name`` if it is the one there; a
    ConfigError if someone else's is (unless ``replace``)."""
    resolver = _installed.get(name) if omegaconf().has_resolver(name) else None
    if resolver is None and omegaconf().has_resolver(name) and not replace:
        hint = (
            "" if replace is None else "; pass replace=True to replace it, or choose another name"
        )
        raise ConfigError(
            f"an OmegaConf resolver named {name!r} is already registered by someone else{hint}"
        )
    return resolver


def _install_new(
    name: str,
    manager: SecretManager | None,
    settings: str | Path | None,
    environment: str | None,
    environment_key: str | None,
) -> SecretResolver:
    """A new resolver for these arguments, installed as ``name``."""
    resolver = SecretResolver(
        manager,
        settings=settings,
        environment=environment,
        name=name,
        environment_key=environment_key,
    )
    _install(name, resolver)
    return resolver


def _install(name: str, resolver: SecretResolver | None) -> None:
    """Register ``resolver`` (None: remove it) with ``use_cache=False``:
    ``register_resolver`` in OmegaConf 2.4+, ``register_new_resolver`` before (where
    ``register_resolver`` is the deprecated legacy API without nested interpolation)."""
    if resolver is None:
        _installed.pop(name, None)
        omegaconf().clear_resolver(name)
        return
    if "use_cache" in inspect.signature(omegaconf().register_resolver).parameters:
        omegaconf().register_resolver(name, resolver, replace=True, use_cache=False)
    else:
        omegaconf().register_new_resolver(name, resolver, replace=True, use_cache=False)
    _installed[name] = resolver


def _installed_resolver(name: str) -> SecretResolver:
    resolver = _installed.get(name)
    if resolver is None or not omegaconf().has_resolver(name):
        raise ConfigError(
            f"no secretwire resolver named {name!r} is registered; call "
            "secretwire.adapters.omegaconf.register() first"
        )
    return resolver


# -- whole configs -------------------------------------------------------------------
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
    raw = omegaconf().to_container(cfg, resolve=False)
    sites = [(path, text) for path, text in walk_strings(raw) if "${" in text or _SPELLING in text]
    collect = Session(fetched=None)
    for path, text in sites:
        if marker in text:
            guarded(collect, functools.partial(_at, cfg, path))
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
            failures.append(_spelling(where, text, marker))
        if "${" not in text:
            continue
        session = Session(fetched=dict(fetched))
        problem = guarded(session, functools.partial(_at, cfg, path), where)[1]
        provenance += [
            _provenance(location, ref, outcome, defaulted)
            for key, ref, outcome, defaulted in session.read
            if key in ("", location)
        ]
        if isinstance(problem, ResolutionError):
            for failure in problem.failures:
                direct = failure.location in ("", location, where)
                (failures if direct else indirect).append(
                    dataclasses.replace(failure, location=where)
                )
        elif problem is not None and marker in text and other is None:
            other = problem
    seen = {(f.reference, f.reason) for f in failures}
    failures += [f for f in indirect if (f.reference, f.reason) not in seen]
    return failures, other, tuple(provenance)


def _provenance(location: str, ref: Reference, outcome: Outcome, defaulted: bool) -> Provenance:
    if defaulted or not isinstance(outcome, Secret):
        return Provenance(location, ref.format(), None, None, True)
    return Provenance(location, ref.format(), outcome.provider, outcome.version)


def _spelling(where: str, text: str, marker: str) -> ResolutionFailure:
    """The failure for a ``$<secret:...>`` in ``text``: not an OmegaConf interpolation."""
    at = text.find(_SPELLING)
    err = ReferenceSyntaxError(
        "the $<secret:...> spelling is not resolved in OmegaConf configs; "
        f"write {marker}...}} instead",
        text=text,
        position=at,
    )
    shown = text[at : at + 40] + ("..." if len(text) > at + 40 else "")
    return ResolutionFailure(where, shown, err.reason, err)


def _at(cfg: Any, path: TreePath) -> Any:
    """The value at ``path``, read as the application reads it."""
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
    session = Session()
    result, problem = guarded(session, lambda: _copy(cfg, session, reveal))
    if isinstance(problem, ResolutionError):
        problem = _error_class()(problem.failures, source=source)
    if problem is not None:
        raise problem from None
    return result


def _copy(cfg: Any, session: Session, reveal: bool) -> Any:
    """``cfg`` as dicts and lists, each interpolation read (in ``session``); unless
    ``reveal``, each value that read a secret replaced by the mask."""
    raw = omegaconf().to_container(cfg, resolve=False)
    values: dict[TreePath, Any] = {}
    for path, text in walk_strings(raw):
        if "${" in text:
            before = len(session.values)
            value = _at(cfg, path)
            if omegaconf().is_config(value):
                value = _copy(value, session, reveal)
            elif not reveal and len(session.values) > before:
                value = MASK
            values[path] = value
    return replace_at(raw, values)


def load(path: str | Path, *, name: str = DEFAULT_NAME) -> Any:
    """``OmegaConf.load(path)``, then :func:`check` with the file's name and the
    line of every key, so an error says ``db.password (line 4)``."""
    cfg = omegaconf().load(path)
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
        errors = require("omegaconf.errors", EXTRA)

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
