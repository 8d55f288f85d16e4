"""The provider kit's lifecycle template methods (annotate, stage, promote, unstage)
check their arguments once, gate on capabilities, and pass through the pipeline,
whose cache forgets the name they change."""

from __future__ import annotations

from typing import Any

import pytest

from secretwire import (
    Handler,
    InvalidSecret,
    Layer,
    SecretManager,
    SecretProvider,
    SecretValue,
    SecretVersion,
    UnsupportedOperation,
    Write,
)
from secretwire.providers.base import Capabilities, Secret
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, assert_no_leak

TOKEN = "rot-00000000-0000-4000-8000-0000000000f0"


class Staging(SecretProvider):
    """Records what reached its hooks: a backend with staging labels, in memory."""

    name = "staging"
    capabilities = Capabilities.full(annotate=False, staging=True)

    def __init__(self) -> None:
        self.current: dict[str, str] = {}
        self.staged: dict[tuple[str, str], str] = {}

    def _get(self, name: str, version: str | None) -> Secret:
        value = self.staged.get((name, version or ""), self.current.get(name, ""))
        return Secret(name=name, value=SecretValue(value), version=version, provider=self.name)

    def _set(self, write: Write) -> SecretVersion:
        self.current[write.name] = write.value.reveal()
        return SecretVersion(write.name, "v", current=True)

    def _stage(self, write: Write, token: str) -> SecretVersion:
        self.staged[(write.name, token)] = write.value.reveal()
        return SecretVersion(write.name, token, staged=True)

    def _promote(self, name: str, version: str) -> SecretVersion:
        self.current[name] = self.staged.pop((name, version))
        return SecretVersion(name, version, current=True)


def test_the_template_methods_check_before_the_hooks() -> None:
    provider = MemoryProvider({"a": "v"})
    with pytest.raises(InvalidSecret, match="a version is required"):
        provider.annotate("a", None, {"k": "v"})  # type: ignore[arg-type]
    with pytest.raises(InvalidSecret):
        provider.annotate("a", "1", {"k": 1})  # type: ignore[dict-item]
    with pytest.raises(InvalidSecret):
        provider.annotate("", "1", {})
    for refused in (
        lambda: provider.stage("a", "v", token=TOKEN),
        lambda: provider.promote("", "1"),  # refused before the name is looked at
        lambda: provider.unstage("a", "1"),
    ):
        with pytest.raises(UnsupportedOperation, match="cannot stage"):
            refused()
    staging = Staging()
    with pytest.raises(InvalidSecret, match="surrogate") as info:
        staging.stage("a", CANARY + "\udcff", token=TOKEN)
    assert_no_leak(info.value, CANARY)
    with pytest.raises(InvalidSecret):
        staging.stage("a", "v", token="a b")
    with pytest.raises(UnsupportedOperation, match="metadata"):
        staging.annotate("a", "1", {})
    assert staging.staged == {}


def test_a_provider_may_not_override_the_template_methods() -> None:
    with pytest.raises(TypeError, match="overrides promote"):

        class Overrides(MemoryProvider):
            def promote(self, name: str, version: str) -> SecretVersion:  # type: ignore[misc]
                raise AssertionError

    assert "Overrides" not in globals()


def test_the_pipeline_passes_them_on_and_the_cache_forgets_the_name() -> None:
    seen: list[str] = []

    class Audit(Layer):
        def promote(self, name: str, version: str) -> SecretVersion:
            seen.append(f"promote {name} {version}")
            return self.inner.promote(name, version)

    provider = Staging()
    manager = SecretManager(provider, before_cache=[Audit])
    manager.set("a", "old")
    assert manager.get("a").reveal() == "old"
    manager._pipeline.stage(Write("a", SecretValue("new")), TOKEN)
    assert manager.get("a").reveal() == "old"  # staged: not current
    manager._pipeline.promote("a", TOKEN)
    assert manager.get("a").reveal() == "new"  # not the cached "old"
    assert seen == [f"promote a {TOKEN}"]


def test_a_handler_written_before_them_refuses_them_typed() -> None:
    """A ``Handler`` written for the eight original operations still builds; the
    lifecycle operations it does not pass on are ``UnsupportedOperation``."""

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError

    operations = ("get", "get_many", "set", "delete", "list", "versions", "health", "close")
    old = type("Old", (Handler,), {"provider_name": "old", **dict.fromkeys(operations, never)})
    handler = old()
    with pytest.raises(UnsupportedOperation, match="Old does not pass promote on"):
        handler.promote("a", "1")
    with pytest.raises(UnsupportedOperation):
        handler.annotate("a", "1", {})
