"""Backend benchmarks: secretwire against the raw SDK on the same real server.

Run:  python benchmarks/bench_backends.py [--calls N] [--refs N]

Starts its own OpenBao dev server and moto server on loopback (the same launchers
the tests use), then prints for each backend:

* uncached get: the median latency of one ``SecretManager.get`` with the cache off,
  against the raw SDK call (hvac ``read_secret_version``, boto3 ``get_secret_value``),
  and the ratio;
* cold resolve: the time to resolve a config holding N distinct references with an
  empty cache (secretwire batches and fetches concurrently), against reading the N
  secrets one by one with the raw SDK, and the ratio.

A third line repeats the cold resolve with one worker. On loopback with the server
on the same 2 cores, a Vault read is CPU-bound on both sides, so 8 workers gain
little over one; against a remote server the per-read latency overlaps instead.
AWS reads go through BatchGetSecretValue (20 names a call).

Not a test: figures depend on the machine and its load. Ratios compare like with
like (same server, same process, same minute). Azure Key Vault is not measured:
no Key Vault emulator runs here (see docs/providers/azure.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secretwire import SecretManager, SecretProvider, get_provider_class  # noqa: E402


def median_ms(fn: Callable[[], object], calls: int) -> float:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def once_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def report(backend: str, provider: SecretProvider, raw_get: Callable[[str], object], args) -> None:  # type: ignore[no-untyped-def]
    prefix = f"bench-{os.getpid()}-{time.time_ns() % 10**6}"
    names = [f"{prefix}/ref-{i:03d}" for i in range(args.refs)]
    for name in names:
        provider.set(name, f"value-{name}")
    one = names[0]
    uncached = SecretManager(provider, cache=False)
    # warm both paths (connections, auth, mount detection) before timing
    uncached.get(one)
    raw_get(one)
    sw_ms = median_ms(lambda: uncached.get(one), args.calls)
    raw_ms = median_ms(lambda: raw_get(one), args.calls)
    config = {"refs": {f"k{i}": f"${{secret:{name}}}" for i, name in enumerate(names)}}
    cold = SecretManager(provider)  # a fresh, empty cache
    resolve_ms = once_ms(lambda: cold.resolve(config))
    serial = SecretManager(provider, max_workers=1)  # the same, fetching one at a time
    serial_ms = once_ms(lambda: serial.resolve(config))
    loop_ms = once_ms(lambda: [raw_get(name) for name in names])
    print(f"{backend}")
    print(
        f"  uncached get        secretwire {sw_ms:8.2f} ms   raw SDK {raw_ms:8.2f} ms"
        f"   ratio {sw_ms / raw_ms:5.2f}x  (median of {args.calls})"
    )
    print(
        f"  cold resolve {len(names):3d} refs secretwire {resolve_ms:8.1f} ms   raw SDK one by one"
        f" {loop_ms:8.1f} ms   ratio {resolve_ms / loop_ms:5.2f}x"
    )
    print(
        f"  (cold resolve with max_workers=1: {serial_ms:8.1f} ms, "
        f"ratio {serial_ms / loop_ms:5.2f}x raw)"
    )
    for name in names:
        provider.delete(name)


@contextmanager
def vault() -> Iterator[tuple[SecretProvider, Callable[[str], object]]]:
    from tests.servers.openbao import openbao

    with openbao("bench-openbao") as server:
        provider = get_provider_class("vault").from_options(
            {"url": server.url, "token_env": "BENCH_VAULT_TOKEN"}, base_dir=ROOT
        )
        os.environ["BENCH_VAULT_TOKEN"] = server.root_token
        client = server.client()

        def raw(name: str) -> Any:
            return client.secrets.kv.v2.read_secret_version(
                path=name, mount_point="secret", raise_on_deleted_version=True
            )

        yield provider, raw
        provider.close()


@contextmanager
def aws() -> Iterator[tuple[SecretProvider, Callable[[str], object]]]:
    import boto3

    from tests.servers.harness import running
    from tests.servers.moto import FAKE_KEYS, REGION, _start

    with running("bench-moto", lambda: _start("bench-moto")) as server:
        os.environ["AWS_ACCESS_KEY_ID"] = FAKE_KEYS["aws_access_key_id"]
        os.environ["AWS_SECRET_ACCESS_KEY"] = FAKE_KEYS["aws_secret_access_key"]
        provider = get_provider_class("aws").from_options(
            {"region": REGION, "endpoint_url": server.url, "force_delete_without_recovery": True},
            base_dir=ROOT,
        )
        client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=server.url)

        def raw(name: str) -> Any:
            return client.get_secret_value(SecretId=name)

        yield provider, raw
        provider.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="gets timed per backend")
    parser.add_argument("--refs", type=int, default=200, help="references in the cold config")
    args = parser.parse_args()
    for backend, open_backend in (("vault (OpenBao dev server)", vault), ("aws (moto)", aws)):
        with open_backend() as (provider, raw):
            report(backend, provider, raw, args)
    print("azure: not measured (no Key Vault emulator runs on this machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
