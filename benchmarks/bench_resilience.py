"""Resilience benchmarks against real servers: stale-on-error, negative caching,
refresh-ahead and deadlines.

Run:  python benchmarks/bench_resilience.py [--baseline] [--only NAME ...]

Starts dedicated OpenBao and moto servers on loopback (the fault-test launchers in
tests/servers/faults.py) and prints:

* outage: a reader resolves a hot set of 32 keys every 0.5 s through a 30 s outage
  (the server killed: connections refused). The 30 s pass on the cache's clock (a
  FakeClock advanced 0.5 s per round; the TTL is 10 s), so the run takes seconds,
  not 30 s; the server and the deadlines run on real time. Reads served (stale)
  against reads failed, with max_stale 900 (the default) and 0 (off), and wrong
  values (must be 0).
* negative caching: 1000 reads of ``${secret:missing/flag:-off}`` spread over 60 s
  of the cache's clock; backend calls with negative_ttl 10 (the default) and 0.
* refresh-ahead: 4 threads each read one of 16 hot keys every millisecond for 8 s of
  real time, TTL 0.25 s (short, so expiry happens often enough to show in a p99);
  read latency percentiles with refresh_ahead 0.8 (the default) and 0 (off).
* hung server: the server stopped (SIGSTOP); the time a manager with the default
  deadlines takes to fail a resolve of 16 uncached references, a get and a health
  check. ``--baseline`` adds the same with no deadlines (the behaviour before them:
  tens of seconds each).

Not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secretwire import ResolutionError, SecretManager  # noqa: E402
from secretwire.testing import FakeClock  # noqa: E402
from tests.servers.faults import Backend, aws_backend, vault_backend  # noqa: E402

BACKENDS: dict[str, Callable[[], Any]] = {
    "vault (OpenBao)": vault_backend,
    "aws (moto)": aws_backend,
}


def keys(count: int) -> list[str]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    return [f"{prefix}/key-{i:02d}" for i in range(count)]


def refs(names: list[str]) -> dict[str, str]:
    return {name: f"${{secret:{name}}}" for name in names}


def outage(backend: Backend) -> None:
    for max_stale in (900.0, 0.0):
        hot = keys(32)
        for name in hot:
            backend.write(name, f"v-{name}")
        clock = FakeClock()
        served = failed = wrong = 0
        manager = SecretManager(
            backend.provider(), timer=clock, cache_ttl=10, cache_max_stale=max_stale
        )
        with manager:
            manager.resolve(refs(hot))
            backend.kill()
            started = time.monotonic()
            for _ in range(60):  # 30 s, a round every 0.5 s
                clock.advance(0.5)
                try:
                    values = manager.resolve(refs(hot))
                except ResolutionError as err:
                    failed += len(err.failures)
                    served += len(hot) - len(err.failures)
                    continue
                served += len(values)
                wrong += sum(value != f"v-{name}" for name, value in values.items())
            seconds = time.monotonic() - started
            print(
                f"  outage 30 s, 32 hot keys, max_stale {max_stale:5g}: served {served:5d}"
                f" (stale {manager.metrics().stale_served:5d})  failed {failed:5d}"
                f"  wrong {wrong}  ({seconds:.1f} s real)"
            )
        backend.restart()


def negative(backend: Backend) -> None:
    for negative_ttl in (10.0, 0.0):
        clock = FakeClock()
        with SecretManager(
            backend.provider(), timer=clock, cache_negative_ttl=negative_ttl
        ) as manager:
            for _ in range(1000):
                assert manager.value("${secret:missing/flag:-off}").reveal() == "off"
                clock.advance(0.06)
            calls = manager.metrics().backend.calls
        print(f"  1000 reads of a :-default reference, negative_ttl {negative_ttl:4g}: "
              f"{calls:4d} backend calls")  # fmt: skip


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def refresh(backend: Backend, seconds: float = 8.0) -> None:
    hot = keys(16)
    for name in hot:
        backend.write(name, f"v-{name}")
    for ahead in (0.8, 0.0):
        with SecretManager(
            backend.provider(), cache_ttl=0.25, cache_refresh_ahead=ahead
        ) as manager:
            manager.resolve(refs(hot))
            loaded = manager.metrics().cache.misses  # type: ignore[union-attr]
            samples: list[list[float]] = [[] for _ in range(4)]
            stop = time.monotonic() + seconds

            def reader(out: list[float], seed: int, stop: float) -> None:
                pick = random.Random(seed).choice
                while time.monotonic() < stop:
                    name = pick(hot)
                    began = time.perf_counter()
                    manager.get(name)
                    out.append(time.perf_counter() - began)
                    time.sleep(0.001)

            threads = [
                threading.Thread(target=reader, args=(out, seed, stop))
                for seed, out in enumerate(samples)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            every = [sample * 1000 for out in samples for sample in out]
            waited = sum(sample > 1.0 for sample in every)
            metrics = manager.metrics()
            print(
                f"  refresh_ahead {ahead:3g}: {len(every):6d} reads  p50 "
                f"{statistics.median(every):6.3f} ms  p99 {percentile(every, 0.99):6.3f} ms  "
                f"p99.9 {percentile(every, 0.999):6.3f} ms  max {max(every):6.1f} ms  "
                f">1 ms: {waited:4d}  (misses {metrics.cache.misses - loaded:4d}, "  # type: ignore[union-attr]
                f"refreshes {metrics.refreshes})"
            )


def hung(backend: Backend, baseline: bool) -> None:
    names = keys(16)
    for name in names:
        backend.write(name, f"v-{name}")
    runs: list[tuple[str, float | None]] = [("deadlines 5 s / 2 s (default)", 5.0)]
    if baseline:
        runs.append(("no deadline (before)", None))
    for label, limit in runs:
        budgets = {"deadline": limit, "health_deadline": limit and 2.0}
        with SecretManager(backend.provider(), **budgets) as manager:
            manager.get(names[0])
            manager.clear_cache()
            with backend.hung():
                times = []
                for fn in (
                    lambda: manager.resolve(refs(names)),
                    lambda: manager.get(names[1]),
                ):
                    began = time.monotonic()
                    with contextlib.suppress(Exception):  # the failure is the point
                        fn()
                    times.append(time.monotonic() - began)
                health = manager.health()
            print(
                f"  hung server, {label}: resolve of 16 uncached refs failed in "
                f"{times[0]:5.2f} s, get in {times[1]:5.2f} s, health "
                f"{health.status.value} in {health.latency_seconds or 0:4.2f} s"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", action="store_true", help="also time a hung resolve "
                        "with no deadline (slow: tens of seconds per backend)")  # fmt: skip
    parser.add_argument("--only", nargs="*", default=["outage", "negative", "refresh", "hung"])
    args = parser.parse_args()
    # The outage warns once per secret (32 lines a run): counted above, not shown.
    logging.getLogger("secretwire").setLevel(logging.ERROR)
    for label, start in BACKENDS.items():
        print(label)
        with start() as backend:
            if "outage" in args.only:
                outage(backend)
            if "negative" in args.only:
                negative(backend)
            if "refresh" in args.only:
                refresh(backend)
            if "hung" in args.only:
                hung(backend, args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
