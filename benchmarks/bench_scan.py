"""Leak scan benchmark: scanning speed with keyed fingerprints of 1,000 values.

Run:  python benchmarks/bench_scan.py [--values N] [--megabytes N]

Prints the cost of fingerprinting the values (every form of each: raw, JSON,
base64/base64url at three offsets, URL, hex), the scanning throughput over text
without a value and with a value every 4 KB, and the number of planted values found.
Not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import time

from secretwire import SecretValue
from secretwire.leakscan import Fingerprints


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--values", type=int, default=1000)
    parser.add_argument("--megabytes", type=float, default=2.0)
    args = parser.parse_args()
    values = [secrets.token_urlsafe(24) for _ in range(args.values)]
    start = time.perf_counter()
    fingerprints = Fingerprints()
    for number, value in enumerate(values):
        fingerprints.add(f"app/secret-{number}", SecretValue(value))
    built = time.perf_counter() - start
    print(f"{fingerprints!r}: built in {built * 1e3:.0f} ms")
    line = b"2026-11-30 12:00:00 INFO GET /api/v1/orders status=200 took=12ms ok\n"
    size = int(args.megabytes * 1024 * 1024)
    clean = (line * (size // len(line) + 1))[:size]
    planted = bytearray()
    count = 0
    while len(planted) < size:
        value = values[count % len(values)].encode()
        form = value if count % 2 else base64.b64encode(b"user:" + value)
        planted += line * 60 + b"token=" + form + b"\n"
        count += 1
    for label, data in (("no value", clean), ("a value every 4 KB", bytes(planted))):
        start = time.perf_counter()
        found = sum(1 for _ in fingerprints.scan(data))
        seconds = time.perf_counter() - start
        print(
            f"scan, {label:<20} {len(data) / seconds / 1e6:6.2f} MB/s "
            f"({len(data) / 1e6:.1f} MB in {seconds:.2f} s), {found} found"
            + (f" of {count} planted" if found else "")
        )


if __name__ == "__main__":
    main()
