from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.exchange.exporters import export
from directory.exchange.importer import run_import
from directory.exchange.records import ExportOptions
from directory.listings import models as m
from directory.moderation.models import ChangeRequest
from tests.exchange.data import make_dataset
from tests.factories import make_account

ADMIN = ExportOptions(include_confidential=True)


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _export(db: Session, fmt: str, options: ExportOptions = ADMIN) -> bytes:
    return b"".join(export(db, fmt, options))


def _counts(db: Session) -> dict[str, int]:
    return {
        name: db.scalar(select(func.count()).select_from(model)) or 0
        for name, model in (("service", m.Service), ("location", m.Location), ("phone", m.Phone),
                            ("cr", ChangeRequest))
    }


@pytest.mark.parametrize("fmt", ["hsds-json", "hsds-csv", "csv"])
def test_reimporting_an_export_changes_nothing(db: Session, tmp_path: Path, fmt: str) -> None:
    make_dataset(db, tag="ri")
    path = _write(tmp_path, "export" + {"hsds-json": ".json", "hsds-csv": ".zip", "csv": ".csv"}[fmt], _export(db, fmt))
    before = _counts(db)
    admin = make_account(db, "admin")
    report = run_import(db, path, fmt=fmt, apply=True, publish=True, actor=admin)
    assert report.ok, [str(e) for e in report.errors]
    assert report.applied
    for entity, c in report.counts.items():
        assert c["new"] == 0 and c["changed"] == 0, (entity, c, report.changed)
    assert report.counts["service"]["unchanged"] >= 3
    assert _counts(db) == before
    assert report.change_requests == 0
