"""The ODbL attribution of a listing whose place came from OpenStreetMap (service pages)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.exchange.osm import ATTRIBUTION, ID_TYPE
from directory.listings import models as m


def service_attribution(session: Session, service_id: uuid.UUID) -> str | None:
    """`© OpenStreetMap contributors, ODbL` when a place of the service came from OSM."""
    loc, sal = m.Location.__table__, m.ServiceAtLocation.__table__
    found = session.scalar(
        select(loc.c.id)
        .join(sal, sal.c.location_id == loc.c.id)
        .where(
            sal.c.service_id == service_id,
            loc.c.external_identifier_type == ID_TYPE,
            loc.c.archived_at.is_(None),
        )
        .limit(1)
    )
    return ATTRIBUTION if found is not None else None
