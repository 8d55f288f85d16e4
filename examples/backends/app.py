"""The same app, config and settings file on four backends.

    APP_ENV=development python app.py    # encrypted local store (.secretwire/)
    APP_ENV=vault       python app.py    # VAULT_ADDR, VAULT_TOKEN
    APP_ENV=aws         python app.py    # AWS credentials chain (+ AWS_ENDPOINT_URL)
    APP_ENV=azure       python app.py    # AZURE_KEYVAULT_URL, DefaultAzureCredential

It prints where each secret came from, and (with --reveal) a fingerprint of each
value, never the value itself.
"""

from __future__ import annotations

import hashlib
import sys

from secretwire import SecretManager, load_config


def main(argv: list[str]) -> int:
    config_file = load_config("config.yaml")
    with SecretManager.from_settings() as secrets:
        print(f"environment: {secrets.environment} (provider {secrets.provider.name})")
        resolution = secrets.resolve_with_provenance(
            config_file.data, source=config_file.path, lines=config_file.lines
        )
        for item in resolution.provenance:
            print(f"{item.location}: {item.reference} <- {item.provider} v{item.version}")
        if "--reveal" in argv:
            key = resolution.value["payments"]["api_key"]
            digest = hashlib.sha256(key.encode()).hexdigest()[:12]
            print(f"payments.api_key sha256: {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
