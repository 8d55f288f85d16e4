"""Option text helpers and :class:`CredentialSource`, the one credential reader.

A settings file may fill provider options from secrets (an environment's
``bootstrap``); those values reach ``from_options`` (and the constructors) as
:class:`~secretwire.SecretValue`. Providers use them through :func:`option_text` and
show them only through :func:`shown`, so an option that came from a secret is never
echoed in an error, a repr or a health detail.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import ConfigError
from ...values import SecretValue
from .tls import cleartext

__all__ = [
    "HIDDEN",
    "CredentialSource",
    "env_variable",
    "option_text",
    "plain_url",
    "read_secret_file",
    "shown",
]

#: How an option value that came from a secret is shown.
HIDDEN = "<from a secret>"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")


def option_text(value: str | SecretValue) -> str:
    """The text of an option value, whether given plainly or from a secret."""
    return value.reveal() if isinstance(value, SecretValue) else value


def shown(value: str | SecretValue | None, text: str | None = None) -> str:
    """How an option value appears in messages, reprs and health details: ``text``
    (a cleaned form, e.g. a URL) or the value itself, unless it came from a secret."""
    if isinstance(value, SecretValue):
        return HIDDEN
    if text is not None:
        return text
    return "" if value is None else value


def env_variable(value: object, option: str) -> str:
    """``value`` checked to be an environment variable name.

    The value is never echoed: an option such as ``key_env`` given the key itself
    instead of a variable name must not put the key into the error."""
    text = value.reveal() if isinstance(value, SecretValue) else value
    if not isinstance(text, str) or not _ENV_NAME.fullmatch(text):
        raise ConfigError(
            "must name an environment variable (letters, digits and '_', not starting "
            "with a digit); the value given is not shown",
            key=option,
        )
    return text


def plain_url(
    url: str | SecretValue | None,
    option: str,
    *,
    schemes: tuple[str, ...] = ("http", "https"),
    insecure: bool = False,
) -> str | None:
    """The text of ``url``, checked to be an absolute URL with one of ``schemes`` that
    carries no credentials: no ``user:password@``, no query and no fragment; and,
    unless ``insecure``, not ``http://`` to another host than this machine (TLS is
    enforced: see :mod:`.tls`).

    Providers show their endpoint in reprs, errors and health details, so a URL
    that could hold a credential (``https://host/?token=...``) is refused
    (``ConfigError`` naming the option, never echoing the URL). Credentials belong
    in the provider's auth options."""
    if url is None:
        return None
    from urllib.parse import urlsplit  # noqa: PLC0415 - only providers with URLs need it

    text = option_text(url) if isinstance(url, str | SecretValue) else None
    if not isinstance(text, str):
        raise ConfigError("must be a URL string", key=option)
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"is not a valid {wanted} URL", key=option) from None
    if parts.scheme not in schemes or not parts.hostname or any(c.isspace() for c in text):
        raise ConfigError(f"must be a {wanted} URL", key=option)
    if parts.netloc.rpartition("@")[0]:
        raise ConfigError(
            "must not contain a user name or password (use the provider's auth options)",
            key=option,
        )
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ConfigError(
            "must not contain a query or a fragment (use the provider's auth options for "
            "credentials)",
            key=option,
        )
    if not insecure and cleartext(text):
        raise ConfigError(
            "must be https:// (plain http:// is accepted only for localhost, 127.0.0.1 or "
            "::1; set insecure: true to allow it, with a warning in health and check)",
            key=option,
        )
    return text


def read_secret_file(
    path: Path, *, option: str, what: str, shown_path: str | None = None, encoding: str = "utf-8"
) -> SecretValue:
    """The text of a credential file (a token, a key), held as a :class:`SecretValue`.

    Errors name ``what`` and the path (``shown_path`` when the path itself must not
    be shown) and are raised outside the ``except`` blocks: a ``UnicodeDecodeError``
    holds the file's bytes, which must not ride along as ``__context__``."""
    where = f"{what} {shown_path if shown_path is not None else path}"
    try:
        return SecretValue(path.read_text(encoding=encoding))
    except FileNotFoundError:
        reason = "does not exist"
    except OSError as err:
        reason = f"cannot be read: {err.strerror or type(err).__name__}"
    except UnicodeDecodeError:
        reason = f"is not {'ASCII' if encoding == 'ascii' else 'UTF-8'} text"
    raise ConfigError(f"{where} {reason}", key=option)


def _cleaned(raw: SecretValue, *, ascii_only: bool) -> SecretValue | str:
    """The credential without surrounding whitespace, or what is wrong with it. Never
    raises, so the text is on no traceback."""
    text = raw.reveal().strip()
    if not text:
        return "is empty"
    if ascii_only and not text.isascii():
        return "has non-ASCII characters"
    return SecretValue(text)


