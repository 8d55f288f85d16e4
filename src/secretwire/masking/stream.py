"""Masking a stream (a child process's output) chunk by chunk, boundary-safe.

A value may arrive split over several chunks, down to one byte per write. The masker
therefore holds back the longest tail of what it has seen that is the beginning of a
registered form (as dotenvx's ``redactOutput`` does) and emits it once the next
chunk shows whether the value follows; a match that runs past that point is final
(nothing longer can start there) and is emitted masked. So the output is exactly the
leftmost-longest masking of the whole stream, whatever the chunking. What is held
back is never more than the longest form, and a stream that stops on the beginning
of a value shows that beginning only at its end (:meth:`StreamMasker.flush`).
"""

from __future__ import annotations

import codecs

from ._matchers import HEAD, Matcher
from ._redactor import Redactor

__all__ = ["ByteStreamMasker", "StreamMasker"]


class StreamMasker:
    """Masks text fed to it in chunks with ``redactor``'s values (see the module docstring)."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._pending = ""

    def feed(self, chunk: str) -> str:
        """The masked text that can be emitted now that ``chunk`` arrived."""
        text = self._pending + chunk
        matcher = self.redactor.matcher()
        cut = len(text) - _held(text, matcher)
        out: list[str] = []
        at = 0
        for start, end in matcher.spans(text):
            if start >= cut:
                break
            out += [text[at:start], self.redactor.mask]
            at = end
        cut = max(cut, at)  # a match running past the cut cannot grow: emit it
        out.append(text[at:cut])
        self._pending = text[cut:]
        return "".join(out)

    def flush(self) -> str:
        """The rest, masked: call it at the end of the stream."""
        text, self._pending = self._pending, ""
        return self.redactor.redact(text) if text else ""

    def __repr__(self) -> str:
        return f"<StreamMasker holding {len(self._pending)} characters>"


def _held(text: str, matcher: Matcher) -> int:
    """The length of the longest tail of ``text`` that begins a pattern."""
    heads = matcher.heads
    for start in range(max(0, len(text) - matcher.max_length), len(text)):
        if text[start : start + HEAD] in heads and matcher.is_prefix(text[start:]):
            return len(text) - start
    return 0


class ByteStreamMasker:
    """:class:`StreamMasker` over bytes: decoded as UTF-8 (a character split over
    chunks is held back too), any byte that is not UTF-8 passed through unchanged."""

    def __init__(self, redactor: Redactor) -> None:
        self._text = StreamMasker(redactor)
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")

    def feed(self, chunk: bytes) -> bytes:
        text = self._decoder.decode(chunk)
        return self._text.feed(text).encode("utf-8", "surrogateescape") if text else b""

    def flush(self) -> bytes:
        text = self._decoder.decode(b"", final=True)
        out = self._text.feed(text) + self._text.flush()
        return out.encode("utf-8", "surrogateescape")

    def __repr__(self) -> str:
        return "<ByteStreamMasker>"
