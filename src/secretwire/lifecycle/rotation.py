"""Rotation that proves the new value works before anyone depends on it, and rollback.

:class:`Rotator` runs on a manager's pipeline, so authorization, audit and the
cache see every step. One rotation, on a backend with staging labels (AWS)::

    generate -> stage (AWSPENDING) -> apply -> verify -> promote (AWSCURRENT)

and on the others, recording its state in the version's metadata (:mod:`.record`)::

    mark "started" -> generate -> store (a new version, "pending") -> apply -> verify -> "done"

A failure at apply, store, verify or promote reverts: the apply hook gets the old
value back, and the staged version is dropped (AWSCURRENT never moved) or the old
value is written again as a new version. A rotation killed between any two steps is
found by the next run (the staged version, or a record that is not ``done``) and
finished from where it stopped, without writing a second version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import _time
from ..errors import RotationFailed, SecretwireError, UnsupportedOperation, reason_of
from ..pipeline import Handler
from ..types import Capabilities, Secret, SecretVersion, Write
from ..values import SecretValue
from .generators import Generator, GeneratorError, Password
from .hooks import Hook, HookCall, HookFailure
from .record import (
    AT,
    FROM,
    ROLLBACK,
    ROTATION,
    STARTED,
    STATE,
    Record,
    carried,
    new_rotation_id,
)

__all__ = ["Progress", "RotationResult", "Rotator"]

#: Called with each step's name as it completes: ``started``, ``generated``,
#: ``stored``, ``applied``, ``verified``, ``finished``.
Progress = Callable[[str], None]
_DONE = {"apply": "applied", "verify": "verified"}


@dataclass(frozen=True)
class RotationResult:
    """A finished rotation: the new current ``version``, the ``previous`` one, and
    whether this run ``resumed`` an unfinished rotation; ``steps`` done by this run."""

    name: str
    rotation: str
    version: str
    previous: str | None
    resumed: bool
    steps: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": True,
            "rotation": self.rotation,
            "version": self.version,
            "previous": self.previous,
            "resumed": self.resumed,
            "steps": list(self.steps),
        }


class Rotator:
    """Rotation and rollback through ``handler`` (a manager's pipeline). ``remember``
    registers a value with the manager's redactors; ``invalidate`` drops its cache."""

    def __init__(
        self,
        handler: Handler,
        capabilities: Capabilities,
        *,
        remember: Callable[[SecretValue], None],
        invalidate: Callable[[str], None],
    ) -> None:
        self.handler, self.capabilities = handler, capabilities
        self.remember, self.invalidate = remember, invalidate

    def check(self, name: str, operation: str) -> None:
        """:class:`UnsupportedOperation` naming ``name`` if the provider cannot do it."""
        caps, detail = self.capabilities, None
        if not caps.write:
            detail = "the provider is read-only"
        elif not caps.versions:
            detail = f"{operation} needs a provider that keeps versions"
        elif operation == "rotate" and not (caps.staging or (caps.annotate and caps.metadata)):
            detail = "rotation needs staging labels, or version metadata it can change"
        if detail is not None:
            provider = self.handler.provider_name
            raise UnsupportedOperation(
                operation=operation, name=name, provider=provider, detail=detail
            )

    def rollback(self, name: str, to_version: str) -> SecretVersion:
        """Write a **new** version carrying ``to_version``'s value (history stays
        append-only, as Vault's ``kv rollback``)."""
        self.check(name, "rollback")
        target = self.handler.get(name, version=to_version)
        self.remember(target.value)
        metadata: dict[str, str] = {}
        if self.capabilities.metadata:
            metadata = {**carried(target.metadata), ROLLBACK: target.version or to_version}
        tags = dict(target.tags) if self.capabilities.tags else {}
        return self.handler.set(Write(name, target.value, metadata, tags))

    def rotate(
        self,
        name: str,
        *,
        generator: Generator | None = None,
        apply: Hook | None = None,
        verify: Hook | None = None,
        progress: Progress | None = None,
    ) -> RotationResult:
        """Rotate ``name`` (or finish its unfinished rotation). Raises
        :class:`RotationFailed` naming the step, after reverting what it can."""
        self.check(name, "rotate")
        run = _Run(self, name, generator or Password(), apply, verify, progress)
        return run.staged() if self.capabilities.staging else run.annotated()


class _Run:
    """One rotation run (see the module docstring)."""

    def __init__(
        self,
        rotator: Rotator,
        name: str,
        generator: Generator,
        apply: Hook | None,
        verify: Hook | None,
        progress: Progress | None,
    ) -> None:
        self.r, self.h, self.name = rotator, rotator.handler, name
        self.generator, self.apply, self.verify, self.progress = generator, apply, verify, progress
        self.steps: list[str] = []
        self.rotation = ""

    # -- the two flows -----------------------------------------------------------------
    def staged(self) -> RotationResult:
        versions = self.h.versions(self.name)
        current = next((v for v in versions if v.current), None)
        pending = next((v for v in versions if v.staged), None)
        if current is None:
            raise self._failed("start", "the secret has no current version", "unchanged")
        if pending is not None and pending.current:  # killed inside promote: finish it
            self.rotation = pending.version
            self._promote(None, None)
            return self._result(pending.version, None, resumed=True)
        old = self._read(current.version).value
        if pending is not None:
            self.rotation = pending.version
            new = self._read(pending.version).value
        else:
            self.rotation = new_rotation_id()
            new = self._generate(old)
            self._stage(new)

        def undo() -> str | None:
            return self._attempt(lambda: self.h.unstage(self.name, self.rotation))

        self._apply_and_verify(old, new, undo)
        self._promote((old, new), undo)
        return self._result(self.rotation, current.version, resumed=pending is not None)

    def annotated(self) -> RotationResult:
        self.r.invalidate(self.name)
        current = self._read(None)
        point = Record.of(current.metadata).resume_point(current.version)
        resumed = point is not None
        base = carried(current.metadata)
        if point is not None and point[2]:  # the new version was stored: resume at apply
            self.rotation, previous, _ = point
            old, new, version = self._read(previous).value, current.value, current.version
        else:  # from the start (a started mark without a new version: nothing was stored)
            previous = current.version or ""
            if point is not None:
                self.rotation = point[0]
            else:
                self.rotation = new_rotation_id()
                self._mark(previous, {STARTED: self.rotation, FROM: previous})
                self._step("started")
            old = current.value
            new = self._generate(old)
            version = self._store(new, {**base, STATE: "pending", FROM: previous}, current)
        assert version is not None  # noqa: S101 - versioned providers name their versions

        def undo() -> str | None:
            metadata = {**base, ROTATION: self.rotation, STATE: "reverted", FROM: version}
            write = Write(self.name, old, metadata, dict(current.tags))
            return self._attempt(lambda: self.h.set(write))

        self._apply_and_verify(old, new, undo)
        try:
            # The whole record: on Vault, killed between a version's data and metadata
            # writes, the new version carries only the started mark so far.
            done = {ROTATION: self.rotation, STATE: "done", FROM: previous}
            self._mark(version, {**done, AT: _time.isoformat(_time.utcnow())})
        except SecretwireError as err:
            raise self._failed("finish", reason_of(err), "resumable") from None
        self._step("finished")
        return self._result(version, previous, resumed=resumed)

    # -- steps -------------------------------------------------------------------------
    def _read(self, version: str | None) -> Secret:
        secret = self.h.get(self.name, version=version)
        self.r.remember(secret.value)
        return secret

    def _generate(self, old: SecretValue) -> SecretValue:
        problem, made = None, None
        try:
            made = self.generator(old)
        except GeneratorError as err:
            problem = str(err)
        except Exception as err:  # noqa: BLE001 - its text may hold a value: type only
            problem = f"the generator raised {type(err).__name__}"
        if problem is None:
            new: object = SecretValue(made) if isinstance(made, str) else made
            if not isinstance(new, SecretValue):
                problem = f"the generator returned {type(made).__name__}, not text"
            elif new == old:
                problem = "the generator returned the current value"
        if problem is not None or not isinstance(new, SecretValue):
            raise self._failed("generate", problem or "no value", "unchanged")
        self.r.remember(new)
        self._step("generated")
        return new

    def _stage(self, new: SecretValue) -> None:
        try:
            self.h.stage(Write(self.name, new), self.rotation)
        except SecretwireError as err:
            landed = self._attempt_read(lambda: any(
                v.staged and v.version == self.rotation for v in self.h.versions(self.name)
            ))  # fmt: skip
            if landed is not True:  # not stored, or unknown: a rerun tells
                outcome = "unchanged" if landed is False else "resumable"
                raise self._failed("store", reason_of(err), outcome) from None
        self._step("stored")

    def _store(self, new: SecretValue, metadata: Mapping[str, str], current: Secret) -> str:
        write = Write(self.name, new, {**metadata, ROTATION: self.rotation}, dict(current.tags))
        try:
            version = self.h.set(write).version
        except SecretwireError as err:
            self.r.invalidate(self.name)
            landed = self._attempt_read(lambda: self.h.get(self.name))
            record = Record.of(landed.metadata) if isinstance(landed, Secret) else None
            if record is None or record.rotation != self.rotation or record.state != "pending":
                outcome = "unchanged" if record is not None else "resumable"
                raise self._failed("store", reason_of(err), outcome) from None
            version = landed.version or ""  # the answer was lost, the write was not
        self._step("stored")
        return version

    def _apply_and_verify(
        self, old: SecretValue, new: SecretValue, undo: Callable[[], str | None]
    ) -> None:
        for step, hook in (("apply", self.apply), ("verify", self.verify)):
            if hook is None:
                continue
            problem = self._hook(hook, step, old, new)
            if problem is not None:
                self._revert(step, problem, old, new, undo)
            self._step(_DONE[step])

    def _promote(
        self, values: tuple[SecretValue, SecretValue] | None, undo: Callable[[], str | None] | None
    ) -> None:
        try:
            self.h.promote(self.name, self.rotation)
        except SecretwireError as err:
            moved = self._attempt_read(lambda: any(
                v.current and v.version == self.rotation for v in self.h.versions(self.name)
            ))  # fmt: skip
            if moved is not True:
                if moved is None or values is None or undo is None:
                    raise self._failed("finish", reason_of(err), "resumable") from None
                self._revert("finish", reason_of(err), *values, undo)
        self._step("finished")

    def _revert(
        self,
        step: str,
        reason: str,
        old: SecretValue,
        new: SecretValue,
        undo: Callable[[], str | None],
    ) -> None:
        """Give the apply hook the old value back, then undo the store; raise."""
        problems = []
        if self.apply is not None:
            problem = self._hook(self.apply, "apply", new, old, revert=True)
            if problem is not None:
                problems.append(problem)
        undone = undo()
        if undone is not None:
            problems.append(undone)
        outcome = "resumable" if undone is not None else "reverted"
        raise self._failed(step, reason, outcome, "; ".join(problems) or None)

    # -- helpers -----------------------------------------------------------------------
    def _hook(
        self, hook: Hook, step: str, old: SecretValue, new: SecretValue, *, revert: bool = False
    ) -> str | None:
        try:
            hook.run(HookCall(self.name, step, old, new, self.rotation, revert))
        except HookFailure as err:
            return str(err)
        return None

    def _mark(self, version: str, metadata: Mapping[str, str]) -> None:
        self.h.annotate(self.name, version, metadata)

    def _attempt(self, fn: Callable[[], object]) -> str | None:
        """``fn()``; the reason it failed, or ``None``."""
        try:
            fn()
        except SecretwireError as err:
            return reason_of(err)
        return None

    def _attempt_read(self, fn: Callable[[], Any]) -> Any:
        """``fn()``, or ``None`` when the backend cannot say."""
        try:
            return fn()
        except SecretwireError:
            return None

    def _step(self, step: str) -> None:
        self.steps.append(step)
        if self.progress is not None:
            self.progress(step)

    def _failed(
        self, step: str, reason: str, outcome: str, revert_problem: str | None = None
    ) -> RotationFailed:
        return RotationFailed(
            name=self.name,
            step=step,
            reason=reason,
            outcome=outcome,
            rotation=self.rotation or None,
            revert_problem=revert_problem,
        )

    def _result(self, version: str, previous: str | None, *, resumed: bool) -> RotationResult:
        return RotationResult(
            self.name, self.rotation, version, previous, resumed, tuple(self.steps)
        )
