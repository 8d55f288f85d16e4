"""The provider kit: the :class:`SecretProvider` template, and what providers build on.

A provider only knows how to talk to its backend and how to translate that
backend's outcomes into :mod:`secretwire.errors`. Everything else is written once,
here: the public methods (``get``, ``get_many``, ``set``, ``delete``, ``list``,
``versions``, ``health``, ``close``) check their arguments, gate on
``capabilities``, wrap the value, enforce validity times, and only then call the
provider's hook (``_get``, ``_get_many``, ``_set``, ``_delete``, ``_list``,
``_versions``, ``_health``, ``_close``). Caching, authorization, audit, fallback
and timing live in the manager pipeline, not in providers.

The kit's parts, all importable from this module:

* :class:`NamePolicy` -- a provider's name and version rule (``name_policy``);
* :class:`Option`, :class:`Options`, :class:`Credential`, :class:`CredentialSource`
  -- declared options (``options``) behind the generic :meth:`SecretProvider.from_options`;
* :func:`call`, :func:`from_table`, :func:`ssl_reason`, :func:`os_reason`,
  :func:`timed_out` -- error translation;
* :func:`quiet_loggers` -- an SDK log guard; :func:`require_extra` -- SDK imports;
* :func:`check_value`, :func:`check_size`, :func:`string_map`, :func:`secret_value`,
  :func:`option_text`, :func:`shown`, :func:`env_variable`, :func:`plain_url`,
  :func:`read_secret_file`, :func:`display_url` -- the checks and helpers behind them;
* :data:`INSECURE`, :func:`insecure_warnings` -- TLS enforcement: ``plain_url`` refuses
  ``http://`` to another host unless the provider's ``insecure`` option allows it.

``docs/writing-a-provider.md`` walks through a provider built on it.
"""

from __future__ import annotations

import builtins
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, final

from .. import _time
from .._extras import require_extra
from ..errors import (
    InvalidSecret,
    ProviderError,
    SecretExpired,
    SecretNotYetValid,
    UnsupportedOperation,
    display_url,
)
from ..types import Capabilities, Health, HealthStatus, Key, Secret, SecretVersion, Write
from ..values import SecretValue
from ._kit.checks import (
    check_expiry,
    check_size,
    check_value,
    check_version,
    secret_value,
    string_map,
)
from ._kit.credentials import (
    HIDDEN,
    CredentialSource,
    env_variable,
    option_text,
    plain_url,
    read_secret_file,
    shown,
)
from ._kit.logs import quiet_loggers
from ._kit.names import NamePolicy
from ._kit.options import INSECURE, REQUIRED, Credential, Option, Options
from ._kit.pools import FETCH_WORKERS
from ._kit.tls import insecure_warnings
from ._kit.translate import (
    Translator,
    call,
    exception_chain,
    from_table,
    os_reason,
    ssl_reason,
    timed_out,
)

__all__ = [
    "FETCH_WORKERS",
    "HIDDEN",
    "INSECURE",
    "REQUIRED",
    "Capabilities",
    "Credential",
    "CredentialSource",
    "Health",
    "HealthStatus",
    "NamePolicy",
    "Option",
    "Options",
    "Secret",
    "SecretProvider",
    "SecretVersion",
    "Translator",
    "Write",
    "call",
    "check_expiry",
    "check_size",
    "check_value",
    "check_version",
    "display_url",
    "env_variable",
    "exception_chain",
    "from_table",
    "insecure_warnings",
    "option_text",
    "os_reason",
    "plain_url",
    "quiet_loggers",
    "read_secret_file",
    "require_extra",
    "secret_value",
    "shown",
    "ssl_reason",
    "string_map",
    "timed_out",
]

Results = dict[Key, Secret | ProviderError]

#: The public methods: ``typing.final`` template methods that check once, then call
#: the hook.
TEMPLATE_METHODS = (
    "get", "get_many", "set", "delete", "list", "versions", "health", "close",
    "annotate", "stage", "promote", "unstage",
)  # fmt: skip

#: What a capability gate says when the capability is off.
_CANNOT = {
    "write": "the provider is read-only",
    "delete": "the provider cannot delete secrets",
    "list": "the provider cannot list secrets",
    "versions": "the provider does not keep versions",
    "tags": "the provider keeps no tags",
    "expiry": "the provider keeps no expiry time",
    "annotate": "the provider cannot change a stored version's metadata",
    "staging": "the provider cannot stage a version (it has no staging labels)",
}


