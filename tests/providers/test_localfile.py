"""Tests of the encrypted local store provider (``secretwire.providers.localfile``)."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest

from secretwire.errors import (
    ConfigError,
    Conflict,
    InvalidSecret,
    ProviderUnavailable,
    SecretExpired,
    SecretNotFound,
    SecretwireError,
    StoreCorrupted,
    StoreError,
    StoreKeyMismatch,
)
from secretwire.providers._store import VersionedDocument
from secretwire.providers.base import HealthStatus
from secretwire.providers.localfile import LocalFileProvider
from secretwire.security import files
from secretwire.security.store_format import Envelope, Kdf, StoreKey, seal
from secretwire.testing import assert_no_leak, check_options
from secretwire.values import SecretValue

T = TypeVar("T")
CANARY = "canary-7f3a9c2e-do-not-leak"
FAST_N = 2**14
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


# -- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture
def key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "secrets.store"


@pytest.fixture
def provider(store_path: Path, key: bytes) -> Iterator[LocalFileProvider]:
    prov = LocalFileProvider(store_path, key=key)
    yield prov
    prov.close()


@pytest.fixture
def filled(provider: LocalFileProvider) -> LocalFileProvider:
    provider.set("db/password", CANARY)
    provider.set("api/token", "token-1")
    return provider


def _header_end(data: bytes) -> int:
    return 12 + int.from_bytes(data[8:12], "big")


def _header(data: bytes) -> dict[str, object]:
    header = json.loads(data[12 : _header_end(data)])
    assert isinstance(header, dict)
    return header


def _flip(path: Path, offset: int) -> None:
    """Flip one bit in place. An in-place edit keeps inode, size and (maybe, within
    one timestamp tick) mtime, so move mtime on as any real later edit would."""
    before = path.stat().st_mtime_ns
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before + 10**9, before + 10**9))


def _with_header(data: bytes, header: dict[str, object]) -> bytes:
    """``data`` with its header replaced (the ciphertext is left as it was)."""
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return b"SWSTORE1" + len(text).to_bytes(4, "big") + text + data[_header_end(data) :]


def _messages(err: BaseException) -> str:
    """Every message and repr along the exception chain."""
    parts: list[str] = []
    current: BaseException | None = err
    while current is not None:
        parts += [str(current), repr(current), repr(current.args)]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


# -- round trips ----------------------------------------------------------------------


def test_round_trip(provider: LocalFileProvider) -> None:
    expires = datetime.now(timezone.utc) + timedelta(days=1)
    info = provider.set(
        "db/password", CANARY, metadata={"owner": "ops"}, tags={"env": "dev"}, expires_at=expires
    )
    assert info.name == "db/password"
    assert info.version == "1"
    assert info.current
    secret = provider.get("db/password")
    assert secret.reveal() == CANARY
    assert secret.name == "db/password"
    assert secret.version == "1"
    assert secret.provider == "file"
    assert dict(secret.metadata) == {"owner": "ops"}
    assert dict(secret.tags) == {"env": "dev"}
    assert secret.expires_at == expires
    assert secret.created_at is not None
    assert secret.created_at.tzinfo is not None
    assert secret.updated_at == secret.created_at
    assert CANARY not in repr(secret)
    assert CANARY not in str(secret)


def test_new_instance_reads_what_another_wrote(store_path: Path, key: bytes) -> None:
    LocalFileProvider(store_path, key=key).set("a", "1")
    assert LocalFileProvider(store_path, key=key).get("a").reveal() == "1"


def test_versions_newest_first_and_read_by_id(provider: LocalFileProvider) -> None:
    for value in ("v1", "v2", "v3"):
        provider.set("rotating", value)
    versions = provider.versions("rotating")
    assert [v.version for v in versions] == ["3", "2", "1"]
    assert [v.current for v in versions] == [True, False, False]
    assert provider.get("rotating").reveal() == "v3"
    assert provider.get("rotating", version="1").reveal() == "v1"
    old = provider.get("rotating", version="2")
    assert old.version == "2"
    assert old.created_at == versions[-1].created_at
    assert old.updated_at == versions[1].created_at
    with pytest.raises(SecretNotFound) as info:
        provider.get("rotating", version="9")
    assert info.value.version == "9"
    assert info.value.name == "rotating"
    assert info.value.provider == "file"


def test_unicode_names_and_values(provider: LocalFileProvider) -> None:
    pairs = {
        "clé/mot-de-passe": "pässwörd ✓",
        "秘密/鍵": "値🔑",
        "emoji/🚀": "\u0000nul-inside-value\U0010ffff",
    }
    for name, value in pairs.items():
        provider.set(name, value)
    provider.close()
    for name, value in pairs.items():
        assert provider.get(name).reveal() == value
    assert sorted(pairs) == list(provider.list())


def test_one_mebibyte_value(provider: LocalFileProvider, store_path: Path, key: bytes) -> None:
    value = "x" * (1024 * 1024 - 7) + "ünïcod"
    provider.set("big", value)
    assert LocalFileProvider(store_path, key=key).get("big").reveal() == value


def test_list_prefix_sorted(provider: LocalFileProvider) -> None:
    for name in ("b/2", "a/1", "b/1", "c"):
        provider.set(name, "v")
    assert list(provider.list()) == ["a/1", "b/1", "b/2", "c"]
    assert list(provider.list("b/")) == ["b/1", "b/2"]
    assert list(provider.list("zzz")) == []


def test_delete_removes_all_versions(provider: LocalFileProvider) -> None:
    provider.set("gone", "1")
    provider.set("gone", "2")
    provider.set("kept", "k")
    provider.delete("gone")
    with pytest.raises(SecretNotFound):
        provider.get("gone")
    with pytest.raises(SecretNotFound):
        provider.versions("gone")
    assert list(provider.list()) == ["kept"]
    with pytest.raises(SecretNotFound) as info:
        provider.delete("gone")
    assert info.value.name == "gone"
    assert provider.set("gone", "again").version == "1"


def test_capabilities() -> None:
    caps = LocalFileProvider.capabilities
    assert (caps.write, caps.delete, caps.list, caps.versions, caps.metadata) == (True,) * 5
    assert caps.max_value_bytes is None
    assert LocalFileProvider.name == "file"


# -- a missing store ----------------------------------------------------------------------


def test_missing_store_reads_as_empty(provider: LocalFileProvider, store_path: Path) -> None:
    with pytest.raises(SecretNotFound) as info:
        provider.get("nothing")
    assert info.value.provider == "file"
    assert list(provider.list()) == []
    with pytest.raises(SecretNotFound):
        provider.delete("nothing")
    assert provider.health().ok
    assert list(store_path.parent.iterdir()) == []


def test_first_write_creates_store_and_folder(tmp_path: Path, key: bytes) -> None:
    path = tmp_path / "new" / "folder" / "store"
    LocalFileProvider(path, key=key).set("a", "b")
    assert path.is_file()


def test_create_false_needs_an_existing_store(store_path: Path, key: bytes) -> None:
    prov = LocalFileProvider(store_path, key=key, create=False)
    with pytest.raises(ProviderUnavailable, match="does not exist"):
        prov.get("a")
    with pytest.raises(ProviderUnavailable):
        prov.set("a", "b")
    assert prov.health().status is HealthStatus.UNAVAILABLE
    assert not store_path.exists()
    LocalFileProvider(store_path, key=key).set("a", "b")
    assert prov.get("a").reveal() == "b"


def test_initialize(tmp_path: Path) -> None:
    store, key_file = tmp_path / "s.store", tmp_path / "s.key"
    prov = LocalFileProvider(store, key_file=key_file)
    prov.initialize()
    assert store.is_file()
    assert key_file.is_file()
    assert list(prov.list()) == []
    with pytest.raises(Conflict, match="already exists"):
        prov.initialize()
    assert list(LocalFileProvider(store, key_file=key_file).list()) == []


# -- tampering, truncation, wrong key ----------------------------------------------------


def _tamper_offsets(data: bytes) -> dict[str, int]:
    end = _header_end(data)
    header = data[12:end]
    return {
        "magic": 0,
        "header-length": 11,
        "header-open-brace": 12,
        "header-format-key": 12 + header.index(b'"format"') + 1,
        "header-format-value": 12 + header.index(b'"format":1') + len(b'"format":'),
        "header-cipher": 12 + header.index(b"AES-256-GCM"),
        "header-kdf": 12 + header.index(b'"raw"') + 1,
        "nonce-first": end,
        "nonce-last": end + 11,
        "ciphertext-first": end + 12,
        "ciphertext-middle": (end + 12 + len(data)) // 2,
        "last-byte": len(data) - 1,
    }


@pytest.mark.parametrize(
    "where",
    [
        "magic",
        "header-length",
        "header-open-brace",
        "header-format-key",
        "header-format-value",
        "header-cipher",
        "header-kdf",
        "nonce-first",
        "nonce-last",
        "ciphertext-first",
        "ciphertext-middle",
        "last-byte",
    ],
)
def test_flipped_byte_is_detected(
    filled: LocalFileProvider, store_path: Path, key: bytes, where: str
) -> None:
    offset = _tamper_offsets(store_path.read_bytes())[where]
    _flip(store_path, offset)
    fresh = LocalFileProvider(store_path, key=key)
    with pytest.raises(StoreCorrupted) as info:
        fresh.get("db/password")
    assert str(store_path) in str(info.value)
    assert CANARY not in _messages(info.value)
    # the provider that cached the document notices the change too
    with pytest.raises(StoreCorrupted):
        filled.get("db/password")


@pytest.mark.parametrize("keep", [0, 1, 8, 11, 12, 40, -29, -17, -16, -1])
def test_truncation_is_detected(
    filled: LocalFileProvider, store_path: Path, key: bytes, keep: int
) -> None:
    data = store_path.read_bytes()
    if keep == 40:
        keep = _header_end(data)
    store_path.write_bytes(data[:keep])
    with pytest.raises(StoreCorrupted):
        LocalFileProvider(store_path, key=key).get("db/password")


@pytest.mark.parametrize(
    "content",
    [b"", b"hello world", b'{"secrets": {}}', b"SWSTORE1", b"SWSTORE2" + bytes(64)],
)
def test_not_a_store(store_path: Path, key: bytes, content: bytes) -> None:
    store_path.write_bytes(content)
    with pytest.raises(StoreCorrupted, match="corrupted"):
        list(LocalFileProvider(store_path, key=key).list())


@pytest.mark.parametrize("fmt", [2, "{store}", "{0!r:%}"])
def test_unsupported_format_number(
    filled: LocalFileProvider, store_path: Path, fmt: object
) -> None:
    data = store_path.read_bytes()
    store_path.write_bytes(_with_header(data, {**_header(data), "format": fmt}))
    with pytest.raises(StoreCorrupted, match="unsupported store format") as info:
        LocalFileProvider(store_path, key=os.urandom(32)).get("db/password")
    assert str(store_path) in str(info.value)  # a hostile header is only quoted, never a template


def test_modified_key_check_reports_key_mismatch(
    filled: LocalFileProvider, store_path: Path, key: bytes
) -> None:
    data = store_path.read_bytes()
    other = base64.b64encode(os.urandom(16)).decode()
    store_path.write_bytes(_with_header(data, {**_header(data), "key_check": other}))
    with pytest.raises(StoreKeyMismatch, match="header was modified"):
        LocalFileProvider(store_path, key=key).get("db/password")


def test_plaintext_that_is_not_a_document_is_corrupted(store_path: Path, key: bytes) -> None:
    sealed = seal(Kdf("raw"), StoreKey(key), {"secrets": {"a": {"next": "x"}}})
    store_path.write_bytes(sealed)
    with pytest.raises(StoreCorrupted, match="not a valid store document"):
        LocalFileProvider(store_path, key=key).get("a")


def test_wrong_key(filled: LocalFileProvider, store_path: Path) -> None:
    wrong = LocalFileProvider(store_path, key=os.urandom(32))
    with pytest.raises(StoreKeyMismatch, match="key does not open store") as info:
        wrong.get("db/password")
    assert CANARY not in _messages(info.value)
    with pytest.raises(StoreKeyMismatch):
        list(wrong.list())
    health = wrong.health()
    assert health.status is HealthStatus.UNAVAILABLE
    assert "key does not open" in health.detail


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("damage", ["flip", "truncate", "wrong-key"])
def test_failed_write_leaves_store_untouched(
    filled: LocalFileProvider, store_path: Path, key: bytes, damage: str
) -> None:
    writer_key = key
    if damage == "flip":
        _flip(store_path, len(store_path.read_bytes()) // 2)
    elif damage == "truncate":
        store_path.write_bytes(store_path.read_bytes()[:-5])
    else:
        writer_key = os.urandom(32)
    before = store_path.read_bytes()
    writer = LocalFileProvider(store_path, key=writer_key)
    with pytest.raises(StoreError):
        writer.set("new", "value")
    with pytest.raises(StoreError):
        writer.delete("db/password")
    if damage != "wrong-key":
        with pytest.raises(StoreCorrupted):
            filled.set("x", "y")  # had the document cached, still refuses
    assert store_path.read_bytes() == before
    assert _no_temp_files(store_path.parent)


def test_passphrase_provider_refuses_raw_key_store(
    filled: LocalFileProvider, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SW_TEST_PASS", "some passphrase")
    as_passphrase = LocalFileProvider(store_path, passphrase_env="SW_TEST_PASS", scrypt_n=FAST_N)
    with pytest.raises(StoreKeyMismatch, match="expects a raw key"):
        as_passphrase.get("db/password")


# -- key sources --------------------------------------------------------------------------


@posix_only
def test_key_file_created_with_mode_0600(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "store.key"
    prov = LocalFileProvider(tmp_path / "store", key_file=key_file)
    assert not key_file.exists()  # reads do not create it
    assert list(prov.list()) == []
    assert not key_file.exists()
    prov.set("a", CANARY)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    raw = base64.urlsafe_b64decode(key_file.read_text().strip())
    assert len(raw) == 32
    assert LocalFileProvider(tmp_path / "store", key=raw).get("a").reveal() == CANARY


@posix_only
def test_store_file_mode_0600(filled: LocalFileProvider, store_path: Path) -> None:
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    lock = store_path.with_name(store_path.name + ".lock")
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "store.key"
    key_file.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
    key_file.chmod(mode)
    prov = LocalFileProvider(tmp_path / "store", key_file=key_file)
    with pytest.raises(ConfigError, match="chmod 600") as info:
        prov.set("a", "b")
    assert info.value.key == "key_file"
    assert not (tmp_path / "store").exists()


def test_create_false_does_not_create_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "store.key"
    prov = LocalFileProvider(tmp_path / "store", key_file=key_file, create=False)
    with pytest.raises(ProviderUnavailable):
        prov.set("a", "b")
    assert not key_file.exists()
    prov.initialize()  # explicit: creates both, whatever ``create`` says
    assert key_file.is_file()
    prov.set("a", "b")
    assert prov.get("a").reveal() == "b"


def test_missing_key_file_for_existing_store(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    LocalFileProvider(tmp_path / "store", key_file=key_file).set("a", "b")
    key_file.unlink()
    with pytest.raises(ConfigError, match=r"key file .* does not exist"):
        LocalFileProvider(tmp_path / "store", key_file=key_file).get("a")
    assert not key_file.exists()


def test_key_env(store_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SW_TEST_KEY", base64.urlsafe_b64encode(key).decode())
    LocalFileProvider(store_path, key_env="SW_TEST_KEY").set("a", CANARY)
    assert LocalFileProvider(store_path, key=key).get("a").reveal() == CANARY


def test_key_env_without_padding(
    store_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SW_TEST_KEY", base64.urlsafe_b64encode(key).decode().rstrip("="))
    LocalFileProvider(store_path, key_env="SW_TEST_KEY").set("a", "b")
    assert LocalFileProvider(store_path, key=key).get("a").reveal() == "b"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, "SW_TEST_KEY is not set"),
        ("", "SW_TEST_KEY is not set"),
        ("not base64 at all!", "not valid urlsafe base64"),
        (base64.urlsafe_b64encode(b"short").decode(), "32 bytes"),
        (base64.urlsafe_b64encode(bytes(33)).decode(), "32 bytes"),
    ],
)
def test_bad_key_env(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, match: str
) -> None:
    if content is None:
        monkeypatch.delenv("SW_TEST_KEY", raising=False)
    else:
        monkeypatch.setenv("SW_TEST_KEY", content)
    with pytest.raises(ConfigError, match=match) as info:
        LocalFileProvider(store_path, key_env="SW_TEST_KEY").set("a", "b")
    assert info.value.key == "key_env"


@posix_only
def test_bad_key_file_content(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    key_file.write_text("@@@@")
    key_file.chmod(0o600)
    with pytest.raises(ConfigError, match="not valid urlsafe base64"):
        LocalFileProvider(tmp_path / "store", key_file=key_file).set("a", "b")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"key": bytes(32), "key_env": "X"},
        {"key_file": "k", "passphrase_env": "P"},
    ],
)
def test_exactly_one_key_source(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="exactly one key source"):
        LocalFileProvider(tmp_path / "store", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [bytes(16), bytes(31), bytes(33), "0" * 32])
def test_programmatic_key_must_be_32_bytes(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ConfigError, match="32 bytes"):
        LocalFileProvider(tmp_path / "store", key=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [1000, 2**9, 2**21, 3 * 2**14])
def test_scrypt_n_checked(tmp_path: Path, n: int) -> None:
    with pytest.raises(ConfigError, match="scrypt_n"):
        LocalFileProvider(tmp_path / "store", passphrase_env="P", scrypt_n=n)


@pytest.mark.slow
def test_passphrase_mode(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SW_TEST_PASS", "correct horse battery staple")
    prov = LocalFileProvider(store_path, passphrase_env="SW_TEST_PASS", scrypt_n=FAST_N)
    prov.set("a", CANARY)
    header = _header(store_path.read_bytes())
    kdf = header["kdf"]
    assert isinstance(kdf, dict)
    assert kdf["name"] == "scrypt"
    assert (kdf["n"], kdf["r"], kdf["p"]) == (FAST_N, 8, 1)
    assert len(base64.b64decode(kdf["salt"])) == 16
    prov.set("b", "second write keeps the salt")
    assert _header(store_path.read_bytes())["kdf"] == kdf

    # a new instance with the default n reuses the store's parameters
    again = LocalFileProvider(store_path, passphrase_env="SW_TEST_PASS")
    assert again.get("a").reveal() == CANARY

    monkeypatch.setenv("SW_TEST_PASS", "Correct horse battery staple")
    wrong = LocalFileProvider(store_path, passphrase_env="SW_TEST_PASS", scrypt_n=FAST_N)
    with pytest.raises(StoreKeyMismatch) as info:
        wrong.get("a")
    assert "Correct horse" not in _messages(info.value)
    before = store_path.read_bytes()
    with pytest.raises(StoreKeyMismatch):
        wrong.set("c", "d")
    assert store_path.read_bytes() == before

    with pytest.raises(StoreKeyMismatch, match="expects a passphrase"):
        LocalFileProvider(store_path, key=os.urandom(32)).get("a")


def test_missing_passphrase_env(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SW_TEST_PASS", raising=False)
    prov = LocalFileProvider(store_path, passphrase_env="SW_TEST_PASS", scrypt_n=FAST_N)
    with pytest.raises(ConfigError, match="SW_TEST_PASS") as info:
        prov.set("a", "b")
    assert info.value.key == "passphrase_env"
    assert prov.health().status is HealthStatus.UNAVAILABLE


# -- no value on disk or in messages --------------------------------------------------------


def test_canary_not_in_store_bytes(provider: LocalFileProvider, store_path: Path) -> None:
    secret_name = "name-" + CANARY
    provider.set(secret_name, CANARY, metadata={"m": CANARY}, tags={"t": CANARY})
    provider.set("other", "ünïcode-" + CANARY)
    data = store_path.read_bytes()
    assert CANARY.encode() not in data
    assert CANARY.encode("utf-8") not in data
    assert b"name-" not in data
    assert b"other" not in data
    lock = store_path.with_name(store_path.name + ".lock")
    assert CANARY.encode() not in lock.read_bytes()


def test_error_messages_carry_no_value(
    filled: LocalFileProvider, store_path: Path, key: bytes
) -> None:
    errors: list[BaseException] = []

    def collect(action: Callable[[], object]) -> None:
        try:
            action()
        except (SecretwireError, TypeError) as err:
            errors.append(err)

    collect(lambda: filled.get("db/password", version="7"))
    collect(lambda: filled.get("missing"))
    collect(lambda: filled.set("x", CANARY.encode()))  # type: ignore[arg-type]
    collect(lambda: filled.set("bad\x00name", CANARY))
    collect(lambda: filled.set("x", CANARY, metadata={"k": 1}))  # type: ignore[dict-item]
    collect(lambda: filled.set("x", CANARY, expires_at=datetime(2030, 1, 1)))
    collect(lambda: LocalFileProvider(store_path, key=os.urandom(32)).get("db/password"))
    _flip(store_path, len(store_path.read_bytes()) - 3)
    collect(lambda: LocalFileProvider(store_path, key=key).get("db/password"))
    collect(lambda: LocalFileProvider(store_path, key=key).set("db/password", CANARY))
    assert len(errors) == 9
    for err in errors:
        assert CANARY not in _messages(err)
    health = LocalFileProvider(store_path, key=key).health()
    assert CANARY not in health.detail


def test_repr_has_no_key(provider: LocalFileProvider, key: bytes) -> None:
    text = repr(provider)
    assert "file" in text
    assert key.hex() not in text
    assert base64.urlsafe_b64encode(key).decode() not in text


# -- argument validation -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "a\x00b", "line\nbreak", "tab\there", "del\x7f", "x" * 513])
def test_invalid_names(provider: LocalFileProvider, name: str) -> None:
    with pytest.raises(InvalidSecret):
        provider.set(name, "v")
    with pytest.raises(InvalidSecret):
        provider.get(name)


def test_non_string_name(provider: LocalFileProvider) -> None:
    with pytest.raises(InvalidSecret):
        provider.get(42)  # type: ignore[arg-type]


def test_longest_name(provider: LocalFileProvider) -> None:
    provider.set("n" * 512, "v")
    assert provider.get("n" * 512).reveal() == "v"


def test_value_must_be_str(provider: LocalFileProvider, store_path: Path) -> None:
    with pytest.raises(TypeError, match="bytes"):
        provider.set("a", b"bytes")  # type: ignore[arg-type]
    assert not store_path.exists()


def test_naive_expiry_refused(provider: LocalFileProvider) -> None:
    with pytest.raises(InvalidSecret, match="timezone-aware"):
        provider.set("a", "b", expires_at=datetime(2030, 1, 1))


# -- caching, crash safety ------------------------------------------------------------------


def test_reads_are_cached_until_the_file_changes(
    filled: LocalFileProvider, store_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = Envelope.open

    def counting(envelope: Envelope, key: StoreKey, parse: Callable[[object], T]) -> T | str:
        calls.append(1)
        return real(envelope, key, parse)

    monkeypatch.setattr(Envelope, "open", counting)
    reader = LocalFileProvider(store_path, key=key)
    for _ in range(5):
        assert reader.get("api/token").reveal() == "token-1"
        assert "db/password" in list(reader.list())
    assert len(calls) == 1
    filled.set("api/token", "token-2")  # written elsewhere: the reader notices
    assert reader.get("api/token").reveal() == "token-2"
    assert len(calls) == 3  # one for the writer's fresh read, one for the reader
    reader.close()
    reader.close()  # idempotent
    assert reader.get("api/token").reveal() == "token-2"


def test_failed_replace_cleans_up(
    filled: LocalFileProvider, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = store_path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ProviderUnavailable, match="cannot write store"):
        filled.set("new", CANARY)
    assert store_path.read_bytes() == before
    assert _no_temp_files(store_path.parent)
    monkeypatch.undo()
    with pytest.raises(SecretNotFound):
        filled.get("new")


def test_store_path_is_a_directory(tmp_path: Path, key: bytes) -> None:
    with pytest.raises(ProviderUnavailable, match="cannot read store"):
        LocalFileProvider(tmp_path, key=key).get("a")


def test_only_expected_files_are_left(
    filled: LocalFileProvider, store_path: Path, tmp_path: Path
) -> None:
    filled.set("more", "x")
    filled.delete("more")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secrets.store", "secrets.store.lock"]


# -- concurrency ---------------------------------------------------------------------------------


def test_concurrent_threads(store_path: Path, key: bytes) -> None:
    shared = LocalFileProvider(store_path, key=key)
    others = [LocalFileProvider(store_path, key=key) for _ in range(2)]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        prov = shared if index % 2 else others[index % 4 // 2]
        try:
            for i in range(15):
                prov.set(f"t{index}/{i:02d}", f"value-{index}-{i}")
                prov.set("counter", str(index))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = list(LocalFileProvider(store_path, key=key).list())
    assert len(names) == 8 * 15 + 1
    ids = [v.version for v in shared.versions("counter")]
    assert ids == [str(n) for n in range(8 * 15, 0, -1)]


def _process_worker(path: str, key: bytes, worker: int, count: int) -> None:
    prov = LocalFileProvider(Path(path), key=key)
    for i in range(count):
        prov.set(f"p{worker}/{i:03d}", f"value-{worker}-{i}")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX locking semantics")
def test_two_processes_lose_no_writes(store_path: Path, key: bytes) -> None:
    LocalFileProvider(store_path, key=key).initialize()
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_process_worker, args=(str(store_path), key, n, 200))
        for n in range(2)
    ]
    for proc in workers:
        proc.start()
    for proc in workers:
        proc.join(timeout=240)
    assert [proc.exitcode for proc in workers] == [0, 0]
    prov = LocalFileProvider(store_path, key=key)
    names = list(prov.list())
    assert len(names) == 400
    assert prov.get("p0/199").reveal() == "value-0-199"
    assert prov.get("p1/000").reveal() == "value-1-0"


# -- settings and health -----------------------------------------------------------------


def test_from_options(tmp_path: Path) -> None:
    prov = LocalFileProvider.from_options(
        {"path": "data/store", "key_file": "keys/store.key", "create": True}, base_dir=tmp_path
    )
    prov.set("a", "b")
    assert (tmp_path / "data" / "store").is_file()
    assert (tmp_path / "keys" / "store.key").is_file()
    absolute = LocalFileProvider.from_options(
        {"path": str(tmp_path / "data" / "store"), "key_file": str(tmp_path / "keys/store.key")},
        base_dir=tmp_path / "elsewhere",
    )
    assert absolute.get("a").reveal() == "b"


def test_from_options_env_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SW_TEST_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    prov = LocalFileProvider.from_options(
        {"path": "s", "key_env": "SW_TEST_KEY", "create": False}, base_dir=tmp_path
    )
    assert isinstance(prov, LocalFileProvider)
    assert prov.path == tmp_path / "s"
    with pytest.raises(ProviderUnavailable):
        prov.get("a")


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"path": "s", "key_file": "k", "colour": "blue"}, "colour"),
        ({"key_file": "k"}, "path"),
        ({"path": 3, "key_file": "k"}, "path"),
        ({"path": "s", "key_file": 5}, "key_file"),
        ({"path": "s", "key_env": ["X"]}, "key_env"),
        ({"path": "s", "passphrase_env": 1}, "passphrase_env"),
        ({"path": "s", "key_file": "k", "create": "yes"}, "create"),
        ({"path": "s", "key": "abc"}, "key"),
    ],
)
def test_from_options_errors(tmp_path: Path, options: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        LocalFileProvider.from_options(options, base_dir=tmp_path)
    assert info.value.key == key


def test_health(filled: LocalFileProvider, store_path: Path) -> None:
    health = filled.health()
    assert health.ok
    assert health.provider == "file"
    assert health.latency_seconds is None  # the manager's pipeline times it
    store_path.write_bytes(b"garbage")
    health = filled.health()
    assert health.status is HealthStatus.UNAVAILABLE
    assert "corrupted" in health.detail


# -- no key, passphrase or value on an error path (messages, chains, frame locals) ----------


def _key_text(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def _key_forms(key: bytes) -> tuple[str, str]:
    """The key as a key file or variable holds it, and as ``repr`` shows its bytes."""
    return _key_text(key), repr(key)[2:-1]


def test_wrong_key_shows_neither_key_nor_value(filled: LocalFileProvider, store_path: Path) -> None:
    wrong = os.urandom(32)
    with pytest.raises(StoreKeyMismatch) as info:
        LocalFileProvider(store_path, key=wrong).get("db/password")
    assert_no_leak(info.value, CANARY, *_key_forms(wrong))


def test_corrupted_store_shows_neither_key_nor_value(
    filled: LocalFileProvider, store_path: Path, key: bytes
) -> None:
    _flip(store_path, len(store_path.read_bytes()) - 3)
    with pytest.raises(StoreCorrupted) as info:
        LocalFileProvider(store_path, key=key).get("db/password")
    assert_no_leak(info.value, CANARY, *_key_forms(key))


def test_decrypted_junk_is_not_on_any_traceback(store_path: Path, key: bytes) -> None:
    junk = {"secrets": {"a": {"next": 1, "versions": [{"value": CANARY}]}}}
    store_path.write_bytes(seal(Kdf("raw"), StoreKey(key), junk))
    with pytest.raises(StoreCorrupted, match="not a valid store document") as info:
        LocalFileProvider(store_path, key=key).get("a")
    assert_no_leak(info.value, CANARY, *_key_forms(key))


def test_passphrase_for_a_raw_key_store_is_not_shown(
    filled: LocalFileProvider, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passphrase = "correct horse battery staple " + CANARY
    monkeypatch.setenv("SW_TEST_PASS", passphrase)
    reader = LocalFileProvider(store_path, passphrase_env="SW_TEST_PASS", scrypt_n=FAST_N)
    with pytest.raises(StoreKeyMismatch) as info:
        reader.get("db/password")
    assert_no_leak(info.value, CANARY, passphrase)


def test_key_file_bytes_are_not_kept_on_the_error_context(tmp_path: Path) -> None:
    """A UnicodeDecodeError holds the file's bytes: it must not be __context__."""
    key_file = tmp_path / "store.key"
    text = CANARY + "-\u00e9"  # not ASCII
    key_file.write_bytes(text.encode("utf-8"))
    key_file.chmod(0o600)
    with pytest.raises(ConfigError, match="non-ASCII") as info:
        LocalFileProvider(tmp_path / "store", key_file=key_file).set("a", "b")
    assert info.value.__context__ is None
    assert_no_leak(info.value, CANARY)


