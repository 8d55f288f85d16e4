"""Key Vault names: the reversible ``escape`` codec and the two name policies.

Key Vault names allow only ``[0-9a-zA-Z-]{1,127}`` and are case-insensitive. With
``name_encoding="verbatim"`` (the default) a secretwire name is the Key Vault name
(:data:`VERBATIM`). With ``name_encoding="escape"`` any string is a name
(:data:`ESCAPE`): it is mapped by :func:`encode_name`, a reversible, injective rule
whose output is lower-case, so two different secretwire names never meet in one
Key Vault name:

================  ===================  =========================================
character         Key Vault name       example
================  ===================  =========================================
``a-z`` ``0-9``   itself               ``db`` -> ``db``
``-``             ``--``               ``my-app`` -> ``my--app``
``/``             ``-s-``              ``db/password`` -> ``db-s-password``
``_``             ``-u-``              ``api_key`` -> ``api-u-key``
``.``             ``-d-``              ``app.url`` -> ``app-d-url``
``A-Z`` (a run)   ``-c<lower>-``       ``DB_URL`` -> ``-cdb--u--curl-``
anything else     ``-x<hex>-``         ``clé`` -> ``cl-xe9-``
================  ===================  =========================================

:func:`decode_name` reverses it and accepts a Key Vault name only when encoding
the decoded name gives that Key Vault name back (compared case-insensitively), so
every name ``list`` reports reads the same secret.
"""

from __future__ import annotations

from ..base import NamePolicy

__all__ = ["ESCAPE", "MAX_NAME_CHARS", "VERBATIM", "decode_name", "encode_name"]

#: Key Vault's limit on the length of a secret name.
MAX_NAME_CHARS = 127

_LITERALS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_HEX = frozenset("0123456789abcdef")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_SHORT = {"-": "--", "/": "-s-", "_": "-u-", ".": "-d-"}
_SHORT_DECODE = {"s": "/", "u": "_", "d": "."}


def encode_name(name: str) -> str:
    """The Key Vault name for secretwire name ``name`` (see the module docstring).

    Pure and total: any string maps, to ``[0-9a-z-]*``. The provider rejects an
    empty name or an encoding longer than 127 characters (:data:`ESCAPE`).
    """
    out: list[str] = []
    i, end = 0, len(name)
    while i < end:
        char = name[i]
        if char in _LITERALS:
            out.append(char)
            i += 1
        elif char in _SHORT:
            out.append(_SHORT[char])
            i += 1
        elif "A" <= char <= "Z":
            run = i
            while run < end and "A" <= name[run] <= "Z":
                run += 1
            out.append(f"-c{name[i:run].lower()}-")
            i = run
        else:
            out.append(f"-x{ord(char):x}-")
            i += 1
    return "".join(out)


def decode_name(vault_name: str) -> str | None:
    """The secretwire name whose encoding is ``vault_name``, or ``None`` if there is none.

    Key Vault names are case-insensitive, so ``vault_name`` is lower-cased first. A
    name is accepted only when it is the exact encoding of what it decodes to, so
    ``decode_name(encode_name(x)) == x`` and every decoded name maps back.
    """
    text = vault_name.lower()
    out: list[str] = []
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char != "-":
            if char not in _LITERALS:
                return None
            out.append(char)
            i += 1
            continue
        if i + 1 >= end:
            return None
        kind = text[i + 1]
        if kind == "-":
            out.append("-")
            i += 2
            continue
        close = text.find("-", i + 2)
        if close < 0:
            return None
        body = text[i + 2 : close]
        if kind in _SHORT_DECODE and not body:
            out.append(_SHORT_DECODE[kind])
        elif kind == "c" and body and all(c in _LOWER for c in body):
            out.append(body.upper())
        elif kind == "x" and 1 <= len(body) <= 6 and all(c in _HEX for c in body):
            point = int(body, 16)
            if point > 0x10FFFF:
                return None
            out.append(chr(point))
        else:
            return None
        i = close + 1
    name = "".join(out)
    if not name or encode_name(name) != text:
        return None
    return name


def _encoded_length(name: str) -> str | None:
    length = len(encode_name(name))
    if length <= MAX_NAME_CHARS:
        return None
    return (
        f"the name maps to a Key Vault name of {length} characters; "
        f"Key Vault allows {MAX_NAME_CHARS}"
    )


#: ``name_encoding: verbatim``: secretwire names are Key Vault names.
VERBATIM = NamePolicy(
    alphabet=rf"[0-9A-Za-z-]{{1,{MAX_NAME_CHARS}}}",
    describe=f"a Key Vault name (1-{MAX_NAME_CHARS} characters of 0-9, a-z, A-Z and '-')",
    hint=(
        "to store names like 'db/password', set the provider option name_encoding: escape "
        "(names are then encoded, see docs/providers/azure.md)"
    ),
)

#: ``name_encoding: escape``: any name whose encoding fits Key Vault's length limit.
ESCAPE = NamePolicy(
    rule=_encoded_length,
    hint="use a shorter name (characters other than a-z and 0-9 take 2 to 9 in Key Vault)",
)
