"""One rule, two writers: the same proposals through the per-record path (`propose`, approved
by a second admin where the fraud guard holds them) and through the set-based bulk writer
(`BulkPublisher`) leave the same rows and the same audit (changes and snapshots), and are
refused with the same errors. Both writers plan a record's change with `moderation.plan`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.errors import ValidationFailed
from directory.listings import models as m
from directory.moderation import service as mod
from directory.moderation.bulk import BulkPublisher, BulkRefused
from directory.moderation.fields import MODELS
from directory.moderation.models import AuditEntry, ChangeState
from tests.factories import make_account, make_place, make_term

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
ORG, SVC, LOC, ADDR, PHONE, SCHED = (uuid.UUID(int=i) for i in range(1, 7))

Op = tuple[str, str, uuid.UUID, dict[str, Any] | None, dict[str, dict[str, str]] | None]


def _phases(region: uuid.UUID) -> list[list[Op]]:
    """Creates, then updates and an archive, then a restore and more updates."""
    return [
        [
            (
                "organization",
                "create",
                ORG,
                {"name": "Helping Hands", "email": "a@example.org"},
                None,
            ),
            (
                "service",
                "create",
                SVC,
                {
                    "organization_id": str(ORG),
                    "name": "Night shelter",
                    "description": "Beds for the night.",
                    "minimum_age": 18,
                    "categories": ["shelter", "food"],
                },
                {"name": {"uk": "Нічний притулок"}, "description": {"en": "Beds, warm."}},
            ),
            (
                "location",
                "create",
                LOC,
                {
                    "organization_id": str(ORG),
                    "name": "Main hall",
                    "latitude": "50.45",
                    "longitude": "30.5234",
                    "region_id": str(region),
                    "capacity_maximum": 40,
                    "capacity_available": 12,
                    "has_heating": True,
                    "service_ids": [str(SVC)],
                },
                None,
            ),
            (
                "address",
                "create",
                ADDR,
                {
                    "location_id": str(LOC),
                    "address_1": "Khreshchatyk 1",
                    "city": "Kyiv",
                    "country": "UA",
                },
                None,
            ),
            (
                "phone",
                "create",
                PHONE,
                {"service_id": str(SVC), "number": "+380 44 123 4567"},
                None,
            ),
            (
                "schedule",
                "create",
                SCHED,
                {
                    "service_id": str(SVC),
                    "freq": "WEEKLY",
                    "byday": "MO,TU",
                    "opens_at": "09:00",
                    "closes_at": "17:00",
                },
                None,
            ),
        ],
        [
            (
                "service",
                "update",
                SVC,
                {"name": "Night shelter (winter)", "maximum_age": 99, "categories": ["shelter"]},
                {"description": {"uk": "Ліжка на ніч.", "en": "Beds for the night, warm."}},
            ),
            ("location", "update", LOC, {"capacity_available": 30, "latitude": "50.4501"}, None),
            ("phone", "archive", PHONE, None, None),
            ("organization", "update", ORG, {"description": "Volunteers since 2022."}, None),
        ],
        [
            ("phone", "restore", PHONE, None, None),
            ("service", "update", SVC, None, {"name": {"uk": "Зимовий нічний притулок"}}),
            ("schedule", "update", SCHED, {"closes_at": "18:30"}, None),
        ],
    ]


def _now(phase: int) -> dt.datetime:
    # a time of each phase (the ORM writes no UPDATE of a value that stays the same)
    return NOW + dt.timedelta(minutes=phase)


def _per_record(db: Session, phases: list[list[Op]], admin: Any, second: Any) -> None:
    for i, phase in enumerate(phases):
        for entity_type, kind, entity_id, fields, texts in phase:
            cr = mod.propose(
                db,
                actor=admin,
                entity_type=entity_type,
                kind=kind,
                entity_id=entity_id,
                changes=fields,
                translations=texts,
                source="import",
                now=_now(i),
            )
            if cr.state == ChangeState.pending:  # the fraud guard: another admin approves
                mod.approve(db, change_id=cr.id, reviewer=second, now=_now(i))
            assert cr.state == ChangeState.approved


def _bulk(db: Session, phases: list[list[Op]], admin: Any, second: Any) -> None:
    for i, phase in enumerate(phases):
        pub = BulkPublisher(db, approver=admin, comment="test", now=_now(i))
        group = uuid.uuid4()
        for entity_type, kind, entity_id, fields, texts in phase:
            pub.add(entity_type, kind, entity_id, group=group, fields=fields, translations=texts)
        pub.finish()


def _state(db: Session) -> dict[str, Any]:
    """The rows the writes left (but created_at: the ORM stamps the flush's time) and their
    audit (but who and which change request: one per record vs one per group)."""
    db.expire_all()
    ids = {ORG, SVC, LOC, ADDR, PHONE, SCHED}
    rows = {}
    for entity_type, model in MODELS.items():
        table = model.__table__
        for row in db.execute(select(table).where(table.c.id.in_(ids))):
            rows[(entity_type, row.id)] = {
                k: v for k, v in row._mapping.items() if k not in ("created_at",)
            }
    t = m.Translation
    texts = sorted(
        db.execute(
            select(t.entity_type, t.entity_id, t.field, t.locale, t.value).where(
                t.entity_id.in_(ids)
            )
        ).all()
    )
    links = sorted(
        db.execute(
            select(m.ServiceAtLocation.service_id, m.ServiceAtLocation.location_id).where(
                m.ServiceAtLocation.service_id == SVC
            )
        ).all()
    )
    categories = sorted(
        db.scalars(
            select(m.TaxonomyTerm.code)
            .join(m.Attribute, m.Attribute.taxonomy_term_id == m.TaxonomyTerm.id)
            .where(m.Attribute.link_id == SVC)
        )
    )
    audit = sorted(
        (
            (
                a.entity_type,
                str(a.entity_id),
                a.entity_version,
                a.action,
                a.at,
                a.changes,
                a.snapshot,
            )
            for a in db.scalars(select(AuditEntry).where(AuditEntry.entity_id.in_(ids)))
        ),
        key=lambda e: (e[0], e[1], e[2]),
    )
    return {"rows": rows, "texts": texts, "links": links, "categories": categories, "audit": audit}


def _run(db: Session, writer: Callable[..., None], phases: list[list[Op]], *people: Any) -> Any:
    savepoint = db.begin_nested()
    try:
        writer(db, phases, *people)
        db.flush()
        return _state(db)
    finally:
        savepoint.rollback()


def test_both_writers_leave_the_same_rows_and_audit(db: Session) -> None:
    region = make_place(db)
    make_term(db, code="shelter", name="Shelter")
    make_term(db, code="food", name="Food")
    admin, second = make_account(db, "admin"), make_account(db, "admin")
    phases = _phases(region.id)

    one = _run(db, _per_record, phases, admin, second)
    bulk = _run(db, _bulk, phases, admin, second)

    assert len(one["rows"]) == 6 and len(one["audit"]) == 13
    assert one["categories"] == ["shelter"] and one["links"] == [(SVC, LOC)]
    assert [r for r in one["texts"] if r[1] == SVC] == [
        ("service", SVC, "description", "uk", "Ліжка на ніч."),
        ("service", SVC, "name", "uk", "Зимовий нічний притулок"),
    ]
    for record, values in one["rows"].items():
        other = bulk["rows"][record]
        assert {k: (values[k], v) for k, v in other.items() if values[k] != v} == {}, record
    for key in ("rows", "texts", "links", "categories"):
        assert bulk[key] == one[key], key
    for a, b in zip(one["audit"], bulk["audit"], strict=True):
        assert b == a


@pytest.mark.parametrize(
    ("entity_type", "fields", "texts"),
    [
        (
            "location",
            {"organization_id": "ORG", "capacity_maximum": 5, "capacity_available": 9},
            None,
        ),
        ("location", {"organization_id": "ORG", "latitude": "50.1"}, None),
        ("location", {"organization_id": "ORG", "no_such_field": 1}, None),
        (
            "service",
            {"organization_id": "ORG", "name": "S", "minimum_age": 30, "maximum_age": 20},
            None,
        ),
        ("service", {"name": "S"}, None),
        ("service", {"organization_id": "ORG", "name": "S"}, {"name": {"xx": "?"}}),
        ("service", {"organization_id": "ORG", "name": "S"}, {"minimum_age": {"uk": "3"}}),
        ("schedule", {"opens_at": "09:00"}, None),
    ],
)
def test_both_writers_refuse_alike(
    db: Session, entity_type: str, fields: dict[str, Any], texts: Any
) -> None:
    admin = make_account(db, "admin")
    org = m.Organization(name="Org")
    db.add(org)
    db.flush()
    fields = {k: (str(org.id) if v == "ORG" else v) for k, v in fields.items()}
    with pytest.raises(ValidationFailed) as one:
        mod.propose(
            db,
            actor=admin,
            entity_type=entity_type,
            kind="create",
            changes=fields,
            translations=texts,
        )
    pub = BulkPublisher(db, approver=admin, comment="test")
    pub.add(
        entity_type, "create", uuid.uuid4(), group=uuid.uuid4(), fields=fields, translations=texts
    )
    with pytest.raises(BulkRefused) as bulk:
        pub.flush()
    assert bulk.value.errors == one.value.errors
