"""A small directory for the HSDS API tests: an exact place with a postcode and categories, an
approximate one, a confidential shelter (with a postcode and street that must never show), a
service in another language, a taxonomy; and the validators (plain HSDS 3.1 and the profile)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from directory.listings.models import (
    Address,
    Location,
    Organization,
    Phone,
    Service,
    ServiceAtLocation,
    Taxonomy,
)
from tests.factories import categorise, make_place, make_term, translate

SECRET_STREET = "Secret street 7"
SECRET_POSTCODE = "79099"


@dataclass
class Seed:
    exact: Service
    approx: Service
    confidential: Service
    exact_loc: Location
    conf_loc: Location
    org: Organization
    taxonomy: Taxonomy
    term: Any
    sal: ServiceAtLocation

    def ids(self) -> dict[str, str]:
        return {
            "services": str(self.exact.id),
            "organizations": str(self.org.id),
            "service_at_locations": str(self.sal.id),
            "taxonomies": str(self.taxonomy.id),
            "taxonomy_terms": str(self.term.id),
        }


def _place(
    db: Session,
    org: Organization,
    region: Any,
    name: str,
    *,
    privacy: str,
    lat: str,
    lon: str,
    street: str,
    postcode: str,
    hotline: bool = False,
) -> tuple[Service, Location, ServiceAtLocation]:
    svc = Service(organization_id=org.id, name=name, description=f"{name}: beds and meals")
    loc = Location(
        organization_id=org.id,
        name=f"{name} building",
        description="Enter from the yard",
        latitude=Decimal(lat),
        longitude=Decimal(lon),
        region_id=region.id,
        privacy=privacy,
        capacity_maximum=40,
        capacity_available=7,
    )
    db.add_all([svc, loc])
    db.flush()
    sal = ServiceAtLocation(service_id=svc.id, location_id=loc.id)
    db.add(sal)
    db.add(
        Address(
            location_id=loc.id, address_1=street, city="Lviv", postal_code=postcode, country="UA"
        )
    )
    db.add(Phone(location_id=loc.id, number="+380441111111", is_hotline=hotline))
    db.add(Phone(service_id=svc.id, number="+380442222222"))
    db.flush()
    return svc, loc, sal


def seed(db: Session) -> Seed:
    from directory.search.index import reindex_services

    region = make_place(db, name="Lviv oblast")
    org = Organization(name="Warm Hands", description="Volunteers of Lviv")
    db.add(org)
    db.flush()
    exact, exact_loc, sal = _place(
        db, org, region, "Night shelter", privacy="exact", lat="49.8397", lon="24.0297",
        street="Shevchenko avenue 1", postcode="79000",
    )  # fmt: skip
    approx, _, _ = _place(
        db, org, region, "Kitchen", privacy="approximate", lat="49.8412", lon="24.0321",
        street="Hidden lane 3", postcode="79000",
    )  # fmt: skip
    confidential, conf_loc, _ = _place(
        db, org, region, "Women's refuge", privacy="confidential", lat="49.8421", lon="24.0311",
        street=SECRET_STREET, postcode=SECRET_POSTCODE, hotline=True,
    )  # fmt: skip
    taxonomy = Taxonomy(name="aid-directory categories", description="What help is offered")
    db.add(taxonomy)
    db.flush()
    term = make_term(db, code="shelter-test", name="Shelter", labels={"uk": "Прихисток"})
    term.taxonomy_id = taxonomy.id
    categorise(db, exact, term)
    categorise(db, confidential, term)
    translate(db, exact, "name", "uk", "Нічліжка")
    db.flush()
    reindex_services(db, [exact.id, approx.id, confidential.id])
    db.flush()
    return Seed(exact, approx, confidential, exact_loc, conf_loc, org, taxonomy, term, sal)


def age(db: Session, when: dt.datetime) -> None:
    """Every row's updated_at set to `when` (a past the changes of a test come after)."""
    from sqlalchemy import update

    from directory.listings import models as m

    for model in (
        m.Service, m.Organization, m.Location, m.ServiceAtLocation, m.Phone, m.Address,
        m.Attribute, m.Translation, m.TaxonomyTerm, m.Taxonomy, m.Schedule, m.Language,
    ):  # fmt: skip
        db.execute(
            update(model).values(updated_at=when).execution_options(synchronize_session=False)
        )
    db.flush()
    db.expire_all()


def new_id() -> str:
    return str(uuid.uuid4())
