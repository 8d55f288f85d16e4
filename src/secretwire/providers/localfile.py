"""An encrypted single-file secret store for development and small deployments.

The whole document (names, values, versions, timestamps, metadata, tags) is one
AES-256-GCM ciphertext under a fresh random nonce per write, behind an authenticated
header: a modified or truncated file raises :class:`~secretwire.errors.StoreCorrupted`
and is never reset; a wrong key raises :class:`~secretwire.errors.StoreKeyMismatch`.
The key never lives in the store: it comes from ``key``, an environment variable, a
0600 key file or a passphrase stretched with scrypt. Not covered: an attacker who can
read the key or this process's memory (the decrypted document is cached), or who puts
back an older copy of the file (rollback). docs/providers/file.md has the details.

The format (envelope, header, KDF, AES-GCM) is :mod:`secretwire.security.store_format`;
the document inside is a :class:`~secretwire.providers._store.VersionedDocument`, the
memory provider's model too. Writes lock the sibling ``<store>.lock``, re-read the
store, apply the change and replace the file atomically; temporary files of killed
writers are removed under the lock, or on a first read while the lock is free
(:mod:`secretwire.security.files`). The base class checks every argument and enforces
``expires_at`` (:class:`~secretwire.errors.SecretExpired` on ``get``). Values and the
key are held in masking types, so no frame on an error path shows them.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SecretwireError,
    StoreCorrupted,
    StoreKeyMismatch,
    reason_of,
)
from ..security import files
from ..security.store_format import (
    KEY_BYTES,
    MAX_SCRYPT_N,
    Envelope,
    FormatError,
    Kdf,
    StoreKey,
    key_from_text,
    key_text,
    nonce_of,
    read_head,
    seal,
)
from ..values import SecretValue
from ._store import VersionedDocument
from .base import (
    REQUIRED,
    Capabilities,
    Credential,
    CredentialSource,
    Health,
    HealthStatus,
    NamePolicy,
    Option,
    Options,
    Secret,
    SecretProvider,
    SecretVersion,
    Write,
    call,
    os_reason,
    shown,
)

__all__ = ["LocalFileProvider"]

T = TypeVar("T")
E = TypeVar("E", bound=ProviderError)

_PROVIDER = "file"
_DEFAULT_SCRYPT_N = 2**15
_MIN_SCRYPT_N = 2**10

#: What identifies one written version of the store file: inode, mtime, size and nonce.
_Stamp = tuple[int, int, int, bytes]
#: A path option: given plainly, or from a secret (then never shown).
PathOption = str | os.PathLike[str] | SecretValue
#: A key or passphrase option: the text (``key``: urlsafe base64), or what
#: ``from_options`` made of the three options. ``key`` also takes 32 raw bytes.
CredentialOption = str | SecretValue | CredentialSource


def _translate(err: Exception, context: Mapping[str, Any]) -> ProviderError | None:
    """An OS failure as an error; ``doing`` names the file as it may be shown (the
    OSError's own text, which repeats the path, is left out)."""
    if not isinstance(err, OSError):
        return None
    fields = dict(context)
    detail = f"{fields.pop('doing')}: {os_reason(err)}"
    cls = AccessDenied if isinstance(err, PermissionError) else ProviderUnavailable
    return cls(provider=_PROVIDER, detail=detail, **fields)


def _path_of(value: PathOption) -> tuple[Path, str]:
    """(the path, how messages show it)."""
    path = Path(value.reveal() if isinstance(value, SecretValue) else value)
    return path, (shown(value) if isinstance(value, SecretValue) else str(path))


def _passphrase(source: CredentialSource) -> StoreKey:
    if source.env is not None:
        # A variable's whole content, as read since the first release: a store made
        # with spaces around its passphrase keeps opening.
        text = os.environ.get(source.env)
        if text:
            return StoreKey(text.encode("utf-8", "surrogatepass"))
    return StoreKey(source.read().reveal().encode("utf-8", "surrogatepass"))


@dataclass(frozen=True, slots=True)
class _Snapshot:
    kdf: Kdf
    key: StoreKey
    document: VersionedDocument


class LocalFileProvider(SecretProvider):
    """Secrets in one AES-256-GCM encrypted file (see the module docstring).

    Exactly one key source: ``key`` (32 raw bytes, or their urlsafe base64),
    ``key_env`` (an environment variable holding the base64), ``key_file`` (a 0600
    file holding it; created with a new key when missing if ``create``), or a
    passphrase stretched with scrypt: ``passphrase``, ``passphrase_env`` or
    ``passphrase_file``. Key material is read on first use.

    With ``create=True`` a missing store reads as empty and the first write creates
    it; with ``create=False`` a missing store is reported as unavailable.

    Paths, variable names and keys may be given as :class:`~secretwire.SecretValue`
    (a settings file fills them so from a bootstrap secret): they are used, and never
    shown in errors or the repr.
    """

    name = _PROVIDER
    capabilities = Capabilities.full()
    name_policy = NamePolicy(max_length=512)
    options = Options(
        Option(
            "path",
            Path,
            default=REQUIRED,
            missing="the store path is required",
            help="The store file.",
        ),
        Option(
            "key",
            Credential,
            ascii_only=True,
            help="The key: urlsafe base64 of 32 bytes. `key_file` is a file (mode 0600) that "
            "holds it, written with a new key when the store is created.",
        ),
        Option(
            "passphrase",
            Credential,
            help="Instead of a key: a passphrase, from which scrypt derives the key.",
        ),
        Option(
            "create",
            bool,
            default=True,
            help="Whether a missing store reads as empty and the first write creates it.",
        ),
    )

    def __init__(
        self,
        path: PathOption,
        *,
        key: bytes | CredentialOption | None = None,
        key_env: str | SecretValue | None = None,
        key_file: PathOption | None = None,
        passphrase: CredentialOption | None = None,
        passphrase_env: str | SecretValue | None = None,
        passphrase_file: PathOption | None = None,
        create: bool = True,
        scrypt_n: int = _DEFAULT_SCRYPT_N,
    ) -> None:
        sources = {
            "key": key,
            "key_env": key_env,
            "key_file": key_file,
            "passphrase": passphrase,
            "passphrase_env": passphrase_env,
            "passphrase_file": passphrase_file,
        }
        given = [option for option, value in sources.items() if value is not None]
        if len(given) != 1:
            raise ConfigError(
                f"provider 'file' needs exactly one key source: {', '.join(sources)} "
                f"(given: {', '.join(given) or 'none'})"
            )
        if type(scrypt_n) is not int or scrypt_n & (scrypt_n - 1):
            raise ConfigError("scrypt_n must be a power of two", key="scrypt_n")
        if not _MIN_SCRYPT_N <= scrypt_n <= MAX_SCRYPT_N:
            raise ConfigError(
                f"scrypt_n must be between 2**10 and 2**20, not {scrypt_n}", key="scrypt_n"
            )
        self._path, self._shown = _path_of(path)
        self._lock_path = self._path.with_name(self._path.name + ".lock")
        self._create = bool(create)
        self._scrypt_n: int | None = None  # None: a raw key, not a passphrase
        self._given: StoreKey | None = None
        self._source: CredentialSource | None = None
        if isinstance(key, bytes):
            if len(key) != KEY_BYTES:
                raise ConfigError(f"key must be {KEY_BYTES} bytes", key="key")
            self._given = StoreKey(key)
        elif key is not None or key_env is not None or key_file is not None:
            self._source = self.options["key"].source(key, key_env, key_file)
            if self._source is not None and self._source.value is not None:
                self._given = self._decoded(self._source)  # given, so checked now
        else:
            self._source = self.options["passphrase"].source(
                passphrase, passphrase_env, passphrase_file
            )
            self._scrypt_n = scrypt_n
        self._key_file = None
        if self._source is not None and self._scrypt_n is None:
            self._key_file = self._source.path
        if self._key_file is not None and self._key_file.absolute() == self._path.absolute():
            raise ConfigError("key_file must not be the store file itself", key="key_file")
        self._material: StoreKey | None = None
        self._write_lock = threading.Lock()
        self._derived: dict[Kdf, StoreKey] = {}
        self._cache: tuple[_Stamp, VersionedDocument] | None = None
        self._swept = False

    @property
    def path(self) -> Path:
        return self._path

    def _error(self, cls: type[E], detail: str, fields: Mapping[str, Any]) -> E:
        return cls(provider=_PROVIDER, detail=detail, **fields)

    def _call(self, fn: Callable[[], T], doing: str, fields: Mapping[str, Any]) -> T:
        """``fn()``, an OSError from it translated (``doing``: what failed, e.g. "read")."""
        return call(fn, _translate, doing=f"cannot {doing} store {self._shown}", **fields)

    # -- key handling ------------------------------------------------------------------
    @staticmethod
    def _decoded(source: CredentialSource) -> StoreKey:
        """The key the source's text encodes; a ConfigError naming the source, never the text."""
        if source.path is not None:
            where, option = f"key file {source.source}", "key_file"
        elif source.env is not None:
            where, option = f"environment variable {source.source}", "key_env"
        else:
            where, option = "the key", "key"
        key = key_from_text(source.read().reveal())
        if isinstance(key, str):
            raise ConfigError(f"{where} {key}", key=option)
        return key

    def _new_key_file(self, path: Path) -> StoreKey:
        """A new random key, written to ``path`` (0600) unless it exists: then the key in it."""
        key = StoreKey(os.urandom(KEY_BYTES))
        if files.create_private(path, (key_text(key) + "\n").encode("ascii")):
            return key
        return self._key_from_file(path)

    def _key_from_file(self, path: Path) -> StoreKey:
        assert self._source is not None  # noqa: S101 - a key file has a source
        mode = files.loose_mode(path)
        if mode is not None:
            where = self._source.source
            raise ConfigError(
                f"key file {where} is readable or writable by group/others (mode {mode:04o}); "
                f"run: chmod 600 {where}",
                key="key_file",
            )
        return self._decoded(self._source)

    def _resolve_material(self, *, create_key_file: bool) -> StoreKey:
        if self._material is not None:
            return self._material
        if self._given is not None:
            return self._given
        assert self._source is not None  # noqa: S101 - the constructor made one
        if self._scrypt_n is not None:
            material = _passphrase(self._source)
        elif self._key_file is not None:
            if create_key_file and not self._key_file.exists():
                material = self._new_key_file(self._key_file)
            else:
                material = self._key_from_file(self._key_file)
        else:
            material = self._decoded(self._source)
        self._material = material
        return material

    def _key_for(self, kdf: Kdf, fields: Mapping[str, Any], *, create: bool = False) -> StoreKey:
        material = self._resolve_material(create_key_file=create)
        if kdf.passphrase != (self._scrypt_n is not None):
            expected = "a passphrase" if kdf.passphrase else "a raw key"
            detail = f"the key does not open store {self._shown}: the store expects {expected}"
            raise self._error(StoreKeyMismatch, detail, fields)
        derived = self._derived.get(kdf)
        if derived is None:
            derived = self._derived[kdf] = kdf.key(material)
        return derived

    def _key_for_new_store(self, kdf: Kdf, fields: Mapping[str, Any]) -> StoreKey:
        where = "" if self._source is None else self._source.source
        create = lambda: self._key_for(kdf, fields, create=True)  # noqa: E731
        return call(create, _translate, doing=f"cannot create key file {where}", **fields)

    # -- reading -----------------------------------------------------------------------
    def _open(self, data: bytes, fields: Mapping[str, Any]) -> _Snapshot:
        failure: SecretwireError | None = None
        try:
            envelope = Envelope.parse(data)
        except FormatError as err:
            failure = self._error(StoreCorrupted, f"store {self._shown}: {err}", fields)
        if failure is not None:  # outside the except block: no __context__
            raise failure
        key = self._key_for(envelope.kdf, fields)
        if not envelope.opens_with(key):
            detail = f"the key does not open store {self._shown} (or its header was modified)"
            raise self._error(StoreKeyMismatch, detail, fields)
        document = envelope.open(key, VersionedDocument.decode)
        if isinstance(document, str):
            raise self._error(StoreCorrupted, f"store {self._shown}: {document}", fields)
        return _Snapshot(envelope.kdf, key, document)

    def _missing(self, fields: Mapping[str, Any]) -> VersionedDocument:
        if not self._create:
            detail = f"store {self._shown} does not exist (create is disabled)"
            raise self._error(ProviderUnavailable, detail, fields)
        return VersionedDocument()

    def _read(self, *, cached: bool) -> tuple[_Stamp, bytes | VersionedDocument] | None:
        """The store file's stamp and bytes (or, if ``cached``, the cached document
        while the file is unchanged); ``None`` if it is missing. The stamp comes from
        ``fstat`` of the handle that is read, so it always describes the bytes read
        (the store is replaced by rename)."""
        try:
            with open(self._path, "rb") as handle:
                head = read_head(handle)
                status = os.fstat(handle.fileno())
                stamp = (status.st_ino, status.st_mtime_ns, status.st_size, nonce_of(head))
                if cached and self._cache is not None and self._cache[0] == stamp:
                    return stamp, self._cache[1]
                return stamp, head + handle.read()
        except FileNotFoundError:
            return None

    def _document(self, operation: str | None, name: str | None = None) -> VersionedDocument:
        """The current document (never to be changed), from the cache while the file
        is unchanged."""
        if not self._swept:
            self._swept = True
            files.sweep(self._path, self._lock_path)
        fields = {"operation": operation, "name": name}
        read = self._call(lambda: self._read(cached=True), "read", fields)
        if read is None:
            return self._missing(fields)
        stamp, data = read
        if isinstance(data, VersionedDocument):
            return data
        document = self._open(data, fields).document
        self._cache = (stamp, document)
        return document

    # -- writing -----------------------------------------------------------------------
    def _fresh_snapshot(self, fields: Mapping[str, Any]) -> _Snapshot | None:
        """Read and decrypt the store bypassing the cache; ``None`` if it is missing."""
        read = self._call(lambda: self._read(cached=False), "read", fields)
        if read is None:
            return None
        assert isinstance(read[1], bytes)  # noqa: S101 - not from the cache
        return self._open(read[1], fields)

    def _persist(
        self, kdf: Kdf, key: StoreKey, document: VersionedDocument, fields: Mapping[str, Any]
    ) -> None:
        # The plaintext exists only inside seal(), whose frame does not fail.
        sealed = seal(kdf, key, document.encode())
        status = self._call(lambda: files.atomic_write(self._path, sealed), "write", fields)
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size, nonce_of(sealed))
        self._cache = (stamp, document)

    @contextlib.contextmanager
    def _locked(self, fields: Mapping[str, Any], *, make_dirs: bool) -> Iterator[None]:
        """Hold the write lock (thread and file). Leftover temporary files of killed
        writers are removed first: holding the lock proves none is in use."""
        with self._write_lock, contextlib.ExitStack() as stack:

            def lock() -> None:
                if make_dirs:
                    self._path.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(files.exclusive_lock(self._lock_path))

            self._call(lock, "lock", fields)
            files.remove_temp_files(self._path)
            self._swept = True
            yield

    def _mutate(self, change: Callable[[VersionedDocument], T], operation: str, name: str) -> T:
        """Apply ``change`` to a fresh copy of the document under the write lock."""
        fields = {"operation": operation, "name": name}
        with self._locked(fields, make_dirs=self._create):
            snapshot = self._fresh_snapshot(fields)
            document = snapshot.document.copy() if snapshot is not None else self._missing(fields)
            result = change(document)
            if snapshot is not None:
                kdf, key = snapshot.kdf, snapshot.key
            else:
                kdf = Kdf.new(scrypt_n=self._scrypt_n)
                key = self._key_for_new_store(kdf, fields)
            self._persist(kdf, key, document, fields)
            return result

    def initialize(self) -> None:
        """Create an empty store (and the key file when configured and missing).

        Works whatever ``create`` says. Raises :class:`Conflict` when the store
        already exists.
        """
        fields = {"operation": "initialize"}
        with self._locked(fields, make_dirs=True):
            if self._path.exists():
                raise self._error(Conflict, f"store {self._shown} already exists", fields)
            kdf = Kdf.new(scrypt_n=self._scrypt_n)
            key = self._key_for_new_store(kdf, fields)
            self._persist(kdf, key, VersionedDocument(), fields)

    # -- the hooks (the base checked every argument) -----------------------------------
    def _get(self, name: str, version: str | None) -> Secret:
        return self._document("get", name).read(name, version, provider=_PROVIDER)

    def _list(self, prefix: str) -> Iterable[str]:
        return self._document("list").names(prefix)

    def _versions(self, name: str) -> builtins.list[SecretVersion]:
        return self._document("versions", name).versions(name, provider=_PROVIDER)

    def _set(self, write: Write) -> SecretVersion:
        return self._mutate(lambda document: document.write(write), "set", write.name)

    def _annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        change = lambda document: document.annotate(name, version, metadata, provider=_PROVIDER)  # noqa: E731
        self._mutate(change, "annotate", name)

    def _delete(self, name: str) -> None:
        # Fail fast, without creating a lock file for a missing store.
        if name not in self._document("delete", name):
            raise SecretNotFound(operation="delete", name=name, provider=_PROVIDER)
        self._mutate(lambda document: document.delete(name, provider=_PROVIDER), "delete", name)

    def _health(self) -> Health:
        try:
            exists = self._path.exists()
            self._document(None)
            if not exists and not (self._key_file is not None and self._create):
                self._resolve_material(create_key_file=False)
        except (ProviderError, ConfigError) as err:
            # The status says "unavailable" already.
            detail = reason_of(err).removeprefix(f"{HealthStatus.UNAVAILABLE.value}: ")
            return Health(self.name, HealthStatus.UNAVAILABLE, detail)
        except OSError as err:
            detail = f"store {self._shown}: {os_reason(err)}"
            return Health(self.name, HealthStatus.UNAVAILABLE, detail)
        detail = "" if exists else "store does not exist yet; the first write creates it"
        return Health(self.name, HealthStatus.OK, detail)

    def _close(self) -> None:
        self._cache = None
        self._material = None
        self._derived.clear()

    def __repr__(self) -> str:
        # getattr: also called on a half-built provider (a frame of a failed __init__)
        return f"<{type(self).__name__} name={self.name!r} path={getattr(self, '_shown', '?')!r}>"
