"""An encrypted single-file secret store for development and small deployments.

Threat model, in short:

* The whole document -- secret names, values, versions, timestamps, metadata and
  tags -- is encrypted with AES-256-GCM. Someone who can read the file learns
  only its size and modification time (so roughly how much is stored and when it
  last changed), plus the public header: format, cipher, KDF parameters and a
  16-byte key check.
* The header is authenticated (it is the AAD of the encryption), so it cannot be
  changed without the change being detected. Any modification or truncation
  raises :class:`~secretwire.errors.StoreCorrupted`; the store is never reset.
* Every write re-encrypts the document under a fresh random 96-bit nonce from
  ``os.urandom``. With a random nonce per write, keep well under 2**32 writes per
  key (a development store will never get close).
* The key never lives in the store: it comes from ``key=``, an environment
  variable, a separate key file (mode 0600) or a passphrase stretched with
  scrypt. The key check lets a wrong key be reported as such
  (:class:`~secretwire.errors.StoreKeyMismatch`) instead of as corruption.
* Not covered: an attacker who can read the key, or this process's memory (the
  decrypted document is cached in memory), or who replaces the file with an
  older copy encrypted under the same key (rollback is not detected).

File layout::

    b"SWSTORE1" | header length (4 bytes, big-endian) | header JSON | nonce (12) | ciphertext

Writes take an exclusive lock on the sibling ``<store>.lock`` file (never
removed), re-read the store, apply the change, write a 0600 temporary file in the
same folder (``.<store>.XXXXXXXX.tmp``), fsync it, rename it over the store and
fsync the folder. A writer killed between creating the temporary file and the
rename leaves it behind (a complete copy of an older store, perhaps holding
secrets deleted since); the next write, or the first read of a provider, removes
such files while it holds the lock, which proves that no writer is using them.

Values (:class:`~secretwire.SecretValue`) and the key (``_Key``) are held in
masking types inside the provider, so no frame on an error path shows them.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import contextlib
import hashlib
import hmac
import json
import os
import re
import stat as stat_module
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, NoReturn, TypeVar, final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    InvalidSecret,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    StoreCorrupted,
    StoreKeyMismatch,
)
from ..references import check_name
from ..values import SecretValue
from .base import (
    Capabilities,
    Health,
    HealthStatus,
    Secret,
    SecretProvider,
    SecretVersion,
    check_value,
    env_variable,
    read_secret_file,
    secret_value,
    shown,
    string_map,
)

__all__ = ["LocalFileProvider"]

T = TypeVar("T")

_PROVIDER = "file"
_MAGIC = b"SWSTORE1"
_FORMAT = 1
_CIPHER = "AES-256-GCM"
_KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_SALT_BYTES = 16
_KEY_CHECK_BYTES = 16
_KEY_CHECK_LABEL = b"secretwire key check"
_MAX_HEADER_BYTES = 64 * 1024
_MAX_NAME_CHARS = 512
_DEFAULT_SCRYPT_N = 2**15
_MIN_SCRYPT_N = 2**10
_MAX_SCRYPT_N = 2**20
_MAX_SCRYPT_MEMORY = 2**30  # bytes; bounds what a modified header can make us allocate

#: What identifies one written version of the store file: inode, mtime, size and nonce.
_Stamp = tuple[int, int, int, bytes]


@final
class _Key:
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
        return isinstance(other, _Key) and hmac.compare_digest(self._data, other._data)

    def __hash__(self) -> int:
        return hash((_Key, self._data))

    def __reduce__(self) -> NoReturn:
        raise TypeError("store keys refuse to be pickled")


# -- the decrypted document ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Version:
    id: str
    value: SecretValue
    created: datetime
    expires: datetime | None
    metadata: Mapping[str, str]
    tags: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class _Entry:
    next: int
    versions: tuple[_Version, ...]


_Document = dict[str, _Entry]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _parse_time(text: object) -> datetime:
    if not isinstance(text, str):
        raise TypeError("timestamp is not a string")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _parse_str_map(data: object) -> Mapping[str, str]:
    if not isinstance(data, dict):
        raise TypeError("expected an object")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise TypeError("expected string keys and values")
    return MappingProxyType(dict(data))


def _parse_version(data: object) -> _Version:
    if not isinstance(data, dict):
        raise TypeError("version is not an object")
    ident, value, expires = data["id"], data["value"], data["expires"]
    if not isinstance(ident, str) or not isinstance(value, str):
        raise TypeError("version id and value must be strings")
    return _Version(
        id=ident,
        value=SecretValue(value),
        created=_parse_time(data["created"]),
        expires=None if expires is None else _parse_time(expires),
        metadata=_parse_str_map(data["metadata"]),
        tags=_parse_str_map(data["tags"]),
    )


def _parse_entry(data: object) -> _Entry:
    if not isinstance(data, dict):
        raise TypeError("entry is not an object")
    counter, versions = data["next"], data["versions"]
    if type(counter) is not int or not isinstance(versions, builtins.list) or not versions:
        raise TypeError("entry needs an integer counter and at least one version")
    return _Entry(next=counter, versions=tuple(_parse_version(item) for item in versions))


def _parse_document(plaintext: bytes) -> _Document | None:
    """The decrypted document, or ``None`` if it is not a valid one.

    Never raises: parser errors quote the decrypted text and this frame holds it,
    so the caller raises (outside any ``except`` block) with neither on its traceback.
    """
    try:
        data = json.loads(plaintext.decode("utf-8"))
        secrets = data["secrets"]
        if not isinstance(secrets, dict):
            return None
        return {name: _parse_entry(entry) for name, entry in secrets.items()}
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None


def _encode_version(version: _Version) -> dict[str, object]:
    return {
        "id": version.id,
        "value": version.value.reveal(),
        "created": _iso(version.created),
        "expires": None if version.expires is None else _iso(version.expires),
        "metadata": dict(version.metadata),
        "tags": dict(version.tags),
    }


def _encode_document(document: _Document) -> bytes:
    secrets = {
        name: {"next": entry.next, "versions": [_encode_version(v) for v in entry.versions]}
        for name, entry in document.items()
    }
    # ensure_ascii keeps any str (lone surrogates included) encodable.
    return json.dumps({"secrets": secrets}, sort_keys=True, separators=(",", ":")).encode("ascii")


# -- header and key derivation ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kdf:
    """How the store key is obtained: used as is ("raw") or derived with scrypt."""

    name: str
    salt: bytes = b""
    n: int = 0
    r: int = 8
    p: int = 1

    def to_header(self) -> dict[str, object]:
        if self.name == "raw":
            return {"name": "raw"}
        salt = base64.b64encode(self.salt).decode("ascii")
        return {"name": "scrypt", "salt": salt, "n": self.n, "r": self.r, "p": self.p}


def _corrupted(path: str, reason: str) -> StoreCorrupted:
    return StoreCorrupted(f"store {path} is corrupted: {reason}", provider=_PROVIDER)


def _b64_field(data: Mapping[str, Any], key: str, path: str) -> bytes:
    text = data.get(key)
    try:
        if not isinstance(text, str):
            raise TypeError(key)  # noqa: TRY301 - mapped below
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (TypeError, ValueError, binascii.Error):
        raise _corrupted(path, f"header field {key!r} is missing or not base64") from None


def _small_int(data: Mapping[str, Any], key: str, low: int, high: int, path: str) -> int:
    value = data.get(key)
    if type(value) is not int or not low <= value <= high:
        raise _corrupted(path, f"scrypt parameter {key!r} is missing or out of range")
    return value


def _kdf_from_header(header: Mapping[str, Any], path: str) -> _Kdf:
    kdf = header.get("kdf")
    if not isinstance(kdf, dict):
        raise _corrupted(path, "header has no 'kdf' object")
    if kdf.get("name") == "raw":
        return _Kdf("raw")
    if kdf.get("name") != "scrypt":
        raise _corrupted(path, "header names an unsupported key derivation")
    salt = _b64_field(kdf, "salt", path)
    n = _small_int(kdf, "n", 2, _MAX_SCRYPT_N, path)
    r = _small_int(kdf, "r", 1, 32, path)
    p = _small_int(kdf, "p", 1, 16, path)
    if n & (n - 1) or 128 * n * r * p > _MAX_SCRYPT_MEMORY or len(salt) < 8:
        raise _corrupted(path, "scrypt parameters are not acceptable")
    return _Kdf("scrypt", salt=salt, n=n, r=r, p=p)


def _key_check(key: _Key) -> bytes:
    return hmac.new(key.reveal(), _KEY_CHECK_LABEL, hashlib.sha256).digest()[:_KEY_CHECK_BYTES]


def _derive(passphrase: _Key, kdf: _Kdf) -> _Key:
    scrypt = Scrypt(salt=kdf.salt, length=_KEY_BYTES, n=kdf.n, r=kdf.r, p=kdf.p)
    return _Key(scrypt.derive(passphrase.reveal()))


def _header_bytes(kdf: _Kdf, key: _Key) -> bytes:
    header = {
        "format": _FORMAT,
        "cipher": _CIPHER,
        "kdf": kdf.to_header(),
        "key_check": base64.b64encode(_key_check(key)).decode("ascii"),
    }
    text = json.dumps(header, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def _seal(kdf: _Kdf, key: _Key, plaintext: bytes) -> bytes:
    header = _header_bytes(kdf, key)
    aad = _MAGIC + len(header).to_bytes(4, "big") + header
    nonce = os.urandom(_NONCE_BYTES)
    return aad + nonce + AESGCM(key.reveal()).encrypt(nonce, plaintext, aad)


def _seal_document(kdf: _Kdf, key: _Key, document: _Document) -> bytes:
    # The plaintext exists only as an argument, in frames that do not fail.
    return _seal(kdf, key, _encode_document(document))


@dataclass(frozen=True, slots=True)
class _Envelope:
    aad: bytes
    header: Mapping[str, Any]
    nonce: bytes
    ciphertext: bytes


def _split(data: bytes, path: str) -> _Envelope:
    prefix = len(_MAGIC) + 4
    if len(data) < prefix or not data.startswith(_MAGIC):
        raise _corrupted(path, "not a secretwire store (bad magic or truncated)")
    length = int.from_bytes(data[len(_MAGIC) : prefix], "big")
    end = prefix + length
    if not 0 < length <= _MAX_HEADER_BYTES or len(data) < end + _NONCE_BYTES + _TAG_BYTES:
        raise _corrupted(path, "bad header length or truncated file")
    try:
        header = json.loads(data[prefix:end].decode("utf-8"))
    except ValueError as err:
        raise _corrupted(path, "header is not valid JSON") from err
    if not isinstance(header, dict):
        raise _corrupted(path, "header is not a JSON object")
    fmt = header.get("format")
    if type(fmt) is not int or fmt != _FORMAT:
        raise _corrupted(path, f"unsupported store format {str(fmt)[:20]!r}")
    if header.get("cipher") != _CIPHER:
        raise _corrupted(path, "unsupported cipher")
    nonce_end = end + _NONCE_BYTES
    return _Envelope(data[:end], header, data[end:nonce_end], data[nonce_end:])


def _unseal(envelope: _Envelope, key: _Key) -> _Document | str:
    """The document, or why it cannot be read. The plaintext lives only in this
    frame (and :func:`_parse_document`'s), which return normally."""
    try:
        plaintext = AESGCM(key.reveal()).decrypt(envelope.nonce, envelope.ciphertext, envelope.aad)
    except InvalidTag:
        return "authentication failed (the file was modified or truncated)"
    document = _parse_document(plaintext)
    if document is None:
        return "the decrypted contents are not a valid store document"
    return document


# -- key material ---------------------------------------------------------------------


def _key_from_text(text: str) -> _Key | str:
    """The key a urlsafe base64 text encodes, or why it encodes none. Never raises,
    so the text (a key, or nearly one) never sits on a traceback."""
    cleaned = "".join(text.split())
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        key = base64.b64decode(cleaned.encode("ascii"), altchars=b"-_", validate=True)
    except (ValueError, binascii.Error):
        return "is not valid urlsafe base64"
    if len(key) != _KEY_BYTES:
        return f"must decode to {_KEY_BYTES} bytes, not {len(key)}"
    return _Key(key)


def _decode_key(text: SecretValue, option: str, where: str) -> _Key:
    key = _key_from_text(text.reveal())
    if isinstance(key, str):
        raise ConfigError(f"{where} {key}", key=option)
    return key


def _encode_key(key: _Key) -> str:
    return base64.urlsafe_b64encode(key.reveal()).decode("ascii")


def _env_text(variable: str, option: str, shown_variable: str) -> SecretValue:
    text = os.environ.get(variable)
    if not text:
        raise ConfigError(
            f"environment variable {shown_variable} is not set or empty; it must hold "
            f"the store {'passphrase' if option == 'passphrase_env' else 'key'}",
            key=option,
        )
    return SecretValue(text)


def _check_key_file_mode(path: Path, shown_path: str) -> None:
    if os.name != "posix":
        return
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return  # reported by the read that follows
    if mode & 0o077:
        raise ConfigError(
            f"key file {shown_path} is readable or writable by group/others (mode {mode:04o}); "
            f"run: chmod 600 {shown_path}",
            key="key_file",
        )


def _read_key_file(path: Path, shown_path: str) -> _Key:
    _check_key_file_mode(path, shown_path)
    text = read_secret_file(
        path, option="key_file", what="key file", shown_path=shown_path, encoding="ascii"
    )
    return _decode_key(text, "key_file", f"key file {shown_path}")


def _create_key_file(path: Path, shown_path: str) -> _Key:
    """Create ``path`` with a new random key (0600, never overwriting); return the key."""
    key = _Key(os.urandom(_KEY_BYTES))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fd = -1
    if fd < 0:  # outside the except block: no __context__ on a failed read
        return _read_key_file(path, shown_path)
    try:
        os.write(fd, (_encode_key(key) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


# -- files and locks ------------------------------------------------------------------

if sys.platform == "win32":  # pragma: no cover - exercised on Windows CI only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
            except OSError:
                continue  # LK_LOCK gives up after ~10 s; keep waiting
            return

    def _try_lock_fd(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _try_lock_fd(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the store's lock (``wait=False``: only if it is free); yields whether it is held."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if wait:
            _lock_fd(fd)
        elif not _try_lock_fd(fd):
            yield False
            return
        try:
            yield True
        finally:
            _unlock_fd(fd)
    finally:
        os.close(fd)


def _temp_pattern(path: Path) -> re.Pattern[str]:
    """The names :func:`_atomic_write` gives its temporary files for store ``path``
    (``tempfile.mkstemp``: 8 characters of ``[a-z0-9_]`` between prefix and suffix)."""
    return re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")


def _leftover_temp_files(path: Path) -> builtins.list[Path]:
    """Temporary files of store ``path`` left in its folder (regular files only)."""
    pattern = _temp_pattern(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    found = []
    for name in names:
        if pattern.fullmatch(name):
            candidate = path.parent / name
            with contextlib.suppress(OSError):
                if stat_module.S_ISREG(os.lstat(candidate).st_mode):
                    found.append(candidate)
    return found


def _remove_temp_files(path: Path) -> int:
    """Remove the leftovers of writers killed mid-write. Call it only while holding
    the store's lock: every writer holds it from creating its temporary file to the
    rename, so none of these files is in use. Returns how many were removed."""
    removed = 0
    for candidate in _leftover_temp_files(path):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
            removed += 1
    return removed


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> os.stat_result:
    """Replace ``path`` with ``data`` (0600, fsynced); return the new file's stat."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp_name, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            stat = os.fstat(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)
    return stat


def _os_error(err: OSError, action: str) -> ProviderError:
    """A provider error for an OS failure. ``action`` names the file as it may be
    shown; the OSError's own text (which repeats the path) is left out."""
    cls = AccessDenied if isinstance(err, PermissionError) else ProviderUnavailable
    return cls(f"{action}: {err.strerror or type(err).__name__}", provider=_PROVIDER)


def _read_head(handle: BinaryIO) -> bytes:
    """The start of the file up to and including the nonce (less if it is no store)."""
    prefix = len(_MAGIC) + 4
    head = handle.read(prefix)
    if len(head) == prefix and head.startswith(_MAGIC):
        length = int.from_bytes(head[len(_MAGIC) :], "big")
        if length <= _MAX_HEADER_BYTES:
            head += handle.read(length + _NONCE_BYTES)
    return head


def _stamp(stat: os.stat_result, data: bytes) -> _Stamp:
    """Cache key of a store file. The nonce (fresh on every write) guards against a
    reused inode within one timestamp tick; ``data`` needs only the file's head."""
    start = len(_MAGIC) + 4 + int.from_bytes(data[len(_MAGIC) : len(_MAGIC) + 4], "big")
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size, data[start : start + _NONCE_BYTES])


# -- argument checks -----------------------------------------------------------------


def _check_name(name: object) -> str:
    name = check_name(name, provider=_PROVIDER)
    if len(name) > _MAX_NAME_CHARS:
        raise InvalidSecret(
            f"secret name is longer than {_MAX_NAME_CHARS} characters", provider=_PROVIDER
        )
    return name


def _check_expiry(expires_at: datetime | None, name: str) -> datetime | None:
    if expires_at is None:
        return None
    if not isinstance(expires_at, datetime):
        raise TypeError(f"expires_at must be a datetime, not {type(expires_at).__name__}")
    if expires_at.tzinfo is None or expires_at.utcoffset() is None:
        raise InvalidSecret("expires_at must be timezone-aware", name=name, provider=_PROVIDER)
    return expires_at.astimezone(timezone.utc)


def _option(options: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """An option's value checked for type; strings may come from a secret (``SecretValue``)."""
    value = options.get(key)
    if value is None:
        return None
    if kind is not bool and isinstance(value, SecretValue):
        return value
    if not isinstance(value, kind):
        expected = "a boolean" if kind is bool else "a string"
        raise ConfigError(f"option must be {expected}, not {type(value).__name__}", key=key)
    return value


def _resolve(base_dir: Path, value: str | os.PathLike[str] | SecretValue) -> Path | SecretValue:
    """``value`` as a path, relative ones taken from ``base_dir`` (still hidden if it
    came from a secret)."""
    text = value.reveal() if isinstance(value, SecretValue) else value
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base_dir / path
    return SecretValue(str(path)) if isinstance(value, SecretValue) else path


PathOption = str | os.PathLike[str] | SecretValue


def _path_of(value: PathOption) -> tuple[Path, str]:
    """(the path, how messages show it)."""
    path = Path(value.reveal() if isinstance(value, SecretValue) else value)
    return path, (shown(value) if isinstance(value, SecretValue) else str(path))


# -- the provider ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Snapshot:
    kdf: _Kdf
    key: _Key
    document: _Document


class LocalFileProvider(SecretProvider):
    """Secrets in one AES-256-GCM encrypted file (see the module docstring).

    Exactly one key source must be given: ``key`` (32 raw bytes), ``key_env`` (name
    of an environment variable holding the key in urlsafe base64), ``key_file`` (a
    0600 file holding the key in urlsafe base64; created when missing if
    ``create``) or ``passphrase_env`` (name of an environment variable holding a
    passphrase, stretched with scrypt). Key material is read on first use.

    With ``create=True`` a missing store reads as empty and the first write creates
    it; with ``create=False`` a missing store is reported as unavailable.

    ``path``, ``key_file``, ``key_env`` and ``passphrase_env`` may be given as
    :class:`~secretwire.SecretValue` (a settings file fills them so from a
    bootstrap secret): they are used, and never shown in errors or the repr.
    """

    name = _PROVIDER
    _legacy_public_methods = True  # TRANSITION: converted to the kit's hooks in k9-file
    capabilities = Capabilities(
        write=True, delete=True, list=True, versions=True, metadata=True, max_value_bytes=None
    )

    def __init__(
        self,
        path: PathOption,
        *,
        key: bytes | None = None,
        key_env: str | SecretValue | None = None,
        key_file: PathOption | None = None,
        passphrase_env: str | SecretValue | None = None,
        create: bool = True,
        scrypt_n: int = _DEFAULT_SCRYPT_N,
    ) -> None:
        given = [
            option
            for option, value in (
                ("key", key),
                ("key_env", key_env),
                ("key_file", key_file),
                ("passphrase_env", passphrase_env),
            )
            if value is not None
        ]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ConfigError(
                "provider 'file' needs exactly one key source: key, key_env, key_file "
                f"or passphrase_env (given: {found})"
            )
        if key is not None and (not isinstance(key, bytes) or len(key) != _KEY_BYTES):
            raise ConfigError(f"key must be {_KEY_BYTES} bytes", key="key")
        # Checked for shape and never echoed: given the key itself by mistake, the
        # error must not show it.
        self._key_env = None if key_env is None else env_variable(key_env, "key_env")
        self._key_env_shown = shown(key_env) if key_env is not None else ""
        self._passphrase_env = (
            None if passphrase_env is None else env_variable(passphrase_env, "passphrase_env")
        )
        self._passphrase_env_shown = shown(passphrase_env) if passphrase_env is not None else ""
        if type(scrypt_n) is not int or scrypt_n & (scrypt_n - 1):
            raise ConfigError("scrypt_n must be a power of two", key="scrypt_n")
        if not _MIN_SCRYPT_N <= scrypt_n <= _MAX_SCRYPT_N:
            raise ConfigError(
                f"scrypt_n must be between 2**10 and 2**20, not {scrypt_n}", key="scrypt_n"
            )
        self._path, self._shown = _path_of(path)
        self._lock_path = self._path.with_name(self._path.name + ".lock")
        self._key = None if key is None else _Key(key)
        self._key_file: Path | None = None
        self._key_file_shown = ""
        if key_file is not None:
            self._key_file, self._key_file_shown = _path_of(key_file)
        self._create = bool(create)
        self._scrypt_n = scrypt_n
        if self._key_file is not None and self._key_file.absolute() == self._path.absolute():
            raise ConfigError("key_file must not be the store file itself", key="key_file")
        self._write_lock = threading.Lock()
        self._material: _Key | None = None
        self._derived: dict[_Kdf, _Key] = {}
        self._cache: tuple[_Stamp, _Document] | None = None
        self._swept = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, base_dir: Path) -> LocalFileProvider:
        """Build from settings: ``path`` (required), ``key_file``, ``key_env``,
        ``passphrase_env`` and ``create``. Relative paths are taken from ``base_dir``."""
        known = {"path", "key_file", "key_env", "passphrase_env", "create"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown option for provider 'file' (known: {', '.join(sorted(known))})",
                key=unknown[0],
            )
        path = _option(options, "path", (str, os.PathLike))
        if not path:
            raise ConfigError("the store path is required", key="path")
        key_file = _option(options, "key_file", (str, os.PathLike))
        create = _option(options, "create", bool)
        return cls(
            _resolve(base_dir, path),
            key_file=None if key_file is None else _resolve(base_dir, key_file),
            key_env=_option(options, "key_env", str),
            passphrase_env=_option(options, "passphrase_env", str),
            create=True if create is None else create,
        )

    @property
    def path(self) -> Path:
        return self._path

    # -- key handling ------------------------------------------------------------------
    def _resolve_material(self, *, create_key_file: bool) -> _Key:
        if self._material is not None:
            return self._material
        if self._key is not None:
            material = self._key
        elif self._key_env is not None:
            text = _env_text(self._key_env, "key_env", self._key_env_shown)
            where = f"environment variable {self._key_env_shown}"
            material = _decode_key(text, "key_env", where)
        elif self._passphrase_env is not None:
            passphrase = _env_text(
                self._passphrase_env, "passphrase_env", self._passphrase_env_shown
            )
            material = _Key(passphrase.reveal().encode())
        elif self._key_file is not None:
            if create_key_file and not self._key_file.exists():
                material = _create_key_file(self._key_file, self._key_file_shown)
            else:
                material = _read_key_file(self._key_file, self._key_file_shown)
        else:  # pragma: no cover - the constructor guarantees one source
            raise ConfigError("no key source configured")
        self._material = material
        return material

    def _new_kdf(self) -> _Kdf:
        if self._passphrase_env is None:
            return _Kdf("raw")
        return _Kdf("scrypt", salt=os.urandom(_SALT_BYTES), n=self._scrypt_n, r=8, p=1)

    def _key_for(self, kdf: _Kdf, *, create_key_file: bool = False) -> _Key:
        material = self._resolve_material(create_key_file=create_key_file)
        if (kdf.name == "scrypt") != (self._passphrase_env is not None):
            expected = "a passphrase" if kdf.name == "scrypt" else "a raw key"
            raise StoreKeyMismatch(
                f"key does not open this store (or its header was modified): store {self._shown} "
                f"expects {expected}",
                provider=_PROVIDER,
            )
        if kdf.name == "raw":
            return material
        derived = self._derived.get(kdf)
        if derived is None:
            derived = self._derived[kdf] = _derive(material, kdf)
        return derived

    # -- reading -----------------------------------------------------------------------
    def _open(self, data: bytes) -> _Snapshot:
        envelope = _split(data, self._shown)
        kdf = _kdf_from_header(envelope.header, self._shown)
        expected = _b64_field(envelope.header, "key_check", self._shown)
        key = self._key_for(kdf)
        if not hmac.compare_digest(_key_check(key), expected):
            raise StoreKeyMismatch(
                f"key does not open this store (or its header was modified): {self._shown}",
                provider=_PROVIDER,
            )
        document = _unseal(envelope, key)
        if isinstance(document, str):
            raise _corrupted(self._shown, document)
        return _Snapshot(kdf, key, document)

    def _missing(self) -> _Document:
        if not self._create:
            raise ProviderUnavailable(
                f"store {self._shown} does not exist (create is disabled)", provider=_PROVIDER
            )
        return {}

    def _read(self) -> tuple[_Stamp, bytes | _Document] | ProviderError | None:
        """The store file's stamp and bytes (or the cached document, when the file is
        unchanged); ``None`` if it is missing; the error if it cannot be read."""
        try:
            with open(self._path, "rb") as handle:
                head = _read_head(handle)
                stamp = _stamp(os.fstat(handle.fileno()), head)
                cached = self._cache
                if cached is not None and cached[0] == stamp:
                    return stamp, cached[1]
                return stamp, head + handle.read()
        except FileNotFoundError:
            return None
        except OSError as err:
            return _os_error(err, f"cannot read store {self._shown}")

    def _document(self) -> _Document:
        """The current document, from the cache while the file is unchanged.

        The stamp comes from ``fstat`` of the handle that is read, so it always
        describes the bytes that are decrypted (the store is replaced by rename).
        Errors are raised outside ``except`` blocks: an OSError repeats the path.
        """
        if not self._swept:
            self._sweep()
        read = self._read()
        if read is None:
            return self._missing()
        if isinstance(read, ProviderError):
            raise read
        stamp, data = read
        if isinstance(data, dict):
            return data
        document = self._open(data).document
        self._cache = (stamp, document)
        return document

    def _entry(self, name: str) -> _Entry:
        entry = self._document().get(name)
        if entry is None:
            raise SecretNotFound(name=name, provider=_PROVIDER)
        return entry

    def _sweep(self) -> None:
        """On first use: remove temporary files that killed writers left, if the lock
        is free right now (a busy lock means a writer is at work: it sweeps)."""
        self._swept = True
        if not _leftover_temp_files(self._path):
            return
        with contextlib.suppress(OSError), _exclusive_lock(self._lock_path, wait=False) as held:
            if held:
                _remove_temp_files(self._path)

    # -- writing -----------------------------------------------------------------------
    def _fresh_snapshot(self) -> _Snapshot | None:
        """Read and decrypt the store bypassing the cache; ``None`` if it is missing."""
        failure: ProviderError | None = None
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            failure = _os_error(err, f"cannot read store {self._shown}")
        if failure is not None:
            raise failure
        return self._open(data)

    def _persist(self, kdf: _Kdf, key: _Key, document: _Document) -> None:
        sealed = _seal_document(kdf, key, document)
        failure: ProviderError | None = None
        try:
            stat = _atomic_write(self._path, sealed)
        except OSError as err:
            failure = _os_error(err, f"cannot write store {self._shown}")
        if failure is not None:
            raise failure
        self._cache = (_stamp(stat, sealed), document)

    @contextlib.contextmanager
    def _locked(self, *, make_dirs: bool) -> Iterator[None]:
        """Hold the write lock (thread and file). Leftover temporary files of killed
        writers are removed first: holding the lock proves none is in use."""
        with self._write_lock, contextlib.ExitStack() as stack:
            failure: ProviderError | None = None
            try:
                if make_dirs:
                    self._path.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(_exclusive_lock(self._lock_path))
            except OSError as err:
                failure = _os_error(err, f"cannot lock store {self._shown}")
            if failure is not None:
                raise failure
            _remove_temp_files(self._path)
            self._swept = True
            yield

    def _mutate(self, change: Callable[[_Document], T]) -> T:
        """Apply ``change`` to a fresh copy of the document under the write lock."""
        with self._locked(make_dirs=self._create):
            snapshot = self._fresh_snapshot()
            document = dict(snapshot.document) if snapshot is not None else self._missing()
            result = change(document)
            if snapshot is not None:
                kdf, key = snapshot.kdf, snapshot.key
            else:
                kdf = self._new_kdf()
                key = self._key_for_new_store(kdf)
            self._persist(kdf, key, document)
            return result

    def _key_for_new_store(self, kdf: _Kdf) -> _Key:
        failure: ProviderError | None = None
        try:
            return self._key_for(kdf, create_key_file=True)
        except OSError as err:
            failure = _os_error(err, f"cannot create key file {self._key_file_shown}")
        raise failure

    def initialize(self) -> None:
        """Create an empty store (and the key file when configured and missing).

        Works whatever ``create`` says. Raises :class:`Conflict` when the store
        already exists.
        """
        with self._locked(make_dirs=True):
            if self._path.exists():
                raise Conflict(f"store {self._shown} already exists", provider=_PROVIDER)
            kdf = self._new_kdf()
            self._persist(kdf, self._key_for_new_store(kdf), {})

    # -- the provider API ----------------------------------------------------------------
    def get(self, name: str, *, version: str | None = None) -> Secret:
        _check_name(name)
        entry = self._entry(name)  # its versions hold their values as SecretValue
        chosen = entry.versions[-1]
        if version is not None:
            matches = [item for item in entry.versions if item.id == version]
            if not matches:
                raise SecretNotFound(name=name, provider=_PROVIDER, version=str(version))
            chosen = matches[0]
        return Secret(
            name=name,
            value=chosen.value,
            version=chosen.id,
            created_at=entry.versions[0].created,
            updated_at=chosen.created,
            expires_at=chosen.expires,
            metadata=chosen.metadata,
            tags=chosen.tags,
            provider=_PROVIDER,
        )

    def list(self, prefix: str = "") -> Iterator[str]:
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be str, not {type(prefix).__name__}")
        return iter(sorted(name for name in self._document() if name.startswith(prefix)))

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        _check_name(name)
        history = self._entry(name).versions
        return [
            _version_info(name, item, current=item is history[-1]) for item in reversed(history)
        ]

    def set(  # type: ignore[override]  # TRANSITION: the kit's _set hook in k9-file
        self,
        name: str,
        value: str,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
    ) -> SecretVersion:
        secret = secret_value(value)
        del value  # only the masked value stays in this frame (and in the closure below)
        _check_name(name)
        check_value(secret, name=name, provider=_PROVIDER)
        new_metadata = MappingProxyType(string_map(metadata, "metadata"))
        new_tags = MappingProxyType(string_map(tags, "tags"))
        expires = _check_expiry(expires_at, name)

        def change(document: _Document) -> SecretVersion:
            entry = document.get(name) or _Entry(next=1, versions=())
            created = datetime.now(timezone.utc)
            item = _Version(str(entry.next), secret, created, expires, new_metadata, new_tags)
            document[name] = _Entry(next=entry.next + 1, versions=(*entry.versions, item))
            return _version_info(name, item, current=True)

        return self._mutate(change)

    def delete(self, name: str) -> None:
        _check_name(name)
        self._entry(name)  # fail fast without creating a lock file for a missing store

        def change(document: _Document) -> None:
            if document.pop(name, None) is None:
                raise SecretNotFound(name=name, provider=_PROVIDER)

        self._mutate(change)

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            exists = self._path.exists()
            self._document()
            if not exists and not (self._key_file is not None and self._create):
                self._resolve_material(create_key_file=False)
        except (ProviderError, ConfigError) as err:
            elapsed = time.perf_counter() - started
            return Health(self.name, HealthStatus.UNAVAILABLE, str(err), elapsed)
        except OSError as err:
            elapsed = time.perf_counter() - started
            detail = f"store {self._shown}: {err.strerror or type(err).__name__}"
            return Health(self.name, HealthStatus.UNAVAILABLE, detail, elapsed)
        detail = "" if exists else "store does not exist yet; the first write creates it"
        return Health(self.name, HealthStatus.OK, detail, time.perf_counter() - started)

    def close(self) -> None:
        self._cache = None
        self._material = None
        self._derived.clear()

    def __repr__(self) -> str:
        # getattr: also called on a half-built provider (a frame of a failed __init__)
        return f"<{type(self).__name__} name={self.name!r} path={getattr(self, '_shown', '?')!r}>"


def _version_info(name: str, item: _Version, *, current: bool) -> SecretVersion:
    return SecretVersion(
        name=name,
        version=item.id,
        created_at=item.created,
        expires_at=item.expires,
        current=current,
        metadata=item.metadata,
        tags=item.tags,
    )
