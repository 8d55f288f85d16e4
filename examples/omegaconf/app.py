"""An OmegaConf application whose config names secrets instead of holding them.

The lines you add to an OmegaConf app::

    from secretwire.adapters import omegaconf as sw_omegaconf

    sw_omegaconf.register()  # ${secret:...} now resolves through secretwire.yaml
    cfg = sw_omegaconf.load("config.yaml")  # OmegaConf.load + one check of every secret

Run it in a folder with ``secretwire.yaml`` and the secrets the config names::

    python app.py config.yaml             # development: the encrypted local store
    APP_ENV=ci APP_SECRET_DB_PASSWORD=... python app.py config.yaml   # env variables
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field

from omegaconf import OmegaConf

from secretwire import ResolutionError, SecretValue, load_config
from secretwire.adapters import omegaconf as sw_omegaconf

logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("omegaconf-demo")


@dataclass
class Database:
    host: str = "localhost"
    port: int = 5432
    user: str = ""
    password: str = ""
    url: str = ""


@dataclass
class Config:
    app: dict[str, str] = field(default_factory=dict)
    database: Database = field(default_factory=Database)
    api: dict[str, str] = field(default_factory=dict)
    features: dict[str, str | None] = field(default_factory=dict)


def main(path: str) -> int:
    sw_omegaconf.register()
    cfg = OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.load(path))
    try:
        # every reference at once, with the line it is on; typed fields included
        sw_omegaconf.check(cfg, source=path, lines=load_config(path).lines)
    except ResolutionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    log.info("config as written:\n%s", OmegaConf.to_yaml(cfg))  # references, no values
    print(OmegaConf.to_yaml(sw_omegaconf.resolve(cfg, reveal=False)), end="")
    port = cfg.database.port
    print(f"database.port is {type(port).__name__}")
    log.info("api key %s", SecretValue(cfg.api.key))  # wrap a value before logging it
    manager = sw_omegaconf.register().manager  # the same resolver: register() is idempotent
    print(f"environment: {manager.environment} ({manager.provider.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "config.yaml"))
