"""Conformance cases: one behaviour on every provider for arguments it refuses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from ..errors import (
    InvalidSecret,
    SecretNotFound,
    UnsupportedOperation,
)
from ..providers.base import SecretProvider
from ..references import MAX_NAME_LENGTH, Reference, parse_reference
from ._base import ContractBase
from .leaks import CANARY, assert_no_leak

__all__ = ["UniformCases"]


def _set(provider: SecretProvider, name: Any) -> object:
    return provider.set(name, "v")


#: Names that are not strings: never a TypeError, never "not found".
_NOT_STRINGS: tuple[object, ...] = (5, None, b"db", ("db",), 1.5)


class UniformCases(ContractBase):
    """The cross-provider section: what every provider refuses, it refuses with the
    same error type (the provider kit checks these once, before any backend call):
    bad, non-string and empty names, bad versions, lone surrogates, values over the
    declared limit, naive times, wrong metadata types and unsupported operations."""

    def _named_operations(self, provider: SecretProvider) -> list[Callable[[Any], object]]:
        """Every operation that takes a name (with valid other arguments) that the
        provider offers."""
        caps = provider.capabilities
        operations: list[Callable[[Any], object]] = [
            provider.get,
            functools.partial(provider.get, version="1"),
        ]
        if caps.write:
            operations.append(functools.partial(_set, provider))
        operations += [provider.delete] if caps.delete else []
        operations += [provider.versions] if caps.versions else []
        return operations

    def test_non_string_names_are_invalid_secret_everywhere(self, provider: SecretProvider) -> None:
        for name in _NOT_STRINGS:
            for operation in self._named_operations(provider):
                with pytest.raises(InvalidSecret):
                    operation(name)
            result = provider.get_many([(name, None)])  # type: ignore[list-item]
            assert isinstance(result[(name, None)], InvalidSecret)  # type: ignore[index]

    def test_the_empty_name_is_invalid_secret_everywhere(self, provider: SecretProvider) -> None:
        for operation in self._named_operations(provider):
            with pytest.raises(InvalidSecret):
                operation("")
        assert isinstance(provider.get_many([("", None)])[("", None)], InvalidSecret)

    def test_versions_that_are_not_text_are_invalid_secret(
        self, provider: SecretProvider, ns: str
    ) -> None:
        self.seed(provider, f"{ns}/versioned", "v")
        for version in ("", 1, "a b", "x" * 257):
            with pytest.raises(InvalidSecret):
                provider.get(f"{ns}/versioned", version=version)  # type: ignore[arg-type]

    def test_naive_times_are_invalid_secret(self, provider: SecretProvider, ns: str) -> None:
        """A naive ``expires_at`` is ambiguous: refused before anything else looks at it
        (even where the backend keeps no expiry)."""
        self._require(provider, "write")
        for moment in (datetime(2030, 1, 1), "2030-01-01T00:00:00+00:00"):
            with pytest.raises(InvalidSecret) as info:
                provider.set(f"{ns}/naive", CANARY, expires_at=moment)  # type: ignore[arg-type]
            assert_no_leak(info.value, CANARY)
        with pytest.raises(SecretNotFound):
            provider.get(f"{ns}/naive")

    def test_metadata_and_tags_must_map_strings(self, provider: SecretProvider, ns: str) -> None:
        self._require(provider, "write")
        for arguments in (
            {"metadata": {"owner": 1}},
            {"metadata": [("owner", "me")]},
            {"tags": {1: "x"}},
            {"tags": "team=a"},
        ):
            with pytest.raises(InvalidSecret) as info:
                provider.set(f"{ns}/typed", CANARY, **arguments)
            assert_no_leak(info.value, CANARY)
        with pytest.raises(SecretNotFound):
            provider.get(f"{ns}/typed")

    def test_unsupported_operations_are_refused_before_the_arguments(
        self, provider: SecretProvider
    ) -> None:
        """An operation the provider does not offer is ``UnsupportedOperation`` whatever
        its arguments: even an invalid name does not make it an ``InvalidSecret``. A
        list prefix that is not a string is an ``InvalidSecret`` on every provider."""
        caps = provider.capabilities
        refused: list[Callable[[], object]] = []
        if not caps.write:
            refused.append(lambda: provider.set("", "v"))
        if not caps.delete:
            refused.append(lambda: provider.delete(""))
        if not caps.versions:
            refused.append(lambda: provider.versions(""))
        if not caps.list:
            refused.append(lambda: list(provider.list("")))
        for operation in refused:
            with pytest.raises(UnsupportedOperation):
                operation()
        with pytest.raises(
            (InvalidSecret, UnsupportedOperation) if not caps.list else InvalidSecret
        ):
            list(provider.list(5))  # type: ignore[arg-type]

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
