"""Loads the fictional demo dataset. Filled in by the demo-data work."""

from __future__ import annotations

from sqlalchemy.orm import Session


def load_demo(session: Session) -> dict[str, int]:
    """Insert the demo dataset and return counts per kind of record."""
    return {}
