"""The exception tree.

Every error secretwire raises derives from :class:`SecretwireError`. Errors that
describe what happened at a backend also inherit the builtin that matches, so
code that already catches ``LookupError`` or ``PermissionError`` keeps working::

    SecretwireError
    ├── ReferenceSyntaxError          (+ ValueError)   malformed ${secret:...}
    ├── ConfigError                   (+ ValueError)   bad settings file / options
    ├── ResolutionError                                 one or more references failed
    ├── RotationFailed                                  a rotation step failed (see .step)
    └── ProviderError                                   something at a backend
        ├── SecretNotFound            (+ LookupError)   no such secret / version
        │   └── FieldNotFound                           secret exists, field does not
        ├── AccessDenied              (+ PermissionError)
        │   ├── Unauthenticated                         credentials not accepted at all
        │   ├── SecretDisabled                          the backend refuses a disabled secret
        │   └── DecryptionFailed                        backend cannot decrypt (KMS key)
        ├── SecretExpired                               past its expiry (enforced by the base)
        ├── SecretNotYetValid                           before its not-before time
        ├── ProviderUnavailable       (+ ConnectionError)
        │   └── DeadlineExceeded                        no answer before the operation's deadline
        ├── Conflict                                    lost a write race, name state
        ├── UnsupportedOperation      (+ NotImplementedError)
        ├── InvalidSecret             (+ ValueError)    bad name, value too large
        └── StoreError                                  local store cannot be trusted
            ├── StoreCorrupted                          tampered or truncated file
            └── StoreKeyMismatch                        wrong key or passphrase

No message ever contains a secret value: messages carry the secret's name, the
provider, the reference text and the location in the configuration. A
:class:`ProviderError` carries *fields* (``operation``, ``provider``, ``name``,
``version``, ``code``, ``detail``, ``endpoint``, ``hint``) and builds its message
from them with one grammar; :func:`reason_of` gives the part of it a failure line
shows after the reference. Errors translated from a backend SDK's exceptions are
raised with neither ``__cause__`` nor ``__context__`` (the provider kit's ``call``),
since the SDK's exception can hold the request, and so a value or a credential.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "AccessDenied",
    "ConfigError",
    "Conflict",
    "DeadlineExceeded",
    "DecryptionFailed",
    "FieldNotFound",
    "InvalidSecret",
    "ProviderError",
    "ProviderUnavailable",
    "ReferenceSyntaxError",
    "ResolutionError",
    "ResolutionFailure",
    "RotationFailed",
    "SecretDisabled",
    "SecretExpired",
    "SecretNotFound",
    "SecretNotYetValid",
    "SecretwireError",
    "StoreCorrupted",
    "StoreError",
    "StoreKeyMismatch",
    "Unauthenticated",
    "UnsupportedOperation",
    "display_url",
    "reason_of",
]


class SecretwireError(Exception):
    """Base class of every error raised by secretwire."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Keep subclasses with keyword-only constructors picklable (multiprocessing,
        # pytest-xdist) without re-running __init__ with the wrong arguments.
        return (_rebuild, (type(self), self.__dict__))


