"""Masking benchmark: the cost of filtering one 1 KB log line with 1,000 served values.

Run:  python benchmarks/bench_masking.py [--values N] [--rounds N]

Prints, for each matcher engine (pyahocorasick's Aho-Corasick automaton when it is
installed, the pure-Python trie-shaped regular expression always), what a
``RedactingFilter`` costs per record on a 1 KB line without a value and with two
(raw and base64), what building the matcher costs, and the same for a single
longest-first alternation (what the redactor did before, kept here as the yardstick).
Then the cost of registering the values one at a time with a log line between each,
and the throughput of the stream masker ``secretwire run`` puts on a child's output.
Not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import base64
import logging
import re
import secrets
import statistics
import time

from secretwire import SecretManager
from secretwire.masking import (
    ByteStreamMasker,
    RedactingFilter,
    Redactor,
    aho_available,
    encoded_forms,
)
from secretwire.providers.memory import MemoryProvider

WORDS = [
    "GET",
    "/api/v1/orders",
    "status=200",
    "user=alice",
    "took=12ms",
    "trace=4bf92f3577b34da6",
    "ok",
]


def log_line(rng: secrets.SystemRandom, extra: str = "") -> str:
    words: list[str] = []
    while sum(map(len, words)) + len(words) < 1024 - len(extra):
        words.append(rng.choice(WORDS))
    line = " ".join(words)
    half = len(line) // 2
    return (line[:half] + extra + line[half:])[:1024]


def per_record_us(masking: logging.Filter, message: str, rounds: int, calls: int = 2000) -> float:
    """Median over rounds of the mean cost of filtering one fresh record, in µs."""
    results = []
    for _ in range(rounds):
        records = [
            logging.LogRecord("app", logging.INFO, __file__, 1, "%s", (message,), None)
            for _ in range(calls)
        ]
        start = time.perf_counter()
        for record in records:
            masking.filter(record)
        results.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(results)


class _Alternation(logging.Filter):
    """The yardstick: one regular expression alternating every form, longest first."""

    def __init__(self, forms: list[str]) -> None:
        super().__init__()
        ordered = sorted(forms, key=lambda item: (-len(item), item))
        self.pattern = re.compile("|".join(map(re.escape, ordered)))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.pattern.search(message):
            record.msg, record.args = self.pattern.sub("**********", message), None
        return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--values", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = secrets.SystemRandom()
    values = {f"app/secret-{n:04d}": secrets.token_urlsafe(24) for n in range(args.values)}
    with SecretManager(MemoryProvider(values)) as manager:
        manager.get_many([(name, None) for name in values])  # served: registered
        served = len(manager.redactor)
    sample = list(values.values())[7]
    clean = log_line(rng)
    dirty = log_line(rng, f" pw={sample} auth={base64.b64encode(sample.encode()).decode()} ")
    forms = sorted({form for value in values.values() for form in encoded_forms(value)})
    print(f"{served} served values, {len(forms)} forms (raw, json, base64 x3 offsets, url, hex)")
    print(f"1 KB log line: {len(clean)} characters; with two values: {len(dirty)}")
    print("per record (median of rounds)          no value     two values    build")
    engines = ["aho", "regex"] if aho_available() else ["regex"]
    if not aho_available():
        print("  (pyahocorasick not installed: pip install 'secretwire[fast-masking]')")
    for engine in engines:
        redactor = Redactor(engine=engine)
        for value in values.values():
            redactor.add(value)
        start = time.perf_counter()
        redactor.matcher()
        build_ms = (time.perf_counter() - start) * 1e3
        masking = RedactingFilter(redactor)
        c, d = (per_record_us(masking, line, args.rounds) for line in (clean, dirty))
        label = f"RedactingFilter, {engine}"
        print(f"  {label:<35}{c:9.1f} µs   {d:7.1f} µs  {build_ms:6.0f} ms")
    start = time.perf_counter()
    yardstick = _Alternation(forms)
    build_ms = (time.perf_counter() - start) * 1e3
    c, d = (per_record_us(yardstick, line, args.rounds, calls=200) for line in (clean, dirty))
    print(f"  one alternation (the old redactor) {c:9.1f} µs   {d:7.1f} µs  {build_ms:6.0f} ms")
    bench_registration(list(values.values()), engines, clean)
    bench_stream(list(values.values()), dirty, sample)


def bench_registration(values: list[str], engines: list[str], clean: str) -> None:
    for engine in engines:
        redactor = Redactor(engine=engine)
        masking = RedactingFilter(redactor)
        start = time.perf_counter()
        for value in values:
            redactor.add(value)
            masking.filter(logging.LogRecord("app", 20, __file__, 1, clean, None, None))
        total = time.perf_counter() - start
        print(
            f"registering {len(values)} values one at a time, a line between each ({engine}): "
            f"{total:.2f} s in all"
        )


def bench_stream(values: list[str], dirty: str, sample: str) -> None:
    redactor = Redactor()
    for value in values:
        redactor.add(value)
    redactor.matcher()  # built before the clock starts
    data = (dirty + "\n").encode() * 256
    for size in (65536, 1):
        masker = ByteStreamMasker(redactor)
        chunks = [data[at : at + size] for at in range(0, len(data), size)]
        start = time.perf_counter()
        out = b"".join(masker.feed(chunk) for chunk in chunks) + masker.flush()
        seconds = time.perf_counter() - start
        assert sample.encode() not in out
        print(f"stream masker, {size:>5}-byte writes: {len(data) / seconds / 1e6:6.2f} MB/s")


if __name__ == "__main__":
    main()
