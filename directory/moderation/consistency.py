"""One truth for status and capacity: a listing is never "full" with free places.

Status is a service's (`service.status`), free places a location's (`capacity_available`), so
a change to one implies a change to the other, written in the same change request (the same
savepoint, with its own audit entry pointing at that change request) and shown in its diff:

1. a service set to `full` has no free places: each of its live locations with free places
   above 0 gets 0;
2. free places above 0 at a location end `full` for every service there: status `active`,
   reason and end time cleared.

When one write sets both (an import row saying "full, 12 free"), `full` wins (rule 1 runs on
the service, rule 2 then finds no free places). Every write path applies these rules: the
per-record path (`apply._apply`, and `service.diff` shows them before approval) and the
set-based bulk writer (`bulk.BulkPublisher`, which adds them as operations of the same group).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.moderation.fields import dump

FULL = m.ServiceStatus.full.value
ACTIVE = m.ServiceStatus.active.value
#: The service fields "free places again" clears besides the status (reason, its code, until).
CLEARED_WITH_FULL = ("status_reason", "status_reason_code", "status_until")


@dataclass(frozen=True)
class Implied:
    """A change another record needs so that a write keeps status and capacity in step:
    `fields` as JSON values (what `fields.clean` returns), `current` their values now."""

    entity_type: str
    entity_id: uuid.UUID
    fields: dict[str, Any]
    current: dict[str, Any]


def sets_full(fields: Mapping[str, Any]) -> bool:
    return fields.get("status") == FULL


def frees_places(fields: Mapping[str, Any]) -> bool:
    value = fields.get("capacity_available")
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def locations_to_empty(session: Session, service_ids: Iterable[uuid.UUID]) -> list[Implied]:
    """Rule 1: the live locations of these (full) services that still show free places."""
    ids = list(service_ids)
    if not ids:
        return []
    sal, loc = m.ServiceAtLocation, m.Location
    rows = session.execute(
        select(loc.id, loc.capacity_available)
        .join(sal, sal.location_id == loc.id)
        .where(
            sal.service_id.in_(ids),
            sal.archived_at.is_(None),
            loc.archived_at.is_(None),
            loc.capacity_available > 0,
        )
        .distinct()
    )
    return [
        Implied("location", lid, {"capacity_available": 0}, {"capacity_available": free})
        for lid, free in sorted(rows, key=lambda r: str(r[0]))
    ]


def services_to_reopen(
    session: Session, location_ids: Iterable[uuid.UUID], *, keep: Iterable[uuid.UUID] = ()
) -> list[Implied]:
    """Rule 2: the live services marked full at these locations (which now have free places),
    except `keep` (services the same write sets to full: rule 1 wins)."""
    ids = list(location_ids)
    if not ids:
        return []
    sal, svc = m.ServiceAtLocation, m.Service
    skip = set(keep)
    rows = session.execute(
        select(svc.id, *(getattr(svc, name) for name in CLEARED_WITH_FULL))
        .join(sal, sal.service_id == svc.id)
        .where(
            sal.location_id.in_(ids),
            sal.archived_at.is_(None),
            svc.archived_at.is_(None),
            svc.status == m.ServiceStatus.full,
        )
        .distinct()
    )
    out = []
    for sid, *values in sorted(rows, key=lambda r: str(r[0])):
        if sid in skip:
            continue
        current: dict[str, Any] = {"status": FULL}
        fields: dict[str, Any] = {"status": ACTIVE}
        for name, value in zip(CLEARED_WITH_FULL, values, strict=True):
            if value is not None:
                current[name] = dump(value)
                fields[name] = None
        out.append(Implied("service", sid, fields, current))
    return out


def implied(
    session: Session, entity_type: str, entity_id: uuid.UUID, fields: Mapping[str, Any]
) -> list[Implied]:
    """What the change `fields` of one record implies for the records linked to it."""
    if entity_type == "service" and sets_full(fields):
        return locations_to_empty(session, [entity_id])
    if entity_type == "location" and frees_places(fields):
        return services_to_reopen(session, [entity_id])
    return []


def links(
    session: Session,
    *,
    service_ids: Iterable[uuid.UUID] = (),
    location_ids: Iterable[uuid.UUID] = (),
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The live (service, location) pairs of these services or locations (for the bulk
    writer, which plans many records at once)."""
    sal = m.ServiceAtLocation
    sids, lids = list(service_ids), list(location_ids)
    out: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for column, ids in ((sal.service_id, sids), (sal.location_id, lids)):
        for start in range(0, len(ids), 1000):
            out |= {
                (s, loc)
                for s, loc in session.execute(
                    select(sal.service_id, sal.location_id).where(
                        column.in_(ids[start : start + 1000]), sal.archived_at.is_(None)
                    )
                )
            }
    return sorted(out, key=lambda p: (str(p[0]), str(p[1])))


def current_states(
    session: Session,
    *,
    service_ids: Iterable[uuid.UUID] = (),
    location_ids: Iterable[uuid.UUID] = (),
) -> tuple[dict[uuid.UUID, dict[str, Any]], dict[uuid.UUID, int | None]]:
    """Stored status fields of live services and free places of live locations, by id."""
    svc, loc = m.Service, m.Location
    sids, lids = list(service_ids), list(location_ids)
    services: dict[uuid.UUID, dict[str, Any]] = {}
    places: dict[uuid.UUID, int | None] = {}
    for start in range(0, len(sids), 1000):
        for sid, status, *values in session.execute(
            select(svc.id, svc.status, *(getattr(svc, n) for n in CLEARED_WITH_FULL)).where(
                svc.id.in_(sids[start : start + 1000]), svc.archived_at.is_(None)
            )
        ):
            services[sid] = {
                "status": str(status),
                **{n: dump(v) for n, v in zip(CLEARED_WITH_FULL, values, strict=True)},
            }
    for start in range(0, len(lids), 1000):
        for lid, free in session.execute(
            select(loc.id, loc.capacity_available).where(
                loc.id.in_(lids[start : start + 1000]), loc.archived_at.is_(None)
            )
        ):
            places[lid] = free
    return services, places
