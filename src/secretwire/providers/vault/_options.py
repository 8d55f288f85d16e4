"""The vault provider's options: the declaration (``from_options``, the docs' table)
and the checks of constructor arguments against it, including which options apply
to which auth method."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...values import SecretValue
from ..base import (
    INSECURE,
    REQUIRED,
    Credential,
    CredentialSource,
    Option,
    Options,
    option_text,
    shown,
)
from ._auth import KUBERNETES_JWT, METHODS, Login

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "ENVELOPE_BYTES",
    "OPTIONS",
    "PathOption",
    "Text",
    "check_arguments",
    "make_login",
    "mount_path",
    "path_text",
]

#: Vault's and OpenBao's default listener ``max_request_size`` (32 MiB).
DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024
#: Room left in a request for the JSON around the value (``{"options":...,"data":...}``).
ENVELOPE_BYTES = 4096
#: The options each auth method takes (besides auth_mount).
_AUTH_OPTIONS = {
    "token": {"token"},
    "approle": {"role_id", "secret_id"},
    "cert": {"role"},
    "jwt": {"role", "jwt"},
    "kubernetes": {"role", "jwt"},
}

PathOption = str | os.PathLike[str] | SecretValue
Text = str | SecretValue


def mount_path(value: object, option: str) -> tuple[str, str]:
    """(a non-empty path option without surrounding '/', how messages show it)."""
    text = option_text(value) if isinstance(value, str | SecretValue) else None
    if text is None or not text.strip("/"):
        raise ConfigError(f"{option} must be a non-empty path", key=option)
    path = text.strip("/")
    return path, (shown(value) if isinstance(value, SecretValue) else repr(path))


def path_text(value: PathOption) -> str:
    return str(Path(value.reveal() if isinstance(value, SecretValue) else value).expanduser())


OPTIONS = Options(
    Option("url", str, default=REQUIRED, nonempty=True,
           missing="the Vault address is required (e.g. url: ${env:VAULT_ADDR})",
           help="The Vault address, `http://` or `https://` (`${env:VAULT_ADDR}`), without "
           "a user, password, query or fragment (it appears in errors and health details, "
           "so one that could carry a credential is refused, without being echoed). "
           "`http://` only to this machine, unless `insecure`."),
    INSECURE,
    Option("mount", str, default="secret", nonempty=True, help="The KV mount path."),
    Option("kv_version", int, choices=(1, 2), help="The mount's KV version. Omitted: read "
           "from `sys/internal/ui/mounts/<mount>` on first use."),
    Option("namespace", str, nonempty=True, help="A Vault Enterprise / OpenBao namespace, "
           "sent as `X-Vault-Namespace` on every call (not on `sys/health`)."),
    Option("auth", str, default="token", choices=METHODS,
           help="How to log in ([below](#authentication))."),
    Option("auth_mount", str, nonempty=True, help="The auth method's path. Default: the "
           "method's name (`approle`, `cert`, `jwt`, `kubernetes`)."),
    Option("token", Credential, default_env="VAULT_TOKEN", ascii_only=True,
           help="`auth: token`: the token, the variable holding it, or a file holding it."),
    Option("role_id", Credential, help="`auth: approle`: the role ID."),
    Option("secret_id", Credential, ascii_only=True, help="`auth: approle`: the secret ID "
           "(omit it for a role with `bind_secret_id=false`)."),
    Option("role", str, nonempty=True, help="`cert`: the certificate role (optional). `jwt` "
           "and `kubernetes`: the role, **required**."),
    Option("jwt", Credential, ascii_only=True, label="JWT", help="`jwt`: the JWT. "
           f"`kubernetes`: default `jwt_file: {KUBERNETES_JWT}`."),
    Option("client_cert", Path, help="A PEM client certificate, for mutual TLS and "
           "`auth: cert`; goes with `client_key`."),
    Option("client_key", Path, help="The client certificate's PEM key."),
    Option("ca_cert", Path, help="A PEM CA bundle to verify the server with, instead of "
           "the system's."),
    Option("timeout", float, default=10.0, help="Seconds to wait for each HTTP call."),
    Option("read_retries", int, default=2, help="How often a read (`GET`, `LIST`) is "
           "retried after a connection error, a read timeout or HTTP 502/504. Writes are "
           "retried only when the connection was never made."),
    Option("cas", bool, default=False,
           help="Check-and-set writes (KV v2, [below](#check-and-set))."),
    Option("destroy", bool, default=False, help="`delete` removes every version and the "
           "metadata, instead of soft-deleting the latest version ([below](#delete))."),
    Option("max_request_bytes", int, default=DEFAULT_MAX_REQUEST_BYTES,
           help="The server's `max_request_size`, if it is not Vault's default."),
)  # fmt: skip


def check_arguments(**values: Any) -> dict[str, Any]:
    """Constructor arguments checked against their declarations (as from_options
    does), then the ranges the declarations cannot say."""
    result = {
        name: OPTIONS[name].convert(value, base_dir=Path())
        for name, value in values.items()
        if value is not None
    }
    for name, low, words in (
        ("timeout", 0, "a positive number of seconds"),
        ("read_retries", -1, "a non-negative integer"),
        ("max_request_bytes", ENVELOPE_BYTES, f"an integer above {ENVELOPE_BYTES}"),
    ):
        if result[name] <= low:
            raise ConfigError(f"{name} must be {words}", key=name)
    return result


def make_login(
    method: str,
    mount: Text | None,
    role: Text | None,
    has_certificate: bool,
    **sources: tuple[Any, Any, Any],
) -> Login:
    """The login configuration; options that do not apply to the method are errors."""
    role_text = option_text(role) if isinstance(role, str | SecretValue) else None
    if role is not None and not role_text:
        raise ConfigError("role must be a non-empty string", key="role")
    used = {option for option, items in sources.items() if any(i is not None for i in items)}
    extra = sorted((used | ({"role"} if role is not None else set())) - _AUTH_OPTIONS[method])
    if extra:
        raise ConfigError(f"option does not apply to auth {method!r}", key=extra[0])
    if method == "cert" and not has_certificate:
        raise ConfigError("auth 'cert' needs client_cert and client_key", key="client_cert")
    if method in ("jwt", "kubernetes") and role_text is None:
        raise ConfigError(f"auth {method!r} needs a role", key="role")
    if method == "kubernetes" and "jwt" not in used:
        sources["jwt"] = (None, None, KUBERNETES_JWT)
    allowed = _AUTH_OPTIONS[method]

    def source(option: str) -> CredentialSource | None:
        return OPTIONS[option].source(*sources[option]) if option in allowed else None

    login = Login(
        method, *mount_path(mount or method, "auth_mount"), role=role_text,
        token=source("token"), role_id=source("role_id"), secret_id=source("secret_id"),
        jwt=source("jwt"),
    )  # fmt: skip
    for option in ("role_id", "jwt"):
        if option in allowed and getattr(login, option) is None:
            raise ConfigError(
                f"needs one of {option}, {option}_env or {option}_file", key=f"{option}_env"
            )
    return login
