"""The keyring provider against a real keyring backend that runs headless.

The backend is keyrings.alt's encrypted file keyring (``EncryptedKeyring``: PBKDF2 and
AES from pycryptodomex, one INI file), in a folder of this test session: never the
user's own keychain. The stock class asks for the keyring's password with ``getpass``
(to create the file and to unlock it), which a headless run cannot answer.
:class:`HeadlessEncryptedKeyring` takes the password as an argument instead; that is
all it changes, and everything else (the file, the key derivation, the encryption and
the reference-password check) is the real backend's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import (
    InitError,
    KeyringError,
    KeyringLocked,
    NoKeyringError,
    PasswordDeleteError,
    PasswordSetError,
)
from keyrings.alt.file import EncryptedKeyring, PlaintextKeyring

from secretwire import (
    AccessDenied,
    ConfigError,
    ProviderUnavailable,
    SecretManager,
    SecretNotFound,
    SecretProvider,
    UnsupportedOperation,
    available_providers,
    get_provider_class,
    load_settings,
)
from secretwire.providers.base import HealthStatus
from secretwire.providers.keyring import KeyringProvider
from secretwire.testing import CANARY, ProviderContract, assert_no_leak, check_options

SERVICE = "secretwire-tests"
PASSWORD = "keyring-password-5e1d-do-not-leak"  # the keyring file's password: a credential
WRONG_PASSWORD = "wrong-keyring-password-0b7c"


class HeadlessEncryptedKeyring(EncryptedKeyring):  # type: ignore[misc]
    """keyrings.alt's ``EncryptedKeyring`` at ``file_path``, its password given instead of
    typed: its two prompts (``_get_new_password`` for a new file, ``_unlock`` for an
    existing one) are its only interactive parts, and only they are replaced.

    A wrong password raises keyring's own ``KeyringLocked`` ("the keyring failed
    unlocking", what the Secret Service, KWallet and macOS backends raise), where the
    stock ``_unlock`` raises a bare ``ValueError("Incorrect Password")``.
    """

    def __init__(self, file_path: Path, password: str) -> None:
        super().__init__()
        self.file_path = str(file_path)
        self._password = password

    def _get_new_password(self) -> str:
        return self._password

    def _unlock(self) -> None:
        self.keyring_key = self._password
        try:  # the stock check: the reference item decrypts with this password
            reference = self.get_password("keyring-setting", "password reference")
        except (AssertionError, ValueError):  # the wrong key decrypts to garbage
            reference = None
        if reference != "password reference value":
            self._lock()
            raise KeyringLocked("the password does not unlock this keyring file")


@pytest.fixture
def keyring_file(tmp_path: Path) -> Path:
    """An encrypted keyring file in this test's folder, created with ``PASSWORD`` (before a
    provider with the wrong password could create it with that one)."""
    path = tmp_path / "keyring" / "crypted_pass.cfg"
    assert HeadlessEncryptedKeyring(path, PASSWORD).keyring_key == PASSWORD  # creates it
    return path


class TestKeyringProvider(ProviderContract):
    """The shipped conformance suite. A keychain keeps no versions and keyring cannot
    list items: the capabilities say so, and those cases skip with that reason."""

    unsupported: ClassVar[dict[str, str]] = {
        "test_set_returns_version_and_get_reads_it": (
            "a keyring item holds only its value: set(metadata=...) raises "
            "UnsupportedOperation (test_metadata_tags_and_expiry_are_refused)"
        ),
        "test_access_denied_is_not_not_found": (
            "keyrings.alt's file keyrings keep item names in clear: with the wrong keyring "
            "password a missing name is still SecretNotFound, an existing one AccessDenied "
            "(test_the_wrong_keyring_password_is_access_denied)"
        ),
    }

    @pytest.fixture
    def credentials(self) -> Sequence[str]:
        return (PASSWORD, WRONG_PASSWORD)

    @pytest.fixture
    def provider(self, keyring_file: Path) -> Iterator[SecretProvider]:
        provider = KeyringProvider(
            service=SERVICE, backend=HeadlessEncryptedKeyring(keyring_file, PASSWORD)
        )
        yield provider
        provider.close()
        data = keyring_file.read_bytes()  # values are encrypted at rest
        assert CANARY.encode() not in data
        assert PASSWORD.encode() not in data

    @pytest.fixture
    def restricted_provider(self, keyring_file: Path) -> SecretProvider:
        """The same file, opened with the wrong keyring password."""
        backend = HeadlessEncryptedKeyring(keyring_file, WRONG_PASSWORD)
        return KeyringProvider(service=SERVICE, backend=backend)


@pytest.fixture
def provider(keyring_file: Path) -> KeyringProvider:
    return KeyringProvider(
        service=SERVICE, backend=HeadlessEncryptedKeyring(keyring_file, PASSWORD)
    )


def test_a_secret_is_the_item_of_the_service_named_after_it(
    provider: KeyringProvider, keyring_file: Path, ns: str
) -> None:
    """``keyring set <service> <name>`` and the provider see the same items."""
    backend = HeadlessEncryptedKeyring(keyring_file, PASSWORD)
    backend.set_password(SERVICE, f"{ns}/db/password", "from the keyring CLI")
    assert provider.get(f"{ns}/db/password").reveal() == "from the keyring CLI"
    version = provider.set(f"{ns}/api", "from secretwire")
    assert (version.name, version.version, version.current) == (f"{ns}/api", "", True)
    assert backend.get_password(SERVICE, f"{ns}/api") == "from secretwire"
    assert backend.get_password("another-service", f"{ns}/api") is None
    other = KeyringProvider(service="another-service", backend=backend)
    with pytest.raises(SecretNotFound, match="no item in service 'another-service'"):
        other.get(f"{ns}/api")
    secret = provider.get(f"{ns}/api")
    assert (secret.version, secret.provider, dict(secret.metadata)) == (None, "keyring", {})


def test_metadata_tags_and_expiry_are_refused(provider: KeyringProvider, ns: str) -> None:
    name = f"{ns}/only-a-value"
    later = datetime.now(timezone.utc) + timedelta(days=1)
    for extra in ({"metadata": {"owner": "a"}}, {"tags": {"team": "b"}}, {"expires_at": later}):
        with pytest.raises(UnsupportedOperation, match="holds only its value") as info:
            provider.set(name, CANARY, **extra)  # type: ignore[arg-type]
        assert_no_leak(info.value, CANARY)
    with pytest.raises(SecretNotFound):  # nothing was stored
        provider.get(name)
    provider.set(name, "v", metadata={}, tags={})  # empty ones are no metadata
    with pytest.raises(SecretNotFound, match="a keyring keeps no versions"):
        provider.get(name, version="1")
    with pytest.raises(UnsupportedOperation, match="does not keep versions"):
        provider.versions(name)
    with pytest.raises(UnsupportedOperation, match="cannot list"):
        list(provider.list(ns))


def test_the_wrong_keyring_password_is_access_denied(keyring_file: Path, ns: str) -> None:
    right = KeyringProvider(
        service=SERVICE, backend=HeadlessEncryptedKeyring(keyring_file, PASSWORD)
    )
    right.set(f"{ns}/guarded", CANARY)
    wrong = KeyringProvider(
        service=SERVICE, backend=HeadlessEncryptedKeyring(keyring_file, WRONG_PASSWORD)
    )
    errors = []
    for attempt in (lambda: wrong.get(f"{ns}/guarded"), lambda: wrong.set(f"{ns}/w", CANARY)):
        with pytest.raises(AccessDenied, match=r"the keyring is locked \(KeyringLocked\)") as info:
            attempt()
        assert info.value.hint and "unlock the keyring" in info.value.hint
        assert info.value.__context__ is None and info.value.__cause__ is None
        errors.append(info.value)
    for error in errors:
        assert_no_leak(error, CANARY, PASSWORD, WRONG_PASSWORD)
    # The file keeps names in clear (only values are encrypted): a missing name is known
    # to be missing without the password. (The Secret Service backend unlocks its
    # collection before it searches: there a missing name is AccessDenied too.)
    with pytest.raises(SecretNotFound):
        wrong.get(f"{ns}/never-stored")


class FakeFailingKeyring(KeyringBackend):  # type: ignore[misc]
    """A fake backend for outcomes the file keyring cannot produce: every call raises
    ``error`` (its text holds the canary, as an SDK's text may hold a request)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def get_password(self, service: str, username: str) -> str | None:
        raise self.error

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.error

    def delete_password(self, service: str, username: str) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("raised", "expected", "detail"),
    [
        (PasswordDeleteError(CANARY), SecretNotFound, "no such item"),
        (KeyringLocked(CANARY), AccessDenied, "the keyring is locked (KeyringLocked)"),
        (PermissionError(13, CANARY), AccessDenied, "the keyring is locked (PermissionError)"),
        (PasswordSetError(CANARY), AccessDenied, "refused the write (PasswordSetError)"),
        (NoKeyringError(CANARY), ProviderUnavailable, "no backend (NoKeyringError)"),
        (InitError(CANARY), ProviderUnavailable, "no backend (InitError)"),
        (RuntimeError(CANARY), ProviderUnavailable, "no backend (RuntimeError)"),
        (KeyringError(CANARY), ProviderUnavailable, "the keyring failed (KeyringError)"),
        (OSError(5, CANARY), ProviderUnavailable, "the keyring failed (OSError)"),
    ],
)
def test_fake_backend_errors_map_through_the_table(
    raised: Exception, expected: type[Exception], detail: str
) -> None:
    provider = KeyringProvider(backend=FakeFailingKeyring(raised))
    for operation in (
        lambda: provider.get("db"),
        lambda: provider.set("db", CANARY),
        lambda: provider.delete("db"),
    ):
        with pytest.raises(expected) as info:
            operation()
        assert detail in str(info.value)
        assert info.value.__context__ is None and info.value.__cause__ is None
        assert_no_leak(info.value, CANARY)


