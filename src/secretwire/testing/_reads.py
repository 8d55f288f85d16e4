"""Conformance cases: reads, writes, versions, listing, capabilities, lifecycle."""

from __future__ import annotations

import json
import pickle
import threading
from collections.abc import Sequence

import pytest

from ..errors import (
    AccessDenied,
    FieldNotFound,
    InvalidSecret,
    ProviderError,
    SecretNotFound,
    UnsupportedOperation,
)
from ..providers.base import SecretProvider
from ..types import Health, Secret
from ..values import SecretValue
from ._base import ContractBase
from .leaks import CANARY, assert_no_leak

_ONE_MIB = 1024 * 1024

__all__ = ["ReadWriteCases"]


class ReadWriteCases(ContractBase):
    """Reads, writes, versions, listing, capabilities and lifecycle."""

    # -- reads -------------------------------------------------------------------
    def test_get_missing_raises_secret_not_found(self, provider: SecretProvider, ns: str) -> None:
        with pytest.raises(SecretNotFound) as info:
            provider.get(f"{ns}/missing")
        assert isinstance(info.value, LookupError)
        assert not isinstance(info.value, AccessDenied)

    def test_access_denied_is_not_not_found(
        self, provider: SecretProvider, restricted_provider: SecretProvider | None, ns: str
    ) -> None:
        restricted_provider = self._restricted(restricted_provider)
        self.seed(provider, f"{ns}/guarded", CANARY)
        for name in (f"{ns}/guarded", f"{ns}/guarded-missing"):
            with pytest.raises(AccessDenied) as info:
                restricted_provider.get(name)
            assert isinstance(info.value, PermissionError)
            assert not isinstance(info.value, SecretNotFound)
            assert CANARY not in str(info.value)
            assert CANARY not in repr(info.value)

    def test_seeded_value_round_trips(self, provider: SecretProvider, ns: str) -> None:
        self.seed(provider, f"{ns}/plain", "s3cr3t value with spaces")
        secret = provider.get(f"{ns}/plain")
        assert isinstance(secret, Secret)
        assert isinstance(secret.value, SecretValue)
        assert secret.reveal() == "s3cr3t value with spaces"
        assert secret.name == f"{ns}/plain"

    def test_value_is_masked_in_repr_str_and_pickle(
        self, provider: SecretProvider, ns: str
    ) -> None:
        self.seed(provider, f"{ns}/canary", CANARY)
        secret = provider.get(f"{ns}/canary")
        for text in (repr(secret), str(secret), f"{secret.value}", repr(secret.value)):
            assert CANARY not in text
        with pytest.raises(TypeError):
            pickle.dumps(secret)

    def test_get_many_maps_every_key(self, provider: SecretProvider, ns: str) -> None:
        self.seed(provider, f"{ns}/a", "value-a")
        results = provider.get_many([(f"{ns}/a", None), (f"{ns}/missing", None)])
        found = results[(f"{ns}/a", None)]
        assert isinstance(found, Secret)
        assert found.reveal() == "value-a"
        assert isinstance(results[(f"{ns}/missing", None)], SecretNotFound)

    def test_json_field_selection(self, provider: SecretProvider, ns: str) -> None:
        self.seed(provider, f"{ns}/creds", json.dumps({"user": "app", "port": 5432}))
        secret = provider.get(f"{ns}/creds")
        assert secret.field("user") == "app"
        assert secret.field("port") == "5432"
        with pytest.raises(FieldNotFound):
            secret.field("password")

    def test_unicode_name_and_value(self, provider: SecretProvider, ns: str) -> None:
        name = f"{ns}/clé-пароль-密码"
        value = "välue ✓ 🔑 \u00a0 \U0001f600"
        self.seed(provider, name, value)
        assert provider.get(name).reveal() == value

    def test_unicode_value(self, provider: SecretProvider, ns: str) -> None:
        value = "välue ✓ 🔑 \u00a0 \U0001f600 ключ"
        self.seed(provider, f"{ns}/unicode-value", value)
        assert provider.get(f"{ns}/unicode-value").reveal() == value

    def test_large_value_round_trips_or_is_refused(self, provider: SecretProvider, ns: str) -> None:
        limit = provider.capabilities.max_value_bytes
        size = _ONE_MIB if limit is None else limit
        value = ("0123456789abcdef" * (size // 16 + 1))[:size]
        self.seed(provider, f"{ns}/large", value)
        assert provider.get(f"{ns}/large").reveal() == value

    def test_value_over_the_limit_fails_typed(self, provider: SecretProvider, ns: str) -> None:
        limit = provider.capabilities.max_value_bytes
        if limit is None:
            pytest.skip(f"provider {provider.name!r} declares no value size limit")
        self._require(provider, "write")
        with pytest.raises(InvalidSecret):
            provider.set(f"{ns}/too-large", "x" * (limit + 1))
        with pytest.raises(SecretNotFound):
            provider.get(f"{ns}/too-large")

    def test_errors_never_contain_the_value(
        self, provider: SecretProvider, ns: str, credentials: Sequence[str]
    ) -> None:
        self.seed(provider, f"{ns}/canary-err", CANARY)
        secret = provider.get(f"{ns}/canary-err")
        errors: list[ProviderError] = []
        for attempt in (
            lambda: secret.field("nope"),
            lambda: provider.get(f"{ns}/canary-err", version="999999"),
            lambda: provider.get(f"{ns}/canary-missing"),
        ):
            try:
                attempt()
            except ProviderError as err:
                errors.append(err)
        assert errors
        for error in errors:
            assert CANARY not in str(error)
            assert CANARY not in repr(error)
            assert CANARY not in repr(error.args)
            assert_no_leak(error, CANARY, *credentials)

    def test_health_is_reported(self, provider: SecretProvider) -> None:
        health = provider.health()
        assert isinstance(health, Health)
        assert health.ok, health.detail

    def test_close_is_idempotent(self, provider: SecretProvider) -> None:
        provider.close()
        provider.close()

    # -- capabilities --------------------------------------------------------------
    def test_capabilities_match_behaviour(self, provider: SecretProvider, ns: str) -> None:
        caps = provider.capabilities
        name = f"{ns}/caps"
        if not caps.write:
            with pytest.raises(UnsupportedOperation):
                provider.set(name, "x")
        if not caps.delete:
            with pytest.raises(UnsupportedOperation):
                provider.delete(name)
        if not caps.list:
            with pytest.raises(UnsupportedOperation):
                list(provider.list(ns))
        if not caps.versions:
            with pytest.raises(UnsupportedOperation):
                provider.versions(name)
        if caps.write:
            version = provider.set(name, "x")
            assert version.name == name
        if caps.list:
            assert isinstance(list(provider.list(ns)), list)

    # -- writes ----------------------------------------------------------------------
    def test_set_returns_version_and_get_reads_it(self, provider: SecretProvider, ns: str) -> None:
        self._require(provider, "write")
        version = provider.set(f"{ns}/w", "first", metadata={"owner": "team-a"})
        assert version.current
        secret = provider.get(f"{ns}/w")
        assert secret.reveal() == "first"
        assert secret.version == version.version
        if provider.capabilities.metadata:
            assert secret.metadata.get("owner") == "team-a"

    def test_versions_newest_first_and_readable_by_id(
        self, provider: SecretProvider, ns: str
    ) -> None:
        self._require(provider, "versions")
        name = f"{ns}/versioned"
        written = [provider.set(name, f"value-{i}").version for i in range(3)]
        versions = provider.versions(name)
        ids = [v.version for v in versions]
        assert ids[:3] == list(reversed(written))
        assert versions[0].current
        assert not any(v.current for v in versions[1:])
        for i, version_id in enumerate(written):
            assert provider.get(name, version=version_id).reveal() == f"value-{i}"
        assert provider.get(name).reveal() == "value-2"

    def test_missing_version_raises_secret_not_found(
        self, provider: SecretProvider, ns: str
    ) -> None:
        self._require(provider, "versions")
        provider.set(f"{ns}/v", "x")
        with pytest.raises(SecretNotFound):
            provider.get(f"{ns}/v", version="999999")

    def test_versions_of_missing_secret_raise_not_found(
        self, provider: SecretProvider, ns: str
    ) -> None:
        self._require(provider, "versions")
        with pytest.raises(SecretNotFound):
            provider.versions(f"{ns}/missing")

    def test_delete_removes_and_missing_delete_raises(
        self, provider: SecretProvider, ns: str
    ) -> None:
        self._require(provider, "delete")
        provider.set(f"{ns}/d", "x")
        provider.delete(f"{ns}/d")
        with pytest.raises(SecretNotFound):
            provider.get(f"{ns}/d")
        with pytest.raises(SecretNotFound):
            provider.delete(f"{ns}/d")

    def test_list_by_prefix(self, provider: SecretProvider, ns: str) -> None:
        self._require(provider, "list")
        names = [f"{ns}/many/item-{i:04d}" for i in range(self.list_count)]
        for name in names:
            self.seed(provider, name, "v")
        self.seed(provider, f"{ns}/other", "v")
        listed = list(provider.list(f"{ns}/many/"))
        assert listed == sorted(names)
        everything = list(provider.list(ns))
        assert f"{ns}/other" in everything
        assert len(everything) == self.list_count + 1

    def test_concurrent_writers_lose_nothing(self, provider: SecretProvider, ns: str) -> None:
        self._require(provider, "write")
        errors: list[BaseException] = []

        def writer(worker: int) -> None:
            try:
                for i in range(10):
                    provider.set(f"{ns}/conc/{worker}-{i}", f"{worker}-{i}")
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        for worker in range(6):
            for i in range(10):
                assert provider.get(f"{ns}/conc/{worker}-{i}").reveal() == f"{worker}-{i}"
