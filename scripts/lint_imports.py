"""Check the import contracts in pyproject.toml ([tool.importlinter]) with import-linter.

``lint-imports`` reads where a package's modules live from its import spec.
``secretwire.adapters`` ships from the top-level ``adapters/`` folder, a second
portion that ``secretwire/__init__.py`` adds to ``secretwire.__path__`` when it is
imported, so secretwire is imported first and the adapters are checked too.
Arguments go to ``lint-imports`` (e.g. ``--verbose``, ``--contract adapters``).
"""

from importlinter.cli import lint_imports_command

import secretwire  # noqa: F401 - extends secretwire.__path__ with the adapters portion

if __name__ == "__main__":
    lint_imports_command()
