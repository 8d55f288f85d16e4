"""secretwire.testing.assert_no_leak finds values in messages, chains and frame locals."""

from __future__ import annotations

import pytest

from secretwire.testing import assert_no_leak
from tests.unit.leak_helper_module import raise_clean, raise_holding

TOKEN = "hvs.canary-token-5d1e"


def test_a_token_in_a_frame_local_is_found() -> None:
    with pytest.raises(ValueError, match="request failed") as info:
        raise_holding(TOKEN)
    with pytest.raises(AssertionError, match="leaked"):
        assert_no_leak(info.value, TOKEN)


def test_a_frame_that_dropped_the_token_passes() -> None:
    with pytest.raises(ValueError, match="request failed") as info:
        raise_clean(TOKEN)
    assert_no_leak(info.value, TOKEN)


def test_a_value_on_a_suppressed_context_is_found() -> None:
    # ``raise ... from None`` hides __context__ from the default traceback, but the
    # object stays reachable (debuggers, error trackers): the check sees it.
    try:
        try:
            raise KeyError(TOKEN)  # noqa: TRY301 - the chain under test
        except KeyError:
            raise RuntimeError("outer") from None
    except RuntimeError as err:
        suppressed = err
    with pytest.raises(AssertionError, match="leaked"):
        assert_no_leak(suppressed, TOKEN)


def test_json_escaped_forms_are_found() -> None:
    secret = "canary-\u00e9\u2603"
    with pytest.raises(AssertionError):
        assert_no_leak(ValueError("value was canary-\\u00e9\\u2603"), secret)
