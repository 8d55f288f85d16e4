"""The audit trail: what a record holds (never a value), hits, hashed names, the sinks,
several writers on one file, failing closed (0 values served) or open, settings and
the ``audit`` commands."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from secretwire import ConfigError, SecretManager, SecretNotFound, load_settings
from secretwire.cli import main
from secretwire.governance import (
    AuditKey,
    AuditTrail,
    AuditTrailInvalid,
    AuditUnavailable,
    FileSink,
    LoggingSink,
    Sink,
    StreamSink,
    SyslogSink,
    governance_layers,
    verify_stream,
    verify_trail,
)
from secretwire.pipeline import cache_key
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY, assert_no_leak

KEY, KEY_TEXT = AuditKey.generate()
ROOT = Path(__file__).resolve().parents[2]


def audited(
    sinks: list[Sink], *, secrets: dict[str, str] | None = None, **options: Any
) -> tuple[SecretManager, MemoryProvider]:
    manager_options = {"cache": options.pop("cache", True)}
    trail = AuditTrail(sinks, KEY, **options)
    layers = governance_layers(None, trail, principal="alice", environment="test")
    provider = MemoryProvider(secrets if secrets is not None else {"db/pw": CANARY})
    return SecretManager(provider, before_cache=layers, **manager_options), provider


def records(path: Path, *, allow_open: bool = False) -> list[dict[str, Any]]:
    verify_trail(path, KEY, allow_open=allow_open)
    return [json.loads(line) for line in path.read_text().splitlines()]


def ops(path: Path) -> list[dict[str, Any]]:
    return [r for r in records(path) if r["kind"] == "op"]


# -- what a record holds ----------------------------------------------------------------------


def test_every_operation_is_recorded_with_hits_and_never_a_value(tmp_path: Path) -> None:
    trail = tmp_path / "audit.jsonl"
    m, _ = audited([FileSink(trail)])
    with m:
        m.get("db/pw")
        m.get("db/pw")
        m.value("db/pw")
        with pytest.raises(SecretNotFound):
            m.get("nope")
        m.set("db/pw", CANARY + "-2")
        m.versions("db/pw")
        m.list("db/")
        m.authorize("rotate", "db/pw")
        m.delete("db/pw")
    assert CANARY not in trail.read_text()
    seen = [(r["op"], r["name"], r["outcome"], r["cache"], r["version"]) for r in ops(trail)]
    assert seen == [
        ("get", "db/pw", "ok", False, "1"),
        ("get", "db/pw", "ok", True, "1"),
        ("get", "db/pw", "ok", True, "1"),  # value() reads in a batch: a hit
        ("get", "nope", "SecretNotFound", False, None),
        ("set", "db/pw", "ok", None, "2"),
        ("versions", "db/pw", "ok", None, None),
        ("list", "db/", "ok", None, None),
        ("rotate", "db/pw", "allowed", None, None),
        ("delete", "db/pw", "ok", None, None),
    ]
    first = ops(trail)[0]
    assert {first["principal"], first["env"], first["kind"]} == {"alice", "test", "op"}
    assert isinstance(first["latency_us"], int) and first["ts"].endswith("Z")


def test_a_batch_records_each_key_with_its_own_hit(tmp_path: Path) -> None:
    trail = tmp_path / "audit.jsonl"
    m, provider = audited([FileSink(trail)], secrets={"a": "1", "b": "2"})
    with m:
        m.get("a")
        m.resolve({"x": "${secret:a}", "y": "${secret:b}", "z": "${secret:c:-none}"})
    hits = {(r["name"], r["cache"], r["outcome"]) for r in ops(trail)[1:]}
    assert hits == {("a", True, "ok"), ("b", False, "ok"), ("c", False, "SecretNotFound")}
    assert provider.calls["get"] == 3


def read_twice(trail: Path, **options: Any) -> list[dict[str, Any]]:
    m, _ = audited([FileSink(trail)], **options)
    with m:
        m.get("db/pw")
        m.get("db/pw")
    return ops(trail)


def test_without_a_cache_hits_are_not_claimed(tmp_path: Path) -> None:
    assert [r["cache"] for r in read_twice(tmp_path / "a.jsonl", cache=False)] == [None, None]


def test_hashed_names_hide_names_but_stay_comparable(tmp_path: Path) -> None:
    trail = tmp_path / "audit.jsonl"
    names = [r["name"] for r in read_twice(trail, hash_names=True)]
    assert names[0] == names[1] == KEY.name("db/pw") and names[0].startswith("hmac:")
    assert "db/pw" not in trail.read_text()
    other, _ = AuditKey.generate()
    assert other.name("db/pw") != names[0]


# -- sinks -------------------------------------------------------------------------------------


def test_stream_sink_writes_a_verifiable_trail(capsys: pytest.CaptureFixture[str]) -> None:
    m, _ = audited([StreamSink("stderr")])
    with m:
        m.get("db/pw")
    err = capsys.readouterr().err
    report = verify_stream(io.BytesIO(err.encode()), KEY, source="stderr")
    assert report.sealed and report.records == 2


def test_logging_sink(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="secretwire.audit")
    m, _ = audited([LoggingSink("secretwire.audit")])
    with m:
        m.get("db/pw")
    lines = [r.getMessage() for r in caplog.records if r.name == "secretwire.audit"]
    assert json.loads(lines[0])["op"] == "get" and json.loads(lines[-1])["final"] is True
    verify_stream(io.BytesIO("".join(f"{line}\n" for line in lines).encode()), KEY)


@pytest.mark.parametrize("family", ["udp", "unix"])
def test_syslog_sink_sends_one_datagram_per_record(family: str, tmp_path: Path) -> None:
    if family == "udp":
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("127.0.0.1", 0))
        address = f"udp://127.0.0.1:{server.getsockname()[1]}"
    else:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        address = str(tmp_path / "log.sock")
        server.bind(address)
    server.settimeout(5)
    with server:
        m, _ = audited([SyslogSink(address)])
        with m:
            m.get("db/pw")
        datagrams = [server.recv(65536) for _ in range(2)]
    assert all(d.startswith(b"<86>secretwire-audit: {") for d in datagrams)
    lines = b"".join(d[len(SyslogSink.PREFIX) :] + b"\n" for d in datagrams)
    assert verify_stream(io.BytesIO(lines), KEY).sealed


WRITER = """
import sys
from secretwire import SecretManager
from secretwire.governance import AuditKey, AuditTrail, FileSink, governance_layers
from secretwire.providers.memory import MemoryProvider
from pathlib import Path
key = AuditKey.from_text(sys.argv[2])
trail = AuditTrail([FileSink(Path(sys.argv[1]))], key, checkpoint_every=50)
layers = governance_layers(None, trail, principal=sys.argv[3], environment="test")
with SecretManager(MemoryProvider({"a": "1"}), before_cache=layers) as m:
    for _ in range(300):
        m.get("a")
