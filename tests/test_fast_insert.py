"""`directory.fast_insert.insert_rows` (bind processors + COPY / executemany) stores what the
plain `session.execute(table.insert(), rows)` stores, on SQLite and PostgreSQL: every column
type the bulk writer and the demo data use (ids, timestamps, enums, decimals, times, dates,
JSON, booleans), columns left out (their defaults) and rows that leave out different columns.
If SQLAlchemy's bind processors or psycopg's COPY change, this fails."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.fast_insert import insert_rows
from directory.listings import models as m
from directory.moderation.models import AuditEntry, ChangeKind, ChangeRequest, ChangeState

NOW = dt.datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=dt.UTC)


def _rows(tag: str) -> dict[Any, list[dict[str, Any]]]:
    """Rows for a few tables; each id is fresh, the rest is the same for both inserts."""
    org, svc, loc, cr = (uuid.uuid4() for _ in range(4))
    return {
        m.Organization: [
            {"id": org, "name": f"Org {tag}", "created_at": NOW, "updated_at": NOW},
        ],
        m.Service: [
            {
                "id": svc,
                "organization_id": org,
                "name": "Soup",
                "status": m.ServiceStatus.full,
                "minimum_age": 3,
                "assured_date": NOW,
                "updated_at": NOW,
                "created_at": NOW,
                "version": 1,
            },
        ],
        m.Location: [
            {
                "id": loc,
                "organization_id": org,
                "name": "Hall",
                "latitude": Decimal("50.450100"),
                "longitude": Decimal("30.523400"),
                "has_heating": True,
                "capacity_available": 0,
                "created_at": NOW,
                "updated_at": NOW,
            },
        ],
        m.Schedule: [
            {
                "id": uuid.uuid4(),
                "service_id": svc,
                "opens_at": dt.time(9, 0),
                "closes_at": dt.time(17, 30),
                "valid_from": dt.date(2026, 1, 1),
                "created_at": NOW,
                "updated_at": NOW,
            },
            # another set of columns: these take their defaults
            {"id": uuid.uuid4(), "location_id": loc},
        ],
        m.Translation: [
            {
                "id": uuid.uuid4(),
                "entity_type": "service",
                "entity_id": svc,
                "field": "name",
                "locale": "uk",
                "value": "Суп",
                "updated_at": NOW,
            },
        ],
        ChangeRequest: [
            {
                "id": cr,
                "kind": ChangeKind.create,
                "entity_type": "service",
                "entity_id": svc,
                "payload": {"fields": {"name": "Soup"}, "records": [["service", "create"]]},
                "state": ChangeState.approved,
                "source": "import",
                "needs_review": False,
                "sensitive": False,
                "decided_at": NOW,
                "created_at": NOW,
                "updated_at": NOW,
            },
        ],
        AuditEntry: [
            {
                "id": uuid.uuid4(),
                "at": NOW,
                "entity_type": "service",
                "entity_id": svc,
                "entity_version": 1,
                "action": "create",
                "change_request_id": cr,
                "changes": {"name": [None, "Soup"], "minimum_age": [None, 3]},
                "snapshot": {"name": "Soup", "translations": {"name@uk": "Суп"}},
            },
        ],
    }


def _read(db: Session, model: Any, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    table = model.__table__
    out = []
    for row in db.execute(select(table).where(table.c.id.in_(ids)).order_by(table.c.id)):
        values = dict(row._mapping)
        values.pop("id")
        for key in ("organization_id", "service_id", "location_id", "entity_id"):
            values.pop(key, None)  # ids differ between the two inserts
        values.pop("change_request_id", None)
        out.append(values)
    return out


def test_fast_insert_stores_what_a_plain_insert_stores(db: Session) -> None:
    fast, plain = _rows("a"), _rows("a")
    for model, rows in fast.items():
        insert_rows(db, model.__table__, rows, NOW)
    for model, rows in plain.items():
        # the plain way; a left-out timestamp gets the same `now` as insert_rows gives it
        timestamps = [
            c.key for c in model.__table__.columns if c.key in ("created_at", "updated_at")
        ]
        filled = [{**dict.fromkeys(timestamps, NOW), **row} for row in rows]
        for row in filled:
            db.execute(model.__table__.insert(), row)
    db.flush()
    for model in fast:
        got = _read(db, model, [r["id"] for r in fast[model]])
        want = _read(db, model, [r["id"] for r in plain[model]])
        assert len(got) == len(fast[model])
        assert sorted(map(repr, got)) == sorted(map(repr, want)), model.__tablename__
