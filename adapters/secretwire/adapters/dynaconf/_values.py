"""What the adapter stores in dynaconf, and reading dynaconf's store back.

dynaconf's own containers evaluate lazy values (``@format``...) when read through
their methods: :func:`plain` reads them as stored, then secretwire's
:func:`~secretwire.walk_leaves` walks them.
"""

from __future__ import annotations

import re
import secrets as _random
from typing import Any

from secretwire import MASK, SecretValue, Template, TreePath, replace_at, walk_leaves
from secretwire.adapters import require

require("dynaconf", "dynaconf")
# dynaconf ships no type information: its classes are Any to mypy.
_parse_conf: Any = require("dynaconf.utils.parse_conf", "dynaconf")
Lazy: Any = _parse_conf.Lazy
NAME = "secretwire"


class CastError(_parse_conf.DynaconfParseError, ValueError):  # type: ignore[misc]
    """A cast (``@int @format ...``) failed on a value holding a secret: a
    ``DynaconfParseError`` as dynaconf 3.3 raises, a ``ValueError`` as 3.2 does. The
    message names the references, never the text."""


def token(lazy: Any) -> str:
    """The kind of a dynaconf lazy value: ``format``, ``jinja``, ``get``..."""
    return str(getattr(lazy.formatter, "token", lazy.formatter))


class Resolved(Lazy):  # type: ignore[misc]
    """A text secretwire resolved, stored so dynaconf neither parses nor shows it:
    ``.value`` (what dynaconf's ``repr``, ``inspect`` and ``write`` use) is the text as
    written; the resolved text is returned only when dynaconf evaluates the value.
    ``secret``: the text held secret references (a default may have applied)."""

    def __init__(self, written: str, resolved: str | SecretValue, *, secret: bool) -> None:
        super().__init__(written, formatter=_parse_conf.BaseFormatter(_as_written, NAME))
        self._resolved = SecretValue(resolved) if isinstance(resolved, str) else resolved
        self.secret = secret

    def __call__(self, settings: Any, validator_object: Any = None) -> str:
        return self._resolved.reveal()

    def __repr__(self) -> str:
        return f"'@{NAME} {self.value}'"

    def _dynaconf_encode(self) -> str:
        return str(self.value)

    def secret_texts(self) -> tuple[str, ...]:
        return (self._resolved.reveal(),) if self.secret else ()


def _as_written(value: str, **context: Any) -> str:
    return value


class SecretTemplate(Lazy):  # type: ignore[misc]
    """An ``@format`` / ``@jinja`` value with ``$<secret:...>`` references in it.

    On access each reference becomes a random marker, dynaconf's formatter renders the
    template, then each marker is replaced by its value in one pass: a secret's text
    is never read as template syntax and never resolved again. ``.value`` stays the
    template as written; ``location`` names it in errors.
    """

    def __init__(
        self,
        original: Any,
        template: Template,
        values: tuple[SecretValue, ...],
        location: str,
        *,
        masked: bool,
    ) -> None:
        super().__init__(original.value, formatter=original.formatter, casting=original.casting)
        self._template = template
        self._values = values
        self.location = location
        self.masked = masked

    def __call__(self, settings: Any, validator_object: Any = None) -> Any:
        if self.casting is None:
            return self._render(settings, masked=self.masked)
        cast, value = self.cast(settings)
        if cast:
            return value
        # No value in this frame: int()/float() and dynaconf's own cast errors quote the
        # rendered text, which holds the secret, so the cast ran in cast(), nothing chains.
        raise CastError(
            f"the cast of an @{token(self)} value holding {self.references()} failed on "
            "its rendered text (not shown: it holds a secret)"
        )

    def _render(self, settings: Any, *, masked: bool) -> Any:
        nonce = _random.token_hex(8)
        names = iter(f"SECRETWIRE{nonce}X{i}X" for i in range(len(self._values)))
        text = "".join(p if isinstance(p, str) else next(names) for p in self._template.parts)
        self.settings = settings
        # The formatter sees only the markers: its errors cannot quote a value.
        rendered = str(self.formatter(text, **self.context))
        pattern = re.compile(f"SECRETWIRE{nonce}X([0-9]+)X")
        rendered = pattern.sub(lambda m: self._values[int(m.group(1))].reveal(), rendered)
        return SecretValue(rendered) if masked else rendered

    def cast(self, settings: Any) -> tuple[bool, Any]:
        """(True, the cast value), or (False, None) when the cast fails."""
        rendered = self._render(settings, masked=False)
        try:
            return True, self.casting(rendered)
        except Exception:  # noqa: BLE001 - any cast error may quote the text it got
            return False, None

    def references(self) -> str:
        return ", ".join(ref.format() for ref in self._template.references)

    def secret_texts(self) -> tuple[str, ...]:
        return tuple(value.reveal() for value in self._values)


