"""Moving secrets: ``import`` from a ``.env`` file, ``export``, ``copy`` between environments.

:func:`transfer` is the one loop behind ``import`` and ``copy``: for each name it
skips what exists at the destination (unless ``overwrite``), reads, writes, and
records the outcome; a failure does not stop the others, and an interruption
(Ctrl-C) stops before the next name. The :class:`TransferReport` then says exactly
what was done: written, skipped, failed, the name in flight when it was interrupted
(whose write may or may not have happened) and the names not attempted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .dotenv import env_key, format_dotenv
from .errors import ConfigError, SecretwireError, reason_of
from .manager import SecretManager
from .values import MASK, SecretValue

__all__ = ["EXPORT_FORMATS", "TransferReport", "export_text", "transfer"]

EXPORT_FORMATS = ("dotenv", "json", "shell")


@dataclass
class TransferReport:
    """What :func:`transfer` did (see the module docstring); names only, never a value."""

    total: int
    dry_run: bool = False
    written: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    in_flight: str | None = None
    not_attempted: list[str] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        return self.in_flight is not None or bool(self.not_attempted)

    def lines(self, verb: str) -> list[str]:
        """One line per name, then a summary; ``verb`` is ``imported`` or ``copied``."""
        done = f"would be {verb}" if self.dry_run else verb
        out = [f"{done}: {name}" for name in self.written]
        out += [f"skipped: {name} ({why})" for name, why in self.skipped]
        out += [f"failed: {name}: {why}" for name, why in self.failed]
        if self.in_flight is not None:
            out.append(f"interrupted while writing {self.in_flight}: it may or may not be written")
        out += [f"not attempted: {name}" for name in self.not_attempted]
        summary = (
            f"{len(self.written)} {done}, {len(self.skipped)} skipped, {len(self.failed)} failed"
        )
        if self.interrupted:
            summary += f", interrupted with {len(self.not_attempted)} not attempted"
        return [*out, f"{summary} (of {self.total})"]


def transfer(
    names: Sequence[str],
    *,
    existing: set[str],
    read: Callable[[str], SecretValue],
    write: Callable[[str, SecretValue], object],
    overwrite: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> TransferReport:
    """Write each of ``names`` (read with ``read``, written with ``write``); see the
    module docstring. ``progress(done, total, name)`` is called before each name."""
    report = TransferReport(len(names), dry_run)
    for index, name in enumerate(names):
        try:
            if progress is not None:
                progress(index, len(names), name)
            if name in existing and not overwrite:
                report.skipped.append((name, "exists; --overwrite replaces it"))
                continue
            if not dry_run:
                value = read(name)
                report.in_flight = name
                write(name, value)
                report.in_flight = None
            report.written.append(name)
        except KeyboardInterrupt:
            report.not_attempted = list(names[index + 1 :])
            if report.in_flight is None:
                report.not_attempted.insert(0, name)
            break
        except SecretwireError as err:
            report.in_flight = None
            report.failed.append((name, reason_of(err)))
    if progress is not None:
        progress(len(names), len(names), "")
    return report


def export_text(manager: SecretManager, prefix: str, style: str, *, reveal: bool) -> str:
    """The current value of every secret under ``prefix`` as ``dotenv``, ``json`` or
    ``shell`` text; each value is :data:`~secretwire.MASK` unless ``reveal`` (then the
    values are read: the one place an authorization for ``export`` belongs)."""
    if style not in EXPORT_FORMATS:
        raise ConfigError(f"unknown format; known: {', '.join(EXPORT_FORMATS)}")
    names = manager.list(prefix)
    if style != "json":
        keys: dict[str, str] = {}
        for name in names:
            other = keys.setdefault(env_key(name), name)
            if other != name:
                raise ConfigError(
                    f"secrets {other!r} and {name!r} both become {env_key(name)}; "
                    "export them separately (a narrower PREFIX) or as json"
                )
    if reveal:  # every name first: a refusal leaves nothing half-printed
        for name in names:
            manager.authorize("export", name)
    values = (
        {name: manager.get(name).reveal() for name in names}
        if reveal
        else dict.fromkeys(names, MASK)
    )
    if style == "json":
        return json.dumps(values, indent=2, ensure_ascii=False) + "\n"
    return format_dotenv(((env_key(n), v) for n, v in values.items()), style=style)