"""


def test_several_processes_append_to_one_chain(tmp_path: Path) -> None:
    trail = tmp_path / "audit.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(trail), KEY_TEXT, f"p{i}"], env=env)
        for i in range(3)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    report = verify_trail(trail, KEY)  # one unbroken chain, sealed by the last writer
    assert report.sealed
    by_principal = [r["principal"] for r in records(trail) if r["kind"] == "op"]
    assert sorted(set(by_principal)) == ["p0", "p1", "p2"] and len(by_principal) == 900


def test_concurrent_threads_share_commits(tmp_path: Path) -> None:
    class CountingSink(FileSink):  # a real file sink that counts its appends
        commits = 0

        def commit(self, build: Any) -> None:
            CountingSink.commits += 1
            super().commit(build)

    trail = tmp_path / "audit.jsonl"
    m, _ = audited([CountingSink(trail)], checkpoint_every=10_000)
    m.get("db/pw")

    def reader() -> None:
        for _ in range(300):
            m.get("db/pw")

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    m.close()
    assert len(ops(trail)) == 1 + 8 * 300
    assert CountingSink.commits <= 2 + 8 * 300  # never more than one append per record


# -- failing closed, failing open ---------------------------------------------------------------

needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")


@needs_dev_full
@pytest.mark.parametrize("cached", [False, True], ids=["uncached", "cached"])
def test_a_failing_sink_serves_no_value(cached: bool) -> None:
    """/dev/full refuses every write (ENOSPC): a real sink failure."""
    m, provider = audited([FileSink(Path("/dev/full"))])
    if cached:
        assert m._cache is not None
        m._cache.get_or_load(cache_key("db/pw", None), lambda: provider.get("db/pw"))
    served = 0
    reads = [
        lambda: m.get("db/pw"),
        lambda: m.get_many([("db/pw", None)]),
        lambda: m.value("db/pw"),
        lambda: m.resolve({"x": "${secret:db/pw}"}),
        lambda: m.set("db/pw", CANARY),
    ]
    for read in reads * 20:
        try:
            result = read()
        except AuditUnavailable as err:
            assert_no_leak(err, CANARY)
            assert "file /dev/full" in str(err) and "No space left" in str(err)
            continue
        served += 1 if CANARY in repr(result) or result else 0
    assert served == 0
    with pytest.raises(AuditUnavailable):
        m.close()


@needs_dev_full
def test_fail_open_serves_and_says_so_loudly(caplog: pytest.LogCaptureFixture) -> None:
    m, _ = audited([FileSink(Path("/dev/full"))], fail_open=True)
    with m:
        assert m.get("db/pw").reveal() == CANARY
    loud = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "AUDIT RECORDS LOST" in loud[0].getMessage()
    assert "UNAUDITED" in loud[0].getMessage()


def test_a_trail_ending_in_half_a_record_is_not_appended_to(tmp_path: Path) -> None:
    trail = tmp_path / "audit.jsonl"
    trail.write_bytes(b'{"kind":"op","seq":1')
    m, _ = audited([FileSink(trail)])
    with pytest.raises(AuditUnavailable, match="ends with an incomplete record"):
        m.get("db/pw")


# -- settings and keys --------------------------------------------------------------------------

SETTINGS = """\
environments:
  dev:
    provider: memory
    options: {secrets: {db/pw: v}}
