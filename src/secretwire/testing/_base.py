"""The contract's fixtures and hooks, which every group of cases shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest

from ..providers.base import SecretProvider
from .fixtures import unique_prefix

__all__ = ["ContractBase"]


class ContractBase:
    """Fixtures and hooks of :class:`~secretwire.testing.ProviderContract`."""

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
        return unique_prefix()

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

    def _restricted(self, restricted_provider: SecretProvider | None) -> SecretProvider:
        """The provider with restricted credentials, or a skip when the backend has none."""
        if restricted_provider is None:
            pytest.skip("no restricted credentials for this backend (restricted_provider)")
        return restricted_provider
