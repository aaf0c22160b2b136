"""Public reads the shared read path (`listings.queries`) does not cover yet: organisations and
locations by id and as keyset-paginated lists. Whereabouts go through the shared redaction rule
(`listings.privacy.public_location_view`), texts through `listings.texts`, so nothing
confidential can leave here either."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.errors import ValidationFailed
from directory.listings import models as m
from directory.listings.privacy import public_location_view
from directory.listings.texts import texts_for


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw)
    except (ValueError, TypeError):
        raise ValidationFailed([{"path": "cursor", "message": "is not a cursor we gave"}]) from None


def _page(
    session: Session, model: Any, *, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    stmt = select(model).where(model.archived_at.is_(None)).order_by(model.id).limit(limit + 1)
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(model.id > after)
    rows = list(session.scalars(stmt))
    nxt = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], nxt


def _org_json(session: Session, orgs: list[m.Organization], locale: str) -> list[dict[str, Any]]:
    texts = texts_for(
        session,
        entity_type="organization",
        ids=[o.id for o in orgs],
        fields=["name", "alternate_name", "description"],
        locale=locale,
    )

    def tx(oid: uuid.UUID, name: str) -> str | None:
        value = texts.get((oid, name))
        return value.value if value is not None and value.value else None

    return [
        {
            "id": str(o.id),
            "name": tx(o.id, "name") or o.name,
            "alternate_name": tx(o.id, "alternate_name"),
            "description": tx(o.id, "description"),
            "email": o.email,
            "website": o.website,
            "legal_status": o.legal_status,
            "is_demo": o.is_demo,
            "version": o.version,
        }
        for o in orgs
    ]


def list_organizations(
    session: Session, *, locale: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    rows, nxt = _page(session, m.Organization, cursor=cursor, limit=limit)
    return _org_json(session, rows, locale), nxt


def get_organization(session: Session, org_id: uuid.UUID, *, locale: str) -> dict[str, Any] | None:
    org = session.get(m.Organization, org_id)
    if org is None or org.archived_at is not None:
        return None
    return _org_json(session, [org], locale)[0]


def _location_json(session: Session, locs: list[m.Location], locale: str) -> list[dict[str, Any]]:
    ids = [x.id for x in locs]
    texts = texts_for(
        session,
        entity_type="location",
        ids=ids,
        fields=["name", "description", "transportation"],
        locale=locale,
    )
    addresses: dict[uuid.UUID, list[m.Address]] = {}
    for a in session.scalars(
        select(m.Address).where(m.Address.location_id.in_(ids), m.Address.archived_at.is_(None))
    ):
        addresses.setdefault(a.location_id, []).append(a)
    phones: dict[uuid.UUID, list[m.Phone]] = {}
    for p in session.scalars(
        select(m.Phone).where(m.Phone.location_id.in_(ids), m.Phone.archived_at.is_(None))
    ):
        if p.location_id is not None:
            phones.setdefault(p.location_id, []).append(p)

    def tx(lid: uuid.UUID, name: str) -> str | None:
        value = texts.get((lid, name))
        return value.value if value is not None and value.value else None

    out = []
    for loc in locs:
        view = public_location_view(loc)
        out.append(
            {
                "id": str(loc.id),
                "organization_id": str(loc.organization_id) if loc.organization_id else None,
                "location_type": loc.location_type,
                "name": tx(loc.id, "name") if view.show_address else None,  # a name can locate
                "description": tx(loc.id, "description") if view.show_directions else None,
                "transportation": tx(loc.id, "transportation") if view.show_directions else None,
                "latitude": float(view.latitude) if view.latitude is not None else None,
                "longitude": float(view.longitude) if view.longitude is not None else None,
                "addresses": [
                    {
                        "address_1": a.address_1 if view.show_street_address else None,
                        "address_2": a.address_2 if view.show_street_address else None,
                        "postal_code": a.postal_code if view.show_street_address else None,
                        "city": a.city,
                        "region": a.region,
                        "state_province": a.state_province,
                        "country": a.country,
                        "address_type": a.address_type,
                    }
                    for a in addresses.get(loc.id, [])
                ]
                if view.show_address
                else [],
                "phones": [
                    {
                        "number": p.number,
                        "extension": p.extension,
                        "type": p.type,
                        "is_hotline": p.is_hotline,
                    }
                    for p in phones.get(loc.id, [])
                    if p.is_hotline or not view.only_hotline_phones
                ],
                "privacy": loc.privacy.value if hasattr(loc.privacy, "value") else loc.privacy,
                "approximate": view.approximate,
                "region_id": str(loc.region_id) if loc.region_id else None,
                "place_id": str(loc.place_id) if loc.place_id else None,
                "timezone": loc.timezone,
                "shelter_type": loc.shelter_type.value if loc.shelter_type else None,
                "capacity_maximum": loc.capacity_maximum,
                "capacity_available": loc.capacity_available,
                "capacity_updated": loc.capacity_updated.isoformat()
                if loc.capacity_updated
                else None,
                "has_heating": loc.has_heating,
                "has_power": loc.has_power,
                "has_water": loc.has_water,
                "has_internet": loc.has_internet,
                "has_toilets": loc.has_toilets,
                "wheelchair_accessible": loc.wheelchair_accessible,
                "pets_allowed": loc.pets_allowed,
                "women_children_only": loc.women_children_only,
                "open_24_7": loc.open_24_7,
                "is_demo": loc.is_demo,
                "version": loc.version,
            }
        )
    return out


def list_locations(
    session: Session, *, locale: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    rows, nxt = _page(session, m.Location, cursor=cursor, limit=limit)
    return _location_json(session, rows, locale), nxt


def get_location(session: Session, location_id: uuid.UUID, *, locale: str) -> dict[str, Any] | None:
    loc = session.get(m.Location, location_id)
    if loc is None or loc.archived_at is not None:
        return None
    return _location_json(session, [loc], locale)[0]


def current_version(session: Session, entity_type: str, entity_id: uuid.UUID) -> int | None:
    """The version (ETag) of any editable record, archived or not."""
    from directory.moderation.fields import MODELS

    model = MODELS.get(entity_type)
    if model is None:
        return None
    return session.scalar(select(model.version).where(model.id == entity_id))
