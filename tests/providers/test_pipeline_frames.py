"""A failed write through SecretManager leaves the value in no frame of the pipeline.

``SecretManager.set`` wraps a ``str`` in a ``SecretValue`` at once, the pipeline
carries it wrapped, and ``ProviderStage`` reveals it only in the call to the
provider. A foreign exception from a provider is re-raised as a ``ProviderError``
that has no ``__context__`` (its frames held the value). The conformance suite
checks the same through each real provider (``test_no_leak_through_the_manager``).
"""

from __future__ import annotations

import pytest

from secretwire import Handler, Layer, ProviderError, SecretManager, SecretwireError, Write
from secretwire.errors import AccessDenied
from secretwire.providers.base import SecretVersion
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, assert_no_leak
from secretwire.values import SecretValue


class ExplodingWriter(MemoryProvider):
    """Fake failure path: a provider bug (a foreign exception) during a write."""

    def _set(self, write: Write) -> SecretVersion:
        raise RuntimeError(f"provider bug while writing {len(write.value.reveal())} characters")


def test_a_foreign_error_from_a_write_has_no_context_holding_the_value_with_fake_provider() -> None:
    with SecretManager(ExplodingWriter()) as manager, pytest.raises(ProviderError) as info:
        manager.set("db/password", CANARY)
    assert "RuntimeError" in str(info.value)
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert isinstance(info.value.original, RuntimeError)  # for --debug, off the chain
    assert_no_leak(info.value, CANARY)


def test_a_write_to_a_closed_manager_holds_no_value() -> None:
    manager = SecretManager(MemoryProvider())
    manager.close()
    with pytest.raises(SecretwireError, match="closed") as info:
        manager.set("db/password", CANARY)
    assert_no_leak(info.value, CANARY)


def test_layers_receive_the_value_wrapped_and_a_refusing_layer_holds_none() -> None:
    seen: list[object] = []

    class Guard(Layer):
        def set(self, write: Write) -> SecretVersion:
            seen.append(write.value)
            raise AccessDenied(name=write.name, provider="guard")

    def guard(inner: Handler) -> Handler:
        return Guard(inner)

    with SecretManager(MemoryProvider(), before_cache=[guard]) as manager:
        with pytest.raises(AccessDenied) as info:
            manager.set("db/password", CANARY)
        assert_no_leak(info.value, CANARY)
    assert isinstance(seen[0], SecretValue)
    assert seen[0].reveal() == CANARY


def test_a_write_through_cache_and_stage_still_stores_the_value() -> None:
    provider = MemoryProvider()
    with SecretManager(provider) as manager:
        manager.set("a", "plain")
        manager.set("b", SecretValue("wrapped"))
        assert manager.get("a").reveal() == "plain"
        assert manager.get("b").reveal() == "wrapped"
    with pytest.raises(TypeError, match="must be str"):
        SecretManager(MemoryProvider()).set("c", b"bytes")  # type: ignore[arg-type]
