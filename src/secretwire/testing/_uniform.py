"""Conformance cases: one behaviour on every provider for arguments it refuses."""

from __future__ import annotations

import pytest

from ..errors import InvalidSecret, SecretNotFound
from ..providers.base import SecretProvider
from ..references import MAX_NAME_LENGTH, Reference, parse_reference
from ._base import ContractBase
from .leaks import CANARY

__all__ = ["UniformCases"]


class UniformCases(ContractBase):
    """The cross-provider section: the same error type on every provider."""

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
