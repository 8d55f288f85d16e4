"""pydantic-settings with secretwire: settings that name their secrets.

What a user adds to an existing pydantic-settings model
-------------------------------------------------------
Subclass ``SecretSettings`` instead of ``BaseSettings``, declare secret fields as
``SecretStr``, and write references where values used to go::

    from secretwire.adapters.pydantic_settings import SecretSettings, SecretSettingsConfigDict

    class AppSettings(SecretSettings):                # was: BaseSettings
        api_token: SecretStr = Field("${secret:api/token}")

References work in every source (init arguments, environment variables, .env,
secrets dir, YAML/TOML/JSON files) and in field defaults. ``secretwire.yaml`` picks
the backend: ``development`` is the encrypted local store, ``ci`` reads
``APP_SECRET_*`` variables. Switch with ``SECRETWIRE_ENV=ci``; no code changes.

Run it
------
::

    pip install 'secretwire[pydantic]'
    secretwire set db/password            # value on stdin; creates .secretwire/
    secretwire set db/creds               # {"user": "app", "host": "db.internal", "port": 5432}
    secretwire set api/token
    cp .env.example .env                  # optional
    python app.py

Secrets are printed only as ``**********`` and as a short fingerprint, so you can
see they were resolved without seeing them.
"""

from __future__ import annotations

import hashlib
import logging
import sys

from pydantic import BaseModel, Field, Secret, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsError,
    YamlConfigSettingsSource,
)

from secretwire.adapters.pydantic_settings import SecretSettings, SecretSettingsConfigDict

logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("example")


class Database(BaseModel):
    host: str = "localhost"
    user: SecretStr
    password: SecretStr
    port: Secret[int] = Secret(5432)  # a number that still prints as **********
    pool_size: int = 5


class AppSettings(SecretSettings):
    model_config = SecretSettingsConfigDict(
        env_prefix="APP_",
        env_nested_delimiter="__",  # APP_DATABASE__PASSWORD sets database.password
        env_file=".env",
        yaml_file="settings.yaml",
        # The host comes from a secret but is not sensitive: allow it in a plain str.
        secretwire_allow_unmasked={"database.host"},
    )

    app_name: str = "example"
    database: Database
    api_token: SecretStr = Field("${secret:api/token}")  # a default that is a reference

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The usual priority, plus settings.yaml last (lowest).
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            YamlConfigSettingsSource(settings_cls),
        )


def fingerprint(secret: SecretStr) -> str:
    """A short, one-way fingerprint: proves a value arrived without showing it."""
    return hashlib.sha256(secret.get_secret_value().encode()).hexdigest()[:12]


def main() -> int:
    try:
        settings = AppSettings()
    except SettingsError as err:  # one error listing every failed reference
        print(f"error: {err}", file=sys.stderr)
        return 2
    log.info("settings loaded: %r", settings)  # repr shows ********** for secrets
    print(settings)
    print(settings.model_dump_json())
    print(f"database host: {settings.database.host}, pool size: {settings.database.pool_size}")
    port = settings.database.port.get_secret_value()
    print(f"database port is a number: {isinstance(port, int)}")
    print(f"database user fingerprint: {fingerprint(settings.database.user)}")
    print(f"database password fingerprint: {fingerprint(settings.database.password)}")
    print(f"api token fingerprint: {fingerprint(settings.api_token)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