class Unresolved(Lazy):  # type: ignore[misc]
    """An ``@format`` / ``@jinja`` value whose text holds references, not resolved yet:
    evaluating it (dynaconf does while it merges an environment variable into its
    table, and on 3.2 while it copies the settings for a hook) gives it back
    unchanged, so a cast never runs on the reference text."""

    def __init__(self, original: Any) -> None:
        super().__init__(original.value, formatter=original.formatter, casting=original.casting)

    def __call__(self, settings: Any, validator_object: Any = None) -> Any:
        return self


def is_lazy(node: Any) -> bool:
    return bool(getattr(node, "_dynaconf_lazy_format", False))


def holds_secret(node: Any) -> bool:
    """Whether ``node`` is a value secretwire stored that came from a secret."""
    if isinstance(node, Resolved):
        return bool(node.secret)
    return isinstance(node, SecretTemplate | SecretValue)


def plain(node: Any) -> Any:
    """``node`` with dynaconf's containers as ``dict`` and ``list``, read as stored."""
    if isinstance(node, dict):
        return {key: plain(value) for key, value in dict.items(node)}
    if isinstance(node, list):
        return [plain(value) for value in list.__iter__(node)]
    return node


def upper(path: TreePath) -> TreePath:
    """``path`` with its keys upper-cased: dynaconf matches keys case-insensitively."""
    return tuple(part.upper() if isinstance(part, str) else part for part in path)


def history(settings: Any) -> list[tuple[Any, dict[TreePath, Any]]]:
    """Each source of dynaconf's history (``loaded_by_loaders``) with the leaves it
    recorded, by upper-cased path."""
    entries = getattr(settings, "loaded_by_loaders", None) or {}
    return [
        (source, {upper(path): leaf for path, leaf in walk_leaves(plain(data))})
        for source, data in list(entries.items())
    ]


def secret_texts(settings: Any) -> list[str]:
    """The texts of the secret values stored in ``settings`` or recorded in its
    history, longest first (plaintext: keep the list in a frame that returns)."""
    leaves = [leaf for _, leaf in walk_leaves(plain(settings.store))]
    leaves += [leaf for _, recorded in history(settings) for leaf in recorded.values()]
    texts = {text for leaf in leaves for text in _texts_of(leaf) if text}
    return sorted(texts, key=len, reverse=True)


def _texts_of(leaf: Any) -> tuple[str, ...]:
    if isinstance(leaf, Resolved | SecretTemplate):
        return leaf.secret_texts()
    return (leaf.reveal(),) if isinstance(leaf, SecretValue) else ()


def masked_dict(settings: Any) -> dict[str, Any]:
    """``settings.as_dict()`` with every value that came from a secret shown as
    :data:`~secretwire.MASK`; other lazy values (``@format``...) are shown as written,
    since their text could pull in a secret (``{this.DB_PASSWORD}``).

    A key is masked if it holds a value secretwire resolved, or if dynaconf's history
    (``loaded_by_loaders``) says secretwire put a secret there: a ``Validator`` writes
    the plain value it checked back into the settings."""
    public = set(settings.as_dict())
    tree = {str(key): plain(value) for key, value in dict.items(settings.store) if key in public}
    secret = {
        path for _, leaves in history(settings) for path, v in leaves.items() if holds_secret(v)
    }
    shown = {
        path: _shown(leaf, settings, upper(path) in secret) for path, leaf in walk_leaves(tree)
    }
    return dict(replace_at(tree, shown))


def _shown(leaf: Any, settings: Any, secret: bool) -> Any:
    if holds_secret(leaf):
        return MASK
    if isinstance(leaf, Resolved):
        return leaf(settings)
    if is_lazy(leaf):
        return f"@{token(leaf)} {leaf.value}"
    return MASK if secret else leaf
