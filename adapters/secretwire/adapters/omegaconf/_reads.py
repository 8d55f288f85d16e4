"""Guarded reads of an OmegaConf config, and the OmegaConf internals they use (private).

A :class:`Session` is a read that :func:`~secretwire.adapters.omegaconf.check`,
:func:`~secretwire.adapters.omegaconf.resolve` or a replay guards: the resolver
records failures in it instead of raising, and notes what it read. A plain read that
reaches a secret is replayed once in a session first (:func:`verified`), so that a
read that would fail raises a clean error before OmegaConf, whose messages and
frames can quote a value, holds one.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import sys
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from secretwire import (
    ConfigError,
    InvalidSecret,
    Key,
    ProviderError,
    Redactor,
    Reference,
    ResolutionError,
    ResolutionFailure,
    Secret,
    SecretValue,
    SecretwireError,
)
from secretwire.adapters import require

EXTRA = "omegaconf"
Outcome = Secret | ProviderError


def omegaconf() -> Any:
    """The ``omegaconf.OmegaConf`` class, imported on first use."""
    return require("omegaconf", EXTRA).OmegaConf


@dataclass(slots=True, eq=False)
class Session:
    """A guarded read. ``fetched`` is None while only collecting references
    (``wanted``: fetched by no one); else what was fetched, which the resolver adds
    to. ``failures`` are recorded, not raised (``location``: the dotted key of the
    node holding the reference). ``read``: each reference resolved (node key,
    reference, outcome, defaulted); ``values``: the secrets read, in order;
    ``redactor``: the same values, to tell whether an error may quote one."""

    fetched: dict[Key, Outcome] | None = field(default_factory=dict)
    wanted: list[Key] = field(default_factory=list)
    failures: list[ResolutionFailure] = field(default_factory=list)
    read: list[tuple[str, Reference, Outcome, bool]] = field(default_factory=list)
    values: list[SecretValue] = field(default_factory=list, repr=False)
    redactor: Redactor = field(default_factory=lambda: Redactor(min_length=1), repr=False)

    def add(self, value: SecretValue) -> None:
        """Record a secret value this session read."""
        self.values.append(value)
        self.redactor.add(value)


SESSION: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "secretwire_omegaconf_session", default=None
)
#: The plain read verified last: (a weak reference to its identity, what it fetched).
_VERIFIED: contextvars.ContextVar[tuple[weakref.ref[Any], dict[Key, Outcome]] | None] = (
    contextvars.ContextVar("secretwire_omegaconf_verified", default=None)
)


def guarded(
    session: Session, read: Callable[[], Any], where: str = ""
) -> tuple[Any, BaseException | None]:
    """``read()`` in ``session``: its result, and the error to raise if it failed:
    the secret failures recorded; else, for an OmegaConf error, a failure at
    ``where`` naming only its type if it may quote a value read, or a copy of it
    without traceback (OmegaConf's frames hold what it resolved before)."""
    token = SESSION.set(session)
    try:
        return read(), (ResolutionError(session.failures) if session.failures else None)
    except Exception as err:  # noqa: BLE001 - OmegaConf raises many types; caller decides
        error: BaseException = err
    finally:
        SESSION.reset(token)
    if session.failures:
        return None, ResolutionError(session.failures)
    if _may_quote_a_value(error, session):
        return None, ResolutionError([_withheld(where, session, error)])
    return None, fresh(error)


def verified(node: Any, chain: Sequence[Any], read: Any, marker: str) -> dict[Key, Outcome]:
    """Replay the plain read that reached ``node``'s secret in a session; raise the
    clean error if it fails, else return what it fetched.

    ``chain`` lists the nodes OmegaConf is resolving, innermost first (``port: int =
    ${pw}`` reaches the secret through ``pw``, and fails in ``port``), ``read`` is
    that read's identity: its first resolver call replays it, the others use what
    was fetched. A read that cannot fail once the value is returned is not replayed.
    """
    if _cannot_fail(node, chain, marker):
        return {}
    last = _VERIFIED.get()
    if read is not None and last is not None and last[0]() is read:
        return last[1]
    outer = chain[-1] if chain else node
    session = Session()
    problem = guarded(session, lambda: dereference(outer), full_key(outer))[1]
    if problem is not None:
        raise problem from None
    fetched = session.fetched or {}
    if read is not None:  # kept while the read lasts, then emptied
        _VERIFIED.set((weakref.ref(read, lambda _: fetched.clear()), fetched))
    return fetched


def _cannot_fail(node: Any, chain: Sequence[Any], marker: str) -> bool:
    """Can nothing fail after ``node``'s secret is returned? So for one
    ``${secret:...}`` in a typed node of its own (the resolver tries the conversion
    first), read directly or through nodes that only pass it on: an untyped or
    ``str`` node whose text is exactly ``${<the inner node's key>}``."""
    text = raw_text(node) or ""
    spans = interpolations(text, marker)
    if len(spans) != 1 or not text.startswith(marker, spans[0][0]):
        return False
    nodes = require("omegaconf.nodes", EXTRA)
    inner = node
    for outer in chain:
        if outer is inner:
            continue
        plain = isinstance(outer, nodes.AnyNode | nodes.StringNode)
        if not plain or raw_text(outer) != "${" + full_key(inner) + "}":
            return False
        inner = outer
    return hasattr(node, "validate_and_convert")


def _may_quote_a_value(error: BaseException, session: Session) -> bool:
    """Could ``error``, raised after ``session`` read secrets, show one of them?

    A missing key or value is reported by key, so it is passed on unless its text
    holds a value read (``${${secret:x}}`` looks up a key named after it); any other
    error (a failed conversion, another resolver's) may quote what it was given.
    """
    if not session.values:
        return False
    errors = require("omegaconf.errors", EXTRA)
    if not isinstance(
        error, errors.InterpolationKeyError | errors.InterpolationToMissingValueError
    ):
        return True
    texts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(texts) < 100:
        texts += [str(seen), repr(seen), *map(repr, getattr(seen, "__dict__", {}).values())]
        seen = seen.__cause__ or seen.__context__
    return session.redactor.may_contain("\n".join(texts))


def _withheld(where: str, session: Session, error: BaseException) -> ResolutionFailure:
    """A failure in place of an OmegaConf ``error`` that may quote a secret's value."""
    refs = [ref for _, ref, _, defaulted in session.read if not defaulted]
    reason = (
        f"reading this node failed after it read a secret ({type(error).__name__}: "
        "not shown, OmegaConf's message can quote the value)"
    )
    cause: SecretwireError = ConfigError(reason)
    if isinstance(error, require("omegaconf.errors", EXTRA).ValidationError):
        cause = InvalidSecret(reason, name=refs[0].name)
    shown = ", ".join(dict.fromkeys(ref.format() for ref in refs))
    return ResolutionFailure(where, shown, reason, cause)


def fresh(error: BaseException) -> BaseException:
    """A copy of ``error`` without its traceback, cause or context."""
    try:
        copied = copy.copy(error)
    except Exception:  # noqa: BLE001 - an exception type that does not copy
        return ConfigError(f"{type(error).__name__}: {error}")
    copied.__traceback__ = copied.__cause__ = copied.__context__ = None
    copied.__suppress_context__ = True
    return copied


def interpolations(text: str, marker: str) -> list[tuple[int, int, bool]]:
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


# -- OmegaConf internals: each verified on OmegaConf 2.3.0 and 2.4.0 (the tests run both)
def root_of(cfg: Any) -> Any:
    """The root of ``cfg``'s config tree (``_get_root``), else ``cfg``."""
    with contextlib.suppress(Exception):
        return cfg._get_root()
    return cfg


def raw_text(node: Any) -> str | None:
    """The node's text as written (``_value()``), or None."""
    with contextlib.suppress(Exception):
        value = node._value()
        return value if isinstance(value, str) else None
    return None


def full_key(node: Any) -> str:
    """The node's dotted key, as OmegaConf's own messages show it (``_get_full_key``)."""
    with contextlib.suppress(Exception):
        return str(node._get_full_key(None) or "")
    return ""


def dereference(node: Any) -> Any:
    """Resolve ``node`` as a read of it does (``_dereference_node``; without it, no
    replay)."""
    return getattr(node, "_dereference_node", lambda: None)()


_READ_FRAME = "_resolve_interpolation_from_parse_tree"
#: Modules of error trackers that serialize the locals of a failed frame, iterating
#: any Mapping they find there (which resolves an OmegaConf config).
_REPORTERS = ("sentry_sdk.serializer",)


def read_context() -> tuple[list[Any], Any, bool]:
    """What reached the resolver call that calls this, from the call stack: the nodes
    OmegaConf is resolving, innermost first (the ``value`` of its
    ``_resolve_interpolation_from_parse_tree`` frames), the outermost read's
    identity (its ``memo`` set, made for each read; None if there is none), and
    whether an error tracker is serializing frame locals. OmegaConf has no public
    way to tell which read called a resolver."""
    chain: list[Any] = []
    read: Any = None
    reporting = False
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module in _REPORTERS:
            reporting = True
        elif frame.f_code.co_name == _READ_FRAME and module.startswith("omegaconf."):
            names = frame.f_locals
            if hasattr(names.get("value"), "_dereference_node"):  # else: the resolver's node
                chain.append(names["value"])
                read = names.get("memo")
        frame = frame.f_back
    return chain, read, reporting