def test_a_key_file_that_is_nearly_a_key_is_not_shown(tmp_path: Path) -> None:
    text = _key_text(os.urandom(31))  # valid base64, one byte short
    key_file = tmp_path / "store.key"
    key_file.write_text(text)
    key_file.chmod(0o600)
    with pytest.raises(ConfigError, match="must decode to 32 bytes") as info:
        LocalFileProvider(tmp_path / "store", key_file=key_file).set("a", "b")
    assert_no_leak(info.value, text)


def _echoes(err: BaseException, text: str) -> bool:
    """Whether ``text`` is in the message, repr, args or attributes of the chain.
    (The caller's own argument is, naturally, in the frames that received it.)"""
    current: BaseException | None = err
    while current is not None:
        if any(text in part for part in (str(current), repr(current), repr(vars(current)))):
            return True
        current = current.__cause__ or current.__context__
    return False


@pytest.mark.parametrize("option", ["key_env", "passphrase_env"])
def test_key_given_instead_of_a_variable_name_is_not_echoed(tmp_path: Path, option: str) -> None:
    key = _key_text(os.urandom(32))
    with pytest.raises(ConfigError, match="must name an environment variable") as info:
        LocalFileProvider(tmp_path / "store", **{option: key})  # type: ignore[arg-type]
    assert info.value.key == option
    assert not _echoes(info.value, key)
    with pytest.raises(ConfigError) as from_settings:
        LocalFileProvider.from_options({"path": "s", option: key}, base_dir=tmp_path)
    assert not _echoes(from_settings.value, key)


