"""A wrapper for secret values that cannot be printed, logged or pickled by accident."""

from __future__ import annotations

import hmac
from typing import Any, NoReturn, final

__all__ = ["MASK", "SecretValue"]

#: What a masked value looks like wherever it is shown.
MASK = "**********"


@final
class SecretValue:
    """Holds one secret string; shows :data:`MASK` in ``repr``, ``str`` and f-strings.

    Call :meth:`reveal` to get the value. Pickling raises ``TypeError`` so a value
    never lands in a cache file or a multiprocessing queue by accident; copying
    returns the same (immutable) object. Equality is constant-time.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"SecretValue wraps str, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """Return the secret value. The one explicit way to read it."""
        return self._value

    def __repr__(self) -> str:
        return f"SecretValue('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((SecretValue, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("SecretValue is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("SecretValue refuses to be pickled; call reveal() if you mean it")

    def __copy__(self) -> SecretValue:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SecretValue:
        return self
