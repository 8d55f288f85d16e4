"""Fleet benchmark: N processes start at once and resolve the same references from
OpenBao, without and with the shared L2 cache in Redis.

Run:  python benchmarks/bench_fleet.py [--workers 16] [--refs 200] [--rounds 20]

Starts an OpenBao dev server with a file audit device and a Redis server on loopback
(the test launchers in tests/servers/), writes ``--refs`` secrets, then for each of
"no L2" and "L2":

* launches ``--workers`` processes at once; each builds a manager from a settings
  file (Vault provider, and for the second run an ``l2:`` on the Redis), waits at a
  barrier, then resolves every reference;
* backend reads: the audit log's read requests for the benchmark's secrets during
  the run (every reference read by any process, as the server saw it);
* wall time from the barrier to the last process having resolved everything, and
  from the launch (interpreter start, imports and settings included);

then, with the L2 workers still running, ``--rounds`` writes of one secret each
from this process: every worker reads the secret in a loop (1 ms apart) until it
sees the new value; the delay from the write's return to each worker seeing it
(pub/sub message, cache dropped, re-read through Redis and OpenBao), p50/p99/max.

Not a test: figures depend on the machine and its load (2 cores here, shared by
the N workers, OpenBao and Redis).
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tests.servers.openbao import openbao  # noqa: E402
from tests.servers.redis import redis_dedicated  # noqa: E402


def _settings(folder: Path, bao_url: str, l2: dict[str, Any] | None) -> Path:
    env: dict[str, Any] = {
        "provider": "vault",
        "options": {"url": bao_url, "token_env": "BENCH_BAO_TOKEN"},
    }
    if l2 is not None:
        env["l2"] = l2
    path = folder / ("l2.yaml" if l2 else "plain.yaml")
    path.write_text(yaml.safe_dump({"environments": {"prod": env}}))
    return path


def _worker(
    settings: str,
    names: list[str],
    go: Any,
    ready: Any,
    results: Any,
    rounds: Any,
    finals: Any,
    watch: bool,
) -> None:
    from secretwire import SecretManager

    manager = SecretManager.from_settings(settings, environment="prod")
    tree = {name: f"${{secret:{name}}}" for name in names}
    results.put({"built": os.getpid()})
    go.wait()
    resolved = manager.resolve(tree)
    done = time.time()
    ok = all(resolved[name] == f"value-{name}" for name in names)
    results.put({"done": done, "ok": ok, "pid": os.getpid()})
    seen: list[float] = []
    if watch:
        ready.wait()
        while True:
            item = rounds.get()
            if item is None:
                break
            name, expected = item
            until = time.monotonic() + 10
            while manager.get(name).reveal() != expected and time.monotonic() < until:
                time.sleep(0.001)
            seen.append(time.time())
    finals.put({"seen": seen, "l2": _l2(manager)})
    manager.close()


def _l2(manager: Any) -> dict[str, int] | None:
    stats = manager.metrics().l2
    if stats is None:
        return None
    counts = ("hits", "locks", "waits", "waited_hits", "fallbacks", "invalidation_delay_max")
    return {k: getattr(stats, k) for k in counts}


def _audit_reads(log: Path, prefix: str, start: int) -> tuple[int, int]:
    """(read requests for ``prefix`` secrets, and all requests for them) in the audit
    log from byte ``start``."""
    reads = every = 0
    with log.open("rb") as handle:
        handle.seek(start)
        for line in handle:
            record = json.loads(line)
            if record.get("type") != "response":
                continue
            request = record.get("request", {})
            if prefix in request.get("path", ""):
                every += 1
                reads += request.get("operation") == "read"
    return reads, every


def _run(
    label: str,
    settings: Path,
    names: list[str],
    workers: int,
    log: Path,
    prefix: str,
    rounds: int,
    write: Any,
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    go, ready = ctx.Event(), ctx.Event()
    results, finished = ctx.Queue(), ctx.Queue()
    queue = [ctx.Queue() for _ in range(workers)]
    start_byte = log.stat().st_size
    launched = time.time()
    procs = [
        ctx.Process(
            target=_worker,
            args=(str(settings), names, go, ready, results, queue[i], finished, rounds > 0),
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:  # each has built its manager and waits at the barrier
        results.get(timeout=120)
    started = time.time()
    go.set()
    done = [results.get(timeout=120) for _ in procs]
    reads, every = _audit_reads(log, prefix, start_byte)
    writes: list[float] = []
    if rounds:
        ready.set()
        time.sleep(0.5)  # every subscriber listening
        for r in range(rounds):
            name = names[r % len(names)]
            expected = f"new-{r}-{uuid.uuid4().hex[:6]}"
            for q in queue:  # each worker reads it in a loop until it sees the new value
                q.put((name, expected))
            time.sleep(0.05)
            write(name, expected)
            writes.append(time.time())
            time.sleep(0.2)
    for q in queue:
        q.put(None)
    finals = [finished.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
    lags = [max(0.0, seen - writes[i]) for final in finals for i, seen in enumerate(final["seen"])]
    stats = [final["l2"] for final in finals if final["l2"]]
    return {
        "label": label,
        "ok": all(d["ok"] for d in done),
        "reads": reads,
        "requests": every,
        "wall": max(d["done"] for d in done) - started,
        "wall_from_launch": max(d["done"] for d in done) - launched,
        "lags": lags,
        "l2": {k: (max if k.endswith("max") else sum)(s[k] for s in stats) for k in stats[0]}
        if stats
        else None,
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--refs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    key_file = folder / "l2.key"
    key_file.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
    key_file.chmod(0o600)
    audit = 'audit "file" "fleet" {\n  options {\n    file_path = "{workdir}/audit.log"\n  }\n}\n'
    with (
        openbao("openbao-fleet", config=audit) as bao,
        redis_dedicated("redis-fleet") as (redis, _),
    ):
        log = bao.workdir / "audit.log"
        os.environ["BENCH_BAO_TOKEN"] = bao.root_token
        prefix = f"fleet-{uuid.uuid4().hex[:8]}"
        names = [f"{prefix}/svc-{i:03d}" for i in range(args.refs)]
        client = bao.client()
        for name in names:
            client.secrets.kv.v2.create_or_update_secret(
                path=name, secret={"value": f"value-{name}"}
            )

        def write(name: str, value: str) -> None:
            client.secrets.kv.v2.create_or_update_secret(path=name, secret={"value": value})

        from secretwire import SecretManager

        plain = _settings(folder, bao.url, None)
        l2 = {"url": redis.url, "key_file": str(key_file), "prefix": f"{prefix}:"}
        with_l2 = _settings(folder, bao.url, l2)
        writer = SecretManager.from_settings(with_l2, environment="prod")

        def write_through(name: str, value: str) -> None:
            writer.set(name, value)

        runs = [
            _run("no L2", plain, names, args.workers, log, prefix, 0, write),
            _run("L2", with_l2, names, args.workers, log, prefix, args.rounds, write_through),
        ]
        writer.close()
    print(f"fleet: {args.workers} processes x {args.refs} references, OpenBao + Redis on loopback")
    print(
        f"{'':8} {'backend reads':>14} {'/ distinct':>11} {'all ready':>10} {'from launch':>12}  ok"
    )
    for run in runs:
        print(
            f"{run['label']:8} {run['reads']:>14} {run['reads'] / args.refs:>10.2f}x "
            f"{run['wall']:>9.2f}s {run['wall_from_launch']:>11.2f}s  {run['ok']}"
        )
    l2run = runs[1]
    counters = dict(l2run["l2"])
    delivery = counters.pop("invalidation_delay_max")
    print(f"L2 counters (all workers): {counters}")
    print(f"pub/sub delivery (publish to a worker's subscriber), max: {delivery * 1000:.1f} ms")
    lags = l2run["lags"]
    if lags:
        print(
            f"invalidation delay over {len(lags)} (worker, write) pairs: "
            f"p50 {statistics.median(lags) * 1000:.1f} ms, p99 {_pct(lags, 0.99) * 1000:.1f} ms, "
            f"max {max(lags) * 1000:.1f} ms"
        )
    goal = l2run["reads"] <= 1.1 * args.refs
    print(f"goal: backend reads with L2 <= 1.1 x {args.refs}: {'met' if goal else 'MISSED'}")


if __name__ == "__main__":
    main()
