"""The lifecycle tests' summary: each kill point's result (stranded secrets,
duplicate versions), printed at the end of the run."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.lifecycle.test_kill_points import RESULTS

    if RESULTS:
        terminalreporter.section("rotation kill points")
        for (kind, point), (stranded, duplicates) in sorted(RESULTS.items()):
            terminalreporter.write_line(
                f"{kind}: killed after {point}: {stranded} stranded secrets, "
                f"{duplicates} duplicate versions"
            )
