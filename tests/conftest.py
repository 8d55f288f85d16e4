"""Shared fixtures: global registries restored after each test, canary helpers."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

import secretwire.providers as registry
from secretwire.masking import default_redactor, uninstall_log_masking
from secretwire.testing import (
    CANARY,
    ns,  # noqa: F401 - the shipped fixture: a unique name prefix per test
)

# -- real test servers: one import per backend (session-scoped fixtures) -----------
# (each module in tests/servers/ adds its line here)
from tests.servers.moto import moto_iam_server, moto_server  # noqa: F401
from tests.servers.openbao import openbao_server, openbao_tls_server  # noqa: F401
from tests.servers.redis import redis_server  # noqa: F401

# CI explores the same examples every run (a red build must be reproducible);
# local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _restore_provider_registry() -> Iterator[None]:
    """The provider registry is global: snapshot and restore it around every test."""
    saved = dict(registry._registered)
    yield
    registry._registered.clear()
    registry._registered.update(saved)


@pytest.fixture(autouse=True)
def _restore_log_masking() -> Iterator[None]:
    """Log masking is global too (the adapters install it, managers register what
    they serve): each test starts with none and no registered value."""
    yield
    uninstall_log_masking()
    default_redactor().clear()


@pytest.fixture
def cli_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project made by ``secretwire init``, as the current directory, with no
    settings file or environment chosen by the caller's environment variables."""
    from secretwire.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRETWIRE_CONFIG", raising=False)
    monkeypatch.delenv("SECRETWIRE_ENV", raising=False)
    assert main(["init"]) == 0
    return tmp_path


@pytest.fixture
def canary() -> str:
    return CANARY


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every record from every logger at DEBUG, to grep for canaries."""
    caplog.set_level(logging.DEBUG)
    return caplog


# -- per-provider conformance summary ---------------------------------------------
# CI prints, for each provider class that runs the shipped ProviderContract, how
# many cases passed, failed and were skipped, and why each skip happened.
_contract_label: dict[str, str] = {}
_contract_outcomes: dict[str, dict[str, int]] = {}
_contract_skips: dict[str, dict[str, int]] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from secretwire.testing import ProviderContract

    for item in items:
        cls = getattr(item, "cls", None)
        if cls is not None and issubclass(cls, ProviderContract):
            _contract_label[item.nodeid] = cls.__name__


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    label = _contract_label.get(report.nodeid)
    if label is None:
        return
    outcomes = _contract_outcomes.setdefault(label, {"passed": 0, "failed": 0, "skipped": 0})
    if report.skipped:
        outcomes["skipped"] += 1
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else "?"
        reason = reason.removeprefix("Skipped: ")
        skips = _contract_skips.setdefault(label, {})
        skips[reason] = skips.get(reason, 0) + 1
    elif report.failed:
        outcomes["failed"] += 1
    elif report.when == "call":
        outcomes["passed"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _contract_outcomes:
        terminalreporter.section("provider conformance")
        for label in sorted(_contract_outcomes):
            counts = _contract_outcomes[label]
            terminalreporter.write_line(
                f"{label}: {counts['passed']} passed, {counts['failed']} failed, "
                f"{counts['skipped']} skipped"
            )
            for reason, count in sorted(_contract_skips.get(label, {}).items()):
                terminalreporter.write_line(f"    skipped {count}x: {reason}")
    from tests.servers.harness import LOG_DIR

    if terminalreporter._session.testsfailed and LOG_DIR.is_dir():  # type: ignore[attr-defined]
        terminalreporter.write_line(f"test server logs kept in {LOG_DIR}")