def test_a_keyring_without_a_backend_is_unavailable_never_a_silent_no_op(ns: str) -> None:
    for backend in ("keyring.backends.null.Keyring", "keyring.backends.fail.Keyring"):
        provider = KeyringProvider(backend=backend)
        health = provider.health()
        assert health.status is HealthStatus.UNAVAILABLE
        assert f"keyring has no usable backend ({backend})" in health.detail
        for operation in (
            lambda p=provider: p.get(f"{ns}/a"),
            lambda p=provider: p.set(f"{ns}/a", CANARY),
            lambda p=provider: p.delete(f"{ns}/a"),
        ):
            with pytest.raises(ProviderUnavailable, match="install a keyring backend") as info:
                operation()
            assert_no_leak(info.value, CANARY)


def test_health_names_the_backend_in_use(provider: KeyringProvider) -> None:
    health = provider.health()
    assert health.ok
    assert health.detail == f"backend {__name__}.HeadlessEncryptedKeyring"


def test_without_a_backend_option_keyring_chooses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ns: str
) -> None:
    """keyring's own choice (pinned here to a file in tmp_path, never the real one)."""
    chosen = PlaintextKeyring()
    chosen.file_path = str(tmp_path / "chosen.cfg")
    monkeypatch.setattr(keyring.core, "_keyring_backend", chosen)
    provider = KeyringProvider()
    assert provider.health().detail == "backend keyrings.alt.file.PlaintextKeyring"
    provider.set(f"{ns}/x", "chosen")
    assert chosen.get_password("secretwire", f"{ns}/x") == "chosen"


