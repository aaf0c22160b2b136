"""Which services the public sees at all: not archived, not inactive or defunct. The one place
for that rule: the search index (`search.index`) holds only these, and every read checks it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from directory.listings import models as m

HIDDEN_STATUSES = (m.ServiceStatus.inactive, m.ServiceStatus.defunct)


def visible() -> ColumnElement[bool]:
    """SQL: the service (`m.Service` in the statement) is listed publicly."""
    return and_(m.Service.archived_at.is_(None), m.Service.status.notin_(HIDDEN_STATUSES))
