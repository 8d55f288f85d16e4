"""Masking as a core service: one :class:`Redactor` that knows the values served.

A :class:`~secretwire.SecretManager` registers every value it serves in its own
redactor and in the process-wide :func:`default_redactor`. One call masks them in
everything the application logs, in raw form and as base64, base64url, URL-encoded,
JSON-escaped and hex (see ``docs/masking.md``)::

    import secretwire

    secretwire.install_log_masking()

(each adapter makes that call itself unless ``SECRETWIRE_MASK_LOGS=0``), or attach a
:class:`RedactingFilter` to a handler. The same redactor answers "could this text hold
a value?" (:meth:`Redactor.may_contain`) for code that must withhold a backend's
message or a framework's error text, and :class:`StreamMasker` masks a stream
(``secretwire run`` masks a child's output with it).

Rules (``_redactor``): every encoding (``_forms``), leftmost then longest first, a
documented minimum length (:data:`MIN_LENGTH`) below which a value is masked only
where a whole text is it, and reported by name. Matching is one Aho-Corasick pass
with ``pyahocorasick`` installed, else one trie-shaped regular expression
(``_matchers``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from ._forms import ENCODINGS, MIN_ENCODED_LENGTH, encoded_forms
    from ._logging import (
        MASK_LOGS_VARIABLE,
        RedactingFilter,
        auto_log_masking,
        install_log_masking,
        uninstall_log_masking,
    )
    from ._matchers import aho_available
    from ._redactor import MIN_LENGTH, Redactor, default_redactor
    from .stream import ByteStreamMasker, StreamMasker

# Each name's module loads on its first use (python -X importtime).
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "_forms": "ENCODINGS MIN_ENCODED_LENGTH encoded_forms",
        "_logging": (
            "MASK_LOGS_VARIABLE RedactingFilter auto_log_masking install_log_masking "
            "uninstall_log_masking"
        ),
        "_matchers": "aho_available",
        "_redactor": "MIN_LENGTH Redactor default_redactor",
        "stream": "ByteStreamMasker StreamMasker",
    },
)

__all__ = [
    "ENCODINGS",
    "MASK_LOGS_VARIABLE",
    "MIN_ENCODED_LENGTH",
    "MIN_LENGTH",
    "ByteStreamMasker",
    "RedactingFilter",
    "Redactor",
    "StreamMasker",
    "aho_available",
    "auto_log_masking",
    "default_redactor",
    "encoded_forms",
    "install_log_masking",
    "uninstall_log_masking",
]
