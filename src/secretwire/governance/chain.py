"""The trail's format: JSON lines, each with a keyed MAC and the previous line's hash.

A record is one line of canonical JSON (sorted keys, no spaces, ASCII) of its
fields plus ``seq`` (1, 2, 3... over the whole file) and ``prev`` (the SHA-256 of
the previous line, :data:`GENESIS` for the first), followed by ``"mac"``: the
HMAC-SHA256 of that JSON under a key derived from the trail's key. A checkpoint is
a record of ``"kind": "checkpoint"``; the one a writer leaves when it closes the
trail has ``"final": true``.

:func:`verify_trail` re-derives every MAC and link, so a changed byte, a removed,
moved or inserted record, or a trail cut short is reported with its line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, final

from ..errors import ConfigError
from ..security.files import loose_mode
from .errors import AuditError, AuditTrailInvalid

__all__ = [
    "GENESIS",
    "AuditKey",
    "Head",
    "TrailReport",
    "chain_lines",
    "head_of",
    "load_key",
    "verify_stream",
    "verify_trail",
]

#: ``prev`` of the first record of a trail.
GENESIS = "0" * 64
#: The longest line the verifier reads (bounded memory on a hostile file).
MAX_LINE = 64 * 1024
KEY_BYTES = 32


@final
class AuditKey:
    """The trail's key (32 bytes). It derives the record MAC key and the key that
    hashes names; its ``repr`` shows neither, and it refuses to be pickled."""

    __slots__ = ("_mac", "_names", "kid")

    def __init__(self, material: bytes) -> None:
        if len(material) != KEY_BYTES:
            raise ValueError(f"an audit key is {KEY_BYTES} bytes")
        self._mac = hmac.new(
            hmac.digest(material, b"secretwire audit: record mac", "sha256"), digestmod="sha256"
        )
        self._names = hmac.digest(material, b"secretwire audit: names", "sha256")
        #: A public id of the key, written in checkpoints (which key sealed the trail).
        self.kid = hashlib.sha256(b"secretwire audit key id" + material).hexdigest()[:16]

    @classmethod
    def generate(cls) -> tuple[AuditKey, str]:
        """A new random key and its text (urlsafe base64, what a key file holds)."""
        material = secrets.token_bytes(KEY_BYTES)
        return cls(material), base64.urlsafe_b64encode(material).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> AuditKey | None:
        """The key urlsafe base64 ``text`` encodes, or ``None``. Never raises, so
        the text (a key, or nearly one) is on no traceback."""
        cleaned = "".join(text.split())
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            material = base64.b64decode(cleaned.encode("ascii"), altchars=b"-_", validate=True)
        except (ValueError, binascii.Error):
            return None
        return cls(material) if len(material) == KEY_BYTES else None

    def mac(self, data: bytes) -> str:
        mac = self._mac.copy()  # the keyed state, ready: cheaper than a new HMAC
        mac.update(data)
        return mac.hexdigest()

    def name(self, name: str) -> str:
        """``hmac:<hex>``: the same name always gives the same text, and no name
        can be read back without the key."""
        digest = hmac.new(self._names, name.encode("utf-8", "surrogatepass"), "sha256")
        return "hmac:" + digest.hexdigest()[:32]

    def __repr__(self) -> str:
        return f"<AuditKey kid={self.kid}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("audit keys refuse to be pickled")


def load_key(
    *, key_file: Path | None, key_env: str | None, environ: Mapping[str, str] | None = None
) -> AuditKey:
    """The key from a file (mode 0600 on POSIX: group or others may not read it) or
    from an environment variable; a :class:`ConfigError` naming which one otherwise."""
    if key_file is not None:
        where = f"audit key file {key_file}"
        try:
            mode = loose_mode(key_file)
            key = AuditKey.from_text(key_file.read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or type(err).__name__
            raise ConfigError(f"{where}: cannot read ({reason})") from None
        if mode is not None:
            raise ConfigError(f"{where}: mode {mode:o} lets others read it; chmod 600 it")
    elif key_env is not None:
        where = f"audit key variable {key_env}"
        environ = os.environ if environ is None else environ
        if not environ.get(key_env):
            raise ConfigError(f"{where} is not set")
        key = AuditKey.from_text(environ[key_env])
    else:
        raise ConfigError("no audit key: set audit.key_file or audit.key_env (docs/audit.md#keys)")
    if key is None:
        raise ConfigError(f"{where}: not an audit key (urlsafe base64 of {KEY_BYTES} bytes)")
    return key


@dataclass(frozen=True, slots=True)
class Head:
    """The last record of a chain: its ``seq`` and the hash of its line."""

    seq: int = 0
    hash: str = GENESIS


_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=True)


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return _ENCODER.encode(fields).encode("ascii")


def _line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def chain_lines(
    entries: Sequence[Mapping[str, Any]], head: Head, key: AuditKey
) -> tuple[bytes, Head]:
    """The lines of ``entries`` chained after ``head``, and the new head."""
    out = []
    for entry in entries:
        body = _canonical({**entry, "seq": head.seq + 1, "prev": head.hash})
        line = body[:-1] + b',"mac":"' + key.mac(body).encode("ascii") + b'"}'
        head = Head(head.seq + 1, _line_hash(line))
        out.append(line)
    out.append(b"")
    return b"\n".join(out), head


def head_of(line: bytes) -> Head:
    """The head a complete last ``line`` (without its newline) leaves; ValueError if
    it is no record."""
    record = json.loads(line)
    seq = record.get("seq") if isinstance(record, dict) else None
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError("not a trail record")
    return Head(seq, _line_hash(line))


@dataclass(frozen=True, slots=True)
class TrailReport:
    """What a trail that verified holds."""

    source: str
    records: int
    checkpoints: int
    sealed: bool
    head: Head

    def __str__(self) -> str:
        state = "sealed" if self.sealed else "open (no final checkpoint yet)"
        return (
            f"ok: {self.source}: {self.records} record(s), {self.checkpoints} checkpoint(s), "
            f"{state}; head {self.head.seq}:{self.head.hash[:16]}"
        )


def verify_trail(path: str | Path, key: AuditKey, *, allow_open: bool = False) -> TrailReport:
    """Check every record of the trail at ``path``; raise :class:`AuditTrailInvalid`
    naming the file and line of the first problem. ``allow_open`` accepts a trail
    whose writer has not closed it yet (its tail cannot be checked for truncation)."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            return verify_stream(handle, key, source=source, allow_open=allow_open)
    except OSError as err:
        raise AuditError(f"{source}: cannot read ({err.strerror or err})") from None


