"""A wrapper for secret values that cannot be printed, logged or serialised by accident."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, final

__all__ = ["MASK", "SecretValue"]

#: What a masked value looks like wherever it is shown.
MASK = "**********"

_REFUSED = "SecretValue refuses to be serialised; call reveal() if you mean it"


@final
class SecretValue:
    """Holds one secret string; shows :data:`MASK` in ``repr``, ``str`` and f-strings.

    Call :meth:`reveal` to get the value. Every serialisation route refuses with
    ``TypeError`` (``pickle`` at any protocol, ``copyreg``, ``__reduce_ex__``,
    ``__getstate__``, ``yaml.dump``); ``yaml.safe_dump`` and ``json.dumps`` refuse an
    unknown type anyway, and ``json.dumps(..., default=str)`` writes the mask. So a
    value never lands in a cache file, a multiprocessing queue or a ``jsonpickle``
    dump by accident (``jsonpickle`` writes ``null`` for it). The value is not an
    attribute either, so code that walks an object's ``__slots__`` or ``vars()``
    finds no text to copy. Copying returns the same (immutable) object. Equality is
    constant-time.
    """

    __slots__ = ("_get",)
    _get: Callable[[], str]

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"SecretValue wraps str, not {type(value).__name__}")
        object.__setattr__(self, "_get", lambda: value)

    def reveal(self) -> str:
        """Return the secret value. The one explicit way to read it."""
        return self._get()

    def __repr__(self) -> str:
        return f"SecretValue('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        import hmac  # noqa: PLC0415 - ~4 ms (OpenSSL) at import; rarely compared

        return hmac.compare_digest(self._get().encode(), other._get().encode())

    def __hash__(self) -> int:
        return hash((SecretValue, self._get()))

    def __bool__(self) -> bool:
        return bool(self._get())

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("SecretValue is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("SecretValue is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError(_REFUSED)

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError(_REFUSED)

    def __getstate__(self) -> NoReturn:
        raise TypeError(_REFUSED)

    def __setstate__(self, state: Any) -> NoReturn:
        raise TypeError(_REFUSED)

    def __copy__(self) -> SecretValue:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SecretValue:
        return self
