"""``secretwire check --omegaconf`` and ``render --omegaconf``: a file as OmegaConf reads it.

OmegaConf has its own interpolation grammar: quoted arguments
(``${secret:'db/creds#user'}``), a default as a second argument
(``${secret:sentry/dsn,null}``), nested interpolations (``${secret:app/${env}/key}``)
and other keys (``${database.host}``). secretwire's own grammar reads those as other
names or as errors. With ``--omegaconf`` the file is loaded with OmegaConf and checked
or rendered through the OmegaConf adapter's public :func:`check` / :func:`resolve`,
as the application resolves it.

Needs the ``omegaconf`` extra. The CLI imports this module (and so OmegaConf) only
when the flag is given; :func:`hint` (which only reads the text) is the exception.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from ..configfile import dump_config, load_config
from ..errors import ConfigError, ResolutionError, SecretwireError

__all__ = ["check", "hint", "render"]

EXIT_OK = 0
EXIT_ERROR = 1

#: Text only OmegaConf gives a meaning to: a quoted first argument, another
#: interpolation inside a secret reference, a second argument, OmegaConf's own
#: resolvers (``oc.env``, ``oc.decode``...), a reference to another key.
#: Each alternative looks at most a few hundred characters ahead, so a hostile file
#: cannot make the search slow.
_OMEGACONF_SYNTAX = re.compile(
    r"""\$\{secret:\s*['"]"""
    r"|\$\{secret:[^}\n]{0,300}\$\{"
    r"|\$\{secret:(?:(?!:-)[^}\n]){0,300},"
    r"|\$\{oc\.[a-z_.]{1,40}:"
    r"|\$\{\.{0,10}[A-Za-z_][\w-]{0,100}(?:\.[\w-]{1,100}){0,20}\}"
)


def hint(path: str) -> str | None:
    """A hint when ``path`` looks like an OmegaConf config, for a failed plain check."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not _OMEGACONF_SYNTAX.search(text):
        return None
    return (
        f"hint: {path} looks like an OmegaConf config (quoted or nested references, "
        "${oc.*}, ${other.key}); to read it as OmegaConf does: "
        f"secretwire check --omegaconf {path}"
    )


def check(args: argparse.Namespace) -> int:
    """``secretwire check --omegaconf FILE``: the same output as a plain ``check``."""
    adapter, cfg, config = _load(args)
    try:
        with adapter.registered(settings=args.config, environment=args.env):
            provenance = _read(adapter.check, cfg, config)
    except ResolutionError as err:
        for failure in err.failures:
            print(f"{config.path}: {failure}")
        print(f"{len(err.failures)} reference(s) failed", file=sys.stderr)
        return EXIT_ERROR
    defaulted = sum(item.defaulted for item in provenance)
    note = f" ({defaulted} by their default: the secret does not exist)" if defaulted else ""
    print(f"ok: {len(provenance)} reference(s) resolvable in {config.path}{note}")
    return EXIT_OK


def render(args: argparse.Namespace) -> int:
    """``secretwire render --omegaconf FILE``: every interpolation resolved, each value
    that read a secret masked unless ``--reveal``."""
    adapter, cfg, config = _load(args)
    with adapter.registered(settings=args.config, environment=args.env):
        resolved = _read(adapter.resolve, cfg, config, reveal=args.reveal)
    output_format = args.format or ("json" if config.format == "json" else "yaml")
    sys.stdout.write(dump_config(resolved, output_format))
    return EXIT_OK


def _load(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The adapter module, the config as OmegaConf loads it, and secretwire's own
    reading of the file (for line numbers, and its checks of hostile input)."""
    try:
        from secretwire.adapters import omegaconf as adapter  # noqa: PLC0415
        from secretwire.adapters import require  # noqa: PLC0415

        omegaconf = require("omegaconf", "omegaconf").OmegaConf
    except ImportError as err:
        raise ConfigError(f"--omegaconf needs OmegaConf: {err}") from None
    config = load_config(args.file)
    if config.format == "toml":
        raise ConfigError("--omegaconf reads YAML (or JSON) files, as OmegaConf does")
    problem: str | None = None
    try:
        cfg = omegaconf.load(config.path)
    except Exception as err:  # noqa: BLE001 - OmegaConf and PyYAML raise many types
        problem = _first_line(err)
    if problem is not None:
        raise ConfigError(f"OmegaConf cannot load it: {problem}", source=config.path)
    return adapter, cfg, config


def _read(function: Any, cfg: Any, config: Any, **options: Any) -> Any:
    """``function(cfg)`` (the adapter's check or resolve); an OmegaConf error that is
    not about a secret (``${missing.key}``, an unknown resolver) becomes a
    :class:`ConfigError` naming the key. The adapter hands those on only when their
    text holds no value it read."""
    problem: str | None = None
    try:
        return function(cfg, source=config.path, lines=config.lines, **options)
    except SecretwireError:  # failed references, environments that disagree
        raise
    except Exception as err:  # noqa: BLE001 - OmegaConf's error types
        key = getattr(err, "full_key", None)
        problem = (f"{key}: " if key else "") + _first_line(err)
    raise ConfigError(f"OmegaConf could not resolve {problem}", source=config.path)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    line = text[0] if text else ""
    line = line if len(line) <= 200 else line[:200] + "..."
    return f"{type(err).__name__}: {line}" if line else type(err).__name__
