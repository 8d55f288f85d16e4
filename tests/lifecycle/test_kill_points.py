"""A rotation SIGKILLed after each of its steps, then run again, against the
persistent backends (the file store, OpenBao, moto): the credential the system
accepts is stored in the secret at every point, and the rerun finishes the same
rotation with exactly one new version (0 duplicate versions) and no unfinished
state left (0 stranded secrets).

Each rotation runs in its own process (``kill_worker.py``), with the rotation policy
of a settings file: command hooks (``system_hook.py``) that write and check the
"system", a file holding the one password it accepts.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from secretwire.lifecycle.record import unfinished_rotation
from tests.lifecycle.backends import (
    WORKER,
    Backend,
    aws_backend,
    file_backend,
    system_policy,
    vault_backend,
)
from tests.servers.openbao import OpenBao

#: Kill points per backend: the rotation's steps, and the points inside one step
#: where a backend makes two requests (Vault's data and metadata writes; AWS's
#: AWSCURRENT move and AWSPENDING removal).
POINTS = {
    "file": ("started", "generated", "stored", "applied", "verified"),
    "vault": ("started", "generated", "storing", "stored", "applied", "verified"),
    "aws": ("generated", "stored", "applied", "verified", "promoting"),
}
#: (backend, point) -> (stranded secrets, duplicate versions) after the rerun.
RESULTS: dict[tuple[str, str], tuple[int, int]] = {}


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    kind = request.param
    if kind == "file":
        yield from file_backend(tmp_path)
    elif kind == "vault":
        bao: OpenBao = request.getfixturevalue("openbao_server")
        yield from vault_backend(bao)
    else:
        yield from aws_backend(request.getfixturevalue("moto_server"))


CASES = [
    pytest.param(kind, point, id=f"{kind}-{point}")
    for kind, points in POINTS.items()
    for point in points
]


@pytest.mark.parametrize(
    ("backend", "point"), [c.values for c in CASES], ids=[c.id for c in CASES], indirect=["backend"]
)
def test_a_rotation_killed_at_each_point_is_finished_by_the_rerun(
    backend: Backend, point: str, tmp_path: Path, ns: str
) -> None:
    name = f"{ns}/db-password"
    system = tmp_path / "system.txt"
    system.write_text("old-password-0001", encoding="utf-8")
    backend.provider.set(name, "old-password-0001")
    before = len(backend.provider.versions(name))
    settings = backend.settings(tmp_path, {name: {"rotation": system_policy(system)}})

    killed = backend.run(str(WORKER), str(settings), name, point, cwd=tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    accepted = system.read_text(encoding="utf-8")
    stored = [
        backend.provider.get(name, version=v.version).reveal()
        for v in backend.provider.versions(name)
    ]
    assert accepted in stored  # the working value is in the secret, whatever the point

    rerun = backend.run(str(WORKER), str(settings), name, "none", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    versions = backend.provider.versions(name)
    current = backend.read_current(name).reveal()
    stranded = int(unfinished_rotation(versions) is not None or current != system.read_text())
    duplicates = len(versions) - before - 1
    RESULTS[(backend.kind, point)] = (stranded, duplicates)
    assert (stranded, duplicates) == (0, 0)
    assert current != "old-password-0001"
