"""The audit mutation test: every single-byte change (each of the 8 bit flips of every
byte), every record deletion, every swap of two records, an inserted record (forged,
and a replayed copy) at every position, and every truncation point of a sample trail:
100 % detected by ``verify_trail`` (what ``secretwire audit verify`` runs)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from secretwire import SecretManager, SecretNotFound
from secretwire.governance import (
    AuditKey,
    AuditTrail,
    AuditTrailInvalid,
    FileSink,
    governance_layers,
    verify_stream,
    verify_trail,
)
from secretwire.governance.chain import GENESIS, Head, chain_lines
from secretwire.providers.memory import MemoryProvider

KEY, _ = AuditKey.generate()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A closed trail of 12 operations (hits, misses, a failure, writes), a checkpoint
    every 4 records and the final one."""
    path = tmp_path_factory.mktemp("trail") / "audit.jsonl"
    trail = AuditTrail([FileSink(path)], KEY, checkpoint_every=4)
    layers = governance_layers(None, trail, principal="alice", environment="test")
    with SecretManager(MemoryProvider({"db/pw": "v1"}), before_cache=layers) as m:
        for _ in range(3):
            m.get("db/pw")
        with pytest.raises(SecretNotFound):
            m.get("nope")
        m.set("db/pw", "v2")
        m.get("db/pw")
        m.versions("db/pw")
        m.list()
        m.get_many([("db/pw", None), ("db/pw", "1")])
        m.authorize("run", "db/pw")
        m.delete("db/pw")
    data = path.read_bytes()
    verify_trail(path, KEY)  # the original verifies
    return data


def detected(data: bytes) -> bool:
    try:
        verify_stream(io.BytesIO(data), KEY, source="mutant.jsonl")
    except AuditTrailInvalid as err:
        assert err.source == "mutant.jsonl" and err.line >= 1
        return True
    return False


def flips(data: bytes) -> Iterator[bytes]:
    for index, bit in itertools.product(range(len(data)), range(8)):
        yield data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1 :]


def deletions(lines: list[bytes]) -> Iterator[bytes]:
    for index in range(len(lines)):
        yield b"".join(lines[:index] + lines[index + 1 :])


def swaps(lines: list[bytes]) -> Iterator[bytes]:
    for i, j in itertools.combinations(range(len(lines)), 2):
        swapped = list(lines)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        yield b"".join(swapped)


def insertions(lines: list[bytes]) -> Iterator[bytes]:
    other, _ = AuditKey.generate()
    for index in range(len(lines) + 1):
        # a record MAC'd with another key, chained as if it belonged here
        head = Head(index, GENESIS)
        forged, _ = chain_lines([{"kind": "op", "op": "get", "name": "x"}], head, other)
        yield b"".join([*lines[:index], forged, *lines[index:]])
        for replayed in lines:  # a genuine record, copied to another place
            yield b"".join([*lines[:index], replayed, *lines[index:]])


def truncations(data: bytes) -> Iterator[bytes]:
    for length in range(len(data)):
        yield data[:length]


MUTATIONS: dict[str, Callable[[bytes], Iterator[bytes]]] = {
    "single-byte flip": flips,
    "record deletion": lambda data: deletions(data.splitlines(keepends=True)),
    "swap of two records": lambda data: swaps(data.splitlines(keepends=True)),
    "inserted record": lambda data: insertions(data.splitlines(keepends=True)),
    "truncation": truncations,
}


@pytest.mark.parametrize("kind", MUTATIONS)
def test_every_mutation_is_detected(
    kind: str, sample: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    mutants = [m for m in MUTATIONS[kind](sample) if m != sample]
    missed = [m for m in mutants if not detected(m)]
    with capsys.disabled():
        print(f"\n  {kind}: {len(mutants) - len(missed)}/{len(mutants)} detected", end="")
    assert mutants and not missed


def test_the_sample_has_records_checkpoints_and_a_seal(sample: bytes, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(sample)
    report = verify_trail(path, KEY)
    assert report.sealed and report.checkpoints >= 3 and report.records == len(sample.splitlines())
