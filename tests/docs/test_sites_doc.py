"""docs/sites.md is real: every ``>>>`` example on it runs (doctest) and shows its output."""

from __future__ import annotations

import doctest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_site_api_page_runs() -> None:
    result = doctest.testfile(
        str(ROOT / "docs" / "sites.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS,
        raise_on_error=False,
        verbose=False,
    )
    assert result.attempted >= 20
    assert result.failed == 0