def test_a_variable_holding_no_key_is_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SW_TEST_KEY", CANARY)
    with pytest.raises(ConfigError, match="SW_TEST_KEY must decode to 32 bytes") as info:
        LocalFileProvider(tmp_path / "store", key_env="SW_TEST_KEY").set("a", "b")
    assert_no_leak(info.value, CANARY)


def test_failed_write_holds_no_value_or_key_with_fake_disk_full(
    filled: LocalFileProvider, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fake: a full disk (os.replace fails) cannot be produced here for real."""

    def full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(ProviderUnavailable, match="No space left") as info:
        filled.set("db/password", CANARY + "-new")
    assert_no_leak(info.value, CANARY, *_key_forms(key))


def test_options_from_a_secret_are_used_but_never_shown(tmp_path: Path) -> None:
    hidden = tmp_path / f"{CANARY}-folder"
    prov = LocalFileProvider.from_options(
        {"path": SecretValue(str(hidden / "store")), "key_file": SecretValue("k.key")},
        base_dir=tmp_path,
    )
    prov.set("a", "b")
    assert (hidden / "store").is_file() and (tmp_path / "k.key").is_file()
    assert CANARY not in repr(prov)
    (hidden / "store").write_bytes(b"junk")
    with pytest.raises(StoreCorrupted) as info:
        prov.get("a")
    assert not _echoes(info.value, CANARY)
    health = prov.health()
    assert not health.ok and CANARY not in health.detail
    key_file = tmp_path / f"{CANARY}.key"  # missing
    LocalFileProvider(tmp_path / "other", key=os.urandom(32)).set("a", "b")
    with pytest.raises(ConfigError, match="does not exist") as missing:
        LocalFileProvider(tmp_path / "other", key_file=SecretValue(str(key_file))).get("a")
    assert not _echoes(missing.value, CANARY)


# -- temporary files of killed writers ----------------------------------------------------

_KILLED_WRITER = """
import sys
from pathlib import Path
from secretwire.providers.localfile import LocalFileProvider

provider = LocalFileProvider(Path(sys.argv[1]), key_file=Path(sys.argv[2]))
blob = "v" * 50_000
provider.set("ready", "yes")
print("ready", flush=True)
i = 0
while True:
    provider.set(f"item-{i % 20:02d}", f"{i}:{blob}")
    i += 1
"""


@dataclass
class _Kills:
    kills: int = 0
    left: int = 0  #: kills after which a temporary file was left behind
    complete: int = 0  #: ... that was a complete, decryptable copy of the store
    most_at_once: int = 0  #: the most temporary files found at one time


def _kill_writers(store: Path, key_file: Path, stats: _Kills, *, at_least: int) -> None:
    """Start a writer and SIGKILL it at a random moment, ``at_least`` times and then
    until the last kill left a temporary file (at most 200 kills)."""
    import random
    import signal
    import subprocess
    import time

    left: list[Path] = []
    start = stats.kills
    while stats.kills - start < at_least or not left:
        assert stats.kills - start < 200, "no writer was killed mid-write in 200 tries"
        writer = subprocess.Popen(
            [sys.executable, "-c", _KILLED_WRITER, str(store), str(key_file)],
            stdout=subprocess.PIPE,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline() == b"ready\n"
        time.sleep(random.uniform(0.0, 0.15))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
        stats.kills += 1
        left = files.leftover_temp_files(store)
        stats.most_at_once = max(stats.most_at_once, len(left))
        if left:
            stats.left += 1
            stats.complete += _complete_copies(left, key_file)


def _complete_copies(paths: list[Path], key_file: Path) -> int:
    complete = 0
    for path in paths:
        try:
            list(LocalFileProvider(path, key_file=key_file).list())
        except StoreError:
            continue
        complete += 1
    return complete


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_temp_files_of_killed_writers_are_removed_on_open_and_on_write(tmp_path: Path) -> None:
    store, key_file = tmp_path / "dev.store", tmp_path / "dev.key"
    other = tmp_path / "dev.store.other"  # another store's file in the same folder: kept
    other.write_text("not ours")
    unrelated = tmp_path / ".dev.store.tmp"  # not the temp-file pattern: kept
    unrelated.write_text("not ours")
    stats = _Kills()
    for action in ("open", "write"):
        _kill_writers(store, key_file, stats, at_least=15)
        assert files.leftover_temp_files(store)
        provider = LocalFileProvider(store, key_file=key_file)
        if action == "open":
            assert provider.get("ready").reveal() == "yes"
        else:
            provider.set("after", "crash")
        assert files.leftover_temp_files(store) == []
        names = list(provider.list())
        for name in names:
            provider.get(name)  # every entry of the store decrypts and parses
        assert "ready" in names
    # Each new writer removed what the killed ones before it left: they never pile up.
    assert stats.most_at_once == 1
    assert other.read_text() == "not ours" and unrelated.read_text() == "not ours"
    print(f"killed writers: {stats}")


def test_temp_files_are_kept_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    store = tmp_path / "dev.store"
    provider = LocalFileProvider(store, key=os.urandom(32))
    busy = tmp_path / ".dev.store.abcd1234.tmp"
    busy.write_bytes(b"a writer is writing this")
    with files.exclusive_lock(store.with_name("dev.store.lock")):
        assert list(provider.list()) == []  # a read on first use: the lock is busy
        assert busy.exists()
    provider.close()
    assert list(LocalFileProvider(store, key=os.urandom(32)).list()) == []
    assert not busy.exists()  # first use of a new provider, lock free: removed


# -- stores written before the provider moved onto the kit ------------------------------

FIXTURES = Path(__file__).parent / "data" / "file-store-v1"
FIXTURE_PASSPHRASE = " correct horse battery staple, with spaces around "


def _copied(tmp_path: Path, *names: str) -> list[Path]:
    """The fixture files, copied (a read could sweep or lock next to them)."""
    copies = []
    for name in names:
        copy = tmp_path / name
        copy.write_bytes((FIXTURES / name).read_bytes())
        copy.chmod(0o600)
        copies.append(copy)
    return copies


def test_a_store_written_by_main_before_the_kit_opens(tmp_path: Path) -> None:
    store, key_file = _copied(tmp_path, "raw.store", "raw.key")
    provider = LocalFileProvider(store, key_file=key_file, create=False)
    assert list(provider.list()) == ["api/token", "clé/🔑", "db/password", "old/cert"]
    current = provider.get("db/password")
    assert (current.reveal(), current.version) == ("zweites Passwört ✓", "2")
    assert (dict(current.metadata), dict(current.tags)) == (
        {"owner": "ops", "rotated-by": "ci"},
        {"env": "dev", "tier": "1"},
    )
    first = provider.get("db/password", version="1")
    assert first.reveal() == "first-password"
    assert current.created_at == first.created_at == first.updated_at
    assert current.updated_at is not None and current.updated_at > first.created_at
    assert [v.version for v in provider.versions("db/password")] == ["2", "1"]
    token = provider.get("api/token")
    assert token.expires_at == datetime(2099, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert provider.get("clé/🔑").reveal() == "値\u0000\U0010ffff"
    with pytest.raises(SecretNotFound):
        provider.get("gone")
    # Expiry was recorded and not enforced; the base now enforces it.
    with pytest.raises(SecretExpired, match="expired at 2020-01-01T00:00:00"):
        provider.get("old/cert")
    [old] = provider.versions("old/cert")
    assert old.expires_at == datetime(2020, 1, 1, tzinfo=timezone.utc)
    provider.set("old/cert", "renewed")  # a write keeps every other entry as it was
    assert provider.get("old/cert").reveal() == "renewed"
    assert provider.get("db/password", version="1").reveal() == "first-password"


def _plaintext(data: bytes, key: bytes) -> bytes:
    """The decrypted document of a store file, read by the layout alone."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    end = _header_end(data)
    return AESGCM(key).decrypt(data[end : end + 12], data[end + 12 :], data[:end])


def test_an_old_store_is_rewritten_in_the_same_format(tmp_path: Path) -> None:
    """The model decodes and encodes main's document to the same bytes, and a write
    keeps the header byte for byte (same key check, same key derivation)."""
    store, key_file = _copied(tmp_path, "raw.store", "raw.key")
    key = base64.urlsafe_b64decode(key_file.read_text().strip())
    before = store.read_bytes()
    plaintext = _plaintext(before, key)
    document = VersionedDocument.decode(json.loads(plaintext))
    assert document is not None
    encoded = json.dumps(document.encode(), sort_keys=True, separators=(",", ":"))
    assert encoded.encode("ascii") == plaintext
    LocalFileProvider(store, key=key).set("new", "value")
    after = store.read_bytes()
    assert after[: _header_end(after)] == before[: _header_end(before)]
    rewritten = json.loads(_plaintext(after, key))
    del rewritten["secrets"]["new"]
    assert json.dumps(rewritten, sort_keys=True, separators=(",", ":")).encode() == plaintext


def test_a_passphrase_store_written_by_main_before_the_kit_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (store,) = _copied(tmp_path, "passphrase.store")
    # A variable's whole content is the passphrase, spaces around it included.
    monkeypatch.setenv("SW_TEST_PASS", FIXTURE_PASSPHRASE)
    provider = LocalFileProvider(store, passphrase_env="SW_TEST_PASS")
    assert provider.get("team/secret").reveal() == "shared value"
    monkeypatch.setenv("SW_TEST_PASS", FIXTURE_PASSPHRASE.strip())
    with pytest.raises(StoreKeyMismatch):
        LocalFileProvider(store, passphrase_env="SW_TEST_PASS").get("team/secret")


# -- the declared options ----------------------------------------------------------------


def test_the_declared_options_match_the_constructor() -> None:
    check_options(LocalFileProvider)  # the docs' table: tests/unit/test_kit_options.py


def test_key_and_passphrase_options_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = os.urandom(32)
    text = _key_text(key)
    with_key = LocalFileProvider.from_options({"path": "s", "key": text}, base_dir=tmp_path)
    with_key.set("a", CANARY)
    assert LocalFileProvider(tmp_path / "s", key=key).get("a").reveal() == CANARY
    assert text not in repr(with_key)
    (tmp_path / "phrase.txt").write_text("a passphrase in a file\n")
    from_file = LocalFileProvider.from_options(
        {"path": "p", "passphrase_file": "phrase.txt"}, base_dir=tmp_path
    )
    assert isinstance(from_file, LocalFileProvider)
    from_file._scrypt_n = FAST_N  # only the default N can be set from settings: keep it fast
    from_file.set("b", "from a passphrase file")
    # the file's final newline is not part of the passphrase
    monkeypatch.setenv("SW_TEST_PASS", "a passphrase in a file")
    again = LocalFileProvider(tmp_path / "p", passphrase_env="SW_TEST_PASS")
    assert again.get("b").reveal() == "from a passphrase file"
    with pytest.raises(ConfigError, match="exactly one key source") as info:
        LocalFileProvider.from_options(
            {"path": "s", "key_file": "k", "passphrase_env": "P"}, base_dir=tmp_path
        )
    assert "given: key, passphrase" in str(info.value)
    with pytest.raises(ConfigError, match="give only one of key, key_env") as info:
        LocalFileProvider.from_options(
            {"path": "s", "key": text, "key_env": "K"}, base_dir=tmp_path
        )
    assert not _echoes(info.value, text)  # (the caller's own mapping is in the frames)


def test_a_key_given_as_text_is_checked_when_the_provider_is_built(tmp_path: Path) -> None:
    nearly = _key_text(os.urandom(31))
    with pytest.raises(ConfigError, match="the key must decode to 32 bytes, not 31") as info:
        LocalFileProvider(tmp_path / "s", key=SecretValue(nearly))
    assert info.value.key == "key"
    assert_no_leak(info.value, nearly)
