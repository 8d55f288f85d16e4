"""Shared fixtures: global registries restored after each test, canary helpers."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

import secretwire.providers as registry
from secretwire.testing import CANARY

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


@pytest.fixture
def canary() -> str:
    return CANARY


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every record from every logger at DEBUG, to grep for canaries."""
    caplog.set_level(logging.DEBUG)
    return caplog
