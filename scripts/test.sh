#!/usr/bin/env bash
# Set up .venv and run everything CI runs: ruff (lint + format), mypy --strict,
# the import contracts (lint-imports, pyproject [tool.importlinter]), the whole
# pytest suite (unit, providers against real OpenBao and moto servers that the
# tests start themselves, adapters, CLI, examples) on the newest
# supported frameworks, then the adapter tests again on the oldest supported
# frameworks (.venv-oldest, pinned by tests/constraints-oldest.txt).
# Extra arguments go to the first pytest run only, and skip the second,
# e.g. scripts/test.sh -k resolver
source "$(dirname "$0")/_venv.sh"
ensure_venv "[test]"
cd "$ROOT"
# One command per line: under `set -e` a failure inside an `a && b && c` list (other
# than its last command) would not stop the script.
echo "== ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "== mypy --strict"
"$VENV/bin/mypy"
echo "== lint-imports"
"$VENV/bin/python" scripts/lint_imports.py --no-logo
echo "== pytest (newest frameworks)"
"$VENV/bin/pytest" "$@"
if [ "$#" -eq 0 ]; then
  OLDEST="$ROOT/.venv-oldest"
  VENV="$OLDEST" ensure_venv "[test]" -c "$ROOT/tests/constraints-oldest.txt" hydra-core
  echo "== pytest (oldest frameworks: $(tr '\n' ' ' < <(grep -v '^#' tests/constraints-oldest.txt)))"
  "$OLDEST/bin/pytest" -p no:cacheprovider tests/adapters \
    tests/examples/test_pydantic_settings_example.py \
    tests/examples/test_dynaconf_example.py \
    tests/examples/test_omegaconf_example.py
fi
