"""The kit's translation helper, exception-chain diggers, SDK log guard and SDK import."""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from secretwire import (
    AccessDenied,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    require_extra,
)
from secretwire.providers.base import (
    call,
    exception_chain,
    from_table,
    os_reason,
    quiet_loggers,
    ssl_reason,
    timed_out,
)
from secretwire.testing import CANARY, assert_no_leak

TABLE = [
    (KeyError, SecretNotFound, "no such key"),
    ((PermissionError, ssl.SSLError), AccessDenied, "refused ({type})"),
    (OSError, ProviderUnavailable, "the backend failed ({type})"),
]


def translate(err: Exception, context: Mapping[str, Any]) -> ProviderError | None:
    return from_table(err, TABLE, **context)


def sdk_read(request: str) -> str:
    """An SDK call whose frame and exception hold the request (a value)."""
    raise PermissionError(f"denied for request {request}")


def test_call_raises_the_translation_outside_the_except_block() -> None:
    with pytest.raises(AccessDenied) as info:
        call(lambda: sdk_read(CANARY), translate, operation="get", name="a", provider="sdk")
    error = info.value
    assert (
        str(error) == "access denied: get secret 'a' in provider 'sdk': refused (PermissionError)"
    )
    assert error.__context__ is None and error.__cause__ is None
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    # this test's frame, then call's: neither the lambda nor the SDK's frame
    assert frames == ["test_call_raises_the_translation_outside_the_except_block", "call"]
    assert_no_leak(error, CANARY)


def test_call_passes_secretwire_errors_and_wraps_the_unknown() -> None:
    def not_found() -> str:
        raise SecretNotFound(name="x", provider="sdk")

    with pytest.raises(SecretNotFound):
        call(not_found, translate, operation="get")

    def bug() -> str:
        raise ValueError(f"a bug quoting {CANARY}")

    with pytest.raises(ProviderError) as info:
        call(bug, translate, operation="get", name="a", provider="sdk")
    assert type(info.value) is ProviderError
    assert str(info.value) == (
        "provider error: get secret 'a' in provider 'sdk': failed unexpectedly (ValueError)"
    )
    assert isinstance(info.value.original, ValueError)  # for --debug, off the chain
    assert info.value.__context__ is None
    assert call(lambda: 42, translate) == 42


def test_table_rows_match_in_order() -> None:
    assert isinstance(translate(FileNotFoundError(), {}), ProviderUnavailable)
    assert isinstance(translate(PermissionError(), {}), AccessDenied)
    assert translate(ValueError(), {}) is None


class Wrapper(Exception):
    """Like urllib3's MaxRetryError: the cause sits in ``reason``."""

    def __init__(self, reason: BaseException) -> None:
        super().__init__("wrapped")
        self.reason = reason


def test_the_chain_diggers_find_the_cause_where_libraries_hide_it() -> None:
    verify = ssl.SSLCertVerificationError(1, "verify failed")
    verify.verify_message = "self-signed certificate"
    assert ssl_reason(Exception(Wrapper(verify))) == (
        "certificate verification failed (self-signed certificate)"
    )
    assert ssl_reason(ValueError()) == "TLS error"
    refused = ConnectionRefusedError(111, "Connection refused")
    outer = RuntimeError("outer")
    outer.__context__ = Wrapper(refused)
    assert os_reason(outer) == "Connection refused"
    assert os_reason(ValueError()) == "ValueError"
    assert timed_out(Exception(Wrapper(TimeoutError())))
    assert not timed_out(Exception(Wrapper(OSError())))

    class NewConnection(TimeoutError):
        """urllib3's NewConnectionError is a ConnectTimeoutError, for history."""

    assert not timed_out(Wrapper(NewConnection()), excluded=(NewConnection,))


def test_quiet_loggers_drops_debug_records_only_inside_the_block(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sdk = logging.getLogger("swtsdk.wire")
    with quiet_loggers(["swtsdk"], known=["swtsdk.late"]):
        sdk.debug("body %s", CANARY)
        sdk.warning("retrying")
        thread = threading.Thread(target=lambda: sdk.debug("other thread"))
        thread.start()
        thread.join()
        logging.getLogger("swtsdk.late").debug("a logger the SDK makes during the call")
    sdk.debug("after")
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["retrying", "other thread", "after"]


def test_require_extra_names_the_extra() -> None:
    assert require_extra("json", "never").__name__ == "json"
    with pytest.raises(ImportError, match=r"pip install 'secretwire\[vault\]'") as info:
        require_extra("swt_no_such_sdk", "vault")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_the_chain_walk_follows_azure_cores_inner_exception() -> None:
    class ServiceRequestError(Exception):  # azure-core's shape: the cause on an attribute
        def __init__(self, message: str, error: BaseException) -> None:
            super().__init__(message)
            self.inner_exception = error

    refused = ConnectionRefusedError(111, "Connection refused")
    wrapped = ServiceRequestError("request failed", refused)
    assert refused in list(exception_chain(wrapped, context=False))
    assert os_reason(wrapped) == "Connection refused"
