from __future__ import annotations

import pytest

from tests.exchange import hsds


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if hsds.present():
        terminalreporter.write_line(f"HSDS 3 schemas: {hsds.SCHEMA_DIR} (exports validated against them)")
    else:
        terminalreporter.write_line(
            f"HSDS 3 schemas: ABSENT at {hsds.SCHEMA_DIR} (schema validation was not run)", yellow=True
        )
