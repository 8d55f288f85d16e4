"""The keyed batch: Resolver.resolve_texts, ResolvedText, SiteFailure, reference_value."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import pytest

from secretwire import (
    MASK,
    ConfigError,
    ProviderError,
    ReferenceSyntaxError,
    ResolutionError,
    ResolvedText,
    Resolver,
    Secret,
    SecretManager,
    SecretNotFound,
    SecretValue,
    SiteFailure,
    as_reference,
    reference_value,
)
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, assert_no_leak
from secretwire.types import Key


class RecordingSource:
    """A real manager, with each batch it is asked for recorded."""

    def __init__(self, manager: SecretManager) -> None:
        self.manager = manager
        self.batches: list[list[Key]] = []

    def get_many(self, keys: Sequence[Key]) -> Mapping[Key, Secret | ProviderError]:
        self.batches.append(list(keys))
        return self.manager.get_many(keys)


@pytest.fixture
def source() -> Iterator[RecordingSource]:
    provider = MemoryProvider(
        {"db/password": CANARY, "db/creds": '{"user": "app"}', "nested": "${secret:db/password}"}
    )
    with SecretManager(provider) as manager:
        yield RecordingSource(manager)


def test_one_batch_keyed_by_the_callers_keys_in_order(source: RecordingSource) -> None:
    texts = {
        "url": "postgres://${secret:db/creds#user}:${secret:db/password}@db",
        ("a", 1): "${secret:db/password}",
        7: "plain",
        "escaped": "$${secret:db/password}",
        "nested": "${secret:nested}",
    }
    resolved = Resolver(source).resolve_texts(texts)
    assert list(resolved) == list(texts)
    assert source.batches == [[("db/creds", None), ("db/password", None), ("nested", None)]]
    assert resolved["url"].reveal() == f"postgres://app:{CANARY}@db"
    assert resolved[7] == ResolvedText("plain")
    assert resolved["escaped"] == ResolvedText("${secret:db/password}")
    assert resolved["nested"].reveal() == "${secret:db/password}"  # never parsed again


def test_a_text_with_a_secret_stays_masked_until_revealed(source: RecordingSource) -> None:
    resolved = Resolver(source).resolve_texts(
        {"pw": "${secret:db/password}", "dflt": "x-${secret:nope:-fallback}"}
    )
    pw = resolved["pw"]
    assert pw.is_secret and isinstance(pw.value, SecretValue)
    assert CANARY not in repr(pw) and CANARY not in str(pw)
    assert pw.reveal() == CANARY
    (item,) = pw.provenance
    assert (item.location, item.reference, item.provider, item.version, item.defaulted) == (
        "pw",
        "${secret:db/password}",
        "memory",
        "1",
        False,
    )
    dflt = resolved["dflt"]
    assert not dflt.is_secret and dflt.value == "x-fallback"
    assert [p.defaulted for p in dflt.provenance] == [True]


def test_reveal_false_fetches_but_masks(source: RecordingSource) -> None:
    resolved = Resolver(source).resolve_texts({"pw": "a ${secret:db/password}"}, reveal=False)
    assert resolved["pw"].reveal() == f"a {MASK}"
    assert resolved["pw"].is_secret
    assert source.batches == [[("db/password", None)]]


def test_failures_carry_the_key_and_the_label(source: RecordingSource) -> None:
    texts = {
        ("db", 0): "${secret:missing}",
        ("db", 1): "ok ${secret:db/password}",
        ("db", 2): "${secret:broken",
        ("db", 3): "${secret:db/creds#nope}",
    }
    with pytest.raises(ResolutionError) as info:
        Resolver(source).resolve_texts(
            texts, where={k: f"item {k[1]}" for k in texts}, lines={"item 2": 9}, source="f.yaml"
        )
    failures = info.value.failures
    assert all(isinstance(f, SiteFailure) for f in failures)
    sites = [f.site for f in failures if isinstance(f, SiteFailure)]
    assert sites == [("db", 0), ("db", 2), ("db", 3)]
    assert [f.location for f in failures] == ["item 0", "item 2 (line 9)", "item 3"]
    assert [f.reference for f in failures] == [
        "${secret:missing}",
        "${secret:broken",
        "${secret:db/creds#nope}",
    ]
    assert isinstance(failures[1].error, ReferenceSyntaxError)
    assert failures[1].error.line == 9 and failures[1].error.source == "f.yaml"
    assert info.value.source == "f.yaml"
    assert_no_leak(info.value, CANARY)


def test_default_labels_tree_paths_and_other_keys(source: RecordingSource) -> None:
    with pytest.raises(ResolutionError) as info:
        Resolver(source).resolve_texts(
            {("hosts", 0): "${secret:x}", "field": "${secret:y}", (): "${secret:z}"}
        )
    assert [f.location for f in info.value.failures] == ["hosts[0]", "field", ""]
    with pytest.raises(ResolutionError) as labelled:
        Resolver(source).resolve_texts({3: "${secret:x}"}, where=lambda key: f"#{key}")
    assert labelled.value.failures[0].location == "#3"
    with pytest.raises(ResolutionError) as partly:  # a mapping's missing keys: the default
        Resolver(source).resolve_texts(
            {("a", 1): "${secret:x}", "b": "${secret:y}"}, where={"b": "field b"}
        )
    assert [f.location for f in partly.value.failures] == ["a[1]", "field b"]


def test_only_strings_are_texts(source: RecordingSource) -> None:
    with pytest.raises(TypeError, match="int"):
        Resolver(source).resolve_texts({"a": 5})  # type: ignore[dict-item]


def test_env_scheme_only_with_an_environ(source: RecordingSource) -> None:
    text = "${env:SW_T_HOST:-localhost}/${secret:db/creds#user}"
    plain = Resolver(source).resolve_texts({"a": text})["a"]
    assert plain.reveal() == "${env:SW_T_HOST:-localhost}/app"  # config files: literal
    both = Resolver(source, environ={"SW_T_HOST": "db.internal"}).resolve_texts({"a": text})
    assert both["a"].reveal() == "db.internal/app"
    only_env = Resolver(None, environ={})
    assert only_env.resolve_texts({"a": text})["a"].reveal() == "localhost/${secret:db/creds#user}"
    assert source.batches == [[("db/creds", None)], [("db/creds", None)]]


def test_an_unset_variable_is_a_failure_naming_it(source: RecordingSource) -> None:
    # SW_T_OTHER is never read: were the environment in a frame, the check would see it.
    resolver = Resolver(source, environ={"SW_T_SET": CANARY, "SW_T_OTHER": CANARY})
    with pytest.raises(ResolutionError) as info:
        resolver.resolve_texts({"a": "${env:SW_T_SET}${env:SW_T_UNSET}", "b": "${env:9X}"})
    first, second = info.value.failures
    assert isinstance(first.error, ConfigError)
    assert first.reason == "environment variable SW_T_UNSET is not set"
    assert isinstance(second.error, ReferenceSyntaxError)
    assert_no_leak(info.value, CANARY)


def test_a_resolver_needs_something_to_read() -> None:
    with pytest.raises(ValueError, match="needs"):
        Resolver(None)


def test_reference_value_selects_fields_and_defaults_only_on_not_found() -> None:
    secret = Secret("db/creds", SecretValue('{"user": "app"}'), version="1")
    assert reference_value(as_reference("db/creds#user"), secret) == ("app", False)
    assert reference_value(as_reference("db/creds#nope:-d"), secret) == ("d", True)
    missing = SecretNotFound(name="x")
    assert reference_value(as_reference("x:-d"), missing) == ("d", True)
    with pytest.raises(SecretNotFound):
        reference_value(as_reference("x"), missing)
    with pytest.raises(ProviderError, match="no result"):
        reference_value(as_reference("x:-d"), None)
