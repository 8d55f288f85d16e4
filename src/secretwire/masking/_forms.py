"""The encoded forms of a value: the texts under which it is masked and scanned for.

One place lists the encodings (:data:`ENCODINGS`); :class:`~secretwire.Redactor` masks
every form and :mod:`secretwire.leakscan` fingerprints every form, so the two agree.

Base64 is the subtle one: a value inside a longer base64 text (``user:password`` in
an HTTP ``Authorization: Basic`` header, a value in an encoded JSON document) is
encoded differently depending on its offset modulo 3. So for each of the three
offsets the form is the run of base64 characters that depend on the value's bytes
alone (the ones straddling the bytes before or after it are left out); the text of
the whole value encoded alone, with its padding, is a form too.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from urllib.parse import quote, quote_plus

__all__ = ["ENCODINGS", "MIN_ENCODED_LENGTH", "encoded_forms"]

#: Every encoding a value is masked and scanned in.
ENCODINGS = ("raw", "json", "base64", "base64url", "url", "hex")

#: Encoded forms (base64, hex, URL) are used for values of at least this many
#: characters, whatever a redactor's own minimum: the base64 of a 1-character value
#: is a single character, which would match everywhere.
MIN_ENCODED_LENGTH = 4

_PERCENT = re.compile("%[0-9A-F]{2}")


def _escaped(value: str) -> set[str]:
    """The value inside a Python or JSON string literal."""
    return {
        repr(value)[1:-1],
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }


def _base64(data: bytes, encode: Callable[[bytes], bytes]) -> set[str]:
    """The value encoded alone, and the characters that depend on its bytes alone at
    each of the three offsets it can have inside a longer encoded text."""
    forms = {encode(data).decode("ascii")}
    for offset in range(3):
        text = encode(b"\0" * offset + data).decode("ascii")
        first = -(-8 * offset // 6)  # the first character made of the value's bits only
        end = 8 * (offset + len(data)) // 6
        forms.add(text[first:end])
    return forms


def _url(value: str) -> set[str]:
    forms = set()
    for encode in (quote, quote_plus):
        for safe in ("", "/"):
            text = encode(value, safe=safe)
            forms.add(text)
            # The same with lower-case hex digits (%2f), which some encoders write.
            forms.add(_PERCENT.sub(lambda m: m.group(0).lower(), text))
    return forms


def encoded_forms(value: str) -> dict[str, str]:
    """Each form of ``value`` (a text that shows it) mapped to its encoding's name (one
    of :data:`ENCODINGS`; a form two encodings share is named by the first). Forms of
    the encodings other than ``raw`` and ``json`` only for a value of at least
    :data:`MIN_ENCODED_LENGTH` characters. A value that is not valid Unicode text (a
    lone surrogate) has only its raw and escaped forms."""
    forms: dict[str, str] = {value: "raw"}
    for form in _escaped(value):
        forms.setdefault(form, "json")
    if len(value) < MIN_ENCODED_LENGTH:
        return forms
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:
        return forms
    encoded = {
        "base64": _base64(data, base64.b64encode),
        "base64url": _base64(data, base64.urlsafe_b64encode),
        "url": _url(value),
        "hex": {binascii.hexlify(data).decode("ascii"), data.hex().upper()},
    }
    for encoding, texts in encoded.items():
        for form in texts:
            if form:
                forms.setdefault(form, encoding)
    return forms
