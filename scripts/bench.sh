#!/usr/bin/env bash
# Set up .venv with the `bench` extra and run the performance harness
# (benchmarks/bench_perf.py): it starts its own OpenBao and moto servers on loopback
# and prints every figure of docs/performance.md next to its goal.
# Arguments go to the harness, e.g. scripts/bench.sh --quick
source "$(dirname "$0")/_venv.sh"
ensure_venv "[bench]"
cd "$ROOT"
exec "$VENV/bin/python" benchmarks/bench_perf.py "$@"
