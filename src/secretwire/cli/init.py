"""``secretwire init``: a settings file, a development store and its key."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..providers.localfile import LocalFileProvider

SETTINGS_TEMPLATE = """\
# secretwire settings: which backend serves secrets in which environment.
# The environment is chosen by ${variable} (default: {default}).
environment_variable: {variable}
default_environment: {default}
cache:
  ttl: 300        # seconds a value is served from memory
  maxsize: 1024   # secrets kept at most
environments:
  {default}:
    provider: file
    options:
      path: {store}
      key_file: {key}
  # production:
  #   provider: env
  #   options: {{prefix: APP_SECRET_}}
"""

GITIGNORE_ENTRY = ".secretwire/"


def init_project(
    folder: Path, *, environment: str = "development", variable: str = "SECRETWIRE_ENV"
) -> list[str]:
    """Create ``secretwire.yaml``, ``.secretwire/dev.key`` (0600) and an empty store.

    Refuses to overwrite anything that exists. Returns what it did, one line each.
    """
    folder = folder.resolve()
    settings = folder / "secretwire.yaml"
    store = folder / ".secretwire" / "dev.store"
    key = folder / ".secretwire" / "dev.key"
    for existing in (settings, store, key):
        if existing.exists():
            raise ConfigError(f"{existing} already exists; refusing to overwrite it")
    store.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    LocalFileProvider(path=store, key_file=key, create=True).initialize()
    settings.write_text(
        SETTINGS_TEMPLATE.format(
            variable=variable,
            default=environment,
            store=store.relative_to(folder).as_posix(),
            key=key.relative_to(folder).as_posix(),
        ),
        encoding="utf-8",
    )
    done = [
        f"created {settings.relative_to(folder)}",
        f"created {key.relative_to(folder)} (mode 0600; keep it out of version control)",
        f"created {store.relative_to(folder)} (AES-256-GCM encrypted)",
    ]
    if _ensure_gitignored(folder / ".gitignore"):
        done.append(f"added {GITIGNORE_ENTRY} to .gitignore")
    return done


def _ensure_gitignored(gitignore: Path) -> bool:
    existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if GITIGNORE_ENTRY in existing.splitlines():
        return False
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    with gitignore.open("a", encoding="utf-8") as handle:
        handle.write(f"{prefix}# secretwire development store and key\n{GITIGNORE_ENTRY}\n")
    return True
