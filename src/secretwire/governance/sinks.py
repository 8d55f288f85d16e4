"""Where audit records go: a file, stdout or stderr, Python logging, syslog.

Each sink keeps the head of its own chain and appends, in ``commit(build)``, the
lines ``build(head)`` returns after it. A sink raises (``OSError``, or ``ValueError``
with a value-free message) when it cannot record; the trail turns that into
:class:`~secretwire.governance.AuditUnavailable`.

The file sink serves several processes at once: under an exclusive lock it reads
the head from the file's last line whenever the file changed since its own last
write, so the chain goes on through every writer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from ..security.files import lock_fd, unlock_fd
from .chain import MAX_LINE, Head, head_of

__all__ = ["FileSink", "LoggingSink", "Sink", "StreamSink", "SyslogSink"]

Build = Callable[[Head], tuple[bytes, Head]]


class Sink(ABC):
    """One destination of the trail. ``name`` says which in errors (``file x.jsonl``)."""

    name: str

    @abstractmethod
    def commit(self, build: Build) -> None:
        """Append ``build(head)``'s lines after this sink's chain head."""

    def sync(self) -> None:  # noqa: B027 - most sinks have nothing to flush to disk
        """Make what was committed durable (``fsync``), where that means something."""

    def close(self) -> None:  # noqa: B027 - most sinks hold nothing
        """Release what the sink holds."""


class FileSink(Sink):
    """JSON lines appended to a file (created 0600), shared safely between processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"file {path}"
        self._fd: int | None = None
        self._size = -1
        self._head = Head()

    def _open(self) -> int:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
        self._fd = os.open(self.path, flags, 0o600)
        return self._fd

    def commit(self, build: Build) -> None:
        fd = self._fd if self._fd is not None else self._open()
        lock_fd(fd)
        try:
            size = os.fstat(fd).st_size
            head = self._head if size == self._size else self._read_head(fd, size)
            data, head = build(head)
            try:
                _write_all(fd, data)
            except OSError:
                self._size = -1
                _undo(fd, size)  # a half-written line would stop every later writer
                raise
            self._head, self._size = head, size + len(data)
        finally:
            unlock_fd(fd)

    def _read_head(self, fd: int, size: int) -> Head:
        if size == 0:
            return Head()
        start = max(0, size - MAX_LINE - 1)
        os.lseek(fd, start, os.SEEK_SET)
        tail = os.read(fd, size - start)
        if not tail.endswith(b"\n"):
            raise ValueError(
                "it ends with an incomplete record (a crash during a write?): check it with "
                "`secretwire audit verify --open` and remove the incomplete last line"
            )
        line = tail[tail.rfind(b"\n", 0, len(tail) - 1) + 1 : -1]
        try:
            return head_of(line)
        except ValueError:
            raise ValueError(
                "its last line is no audit record: append to a trail secretwire wrote"
            ) from None

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _undo(fd: int, size: int) -> None:
    with contextlib.suppress(OSError):  # else the next writer finds the line and refuses
        os.ftruncate(fd, size)


class _ChainInMemory(Sink):
    """A sink that cannot be read back: the head lives in this process (a trail per
    process, starting from the genesis)."""

    def __init__(self) -> None:
        self._head = Head()

    def commit(self, build: Build) -> None:
        data, head = build(self._head)
        self._emit(data)
        self._head = head

    @abstractmethod
    def _emit(self, data: bytes) -> None: ...


class StreamSink(_ChainInMemory):
    """JSON lines on ``sys.stdout`` or ``sys.stderr`` (looked up at each write)."""

    def __init__(self, which: str) -> None:
        super().__init__()
        if which not in ("stdout", "stderr"):
            raise ValueError(f"no stream {which!r}")
        self.which = which
        self.name = which

    def _emit(self, data: bytes) -> None:
        stream = getattr(sys, self.which)
        stream.write(data.decode("ascii"))
        stream.flush()


class LoggingSink(_ChainInMemory):
    """One log record per line on a Python logger. ``logging`` reports a handler's
    failure to itself (``Handler.handleError``), so this sink cannot fail closed."""

    def __init__(self, logger: str = "secretwire.audit", level: int = logging.INFO) -> None:
        super().__init__()
        self.logger = logging.getLogger(logger)
        self.level = level
        self.name = f"logging {logger}"

    def _emit(self, data: bytes) -> None:
        for line in data.decode("ascii").splitlines():
            self.logger.log(self.level, "%s", line)


class SyslogSink(_ChainInMemory):
    """One datagram per line to syslog: a Unix socket (``/dev/log``) or UDP
    (``udp://host:514``; UDP cannot tell a lost datagram, so it cannot fail closed).
    Facility ``authpriv``, severity ``info``: ``<86>secretwire-audit: {json}``."""

    PREFIX = b"<86>secretwire-audit: "

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address
        self.name = f"syslog {address}"
        self._socket: socket.socket | None = None

    def _connect(self) -> socket.socket:
        if self.address.startswith("udp://"):
            host, _, port = self.address[len("udp://") :].rpartition(":")
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.connect((host.strip("[]") or "127.0.0.1", int(port)))
        else:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                sock.connect(self.address)
            except OSError:
                sock.close()
                raise
        self._socket = sock
        return sock

    def _emit(self, data: bytes) -> None:
        sock = self._socket if self._socket is not None else self._connect()
        for line in data.splitlines():
            sock.send(self.PREFIX + line)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
