"""Start, wait for and stop a server process. Its log stays in ``.cache/server-logs``
(overwritten by the next run); a failed session prints where."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Downloads the servers need (jars), reused between runs; CI may cache it.
CACHE_DIR = Path(os.environ.get("SECRETWIRE_TEST_CACHE", ROOT / ".cache" / "test-servers"))
LOG_DIR = ROOT / ".cache" / "server-logs"


class ServerStartError(RuntimeError):
    """A test server did not start or never became ready."""


def free_port() -> int:
    """A TCP port free on loopback right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def executable(name: str) -> str:
    """Find ``name`` next to the running Python (the venv's bin) or on PATH."""
    import sys

    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise ServerStartError(f"{name!r} is not installed (pip install -e '.[test]' provides it)")
    return found


@dataclass
class ServerProcess:
    name: str
    url: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    extra: dict[str, object] = field(default_factory=dict)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_server(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    url: str,
    ready: Callable[[], bool],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 90.0,
) -> ServerProcess:
    """Start ``command``, logging to ``LOG_DIR/<name>.log``; return once ``ready()`` is true."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        list(command),
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        start_new_session=True,
    )
    log.close()
    server = ServerProcess(name, url, port, log_path, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(
                f"{name} exited with code {process.returncode} before it was ready; "
                f"log {log_path}:\n{server.log_tail()}"
            )
        with contextlib.suppress(Exception):
            if ready():
                return server
        time.sleep(0.2)
    server.stop()
    raise ServerStartError(
        f"{name} was not ready after {timeout:.0f} s; log {log_path}:\n{server.log_tail()}"
    )


def unavailable(name: str, error: BaseException) -> NoReturn:
    """Fail (default, and always in CI) or skip (opt-in) when a server cannot start."""
    message = f"test server {name} could not start: {error}"
    if os.environ.get("SECRETWIRE_TEST_SERVERS") == "optional" and not os.environ.get("CI"):
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


@contextlib.contextmanager
def running(
    name: str, starter: Callable[[], ServerProcess], attempts: int = 3
) -> Iterator[ServerProcess]:
    """Start a server (retrying a lost free-port race), yield it, always stop it."""
    last: BaseException | None = None
    for _ in range(attempts):
        try:
            server = starter()
            break
        except ServerStartError as err:
            last = err
    else:
        assert last is not None
        unavailable(name, last)
    try:
        yield server
    finally:
        server.stop()