@dataclass(frozen=True, slots=True)
class CredentialSource:
    """Where a credential comes from: given directly (``value``), an environment
    variable (``env``) or a file (``path``): the option ``X``, ``X_env`` or ``X_file``.

    :meth:`read` reads it on every call (files such as a Kubernetes projected token
    are rotated), strips surrounding whitespace and returns a :class:`SecretValue`.
    Nothing it read is ever echoed: not the credential, not the variable's content,
    not the file's bytes (no error it raises has a ``__context__``); ``repr`` names the
    source (a variable name or path that came from a secret is shown as
    :data:`HIDDEN`). Build one with :meth:`of`.
    """

    option: str
    value: SecretValue | None = None
    env: str | None = None
    path: Path | None = None
    #: how messages name the variable or the file
    source: str = ""
    #: how messages name the credential ("token", "client secret")
    label: str = ""
    #: refuse a credential with non-ASCII characters (it travels in a header)
    ascii_only: bool = False

    @classmethod
    def of(
        cls,
        option: str,
        value: str | SecretValue | CredentialSource | None = None,
        env: str | SecretValue | None = None,
        file: str | os.PathLike[str] | SecretValue | None = None,
        *,
        default_env: str | None = None,
        default_file: str | None = None,
        required: bool = False,
        base_dir: Path | None = None,
        label: str | None = None,
        ascii_only: bool = False,
    ) -> CredentialSource | None:
        """The source of credential ``option`` from its three options: exactly one of
        ``value`` (``X``), ``env`` (``X_env``) and ``file`` (``X_file``), else
        ``default_env`` / ``default_file``; ``None`` when none applies and it is not
        ``required``. A relative ``file`` is taken from ``base_dir`` (the settings
        folder; the current folder when ``None``). A ``value`` that already is a
        source (``from_options`` made it) is returned as it is."""
        if isinstance(value, CredentialSource) and env is None and file is None:
            return value
        given = [
            name
            for name, item in ((option, value), (f"{option}_env", env), (f"{option}_file", file))
            if item is not None
        ]
        if len(given) > 1:
            raise ConfigError(f"give only one of {', '.join(given)}", key=given[1])
        named = label or option.replace("_", " ")
        if value is not None:
            if not isinstance(value, str | SecretValue) or not value:
                raise ConfigError("must be a non-empty string", key=option)
            given_value = SecretValue(option_text(value))
            return cls(option, value=given_value, label=named, ascii_only=ascii_only)
        if env is not None:
            # Checked for shape, never echoed: given the credential itself by mistake,
            # the error must not show it.
            variable = env_variable(env, f"{option}_env")
            return cls(option, env=variable, source=shown(env), label=named, ascii_only=ascii_only)
        if file is None and default_env is not None:
            return cls(
                option, env=default_env, source=default_env, label=named, ascii_only=ascii_only
            )
        file = file if file is not None else default_file
        if file is not None:
            if not isinstance(file, str | os.PathLike | SecretValue) or not file:
                raise ConfigError("must be a non-empty path", key=f"{option}_file")
            path = Path(option_text(file) if isinstance(file, SecretValue) else file).expanduser()
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            where = shown(file, str(path)) if isinstance(file, SecretValue) else str(path)
            return cls(option, path=path, source=where, label=named, ascii_only=ascii_only)
        if required:
            raise ConfigError(
                f"needs one of {option}, {option}_env or {option}_file", key=f"{option}_env"
            )
        return None

    def read(self) -> SecretValue:
        """The credential, read now (see the class). Raises :class:`ConfigError`
        naming the option and the source, never what was read."""
        if self.value is not None:
            raw = self.value
        elif self.env is not None:
            raw = SecretValue(os.environ.get(self.env) or "")
        else:
            assert self.path is not None  # noqa: S101 - one source is guaranteed
            raw = read_secret_file(
                self.path,
                option=f"{self.option}_file",
                what=f"{self.label} file",
                shown_path=self.source,
            )
        credential = _cleaned(raw, ascii_only=self.ascii_only)
        if isinstance(credential, SecretValue):
            return credential
        if self.env is not None and credential == "is empty":
            raise ConfigError(
                f"environment variable {self.source} is not set or empty",
                key=f"{self.option}_env",
            )
        if self.path is not None:
            raise ConfigError(
                f"{self.label} file {self.source} {credential}", key=f"{self.option}_file"
            )
        raise ConfigError(f"the {self.label} {credential}", key=self.option)

    def __repr__(self) -> str:
        if self.value is not None:
            return f"<{self.option}: given>"
        if self.env is not None:
            return f"<{self.option}: ${self.source}>"
        return f"<{self.option}: file {self.source}>"
