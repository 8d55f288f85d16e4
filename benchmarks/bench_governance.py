"""Governance benchmark: the cost of a cached get with RBAC and audit on, against off.

Run:  python benchmarks/bench_governance.py [--rounds N]

The audit trail writes to a file in a temporary folder (the default: a write per
commit, fsync at most once a second). Not a test: the figures depend on the
machine; ratios from one run compare like with like.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench_core import per_call_ns  # the same timing as the core benchmark

from secretwire import SecretManager
from secretwire.governance import (
    AuditKey,
    AuditTrail,
    FileSink,
    governance_layers,
    parse_policy,
)
from secretwire.providers.memory import MemoryProvider

POLICY = parse_policy(
    {
        "roles": {
            "reader": {
                "allow": [{"operations": ["get", "list"], "names": ["app/*"]}],
                "deny": [{"operations": ["get"], "names": ["app/admin/*"]}],
            }
        },
        "bindings": {"bench": ["reader"]},
    }
)
NAMES = [f"app/s{i}" for i in range(10)]


def build(folder: Path, *, rbac: bool, audit: bool, tag: str) -> SecretManager:
    trail = None
    if audit:
        trail = AuditTrail([FileSink(folder / f"{tag}.jsonl")], AuditKey.generate()[0])
    layers = governance_layers(
        POLICY if rbac else None, trail, principal="bench", environment="bench"
    )
    manager = SecretManager(MemoryProvider(dict.fromkeys(NAMES, "value")), before_cache=layers)
    for name in NAMES:
        manager.get(name)  # warm: every later read is a hit
    return manager


def bench_cached_get(folder: Path, rounds: int) -> None:
    calls = 20_000
    configs = {
        "off": (False, False),
        "RBAC": (True, False),
        "audit": (False, True),
        "RBAC + audit": (True, True),
    }
    print("cached get (median of rounds, per call)")
    base = 0.0
    for label, (rbac, audit) in configs.items():
        manager = build(folder, rbac=rbac, audit=audit, tag=label.replace(" + ", "-"))
        ns = per_call_ns(lambda m=manager: m.get("app/s1"), calls, rounds)
        batch = per_call_ns(
            lambda m=manager: m.get_many([(n, None) for n in NAMES]), calls // 10, rounds
        )
        manager.close()
        base = base or ns
        print(
            f"  {label:14} get {ns / 1000:7.2f} us  {ns / base:5.1f}x off   "
            f"get_many(10) {batch / 1000:7.2f} us"
        )


def bench_threads(folder: Path) -> None:
    """Group commit: concurrent cached reads share appends."""

    class Counting(FileSink):
        commits = 0

        def commit(self, build: Callable[..., object]) -> None:  # type: ignore[override]
            Counting.commits += 1
            super().commit(build)  # type: ignore[arg-type]

    trail = AuditTrail([Counting(folder / "threads.jsonl")], AuditKey.generate()[0])
    layers = governance_layers(POLICY, trail, principal="bench", environment="bench")
    manager = SecretManager(MemoryProvider({"app/s1": "v"}), before_cache=layers)
    manager.get("app/s1")
    per_thread, threads = 5_000, 8
    Counting.commits = 0

    def reader() -> None:
        for _ in range(per_thread):
            manager.get("app/s1")

    workers = [threading.Thread(target=reader) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - start
    manager.close()
    total = per_thread * threads
    print(
        f"{threads} threads, audited cached gets: {total / seconds:,.0f} records/s, "
        f"{Counting.commits:,} appends for {total:,} records "
        f"({total / max(Counting.commits, 1):.1f} records per append)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench_cached_get(Path(folder), args.rounds)
        bench_threads(Path(folder))


if __name__ == "__main__":
    main()
