"""The encrypted store's file format: envelope, header, key derivation, AES-256-GCM.

File layout::

    b"SWSTORE1" | header length (4 bytes, big-endian) | header JSON | nonce (12) | ciphertext

The header is JSON: ``{"cipher": "AES-256-GCM", "format": 1, "kdf": {...},
"key_check": ...}``, where ``kdf`` is ``{"name": "raw"}`` (the key is used as is) or
``{"name": "scrypt", "salt": ..., "n": ..., "r": ..., "p": ...}`` (the key is derived
from a passphrase), and ``key_check`` is the first 16 bytes of HMAC-SHA256(key,
``"secretwire key check"``), which tells a wrong key apart from a damaged file. The
magic, the length and the header are the associated data of the encryption, so no
byte of them can change unnoticed. The ciphertext holds one JSON value (the file
provider's :class:`~secretwire.providers._store.VersionedDocument`), encrypted under a
fresh random 96-bit nonce on every write.

This module sees plaintext only inside frames that return normally: :func:`seal`
takes the payload as an argument, and :meth:`Envelope.open` hands what it decrypted
to the caller's ``parse`` and returns the result. Bytes that are no store it can
open raise :class:`FormatError`, whose reason quotes no byte of them. Keys are
:class:`StoreKey`, whose repr shows nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, NoReturn, TypeVar, final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

__all__ = [
    "KEY_BYTES",
    "MAX_SCRYPT_N",
    "Envelope",
    "FormatError",
    "Kdf",
    "StoreKey",
    "key_from_text",
    "key_text",
    "nonce_of",
    "read_head",
    "seal",
]

T = TypeVar("T")

MAGIC = b"SWSTORE1"
FORMAT = 1
CIPHER = "AES-256-GCM"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
SALT_BYTES = 16
KEY_CHECK_BYTES = 16
MAX_HEADER_BYTES = 64 * 1024
MAX_SCRYPT_N = 2**20
_MAX_SCRYPT_MEMORY = 2**30  # bytes; bounds what a modified header can make us allocate
_KEY_CHECK_LABEL = b"secretwire key check"
_PREFIX = len(MAGIC) + 4


class FormatError(Exception):
    """The bytes are no store this module can open; the message says why and quotes
    no byte of them."""


@final
class StoreKey:
    """Key material (a raw key or a passphrase) that shows no bytes in a repr, so no
    frame on an error path shows it either."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def reveal(self) -> bytes:
        return self._data

    def __repr__(self) -> str:
        return "<store key>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreKey) and hmac.compare_digest(self._data, other._data)

    def __hash__(self) -> int:
        return hash((StoreKey, self._data))

    def __reduce__(self) -> NoReturn:
        raise TypeError("store keys refuse to be pickled")


def key_from_text(text: str) -> StoreKey | str:
    """The key a urlsafe base64 text encodes (whitespace and missing padding are
    tolerated), or why it encodes none. Never raises, so the text (a key, or nearly
    one) is on no traceback."""
    cleaned = "".join(text.split())
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        key = base64.b64decode(cleaned.encode("ascii"), altchars=b"-_", validate=True)
    except (ValueError, binascii.Error):
        return "is not valid urlsafe base64"
    if len(key) != KEY_BYTES:
        return f"must decode to {KEY_BYTES} bytes, not {len(key)}"
    return StoreKey(key)


def key_text(key: StoreKey) -> str:
    """``key`` as a key file holds it: urlsafe base64."""
    return base64.urlsafe_b64encode(key.reveal()).decode("ascii")


def _b64_field(data: Mapping[str, Any], key: str) -> bytes:
    text = data.get(key)
    if isinstance(text, str):
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except (ValueError, binascii.Error):
            pass
    raise FormatError(f"header field {key!r} is missing or not base64")


