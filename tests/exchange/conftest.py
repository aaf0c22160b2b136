from __future__ import annotations

import pytest

from tests.exchange import hsds


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(
        f"HSDS 3 schemas: {hsds.SCHEMA_DIR.relative_to(hsds.ROOT)} "
        "(vendored; exports validated against them)"
    )
