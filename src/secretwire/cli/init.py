"""``secretwire init``: a settings file, a development store and its key.

The store is created by the provider the new settings name, built from those
settings (through the provider registry, as every command builds it): the CLI
imports no concrete provider.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from ..errors import ConfigError
from ..settings import parse_settings
from ._templates import SETTINGS_TEMPLATE, TEMPLATES

__all__ = ["SETTINGS_TEMPLATE", "TEMPLATES", "init_project"]

GITIGNORE_ENTRY = ".secretwire/"


@runtime_checkable
class _Initializable(Protocol):
    """A provider that can create its empty store (the ``file`` provider)."""

    def initialize(self) -> None: ...


def init_project(
    folder: Path,
    *,
    environment: str = "development",
    variable: str = "SECRETWIRE_ENV",
    template: str | None = None,
) -> list[str]:
    """Create ``secretwire.yaml``, ``.secretwire/dev.key`` (0600) and an empty store;
    with ``template`` (``local``, ``vault``, ``aws``, ``azure``: :data:`TEMPLATES`)
    those settings, with a production environment and a declared secret.

    Refuses to overwrite anything that exists. Returns what it did, one line each.
    """
    if template is not None and template not in TEMPLATES:
        known = ", ".join(sorted(TEMPLATES))
        raise ConfigError(f"unknown template {template[:40]!r} (known: {known})")
    folder = folder.resolve()
    settings = folder / "secretwire.yaml"
    store = folder / ".secretwire" / "dev.store"
    key = folder / ".secretwire" / "dev.key"
    for existing in (settings, store, key):
        if existing.exists():
            raise ConfigError(f"{existing} already exists; refusing to overwrite it")
    text = (SETTINGS_TEMPLATE if template is None else TEMPLATES[template]).format(
        variable=variable,
        default=environment,
        store=store.relative_to(folder).as_posix(),
        key=key.relative_to(folder).as_posix(),
    )
    store.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _create_store(text, settings, folder, environment)
    settings.write_text(text, encoding="utf-8")
    done = [
        f"created {settings.relative_to(folder)}",
        f"created {key.relative_to(folder)} (mode 0600; keep it out of version control)",
        f"created {store.relative_to(folder)} (AES-256-GCM encrypted)",
    ]
    if _ensure_gitignored(folder / ".gitignore"):
        done.append(f"added {GITIGNORE_ENTRY} to .gitignore")
    return done


def _create_store(text: str, settings: Path, folder: Path, environment: str) -> None:
    """Create the empty store of ``environment`` as the settings ``text`` describe it."""
    import yaml  # noqa: PLC0415 - only init needs it here; the CLI starts without it

    parsed = parse_settings(yaml.safe_load(text), source=str(settings), base_dir=folder)
    provider = parsed.provider(environment)
    try:
        if not isinstance(provider, _Initializable):
            raise ConfigError(f"provider {provider.name!r} cannot create a store")
        provider.initialize()
    finally:
        provider.close()


def _ensure_gitignored(gitignore: Path) -> bool:
    existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if GITIGNORE_ENTRY in existing.splitlines():
        return False
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    with gitignore.open("a", encoding="utf-8") as handle:
        handle.write(f"{prefix}# secretwire development store and key\n{GITIGNORE_ENTRY}\n")
    return True
