"""Shared managers: one per (settings file, environment), thread-safe, closed together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from secretwire import (
    SecretManager,
    SecretwireError,
    close_shared_managers,
    load_settings,
    shared_manager,
)

SETTINGS = """\
environment_variable: SW_T_SHARED_ENV
default_environment: dev
environments:
  dev:
    provider: memory
    options: {secrets: {a: dev}}
  ci:
    provider: memory
    options: {secrets: {a: ci}}
"""


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("SW_T_SHARED_ENV", raising=False)
    monkeypatch.delenv("SECRETWIRE_CONFIG", raising=False)
    path = tmp_path / "secretwire.yaml"
    path.write_text(SETTINGS, encoding="utf-8")
    yield path
    close_shared_managers()


def test_one_manager_per_settings_file_and_chosen_environment(
    settings_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = shared_manager(settings_file)
    assert dev.environment == "dev"
    assert shared_manager(str(settings_file), "dev") is dev
    assert shared_manager(load_settings(settings_file)) is dev
    monkeypatch.chdir(settings_file.parent)
    assert shared_manager() is dev  # found from the current directory: the same file
    ci = shared_manager(settings_file, "ci")
    assert ci is not dev and ci.get("a").reveal() == "ci"
    monkeypatch.setenv("SW_T_SHARED_ENV", "ci")
    assert shared_manager(settings_file) is ci  # the variable chooses, as from_settings


def test_close_shared_managers_closes_them_and_starts_afresh(settings_file: Path) -> None:
    dev = shared_manager(settings_file)
    dev.get("a")
    close_shared_managers()
    assert dev.closed
    with pytest.raises(SecretwireError, match="closed"):
        dev.get("a")
    again = shared_manager(settings_file)
    assert again is not dev and again.get("a").reveal() == "dev"
    close_shared_managers()
    close_shared_managers()  # idempotent


def test_a_manager_closed_by_its_user_is_replaced(settings_file: Path) -> None:
    with shared_manager(settings_file) as manager:
        manager.get("a")
    assert shared_manager(settings_file) is not manager


def test_threads_asking_at_once_get_one_manager(
    settings_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[SecretManager] = []
    original = SecretManager.from_settings.__func__  # type: ignore[attr-defined]

    def counting(cls: type[SecretManager], *args: object, **kwargs: object) -> SecretManager:
        manager: SecretManager = original(cls, *args, **kwargs)
        built.append(manager)
        return manager

    monkeypatch.setattr(SecretManager, "from_settings", classmethod(counting))
    barrier = threading.Barrier(16)
    seen: list[SecretManager] = []

    def worker() -> None:
        barrier.wait()
        seen.append(shared_manager(settings_file, "dev"))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert len(seen) == 16 and all(manager is built[0] for manager in seen)
