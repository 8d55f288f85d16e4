"""Values in and out: stdin or a hidden prompt as UTF-8, stdout as UTF-8 bytes.

No frame here keeps a value on an error path: the text is deleted before raising.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from ..errors import ConfigError, InvalidSecret
from ..values import SecretValue

__all__ = ["read_value"]


def read_value(stdin: TextIO, *, prompt: Callable[[str], str] | None = None) -> SecretValue:
    """A value from stdin (one trailing newline dropped) or, on a terminal, a hidden
    prompt. Stdin is read as bytes and decoded as UTF-8 whatever the locale; input
    that is not UTF-8 is an :class:`InvalidSecret` naming the byte offset. ``prompt``
    defaults to :func:`getpass.getpass`."""
    if stdin.isatty():
        if prompt is None:
            import getpass  # noqa: PLC0415 - only for a terminal

            prompt = getpass.getpass
        first = SecretValue(_utf8(_locale_bytes(prompt("Value (hidden): "))))
        again = SecretValue(_utf8(_locale_bytes(prompt("Repeat value: "))))
        if first != again:
            raise ConfigError("the two values differ; nothing stored")
        return first
    buffer = getattr(stdin, "buffer", None)
    value = _utf8(buffer.read() if buffer is not None else _locale_bytes(stdin.read()))
    if value.endswith("\r\n"):
        return SecretValue(value[:-2])
    return SecretValue(value[:-1] if value.endswith("\n") else value)


def _locale_bytes(text: str) -> bytes:
    """The bytes behind text Python decoded with surrogate escapes (a strict locale)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        pass  # a surrogate that is no escaped byte: kept, and refused by _utf8
    return text.encode("utf-8", "surrogatepass")


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        offset = err.start
    # Raised outside the handler and after ``del``: the UnicodeDecodeError and this
    # frame both hold the input, which is the value.
    del data
    raise InvalidSecret(
        f"the value is not valid UTF-8 text (invalid byte at offset {offset}); nothing stored"
    )


def _write_out(data: bytes) -> None:
    """``data`` (from :func:`_utf8_out`) on stdout, whatever the locale."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


def _utf8_out(text: str, what: str) -> bytes:
    """``text`` as UTF-8: ``get`` and ``list`` print data, not locale text."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:
        offset = err.start
    del text  # the frame that raises holds no value
    raise InvalidSecret(
        f"cannot print {what}: not valid Unicode text (a lone surrogate at character "
        f"{offset}, stored by an older secretwire?)"
    )