audit:
  sinks: [{file: logs/audit.jsonl}]
  key_file: audit.key
"""


def test_settings_build_the_audit_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "secretwire.yaml").write_text(SETTINGS)
    assert main(["audit", "keygen", str(tmp_path / "audit.key")]) == 0
    assert (tmp_path / "audit.key").stat().st_mode & 0o777 == 0o600
    config = ["--config", str(tmp_path / "secretwire.yaml")]
    assert main([*config, "get", "db/pw"]) == 0
    assert capsys.readouterr().out == "v"
    trail = tmp_path / "logs" / "audit.jsonl"
    assert main([*config, "audit", "verify", str(trail)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {trail}: 2 record(s), 1 checkpoint(s), sealed")
    data = bytearray(trail.read_bytes())
    data[30] ^= 1
    trail.write_bytes(bytes(data))
    assert main([*config, "audit", "verify", str(trail)]) == 1
    assert f"error: {trail}:1: " in capsys.readouterr().err
    assert main(["audit", "keygen", str(tmp_path / "audit.key")]) == 1  # never overwritten


def test_audit_verify_open_trail_and_key_from_a_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = tmp_path / "audit.jsonl"
    m, _ = audited([FileSink(trail)])
    m.get("db/pw")  # not closed: no final checkpoint yet
    monkeypatch.setenv("AUDIT_KEY", KEY_TEXT)
    assert main(["audit", "verify", str(trail), "--key-env", "AUDIT_KEY"]) == 1
    assert "ends without a final checkpoint" in capsys.readouterr().err
    assert main(["audit", "verify", str(trail), "--key-env", "AUDIT_KEY", "--open"]) == 0
    assert "open (no final checkpoint yet)" in capsys.readouterr().out
    m.close()


@pytest.mark.parametrize(
    ("audit", "key", "line", "reason"),
    [
        ("sinks: [{fil: x}]", "audit.sinks[0].fil", 6, "unknown key"),
        ("sinks: [syslg]", "audit.sinks[0]", 6, "unknown sink 'syslg'"),
        ("sinks: [{syslog: 'udp://h:x'}]", "audit.sinks[0].syslog", 6, "udp://HOST:PORT"),
        ("sinks: [stderr]\n  sync: sometimes", "audit.sync", 7, "must be one of"),
        ("sinks: [stderr]\n  key_env: 'NOT A NAME'", "audit.key_env", 7, "variable name"),
    ],
)
def test_bad_audit_settings_name_file_line_and_key(
    tmp_path: Path, audit: str, key: str, line: int, reason: str
) -> None:
    text = SETTINGS.replace("sinks: [{file: logs/audit.jsonl}]\n  key_file: audit.key", audit)
    if "key_" not in audit:
        text += "  key_env: AUDIT_KEY\n"
    path = tmp_path / "secretwire.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert (info.value.key, info.value.line) == (key, line)
    assert reason in info.value.reason and str(info.value).startswith(f"{path}:{line}: ")


def test_key_problems_are_config_errors_without_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secretwire.yaml"
    path.write_text(SETTINGS)
    key_file = tmp_path / "audit.key"
    key_file.write_text(KEY_TEXT)
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match="lets others read it") as info:
        SecretManager.from_settings(path)
    assert (info.value.key, info.value.line) == ("audit.key_file", 7)
    key_file.chmod(0o600)
    key_file.write_text(KEY_TEXT[:-4])
    with pytest.raises(ConfigError, match="not an audit key") as info:
        SecretManager.from_settings(path)
    assert_no_leak(info.value, KEY_TEXT[:-4])
    path.write_text(SETTINGS.replace("key_file: audit.key", "key_env: AUDIT_KEY"))
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    with pytest.raises(ConfigError, match="audit key variable AUDIT_KEY is not set"):
        SecretManager.from_settings(path)
    monkeypatch.setenv("AUDIT_KEY", KEY_TEXT)
    with SecretManager.from_settings(path) as m:
        assert m.get("db/pw").reveal() == "v"


def test_audit_key_shows_nothing() -> None:
    assert repr(KEY) == f"<AuditKey kid={KEY.kid}>" and KEY_TEXT not in repr(KEY)
    with pytest.raises(TypeError):
        __import__("pickle").dumps(KEY)
    assert textwrap.dedent(KEY_TEXT) == KEY_TEXT


def test_verify_refuses_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(AuditTrailInvalid, match="empty"):
        verify_trail(empty, KEY)
