"""API test helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from directory.api.public import REPORT_WINDOW


@pytest.fixture(autouse=True)
def _fresh_report_window() -> Iterator[None]:
    """The per-process limit on anonymous reports must not leak from one test to the next."""
    REPORT_WINDOW.hits.clear()
    yield
    REPORT_WINDOW.hits.clear()
