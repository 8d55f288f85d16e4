"""The shipped conformance suite, run against every built-in provider."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from secretwire import SecretProvider
from secretwire.providers.env import EnvProvider
from secretwire.providers.localfile import LocalFileProvider
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, ProviderContract


class TestMemoryProvider(ProviderContract):
    @pytest.fixture
    def provider(self) -> Iterator[SecretProvider]:
        provider = MemoryProvider()
        yield provider
        provider.close()


class TestLocalFileProvider(ProviderContract):
    @pytest.fixture
    def credentials(self, provider: SecretProvider, tmp_path: Path) -> Sequence[str]:
        """The store key as the key file holds it, and as ``repr`` shows its bytes."""
        text = (tmp_path / "store.key").read_text().strip()
        key = base64.urlsafe_b64decode(text)
        return (text, repr(key)[2:-1])

    @pytest.fixture
    def provider(self, tmp_path: Path) -> Iterator[SecretProvider]:
        provider = LocalFileProvider(tmp_path / "store.enc", key_file=tmp_path / "store.key")
        provider.initialize()  # creates the key file, which ``credentials`` reads
        yield provider
        provider.close()
        # No file the provider wrote may contain the canary (the store is encrypted).
        for path in tmp_path.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert CANARY.encode() not in data, path
                assert CANARY.encode("utf-16-le") not in data, path


class TestEnvProvider(ProviderContract):
    """Read-only: values are seeded into the environment mapping it reads."""

    unsupported: ClassVar[dict[str, str]] = {
        "test_unicode_name_and_value": "environment variable names are ASCII (lossy mapping)",
        "test_list_by_prefix": (
            "names are not recoverable from variable names: the mapping is lossy "
            "(list returns the lower-cased variable remainders)"
        ),
    }

    @pytest.fixture
    def environ(self) -> dict[str, str]:
        return {}

    @pytest.fixture
    def provider(self, environ: dict[str, str]) -> SecretProvider:
        return EnvProvider(prefix="SWTEST_", environ=environ)

    def seed(self, provider: SecretProvider, name: str, value: str) -> None:
        assert isinstance(provider, EnvProvider)
        environ = provider._environ
        assert isinstance(environ, dict)
        environ[provider.variable_for(name)] = value
