"""The settings file: which provider serves which environment.

``secretwire.yaml`` (or ``[tool.secretwire]`` in ``pyproject.toml``)::

    environment_variable: APP_ENV      # optional; default SECRETWIRE_ENV
    default_environment: development   # optional; used when the variable is unset
    cache: {ttl: 300, maxsize: 1024}   # optional; per-environment override allowed
    deadlines: {resolve: 5, health: 2} # optional; per-environment override allowed
    environments:
      development:
        provider: file
        options: {path: .secretwire/dev.store, key_file: .secretwire/dev.key}
      ci:
        provider: env
        options: {prefix: APP_SECRET_}
      production:
        provider: vault                # (with the vault extra)
        bootstrap: ci                  # ${secret:...} in options resolve through "ci"
        options:
          url: ${env:VAULT_ADDR}
          token: ${secret:vault/token}

Option strings may use ``${env:VAR}`` / ``${env:VAR:-default}`` and, when the
environment names a ``bootstrap`` environment, ``${secret:...}`` references that
resolve through it: one pass of the reference grammar reads both (a value that was
substituted is never read again). An option string that held a secret reference
reaches the provider as a :class:`~secretwire.SecretValue`: providers use it and
never show it (in errors, health details or reprs). Every error names the file and
the key. Build a manager with :meth:`SecretManager.from_settings`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._schema import mapping, no_unknown
from .cache_settings import CacheSettings, DeadlineSettings, parse_cache, parse_deadlines
from .configfile import load_config, parse_toml
from .deadlines import deadline
from .errors import ConfigError, ProviderError, ResolutionError
from .failover import config as failover
from .governance.config import Governance, parse_governance
from .lifecycle.inventory import Inventory, parse_inventory
from .paths import TreePath, format_location, replace_at, walk_strings
from .pipeline import ProviderStage
from .providers import get_provider_class, is_known_provider
from .providers.base import SecretProvider
from .values import SecretValue

# Loaded on first use, not here (start-up time: docs/performance.md): ``.l2.config``
# for an environment with ``l2:``, ``.failover.detect`` for ``provider: auto``,
# ``.resolver`` for options that hold a ``$`` (a reference or an escape).
if TYPE_CHECKING:
    from .l2.config import L2Settings
    from .resolver import ResolvedText

#: ``provider: auto`` (``secretwire.failover.detect.AUTO``; a test checks they agree).
AUTO = "auto"

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_ENV_VAR",
    "SETTINGS_FILENAMES",
    "CacheSettings",
    "DeadlineSettings",
    "EnvironmentSettings",
    "Settings",
    "find_settings_file",
    "load_settings",
]

#: Variable that points at a settings file explicitly.
CONFIG_ENV_VAR = "SECRETWIRE_CONFIG"
#: Variable that selects the environment unless the settings name another.
DEFAULT_ENV_VAR = "SECRETWIRE_ENV"
SETTINGS_FILENAMES = ("secretwire.yaml", "secretwire.yml")

_TOP_KEYS = {"environment_variable", "default_environment", "cache", "deadlines", "environments"}
_TOP_KEYS |= {"policy", "audit"}  # governance: secretwire/governance/config.py
_TOP_KEYS |= {"secrets"}  # the declared secrets: secretwire/lifecycle/inventory.py
_ENV_KEYS = {"provider", "options", "bootstrap", "cache", "deadlines"} | failover.KEYS
_ENV_KEYS |= {"l2"}  # the shared cache: secretwire/l2/config.py (KEYS; a test checks)


@dataclass(frozen=True, slots=True)
class EnvironmentSettings:
    name: str
    provider: str
    options: Mapping[str, Any] = field(default_factory=dict)
    bootstrap: str | None = None
    cache: CacheSettings = field(default_factory=CacheSettings)
    deadlines: DeadlineSettings = field(default_factory=DeadlineSettings)
    failover: failover.FailoverSettings = field(default_factory=failover.FailoverSettings)
    #: ``l2:``, the shared cache in Redis (``None``: none)
    l2: L2Settings | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """A loaded settings file. Build managers with :meth:`SecretManager.from_settings`."""

    source: str
    base_dir: Path
    environments: Mapping[str, EnvironmentSettings]
    environment_variable: str = DEFAULT_ENV_VAR
    default_environment: str | None = None
    #: ``policy:`` and ``audit:`` (see :mod:`secretwire.governance`).
    governance: Governance = field(default_factory=Governance)
    #: The declared secrets (``secrets:``; docs/lifecycle.md).
    secrets: Inventory = field(default_factory=Inventory)

    def select(
        self, environment: str | None = None, environ: Mapping[str, str] | None = None
    ) -> str:
        """The environment to use: explicit, else the selecting variable, else the default."""
        environ = os.environ if environ is None else environ
        chosen = environment or environ.get(self.environment_variable) or self.default_environment
        if chosen is None and len(self.environments) == 1:
            chosen = next(iter(self.environments))
        known = ", ".join(sorted(self.environments))
        if chosen is None:
            raise ConfigError(
                f"no environment selected: set {self.environment_variable} to one of: {known}",
                source=self.source,
            )
        if chosen not in self.environments:
            where = (
                f"${self.environment_variable}"
                if not environment and environ.get(self.environment_variable)
                else "environment"
            )
            raise ConfigError(
                f"unknown environment {chosen!r} (from {where}); known: {known}",
                source=self.source,
                key="environments",
            )
        return chosen

    def provider(self, environment: str | None = None) -> SecretProvider:
        """Build the provider for ``environment`` (or the selected one)."""
        return self._build_provider(self.select(environment), ())

    def _build_provider(self, name: str, chain: tuple[str, ...]) -> SecretProvider:
        if name in chain:
            cycle = " -> ".join((*chain, name))
            raise ConfigError(f"bootstrap cycle: {cycle}", source=self.source, key="environments")
        env = self.environments[name]
        options = self._options(env, (*chain, name))
        kind, key = env.provider, f"environments.{name}.options"
        notes: tuple[str, ...] = ()
        if kind == AUTO:  # provider: auto (secretwire.failover.detect)
            from .failover.detect import detect  # noqa: PLC0415 - see the imports

            detected = detect(options, os.environ)
            kind, options, notes = detected.provider, detected.options, (detected.note,)
            key = f"{key}.{kind}"
        cls = get_provider_class(kind)
        try:
            provider = cls.from_options(options, base_dir=self.base_dir)
        except ConfigError as err:
            option_key = key + (f".{err.key}" if err.key else "")
            raise ConfigError(err.reason, source=self.source, key=option_key) from None
        provider.notes = (*provider.notes, *notes)
        return provider

    def resolved(self, environment: str, data: Mapping[str, Any], part: str) -> Mapping[str, Any]:
        """``data``, environment ``environment``'s settings at ``part`` (``l2``), resolved
        as its ``options`` are (see :meth:`_options`); errors name the key."""
        return self._options(self.environments[environment], (environment,), data, part)

    def _options(
        self,
        env: EnvironmentSettings,
        chain: tuple[str, ...],
        data: Mapping[str, Any] | None = None,
        part: str = "options",
    ) -> Mapping[str, Any]:
        """``env``'s options (or ``data`` at ``part``) with ``${env:...}`` and, through its
        bootstrap environment's provider (no cache), ``${secret:...}`` resolved in one
        pass. A string that held a secret reference becomes a :class:`SecretValue`."""
        data = env.options if data is None else data
        boot = None
        limit = None
        if env.bootstrap is not None:
            boot = ProviderStage(self._build_provider(env.bootstrap, chain))
            limit = self.environments[env.bootstrap].deadlines.resolve
        key = f"environments.{env.name}.{part}"
        texts = dict(walk_strings(data, source=self.source))
        try:
            resolved = self._resolve_texts(texts, boot, limit, f"{self.source}: {key}")
        except ResolutionError as err:
            raise self._options_error(env, err, key) from None
        finally:
            if boot is not None:
                boot.close()
        options = replace_at(
            data,
            {
                path: text
                if isinstance(text, str)
                else SecretValue(text.reveal())
                if text.provenance
                else text.value
                for path, text in resolved.items()
            },
        )
        assert isinstance(options, Mapping)  # noqa: S101 - same shape as data
        return options

    @staticmethod
    def _resolve_texts(
        texts: dict[TreePath, str], boot: ProviderStage | None, limit: float | None, source: str
    ) -> Mapping[TreePath, str | ResolvedText]:
        """``texts`` resolved; a text without ``$`` holds no reference and no escape,
        so it stays as it is, and without any the resolver is not even loaded."""
        if not any("$" in text for text in texts.values()):
            return texts
        from .resolver import Resolver  # noqa: PLC0415 - see the imports

        with deadline(limit):  # the bootstrap environment's, as a manager of it would
            return Resolver(boot, environ=os.environ).resolve_texts(texts, source=source)

    def _options_error(
        self, env: EnvironmentSettings, err: ResolutionError, base: str
    ) -> ConfigError:
        """One ConfigError for failed options: the first one that is not about a
        secret (an unset variable, a malformed reference) naming its key, else the
        bootstrap's failure as a whole."""
        from .resolver import SiteFailure  # noqa: PLC0415 - see the imports

        for failure in err.failures:
            if isinstance(failure.error, ProviderError) or not isinstance(failure, SiteFailure):
                continue
            reason = failure.reason
            if not isinstance(failure.error, ConfigError):
                reason = f"{failure.reference}: {reason}"
            return ConfigError(reason, source=self.source, key=_option_key(base, failure.site))
        return ConfigError(
            f"bootstrap through {env.bootstrap!r} failed: {err}", source=self.source, key=base
        )


