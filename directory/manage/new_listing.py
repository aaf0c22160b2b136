"""A new listing proposed from the manage app: a service of an existing organisation, and for
moderators (whose changes apply at once) its place and phone number too.

Why volunteers propose only the service: the write path refuses a record that refers to a
not-yet-approved one (a location of a pending service), see CONTRACTS "Requests from the
importer". Until pending creates can depend on each other, what a volunteer knows of the place
and phone travels in the note to the moderator, who adds them after checking.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.errors import DomainError
from directory.manage.edit import EditRefused
from directory.moderation import service as moderation
from directory.moderation.models import ChangeRequest, ChangeState


def _note(typed: Mapping[str, str]) -> str:
    from directory.i18n import gettext as _

    parts = [typed.get("comment", "")]
    if typed.get("address"):
        parts.append(_("Address: %(value)s", value=typed["address"]))
    if typed.get("phone"):
        parts.append(_("Phone: %(value)s", value=typed["phone"]))
    return "\n".join(p for p in parts if p)[:5000]


def submit(session: Session, *, actor: Account, typed: Mapping[str, str], categories: list[str],
           locale: str, timezone: str) -> ChangeRequest:
    """Propose the service (and, when it is published at once, its location and phone)."""
    org = typed.get("organization_id", "")
    savepoint = session.begin_nested()
    try:
        try:
            cr = moderation.propose(
                session, actor=actor, entity_type="service", kind="create",
                changes={"organization_id": org or None, "source_locale": locale,
                         "name": typed.get("name") or None,
                         "description": typed.get("description", ""),
                         "categories": categories, "status": "active", "audience": ""},
                comment=_note(typed), source="web",
            )
        except DomainError as exc:
            raise EditRefused(exc, "") from exc
        if cr.state == ChangeState.approved and typed.get("city"):
            try:
                loc = moderation.propose(
                    session, actor=actor, entity_type="location", kind="create",
                    changes={"organization_id": org, "name": typed.get("name") or None,
                             "source_locale": locale, "timezone": timezone,
                             "service_ids": [str(cr.entity_id)]},
                    source="web",
                )
                moderation.propose(
                    session, actor=actor, entity_type="address", kind="create",
                    changes={"location_id": str(loc.entity_id), "address_1": typed.get("address") or "-",
                             "city": typed["city"], "country": typed.get("country") or "UA"},
                    source="web",
                )
                if typed.get("phone"):
                    moderation.propose(
                        session, actor=actor, entity_type="phone", kind="create",
                        changes={"location_id": str(loc.entity_id), "number": typed["phone"]},
                        source="web",
                    )
            except DomainError as exc:
                raise EditRefused(exc, "") from exc
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return cr



