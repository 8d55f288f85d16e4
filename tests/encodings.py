"""A value in every encoding secretwire masks and scans for, and decoders that recover it.

``samples(value)`` gives texts that hold ``value`` as an application would write it
(raw, in a JSON document, in a ``repr``, base64 and base64url at each offset inside a
longer encoded text, URL-encoded, hex); ``recovered(text, value)`` names each decoder
that still finds ``value`` in ``text``. The decoders are written here, independently of
``secretwire.masking._forms``: a test that masks or scans a sample and then finds
``recovered(...) == []`` shows the value cannot be read back by any of them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus

ENCODING_NAMES = ("raw", "json", "base64", "base64url", "url", "hex")


def samples(value: str) -> dict[str, str]:
    """Label -> a text holding ``value``; each label starts with its encoding's name."""
    data = value.encode("utf-8")
    out = {
        "raw": f"connecting with password={value} now",
        "json-ascii": json.dumps({"password": value}),
        "json-utf8": json.dumps({"password": value}, ensure_ascii=False),
        "json-repr": f"config={ {'password': value}!r}",
        "url-quote": f"https://h/cb?token={quote(value, safe='')}&x=1",
        "url-plus": f"form: a=1&token={quote_plus(value)}",
        "url-lower": "q=" + re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(value)),
        "hex-lower": f"dump 00ff{data.hex()}ee11",
        "hex-upper": f"DUMP {data.hex().upper()}",
    }
    for prefix in (b"", b"u", b"us", b"user:"):
        for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            text = encode(prefix + data + b"\x00tail").decode("ascii")
            out[f"{name}-after-{len(prefix)}-bytes"] = f"Authorization: Basic {text}"
    out["base64-alone"] = base64.b64encode(data).decode("ascii")
    return out


def encoding_of(label: str) -> str:
    name = label.split("-", maxsplit=1)[0]
    return {"json": "json"}.get(name, name)


_B64_RUN = re.compile(r"[A-Za-z0-9+/_=-]{4,}")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{2,}")


def recovered(text: str, value: str) -> list[str]:
    """The decoders that find ``value`` in ``text`` (empty: none does)."""
    data = value.encode("utf-8")
    found = []
    if value in text:
        found.append("raw")
    if value in unquote(text) or value in unquote_plus(text):
        found.append("url")
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    if value in _unescape(escaped):
        found.append("json/repr escapes")
    for run in _B64_RUN.findall(text):
        standard = run.replace("-", "+").replace("_", "/").rstrip("=")
        for shift in range(4):
            part = standard[shift:]
            part = part[:-1] if len(part) % 4 == 1 else part + "=" * (-len(part) % 4)
            try:
                decoded = base64.b64decode(part, validate=False)
            except (binascii.Error, ValueError):
                continue
            if data in decoded:
                found.append("base64")
                break
    for run in _HEX_RUN.findall(text):
        for shift in (0, 1):
            part = run[shift:]
            part = part[: len(part) - len(part) % 2]
            if data in binascii.unhexlify(part):
                found.append("hex")
                break
    return found


def _unescape(text: str) -> str:
    r"""``\uXXXX``, ``\xNN``, ``\\`` and ``\"`` escapes decoded (the ones JSON and repr write)."""

    def one(match: re.Match[str]) -> str:
        body = match.group(0)[1:]
        if body[0] in "ux":
            return chr(int(body[1:], 16))
        return body

    decoded = re.sub(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", one, text)
    # a non-BMP character JSON wrote as a surrogate pair
    return decoded.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
