"""Core benchmarks: cached get cost and import time, as figures and ratios.

Run:  python benchmarks/bench_core.py [--rounds N]

Not a test: the figures depend on the machine. Ratios from one run compare
like with like (same process, same moment).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from cachetools import TTLCache

from secretwire import SecretManager
from secretwire.providers.memory import MemoryProvider


def per_call_ns(fn: Callable[[], object], calls: int, rounds: int) -> float:
    """Median over rounds of the mean cost of one call, in nanoseconds."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter_ns() - start) / calls)
    return statistics.median(samples)


def bench_cached_get(rounds: int) -> None:
    calls = 50_000
    plain = {("db/password", None): "value"}
    ttl: TTLCache[tuple[str, None], str] = TTLCache(maxsize=1024, ttl=300)
    ttl[("db/password", None)] = "value"
    manager = SecretManager(MemoryProvider({"db/password": "value"}))
    manager.get("db/password")
    key = ("db/password", None)

    dict_ns = per_call_ns(lambda: plain[key], calls, rounds)
    ttl_ns = per_call_ns(lambda: ttl[key], calls, rounds)
    get_ns = per_call_ns(lambda: manager.get("db/password"), calls, rounds)
    resolve_ns = per_call_ns(lambda: manager.resolve("${secret:db/password}"), calls // 10, rounds)
    print("cached get (median of rounds, per call)")
    print(f"  dict lookup               {dict_ns:10.0f} ns   1.0x")
    print(f"  cachetools.TTLCache       {ttl_ns:10.0f} ns  {ttl_ns / dict_ns:5.1f}x dict")
    print(
        f"  SecretManager.get         {get_ns:10.0f} ns  {get_ns / dict_ns:5.1f}x dict, "
        f"{get_ns / ttl_ns:4.1f}x TTLCache"
    )
    print(f"  resolve one reference     {resolve_ns:10.0f} ns  {resolve_ns / get_ns:5.1f}x get")
    manager.close()


def bench_import(rounds: int) -> None:
    def run(code: str) -> float:
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples) * 1000

    bare = run("pass")
    core = run("import secretwire")
    print("import time (median of fresh interpreters)")
    extra = core - bare
    print(f"  python -c pass                  {bare:8.1f} ms")
    print(
        f"  python -c 'import secretwire'   {core:8.1f} ms  (+{extra:.1f} ms, {core / bare:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    bench_cached_get(args.rounds)
    bench_import(args.rounds)


if __name__ == "__main__":
    main()
