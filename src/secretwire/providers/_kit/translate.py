"""Backend outcomes to secretwire errors: :func:`call` and the chain diggers.

Every backend SDK call goes through :func:`call`::

    secret = call(lambda: client.read(path), _translate, operation="get", name=name)

``_translate(err, context)`` is the provider's one translation function, mostly a
table (exception type / status / error code -> error class and detail; see
:func:`from_table`). :func:`call` raises the translated error *after* its ``except``
block: the error has neither ``__cause__`` nor ``__context__`` (the SDK's exception
holds the request, and so perhaps a value or a credential), and its traceback
starts at :func:`call`'s frame (the SDK's frames, whose locals hold the request,
are on no traceback).

Under a deadline (:mod:`secretwire.deadlines`) :func:`call` starts no call once it
has passed, and an outage reported after it passed is :class:`DeadlineExceeded`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from ... import deadlines
from ...errors import ProviderError, ProviderUnavailable, SecretwireError

__all__ = [
    "Translator",
    "call",
    "exception_chain",
    "from_table",
    "os_reason",
    "ssl_reason",
    "timed_out",
]

T = TypeVar("T")

#: ``(the SDK's exception, call's context) -> the error to raise``, or ``None`` when
#: the exception is no backend outcome (then :func:`call` raises a bare
#: :class:`ProviderError` naming only the exception's type).
Translator = Callable[[Exception, Mapping[str, Any]], SecretwireError | None]


def call(fn: Callable[[], T], translate: Translator, /, **context: Any) -> T:
    """``fn()``, with any exception it raises translated by ``translate``.

    ``context`` (``operation=``, ``name=``, ``version=``...: the error's fields) is
    passed to ``translate``. A :class:`~secretwire.errors.SecretwireError` raised
    inside ``fn`` passes through unchanged. An exception ``translate`` does not
    recognise becomes a :class:`ProviderError` that names only its type, with the
    original on ``.original`` (off the chain; ``secretwire --debug`` shows it).
    Past the deadline in force, nothing is called and :class:`DeadlineExceeded` is
    raised; an unavailable backend reported after it passed is that error too.
    """
    fields = {key: context.get(key) for key in ("operation", "name", "version", "provider")}
    deadlines.check(**fields)
    failure: SecretwireError
    try:
        return fn()
    except SecretwireError:
        raise
    except Exception as err:  # noqa: BLE001 - translated, raised below without it
        translated = translate(err, context)
        if translated is None:
            translated = ProviderError(
                detail=f"failed unexpectedly ({type(err).__name__})", **fields
            )
            translated.original = err
        elif isinstance(translated, ProviderUnavailable) and deadlines.expired():
            known = {key: getattr(translated, key) or fields.get(key) for key in fields}
            translated = deadlines.exceeded(endpoint=translated.endpoint, **known)
        failure = translated
    # Outside the except block: no __context__, and the traceback starts here.
    raise failure


def from_table(
    err: BaseException,
    table: Sequence[
        tuple[type[BaseException] | tuple[type[BaseException], ...], type[ProviderError], str]
    ],
    **fields: Any,
) -> ProviderError | None:
    """The first row of ``table`` whose exception type(s) ``err`` is an instance of,
    as an error: ``(exception types, error class, detail)``; ``None`` if none fits.
    ``{type}`` in the detail is the exception's class name."""
    for types, error, detail in table:
        if isinstance(err, types):
            return error(detail=detail.format(type=type(err).__name__), **fields)
    return None


def exception_chain(err: BaseException, *, context: bool = True) -> Iterator[BaseException]:
    """``err`` and every exception behind it, depth first: exceptions among its
    ``args`` (urllib3 and requests wrap them so), its ``reason`` attribute (urllib3),
    its ``inner_exception`` (azure-core), and with ``context`` its ``__cause__`` and
    ``__context__``. Each is yielded once."""
    seen: set[int] = set()
    stack: list[BaseException] = [err]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if context:
            stack.extend(e for e in (current.__context__, current.__cause__) if e is not None)
        for attribute in ("reason", "inner_exception"):
            nested = getattr(current, attribute, None)
            if isinstance(nested, BaseException):
                stack.append(nested)
        stack.extend(arg for arg in reversed(current.args) if isinstance(arg, BaseException))


def ssl_reason(err: BaseException) -> str:
    """Why a TLS handshake failed, from the ``ssl`` error behind ``err``:
    ``certificate verification failed (...)``, ``TLS error (...)``, or ``TLS error``."""
    import ssl  # noqa: PLC0415 - ~8 ms; an SDK that spoke TLS has loaded it already

    for current in exception_chain(err):
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"certificate verification failed ({current.verify_message})"
        if isinstance(current, ssl.SSLError):
            return f"TLS error ({current.reason or type(current).__name__})"
    return "TLS error"


def os_reason(err: BaseException) -> str:
    """The operating system's words for the failure behind ``err`` (``Connection
    refused``), or the exception's type name."""
    for current in exception_chain(err):
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
    return type(err).__name__


def timed_out(
    err: BaseException,
    *,
    timeouts: tuple[type[BaseException], ...] = (TimeoutError,),
    excluded: tuple[type[BaseException], ...] = (),
) -> bool:
    """Whether a timeout (one of ``timeouts``) is behind ``err`` (a retry layer turns
    a read timeout into a connection error). An ``excluded`` type met first says no
    (urllib3's ``NewConnectionError`` is a ``ConnectTimeoutError`` for history)."""
    for current in exception_chain(err, context=False):
        if isinstance(current, excluded):
            return False
        if isinstance(current, timeouts):
            return True
    return False
