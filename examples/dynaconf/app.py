"""dynaconf settings with secrets resolved by secretwire.

The lines you add to a dynaconf project::

    from dynaconf import Dynaconf
    from secretwire.adapters.dynaconf import SecretwireHook, masked_dict

    settings = Dynaconf(
        settings_files=["settings.toml"],
        environments=True,                # [default] / [development] / [production]
        envvar_prefix="APP",              # APP_API__TOKEN='${secret:api/token}' works too
        post_hooks=[SecretwireHook()],    # resolves ${secret:...} after every loader
    )
    settings.DATABASE.password            # the value, a plain str
    log.info("settings: %s", masked_dict(settings))  # safe to log

Run it from this folder after storing the secrets in the development store::

    secretwire set db/password           # reads the value from stdin / a prompt
    secretwire set db/creds              # e.g. {"user": "app", "port": 5432}
    python app.py

    # production: the same code, secrets from PROD_SECRET_* variables
    ENV_FOR_DYNACONF=production PROD_SECRET_DB_PASSWORD=... \\
        PROD_SECRET_DB_CREDS='{"user": "app", "port": 5432}' python app.py
"""

from __future__ import annotations

import logging
import sys

from dynaconf import Dynaconf

from secretwire import MASK
from secretwire.adapters.dynaconf import SecretResolutionError, SecretwireHook, masked_dict

logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("dynaconf-example")


def main() -> int:
    hook = SecretwireHook()
    settings = Dynaconf(
        settings_files=["settings.toml"],
        environments=True,
        envvar_prefix="APP",
        post_hooks=[hook],
    )
    try:
        password = settings.DATABASE.password
    except SecretResolutionError as err:  # also a dynaconf ValidationError
        print(f"error: {err}", file=sys.stderr)
        return 1
    log.info("settings: %s", masked_dict(settings))  # secrets show as the mask
    print(f"environment: {settings.current_env.lower()}")
    print(f"database host: {settings.DATABASE.host}")
    print(f"database port is a number: {isinstance(settings.DATABASE.port, int)}")
    print(f"password length: {len(password)}")
    print(f"url: {settings.DATABASE.url.replace(password, MASK)}")
    webhook = settings.FEATURES.webhook_secret
    print(f"webhook: {'disabled' if webhook == 'disabled' else 'configured'}")
    reads = [settings.get("database.password") for _ in range(3)]  # served from memory
    print(f"repeated reads agree: {all(read == password for read in reads)}")
    manager = hook.manager_for(settings, settings.current_env.lower())
    print(f"backend calls: {manager.metrics().backend.calls}")
    hook.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