def verify_stream(
    handle: BinaryIO, key: AuditKey, *, source: str = "<stream>", allow_open: bool = False
) -> TrailReport:
    """:func:`verify_trail` for an open binary stream (a trail captured from stdout,
    syslog...); ``source`` names it in errors."""
    head, number, checkpoints, sealed = Head(), 0, 0, False
    while raw := handle.readline(MAX_LINE + 1):
        number += 1

        def fail(reason: str, line: int = number) -> NoReturn:
            raise AuditTrailInvalid(source, line, reason)

        if len(raw) > MAX_LINE:
            fail(f"a line longer than {MAX_LINE} bytes: no record of this trail")
        if not raw.endswith(b"\n"):
            fail("the last record is incomplete: the trail was cut short")
        line = raw[:-1]
        record = _record(line)
        if record is None:
            fail("not a record of an audit trail (the line was modified)")
        mac = record.pop("mac")
        body = _canonical(record)
        if body[:-1] + b',"mac":"' + mac.encode("ascii") + b'"}' != line:
            fail("the record is not in its written form: it was modified")
        if not hmac.compare_digest(key.mac(body), mac):
            fail("MAC mismatch: the record was modified, or this is not the trail's key")
        if record.get("seq") != head.seq + 1 or record.get("prev") != head.hash:
            fail(
                f"record {record.get('seq')} does not follow record {head.seq}: a record "
                "was removed, inserted or moved here"
            )
        head = Head(head.seq + 1, _line_hash(line))
        sealed = record.get("kind") == "checkpoint" and record.get("final") is True
        checkpoints += record.get("kind") == "checkpoint"
    if number == 0:
        raise AuditTrailInvalid(source, 1, "the trail is empty: it was cut short")
    if not sealed and not allow_open:
        raise AuditTrailInvalid(
            source,
            number,
            "the trail ends without a final checkpoint: it was cut short, or its writer "
            "has not closed it yet (--open accepts a trail being written)",
        )
    return TrailReport(source, head.seq, checkpoints, sealed, head)


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("mac"), str):
        return None
    if not record["mac"].isascii():
        return None
    return record
