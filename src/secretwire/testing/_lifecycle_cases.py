"""Conformance cases: annotations, staged versions, rollback and rotation (docs/rotation.md).

Rotation runs through a :class:`~secretwire.SecretManager` around the provider. The
"interrupted" case stops a rotation after each step by raising a ``BaseException``
from the progress callback (no ``except`` in secretwire catches it, as nothing
survives a SIGKILL), then reruns it: the rerun must finish the same rotation with
one new version, and the credential the system accepts must have been in the
secret all along. ``tests/lifecycle/test_kill_points.py`` does the same with real
SIGKILLs of a separate process against the persistent backends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from ..errors import RotationFailed, UnsupportedOperation
from ..lifecycle.hooks import HookCall
from ..lifecycle.inventory import parse_inventory
from ..lifecycle.record import unfinished_rotation
from ..lifecycle.status import due_names, inventory_status
from ..manager import SecretManager
from ..providers.base import SecretProvider
from ..types import Secret
from ..values import SecretValue
from ._base import ContractBase
from .leaks import CANARY, assert_no_leak

__all__ = ["KILL_POINTS", "LifecycleCases", "System"]

#: The steps a rotation can be stopped after (``started``: only where the state is
#: recorded in metadata; staging labels need no mark).
KILL_POINTS = ("started", "generated", "stored", "applied", "verified")


_MONTH = timedelta(days=30)
#: Staged version ids (AWS: ClientRequestTokens of 32 to 64 characters).
_IDS = tuple(f"rot-00000000-0000-4000-8000-00000000000{i}" for i in range(3))


class _Interrupted(BaseException):
    """Stands in for SIGKILL inside one process: nothing in secretwire catches it."""


class System:
    """The system a credential is for: it accepts one password at a time. ``apply``
    sets it, ``verify`` logs in with it."""

    def __init__(self, accepted: str) -> None:
        self.accepted = accepted
        self.applied: list[tuple[str, bool]] = []  # (step, revert) for each apply

    def apply(self, call: HookCall) -> None:
        self.applied.append((call.step, call.revert))
        self.accepted = call.new.reveal()

    def verify(self, call: HookCall) -> bool:
        return self.accepted == call.new.reveal()


class LifecycleCases(ContractBase):
    """Annotations, staging, rollback and rotation on every provider that can."""

    def read_current(self, provider: SecretProvider, name: str) -> Secret:
        """The current version as a reader sees it. An emulator that serves a stale
        current version overrides this (and pins the gap with its own test)."""
        return provider.get(name)

    # -- the kit's lifecycle operations -----------------------------------------------
    def test_lifecycle_operations_without_the_capability_are_refused(
        self, provider: SecretProvider, ns: str
    ) -> None:
        caps = provider.capabilities
        name = f"{ns}/caps"
        refused: list[Callable[[], object]] = []
        if not caps.annotate:
            refused.append(lambda: provider.annotate(name, "1", {"a": "b"}))
        if not caps.staging:
            refused += [
                lambda: provider.stage(name, "v", token=_IDS[0]),
                lambda: provider.promote(name, "1"),
                lambda: provider.unstage(name, "1"),
            ]
        for operation in refused:
            with pytest.raises(UnsupportedOperation):
                operation()

    def test_annotate_merges_metadata_without_a_new_version(
        self, provider: SecretProvider, ns: str
    ) -> None:
        self._require(provider, "annotate")
        name = f"{ns}/annotated"
        version = provider.set(name, "v", metadata={"owner": "team-a"}).version
        provider.annotate(name, version, {"state": "done"})
        assert len(provider.versions(name)) == 1
        secret = provider.get(name)
        assert (secret.reveal(), secret.version) == ("v", version)
        assert secret.metadata.get("owner") == "team-a"
        assert secret.metadata.get("state") == "done"

    def test_staged_version_is_current_only_once_promoted(
        self, provider: SecretProvider, ns: str
    ) -> None:
        self._require(provider, "staging")
        name = f"{ns}/staged"
        provider.set(name, "old")
        token = _IDS[1]
        staged = provider.stage(name, "new", token=token)
        assert (staged.version, staged.staged, staged.current) == (token, True, False)
        assert self.read_current(provider, name).reveal() == "old"
        assert provider.get(name, version=token).reveal() == "new"
        assert [v.version for v in provider.versions(name) if v.staged] == [token]
        provider.promote(name, token)
        provider.promote(name, token)  # a rerun finds it done
        assert self.read_current(provider, name).reveal() == "new"
        assert not any(v.staged for v in provider.versions(name))

    def test_unstage_leaves_the_current_version(self, provider: SecretProvider, ns: str) -> None:
        self._require(provider, "staging")
        name = f"{ns}/unstaged"
        provider.set(name, "old")
        token = _IDS[2]
        provider.stage(name, "new", token=token)
        provider.unstage(name, token)
        provider.unstage(name, token)  # not staged any more: nothing to do
        assert not any(v.staged for v in provider.versions(name))
        assert self.read_current(provider, name).reveal() == "old"

    # -- rollback ---------------------------------------------------------------------
    def test_rollback_writes_a_new_version_with_the_old_value(
        self, provider: SecretProvider, ns: str
    ) -> None:
        self._require(provider, "versions")
        self._require(provider, "write")
        name = f"{ns}/rollback"
        first = provider.set(name, "first").version
        second = provider.set(name, "second").version
        written = SecretManager(provider).rollback(name, first)
        assert written.version not in (first, second)
        assert self.read_current(provider, name).reveal() == "first"
        assert [v.version for v in provider.versions(name)][:3] == [written.version, second, first]

    def test_rollback_and_rotation_need_versions(self, provider: SecretProvider, ns: str) -> None:
        if provider.capabilities.versions and provider.capabilities.write:
            pytest.skip(f"provider {provider.name!r} keeps versions")
        manager = SecretManager(provider)
        for operation in (
            lambda: manager.rollback(f"{ns}/x", "1"),
            lambda: manager.rotate(f"{ns}/x"),
        ):
            with pytest.raises(UnsupportedOperation) as info:
                operation()
            assert f"{ns}/x" in str(info.value)

    # -- rotation ---------------------------------------------------------------------
    def _rotatable(self, provider: SecretProvider, name: str, value: str) -> int:
        caps = provider.capabilities
        if not (caps.write and caps.versions and (caps.staging or caps.annotate)):
            pytest.skip(f"provider {provider.name!r} cannot rotate (no versions or record)")
        provider.set(name, value)
        return len(provider.versions(name))

    def test_rotation_applies_and_verifies_the_new_value(
        self, provider: SecretProvider, ns: str
    ) -> None:
        name = f"{ns}/rotated"
        before = self._rotatable(provider, name, "old-password")
        system = System("old-password")
        result = SecretManager(provider).rotate(name, apply=system.apply, verify=system.verify)
        assert result.steps[-3:] == ("applied", "verified", "finished")
        assert self.read_current(provider, name).reveal() == system.accepted != "old-password"
        versions = provider.versions(name)
        assert len(versions) == before + 1
        assert unfinished_rotation(versions) is None
        assert system.applied == [("apply", False)]

    @pytest.mark.parametrize("failing", ["apply", "verify"])
    def test_a_failed_rotation_reverts(
        self, provider: SecretProvider, ns: str, failing: str
    ) -> None:
        name = f"{ns}/reverted-{failing}"
        self._rotatable(provider, name, "old-password")
        system = System("old-password")

        def broken(call: HookCall) -> bool:
            if call.step == "apply":
                system.apply(call)
            return call.revert  # fails for the new value; accepts the old one back

        hooks: dict[str, Callable[[HookCall], object]] = {
            "apply": system.apply,
            "verify": system.verify,
            failing: broken,
        }
        with pytest.raises(RotationFailed) as info:
            SecretManager(provider).rotate(name, apply=hooks["apply"], verify=hooks["verify"])
        assert (info.value.step, info.value.outcome) == (failing, "reverted")
        assert self.read_current(provider, name).reveal() == "old-password"
        assert system.accepted == "old-password"
        assert system.applied == [("apply", False), ("apply", True)]
        assert unfinished_rotation(provider.versions(name)) is None

    @pytest.mark.parametrize("point", KILL_POINTS)
    def test_rotation_interrupted_after_each_step_resumes_without_duplicates(
        self, provider: SecretProvider, ns: str, point: str
    ) -> None:
        name = f"{ns}/interrupted-{point}"
        before = self._rotatable(provider, name, "old-password")
        system = System("old-password")

        def stop(step: str) -> None:
            if step == point:
                raise _Interrupted

        manager = SecretManager(provider)
        try:
            manager.rotate(name, progress=stop, apply=system.apply, verify=system.verify)
        except _Interrupted:
            pass
        else:
            pytest.skip(f"provider {provider.name!r} has no {point!r} step")
        # The credential the system accepts is stored: current, or the rotation's other version.
        stored = {provider.get(name, version=v.version).reveal() for v in provider.versions(name)}
        assert system.accepted in stored
        result = SecretManager(provider).rotate(name, apply=system.apply, verify=system.verify)
        assert result.resumed == (point != "generated" or provider.capabilities.staging is False)
        versions = provider.versions(name)
        assert len(versions) == before + 1  # no duplicate version
        assert unfinished_rotation(versions) is None  # nothing stranded
        assert self.read_current(provider, name).reveal() == system.accepted != "old-password"

    def test_rotation_falls_due_after_its_interval(self, provider: SecretProvider, ns: str) -> None:
        """Schedules on a fake clock: ``status`` computed at chosen times (the versions'
        creation times are the backend's own)."""
        name = f"{ns}/scheduled"
        self._rotatable(provider, name, "old-password")
        declared = parse_inventory(
            {name: {"rotation": {"interval": "30d"}}}, source=None, base_dir=None
        )
        manager = SecretManager(provider, inventory=declared)
        (row,) = inventory_status(manager, declared)
        assert row.created_at is not None
        assert row.next_due == row.created_at + _MONTH
        assert not inventory_status(manager, declared, now=row.created_at + _MONTH / 2)[0].due
        late = inventory_status(manager, declared, now=row.created_at + _MONTH)
        assert due_names(late) == [name]
        manager.rotate(name)
        (after,) = inventory_status(manager, declared)
        assert after.created_at is not None
        assert after.next_due == after.created_at + _MONTH
        (after,) = inventory_status(manager, declared, now=after.created_at + _MONTH / 2)
        assert not after.due
        assert after.last_rotated is not None
        assert after.version != row.version

    def test_rotation_errors_hold_no_value(self, provider: SecretProvider, ns: str) -> None:
        name = f"{ns}/leak"
        self._rotatable(provider, name, f"{CANARY}-old")

        def generator(current: SecretValue | None) -> SecretValue:
            return SecretValue(f"{CANARY}-new")

        def failing(call: HookCall) -> None:
            raise RuntimeError(f"login refused for {call.new.reveal()}")

        with pytest.raises(RotationFailed) as info:
            SecretManager(provider).rotate(name, generator=generator, verify=failing)
        assert "raised RuntimeError" in str(info.value)
        assert_no_leak(info.value, CANARY)
