"""The core redactor: served values masked in text and log records, longest first."""

from __future__ import annotations

import json
import logging

import pytest

from secretwire import MASK, RedactingFilter, Redactor, SecretManager, SecretValue
from secretwire.masking import default_redactor
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY


def test_longest_first_and_short_values_left_alone() -> None:
    redactor = Redactor()
    for value in ("pass", "password-1", SecretValue("abc")):
        redactor.add(value)
    assert len(redactor) == 2  # "abc" is shorter than min_length (4)
    assert redactor.redact("x password-1 pass abc") == f"x {MASK} {MASK} abc"
    assert redactor.may_contain("a password-1 here")
    assert not redactor.may_contain("nothing here")
    assert CANARY not in repr(redactor)
    redactor.clear()
    assert redactor.redact("password-1") == "password-1"
    with pytest.raises(ValueError, match="min_length"):
        Redactor(min_length=0)


def test_special_characters_are_matched_literally() -> None:
    redactor = Redactor(min_length=1)
    redactor.add("a.c*")
    assert redactor.redact("abc* a.c*") == f"abc* {MASK}"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_the_manager_registers_what_it_serves_and_the_filter_masks_it() -> None:
    handler = Collect()
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("swt.masking.app")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with SecretManager(MemoryProvider({"db": CANARY, "other": "never-read-9"})) as manager:
            assert not manager.redactor.may_contain(CANARY)
            manager.resolve({"url": "pg://app:${secret:db}@h"})
            assert manager.redactor.may_contain(f"x{CANARY}y")
            assert default_redactor().may_contain(CANARY)
            logger.info("connecting with %s", f"pg://app:{CANARY}@h")
            logger.info("never-read-9 is not registered")
    finally:
        logger.removeHandler(handler)
    assert handler.messages == [
        f"connecting with pg://app:{MASK}@h",
        "never-read-9 is not registered",
    ]


def test_escaped_forms_of_a_value_are_masked_too() -> None:
    redactor = Redactor()
    value = 'p"ss\\w\u00f6rd'
    redactor.add(value)
    for text in (repr({"password": value}), json.dumps({"password": value})):
        assert redactor.may_contain(text)
        redacted = redactor.redact(text)
        assert "w\u00f6rd" not in redacted
        assert "w\\u00f6rd" not in redacted


def test_a_text_that_is_a_short_value_is_masked_whole_but_not_searched_for() -> None:
    redactor = Redactor()
    redactor.add("on")
    assert redactor.redact("on") == MASK and redactor.may_contain("on")
    assert redactor.redact("turned on") == "turned on"
