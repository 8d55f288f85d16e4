from __future__ import annotations

import copy
import logging
import pickle

import pytest

from secretwire import MASK, SecretValue
from secretwire.testing import CANARY


def test_value_never_shows(all_logs: pytest.LogCaptureFixture) -> None:
    value = SecretValue(CANARY)
    logging.getLogger("app").warning("value is %s / %r / %s", value, value, [value])
    shown = [repr(value), str(value), f"{value}", f"{value!r}", f"{value:>30}", str([value])]
    shown.append(all_logs.text)
    for text in shown:
        assert CANARY not in text
    assert MASK in str(value)
    assert value.reveal() == CANARY


def test_pickle_is_refused_copy_is_identity() -> None:
    value = SecretValue(CANARY)
    with pytest.raises(TypeError):
        pickle.dumps(value)
    assert copy.copy(value) is value
    assert copy.deepcopy({"v": value})["v"] is value


def test_immutable_equality_and_type() -> None:
    value = SecretValue("a")
    with pytest.raises(AttributeError):
        value._value = "b"  # type: ignore[misc]
    assert value == SecretValue("a")
    assert value != SecretValue("b")
    assert value != "a"
    assert len({value, SecretValue("a")}) == 1
    with pytest.raises(TypeError):
        SecretValue(b"bytes")  # type: ignore[arg-type]
