"""A tiny application that loads its config with secrets resolved.

Run it from a folder that has a secretwire.yaml (``secretwire init``) and the
secrets the config names::

    python app.py config.yaml
"""

from __future__ import annotations

import logging
import sys

from secretwire import SecretManager, load_config

logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("quickstart")


def main(path: str) -> int:
    config_file = load_config(path)
    with SecretManager.from_settings() as secrets:
        resolution = secrets.resolve_with_provenance(
            config_file.data, source=config_file.path, lines=config_file.lines
        )
        config = resolution.value
        api_key = secrets.value("ai/anthropic/api-key")  # a SecretValue
        log.info("loaded %s; api key %s", path, api_key)  # logs the mask, not the key
        for item in resolution.provenance:
            source = "default" if item.defaulted else f"{item.provider} v{item.version}"
            print(f"{item.location}: {item.reference} <- {source}")
        host = config["database"]["url"].rsplit("@", 1)[1]
        print(f"database host: {host}")
        print(f"cache: {secrets.metrics().cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "config.yaml"))
