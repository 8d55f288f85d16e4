"""TLS enforcement for endpoint URLs: the one rule, and the one ``insecure`` option.

A provider that talks to its backend over HTTP sends tokens and values with every
call, so :func:`~.credentials.plain_url` refuses an ``http://`` URL unless its host
is this machine (``localhost``, ``127.0.0.0/8``, ``::1``: a dev server, an emulator)
or the provider's ``insecure: true`` option (:data:`.options.INSECURE`) allows it. Such an
endpoint is allowed, never silent: :func:`insecure_warnings` is what the provider
reports in ``health`` and ``secretwire check``.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["cleartext", "insecure_warnings", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a URL's host name, brackets removed) is this machine."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cleartext(url: str | None) -> bool:
    """Whether ``url`` is ``http://`` to another host than this machine."""
    if url is None:
        return False
    parts = urlsplit(url)
    return parts.scheme == "http" and not is_loopback(parts.hostname or "")


def insecure_warnings(**urls: str | None) -> tuple[str, ...]:
    """One warning per option (keyword) whose URL is :func:`cleartext` (allowed only with
    ``insecure: true``). The URL itself is not shown: it may have come from a secret."""
    return tuple(
        f"{option} is plain http:// to another host (allowed by insecure: true): "
        "tokens and values cross the network unencrypted"
        for option, url in urls.items()
        if cleartext(url)
    )
