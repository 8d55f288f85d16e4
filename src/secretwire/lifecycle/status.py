"""``secretwire status`` and the inventory half of ``secretwire check``: one row per
declared secret, read through a manager (names, versions and times; a value is read
only to validate it, and never shown)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .. import _time
from ..errors import (
    ConfigError,
    ProviderError,
    SecretExpired,
    SecretNotFound,
    UnsupportedOperation,
    reason_of,
)
from ..types import Secret, SecretVersion
from .durations import format_age
from .inventory import Declared, Inventory
from .record import last_rotated, unfinished_rotation

__all__ = ["Reader", "StatusRow", "due_names", "inventory_status", "load_problems"]


class Reader(Protocol):
    """What status reads through (a :class:`~secretwire.SecretManager`)."""

    def get(self, name: str, *, version: str | None = None) -> Secret: ...

    def versions(self, name: str) -> list[SecretVersion]: ...

    def list(self, prefix: str = "") -> list[str]: ...


@dataclass(frozen=True)
class StatusRow:
    """One declared secret (or a glob's problem). ``expiry``: ``ok``, ``warning``
    (inside ``warn_before_expiry``), ``expired`` or ``none``; ``validation`` the rules
    the value breaks; ``unfinished`` an unfinished rotation's id (then it is due)."""

    name: str
    key: str
    required: bool
    exists: bool
    version: str | None = None
    created_at: datetime | None = None
    last_rotated: datetime | None = None
    next_due: datetime | None = None
    due: bool = False
    unfinished: str | None = None
    expires_at: datetime | None = None
    expiry: str = "none"
    validation: tuple[str, ...] = ()
    problem: str | None = None
    now: datetime = field(default_factory=_time.utcnow, repr=False, compare=False)

    @property
    def failures(self) -> list[str]:
        """What ``check`` reports for this row (names and rules, never a value)."""
        out = [] if self.problem is None else [self.problem]
        if self.required and not self.exists and self.problem is None:
            out.append(f"required secret {self.name!r} does not exist")
        if self.expiry == "expired":
            out.append(f"secret {self.name!r} expired")
        out += [f"secret {self.name!r} fails validation rule {rule}" for rule in self.validation]
        return out

    @property
    def age(self) -> str:
        return "-" if self.created_at is None else format_age(self.now - self.created_at)

    def as_dict(self) -> dict[str, Any]:
        def when(moment: datetime | None) -> str | None:
            return None if moment is None else _time.isoformat(moment)

        return {
            "name": self.name,
            "key": self.key,
            "required": self.required,
            "exists": self.exists,
            "version": self.version,
            "created_at": when(self.created_at),
            "age_seconds": None
            if self.created_at is None
            else int((self.now - self.created_at).total_seconds()),
            "last_rotated": when(self.last_rotated),
            "next_due": when(self.next_due),
            "due": self.due,
            "unfinished_rotation": self.unfinished,
            "expires_at": when(self.expires_at),
            "expiry": self.expiry,
            "validation": list(self.validation),
            "problem": self.problem,
            "ok": not self.failures,
        }


def inventory_status(
    reader: Reader, inventory: Inventory, *, now: datetime | None = None
) -> list[StatusRow]:
    """A row per declared name (a glob: per name it matches, or one row saying it
    matches nothing), in the order of the settings."""
    now = now or _time.utcnow()
    rows: list[StatusRow] = []
    for entry in inventory.entries:
        if not entry.is_glob:
            rows.append(_row(reader, entry, entry.pattern, now))
            continue
        prefix = re.split(r"[*?\[]", entry.pattern, maxsplit=1)[0]
        try:
            names = [name for name in reader.list(prefix) if entry.matches(name)]
        except ProviderError as err:
            rows.append(
                _problem(entry, f"{entry.key}: cannot list secrets ({reason_of(err)})", now)
            )
            continue
        if not names:
            rows.append(_problem(entry, "the glob matches no secret", now))
        rows += [_row(reader, entry, name, now) for name in names]
    return rows


def _problem(entry: Declared, problem: str, now: datetime) -> StatusRow:
    return StatusRow(entry.pattern, entry.key, entry.required, False, problem=problem, now=now)


def _row(reader: Reader, entry: Declared, name: str, now: datetime) -> StatusRow:
    def row(exists: bool, **fields: Any) -> StatusRow:
        return StatusRow(name, entry.key, entry.required, exists, now=now, **fields)

    try:
        versions: list[SecretVersion] = reader.versions(name)
    except SecretNotFound:
        return row(False)
    except UnsupportedOperation:
        versions = []  # env, keyring, KV v1: no history, so no age
    except ProviderError as err:
        return row(False, problem=f"{name!r}: {reason_of(err)}")
    current = next((v for v in versions if v.current), None)
    expires_at = current.expires_at if current else None
    failed: tuple[str, ...] = ()
    try:
        secret = reader.get(name)
    except SecretNotFound:
        return row(False)
    except SecretExpired as err:
        expires_at = err.expires_at or expires_at
    except ProviderError as err:
        return row(True, problem=f"{name!r}: {reason_of(err)}")
    else:
        expires_at = secret.expires_at or expires_at
        failed = tuple(entry.validation.failures(secret.value))
    created = current.created_at if current else None
    unfinished = unfinished_rotation(versions)
    interval = entry.rotation.interval if entry.rotation else None
    next_due = created + interval if created is not None and interval is not None else None
    return row(
        True,
        version=current.version if current else None,
        created_at=created,
        last_rotated=last_rotated(versions),
        next_due=next_due,
        due=unfinished is not None or (next_due is not None and now >= next_due),
        unfinished=unfinished,
        expires_at=expires_at,
        expiry=_expiry(expires_at, entry, now),
        validation=failed,
    )


def _expiry(expires_at: datetime | None, entry: Declared, now: datetime) -> str:
    if expires_at is None:
        return "none"
    if now >= expires_at:
        return "expired"
    return "warning" if now >= expires_at - entry.warn_before_expiry else "ok"


def load_problems(inventory: Inventory) -> list[str]:
    """Every generator and hook the inventory names that cannot be loaded (what
    ``check`` reports: the settings key and why)."""
    problems = []
    for entry in inventory.entries:
        policy = entry.rotation
        if policy is None:
            continue
        for load in (policy.generator, lambda: policy.hook("apply"), lambda: policy.hook("verify")):  # noqa: B023 - called at once
            try:
                load()
            except ConfigError as err:
                problems.append(str(err))
    return problems


def due_names(rows: Sequence[StatusRow]) -> list[str]:
    """The names whose rotation is due (or unfinished)."""
    return [row.name for row in rows if row.due and row.exists]
