"""Conformance cases: no value or credential on any error path."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from ..errors import (
    AccessDenied,
    FieldNotFound,
    InvalidSecret,
    ProviderError,
    SecretNotFound,
)
from ..manager import SecretManager
from ..providers.base import SecretProvider
from ..values import SecretValue
from ._base import ContractBase
from .leaks import CANARY, assert_no_leak

_ONE_MIB = 1024 * 1024

__all__ = ["LeakCases"]


class LeakCases(ContractBase):
    """Every error path, provoked with the canary as the value (messages, chains, frame
    locals)."""

    # -- no value or credential on any error path (messages, chains, frame locals) --
    def _seed_canary(self, provider: SecretProvider, name: str) -> None:
        """Seed the canary and read it once, so the backend, the provider's own state
        (a decrypted document, a cached token) and the frames around it hold it."""
        self.seed(provider, name, CANARY)
        assert provider.get(name).reveal() == CANARY

    def test_no_leak_get_missing_name(
        self, provider: SecretProvider, ns: str, credentials: Sequence[str]
    ) -> None:
        self._seed_canary(provider, f"{ns}/held")
        with pytest.raises(SecretNotFound) as info:
            provider.get(f"{ns}/not-there")
        assert_no_leak(info.value, CANARY, *credentials)

    def test_no_leak_get_missing_version(
        self, provider: SecretProvider, ns: str, credentials: Sequence[str]
    ) -> None:
        name = f"{ns}/held-versions"
        self._seed_canary(provider, name)
        if provider.capabilities.write and provider.capabilities.versions:
            provider.set(name, CANARY + "-second")
        with pytest.raises(ProviderError) as info:
            provider.get(name, version="999999")
        assert_no_leak(info.value, CANARY, *credentials)

    def test_no_leak_missing_field(
        self, provider: SecretProvider, ns: str, credentials: Sequence[str]
    ) -> None:
        self.seed(provider, f"{ns}/held-json", json.dumps({"password": CANARY}))
        secret = provider.get(f"{ns}/held-json")
        with pytest.raises(FieldNotFound) as info:
            secret.field("user")
        assert_no_leak(info.value, CANARY, *credentials)

    def test_no_leak_failed_set_invalid_name(
        self, provider: SecretProvider, credentials: Sequence[str]
    ) -> None:
        self._require(provider, "write")
        with pytest.raises(InvalidSecret) as info:
            provider.set("", CANARY)
        assert_no_leak(info.value, CANARY, *credentials)

    def test_no_leak_failed_set_too_large(
        self, provider: SecretProvider, ns: str, credentials: Sequence[str]
    ) -> None:
        limit = provider.capabilities.max_value_bytes
        if limit is None:
            pytest.skip(f"provider {provider.name!r} declares no value size limit")
        self._require(provider, "write")
        value = CANARY * (limit // len(CANARY.encode()) + 1)
        with pytest.raises(InvalidSecret) as info:
            provider.set(f"{ns}/too-large-canary", value)
        del value
        assert_no_leak(info.value, CANARY, *credentials)

    def test_no_leak_failed_set_access_denied(
        self,
        provider: SecretProvider,
        restricted_provider: SecretProvider | None,
        ns: str,
        credentials: Sequence[str],
    ) -> None:
        restricted_provider = self._restricted(restricted_provider)
        self._require(provider, "write")
        with pytest.raises(AccessDenied) as info:
            restricted_provider.set(f"{ns}/guarded-write", CANARY)
        assert_no_leak(info.value, CANARY, *credentials)

    def test_no_leak_delete_missing(
        self, provider: SecretProvider, ns: str, credentials: Sequence[str]
    ) -> None:
        self._require(provider, "delete")
        self._seed_canary(provider, f"{ns}/held")
        with pytest.raises(SecretNotFound) as info:
            provider.delete(f"{ns}/not-there")
        assert_no_leak(info.value, CANARY, *credentials)

    def test_no_leak_access_denied(
        self,
        provider: SecretProvider,
        restricted_provider: SecretProvider | None,
        ns: str,
        credentials: Sequence[str],
    ) -> None:
        restricted_provider = self._restricted(restricted_provider)
        self._seed_canary(provider, f"{ns}/guarded")
        with pytest.raises(AccessDenied) as info:
            restricted_provider.get(f"{ns}/guarded")
        assert_no_leak(info.value, CANARY, *credentials)

    def test_no_leak_through_the_manager(
        self,
        provider: SecretProvider,
        restricted_provider: SecretProvider | None,
        ns: str,
        credentials: Sequence[str],
    ) -> None:
        """The same paths through the pipeline (cache, stage), which holds values too."""
        manager = SecretManager(provider)
        self.seed(provider, f"{ns}/held", CANARY)
        assert manager.get(f"{ns}/held").reveal() == CANARY  # now in the cache as well
        errors: list[BaseException] = []
        with pytest.raises(SecretNotFound) as missing:
            manager.get(f"{ns}/not-there")
        errors.append(missing.value)
        if provider.capabilities.write:
            for value in (CANARY, SecretValue(CANARY)):
                with pytest.raises(InvalidSecret) as refused:
                    manager.set("", value)
                errors.append(refused.value)
            if provider.capabilities.max_value_bytes is not None:
                large = CANARY * (provider.capabilities.max_value_bytes // len(CANARY) + 1)
                with pytest.raises(InvalidSecret) as too_large:
                    manager.set(f"{ns}/too-large-canary", large)
                del large
                errors.append(too_large.value)
        if restricted_provider is not None:
            restricted = SecretManager(restricted_provider)
            with pytest.raises(AccessDenied) as denied:
                restricted.get(f"{ns}/held")
            errors.append(denied.value)
            if provider.capabilities.write:
                with pytest.raises(AccessDenied) as denied_write:
                    restricted.set(f"{ns}/guarded-write", CANARY)
                errors.append(denied_write.value)
        for error in errors:
            assert_no_leak(error, CANARY, *credentials)
