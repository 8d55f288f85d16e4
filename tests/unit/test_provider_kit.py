"""The provider kit's template methods: every argument checked once, before any hook."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

import pytest

from secretwire import (
    Capabilities,
    ConfigError,
    InvalidSecret,
    ProviderError,
    Secret,
    SecretExpired,
    SecretManager,
    SecretNotFound,
    SecretNotYetValid,
    SecretProvider,
    SecretValue,
    SecretVersion,
    UnsupportedOperation,
    Write,
)
from secretwire.providers.base import NamePolicy, Option, Options
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, FakeClock, assert_no_leak
from secretwire.types import Key


class Recorder(SecretProvider):
    """A provider that records what its hooks receive (it stores nothing)."""

    name = "recorder"
    capabilities = Capabilities(write=True, metadata=True, expiry=True, max_value_bytes=16)
    name_policy = NamePolicy(
        alphabet=r"[a-z/]+", describe="lower-case letters and '/'", version=r"[0-9]+"
    )

    def __init__(self) -> None:
        self.seen: list[tuple[object, ...]] = []

    def _get(self, name: str, version: str | None) -> Secret:
        self.seen.append(("get", name, version))
        return Secret(name=name, value=SecretValue("v"), version=version, provider=self.name)

    def _set(self, write: Write) -> SecretVersion:
        self.seen.append(
            ("set", write.name, type(write.value), write.metadata, write.tags, write.expires_at)
        )
        return SecretVersion(name=write.name, version="1", current=True)


@pytest.mark.parametrize("name", ["", 5, None, b"db", "a b", "x" * 2049, "UPPER", "a\udcffb"])
def test_a_name_the_rules_refuse_never_reaches_a_hook(name: object) -> None:
    provider = Recorder()
    with pytest.raises(InvalidSecret):
        provider.get(name)  # type: ignore[arg-type]
    with pytest.raises(InvalidSecret):
        provider.set(name, "v")  # type: ignore[arg-type]
    assert provider.seen == []


def test_the_name_policy_message_names_the_rule() -> None:
    with pytest.raises(InvalidSecret) as info:
        Recorder().get("Bad")
    assert str(info.value) == (
        "invalid secret: get secret 'Bad' in provider 'recorder': the name is not "
        "lower-case letters and '/'"
    )


@pytest.mark.parametrize(
    ("version", "error"),
    [
        ("", InvalidSecret),
        (7, InvalidSecret),
        ("a b", InvalidSecret),
        ("x" * 257, InvalidSecret),
        ("abc", SecretNotFound),  # not of the backend's form: it cannot exist
    ],
)
def test_versions_are_checked_once(version: object, error: type[ProviderError]) -> None:
    provider = Recorder()
    with pytest.raises(error):
        provider.get("db", version=version)  # type: ignore[arg-type]
    assert provider.seen == []
    provider.get("db", version="12")
    assert provider.seen == [("get", "db", "12")]


def test_set_gives_the_hook_a_secret_value_plain_maps_and_an_aware_time() -> None:
    provider = Recorder()
    moment = datetime(2030, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    provider.set("db", "v", metadata={"a": "b"}, expires_at=moment)
    assert provider.seen == [("set", "db", SecretValue, {"a": "b"}, {}, moment)]
    assert provider.seen[0][5].tzinfo == timezone.utc  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "capability"),
    [({"tags": {"team": "a"}}, "tags"), ({"expires_at": datetime.now(timezone.utc)}, "expiry")],
)
def test_tags_and_expiry_a_provider_cannot_keep_are_refused_before_the_hook(
    kwargs: dict[str, object], capability: str
) -> None:
    class NoTags(Recorder):
        capabilities = Capabilities(write=True)
        unsupported_hints = {capability: "a hint"}  # noqa: RUF012

    provider = NoTags()
    with pytest.raises(UnsupportedOperation, match="a hint") as info:
        provider.set("db", CANARY[:16], **kwargs)  # type: ignore[arg-type]
    assert provider.seen == []
    assert_no_leak(info.value, CANARY[:16])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"metadata": {"k": 1}},
        {"metadata": ["k", "v"]},
        {"tags": {1: "v"}},
        {"expires_at": datetime(2030, 1, 1)},  # naive
        {"expires_at": "2030-01-01T00:00:00+00:00"},
    ],
)
def test_bad_set_arguments_are_invalid_secret(kwargs: dict[str, object]) -> None:
    provider = Recorder()
    with pytest.raises(InvalidSecret) as info:
        provider.set("db", CANARY[:16], **kwargs)  # type: ignore[arg-type]
    assert provider.seen == []
    assert_no_leak(info.value, CANARY[:16])


def test_values_over_the_declared_limit_and_lone_surrogates_are_refused() -> None:
    provider = Recorder()
    with pytest.raises(InvalidSecret, match="too large: 17 bytes in UTF-8, the limit is 16"):
        provider.set("db", "x" * 17)
    with pytest.raises(InvalidSecret, match="too large: 18 bytes"):
        provider.set("db", "é" * 9)  # 9 characters, 18 bytes
    with pytest.raises(InvalidSecret, match="lone surrogate at character 1"):
        provider.set("db", "x\udcff")
    with pytest.raises(TypeError, match="must be str, not bytes"):
        provider.set("db", b"bytes")  # type: ignore[arg-type]
    assert provider.seen == []


def test_capability_gates_come_before_the_hooks() -> None:
    provider = Recorder()
    for call, what in (
        (lambda: provider.delete("db"), "cannot delete"),
        (lambda: list(provider.list()), "cannot list"),
        (lambda: provider.versions("db"), "does not keep versions"),
    ):
        with pytest.raises(UnsupportedOperation, match=what):
            call()
    with pytest.raises(InvalidSecret, match="prefix must be a string"):
        provider.list(5)  # type: ignore[arg-type]


def test_overriding_a_public_method_is_refused() -> None:
    with pytest.raises(TypeError, match=r"overrides get.*implement _get instead"):

        class Sloppy(MemoryProvider):
            def get(self, name: str, *, version: str | None = None) -> Secret:
                return super().get(name, version=version)


# -- validity times, on a fake clock -------------------------------------------------------


def test_expiry_and_not_before_are_enforced_once_after_the_hook() -> None:
    clock = FakeClock()
    provider = MemoryProvider()
    with clock.installed():
        provider.set("a", CANARY, expires_at=clock.utcnow() + timedelta(seconds=60))
        assert provider.get("a").reveal() == CANARY
        clock.advance(60)
        with pytest.raises(SecretExpired) as info:
            provider.get("a")
        assert info.value.expires_at == clock.utcnow()
        assert not isinstance(info.value, SecretNotFound)  # a default never replaces it
        assert "expired at 2030-01-01T00:01:00+00:00" in str(info.value)
        assert isinstance(provider.get_many([("a", None)])[("a", None)], SecretExpired)
        assert_no_leak(info.value, CANARY)


def test_a_provider_may_turn_validity_off() -> None:
    class Early(Recorder):
        def _get(self, name: str, version: str | None) -> Secret:
            later = datetime(2099, 1, 1, tzinfo=timezone.utc)
            return Secret(name=name, value=SecretValue("v"), not_before=later, provider="x")

    provider = Early()
    with pytest.raises(SecretNotYetValid, match="not valid before 2099-01-01"):
        provider.get("a")
    provider.enforce_validity = False
    assert provider.get("a").reveal() == "v"


# -- batches: a subset is allowed, the pipeline fans out the rest --------------------------


class HalfBatch(MemoryProvider):
    """A batch API that serves only current versions (like AWS's BatchGetSecretValue)."""

    def __init__(self) -> None:
        super().__init__({"a": "1", "b": "2"})
        self.batches: list[list[Key]] = []

    def _get_many(self, keys: Sequence[Key]) -> dict[Key, Secret | ProviderError]:
        self.batches.append(list(keys))
        return super()._get_many([key for key in keys if key[1] is None])


def test_a_batch_may_serve_a_subset_and_the_pipeline_fetches_the_rest() -> None:
    provider = HalfBatch()
    assert HalfBatch.batch_reads and not MemoryProvider.batch_reads
    partial = provider.get_many([("a", None), ("b", "1"), ("", None)])
    assert set(partial) == {("a", None), ("", None)}  # ("b", "1") left to the caller
    assert isinstance(partial[("", None)], InvalidSecret)
    with SecretManager(provider, cache=False) as manager:
        results = manager.get_many([("a", None), ("b", "1"), ("nope", None)])
    assert results[("b", "1")].reveal() == "2"  # type: ignore[union-attr]
    assert isinstance(results[("nope", None)], SecretNotFound)
    assert provider.batches[-1] == [("a", None), ("b", "1"), ("nope", None)]


def test_health_is_timed_by_the_pipeline_not_the_provider() -> None:
    provider = MemoryProvider()
    assert provider.health().latency_seconds is None
    with SecretManager(provider) as manager:
        latency = manager.health().latency_seconds
    assert latency is not None and latency >= 0


def test_list_is_filtered_deduplicated_and_sorted_by_the_base() -> None:
    class Loose(Recorder):
        capabilities = Capabilities(list=True)

        def _list(self, prefix: str) -> Iterable[str]:
            return ["b/2", "a/1", "b/2", "c/3"]

    assert list(Loose().list("b")) == ["b/2"]
    assert list(Loose().list()) == ["a/1", "b/2", "c/3"]


# -- from_options, from the declaration ----------------------------------------------------


class Configured(Recorder):
    options = Options(
        Option("mode", str, default="fast", choices=("fast", "safe"), help="How."),
        Option("retries", int, default=2, help="How often."),
    )

    def __init__(self, *, mode: str = "fast", retries: int = 2) -> None:
        super().__init__()
        self.mode, self.retries = mode, retries

    @classmethod
    def _check_options(cls, values: dict[str, object]) -> None:
        if values.get("mode") == "safe" and values.get("retries", 2) == 0:
            raise ConfigError("safe mode needs retries", key="retries")


def test_from_options_is_generic(tmp_path: object) -> None:
    from pathlib import Path

    base = Path(str(tmp_path))
    built = Configured.from_options({"mode": "safe", "retries": 3}, base_dir=base)
    assert isinstance(built, Configured)
    assert (built.mode, built.retries) == ("safe", 3)
    with pytest.raises(ConfigError, match=r"unknown option .* \(known: mode, retries\)") as info:
        Configured.from_options({"mdoe": "x"}, base_dir=base)
    assert info.value.key == "mdoe"
    with pytest.raises(ConfigError, match="one of: fast, safe") as info:
        Configured.from_options({"mode": CANARY}, base_dir=base)
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigError, match="must be an integer, not bool"):
        Configured.from_options({"retries": True}, base_dir=base)
    with pytest.raises(ConfigError, match="safe mode needs retries"):
        Configured.from_options({"mode": "safe", "retries": 0}, base_dir=base)


def test_memory_and_env_declarations_match_their_constructors() -> None:
    from secretwire.providers.env import EnvProvider
    from secretwire.testing import check_options

    for cls in (MemoryProvider, EnvProvider):
        check_options(cls)


def test_builtins_list_is_untouched_by_the_list_method() -> None:
    # The class defines a method named ``list``: the base's annotations still mean the type.
    assert builtins.list is list