def _rebuild(cls: type[SecretwireError], state: dict[str, object]) -> SecretwireError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class ReferenceSyntaxError(SecretwireError, ValueError):
    """A ``${secret:...}`` / ``$<secret:...>`` reference is malformed.

    ``position`` is the 0-based offset in ``text``; ``source`` and ``line``
    (1-based) are filled in when the text came from a file.
    """

    def __init__(
        self,
        reason: str,
        *,
        text: str,
        position: int,
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        self.reason = reason
        self.text = text
        self.position = position
        self.source = source
        self.line = line
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.line is not None:
            where.append(str(self.line))
        prefix = ":".join(where) + ": " if where else ""
        return f"{prefix}{self.reason} at position {self.position}"

    def located(
        self, *, source: str | None = None, line: int | None = None
    ) -> ReferenceSyntaxError:
        """Return a copy that also names the file and line the text came from."""
        return ReferenceSyntaxError(
            self.reason,
            text=self.text,
            position=self.position,
            source=source if source is not None else self.source,
            line=line if line is not None else self.line,
        )


class ConfigError(SecretwireError, ValueError):
    """The settings file, an environment definition or provider options are invalid.

    ``source`` names the file, ``line`` the line in it (1-based) and ``key`` the
    dotted key inside it, when known: ``secretwire.yaml:12: policy.roles.x: reason``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.key = key
        self.line = line
        file = f"{source}:{line}" if source and line is not None else source
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.reason = message


class ProviderError(SecretwireError):
    """Base of errors that describe an outcome at a secret backend.

    Providers pass fields, not prose; the message is built from them by one grammar::

        {kind}: {operation} secret {name!r} [version {version!r}] in provider {provider!r}
            [at {endpoint}][: {detail}][ ({code})][; hint: {hint}]

    (parts whose field is ``None`` are left out). ``operation`` is what was attempted
    (``get``, ``set``, ``log in``...), ``code`` the backend's own error code
    (``ResourceNotFoundException``, ``HTTP 403``), ``detail`` the provider's value-free
    words, ``endpoint`` the backend's address (always shown without user info, query
    or fragment: :func:`display_url`) and ``hint`` what the reader can do about it.
    A ``message`` given explicitly is used as is (callers written before the fields
    existed); it never holds a value either.
    """

    kind = "provider error"
    #: For an unexpected exception a provider raised: the original, kept off the
    #: chain (its text could hold a value); ``secretwire --debug`` shows it.
    original: BaseException | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        operation: str | None = None,
        provider: str | None = None,
        name: str | None = None,
        version: str | None = None,
        code: str | None = None,
        detail: str | None = None,
        endpoint: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.operation = operation
        self.provider = provider
        self.name = name
        self.version = version
        self.code = code
        self.detail = detail
        self.endpoint = None if endpoint is None else display_url(endpoint)
        self.hint = hint
        super().__init__(message or self._default_message())

    @property
    def reason(self) -> str:
        """What went wrong, for a line that already names the reference; never a value.

        For a message built from the fields: the kind, the endpoint, the detail, the
        code and the hint (``unavailable at http://127.0.0.1:8200: cannot connect
        (connection refused); hint: is Vault running?``); with no such field, the
        kind alone (``not found``). A message the provider wrote itself is kept
        whole, after the kind, on one line.
        """
        if self.message == self._default_message():
            return self.kind + self._particulars()
        message = " ".join(self.message.split())
        return message if message.startswith(self.kind) else f"{self.kind}: {message}"

    def _subject(self) -> str:
        """``{operation} secret {name!r} version {version!r} in provider {provider!r}``
        with the parts that are known."""
        parts = [self.operation] if self.operation else []
        if self.name is not None:
            parts.append(f"secret {self.name!r}")
            if self.version is not None:
                parts.append(f"version {self.version!r}")
        return " ".join(parts)

    def _particulars(self, *, endpoint: bool = True) -> str:
        """`` at {endpoint}: {detail} ({code}); hint: {hint}`` with the parts that are known."""
        text = f" at {self.endpoint}" if endpoint and self.endpoint else ""
        if self.detail:
            text += f": {' '.join(self.detail.split())}"
        if self.code:
            text += f" ({self.code})"
        if self.hint:
            text += f"; hint: {' '.join(self.hint.split())}"
        return text

    def _default_message(self) -> str:
        subject = self._subject()
        message = f"{self.kind}: {subject}" if subject else self.kind
        if self.provider:
            message += f" in provider {self.provider!r}"
        return message + self._particulars()


def display_url(url: str) -> str:
    """``url`` as errors, reprs and health details show it: scheme, host, port and
    path only. User info, query and fragment (which could hold a credential) are left
    out; a URL that cannot be parsed is not shown at all."""
    from urllib.parse import urlsplit  # noqa: PLC0415 - only errors with an endpoint need it

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<an endpoint that is not a valid URL>"
    if ":" in host:
        host = f"[{host}]"
    if not parts.scheme:
        return "<an endpoint that is not a valid URL>"
    return f"{parts.scheme}://{host}{port}{parts.path}"


class SecretNotFound(ProviderError, LookupError):
    """The secret (or the requested version of it) does not exist."""

    kind = "not found"


class FieldNotFound(SecretNotFound):
    """The secret exists but has no such field (or is not a structured secret)."""

    kind = "field not found"

    def __init__(
        self, message: str | None = None, *, field: str | None = None, **fields: Any
    ) -> None:
        self.field = field
        super().__init__(message, **fields)

    def _default_message(self) -> str:
        return f"field not found: field {self.field!r} of secret {self.name!r}"

    @property
    def reason(self) -> str:
        # The default message names the field, which the reference may not show.
        return " ".join(self.message.split())


class AccessDenied(ProviderError, PermissionError):
    """The backend (or secretwire's own RBAC) refused the operation."""

    kind = "access denied"


class Unauthenticated(AccessDenied):
    """The backend did not accept the credentials themselves (an invalid, expired or
    revoked token, a bad signature, no credentials at all), as opposed to valid
    credentials that may not do this. Raised where the backend tells the two apart;
    elsewhere the error is a plain :class:`AccessDenied`."""

    kind = "unauthenticated"


class SecretDisabled(AccessDenied):
    """The secret (or the requested version) exists but is disabled at the backend,
    which refuses to return its value. Never "not found": a default does not replace it."""

    kind = "disabled"


class SecretExpired(ProviderError):
    """The secret version is past its expiry time (``expires_at``). Every provider's
    ``get`` enforces it (unless its ``enforce_validity`` is off). Never "not found":
    a default does not replace it."""

    kind = "expired"

    def __init__(
        self, message: str | None = None, *, expires_at: datetime | None = None, **fields: Any
    ) -> None:
        self.expires_at = expires_at
        super().__init__(message, **fields)


class SecretNotYetValid(ProviderError):
    """The secret version is not valid before ``not_before``; enforced like
    :class:`SecretExpired`. Never "not found": a default does not replace it."""

    kind = "not yet valid"

    def __init__(
        self, message: str | None = None, *, not_before: datetime | None = None, **fields: Any
    ) -> None:
        self.not_before = not_before
        super().__init__(message, **fields)


class DecryptionFailed(AccessDenied):
    """The backend holds the secret but cannot decrypt it (a KMS key that is
    disabled, scheduled for deletion, or that the caller may not use)."""

    kind = "decryption failed"


class ProviderUnavailable(ProviderError, ConnectionError):
    """The backend could not be reached or did not answer in time."""

    kind = "unavailable"


class DeadlineExceeded(ProviderUnavailable):
    """The operation's deadline passed before the backend answered (see
    :mod:`secretwire.deadlines`): a hung or slow backend, never a missing secret."""

    kind = "deadline exceeded"


class Conflict(ProviderError):
    """A write lost a race (check-and-set) or the name is in a state that forbids it."""

    kind = "conflict"


class UnsupportedOperation(ProviderError, NotImplementedError):
    """The provider does not offer this operation (see its ``capabilities``)."""

    kind = "unsupported operation"


class InvalidSecret(ProviderError, ValueError):
    """The name or value is not acceptable to the backend (bad characters, too large)."""

    kind = "invalid secret"


class StoreError(ProviderError):
    """The local encrypted store cannot be read safely. It is never reset silently."""

    kind = "store error"


class StoreCorrupted(StoreError):
    """The store file was modified, truncated or is not a secretwire store."""

    kind = "store corrupted"


class StoreKeyMismatch(StoreError):
    """The key or passphrase does not open this store."""

    kind = "wrong key"


@dataclass(frozen=True)
class ResolutionFailure:
    """One reference that could not be resolved, and where it appeared."""

    location: str
    reference: str
    reason: str
    error: SecretwireError

    def __str__(self) -> str:
        where = self.location or "<root>"
        return f"{where}: {self.reference}: {self.reason}"


class ResolutionError(SecretwireError):
    """One or more references in a configuration could not be resolved.

    ``failures`` lists every failed reference with its location in the tree
    (``database.url``) and the reason; never a value.
    """

    def __init__(self, failures: Sequence[ResolutionFailure], *, source: str | None = None) -> None:
        self.failures = tuple(failures)
        self.source = source
        lines = [self.headline + ":"] + [f"  {failure}" for failure in self.failures]
        super().__init__("\n".join(lines))

    @property
    def headline(self) -> str:
        """``N secret reference(s) could not be resolved [in FILE]``."""
        head = f"{len(self.failures)} secret reference(s) could not be resolved"
        return f"{head} in {self.source}" if self.source else head

    def one_line(self) -> str:
        """The whole error on one line (for a CLI's stderr)."""
        return self.headline + ": " + "; ".join(str(f) for f in self.failures)


class RotationFailed(SecretwireError):
    """A rotation of secret ``name`` failed at ``step`` (``generate``, ``store``,
    ``apply``, ``verify``, ``finish``; ``rollback`` for a rollback) for ``reason``,
    which never holds a value (docs/rotation.md).

    ``outcome`` says what state it left: ``"unchanged"`` (nothing was stored or
    applied), ``"reverted"`` (the previous value is current again, and the apply hook
    was given it back), or ``"resumable"`` (the secret holds a working value and
    ``rotation`` records the unfinished rotation: a rerun finishes or reverts it).
    ``revert_problem`` says why a revert did not complete, when one failed."""

    def __init__(
        self,
        *,
        name: str,
        step: str,
        reason: str,
        outcome: str,
        rotation: str | None = None,
        revert_problem: str | None = None,
    ) -> None:
        self.name, self.step, self.reason = name, step, reason
        self.outcome, self.rotation, self.revert_problem = outcome, rotation, revert_problem
        told = {
            "unchanged": "nothing was changed",
            "reverted": "reverted to the previous value",
            "resumable": f"rotation {rotation} is unfinished: rerun to finish or revert it",
        }.get(outcome, outcome)
        if revert_problem:
            told += f" (the revert failed: {revert_problem})"
        super().__init__(f"rotation of secret {name!r} failed at {step}: {reason}; {told}")


def reason_of(error: BaseException) -> str:
    """A value-free reason for ``error``, for a line that already names the reference:
    for a :class:`ProviderError` its kind, endpoint, detail, code and hint (see
    :attr:`ProviderError.reason`); for another secretwire error its message; for any
    other exception only its type (its text could hold a value)."""
    if isinstance(error, ProviderError):
        return error.reason
    if isinstance(error, SecretwireError):
        return str(error)
    return type(error).__name__