def _parse_l2(value: Any, cache: CacheSettings, source: str, key: str) -> L2Settings | None:
    """``l2:`` (``secretwire.l2.config.parse_l2``), loaded only when present."""
    if value is None:
        return None
    from .l2.config import parse_l2  # noqa: PLC0415 - see the imports

    return parse_l2(value, cache, source, key)


def _option_key(base: str, path: TreePath) -> str:
    """``environments.NAME.options.url``, ``...options.hosts[0]``."""
    location = format_location(path)
    return base + location if location.startswith("[") else f"{base}.{location}"


def find_settings_file(start: Path | None = None) -> Path | None:
    """``$SECRETWIRE_CONFIG``, else the nearest settings file from ``start`` upwards."""
    explicit = os.environ.get(CONFIG_ENV_VAR)
    if explicit:
        return Path(explicit)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for filename in SETTINGS_FILENAMES:
            candidate = folder / filename
            if candidate.is_file():
                return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _pyproject_section(pyproject) is not None:
            return pyproject
    return None


def _pyproject_section(path: Path) -> Mapping[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror or err}", source=str(path)) from None
    if "secretwire" not in text:
        return None  # not ours: do not fail on another tool's broken pyproject
    section = parse_toml(text, str(path)).get("tool", {}).get("secretwire")
    return section if isinstance(section, Mapping) else None


