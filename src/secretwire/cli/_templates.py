"""The settings ``secretwire init --template NAME`` writes: a development store in
the project for every template, and a production environment on the named backend
(its options from environment variables). Each declares one example secret."""

from __future__ import annotations

__all__ = ["SETTINGS_TEMPLATE", "TEMPLATES"]

#: What every settings file ``init`` writes starts with (``str.format`` fields).
_ENVIRONMENTS = """\
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
"""

#: ``secretwire init`` without a template.
SETTINGS_TEMPLATE = (
    "# secretwire settings: which backend serves secrets in which environment.\n"
    + _ENVIRONMENTS
    + """\
  # production:
  #   provider: env
  #   options: {{prefix: APP_SECRET_}}
"""
)

_SECRETS = """\
# Declared secrets: `secretwire status`, `check`, `docs` and `rotate --due` read
# these (docs/lifecycle.md). Values never go here.
secrets:
  app/session-key:
    description: Signs the app's session cookies
    owner: platform-team
    required: false      # `secretwire set app/session-key`, then drop this line
    validation: {{min_length: 32}}
    rotation:
      interval: 90d
      generator: {{type: base64url, bytes: 32}}
"""

_PRODUCTION = {
    "local": "",
    "vault": """\
  production:
    provider: vault
    options:
      url: ${{env:VAULT_ADDR}}
      mount: secret
      auth: approle
      role_id_env: VAULT_ROLE_ID
      secret_id_env: VAULT_SECRET_ID
""",
    "aws": """\
  production:
    provider: aws
    options:
      region: ${{env:AWS_REGION:-us-east-1}}   # credentials: the standard boto3 chain
""",
    "azure": """\
  production:
    provider: azure
    options:
      vault_url: ${{env:AZURE_KEYVAULT_URL}}   # https://<vault>.vault.azure.net
      credential: default                    # managed identity, az login, ...
""",
}

#: template name -> settings text (``str.format`` with variable, default, store, key).
TEMPLATES = {
    name: f"# secretwire settings (template: {name}): which backend serves secrets where.\n"
    + _ENVIRONMENTS
    + production
    + _SECRETS
    for name, production in _PRODUCTION.items()
}
