"""Structured errors: fields in, one message grammar out; ``reason`` from the fields."""

from __future__ import annotations

import pickle

import pytest

from secretwire import (
    AccessDenied,
    ProviderError,
    ProviderUnavailable,
    SecretExpired,
    SecretNotFound,
    Unauthenticated,
    reason_of,
)
from secretwire.errors import FieldNotFound, display_url


def test_the_grammar_builds_the_message_from_every_field() -> None:
    err = ProviderUnavailable(
        operation="get",
        name="db/password",
        version="3",
        provider="vault",
        endpoint="https://vault.internal:8200/",
        detail="cannot connect (Connection refused)",
        code="ECONNREFUSED",
        hint="is Vault running?",
    )
    assert str(err) == (
        "unavailable: get secret 'db/password' version '3' in provider 'vault' at "
        "https://vault.internal:8200/: cannot connect (Connection refused) (ECONNREFUSED); "
        "hint: is Vault running?"
    )
    assert err.reason == (
        "unavailable at https://vault.internal:8200/: cannot connect (Connection refused) "
        "(ECONNREFUSED); hint: is Vault running?"
    )
    assert reason_of(err) == err.reason


@pytest.mark.parametrize(
    ("error", "message", "reason"),
    [
        (
            SecretNotFound(name="a", provider="p"),
            "not found: secret 'a' in provider 'p'",
            "not found",
        ),
        (ProviderUnavailable(provider="vault"), "unavailable in provider 'vault'", "unavailable"),
        (
            SecretNotFound(operation="get", name="a", provider="env", detail="variable X unset"),
            "not found: get secret 'a' in provider 'env': variable X unset",
            "not found: variable X unset",
        ),
        (
            AccessDenied(operation="log in", provider="vault", hint="check the role"),
            "access denied: log in in provider 'vault'; hint: check the role",
            "access denied; hint: check the role",
        ),
    ],
)
def test_parts_without_a_field_are_left_out(
    error: ProviderError, message: str, reason: str
) -> None:
    assert str(error) == message
    assert error.reason == reason


def test_a_message_given_as_text_is_kept_for_callers_not_yet_converted() -> None:
    err = AccessDenied("access denied: read secret 'a' (Vault: permission denied)", name="a")
    assert str(err) == "access denied: read secret 'a' (Vault: permission denied)"
    assert err.reason == "access denied: read secret 'a' (Vault: permission denied)"
    assert (err.name, err.detail, err.operation) == ("a", None, None)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@vault.internal:8200/v1?token=abc#frag", "https://vault.internal:8200/v1"),
        ("http://[::1]:8200", "http://[::1]:8200"),
        ("not a url", "<an endpoint that is not a valid URL>"),
        ("https://host:99999/", "<an endpoint that is not a valid URL>"),
    ],
)
def test_the_endpoint_is_shown_without_credentials(url: str, shown: str) -> None:
    assert display_url(url) == shown
    err = ProviderUnavailable(provider="x", endpoint=url)
    assert err.endpoint == shown
    for hidden in ("pw", "token=abc", "frag"):
        assert hidden not in str(err)


def test_unauthenticated_is_access_denied() -> None:
    err = Unauthenticated(operation="get", name="a", provider="aws", code="ExpiredToken")
    assert isinstance(err, AccessDenied)
    assert isinstance(err, PermissionError)
    assert str(err) == "unauthenticated: get secret 'a' in provider 'aws' (ExpiredToken)"
    assert reason_of(err) == "unauthenticated (ExpiredToken)"


def test_subclass_fields_and_new_fields_together() -> None:
    field = FieldNotFound(name="db", field="user", operation="get", provider="memory")
    assert (field.field, field.operation) == ("user", "get")
    assert str(field) == "field not found: field 'user' of secret 'db'"
    expired = SecretExpired(name="a", provider="m", detail="expired at 2030-01-01T00:00:00+00:00")
    assert expired.expires_at is None
    assert expired.reason == "expired: expired at 2030-01-01T00:00:00+00:00"


def test_fields_survive_pickling() -> None:
    err = AccessDenied(
        operation="set", name="a", provider="p", code="HTTP 403", detail="d", hint="h"
    )
    back = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert type(back) is AccessDenied
    assert (back.operation, back.code, back.detail, back.hint, str(back)) == (
        "set",
        "HTTP 403",
        "d",
        "h",
        str(err),
    )


def test_reason_of_other_exceptions_is_the_type_only() -> None:
    assert reason_of(RuntimeError("holds a value")) == "RuntimeError"