def load_settings(path: str | Path | None = None, *, start: Path | None = None) -> Settings:
    """Load and validate a settings file (see the module docstring for the schema)."""
    found = Path(path) if path is not None else find_settings_file(start)
    if found is None:
        raise ConfigError(
            "no settings file found (secretwire.yaml, or [tool.secretwire] in pyproject.toml); "
            "run `secretwire init` or set SECRETWIRE_CONFIG"
        )
    source = str(found)
    lines: Mapping[str, int] = {}  # TOML keeps no line numbers
    if found.name == "pyproject.toml":
        section = _pyproject_section(found)
        if section is None:
            raise ConfigError("no [tool.secretwire] table", source=source)
        data: Any = section
    else:
        loaded = load_config(found, format="yaml")
        data, lines = loaded.data, loaded.lines
    return parse_settings(data, source=source, base_dir=found.resolve().parent, lines=lines)


def parse_settings(
    data: Any, *, source: str, base_dir: Path, lines: Mapping[str, int] | None = None
) -> Settings:
    """Validate settings already loaded into Python objects (``lines``: the line of
    each location, for errors)."""
    top = mapping(data, source, "")
    no_unknown(top, _TOP_KEYS, source, "")
    cache = parse_cache(top.get("cache"), CacheSettings(), source, "cache")
    deadlines = parse_deadlines(top.get("deadlines"), DeadlineSettings(), source, "deadlines")
    raw_envs = mapping(top.get("environments"), source, "environments")
    if not raw_envs:
        raise ConfigError("at least one environment is required", source=source, key="environments")
    environments = {}
    for name, raw in raw_envs.items():
        key = f"environments.{name}"
        spec = mapping(raw, source, key)
        no_unknown(spec, _ENV_KEYS, source, key)
        provider = spec.get("provider")
        if not isinstance(provider, str) or not provider:
            raise ConfigError("provider name is required", source=source, key=f"{key}.provider")
        if provider != AUTO and not is_known_provider(provider):
            raise ConfigError(
                f"unknown provider {provider!r}", source=source, key=f"{key}.provider"
            )
        bootstrap = spec.get("bootstrap")
        if bootstrap is not None and (
            not isinstance(bootstrap, str) or bootstrap not in raw_envs or bootstrap == name
        ):
            raise ConfigError(
                f"bootstrap must name another environment, got {bootstrap!r}",
                source=source,
                key=f"{key}.bootstrap",
            )
        options = spec.get("options") or {}
        mapping(options, source, f"{key}.options")
        if provider == AUTO:
            from .failover.detect import check_auto_options  # noqa: PLC0415 - see the imports

            check_auto_options(options, source=source, key=f"{key}.options")
        env_cache = parse_cache(spec.get("cache"), cache, source, f"{key}.cache")
        environments[str(name)] = EnvironmentSettings(
            name=str(name),
            provider=provider,
            options=dict(options),
            bootstrap=bootstrap,
            cache=env_cache,
            deadlines=parse_deadlines(spec.get("deadlines"), deadlines, source, f"{key}.deadlines"),
            failover=failover.parse_failover(
                spec, name=str(name), environments=raw_envs, source=source
            ),
            l2=_parse_l2(spec.get("l2"), env_cache, source, f"{key}.l2"),
        )
    variable = top.get("environment_variable", DEFAULT_ENV_VAR)
    if not isinstance(variable, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        raise ConfigError(
            "must be an environment variable name", source=source, key="environment_variable"
        )
    default = top.get("default_environment")
    if default is not None and default not in environments:
        raise ConfigError(
            f"{default!r} is not one of the environments", source=source, key="default_environment"
        )
    governance = parse_governance(
        top, source=source, base_dir=base_dir, environments=environments, lines=lines
    )
    secrets = parse_inventory(top.get("secrets"), source=source, base_dir=base_dir)
    return Settings(source, base_dir, environments, variable, default, governance, secrets)
