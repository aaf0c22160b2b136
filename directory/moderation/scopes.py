"""Where a record is, for region scopes: its places (region, city), the change request's
region and service.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.listings import models as m


def _places(
    session: Session, entity_type: str, record: Any, cleaned: dict[str, Any]
) -> list[uuid.UUID | None]:
    """The places (regions, cities) a record is in, for region scopes."""

    def ref(name: str) -> uuid.UUID | None:
        value = cleaned.get(name) if name in cleaned else getattr(record, name, None)
        return uuid.UUID(value) if isinstance(value, str) else value

    if entity_type == "location":
        return [ref("region_id"), ref("place_id")]
    if entity_type == "notice":
        return [ref("region_id")]
    if entity_type in ("address", "accessibility"):
        return _location_places(session, [ref("location_id")])
    if entity_type == "service":
        return _location_places(session, _service_locations(session, [getattr(record, "id", None)]))
    if entity_type in ("phone", "schedule", "schedule_exception", "language", "required_document"):
        loc_ids = [ref("location_id")]
        loc_ids += _service_locations(session, [ref("service_id")])
        return _location_places(session, loc_ids)
    if entity_type == "organization" and record is not None:
        loc_ids = list(
            session.scalars(select(m.Location.id).where(m.Location.organization_id == record.id))
        )
        return _location_places(session, loc_ids)
    return []


def _service_locations(
    session: Session, service_ids: list[uuid.UUID | None]
) -> list[uuid.UUID | None]:
    ids = [s for s in service_ids if s is not None]
    if not ids:
        return []
    return list(
        session.scalars(
            select(m.ServiceAtLocation.location_id).where(m.ServiceAtLocation.service_id.in_(ids))
        )
    )


def _location_places(
    session: Session, location_ids: list[uuid.UUID | None]
) -> list[uuid.UUID | None]:
    ids = [i for i in location_ids if i is not None]
    if not ids:
        return []
    rows = session.execute(
        select(m.Location.region_id, m.Location.place_id).where(m.Location.id.in_(ids))
    )
    return [p for row in rows for p in row]


def _region_of(session: Session, places: list[uuid.UUID | None]) -> uuid.UUID | None:
    for pid in places:
        if pid is None:
            continue
        place = session.get(m.Place, pid)
        if place is not None and place.kind == m.PlaceKind.region:
            return pid
        if place is not None and place.parent_id is not None:
            parent = session.get(m.Place, place.parent_id)
            if parent is not None and parent.kind == m.PlaceKind.region:
                return parent.id
    return next((p for p in places if p is not None), None)


def _service_of(
    session: Session, entity_type: str, entity_id: uuid.UUID, record: Any, cleaned: dict[str, Any]
) -> uuid.UUID | None:
    if entity_type == "service":
        return entity_id
    sid = cleaned.get("service_id") or getattr(record, "service_id", None)
    if sid:
        return uuid.UUID(sid) if isinstance(sid, str) else sid
    loc = (
        entity_id
        if entity_type == "location"
        else (cleaned.get("location_id") or getattr(record, "location_id", None))
    )
    if loc:
        loc_id = uuid.UUID(loc) if isinstance(loc, str) else loc
        return session.scalar(
            select(m.ServiceAtLocation.service_id)
            .where(m.ServiceAtLocation.location_id == loc_id)
            .limit(1)
        )
    return None


def in_scope_of(session: Session, place: uuid.UUID | None, region_id: uuid.UUID) -> bool:
    """Whether `place` is `region_id` or inside it."""
    from directory.accounts.service import place_with_ancestors

    return place is not None and region_id in place_with_ancestors(session, [place])
