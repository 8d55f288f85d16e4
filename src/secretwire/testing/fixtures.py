"""pytest fixtures for provider tests; use them as a plugin::

    # conftest.py
    pytest_plugins = ("secretwire.testing.fixtures",)

or import one into a test module (``from secretwire.testing import ns``).
"""

from __future__ import annotations

import uuid

import pytest

__all__ = ["ns", "unique_prefix"]


def unique_prefix() -> str:
    """A name prefix no other test uses (``swt-<10 hex digits>``), so tests can share
    one backend without seeing each other's secrets."""
    return f"swt-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ns() -> str:
    """A unique name prefix per test (see :func:`unique_prefix`)."""
    return unique_prefix()
