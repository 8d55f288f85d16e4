"""What the L2 cache puts in Redis: sealed entries and messages, and names that are MACs.

* **Key.** One 32-byte key (urlsafe base64, like the local store's and the audit
  trail's) that every process of an environment holds. Three keys are derived from
  it with HMAC-SHA256: the AES-256-GCM key, the key that turns names into Redis keys,
  and a public key id (which key check records and entries name).
* **Names.** A Redis key is ``<prefix><kind>:<32 hex>``, the hex an HMAC of
  (kind, environment, name, version): Redis shows no secret's name.
* **Sealed.** ``b"sw2" 0x01 | key id (8) | nonce (12) | AES-256-GCM ciphertext+tag``;
  the associated data is the header and (kind, environment, name, version), so an
  entry copied to another secret's key, or another environment's, does not open.
  The plaintext is canonical JSON: the secret's fields and value, or a "not found"
  answer, with the name's epoch (what invalidation replaces) and the entry's fresh and
  stale milliseconds.

No function here raises with plaintext in a frame: :func:`open_entry` and
:func:`open_message` return ``None`` for anything that does not open or parse, and
the caller raises the typed error (:mod:`secretwire.l2.errors`).
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ConfigError, SecretNotFound
from ..security.files import loose_mode
from ..security.store_format import KEY_BYTES, key_from_text
from ..types import Secret
from ..values import SecretValue

__all__ = ["Entry", "L2Key", "load_key", "open_entry", "open_message", "seal_entry", "seal_message"]

_MAGIC = b"sw2\x01"
_KID = 8
_NONCE = 12
_HEADER = len(_MAGIC) + _KID + _NONCE
#: The largest sealed entry read or written (a backend's values are far smaller).
MAX_SEALED = 1024 * 1024
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=True)


def _canonical(value: Any) -> bytes:
    return _ENCODER.encode(value).encode("ascii")


@final
class L2Key:
    """The derived keys; the repr shows the public key id only, and it refuses to be
    pickled."""

    __slots__ = ("_aead", "_names", "kid")

    def __init__(self, material: bytes) -> None:
        if len(material) != KEY_BYTES:
            raise ValueError(f"an l2 key is {KEY_BYTES} bytes")
        self._aead = AESGCM(hmac.digest(material, b"secretwire l2: aes-256-gcm", "sha256"))
        self._names = hmac.new(
            hmac.digest(material, b"secretwire l2: names", "sha256"), digestmod="sha256"
        )
        #: A public id of the key: check records and entries name it.
        self.kid = hmac.digest(material, b"secretwire l2: key id", "sha256")[:_KID]

    def name(self, *parts: str | None) -> str:
        """32 hex digits: the MAC of ``parts``; nobody without the key can tell the
        parts from it, or make the name of other parts."""
        mac = self._names.copy()
        mac.update(_canonical(parts))
        return mac.hexdigest()[:32]

    def seal(self, plaintext: bytes, context: tuple[str | None, ...]) -> bytes:
        nonce = os.urandom(_NONCE)
        head = _MAGIC + self.kid + nonce
        return head + self._aead.encrypt(nonce, plaintext, head + _canonical(context))

    def open(self, sealed: bytes, context: tuple[str | None, ...]) -> bytes | None:
        """The plaintext, or ``None``: not sealed by this key for this ``context``."""
        if len(sealed) <= _HEADER or len(sealed) > MAX_SEALED or not sealed.startswith(_MAGIC):
            return None
        head = sealed[:_HEADER]
        try:
            return self._aead.decrypt(head[-_NONCE:], sealed[_HEADER:], head + _canonical(context))
        except InvalidTag:
            return None

    def sealed_by_other(self, sealed: bytes) -> bool:
        """Whether ``sealed`` names another key id than this key's."""
        return sealed.startswith(_MAGIC) and sealed[len(_MAGIC) : len(_MAGIC) + _KID] != self.kid

    def __repr__(self) -> str:
        return f"<L2Key kid={self.kid.hex()}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("l2 keys refuse to be pickled")


def load_key(
    *,
    key_file: str | None,
    key_env: str | None,
    key: object,
    base_dir: Path,
    source: str,
    at: str,
    environ: Mapping[str, str] | None = None,
) -> L2Key:
    """The key from a file (mode 0600), a variable, or a resolved ``${secret:...}``
    (``key``, a :class:`SecretValue`); a :class:`ConfigError` naming the settings key
    ``at.key_file`` (``key_env``, ``key``) and never a byte of the key otherwise (the
    key's text stays in :func:`_key_of`, which never raises)."""
    option = "key_file" if key_file is not None else "key_env" if key_env is not None else "key"
    found = _key_of(key_file, key_env, key, base_dir, environ)
    if isinstance(found, str):
        raise ConfigError(found, source=source, key=f"{at}.{option}")
    return found


