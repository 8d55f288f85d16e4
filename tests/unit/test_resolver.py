"""Resolving config trees: batching, locations, defaults, no re-parsing, no mutation."""

from __future__ import annotations

import copy

import pytest

from secretwire import (
    MASK,
    AccessDenied,
    ResolutionError,
    Secret,
    SecretManager,
)
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY


@pytest.fixture
def provider() -> MemoryProvider:
    return MemoryProvider(
        {
            "db/password": "pw",
            "db/creds": '{"user": "app", "host": "db.internal"}',
            "nested": "${secret:db/password}",
            "canary": CANARY,
        }
    )


def test_resolves_a_tree_without_mutating_it(provider: MemoryProvider) -> None:
    config = {
        "database": {
            "url": "postgres://${secret:db/creds#user}:${secret:db/password}@db/app",
            "password": "$<secret:db/password>",
        },
        "hosts": ["${secret:db/creds#host}", ("${secret:db/creds#user}", 5432)],
        "port": 5432,
        "enabled": True,
        "plain": "no refs here",
    }
    before = copy.deepcopy(config)
    with SecretManager(provider) as manager:
        resolved = manager.resolve(config)
    assert config == before
    assert resolved == {
        "database": {"url": "postgres://app:pw@db/app", "password": "pw"},
        "hosts": ["db.internal", ("app", 5432)],
        "port": 5432,
        "enabled": True,
        "plain": "no refs here",
    }
    # db/creds used three times, db/password twice: two backend calls.
    assert provider.calls["get"] == 2


def test_resolved_value_is_not_resolved_again(provider: MemoryProvider) -> None:
    with SecretManager(provider) as manager:
        assert manager.resolve({"x": "${secret:nested}"}) == {"x": "${secret:db/password}"}


def test_default_only_on_not_found(provider: MemoryProvider) -> None:
    with SecretManager(provider) as manager:
        assert manager.resolve("${secret:missing:-dflt}") == "dflt"
        assert manager.resolve("${secret:db/creds#nofield:-dflt}") == "dflt"


class DenyingProvider(MemoryProvider):
    """Fake failure path: access denied for one name."""

    def _get(self, name: str, version: str | None) -> Secret:
        if name == "forbidden":
            raise AccessDenied(name=name, provider=self.name)
        return super()._get(name, version)


def test_default_is_not_used_when_access_is_denied() -> None:
    with SecretManager(DenyingProvider()) as manager, pytest.raises(ResolutionError) as info:
        manager.resolve({"a": "${secret:forbidden:-dflt}"})
    assert info.value.failures[0].reason == "access denied"


def test_all_failures_reported_with_locations(provider: MemoryProvider) -> None:
    config = {
        "database": {"url": "x${secret:nope1}y", "password": "${secret:canary#missing}"},
        "list": ["ok", "${secret:nope2}", "${secret:bad name}"],
        "fine": "${secret:canary}",
    }
    with SecretManager(provider) as manager, pytest.raises(ResolutionError) as info:
        manager.resolve(config, source="app.yaml", lines={"database.url": 3})
    err = info.value
    locations = [f.location for f in err.failures]
    # tree order, syntax errors included
    assert locations == ["database.url (line 3)", "database.password", "list[1]", "list[2]"]
    assert "not found" in str(err)
    assert "${secret:nope1}" in str(err)
    assert CANARY not in str(err)
    assert CANARY not in repr(err.failures)


def test_masked_resolution_fetches_but_hides(provider: MemoryProvider) -> None:
    with SecretManager(provider) as manager:
        result = manager.resolve_with_provenance({"a": "u:${secret:canary}"}, reveal=False)
    assert result.value == {"a": f"u:{MASK}"}
    assert result.provenance[0].location == "a"
    assert result.provenance[0].provider == "memory"
    assert result.provenance[0].version == "1"
    assert CANARY not in repr(result)


def test_keys_are_not_resolved_and_non_strings_pass_through(provider: MemoryProvider) -> None:
    tree = {"${secret:db/password}": 1, "n": None, "f": 1.5}
    with SecretManager(provider) as manager:
        assert manager.resolve(tree) == tree


def test_escaped_references_become_literal_text(provider: MemoryProvider) -> None:
    with SecretManager(provider) as manager:
        assert manager.resolve({"a": "$${secret:db/password}", "b": "$$x"}) == {
            "a": "${secret:db/password}",
            "b": "$$x",
        }
    assert provider.calls["get"] == 0