def test_from_settings_through_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry point names the provider; the options build it (the plaintext file
    keyring, whose file lives under XDG_DATA_HOME, here tmp_path)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert "keyring" in available_providers()
    assert get_provider_class("keyring") is KeyringProvider
    PlaintextKeyring().set_password("my-app", "db/password", "pw-from-keyring")
    (tmp_path / "secretwire.yaml").write_text(
        "environments:\n  dev:\n    provider: keyring\n    options:\n"
        "      service: my-app\n      backend: keyrings.alt.file.PlaintextKeyring\n"
    )
    with SecretManager.from_settings(load_settings(tmp_path / "secretwire.yaml")) as manager:
        resolved = manager.resolve({"db": "${secret:db/password}", "x": "${secret:x:-none}"})
    assert resolved == {"db": "pw-from-keyring", "x": "none"}


def test_options_are_declared_and_checked(tmp_path: Path) -> None:
    check_options(KeyringProvider)
    built = KeyringProvider.from_options(
        {"service": "app", "backend": "keyrings.alt.file.PlaintextKeyring"}, base_dir=tmp_path
    )
    assert isinstance(built, KeyringProvider)
    for options, key, words in (
        ({"servce": "app"}, "servce", r"unknown option .* \(known: backend, service\)"),
        ({"service": ""}, "service", "non-empty string"),
        ({"service": 5}, "service", "must be a string, not int"),
        ({"backend": 5}, "backend", "must be a string, not int"),
        ({"backend": "nodots"}, "backend", "module.Class"),
        ({"backend": "no_such_module.Keyring"}, "backend", r"\(ModuleNotFoundError\)"),
        ({"backend": "keyring.backends.NoSuchClass"}, "backend", r"\(AttributeError\)"),
        ({"backend": "collections.OrderedDict"}, "backend", "module.Class"),
        # not usable on this platform: keyring's viability check says RuntimeError
        ({"backend": "keyring.backends.Windows.WinVaultKeyring"}, "backend", "RuntimeError"),
    ):
        with pytest.raises(ConfigError, match=words) as info:
            KeyringProvider.from_options(options, base_dir=tmp_path)
        assert info.value.key == key
        assert info.value.__context__ is None


def test_missing_keyring_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # what an absent package looks like
    with pytest.raises(ImportError, match=r"pip install 'secretwire\[keyring\]'"):
        KeyringProvider()


def test_importing_the_provider_does_not_import_keyring() -> None:
    code = (
        "import sys, secretwire, secretwire.providers.keyring as p;"
        "print(p.KeyringProvider.name, 'keyring' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["keyring", "False"]
