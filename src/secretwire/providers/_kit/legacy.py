"""TRANSITION (issue 9): public methods of providers not yet converted to the hooks.

A provider with ``_legacy_public_methods = True`` still overrides the public methods.
:class:`~secretwire.providers.base.SecretProvider` wraps each override with the
generic checks that do not depend on the provider's own declarations (capability
gates, the one name rule, str names, version shape, value type and lone surrogates,
metadata/tags types, aware expiry, the list prefix), so the cross-provider behaviour
is the same on every provider now. Name policies, size limits and validity
enforcement apply once the provider implements the hooks.

Delete this module (and the flag in ``base``) once every built-in provider is converted.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from ...errors import InvalidSecret, ProviderError
from ...references import check_name
from ...types import Key, Secret, SecretVersion
from ...values import SecretValue
from .checks import check_expiry, check_value, check_version, secret_value, string_map


class SecretProvider(Protocol):
    """What the wrappers use of ``providers.base.SecretProvider`` (no import of it:
    the kit sits below the base)."""

    name: str

    def _gate(self, capability: str, operation: str) -> None: ...


__all__ = ["LEGACY", "legacy_hook"]

Method = Callable[..., Any]
Results = dict[Key, Secret | ProviderError]


def legacy_hook(original: Method) -> Method:
    """A ``_get`` hook that calls a provider's own (unwrapped) ``get``."""

    def _get(self: SecretProvider, name: str, version: str | None) -> Secret:
        return original(self, name, version=version)  # type: ignore[no-any-return]

    return _get


def _get_wrapper(original: Method) -> Method:
    @functools.wraps(original)
    def get(self: SecretProvider, name: str, *, version: str | None = None) -> Secret:
        name = check_name(name, provider=self.name)
        version = check_version(version, name=name, provider=self.name)
        return original(self, name, version=version)  # type: ignore[no-any-return]

    return get


def _get_many_wrapper(original: Method) -> Method:
    @functools.wraps(original)
    def get_many(self: SecretProvider, keys: Sequence[Key]) -> Results:
        results: Results = {}
        valid: builtins.list[Key] = []
        for key in dict.fromkeys(keys):
            try:
                name = check_name(key[0], provider=self.name)
                version = check_version(key[1], name=name, provider=self.name)
            except ProviderError as err:
                results[key] = err
                continue
            valid.append((name, version))
        if valid:
            results.update(original(self, valid))
        return results

    return get_many


def _set_wrapper(original: Method) -> Method:
    @functools.wraps(original)
    def set(
        self: SecretProvider,
        name: str,
        value: str | SecretValue,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
        **backend: Any,
    ) -> SecretVersion:
        secret = secret_value(value)
        del value  # only the masked value stays in this frame
        self._gate("write", "set")
        name = check_name(name, provider=self.name)
        check_value(secret, name=name, provider=self.name, operation="set")
        fields = {"name": name, "provider": self.name, "operation": "set"}
        string_map(metadata, "metadata", **fields)
        string_map(tags, "tags", **fields)
        check_expiry(expires_at, name=name, provider=self.name)
        return original(  # type: ignore[no-any-return]
            self, name, secret, metadata=metadata, tags=tags, expires_at=expires_at, **backend
        )

    return set


def _named_wrapper(capability: str, operation: str) -> Callable[[Method], Method]:
    def wrap(original: Method) -> Method:
        @functools.wraps(original)
        def method(self: SecretProvider, name: str) -> Any:
            self._gate(capability, operation)
            return original(self, check_name(name, provider=self.name))

        return method

    return wrap


def _list_wrapper(original: Method) -> Method:
    @functools.wraps(original)
    def list(self: SecretProvider, prefix: str = "") -> Iterator[str]:
        if not isinstance(prefix, str):
            raise InvalidSecret(
                operation="list",
                provider=self.name,
                detail=f"the prefix must be a string, not {type(prefix).__name__}",
            )
        self._gate("list", "list")
        return original(self, prefix)  # type: ignore[no-any-return]

    return list


def _unchanged(original: Method) -> Method:
    return original


#: The wrapper for each public method a legacy provider overrides.
LEGACY: dict[str, Callable[[Method], Method]] = {
    "get": _get_wrapper,
    "get_many": _get_many_wrapper,
    "set": _set_wrapper,
    "delete": _named_wrapper("delete", "delete"),
    "versions": _named_wrapper("versions", "versions"),
    "list": _list_wrapper,
    "health": _unchanged,
    "close": _unchanged,
}
