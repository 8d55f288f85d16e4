"""Outages on demand: hang (SIGSTOP), kill and restart a dedicated test server
(:class:`Breakable`; Redis's: ``tests/servers/redis.py``).

:func:`vault_backend` and :func:`aws_backend` start a dedicated OpenBao or moto
server (never the session ones: the tests break these) and give a :class:`Backend`:
a provider factory, a writer that is another client (its own provider instance),
and ``hung()``, ``kill()``, ``restart()``. A hung server still accepts connections
(the kernel does) but never answers, like a wedged process or a black-holed
network. A restart keeps the port (and OpenBao's root token); both servers keep
their data in memory, so a restarted one is empty: write again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from secretwire import SecretProvider
from tests.servers.harness import ServerProcess, running
from tests.servers.moto import REGION, fake_session
from tests.servers.moto import _start as start_moto
from tests.servers.openbao import _start as start_openbao
from tests.servers.openbao import openbao


def stop_process(pid: int, timeout: float = 5.0) -> None:
    """SIGSTOP ``pid`` and wait until the kernel shows every thread of it stopped.

    The stop is asynchronous: until each thread has taken it, a thread still running
    (Go's scheduler spins threads looking for work) can answer a request sent right
    after ``kill`` returns. Without ``/proc`` (not Linux) the signal alone is sent."""
    os.kill(pid, signal.SIGSTOP)
    tasks = Path(f"/proc/{pid}/task")
    if not tasks.is_dir():
        return
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        states = []
        for task in tasks.iterdir():
            with contextlib.suppress(OSError):  # a thread that just ended
                # "pid (comm) S ...": the state follows the last parenthesis
                states.append((task / "stat").read_text().rpartition(")")[2].split()[0])
        if states and all(state in "Tt" for state in states):
            return
        time.sleep(0.002)
    raise AssertionError(f"process {pid} did not stop within {timeout} s of SIGSTOP")


@dataclass(kw_only=True)
class Breakable:
    """A dedicated server process and how to break it (a backend's, or Redis's)."""

    name: str
    process: ServerProcess
    #: starts the server again on the given port
    start: Callable[[int], ServerProcess]
    #: every process started here after the first (stopped on exit)
    restarted: list[ServerProcess] = field(default_factory=list)
    paused: bool = False

    @contextlib.contextmanager
    def hung(self) -> Iterator[None]:
        """The server stopped (SIGSTOP) inside the block, continued after it."""
        stop_process(self.process.process.pid)
        self.paused = True
        try:
            yield
        finally:
            os.kill(self.process.process.pid, signal.SIGCONT)
            self.paused = False

    def kill(self) -> None:
        """Kill the server (SIGKILL): connections are refused until :meth:`restart`."""
        self.process.process.kill()
        self.process.process.wait(timeout=15)

    def restart(self) -> None:
        """Start the server again on the same port (empty)."""
        self.process = self.start(self.process.port)
        self.restarted.append(self.process)

    def close(self) -> None:
        if self.paused:
            os.kill(self.process.process.pid, signal.SIGCONT)
        for process in self.restarted:
            process.stop()


@dataclass(kw_only=True)
class Backend(Breakable):
    """One dedicated backend server and how to break it."""

    #: a new provider for the server (``**options`` go to its constructor)
    provider: Callable[..., SecretProvider]

    def write(self, name: str, value: str) -> None:
        """Write through another client (a provider instance of its own)."""
        writer = self.provider()
        try:
            writer.set(name, value)
        finally:
            writer.close()


@contextlib.contextmanager
def vault_backend() -> Iterator[Backend]:
    from secretwire.providers.vault import VaultProvider

    with openbao("openbao-outage") as bao:

        def start(port: int) -> ServerProcess:
            process, _, _ = start_openbao(
                "openbao-outage",
                tls=False,
                workdir=bao.workdir,
                port=port,
                root_token=bao.root_token,
            )
            return process

        def provider(**options: object) -> SecretProvider:
            return VaultProvider(bao.url, token=bao.root_token, **options)  # type: ignore[arg-type]

        backend = Backend(name="vault", process=bao.process, start=start, provider=provider)
        try:
            yield backend
        finally:
            backend.close()


@contextlib.contextmanager
def aws_backend() -> Iterator[Backend]:
    from secretwire.providers.aws import AwsSecretsManagerProvider

    with running("moto-outage", lambda: start_moto("moto-outage")) as server:

        def provider(**options: object) -> SecretProvider:
            return AwsSecretsManagerProvider(
                endpoint_url=server.url,
                region=REGION,
                session=fake_session(),
                **options,  # type: ignore[arg-type]
            )

        backend = Backend(
            name="aws",
            process=server,
            start=lambda port: start_moto("moto-outage", port),
            provider=provider,
        )
        try:
            yield backend
        finally:
            backend.close()
