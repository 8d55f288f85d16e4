"""Rotation hooks: ``apply`` changes the credential where it is used, ``verify``
proves the new value works (docs/rotation.md).

A hook is a Python callable (by entry point in the group ``secretwire.hooks`` or by
``module:attribute``) that receives one :class:`HookCall`, or a command that reads
the same as one JSON object on **stdin** (never in its arguments or environment).
A callable fails by raising or returning ``False``; a command by a non-zero exit.
Both are bounded by a timeout. A hook may run more than once with the same values
(a rerun after a crash), so it must be idempotent.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigError
from ..values import SecretValue
from ._loading import load_object
from .durations import parse_duration

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENTRY_POINT_GROUP",
    "CommandHook",
    "Hook",
    "HookCall",
    "HookFailure",
    "PythonHook",
    "hook_from_spec",
]

ENTRY_POINT_GROUP = "secretwire.hooks"
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class HookCall:
    """What a hook is given. ``old`` is the value being replaced (``None`` when there
    is none), ``new`` the value to put in place; on a revert (``revert=True``) the
    apply hook gets the rotation's new value as ``old`` and the previous one as
    ``new``. ``step`` is ``apply`` or ``verify``; ``rotation`` the rotation's id."""

    name: str
    step: str
    old: SecretValue | None
    new: SecretValue
    rotation: str
    revert: bool = False

    def as_json(self) -> SecretValue:
        """The JSON object a command reads on stdin, masked until it is written."""
        return SecretValue(
            json.dumps(
                {
                    "name": self.name,
                    "step": self.step,
                    "rotation": self.rotation,
                    "revert": self.revert,
                    "old": None if self.old is None else self.old.reveal(),
                    "new": self.new.reveal(),
                },
                ensure_ascii=False,
            )
            + "\n"
        )


class HookFailure(Exception):
    """A hook failed or timed out; the message never holds a value."""


@runtime_checkable
class Hook(Protocol):
    label: str
    timeout: float

    def run(self, call: HookCall) -> None:
        """Run the hook; raise :class:`HookFailure` if it failed."""


class PythonHook:
    """A callable, run in a worker thread bounded by ``timeout`` seconds (a callable
    that hangs is reported, and left behind: Python cannot stop a thread)."""

    def __init__(self, fn: Callable[[HookCall], object], *, label: str, timeout: float) -> None:
        self.fn, self.label, self.timeout = fn, label, timeout

    def run(self, call: HookCall) -> None:
        outcome: list[str] = []

        def target() -> None:
            try:
                result = self.fn(call)
            except Exception as err:  # noqa: BLE001 - its text may hold a value: type only
                outcome.append(f"raised {type(err).__name__}")
                return
            outcome.append("returned False" if result is False else "")

        worker = threading.Thread(target=target, name=f"secretwire-hook-{call.step}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise HookFailure(f"hook {self.label} timed out after {self.timeout:g} s")
        if outcome and outcome[0]:
            raise HookFailure(f"hook {self.label} {outcome[0]}")


class CommandHook:
    """A command (argv list, run in ``cwd``) that reads :meth:`HookCall.as_json` on
    stdin. Its stdout goes to stderr (a ``--json`` output stays clean); on timeout
    its whole process group is killed."""

    def __init__(self, argv: list[str], *, cwd: Path | None, label: str, timeout: float) -> None:
        self.argv, self.cwd, self.label, self.timeout = argv, cwd, label, timeout

    def run(self, call: HookCall) -> None:
        problem = None
        try:
            process = subprocess.Popen(  # noqa: S603 - the settings' own command, no shell
                self.argv,
                stdin=subprocess.PIPE,
                stdout=_stderr_fd(),
                cwd=self.cwd,
                start_new_session=True,
            )
        except OSError as err:
            problem = f"hook {self.label} could not start ({type(err).__name__}: {err.strerror})"
        if problem is not None:
            raise HookFailure(problem)
        code = _feed_and_wait(process, call.as_json(), self.timeout)
        if code is None:
            raise HookFailure(f"hook {self.label} timed out after {self.timeout:g} s (killed)")
        if code != 0:
            raise HookFailure(f"hook {self.label} exited with code {code}")


def _stderr_fd() -> int:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # captured or replaced stderr
        return subprocess.DEVNULL


def _feed_and_wait(
    process: subprocess.Popen[bytes], data: SecretValue, timeout: float
) -> int | None:
    """Write ``data`` to the process's stdin, close it, wait; ``None`` on timeout (the
    process group is killed). A command that exits without reading is fine."""
    assert process.stdin is not None  # noqa: S101 - opened with PIPE
    writer = threading.Thread(target=_write_all, args=(process.stdin, data), daemon=True)
    writer.start()
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None
    finally:
        writer.join(1)


def _write_all(stream: Any, data: SecretValue) -> None:
    with contextlib.suppress(OSError, ValueError):  # BrokenPipe: it did not read
        stream.write(data.reveal().encode("utf-8"))
    with contextlib.suppress(OSError, ValueError):
        stream.close()


_KINDS = ("python", "entry_point", "command")


def hook_from_spec(
    spec: object, *, base_dir: Path | None, source: str | None, key: str
) -> Hook | None:
    """The hook a settings entry describes: ``{python: module:function}``,
    ``{entry_point: name}`` or ``{command: [argv...] | "command line"}``, each with an
    optional ``timeout`` (``30s``; default 60 s). A callable (Python API) is used as
    is. ``None`` for no hook. Errors are :class:`ConfigError` naming ``key``."""
    if spec is None:
        return None
    if callable(spec):
        label = getattr(spec, "__qualname__", type(spec).__name__)
        return PythonHook(spec, label=label, timeout=DEFAULT_TIMEOUT)
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"must be a mapping with one of: {', '.join(_KINDS)}", source=source, key=key
        )
    kinds = [kind for kind in _KINDS if kind in spec]
    unknown = sorted(str(k) for k in spec if k not in (*_KINDS, "timeout"))
    if len(kinds) != 1 or unknown:
        raise ConfigError(
            f"needs exactly one of: {', '.join(_KINDS)} (and an optional timeout)"
            + (f"; unknown key {unknown[0]!r}" if unknown else ""),
            source=source,
            key=key,
        )
    timeout = DEFAULT_TIMEOUT
    if "timeout" in spec:
        timeout = parse_duration(
            spec["timeout"], source=source, key=f"{key}.timeout"
        ).total_seconds()
    kind, target = kinds[0], spec[kinds[0]]
    if kind == "command":
        argv = shlex.split(target) if isinstance(target, str) else target
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise ConfigError(
                "command must be a command line or a list of strings",
                source=source,
                key=f"{key}.command",
            )
        label = f"command {shlex.join(argv)[:80]!r}"
        return CommandHook(argv, cwd=base_dir, label=label, timeout=timeout)
    if not isinstance(target, str) or not target:
        raise ConfigError(f"{kind} must name a callable", source=source, key=f"{key}.{kind}")
    if kind == "python" and ":" not in target:
        raise ConfigError("python must be module:function", source=source, key=f"{key}.python")
    fn = load_object(
        target, group=ENTRY_POINT_GROUP, what="hook", source=source, key=f"{key}.{kind}"
    )
    if not callable(fn):
        raise ConfigError(f"hook {target!r} is not callable", source=source, key=f"{key}.{kind}")
    return PythonHook(fn, label=f"{target!r}", timeout=timeout)