def _small_int(data: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = data.get(key)
    if type(value) is not int or not low <= value <= high:
        raise FormatError(f"scrypt parameter {key!r} is missing or out of range")
    return value


@dataclass(frozen=True, slots=True)
class Kdf:
    """How the store key is obtained: used as is ("raw") or derived with scrypt."""

    name: str
    salt: bytes = b""
    n: int = 0
    r: int = 8
    p: int = 1

    @classmethod
    def new(cls, *, scrypt_n: int | None) -> Kdf:
        """For a new store: raw, or scrypt with ``scrypt_n`` and a fresh random salt."""
        if scrypt_n is None:
            return cls("raw")
        return cls("scrypt", salt=os.urandom(SALT_BYTES), n=scrypt_n, r=8, p=1)

    @property
    def passphrase(self) -> bool:
        """Whether the key is derived from a passphrase."""
        return self.name == "scrypt"

    def key(self, material: StoreKey) -> StoreKey:
        """The store key from ``material`` (a raw key, or a passphrase to derive from)."""
        if not self.passphrase:
            return material
        scrypt = Scrypt(salt=self.salt, length=KEY_BYTES, n=self.n, r=self.r, p=self.p)
        return StoreKey(scrypt.derive(material.reveal()))

    def to_header(self) -> dict[str, object]:
        if not self.passphrase:
            return {"name": "raw"}
        salt = base64.b64encode(self.salt).decode("ascii")
        return {"name": "scrypt", "salt": salt, "n": self.n, "r": self.r, "p": self.p}

    @classmethod
    def from_header(cls, header: Mapping[str, Any]) -> Kdf:
        kdf = header.get("kdf")
        if not isinstance(kdf, dict):
            raise FormatError("header has no 'kdf' object")
        if kdf.get("name") == "raw":
            return cls("raw")
        if kdf.get("name") != "scrypt":
            raise FormatError("header names an unsupported key derivation")
        salt = _b64_field(kdf, "salt")
        n = _small_int(kdf, "n", 2, MAX_SCRYPT_N)
        r = _small_int(kdf, "r", 1, 32)
        p = _small_int(kdf, "p", 1, 16)
        if n & (n - 1) or 128 * n * r * p > _MAX_SCRYPT_MEMORY or len(salt) < 8:
            raise FormatError("scrypt parameters are not acceptable")
        return cls("scrypt", salt=salt, n=n, r=r, p=p)


def _key_check(key: StoreKey) -> bytes:
    return hmac.new(key.reveal(), _KEY_CHECK_LABEL, hashlib.sha256).digest()[:KEY_CHECK_BYTES]


def _header_bytes(kdf: Kdf, key: StoreKey) -> bytes:
    header = {
        "format": FORMAT,
        "cipher": CIPHER,
        "kdf": kdf.to_header(),
        "key_check": base64.b64encode(_key_check(key)).decode("ascii"),
    }
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def seal(kdf: Kdf, key: StoreKey, payload: object) -> bytes:
    """The store file holding ``payload`` (a JSON value), encrypted under ``key``
    (obtained through ``kdf``) and a fresh random nonce."""
    header = _header_bytes(kdf, key)
    aad = MAGIC + len(header).to_bytes(4, "big") + header
    nonce = os.urandom(NONCE_BYTES)
    # ensure_ascii keeps any str (lone surrogates included) encodable.
    plaintext = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("ascii")
    return aad + nonce + AESGCM(key.reveal()).encrypt(nonce, plaintext, aad)


def _parsed(plaintext: bytes, parse: Callable[[object], T | None]) -> T | None:
    """``parse`` of the decrypted JSON, or ``None``. Never raises: a JSON error quotes
    the text, and this frame holds it."""
    try:
        return parse(json.loads(plaintext.decode("utf-8")))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None


def _header_object(text: bytes) -> dict[str, Any]:
    problem = None
    try:
        header = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError):
        problem = "header is not valid JSON"
    if problem is None and not isinstance(header, dict):
        problem = "header is not a JSON object"
    if problem is not None:  # outside the except block: the JSON error quotes the text
        raise FormatError(problem)
    return header  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Envelope:
    """A store file taken apart (checked up to what the key is needed for)."""

    aad: bytes
    kdf: Kdf
    key_check: bytes
    nonce: bytes
    ciphertext: bytes

    @classmethod
    def parse(cls, data: bytes) -> Envelope:
        """Take ``data`` apart. Raises :class:`FormatError`."""
        if len(data) < _PREFIX or not data.startswith(MAGIC):
            raise FormatError("not a secretwire store (bad magic or truncated)")
        length = int.from_bytes(data[len(MAGIC) : _PREFIX], "big")
        end = _PREFIX + length
        if not 0 < length <= MAX_HEADER_BYTES or len(data) < end + NONCE_BYTES + TAG_BYTES:
            raise FormatError("bad header length or truncated file")
        header = _header_object(data[_PREFIX:end])
        fmt = header.get("format")
        if type(fmt) is not int or fmt != FORMAT:
            raise FormatError(f"unsupported store format {str(fmt)[:20]!r}")
        if header.get("cipher") != CIPHER:
            raise FormatError("unsupported cipher")
        kdf = Kdf.from_header(header)
        check = _b64_field(header, "key_check")
        nonce_end = end + NONCE_BYTES
        return cls(data[:end], kdf, check, data[end:nonce_end], data[nonce_end:])

    def opens_with(self, key: StoreKey) -> bool:
        """Whether ``key`` matches the header's key check."""
        return hmac.compare_digest(_key_check(key), self.key_check)

    def open(self, key: StoreKey, parse: Callable[[object], T | None]) -> T | str:
        """``parse`` of the decrypted JSON value, or why there is none (the file was
        changed, or ``parse`` refused it: ``None``). ``parse`` must not raise. The
        plaintext lives only in this frame and :func:`_parsed`'s, which return."""
        try:
            plaintext = AESGCM(key.reveal()).decrypt(self.nonce, self.ciphertext, self.aad)
        except InvalidTag:
            return "authentication failed (the file was modified or truncated)"
        found = _parsed(plaintext, parse)
        if found is None:
            return "the decrypted contents are not a valid store document"
        return found


def read_head(handle: BinaryIO) -> bytes:
    """The start of a store file up to and including the nonce (less if it is none):
    enough for :func:`nonce_of`."""
    head = handle.read(_PREFIX)
    if len(head) == _PREFIX and head.startswith(MAGIC):
        length = int.from_bytes(head[len(MAGIC) :], "big")
        if length <= MAX_HEADER_BYTES:
            head += handle.read(length + NONCE_BYTES)
    return head


def nonce_of(data: bytes) -> bytes:
    """The nonce of a store file's bytes (or of its :func:`read_head`); fresh on every
    write, it tells two versions of the file apart."""
    start = _PREFIX + int.from_bytes(data[len(MAGIC) : _PREFIX], "big")
    return data[start : start + NONCE_BYTES]
