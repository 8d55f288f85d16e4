"""``ProviderError.reason``: the kind alone for a default message, the provider's own
(value-free) message after the kind otherwise; what every failure line shows."""

from __future__ import annotations

import pytest

from secretwire import (
    AccessDenied,
    FieldNotFound,
    InvalidSecret,
    ProviderError,
    ProviderUnavailable,
    ResolutionError,
    Secret,
    SecretManager,
    SecretNotFound,
    StoreKeyMismatch,
)
from secretwire.errors import reason_of
from secretwire.providers.memory import MemoryProvider


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (SecretNotFound(name="a", provider="file"), "not found"),
        (AccessDenied(name="a", provider="vault", version="2"), "access denied"),
        (ProviderUnavailable(provider="vault"), "unavailable"),
        (
            ProviderUnavailable(
                "cannot connect to Vault at http://h:8200 (refused): read", name="a"
            ),
            "unavailable: cannot connect to Vault at http://h:8200 (refused): read",
        ),
        (
            ProviderUnavailable("unavailable: AWS did not serve GetSecretValue (Throttling)"),
            "unavailable: AWS did not serve GetSecretValue (Throttling)",
        ),
        (
            StoreKeyMismatch("key does not open\n  this store"),
            "wrong key: key does not open this store",
        ),
        (InvalidSecret("value too large"), "invalid secret: value too large"),
        (
            FieldNotFound(name="db/creds", field="user"),
            "field not found: field 'user' of secret 'db/creds'",
        ),
    ],
)
def test_reason(error: ProviderError, reason: str) -> None:
    assert error.reason == reason
    assert reason_of(error) == reason


class UnreachableProvider(MemoryProvider):
    """Fake failure path: a backend outage with the provider's own message."""

    def _get(self, name: str, version: str | None) -> Secret:
        raise ProviderUnavailable(
            "cannot connect to https://vault.internal:8200 (timed out)", name=name, provider="x"
        )


def test_fake_unreachable_backend_reason_reaches_the_resolution_error() -> None:
    with SecretManager(UnreachableProvider()) as manager, pytest.raises(ResolutionError) as info:
        manager.resolve({"a": "${secret:x}"})
    assert info.value.one_line() == (
        "1 secret reference(s) could not be resolved: a: ${secret:x}: unavailable: cannot "
        "connect to https://vault.internal:8200 (timed out)"
    )
