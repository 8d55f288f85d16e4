"""A TCP proxy on loopback that adds a fixed delay to every request.

Used by bench_perf.py for the "+5 ms per request" rows: the client talks to the
proxy, the proxy to the real server. Each accepted connection gets its own upstream
connection and two forwarding threads. Before it forwards the first bytes a client
sends after the server's last reply (the start of a request, on a kept-alive
connection as on a new one), the client-to-server thread sleeps ``delay`` seconds.
The rest of a request (a body sent in a second write) and every reply pass at once,
so one HTTP round trip costs one delay however the client splits its writes.
Connections are independent: concurrent requests on separate connections overlap
their delays, as they would against a remote server.

    with DelayProxy(("127.0.0.1", 8200), delay=0.005) as proxy:   # in this process
        url = proxy.url  # http://127.0.0.1:<port>

    with spawned(("127.0.0.1", 8200), delay=0.005) as url:  # in a process of its own
        ...

Run alone (what :func:`spawned` does): ``python delay_proxy.py HOST PORT DELAY``
prints the proxy's URL, then serves until its standard input closes. A benchmark
uses the separate process, so the proxy's threads do not take the measured
process's GIL, as a network would not.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from types import TracebackType

CHUNK = 65536


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket, delay: float) -> None:
        self.client = client
        self.upstream = upstream
        self.delay = delay
        self.request_starts = True  # the next client bytes begin a request

    def start(self) -> None:
        for target in (self._client_to_server, self._server_to_client):
            threading.Thread(target=target, daemon=True).start()

    def _client_to_server(self) -> None:
        try:
            while data := self.client.recv(CHUNK):
                if self.request_starts:
                    self.request_starts = False
                    time.sleep(self.delay)
                self.upstream.sendall(data)
        except OSError:
            pass
        finally:
            self._shut(self.upstream)

    def _server_to_client(self) -> None:
        try:
            while data := self.upstream.recv(CHUNK):
                self.request_starts = True  # a reply: the client's next bytes are a new request
                self.client.sendall(data)
        except OSError:
            pass
        finally:
            self._shut(self.client)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)


class DelayProxy:
    """Forward ``127.0.0.1:<port>`` to ``target``, ``delay`` seconds added per request."""

    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target = target
        self.delay = delay
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._links: list[_Link] = []
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, upstream, self.delay)
            self._links.append(link)
            link.start()

    @property
    def connections(self) -> int:
        """Client connections accepted so far."""
        return len(self._links)

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self._listener.close()
        for link in self._links:
            for sock in (link.client, link.upstream):
                with contextlib.suppress(OSError):
                    sock.close()


@contextlib.contextmanager
def spawned(target: tuple[str, int], delay: float) -> Iterator[str]:
    """A :class:`DelayProxy` in a child process; yields its URL, stops it on exit."""
    child = subprocess.Popen(
        [sys.executable, __file__, target[0], str(target[1]), str(delay)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the delay proxy did not start (exit code {child.poll()})")
        yield url
    finally:
        assert child.stdin is not None
        child.stdin.close()  # the child's cue to stop
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _serve(host: str, port: str, delay: str) -> None:
    with DelayProxy((host, int(port)), float(delay)) as proxy:
        print(proxy.url, flush=True)
        sys.stdin.read()  # until the parent closes the pipe


if __name__ == "__main__":
    _serve(*sys.argv[1:4])
