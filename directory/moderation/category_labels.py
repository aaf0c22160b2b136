"""The admin's edit of a category's labels, through the write path: one change request applied
by the admin (audited like any change), and the services in that category reindexed, since their
search documents hold its labels (`moderation.service`, `_services_touched`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import Account, Role
from directory.errors import Forbidden, NotFound
from directory.listings import models as m
from directory.moderation.models import ChangeKind, ChangeRequest
from directory.moderation.service import propose


def current_labels(session: Session, term: m.TaxonomyTerm) -> dict[str, str]:
    """{locale: label}: the English column and the translations."""
    labels = {"en": term.name}
    for locale, value in session.execute(
        select(m.Translation.locale, m.Translation.value).where(
            m.Translation.entity_type == "taxonomy_term",
            m.Translation.entity_id == term.id,
            m.Translation.field == "name",
        )
    ):
        labels[locale] = value
    return labels


def relabel_category(
    session: Session,
    *,
    actor: Account,
    term_id: uuid.UUID,
    labels: Mapping[str, str],
    now: dt.datetime | None = None,
) -> ChangeRequest | None:
    """Set the labels given (empty ones are left as they are); None when nothing changes."""
    if actor.role != Role.admin:
        raise Forbidden("Only admins change category labels")
    term = session.get(m.TaxonomyTerm, term_id)
    if term is None or term.archived_at is not None:
        raise NotFound("No such category")
    current = current_labels(session, term)
    changed = {loc: v for loc, v in labels.items() if v and current.get(loc) != v}
    if not changed:
        return None
    return propose(
        session,
        actor=actor,
        entity_type="taxonomy_term",
        kind=ChangeKind.update,
        entity_id=term.id,
        translations={"name": changed},
        base_version=term.version,
        source="manage",
        now=now,
    )
