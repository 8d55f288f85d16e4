"""The provider conformance suite, shipped so any provider can prove it keeps the contract.

Subclass :class:`ProviderContract` in a pytest module and supply a provider::

    import pytest
    from secretwire.testing import ProviderContract

    class TestMyProvider(ProviderContract):
        @pytest.fixture
        def provider(self, tmp_path):
            p = MyProvider(...)
            yield p
            p.close()

Read-only providers override :meth:`ProviderContract.seed` to place a value in
the backend by other means. A case the backend (or its emulator) cannot support
is listed in ``unsupported`` with the reason, and is skipped with that reason.

The ``test_no_leak_*`` cases provoke every error path (a missing name, version or
field, refused writes, a missing delete, access denied; directly and through a
:class:`~secretwire.SecretManager`) with :data:`CANARY` as the value, and render
each error the way error trackers do (message, chain, and every frame's local
variables: :func:`assert_no_leak`). Override the ``credentials`` fixture to return
the provider's credentials (a token, a secret access key, the store key as text),
so those cases look for them too. Requires pytest.
"""

from __future__ import annotations

import json
import pickle
import threading
import uuid
from collections.abc import Sequence
from typing import ClassVar

import pytest

from ..errors import (
    AccessDenied,
    FieldNotFound,
    InvalidSecret,
    ProviderError,
    SecretNotFound,
    UnsupportedOperation,
)
from ..manager import SecretManager
from ..providers.base import SecretProvider
from ..references import MAX_NAME_LENGTH, Reference, parse_reference
from ..types import Health, Secret
from ..values import SecretValue
from .leaks import assert_no_leak

__all__ = ["CANARY", "ProviderContract", "assert_no_leak"]

#: A value that must never appear in any message, repr or log. Tests look for it.
CANARY = "canary-7f3a9c-DO-NOT-LEAK-\u00e9\u2603"

_ONE_MIB = 1024 * 1024


class ProviderContract:
    """The conformance cases every provider must pass."""

    #: test name -> reason, for cases this backend cannot support.
    unsupported: ClassVar[dict[str, str]] = {}
    #: how many names the listing test creates (some backends are slow to write).
    list_count: ClassVar[int] = 120

    @pytest.fixture
    def provider(self) -> SecretProvider:
        """Override in the subclass (a plain or a yield fixture)."""
        raise NotImplementedError("subclasses provide a `provider` fixture")

    @pytest.fixture(autouse=True)
    def _contract_skips(self, request: pytest.FixtureRequest) -> None:
        reason = self.unsupported.get(request.function.__name__)
        if reason:
            pytest.skip(reason)

    @pytest.fixture
    def ns(self) -> str:
        """A unique name prefix per test, so tests can share one backend."""
        return f"swt-{uuid.uuid4().hex[:10]}"

    @pytest.fixture
    def restricted_provider(self) -> SecretProvider | None:
        """A provider for the same backend whose credentials may not read the test
        secrets (a Vault token without the policy, an IAM principal with a deny).
        Override it where the backend can express that; ``None`` skips the case."""
        return None

    @pytest.fixture
    def credentials(self) -> Sequence[str]:
        """Credentials of ``provider`` and ``restricted_provider`` (a token, a secret
        access key, the store key as text) that no error may show. Override it; the
        ``test_no_leak_*`` cases look for each of them next to the canary."""
        return ()

    # -- hooks -----------------------------------------------------------------
    def seed(self, provider: SecretProvider, name: str, value: str) -> None:
        """Put ``value`` under ``name``. Read-only providers override this."""
        provider.set(name, value)

    def _require(self, provider: SecretProvider, capability: str) -> None:
        if not getattr(provider.capabilities, capability):
            pytest.skip(f"provider {provider.name!r} has no {capability!r} capability")

    # -- reads -------------------------------------------------------------------
    def test_get_missing_raises_secret_not_found(self, provider: SecretProvider, ns: str) -> None:
        with pytest.raises(SecretNotFound) as info:
            provider.get(f"{ns}/missing")
        assert isinstance(info.value, LookupError)
        assert not isinstance(info.value, AccessDenied)

    def test_access_denied_is_not_not_found(
        self, provider: SecretProvider, restricted_provider: SecretProvider | None, ns: str
    ) -> None:
        if restricted_provider is None:
            pytest.skip("no restricted credentials for this backend (restricted_provider)")
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
        if restricted_provider is None:
            pytest.skip("no restricted credentials for this backend (restricted_provider)")
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
        if restricted_provider is None:
            pytest.skip("no restricted credentials for this backend (restricted_provider)")
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

    # -- one name rule, one value rule -------------------------------------------------
    def test_names_outside_the_shared_rule_are_invalid(
        self, provider: SecretProvider, ns: str
    ) -> None:
        """Every provider applies ``secretwire.references.check_name`` first, so no
        provider stores a name a reference cannot hold."""
        bad = ["", f"{ns}/a b", f"{ns}/a\u200bb", f"{ns}/a\udcffb", f"{ns}/t\tb"]
        bad.append("x" * (MAX_NAME_LENGTH + 1))
        for name in bad:
            with pytest.raises(InvalidSecret):
                provider.get(name)
            if provider.capabilities.write:
                with pytest.raises(InvalidSecret):
                    provider.set(name, "v")

    def test_names_with_reference_characters_round_trip_through_a_reference(
        self, provider: SecretProvider, ns: str
    ) -> None:
        """A name the backend accepts, whatever characters a reference must quote in
        it, is read back through its reference text. Names the backend's own
        alphabet refuses are an ``InvalidSecret``."""
        stored = 0
        for suffix in ("user@example.com", "feature:-off", "a#b", "c$d{e}", "f\\g", "h<i>"):
            name = f"{ns}/{suffix}"
            try:
                self.seed(provider, name, f"v-{suffix}")
            except InvalidSecret:
                continue
            stored += 1
            ref = parse_reference(Reference(name).format())
            assert ref.name == name
            assert provider.get(ref.name).reveal() == f"v-{suffix}"
        if not stored:
            pytest.skip(f"provider {provider.name!r} accepts none of these names")

    def test_value_that_is_not_unicode_text_is_refused(
        self, provider: SecretProvider, ns: str
    ) -> None:
        """A lone surrogate (bytes that were not UTF-8) is refused before any backend
        call, by every provider alike, without the value in the error."""
        self._require(provider, "write")
        name = f"{ns}/surrogate"
        for value in (CANARY + "\udcff", "\ud83d" + CANARY):
            with pytest.raises(InvalidSecret) as info:
                provider.set(name, value)
            error = info.value
            assert "surrogate" in str(error)
            for text in (str(error), repr(error), repr(error.args)):
                assert CANARY not in text
            assert error.__cause__ is None
            assert error.__context__ is None
            # the frame that raised holds no value
            tb = error.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            assert tb is not None
            assert not any(CANARY in repr(v) for v in tb.tb_frame.f_locals.values())
        with pytest.raises(SecretNotFound):
            provider.get(name)
