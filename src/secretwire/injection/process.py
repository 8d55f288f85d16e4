"""Running the child: its environment, files or stdin, masked output, signals, exit status.

No frame here keeps a value in clear on an error path: the child's environment is
built in the call that starts it, the payload for stdin stays a
:class:`~secretwire.SecretValue` until the thread that writes it reveals it, and a
failure to start the command is raised after those frames are gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import IO, BinaryIO

from ..dotenv import format_dotenv
from ..errors import ConfigError
from ..masking import ByteStreamMasker, Redactor
from ..values import SecretValue
from .template import Variable

__all__ = ["MODES", "STDIN_FORMATS", "RunOptions", "RunResult", "run"]

MODES = ("env", "files", "stdin")
STDIN_FORMATS = ("json", "dotenv", "shell")
#: Signals passed on to the child (SIGINT and SIGQUIT only when they did not come
#: from the terminal, which sends them to the child itself).
FORWARDED = ("SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH")
FROM_TERMINAL = ("SIGINT", "SIGQUIT", "SIGWINCH")
#: Set in the child's environment in ``files`` mode: the private folder.
DIR_VARIABLE = "SECRETWIRE_SECRETS_DIR"
#: Memory, not disk: the private folder goes there when it exists (it is 0700).
_SHM = "/dev/shm"  # noqa: S108


@dataclass(frozen=True)
class RunOptions:
    """``mode``: secrets as environment variables (``env``), as files (``files``: each
    in a file of a private folder, its path in ``KEY_FILE``) or on stdin (``stdin``,
    written as ``stdin_format``). ``mask``: stream the child's stdout and stderr
    through a masker. ``files_root``: where the private folder is made (default:
    ``/dev/shm`` when it exists, else the system's temporary folder)."""

    mode: str = "env"
    stdin_format: str = "json"
    mask: bool = True
    files_root: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown mode {self.mode!r}; known: {', '.join(MODES)}")
        if self.stdin_format not in STDIN_FORMATS:
            raise ConfigError(f"unknown stdin format; known: {', '.join(STDIN_FORMATS)}")


@dataclass
class RunResult:
    """``returncode``: the child's exit code, or ``-N`` when signal N ended it.
    ``dropped``: inherited variables left out of its environment because they held a
    value (``files`` and ``stdin`` modes). ``folder``: the private folder (removed)."""

    returncode: int
    dropped: list[str] = field(default_factory=list)
    folder: str | None = None


def run(
    command: Sequence[str],
    variables: Sequence[Variable],
    redactor: Redactor,
    options: RunOptions | None = None,
    *,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
    notice: Callable[[str], None] | None = None,
) -> RunResult:
    """Run ``command`` with ``variables`` injected; masks its output with ``redactor``
    (whose values are the ones served); returns when it has exited and every file
    made for it is removed (on a signal too). ``notice`` gets the name of each
    inherited variable left out of the child's environment before it starts."""
    if not command:
        raise ConfigError("run needs a command: secretwire run [OPTIONS] -- COMMAND [ARGS...]")
    options = options or RunOptions()
    result = RunResult(0)
    secrets = [v for v in variables if v.secret]
    plain = {v.key: v.value.reveal() for v in variables if not v.secret}
    inline = options.mode == "env"
    try:
        extra: dict[str, str] = {}
        if options.mode == "files":
            result.folder = _private_folder(options.files_root)
            extra = _write_files(result.folder, secrets)
        payload = _payload(variables, options.stdin_format) if options.mode == "stdin" else None
        started = _start(
            command,
            _environment(plain, extra, secrets if inline else [], redactor, result.dropped),
            stdin=payload is not None,
            mask=options.mask,
        )
        if isinstance(started, str):
            raise ConfigError(started)
        for key in result.dropped:
            if notice is not None:
                notice(key)
        result.returncode = _supervise(
            started,
            payload,
            redactor if options.mask else None,
            stdout or sys.stdout.buffer,
            stderr or sys.stderr.buffer,
        )
    finally:
        if result.folder is not None:
            shutil.rmtree(result.folder, ignore_errors=True)
    return result


def _environment(
    plain: Mapping[str, str],
    extra: Mapping[str, str],
    inline: Sequence[Variable],
    redactor: Redactor,
    dropped: list[str],
) -> dict[str, str]:
    """The child's environment: ours, less any variable that holds a served value
    unless the values go into the environment anyway; then the template's."""
    env = dict(os.environ)
    if not inline:
        for key in [key for key, text in env.items() if redactor.may_contain(text)]:
            del env[key]
            dropped.append(key)
    env.update(plain)
    env.update(extra)
    env.update({v.key: v.value.reveal() for v in inline})
    return env


def _private_folder(root: str | None) -> str:
    if root is None and os.path.isdir(_SHM) and os.access(_SHM, os.W_OK):
        root = _SHM
    folder = tempfile.mkdtemp(prefix="secretwire-", dir=root)
    os.chmod(folder, 0o700)
    return folder


def _write_files(folder: str, secrets: Sequence[Variable]) -> dict[str, str]:
    """Each value in ``folder/KEY`` (0600); returns ``KEY_FILE`` -> path, and the folder."""
    paths = {DIR_VARIABLE: folder}
    for variable in secrets:
        path = os.path.join(folder, variable.key)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(variable.value.reveal().encode("utf-8", "surrogateescape"))
        paths[f"{variable.key}_FILE"] = path
    return paths


def _payload(variables: Sequence[Variable], style: str) -> SecretValue:
    pairs = [(v.key, v.value.reveal()) for v in variables]
    if style == "json":
        return SecretValue(json.dumps(dict(pairs), ensure_ascii=False) + "\n")
    return SecretValue(format_dotenv(pairs, style=style))


def _start(
    command: Sequence[str], env: dict[str, str], *, stdin: bool, mask: bool
) -> subprocess.Popen[bytes] | str:
    """The started child, or why it could not start (its environment is not kept in
    any frame an error could show)."""
    pipe = subprocess.PIPE if mask else None
    try:
        return subprocess.Popen(  # noqa: S603 - the user's own command, no shell
            list(command),
            env=env,
            stdin=subprocess.PIPE if stdin else None,
            stdout=pipe,
            stderr=pipe,
        )
    except OSError as err:
        reason = err.strerror or type(err).__name__
    env.clear()
    return f"cannot run {command[0]!r}: {reason}"


def _supervise(
    child: subprocess.Popen[bytes],
    payload: SecretValue | None,
    redactor: Redactor | None,
    stdout: BinaryIO,
    stderr: BinaryIO,
) -> int:
    threads = []
    if payload is not None and child.stdin is not None:
        threads.append(threading.Thread(target=_feed, args=(child.stdin, payload), daemon=True))
    if redactor is not None and child.stdout is not None and child.stderr is not None:
        for pipe, sink in ((child.stdout, stdout), (child.stderr, stderr)):
            masker = ByteStreamMasker(redactor)
            threads.append(threading.Thread(target=_pump, args=(pipe, sink, masker), daemon=True))
    for thread in threads:
        thread.start()
    with _forwarding(child):
        code = child.wait()
    for thread in threads:
        thread.join()
    return code


def _feed(pipe: IO[bytes], payload: SecretValue) -> None:
    with contextlib.suppress(BrokenPipeError, OSError):  # the child need not read it all
        pipe.write(payload.reveal().encode("utf-8", "surrogateescape"))
    with contextlib.suppress(OSError):
        pipe.close()


def _pump(pipe: IO[bytes], sink: BinaryIO, masker: ByteStreamMasker) -> None:
    """Copy the child's ``pipe`` to ``sink`` through ``masker`` until the end; once
    ``sink`` is closed (``| head``), keep reading so the child is never blocked."""
    fd = pipe.fileno()
    open_sink = True
    while True:
        chunk = os.read(fd, 65536)
        data = masker.feed(chunk) if chunk else masker.flush()
        if data and open_sink:
            try:
                sink.write(data)
                sink.flush()
            except (BrokenPipeError, OSError, ValueError):
                open_sink = False
        if not chunk:
            break
    pipe.close()


@contextlib.contextmanager
def _forwarding(child: subprocess.Popen[bytes]) -> Iterator[None]:
    """Pass the signals in :data:`FORWARDED` on to ``child`` while it runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from_terminal = _terminal_signals_reach_child()
    numbers = [getattr(signal, name) for name in FORWARDED if hasattr(signal, name)]
    skipped = {getattr(signal, n) for n in FROM_TERMINAL if hasattr(signal, n)}

    def forward(signum: int, frame: FrameType | None) -> None:
        if from_terminal and signum in skipped:
            return  # the terminal sent it to the child's process group too
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    previous = {number: signal.signal(number, forward) for number in numbers}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _terminal_signals_reach_child() -> bool:
    """Whether our process group is the terminal's foreground group: then Ctrl-C
    reaches the child (same group) without us."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)