def _key_of(
    key_file: str | None,
    key_env: str | None,
    key: object,
    base_dir: Path,
    environ: Mapping[str, str] | None,
) -> L2Key | str:
    """The key, or why there is none."""
    if key_file is not None:
        path = base_dir / key_file
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as err:
            return f"{path}: cannot read ({getattr(err, 'strerror', None) or type(err).__name__})"
        mode = loose_mode(path)
        if mode is not None:
            return f"{path}: mode {mode:o} lets others read it; chmod 600 it"
    elif key_env is not None:
        text = (os.environ if environ is None else environ).get(key_env, "")
        if not text:
            return f"variable {key_env} is not set"
    else:
        text = key.reveal() if isinstance(key, SecretValue) else ""
    found = key_from_text(text)
    return f"not an l2 key: {found}" if isinstance(found, str) else L2Key(found.reveal())


@dataclass(frozen=True, slots=True)
class Entry:
    """An opened entry: a secret, or the "not found" error it stands for."""

    outcome: Secret | SecretNotFound
    epoch: str
    fresh_ms: int
    stale_ms: int


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def seal_entry(
    key: L2Key,
    place: tuple[str, str, str | None],
    outcome: Secret | SecretNotFound,
    *,
    epoch: str,
    fresh_ms: int,
    stale_ms: int,
) -> bytes:
    """``outcome`` sealed for its ``place``: (environment, name, version)."""
    body: dict[str, Any] = {"epoch": epoch, "fresh": fresh_ms, "stale": stale_ms}
    if isinstance(outcome, SecretNotFound):
        body["absent"] = {
            field: getattr(outcome, field)
            for field in ("operation", "provider", "code", "detail", "endpoint", "hint")
        }
    else:
        body["secret"] = {
            "value": outcome.value.reveal(),
            "version": outcome.version,
            "created_at": _when(outcome.created_at),
            "updated_at": _when(outcome.updated_at),
            "expires_at": _when(outcome.expires_at),
            "not_before": _when(outcome.not_before),
            "metadata": dict(outcome.metadata),
            "tags": dict(outcome.tags),
            "provider": outcome.provider,
        }
    return key.seal(_canonical(body), ("entry", *place))


def open_entry(key: L2Key, sealed: bytes, place: tuple[str, str, str | None]) -> Entry | None:
    """The entry sealed for ``place`` (environment, name, version), or ``None`` if it
    does not open or parse."""
    body = _parsed(key.open(sealed, ("entry", *place)))
    try:
        return None if body is None else _entry(body, place[1], place[2])
    except (TypeError, ValueError, KeyError):
        return None


def _parsed(plaintext: bytes | None) -> dict[str, Any] | None:
    if plaintext is None:
        return None
    try:
        body = json.loads(plaintext)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _date(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _texts(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError("not a mapping of strings")
    return value


def _entry(body: dict[str, Any], name: str, version: str | None) -> Entry | None:
    epoch, fresh, stale = body["epoch"], body["fresh"], body["stale"]
    if not isinstance(epoch, str) or not isinstance(fresh, int) or not isinstance(stale, int):
        return None
    absent = body.get("absent")
    if isinstance(absent, dict):
        fields = {k: v for k, v in absent.items() if isinstance(v, str)}
        return Entry(SecretNotFound(name=name, version=version, **fields), epoch, fresh, stale)
    data = body["secret"]
    if not isinstance(data["value"], str):
        return None
    secret = Secret(
        name=name,
        value=SecretValue(data["value"]),
        version=data["version"],
        created_at=_date(data["created_at"]),
        updated_at=_date(data["updated_at"]),
        expires_at=_date(data["expires_at"]),
        metadata=_texts(data["metadata"]),
        tags=_texts(data["tags"]),
        provider=data["provider"],
        not_before=_date(data["not_before"]),
    )
    return Entry(secret, epoch, fresh, stale)


def seal_message(key: L2Key, environment: str, name: str, origin: str, sent: float) -> bytes:
    """An invalidation of ``name``, from process ``origin``, sent at wall time ``sent``."""
    body = {"name": name, "origin": origin, "sent": sent}
    return key.seal(_canonical(body), ("invalidate", environment))


def open_message(key: L2Key, environment: str, sealed: bytes) -> tuple[str, str, float] | None:
    """``(name, origin, sent)`` of an invalidation, or ``None``."""
    body = _parsed(key.open(sealed, ("invalidate", environment)))
    if body is None:
        return None
    name, origin, sent = body.get("name"), body.get("origin"), body.get("sent")
    if isinstance(name, str) and isinstance(origin, str) and isinstance(sent, int | float):
        return name, origin, float(sent)
    return None