class SecretProvider(ABC):
    """Base class of every provider: subclasses declare, the base checks.

    Declare ``name``, ``capabilities``, ``name_policy`` (a :class:`NamePolicy`;
    default: the one name rule alone) and ``options`` (an :class:`Options`; default:
    none), and implement the hooks:

    ===============================  ===================================================
    public method (do not override)  hook (implement)
    ===============================  ===================================================
    ``get(name, *, version=None)``   ``_get(name, version) -> Secret`` (required)
    ``get_many(keys)``               ``_get_many(keys)`` (batch API; may serve a subset)
    ``set(name, value, *, ...)``     ``_set(write: Write, **own) -> SecretVersion``
    ``delete(name)``                 ``_delete(name)``
    ``list(prefix="")``              ``_list(prefix) -> Iterable[str]``
    ``versions(name)``               ``_versions(name) -> list[SecretVersion]``
    ``health()``                     ``_health() -> Health`` (untimed: the pipeline times)
    ``close()``                      ``_close()`` (idempotent)
    ``annotate`` / ``stage``         ``_annotate(name, version, md)`` / ``_stage(write, token)``
    ``promote`` / ``unstage``        ``_promote(name, version)`` / ``_unstage(...)``
    ===============================  ===================================================

    Before a hook runs, the public method has: checked the name (``str``, the one
    name rule, then ``name_policy``; else :class:`InvalidSecret`) and the version;
    refused an operation whose capability is off (:class:`UnsupportedOperation`);
    for ``set``, wrapped the value in a :class:`SecretValue` (no frame holds it plain),
    refused lone surrogates and values over ``capabilities.max_value_bytes``, checked
    ``metadata`` / ``tags`` to map str to str and ``expires_at`` to be aware
    (:class:`InvalidSecret`). After ``_get`` it enforces the secret's ``expires_at``
    and ``not_before`` (:class:`SecretExpired`, :class:`SecretNotYetValid`) with the
    clock of :mod:`secretwire._time`, unless ``enforce_validity`` is false.
    Hooks raise only :mod:`secretwire.errors` types; never a silent no-op.
    """

    name: ClassVar[str]
    #: What the provider can do; a class attribute, or set per instance (Vault's
    #: KV version) before the first call.
    capabilities: Capabilities = Capabilities()
    #: The backend's name and version rule, applied after the one name rule (a class
    #: attribute, or set per instance: Azure's ``name_encoding``).
    name_policy: NamePolicy = NamePolicy()
    #: The options ``from_options`` accepts (and the docs' option table shows).
    options: ClassVar[Options] = Options()
    #: Hints for the UnsupportedOperation of a capability that is off, by capability
    #: name (``{"tags": "use metadata"}``).
    unsupported_hints: ClassVar[Mapping[str, str]] = {}
    #: Raise SecretExpired / SecretNotYetValid for a secret outside its validity
    #: window. A provider with an option to turn it off sets it per instance.
    enforce_validity: bool = True
    #: Whether the provider reads batches itself (computed: ``_get_many`` is overridden).
    batch_reads: ClassVar[bool] = False
    #: What ``health()`` reports besides the status, set per instance: ``warnings``
    #: are things to fix that do not stop it working (an ``insecure`` endpoint,
    #: :func:`insecure_warnings`), ``notes`` how it came to be (``provider: auto``).
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden = [method for method in TEMPLATE_METHODS if method in cls.__dict__]
        if overridden:
            hooks = ", ".join(f"_{method}" for method in overridden)
            raise TypeError(
                f"{cls.__qualname__} overrides {', '.join(overridden)}: the public methods of "
                f"SecretProvider check their arguments and call hooks; implement {hooks} "
                "instead (see docs/writing-a-provider.md)"
            )
        cls.batch_reads = cls._get_many is not SecretProvider._get_many

    # -- construction ---------------------------------------------------------
    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, base_dir: Path) -> SecretProvider:
        """Build the provider from a settings-file ``options`` mapping, as ``options``
        declares: unknown keys and ill-typed values raise :class:`ConfigError` naming
        the key (never echoing a value); relative paths are taken from ``base_dir``
        (the settings file's folder); ``X`` / ``X_env`` / ``X_file`` become a
        :class:`CredentialSource`. Then :meth:`_check_options` and ``cls(**values)``."""
        values = cls.options.parse(options, base_dir=base_dir, provider=cls.name)
        cls._check_options(values)
        return cls(**values)

    @classmethod  # noqa: B027 - an optional hook, deliberately empty by default
    def _check_options(cls, values: dict[str, Any]) -> None:
        """Hook: rules that involve several options (raise :class:`ConfigError`); it
        may also normalise ``values`` (the constructor's keywords) in place."""

    # -- the checks, once ------------------------------------------------------
    def _checked_name(self, name: object, operation: str, *, write: bool = False) -> str:
        return self.name_policy.check(name, provider=self.name, operation=operation, write=write)

    def _gate(self, capability: str, operation: str, name: str | None = None) -> None:
        if not getattr(self.capabilities, capability):
            raise UnsupportedOperation(
                operation=operation,
                name=name,
                provider=self.name,
                detail=_CANNOT[capability],
                hint=self.unsupported_hints.get(capability),
            )

    def validity_error(self, secret: Secret, version: str | None) -> ProviderError | None:
        """The validity error for ``secret`` now, or None (the manager asks again for
        a secret its cache serves: it may have expired since it was read)."""
        if not self.enforce_validity or (secret.expires_at is None and secret.not_before is None):
            return None
        now = _time.utcnow()
        which = f"version {secret.version!r} " if secret.version and not version else ""
        not_before = _time.aware(secret.not_before)
        if not_before is not None and now < not_before:
            return SecretNotYetValid(
                operation="get",
                name=secret.name,
                version=version,
                provider=self.name,
                not_before=not_before,
                detail=f"{which}not valid before {_time.isoformat(not_before)}",
            )
        expires = _time.aware(secret.expires_at)
        if expires is not None and now >= expires:
            return SecretExpired(
                operation="get",
                name=secret.name,
                version=version,
                provider=self.name,
                expires_at=expires,
                detail=f"{which}expired at {_time.isoformat(expires)}",
            )
        return None

    # -- reads -----------------------------------------------------------------
    @final
    def get(self, name: str, *, version: str | None = None) -> Secret:
        """The current version of ``name``, or the given one. Raises
        :class:`SecretNotFound` when either is missing."""
        name = self._checked_name(name, "get")
        version = self.name_policy.check_version(name, version, provider=self.name)
        secret = self._get(name, version)
        invalid = self.validity_error(secret, version)
        if invalid is not None:
            raise invalid
        return secret

    @final
    def get_many(self, keys: Sequence[Key]) -> Results:
        """Several ``(name, version)`` keys; each maps to its secret or to the error
        for that key (an invalid name maps to its :class:`InvalidSecret`).

        A provider with a batch API may serve a **subset**: keys it did not fetch
        are absent from the result, and the caller fetches them one by one (the
        manager's pipeline does so, concurrently). Without a batch API every key is
        read with ``_get``. An error that concerns the whole backend
        (unavailable) may be raised instead."""
        results: Results = {}
        valid: builtins.list[Key] = []
        for key in dict.fromkeys(keys):
            try:
                name = self._checked_name(key[0], "get")
                version = self.name_policy.check_version(name, key[1], provider=self.name)
            except ProviderError as err:
                results[key] = err
                continue
            valid.append((name, version))
        if valid:
            for key, outcome in self._get_many(valid).items():
                if isinstance(outcome, Secret):
                    invalid = self.validity_error(outcome, key[1])
                    results[key] = outcome if invalid is None else invalid
                else:
                    results[key] = outcome
        return results

    @final
    def list(self, prefix: str = "") -> Iterator[str]:
        """Names (never values) starting with ``prefix``, sorted."""
        if not isinstance(prefix, str):
            raise InvalidSecret(
                operation="list",
                provider=self.name,
                detail=f"the prefix must be a string, not {type(prefix).__name__}",
            )
        self._gate("list", "list")
        return iter(sorted({name for name in self._list(prefix) if name.startswith(prefix)}))

    @final
    def versions(self, name: str) -> builtins.list[SecretVersion]:
        """Versions of ``name``, newest first (exactly the newest is ``current``)."""
        self._gate("versions", "versions")
        name = self._checked_name(name, "versions")
        return builtins.list(self._versions(name))

    # -- writes ----------------------------------------------------------------
    @final
    def set(
        self,
        name: str,
        value: str | SecretValue,
        *,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
        **backend: Any,
    ) -> SecretVersion:
        """Store a new version of ``name`` and return it (``current=True``).

        ``backend`` holds a provider's own write options (Vault's ``cas``), passed
        to ``_set`` as they are; a provider without any refuses them (TypeError)."""
        secret = secret_value(value)
        del value  # only the masked value stays in this frame
        self._gate("write", "set")
        return self._set(
            self._checked_write(name, secret, metadata, tags, expires_at, "set"), **backend
        )

    def _checked_write(
        self, name: object, secret: SecretValue, metadata: Mapping[str, str] | None,
        tags: Mapping[str, str] | None, expires_at: datetime | None, operation: str,
    ) -> Write:  # fmt: skip
        """The checked :class:`Write` of ``set`` and ``stage``."""
        name = self._checked_name(name, operation, write=True)
        check_value(secret, name=name, provider=self.name, operation=operation)
        check_size(secret, self.capabilities.max_value_bytes, name=name, provider=self.name)
        fields = {"name": name, "provider": self.name, "operation": operation}
        write = Write(
            name,
            secret,
            string_map(metadata, "metadata", **fields),
            string_map(tags, "tags", **fields),
            check_expiry(expires_at, name=name, provider=self.name),
        )
        if write.tags:
            self._gate("tags", operation, name)
        if write.expires_at is not None:
            self._gate("expiry", operation, name)
        return write

    @final
    def delete(self, name: str) -> None:
        """Delete ``name`` and all its versions. Raises :class:`SecretNotFound`."""
        self._gate("delete", "delete")
        self._delete(self._checked_name(name, "delete"))

    # -- lifecycle: annotations and staged versions (docs/rotation.md) ------------------
    def _checked_version(self, name: object, version: object, operation: str) -> tuple[str, str]:
        name = self._checked_name(name, operation)
        checked = self.name_policy.check_version(
            name, version, provider=self.name, operation=operation
        )
        if checked is None:
            detail = "a version is required"
            raise InvalidSecret(operation=operation, name=name, provider=self.name, detail=detail)
        return name, checked

    @final
    def annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        """Merge ``metadata`` into the metadata of a stored version, without a new
        version (Vault keeps custom metadata per secret: there, the secret's)."""
        self._gate("annotate", "annotate")
        name, version = self._checked_version(name, version, "annotate")
        fields = {"name": name, "provider": self.name, "operation": "annotate"}
        self._annotate(name, version, string_map(metadata, "metadata", **fields))

    @final
    def stage(
        self,
        name: str,
        value: str | SecretValue,
        *,
        token: str,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> SecretVersion:
        """Store ``value`` as a version of ``name`` that is **not** current (``staged``),
        identified by ``token`` (AWS: the ``ClientRequestToken``, so the version id)."""
        secret = secret_value(value)
        del value  # only the masked value stays in this frame
        self._gate("staging", "stage")
        write = self._checked_write(name, secret, metadata, tags, None, "stage")
        return self._stage(write, self._checked_version(write.name, token, "stage")[1])

    @final
    def promote(self, name: str, version: str) -> SecretVersion:
        """Make the staged ``version`` current (the former current one stays readable)."""
        self._gate("staging", "promote")
        return self._promote(*self._checked_version(name, version, "promote"))

    @final
    def unstage(self, name: str, version: str) -> None:
        """Drop the staged mark of ``version``; the current version is left as it is.
        Nothing happens for a version that is not staged."""
        self._gate("staging", "unstage")
        self._unstage(*self._checked_version(name, version, "unstage"))

    # -- lifecycle -------------------------------------------------------------
    @final
    def health(self) -> Health:
        """Check the backend, with the provider's ``warnings`` and ``notes``; the
        manager's pipeline times the call."""
        health = self._health()
        if not (self.warnings or self.notes):
            return health
        return dataclasses.replace(
            health,
            warnings=(*health.warnings, *self.warnings),
            notes=(*health.notes, *self.notes),
        )

    @final
    def close(self) -> None:
        """Release connections and handles. Idempotent."""
        self._close()

    # -- hooks -----------------------------------------------------------------
    @abstractmethod
    def _get(self, name: str, version: str | None) -> Secret:
        """The secret, for a checked name and version. Raise :class:`SecretNotFound`."""

    def _get_many(self, keys: Sequence[Key]) -> Results:
        """Checked keys to secrets or errors. Override only for a real batch API; it
        may leave keys out (they are then fetched one by one)."""
        results: Results = {}
        for name, version in keys:
            try:
                results[(name, version)] = self._get(name, version)
            except ProviderError as err:
                results[(name, version)] = err
        return results

    def _cannot(self, operation: str, capability: str) -> UnsupportedOperation:
        return UnsupportedOperation(
            operation=operation, provider=self.name, detail=_CANNOT[capability]
        )

    def _set(self, write: Write) -> SecretVersion:
        """Store ``write.value`` (reveal it only in the backend call). Raise
        :class:`UnsupportedOperation` for an argument the backend cannot store."""
        raise self._cannot("set", "write")

    def _delete(self, name: str) -> None:
        raise self._cannot("delete", "delete")

    def _annotate(self, name: str, version: str, metadata: Mapping[str, str]) -> None:
        raise self._cannot("annotate", "annotate")

    def _stage(self, write: Write, token: str) -> SecretVersion:
        raise self._cannot("stage", "staging")

    def _promote(self, name: str, version: str) -> SecretVersion:
        raise self._cannot("promote", "staging")

    def _unstage(self, name: str, version: str) -> None:
        raise self._cannot("unstage", "staging")

    def _list(self, prefix: str) -> Iterable[str]:
        """Names starting with ``prefix`` (more do no harm), in any order: the base
        keeps those that start with it, once each, sorted."""
        raise self._cannot("list", "list")

    def _versions(self, name: str) -> builtins.list[SecretVersion]:
        raise self._cannot("versions", "versions")

    def _health(self) -> Health:
        """The default reports OK without contacting anything."""
        return Health(self.name, HealthStatus.OK)

    def _close(self) -> None:  # noqa: B027 - optional hook, deliberately empty by default
        """Release connections and handles. Idempotent."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"
