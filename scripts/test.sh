#!/usr/bin/env bash
# Set up .venv and run everything CI runs: ruff (lint + format), mypy --strict,
# then the whole pytest suite (unit, providers, CLI, examples). Extra arguments go
# to pytest, e.g. scripts/test.sh -k resolver
source "$(dirname "$0")/_venv.sh"
ensure_venv "[test]"
cd "$ROOT"
echo "== ruff" && "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check .
echo "== mypy --strict" && "$VENV/bin/mypy"
echo "== pytest" && "$VENV/bin/pytest" "$@"
