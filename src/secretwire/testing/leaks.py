"""Leak checks for tests: prove that no secret value or credential escapes.

:func:`assert_no_leak` looks everywhere an error travels once it leaves the
library: its message and ``repr``, its ``args``, every chained exception
(``__cause__`` and ``__context__``), notes, and the local variables of every frame
on every traceback in the chain, as ``traceback.TracebackException(...,
capture_locals=True)`` renders them and, when ``sentry_sdk`` is installed, as
Sentry's serializer captures them (error trackers record frame locals by default).

Frames of the file that calls :func:`assert_no_leak` (the test itself, which
naturally holds the canary) are left out; pass ``skip_files`` to leave out more.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = ["CANARY", "assert_no_leak", "error_texts", "exception_chain", "leak_texts"]

#: A value that must never appear in any message, repr or log. Tests look for it.
CANARY = "canary-7f3a9c-DO-NOT-LEAK-\u00e9\u2603"


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception it carries, each once: ``__cause__``,
    ``__context__``, an ``ExceptionGroup``'s members and the error of each failure
    of a :class:`~secretwire.ResolutionError`."""
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for linked in (item.__cause__, item.__context__):
            if linked is not None:
                todo.append(linked)
        for nested in getattr(item, "exceptions", ()) or ():  # ExceptionGroup
            if isinstance(nested, BaseException):
                todo.append(nested)
        for failure in getattr(item, "failures", ()) or ():  # ResolutionError
            nested = getattr(failure, "error", None)
            if isinstance(nested, BaseException):
                todo.append(nested)


def error_texts(error: BaseException) -> list[str]:
    """How every exception of :func:`exception_chain` reads: ``str``, ``repr``, its
    ``args``, notes and attributes (not frame locals: :func:`leak_texts` adds those)."""
    texts: list[str] = []
    for item in exception_chain(error):
        texts += [str(item), repr(item), repr(item.args)]
        texts += [str(note) for note in getattr(item, "__notes__", ())]
        texts += (
            [f"{k} = {v!r}" for k, v in vars(item).items()] if hasattr(item, "__dict__") else []
        )
    return texts


def _frame_locals(error: BaseException, skip: Callable[[str], bool]) -> Iterator[str]:
    exc = traceback.TracebackException(type(error), error, error.__traceback__, capture_locals=True)
    pending = [exc]
    seen: set[int] = set()
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        for frame in item.stack:
            if skip(frame.filename):
                continue
            for name, value in (frame.locals or {}).items():
                yield f"{frame.filename}:{frame.lineno} {frame.name}: {name} = {value}"
        for linked in (item.__cause__, item.__context__):
            if linked is not None:
                pending.append(linked)
        pending.extend(getattr(item, "exceptions", None) or ())


def _sentry_event(error: BaseException, skip: Callable[[str], bool]) -> Iterator[str]:
    try:
        from sentry_sdk.serializer import serialize  # noqa: PLC0415 - optional
        from sentry_sdk.utils import event_from_exception  # noqa: PLC0415
    except ImportError:  # pragma: no cover - sentry-sdk is a test dependency
        return
    event, _ = event_from_exception(
        error,
        client_options={
            "include_local_variables": True,
            "include_source_context": False,
            "max_value_length": 1_000_000,
        },
    )
    for exc in event.get("exception", {}).get("values", []):
        for frame in (exc.get("stacktrace") or {}).get("frames", []):
            if skip(str(frame.get("abs_path") or frame.get("filename") or "")):
                frame.pop("vars", None)
    yield json.dumps(serialize(dict(event)), ensure_ascii=False, default=repr)


def leak_texts(
    error: BaseException, *, skip_files: Iterable[str | Path] = (), _caller: str | None = None
) -> list[str]:
    """Every text through which ``error`` could show a value (see the module docs)."""
    skipped = {str(Path(p).resolve()) for p in skip_files}
    if _caller:
        skipped.add(str(Path(_caller).resolve()))

    def skip(filename: str) -> bool:
        try:
            return str(Path(filename).resolve()) in skipped
        except (OSError, ValueError):
            return False

    texts = error_texts(error)
    texts += list(_frame_locals(error, skip))
    texts += list(_sentry_event(error, skip))
    return texts


def _forms(secret: str) -> set[str]:
    """The secret as it may appear in a rendered text: raw, repr-escaped, JSON-escaped."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    return {form for form in forms if form}


def assert_no_leak(
    error: BaseException | object, *secrets: str, skip_files: Iterable[str | Path] = ()
) -> None:
    """Fail if any of ``secrets`` shows anywhere ``error`` can be rendered.

    ``error`` may also be any other object: then its ``str`` and ``repr`` are checked.
    """
    if not secrets:
        raise ValueError("assert_no_leak needs at least one secret to look for")
    caller = sys._getframe(1).f_code.co_filename
    if isinstance(error, BaseException):
        texts = leak_texts(error, skip_files=skip_files, _caller=caller)
    else:
        texts = [str(error), repr(error)]
    for secret in secrets:
        for form in _forms(secret):
            for text in texts:
                if form in text:
                    where = text.replace(form, "<LEAKED>")
                    raise AssertionError(f"a secret leaked through: {where[:2000]}")
