"""Mounts the /api/v1 sub-application."""

from __future__ import annotations

from fastapi import FastAPI


def mount_api(app: FastAPI) -> None:
    """Attach the API. Filled in by the API work (issue 4)."""
    return None
