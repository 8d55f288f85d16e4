"""OmegaConf adapter: the cost of one plain read of a node, against a bare resolver.

Run:  python benchmarks/bench_omegaconf.py [--rounds N] [--reads N]

Each figure is the median over rounds (default 5, bare and adapter interleaved) of
the mean cost of one read (default 500 reads per round) of a node:

- a single-secret node (``pw: ${secret:db/password}``);
- a 2-secret string (``url: pg://${secret:db/user}:${secret:db/password}@h``);
- a node read through another node (``alias: ${pw}``);
- no secret (``path: ${host}/x``; the resolver is not called).

"bare" is a resolver that only fetches through the same manager (cached) and returns
the value: what OmegaConf itself costs. Not a test: the figures depend on the machine;
the ratios compare like with like.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import time
from collections.abc import Callable

import omegaconf
from omegaconf import OmegaConf

from secretwire import SecretManager, as_reference, reference_value
from secretwire.adapters import omegaconf as adapter
from secretwire.providers.memory import MemoryProvider

CASES = {
    "single-secret node": ("pw", "${S:db/password}"),
    "2-secret string": ("url", "pg://${S:db/user}:${S:db/password}@h"),
    "node through a node": ("alias", "${pw}"),
    "no secret": ("path", "${host}/x"),
}


def per_read_us(read: Callable[[], object], reads: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(reads):
        read()
    return (time.perf_counter_ns() - start) / reads / 1000


def config(name: str) -> object:
    values = {"host": "h", "pw": "${S:db/password}"}
    values.update(dict(CASES.values()))
    return OmegaConf.create({k: v.replace("${S:", "${" + name + ":") for k, v in values.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reads", type=int, default=500)
    args = parser.parse_args()
    manager = SecretManager(MemoryProvider({"db/password": "pw-1", "db/user": "app"}))

    def bare(name: str) -> str:
        ref = as_reference(name)
        return reference_value(ref, manager.get_many([ref.key])[ref.key])[0]

    if "use_cache" in inspect.signature(OmegaConf.register_resolver).parameters:
        OmegaConf.register_resolver("bare", bare, use_cache=False)
    else:
        OmegaConf.register_new_resolver("bare", bare, use_cache=False)
    adapter.register(manager)
    plain, guarded = config("bare"), config("secret")
    print(f"OmegaConf {omegaconf.__version__}: one read, us (median of {args.rounds}x{args.reads})")
    print(f"  {'case':<22} {'bare':>8} {'adapter':>8}  ratio")
    samples: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label in CASES}
    for _ in range(args.rounds):  # rounds interleaved: drift on a busy machine hits both
        for label, (key, _) in CASES.items():
            assert plain[key] == guarded[key]  # the same read
            samples[label][0].append(per_read_us(lambda key=key: plain[key], args.reads))
            samples[label][1].append(per_read_us(lambda key=key: guarded[key], args.reads))
    for label, (bare_us, adapter_us) in samples.items():
        base, cost = statistics.median(bare_us), statistics.median(adapter_us)
        print(f"  {label:<22} {base:8.1f} {cost:8.1f}  {cost / base:4.1f}x")
    adapter.unregister()
    manager.close()


if __name__ == "__main__":
    main()
