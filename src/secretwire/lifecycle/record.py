"""The rotation record: what a rotation writes in a version's metadata, so a rerun
can tell an unfinished rotation from a finished one (docs/rotation.md).

On a backend with staging labels (AWS) the labels are the record: the staged
version's id is the rotation id. Elsewhere these metadata keys are::

    secretwire-rotation          on the version a rotation wrote: the rotation id
    secretwire-rotation-state    pending | done | reverted
    secretwire-rotation-from     the version the rotation replaces
    secretwire-rotated-at        when the rotation finished (ISO 8601)
    secretwire-rotation-started  on the version being replaced: the rotation id

The ``started`` mark (with ``from``) is written on the current version before
anything else: Vault keeps custom metadata per secret, and writes a version's data
and its metadata in two requests, so the mark is what tells "the new version was
written" from "it was not" whichever of the two a crash came between. The new
version is written ``pending``, and marked ``done`` once verified.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .. import _time
from ..types import SecretVersion

__all__ = [
    "AT",
    "FROM",
    "LIFECYCLE_KEYS",
    "ROLLBACK",
    "ROTATION",
    "STARTED",
    "STATE",
    "Record",
    "carried",
    "last_rotated",
    "new_rotation_id",
    "unfinished_rotation",
]

ROTATION = "secretwire-rotation"
STATE = "secretwire-rotation-state"
FROM = "secretwire-rotation-from"
AT = "secretwire-rotated-at"
STARTED = "secretwire-rotation-started"
#: On a version written by ``rollback``: the version whose value it carries.
ROLLBACK = "secretwire-rollback-of"
LIFECYCLE_KEYS = frozenset({ROTATION, STATE, FROM, AT, STARTED, ROLLBACK})


def new_rotation_id() -> str:
    """``rot-<uuid4>``: 40 characters, also a valid AWS ``ClientRequestToken``."""
    return f"rot-{uuid.uuid4()}"


@dataclass(frozen=True)
class Record:
    """The rotation record in one version's metadata (all ``None`` when there is none)."""

    rotation: str | None = None
    state: str | None = None
    previous: str | None = None
    rotated_at: datetime | None = None
    started: str | None = None

    @classmethod
    def of(cls, metadata: Mapping[str, str]) -> Record:
        return cls(
            metadata.get(ROTATION),
            metadata.get(STATE),
            metadata.get(FROM),
            _time.parse_iso(metadata.get(AT)),
            metadata.get(STARTED),
        )

    def resume_point(self, current: str | None) -> tuple[str, str, bool] | None:
        """For the current version ``current`` carrying this record: (rotation id, the
        version it replaces, whether its new version was stored) of an unfinished
        rotation, or ``None``."""
        if self.state == "pending" and self.rotation and self.previous:
            return self.rotation, self.previous, True
        if self.started and self.started != self.rotation and self.previous:
            return self.started, self.previous, current != self.previous
        return None


def carried(metadata: Mapping[str, str]) -> dict[str, str]:
    """``metadata`` without the lifecycle keys: what a new version keeps."""
    return {key: value for key, value in metadata.items() if key not in LIFECYCLE_KEYS}


def unfinished_rotation(versions: list[SecretVersion]) -> str | None:
    """The id of the unfinished rotation ``versions`` show (a staged version, or a
    record on the current one that is not ``done``), or ``None``."""
    for version in versions:
        if version.staged:
            return version.version
    current = next((v for v in versions if v.current), None)
    if current is None:
        return None
    point = Record.of(current.metadata).resume_point(current.version)
    return None if point is None else point[0]


def last_rotated(versions: list[SecretVersion]) -> datetime | None:
    """When the newest finished rotation finished: its record's time, or (staging
    labels: the version id is the rotation id) the rotation version's creation."""
    for version in versions:  # newest first
        record = Record.of(version.metadata)
        if record.state == "done" and record.rotated_at is not None:
            return record.rotated_at
        if version.version.startswith("rot-") and not version.staged:
            return version.created_at
    return None
