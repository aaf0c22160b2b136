"""What a published import keeps from its file beyond the fields the write path takes, so that
a partner's copy is the same directory (`docs/exchange.md`, "the round trip").

The write path (`moderation.bulk`) gives every record it creates for a listing's links and
categories a new id, and sets the bookkeeping times and the verifier itself. A file exported by
another installation states them; for the records this import writes:

- each service-at-location link and each category attribute the import creates gets the file's
  id (when no other record has it): handed to the write path before each batch (`kept_ids`),
  which creates the rows with them;
- after each published batch, a new or re-statused service keeps the file's `x_status_since`,
  a new or re-verified one its `assurer_email`; a new place, or one whose places changed, the
  time its capacity was counted (`capacities[].updated`; HSDS 3.0 files: `x_capacity_updated`).

Content — names, statuses, capacities, references — goes through the write path, checked and
audited as any change; only these ids and times are copied, in the same transaction.

`defer_later_refs` holds back a service's `alternative_service_id` that names a service of a
later batch (not written yet) and `later_ref_bundles` writes them once everything is there.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from directory.exchange.import_records import Bundle, Rec
from directory.exchange.import_report import Problem
from directory.listings import models as m

if TYPE_CHECKING:
    from directory.exchange.bulk_import import BulkImport

_CAPACITY = {"capacity_available", "capacity_maximum"}


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def keep_from_file(
    session: Session,
    bundles: list[Bundle],
    *,
    now: dt.datetime,
    ids: tuple[dict[Any, uuid.UUID], dict[Any, uuid.UUID]] | None = None,
) -> None:
    """After a batch is published: the file's bookkeeping times on what it wrote, and the ids
    of `kept_ids` its rows were not created with (`ids`: what the write left of them; default:
    all of them, for a writer that does not take them).

    Core UPDATEs, one executemany per statement shape (the rows were written by Core: no ORM
    object of them is in the session to keep in step)."""
    services: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for b in bundles:
        s = b.service
        if s.state in ("duplicate", "unchanged"):
            continue
        values: dict[str, Any] = {}
        fresh = s.state == "new"
        if "__status_since__" in s.payload and (fresh or "status" in s.changed_fields):
            values["status_since"] = _time(s.payload["__status_since__"])
        if "__assurer_email__" in s.payload and (fresh or "assured_date" in s.changed_fields):
            values["assurer_email"] = s.payload["__assurer_email__"]
        if values:
            services.setdefault(tuple(values), []).append(
                {"_id": s.existing_id or s.id, **{"v_" + k: v for k, v in values.items()}}
            )
    t: Any = m.Service.__table__
    for names, rows in services.items():
        session.execute(
            update(t)
            .where(t.c.id == bindparam("_id"))
            .values({n: bindparam("v_" + n) for n in names}),
            rows,
        )
    counted = [
        {"_id": rec.existing_id or rec.id, "v_at": _time(rec.payload["__capacity_updated__"])}
        for b in bundles
        for rec in b.locations
        if _capacity_stated(rec)
    ]
    if counted:
        loc: Any = m.Location.__table__
        session.execute(
            update(loc)
            .where(loc.c.id == bindparam("_id"))
            .values(capacity_updated=bindparam("v_at")),
            counted,
        )
    links, categories = ids if ids is not None else kept_ids(session, bundles)
    _keep_ids(session, links, categories, now=now)


def _capacity_stated(rec: Rec) -> bool:
    if "__capacity_updated__" not in rec.payload:
        return False
    return rec.state == "new" or bool(_CAPACITY & set(rec.changed_fields))


def kept_ids(
    session: Session, bundles: list[Bundle]
) -> tuple[
    dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID], dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID]
]:
    """Before a batch is published: the file's id for each link ((location id, service id) →
    id) and category attribute ((service id, term id) → id) it may create, where no row of
    either table has that id yet and no earlier one of the batch takes it. The bulk writer
    creates the rows with them (`BulkPublisher.link_ids`, `.attribute_ids`), so that no
    primary key is rewritten afterwards (on SQLite each such UPDATE of a link scanned the phones
    for references to it)."""
    sal: Any = m.ServiceAtLocation.__table__
    attr: Any = m.Attribute.__table__
    rows = session.execute(select(m.TaxonomyTerm.code, m.TaxonomyTerm.id)).all()
    terms: dict[str, uuid.UUID] = {row.code: row.id for row in rows}
    links = {k: v for b in bundles for k, v in b.link_ids.items()}
    categories = {
        (b.service.existing_id or b.service.id, terms[code]): attr_id
        for b in bundles
        if b.service.state not in ("duplicate", "unchanged")
        for code, attr_id in b.category_ids.items()
        if code in terms
    }
    wanted = [*links.values(), *categories.values()]
    taken = _existing(session, sal, wanted) | _existing(session, attr, wanted)
    link_ids = {}
    for key, link_id in links.items():
        if link_id not in taken:
            link_ids[key] = link_id
            taken.add(link_id)
    attribute_ids = {}
    for key, attr_id in categories.items():
        if attr_id not in taken:
            attribute_ids[key] = attr_id
            taken.add(attr_id)
    return link_ids, attribute_ids


def _keep_ids(
    session: Session,
    links: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID],
    categories: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID],
    *,
    now: dt.datetime,
) -> None:
    """The kept ids on rows this import created before (e.g. a service stated twice)."""
    sal: Any = m.ServiceAtLocation.__table__
    attr: Any = m.Attribute.__table__
    if links:
        session.execute(
            update(sal)
            .where(
                sal.c.location_id == bindparam("_lid"),
                sal.c.service_id == bindparam("_sid"),
                sal.c.created_at == bindparam("_now"),
            )
            .values(id=bindparam("v_id")),
            [
                {"_lid": lid, "_sid": sid, "_now": now, "v_id": link_id}
                for (lid, sid), link_id in links.items()
            ],
        )
    if categories:
        session.execute(
            update(attr)
            .where(
                attr.c.link_entity == "service",
                attr.c.link_id == bindparam("_sid"),
                attr.c.taxonomy_term_id == bindparam("_term"),
                attr.c.archived_at.is_(None),
                attr.c.created_at == bindparam("_now"),
            )
            .values(id=bindparam("v_id")),
            [
                {"_sid": sid, "_term": term_id, "_now": now, "v_id": attr_id}
                for (sid, term_id), attr_id in categories.items()
            ],
        )


def _existing(session: Session, table: Any, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        found |= set(session.scalars(select(table.c.id).where(table.c.id.in_(chunk))))
    return found


# --- references to services of later batches ---------------------------------------------------


def defer_later_refs(session: Session, bundles: list[Bundle]) -> list[tuple[Rec, str]]:
    """Take out of this batch each `alternative_service_id` that names a service not in the
    directory yet (a service of this batch or a later one: rows are inserted together, and a
    reference must point at a row that is there). Returns (service record, alternative) to
    write once everything is (`later_ref_bundles`)."""
    wanted: set[str] = set()
    for b in bundles:
        ref = b.service.payload.get("alternative_service_id")
        if isinstance(ref, str) and b.service.state not in ("duplicate", "unchanged"):
            wanted.add(ref)
    if not wanted:
        return []
    t = m.Service.__table__
    there = {
        str(x)
        for x in session.scalars(select(t.c.id).where(t.c.id.in_([uuid.UUID(x) for x in wanted])))
    }
    held: list[tuple[Rec, str]] = []
    for b in bundles:
        rec = b.service
        ref = rec.payload.get("alternative_service_id")
        if not isinstance(ref, str) or ref in there or rec.state in ("duplicate", "unchanged"):
            continue
        rec.payload.pop("alternative_service_id")
        if "alternative_service_id" in rec.changed_fields:
            rec.changed_fields.remove("alternative_service_id")
        held.append((rec, ref))
    return held


def later_ref_bundles(held: list[tuple[Rec, str]]) -> list[Bundle]:
    """One update per held reference, now that every service of the file is written."""
    out = []
    for rec, ref in held:
        update_rec = Rec(
            "service",
            rec.existing_id or rec.id,
            {"alternative_service_id": ref},
            rec.file,
            rec.line,
            rec.path,
            state="changed",
            existing_id=rec.existing_id or rec.id,
            changed_fields=["alternative_service_id"],
        )
        out.append(Bundle(update_rec, None, [], [], None))
    return out


class KeepingPublisher:
    """`bulk_import.BulkImport` batch by batch, keeping what the file states beyond the write
    path's fields (`keep_from_file`) and writing references to later services at the end."""

    def __init__(self, session: Session, bulk: BulkImport, *, now: dt.datetime) -> None:
        self.session, self.bulk, self.now = session, bulk, now
        self.held: list[tuple[Rec, str]] = []

    @property
    def change_requests(self) -> int:
        return self.bulk.change_requests

    def apply(self, bundles: list[Bundle]) -> None:
        self.held += defer_later_refs(self.session, bundles)
        publisher = self.bulk.publisher
        publisher.link_ids, publisher.attribute_ids = kept_ids(self.session, bundles)
        self.bulk.apply(bundles)  # ApplyFailed (errors in the report) on any refusal
        left = (publisher.link_ids, publisher.attribute_ids)
        publisher.link_ids, publisher.attribute_ids = {}, {}
        keep_from_file(self.session, bundles, now=self.now, ids=left)

    def finish(self) -> None:
        if self.held:
            t = m.Service.__table__
            refs = [uuid.UUID(ref) for _, ref in self.held]
            there = {str(x) for x in self.session.scalars(select(t.c.id).where(t.c.id.in_(refs)))}
            for rec, ref in self.held:
                if ref not in there:  # a foreign file may name a service it does not carry
                    self.bulk.report.warn(
                        Problem(
                            rec.file,
                            rec.line,
                            rec.path,
                            "x_alternative_service_id",
                            f"names service {ref}, neither in the file nor in the directory: "
                            "left empty",
                        )
                    )
            self.bulk.apply(later_ref_bundles([h for h in self.held if h[1] in there]))
            self.held = []
        self.bulk.finish()
