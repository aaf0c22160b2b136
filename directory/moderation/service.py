"""The one write path: every change to listing data is proposed, reviewed and applied here,
version-checked and audited. The API, the manage app, the importer and the CLI all call it.

UI-agnostic (no FastAPI), session first, keyword-only arguments, never commits; raises
`directory.errors.*`. Entity types: organization, service, location, address, phone, schedule,
notice (see `fields.FIELDS` for what may be changed).

    propose(session, *, actor, entity_type, kind, entity_id=None, changes=None,
            translations=None, base_version=None, comment=None, source="api",
            trusted_publish=False, now=None) -> ChangeRequest
        Validates (ValidationFailed with a path per bad field), checks `base_version` against the
        record (PreconditionFailed with current_version) and the actor's role and regions
        (Forbidden). A moderator's/admin's change is applied at once (state `approved`, they are
        the reviewer) unless the fraud guard holds it; a volunteer's stays `pending`, except a
        trusted volunteer's status/capacity update when `trusted_publish` (applied, needs_review).
        `changes`: {field: value}; `translations`: {field: {locale: text}}; kinds: create,
        update, archive, restore, status, capacity, verify.
    approve(session, *, change_id, reviewer, now=None) -> ChangeRequest
        Applies atomically. Forbidden for the author, volunteers and out-of-region moderators.
        When the record moved on since base_version, a three-way merge on fields: Conflict (409,
        extra current_version + diff + conflicts) only if a field (or translation) the proposal
        touches was changed since (per the audit log) to something else than it proposes;
        otherwise it is applied on top of the current record (still version-checked).
    reject(session, *, change_id, reviewer, reason) -> ChangeRequest   (reason shown to the author)
    withdraw(session, *, change_id, actor) -> ChangeRequest            (the author's own, pending)
    acknowledge(session, *, change_id, reviewer) -> ChangeRequest      (clears needs_review)
    revert(session, *, actor, entity_type, entity_id, to_version, comment=None, now=None)
        -> ChangeRequest   (a new, audited change restoring the values at `to_version`)
    get_change(session, *, change_id, viewer) -> ChangeRequest   (author or moderator in scope)
    diff(session, *, change) -> list[FieldChange]   (field by field vs the published record)
    queue(session, *, viewer, region_id=None, category=None, kind=None, older_than=None,
          limit=100) -> QueueView
    my_changes(session, *, author, state=None, limit=100) -> list[ChangeRequest]
    report(session, *, service_id, kind, text=None, locale=None, now=None) -> Report
    resolve_report(session, *, report_id, moderator, dismiss=False) -> Report
    audit(session, *, viewer, entity_type=None, entity_id=None, limit=100, before=None)
        -> list[AuditEntry]
    propose_group(session, *, actor, records: list[GroupRecord], comment=None, source="api",
                  now=None) -> list[ChangeRequest]
        A new listing as one group of creates that refer to each other (same `group_id`);
        `propose(..., group_id=...)` adds one record to a group. Approving or rejecting any
        change of a group approves (parents first, atomically) or rejects the whole group;
        withdrawing withdraws it. The queue lists a group once (its head, the service's create;
        members in `QueueView.groups`); `group_of(session, *, change)` gives the members.
    deferred_reindex(session) -> context manager yielding set[uuid.UUID]
        Applies inside it collect the services to reindex instead of reindexing each change;
        the caller reindexes them once (`search.index.reindex_services`) before committing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from directory.accounts.models import Account, Role
from directory.accounts.service import in_scope, is_moderator, region_ids
from directory.db import utcnow
from directory.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    TooManyRequests,
    ValidationFailed,
)
from directory.listings import models as m
from directory.listings.taxonomy import services_with_term
from directory.moderation import consistency
from directory.moderation.fields import (
    CAPACITY_FIELDS,
    FIELDS,
    GROUP_ORDER,
    MODELS,
    SENSITIVE,
    SENSITIVE_CREATE,
    STATUS_FIELDS,
    VIRTUAL_FIELDS,
    FieldError,
    clean,
    dump,
    load,
)
from directory.moderation.guard import needs_second_person
from directory.moderation.models import (
    AuditEntry,
    ChangeKind,
    ChangeRequest,
    ChangeState,
    Report,
    ReportKind,
    ReportState,
)

#: Reports about one service per hour before 429 (a flood would bury the real ones).
REPORTS_PER_SERVICE_PER_HOUR = 30
#: Kinds a trusted volunteer may publish at once (when the admin setting allows it).
QUICK_KINDS = frozenset({ChangeKind.status, ChangeKind.capacity})
#: Kinds only moderators may make.
MODERATOR_KINDS = frozenset({ChangeKind.verify, ChangeKind.revert})
#: How many change requests of new listings (groups) the queue reads at most.
GROUPED_WINDOW = 20_000
#: Record types only moderators and admins may change (notices speak for the directory).
MODERATOR_TYPES = frozenset({"notice"})
#: The change-request source of an official alert feed (`directory.alerts`): it may start, update
#: and end notices without an account; the audit shows the feed as the author.
FEED_SOURCE = "alerts"


@dataclass(frozen=True)
class FieldChange:
    """One line of a diff: `field` (with `locale` for a translation), published vs proposed."""

    field: str
    current: Any
    proposed: Any
    locale: str | None = None
    sensitive: bool = False
    #: set on a line about another record the change implies (consistency.py): its type and id
    entity_type: str | None = None
    entity_id: uuid.UUID | None = None


@dataclass
class QueueView:
    items: list[ChangeRequest]
    reports: list[Report]
    counts: dict[str, int] = field(default_factory=dict)  # by kind, plus "reports", "sensitive"
    total: int = 0
    # group_id → its pending change requests, parents first (an item with a group_id stands
    # for the whole new listing)
    groups: dict[uuid.UUID, list[ChangeRequest]] = field(default_factory=dict)


# --- propose ----------------------------------------------------------------------------------


def propose(
    session: Session,
    *,
    actor: Account | None,
    entity_type: str,
    kind: ChangeKind | str,
    entity_id: uuid.UUID | None = None,
    changes: Mapping[str, Any] | None = None,
    translations: Mapping[str, Mapping[str, Any]] | None = None,
    base_version: int | None = None,
    comment: str | None = None,
    source: str = "api",
    trusted_publish: bool = False,
    now: dt.datetime | None = None,
    group_id: uuid.UUID | None = None,
) -> ChangeRequest:
    """Record a proposed change and, where the rules allow, apply it at once. See module doc.

    With `group_id`, the change joins a group (a new listing): it must be a create, it may
    refer to records that other pending creates of the same group will make, and it is never
    applied on its own — the group is approved or rejected as one (`approve`, `reject`;
    `propose_group` proposes a whole group and applies it at once for a moderator)."""
    now = now or utcnow()
    kind = _kind(kind)
    model = _model(entity_type)
    pending: frozenset[uuid.UUID] = frozenset()
    if group_id is not None:
        if kind != ChangeKind.create:
            raise ValidationFailed(
                [
                    {
                        "path": "kind",
                        "code": "not_groupable",
                        "message": "only new records are proposed as a group",
                    }
                ]
            )
        pending = frozenset(
            session.scalars(
                select(ChangeRequest.entity_id).where(
                    ChangeRequest.group_id == group_id,
                    ChangeRequest.state == ChangeState.pending,
                    ChangeRequest.kind == ChangeKind.create,
                )
            )
        )
    if "assured_date" in (changes or {}) and actor is not None and not is_moderator(actor):
        raise Forbidden("Only moderators verify listings")
    if actor is not None and actor.disabled:
        raise Forbidden("This account is disabled")
    # Without an account only the importer proposes, and an official alert feed writes notices.
    feed_notice = actor is None and source == FEED_SOURCE and entity_type == "notice"
    if actor is None and source != "import" and not feed_notice:
        raise Forbidden("Changes need an account")
    if (
        (kind in MODERATOR_KINDS or entity_type in MODERATOR_TYPES)
        and not is_moderator(actor)
        and not feed_notice
    ):
        raise Forbidden("Only moderators may make this change")
    if kind == ChangeKind.verify and entity_type != "service":
        raise ValidationFailed(
            [{"path": "kind", "code": "not_verifiable", "message": "only services are verified"}]
        )

    record = None
    if kind == ChangeKind.create:
        entity_id = entity_id or uuid.uuid4()
        if session.get(model, entity_id) is not None:
            raise Conflict("A record with this id exists")
    else:
        if entity_id is None:
            raise NotFound(f"No such {entity_type}")
        record = session.get(model, entity_id)
        if record is None:
            raise NotFound(f"No such {entity_type}")
        if base_version is not None and record.version != base_version:
            raise PreconditionFailed(
                f"The {entity_type} changed since version {base_version}; "
                f"it is now at version {record.version}",
                current_version=record.version,
            )
        base_version = record.version

    # Scope first (on where the record is now), so that nobody learns more than "forbidden".
    if (
        actor is not None
        and record is not None
        and not in_scope(session, actor, _places(session, entity_type, record, {}))
    ):
        raise Forbidden("This record is outside your regions")
    fields_in = dict(changes or {})
    cleaned, texts = _validate(
        session, entity_type, kind, record, fields_in, translations or {}, now=now, pending=pending
    )
    places = _places(session, entity_type, record, cleaned)
    if actor is not None and not in_scope(session, actor, places):
        raise Forbidden("This record is outside your regions")
    if (
        entity_type == "notice"
        and actor is not None
        and actor.role != Role.admin
        and not any(places)
        and region_ids(session, actor)
    ):
        # A nationwide notice speaks for every region: not for a moderator of some of them.
        raise Forbidden("Only accounts for every region change nationwide notices")

    sensitive = needs_second_person(
        session, entity_type=entity_type, kind=kind, record=record, cleaned=cleaned, texts=texts
    )
    if group_id is not None and entity_type in SENSITIVE_CREATE:
        # Fraud guard: the contact details and address of a new listing are checked by a
        # moderator other than the author, like those added to a published one.
        sensitive = True
    cr = ChangeRequest(
        id=uuid.uuid4(),
        kind=kind,
        entity_type=entity_type,
        entity_id=entity_id,
        base_version=base_version,
        payload={"fields": cleaned, "translations": texts},
        comment=(comment or "").strip()[:5000] or None,
        state=ChangeState.pending,
        author_id=actor.id if actor else None,
        source=source[:20],
        sensitive=sensitive,
        region_id=_region_of(session, places),
        service_id=_service_of(session, entity_type, entity_id, record, cleaned),
        created_at=now,
        updated_at=now,
        group_id=group_id,
    )
    session.add(cr)
    session.flush()
    if group_id is not None:
        _share_group_facts(session, cr)
        return cr

    try:
        if feed_notice:  # the feed's own notices publish at once, audited as the feed's doing
            _apply(session, cr, approver=None, now=now)
        elif actor is not None and not sensitive:
            if is_moderator(actor):
                _apply(session, cr, approver=actor, now=now)
            elif kind in QUICK_KINDS and actor.trusted and trusted_publish:
                cr.needs_review = True
                _apply(session, cr, approver=None, now=now)
    except _Stale as exc:
        raise PreconditionFailed(
            f"The {entity_type} was changed by someone else meanwhile"
            + (f"; it is now at version {exc.current}" if exc.current else ""),
            current_version=exc.current,
        ) from None
    return cr


def _kind(kind: ChangeKind | str) -> ChangeKind:
    try:
        return ChangeKind(kind)
    except ValueError:
        raise ValidationFailed(
            [{"path": "kind", "code": "unknown_kind", "message": "unknown kind of change"}]
        ) from None


def _model(entity_type: str) -> type[Any]:
    try:
        return MODELS[entity_type]
    except KeyError:
        raise NotFound(f"Unknown record type {entity_type[:40]!r}") from None


def _validate(
    session: Session,
    entity_type: str,
    kind: ChangeKind,
    record: Any,
    changes: dict[str, Any],
    translations: Mapping[str, Mapping[str, Any]],
    *,
    now: dt.datetime,
    pending: frozenset[uuid.UUID] = frozenset(),
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    specs = FIELDS[entity_type]
    errors: list[dict[str, str]] = []
    allowed: Iterable[str] = specs
    if kind == ChangeKind.status:
        allowed = STATUS_FIELDS
    elif kind == ChangeKind.capacity:
        allowed = CAPACITY_FIELDS
    elif kind in (ChangeKind.archive, ChangeKind.restore, ChangeKind.verify):
        allowed = ()
    elif kind in (ChangeKind.update, ChangeKind.revert):
        allowed = [f for f in specs if f != "service_ids"]
    allowed = set(allowed)

    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in allowed:
            errors.append(
                {
                    "path": str(name)[:60],
                    "code": "not_changeable",
                    "message": "cannot be changed here",
                }
            )
            continue
        try:
            cleaned[name] = clean(session, specs[name], value, now=now, pending=pending)
        except FieldError as exc:
            errors.append(exc.at(name))

    texts: dict[str, dict[str, str]] = {}
    if translations and kind not in (ChangeKind.archive, ChangeKind.restore, ChangeKind.verify):
        for name, per_locale in translations.items():
            spec = specs.get(name)
            if spec is None or not spec.translatable or name not in allowed:
                errors.append(
                    {
                        "path": f"translations/{str(name)[:60]}",
                        "code": "not_translatable",
                        "message": "is not translatable",
                    }
                )
                continue
            if not isinstance(per_locale, Mapping):
                errors.append(
                    {
                        "path": f"translations/{name}",
                        "code": "bad_translations",
                        "message": "must map locales to texts",
                    }
                )
                continue
            for locale, value in per_locale.items():
                path = f"translations/{name}/{str(locale)[:12]}"
                if not isinstance(locale, str) or session.get(m.Locale, locale) is None:
                    errors.append(
                        {"path": path, "code": "unknown_locale", "message": "unknown locale"}
                    )
                    continue
                try:
                    text = clean(session, spec, value, now=now)
                except FieldError as exc:
                    errors.append(exc.at(path))
                    continue
                if text:
                    texts.setdefault(name, {})[locale] = text

    if kind == ChangeKind.create:
        for name, spec in specs.items():
            if spec.required and name not in cleaned and not any(e["path"] == name for e in errors):
                errors.append({"path": name, "code": "required", "message": "is required"})
    if not errors:
        errors.extend(_cross_checks(entity_type, kind, record, cleaned, now=now))
    if errors:
        raise ValidationFailed(errors)
    if kind in (ChangeKind.update, ChangeKind.status, ChangeKind.capacity) and not (
        cleaned or texts
    ):
        raise ValidationFailed(
            [{"path": "", "code": "nothing_to_change", "message": "nothing to change"}]
        )
    return cleaned, texts


def _merged(record: Any, cleaned: dict[str, Any], name: str) -> Any:
    if name in cleaned:
        return cleaned[name]
    return dump(getattr(record, name, None)) if record is not None else None


def _cross_checks(
    entity_type: str, kind: ChangeKind, record: Any, cleaned: dict[str, Any], *, now: dt.datetime
) -> list[dict[str, str]]:
    errors = []
    if entity_type == "location":
        avail = _merged(record, cleaned, "capacity_available")
        total = _merged(record, cleaned, "capacity_maximum")
        if avail is not None and total is not None and avail > total:
            errors.append(
                {
                    "path": "capacity_available"
                    if "capacity_available" in cleaned
                    else "capacity_maximum",
                    "code": "free_places_over_total",
                    "message": "free places cannot exceed the total",
                }
            )
        lat, lon = _merged(record, cleaned, "latitude"), _merged(record, cleaned, "longitude")
        if (lat is None) != (lon is None):
            errors.append(
                {
                    "path": "longitude" if lon is None else "latitude",
                    "code": "coordinates_pair",
                    "message": "latitude and longitude go together",
                }
            )
    if entity_type == "service":
        lo, hi = _merged(record, cleaned, "minimum_age"), _merged(record, cleaned, "maximum_age")
        if lo is not None and hi is not None and hi < lo:
            errors.append(
                {
                    "path": "maximum_age",
                    "code": "ages_order",
                    "message": "must not be below minimum_age",
                }
            )
    if (
        entity_type in ("phone",)
        and kind == ChangeKind.create
        and not any(cleaned.get(k) for k in ("location_id", "service_id", "organization_id"))
    ):
        errors.append(
            {
                "path": "service_id",
                "code": "needs_owner",
                "message": "a phone belongs to a service, location or organization",
            }
        )
    if (
        entity_type == "schedule"
        and kind == ChangeKind.create
        and not any(cleaned.get(k) for k in ("location_id", "service_id"))
    ):
        errors.append(
            {
                "path": "service_id",
                "code": "needs_owner",
                "message": "a schedule belongs to a service or location",
            }
        )
    if (
        entity_type in ("language", "schedule_exception")
        and kind == ChangeKind.create
        and not any(cleaned.get(k) for k in ("location_id", "service_id"))
    ):
        errors.append(
            {
                "path": "service_id",
                "code": "needs_owner",
                "message": f"a {entity_type.replace('_', ' ')} belongs to a service or location",
            }
        )
    if entity_type in ("schedule", "schedule_exception"):
        opens, closes = _merged(record, cleaned, "opens_at"), _merged(record, cleaned, "closes_at")
        if (opens is None) != (closes is None):
            errors.append(
                {
                    "path": "closes_at",
                    "code": "hours_pair",
                    "message": "opens_at and closes_at go together",
                }
            )
        vf, vt = _merged(record, cleaned, "valid_from"), _merged(record, cleaned, "valid_to")
        if vf and vt and vt < vf:
            errors.append(
                {
                    "path": "valid_to",
                    "code": "dates_order",
                    "message": "must not be before valid_from",
                }
            )
    if entity_type == "notice":
        vf = _merged(record, cleaned, "valid_from") or now.isoformat()
        vu = _merged(record, cleaned, "valid_until")
        if vu is not None and dt.datetime.fromisoformat(vu) <= dt.datetime.fromisoformat(vf):
            errors.append(
                {
                    "path": "valid_until",
                    "code": "dates_order",
                    "message": "must be after valid_from",
                }
            )
    return errors


# --- where a record is: region scopes ---------------------------------------------------------


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


# --- groups: a new listing proposed as one unit ------------------------------------------------


@dataclass(frozen=True)
class GroupRecord:
    """One record of a new listing for `propose_group`: a create of `entity_type` (its id may
    be given, so that the other records can refer to it)."""

    entity_type: str
    changes: Mapping[str, Any]
    translations: Mapping[str, Mapping[str, Any]] | None = None
    entity_id: uuid.UUID | None = None


def propose_group(
    session: Session,
    *,
    actor: Account | None,
    records: list[GroupRecord],
    comment: str | None = None,
    source: str = "api",
    now: dt.datetime | None = None,
) -> list[ChangeRequest]:
    """Propose a new listing — records that refer to each other (organisation, service, place,
    address, phones, hours ...) — as one group of pending creates, in the order given (parents
    first). Validation errors carry the record's index (`records/2/number`). A moderator's group
    is applied at once unless the fraud guard holds it (an address or phone: another moderator
    approves); a volunteer's (or an import's) waits for a moderator, who approves or rejects it
    as one. All or nothing: a refusal leaves nothing behind."""
    now = now or utcnow()
    if not records:
        raise ValidationFailed(
            [{"path": "records", "code": "nothing_to_change", "message": "nothing to propose"}]
        )
    group_id = uuid.uuid4()
    out: list[ChangeRequest] = []
    savepoint = session.begin_nested()
    try:
        for i, rec in enumerate(records):
            try:
                out.append(
                    propose(
                        session,
                        actor=actor,
                        entity_type=rec.entity_type,
                        kind=ChangeKind.create,
                        entity_id=rec.entity_id,
                        changes=rec.changes,
                        translations=rec.translations,
                        comment=comment,
                        source=source,
                        now=now,
                        group_id=group_id,
                    )
                )
            except ValidationFailed as exc:
                raise ValidationFailed(
                    [{**e, "path": f"records/{i}/{e.get('path', '')}"} for e in exc.errors]
                ) from None
        if actor is not None and is_moderator(actor) and not any(cr.sensitive for cr in out):
            _apply_group(session, group_of(session, change=out[0]), approver=actor, now=now)
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return out


def group_of(session: Session, *, change: ChangeRequest) -> list[ChangeRequest]:
    """The change requests of `change`'s group (itself alone when it has none), parents first:
    the order they are applied in."""
    if change.group_id is None:
        return [change]
    members = list(
        session.scalars(select(ChangeRequest).where(ChangeRequest.group_id == change.group_id))
    )
    rank = {name: i for i, name in enumerate(GROUP_ORDER)}
    return sorted(
        members, key=lambda cr: (rank.get(cr.entity_type, len(rank)), cr.created_at, str(cr.id))
    )


def group_head(members: list[ChangeRequest]) -> ChangeRequest:
    """The change that stands for a group in lists: the new service's (else the first)."""
    return next((cr for cr in members if cr.entity_type == "service"), members[0])


def _share_group_facts(session: Session, cr: ChangeRequest) -> None:
    """Records of a new listing learn their region and service from each other (a service's
    region is its place's; a place's service is the one it offers), so the whole group is in
    the queue filters and region scopes of the listing."""
    members = list(
        session.scalars(
            select(ChangeRequest).where(
                ChangeRequest.group_id == cr.group_id, ChangeRequest.state == ChangeState.pending
            )
        )
    )
    if cr.entity_type == "location":
        ids = cr.payload.get("fields", {}).get("service_ids") or []
        if ids and cr.service_id is None:
            cr.service_id = uuid.UUID(ids[0])
    region = next((x.region_id for x in members if x.region_id is not None), None)
    service = next((x.service_id for x in members if x.service_id is not None), None)
    for x in members:
        if x.region_id is None and region is not None:
            x.region_id = region
        if x.service_id is None and service is not None:
            x.service_id = service
    session.flush()


def _apply_group(
    session: Session, members: list[ChangeRequest], *, approver: Account, now: dt.datetime
) -> None:
    """Apply every pending change of a group, parents first, all or nothing; the services it
    touches are reindexed once for the whole group (not once per record)."""
    savepoint = session.begin_nested()
    try:
        with deferred_reindex(session) as touched:
            for cr in members:
                if cr.state == ChangeState.pending:
                    _apply(session, cr, approver=approver, now=now)
        session.flush()
        _reindex(session, touched)
    except _Stale as exc:
        savepoint.rollback()
        raise Conflict(
            "A record of this new listing was changed meanwhile", current_version=exc.current
        ) from None
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()


def _group_places(session: Session, members: list[ChangeRequest]) -> list[uuid.UUID | None]:
    return [cr.region_id for cr in members if cr.region_id is not None]


# --- review -----------------------------------------------------------------------------------


_UNREAD: Any = object()  # _check_reviewer: the record was not read yet


def _pending(session: Session, change_id: uuid.UUID) -> ChangeRequest:
    cr = session.get(ChangeRequest, change_id)
    if cr is None:
        raise NotFound("No such change request")
    if cr.state != ChangeState.pending:
        raise Conflict(f"This change request is already {cr.state.value}", state=cr.state.value)
    return cr


def _check_reviewer(
    session: Session, cr: ChangeRequest, reviewer: Account, record: Any = _UNREAD
) -> None:
    if reviewer.disabled or not is_moderator(reviewer):
        raise Forbidden("Only moderators review changes")
    if cr.author_id == reviewer.id:
        raise Forbidden("Nobody reviews their own change: another moderator must")
    if record is _UNREAD:
        record = _record(session, cr)
    places = _places(session, cr.entity_type, record, cr.payload.get("fields", {}))
    if not in_scope(session, reviewer, places):
        raise Forbidden("This change is outside your regions")


def _record(session: Session, cr: ChangeRequest) -> Any:
    return session.get(MODELS[cr.entity_type], cr.entity_id)


def approve(
    session: Session, *, change_id: uuid.UUID, reviewer: Account, now: dt.datetime | None = None
) -> ChangeRequest:
    """Apply a pending change atomically (version-checked; 409 Conflict if the record moved on)."""
    now = now or utcnow()
    cr = _pending(session, change_id)
    if cr.group_id is not None:
        members = [x for x in group_of(session, change=cr) if x.state == ChangeState.pending]
        for x in members:
            _check_reviewer(session, x, reviewer, None)
        if not in_scope(session, reviewer, _group_places(session, members)):
            raise Forbidden("This change is outside your regions")
        _apply_group(session, members, approver=reviewer, now=now)
        return cr
    record = _record(session, cr)
    _check_reviewer(session, cr, reviewer, record)
    if cr.kind != ChangeKind.create and (record is None or record.version != cr.base_version):
        since = _audit_since(session, cr)
        conflicts = _conflicts(session, cr, record, since)
        if conflicts:
            current = record.version if record is not None else None
            raise Conflict(
                f"The {cr.entity_type} changed since this proposal (version {cr.base_version}; "
                f"now {current}). Compare and propose again, or reject.",
                current_version=current,
                base_version=cr.base_version,
                diff=[_diff_json(d) for d in diff(session, change=cr)],
                conflicts=conflicts,
                changes_since=[
                    {"version": a.entity_version, "at": a.at.isoformat(), "changes": a.changes}
                    for a in since
                ],
            )
        # Nothing it touches changed since: applied on top of the current record; the UPDATE
        # still checks the version read here, so a concurrent writer is never overwritten.
    try:
        _apply(session, cr, approver=reviewer, now=now)
    except _Stale as exc:
        raise Conflict(
            f"The {cr.entity_type} was changed by someone else meanwhile",
            current_version=exc.current,
            base_version=cr.base_version,
        ) from None
    return cr


def reject(
    session: Session,
    *,
    change_id: uuid.UUID,
    reviewer: Account,
    reason: str,
    now: dt.datetime | None = None,
) -> ChangeRequest:
    """Reject with a reason the author can read."""
    cr = _pending(session, change_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            [{"path": "reason", "code": "required", "message": "say why, for the author"}]
        )
    if reviewer.disabled or not is_moderator(reviewer):
        raise Forbidden("Only moderators review changes")
    places = _places(session, cr.entity_type, _record(session, cr), cr.payload.get("fields", {}))
    members = [x for x in group_of(session, change=cr) if x.state == ChangeState.pending]
    if cr.group_id is not None:
        places = [*places, *_group_places(session, members)]
    if not in_scope(session, reviewer, places):
        raise Forbidden("This change is outside your regions")
    for x in members:  # a new listing is rejected as a whole
        x.state = ChangeState.rejected
        x.reviewer_id = reviewer.id
        x.review_reason = reason[:5000]
        x.decided_at = now or utcnow()
    session.flush()
    return cr


def withdraw(session: Session, *, change_id: uuid.UUID, actor: Account) -> ChangeRequest:
    cr = _pending(session, change_id)
    if cr.author_id != actor.id:
        raise Forbidden("Only the author withdraws a change")
    for x in group_of(session, change=cr):
        if x.state == ChangeState.pending:
            x.state = ChangeState.withdrawn
            x.decided_at = utcnow()
    session.flush()
    return cr


def acknowledge(session: Session, *, change_id: uuid.UUID, reviewer: Account) -> ChangeRequest:
    """A moderator has looked at a change published without review (trusted volunteer)."""
    cr = session.get(ChangeRequest, change_id)
    if cr is None:
        raise NotFound("No such change request")
    if not cr.needs_review:
        raise Conflict("This change does not need review")
    _check_reviewer(session, cr, reviewer)
    cr.needs_review = False
    cr.reviewer_id = reviewer.id
    session.flush()
    return cr


# --- apply ------------------------------------------------------------------------------------


def _apply(
    session: Session, cr: ChangeRequest, *, approver: Account | None, now: dt.datetime
) -> None:
    """Write the change to the record and the audit log, in one savepoint, version-checked."""
    model = MODELS[cr.entity_type]
    specs = FIELDS[cr.entity_type]
    fields_in: dict[str, Any] = dict(cr.payload.get("fields", {}))
    texts: dict[str, dict[str, Any]] = {
        n: dict(per) for n, per in cr.payload.get("translations", {}).items()
    }
    changes: dict[str, list[Any]] = {}
    touched_services: set[uuid.UUID] = set()

    savepoint = session.begin_nested()
    try:
        if cr.kind == ChangeKind.create:
            record = model(id=cr.entity_id)
            session.add(record)
        else:
            record = session.get(model, cr.entity_id)
            if record is None:
                raise NotFound(f"No such {cr.entity_type}")
        source = getattr(record, "source_locale", None) or fields_in.get("source_locale") or "en"

        for name, value in fields_in.items():
            if name in VIRTUAL_FIELDS:
                continue
            before = None if cr.kind == ChangeKind.create else dump(getattr(record, name))
            if before != value:
                changes[name] = [before, value]
            setattr(record, name, load(specs[name], value))
        # A text in the record's own source locale is its column; others are translation rows.
        for name, per_locale in list(texts.items()):
            if source in per_locale:
                value = per_locale.pop(source)
                before = None if cr.kind == ChangeKind.create else dump(getattr(record, name))
                if before != value:
                    changes[name] = [before, value]
                setattr(record, name, value)

        if cr.kind == ChangeKind.archive:
            changes["archived_at"] = [dump(record.archived_at), now.isoformat()]
            record.archived_at = now
        elif cr.kind == ChangeKind.restore:
            changes["archived_at"] = [dump(record.archived_at), None]
            record.archived_at = None
        elif cr.kind == ChangeKind.capacity:
            changes["capacity_updated"] = [dump(record.capacity_updated), now.isoformat()]
            record.capacity_updated = now
        elif cr.kind == ChangeKind.status:
            if fields_in.get("status") == m.ServiceStatus.active.value:
                for name in ("status_reason", "status_reason_code", "status_until", "status_since"):
                    if getattr(record, name) is not None and name not in fields_in:
                        changes[name] = [dump(getattr(record, name)), None]
                        setattr(record, name, None)
            elif "status" in fields_in:
                changes["status_since"] = [dump(record.status_since), now.isoformat()]
                record.status_since = now
        if (
            cr.kind == ChangeKind.revert
            and cr.payload.get("archived_at", "unchanged") != "unchanged"
        ):
            restored = cr.payload["archived_at"]
            changes["archived_at"] = [dump(record.archived_at), restored]
            record.archived_at = dt.datetime.fromisoformat(restored) if restored else None

        record.updated_at = now  # always an UPDATE, so the version moves and is checked
        session.flush()

        for name, per_locale in texts.items():
            for locale, value in per_locale.items():
                before_t = _set_translation(session, cr.entity_type, record.id, name, locale, value)
                if before_t != value:
                    changes[f"{name}@{locale}"] = [before_t, value]
        if cr.entity_type == "service" and cr.kind == ChangeKind.status:
            # A quick status change replaces the reason as a whole, in every language: no old
            # reason lingers in a translation (or the column) beside the new one or a code.
            new_texts = set(cr.payload.get("translations", {}).get("status_reason", {}))
            if (
                source not in new_texts
                and "status_reason" not in fields_in
                and record.status_reason is not None
            ):
                changes["status_reason"] = [record.status_reason, None]
                record.status_reason = None
            for locale, before_t in _clear_translations(
                session, "service", record.id, "status_reason", keep=new_texts
            ):
                changes[f"status_reason@{locale}"] = [before_t, None]

        if cr.entity_type == "service" and "categories" in fields_in:
            before_codes = _set_categories(session, record.id, fields_in["categories"])
            if before_codes != fields_in["categories"]:
                changes["categories"] = [before_codes, fields_in["categories"]]
        if cr.entity_type == "location" and fields_in.get("service_ids"):
            for sid in fields_in["service_ids"]:
                session.add(m.ServiceAtLocation(service_id=uuid.UUID(sid), location_id=record.id))
            changes["service_ids"] = [None, fields_in["service_ids"]]

        touched_services = _services_touched(session, cr.entity_type, record)
        # Status and capacity in step (consistency.py): the linked records this change implies
        # are written here, in the same savepoint, audited under the same change request.
        linked = _apply_implied(session, cr, fields_in, now=now)
        for other, _changes in linked:
            touched_services |= _services_touched(session, other.__tablename__, other)
        # A moderator's approval of fresh facts from the field verifies the listing
        # (other services at a location get their own audit entry below).
        verified: list[tuple[m.Service, Any]] = []
        if approver is not None and cr.kind in (
            ChangeKind.verify,
            ChangeKind.status,
            ChangeKind.capacity,
        ):
            for sid in sorted(touched_services):
                svc = session.get(m.Service, sid)
                if svc is None:
                    continue
                if svc is record:
                    changes["assured_date"] = [dump(svc.assured_date), now.isoformat()]
                else:
                    verified.append((svc, dump(svc.assured_date)))
                svc.assured_date = now
        session.flush()
    except StaleDataError:
        savepoint.rollback()
        current = session.scalar(
            select(model.version)
            .where(model.id == cr.entity_id)
            .execution_options(populate_existing=True)
        )
        raise _Stale(current) from None
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()

    cr.state = ChangeState.approved
    cr.reviewer_id = approver.id if approver else None
    cr.decided_at = now
    session.add(
        AuditEntry(
            at=now,
            entity_type=cr.entity_type,
            entity_id=cr.entity_id,
            entity_version=record.version,
            action=cr.kind.value,
            change_request_id=cr.id,
            author_id=cr.author_id,
            approver_id=approver.id if approver else None,
            changes=changes,
            snapshot=snapshot(session, cr.entity_type, record),
        )
    )
    for other, other_changes in linked:
        session.add(
            AuditEntry(
                at=now,
                entity_type=other.__tablename__,
                entity_id=other.id,
                entity_version=other.version,
                action=cr.kind.value,
                change_request_id=cr.id,
                author_id=cr.author_id,
                approver_id=approver.id if approver else None,
                changes=other_changes,
                snapshot=snapshot(session, other.__tablename__, other),
            )
        )
    for svc, before_date in verified:
        session.add(
            AuditEntry(
                at=now,
                entity_type="service",
                entity_id=svc.id,
                entity_version=svc.version,
                action=ChangeKind.verify.value,
                change_request_id=cr.id,
                author_id=cr.author_id,
                approver_id=approver.id if approver else None,
                changes={"assured_date": [before_date, now.isoformat()]},
                snapshot=snapshot(session, "service", svc),
            )
        )
    session.flush()
    if linked or _changes_search(cr.kind, changes):
        _reindex(session, touched_services)


def _apply_implied(
    session: Session, cr: ChangeRequest, fields_in: dict[str, Any], *, now: dt.datetime
) -> list[tuple[Any, dict[str, list[Any]]]]:
    """Write what `cr` implies for linked records (full → no free places; free places → not
    full); returns each record written with its {field: [before, after]}."""
    out: list[tuple[Any, dict[str, list[Any]]]] = []
    for it in consistency.implied(session, cr.entity_type, cr.entity_id, fields_in):
        model, specs = MODELS[it.entity_type], FIELDS[it.entity_type]
        other = session.get(model, it.entity_id)
        if other is None:
            continue
        changes: dict[str, list[Any]] = {}
        for name, value in it.fields.items():
            before = dump(getattr(other, name))
            if before != value:
                changes[name] = [before, value]
                setattr(other, name, load(specs[name], value))
        if not changes:
            continue
        if it.entity_type == "location":
            changes["capacity_updated"] = [dump(other.capacity_updated), now.isoformat()]
            other.capacity_updated = now
        if it.entity_type == "service" and other.status_since is not None:
            changes["status_since"] = [dump(other.status_since), None]
            other.status_since = None
        other.updated_at = now
        session.flush()
        out.append((other, changes))
    return out


def _changes_search(kind: ChangeKind, changes: dict[str, list[Any]]) -> bool:
    """Whether the search index can see this change. Capacity only matters to the index as
    "has free places" (a facet); a verification not at all. Skipping them keeps the quick
    updates from the field quick."""
    if kind == ChangeKind.verify:
        return False
    if kind == ChangeKind.capacity:
        before, after = changes.get("capacity_available", [None, None])
        return bool(before) != bool(after)
    return True


class _Stale(Exception):
    """The record's version moved between reading and writing (a concurrent change won)."""

    def __init__(self, current: int | None) -> None:
        super().__init__(current)
        self.current = current


def _set_translation(
    session: Session,
    entity_type: str,
    entity_id: uuid.UUID,
    name: str,
    locale: str,
    value: str | None,
) -> str | None:
    """Write (or with None, delete) one translation row; returns the previous text."""
    row = session.scalar(
        select(m.Translation).where(
            m.Translation.entity_type == entity_type,
            m.Translation.entity_id == entity_id,
            m.Translation.field == name,
            m.Translation.locale == locale,
        )
    )
    before = row.value if row is not None else None
    if value is None:
        if row is not None:
            session.delete(row)
    else:
        from directory.listings.texts import set_text

        set_text(
            session,
            entity_type=entity_type,
            entity_id=entity_id,
            field=name,
            locale=locale,
            value=value,
        )
    session.flush()
    return before


def _clear_translations(
    session: Session,
    entity_type: str,
    entity_id: uuid.UUID,
    name: str,
    keep: set[str] | frozenset[str] = frozenset(),
) -> list[tuple[str, str]]:
    """Delete the translations of one field but those in `keep`; returns (locale, text) of
    those deleted."""
    rows = [
        row
        for row in session.scalars(
            select(m.Translation).where(
                m.Translation.entity_type == entity_type,
                m.Translation.entity_id == entity_id,
                m.Translation.field == name,
            )
        )
        if row.locale not in keep
    ]
    for row in rows:
        session.delete(row)
    session.flush()
    return sorted((row.locale, row.value) for row in rows)


def _set_categories(session: Session, service_id: uuid.UUID, codes: list[str]) -> list[str]:
    current = {
        row[0]: row[1]
        for row in session.execute(
            select(m.TaxonomyTerm.code, m.Attribute.id)
            .join(m.Attribute, m.Attribute.taxonomy_term_id == m.TaxonomyTerm.id)
            .where(m.Attribute.link_id == service_id, m.Attribute.link_entity == "service")
        )
    }
    for code, attr_id in current.items():
        if code not in codes:
            session.execute(delete(m.Attribute).where(m.Attribute.id == attr_id))
    for code in codes:
        if code not in current:
            term_id = session.scalar(select(m.TaxonomyTerm.id).where(m.TaxonomyTerm.code == code))
            session.add(
                m.Attribute(
                    link_id=service_id,
                    taxonomy_term_id=term_id,
                    link_type="service",
                    link_entity="service",
                )
            )
    session.flush()
    return sorted(current)


def _services_touched(session: Session, entity_type: str, record: Any) -> set[uuid.UUID]:
    if entity_type == "service":
        return {record.id}
    if entity_type == "location":
        return set(
            session.scalars(
                select(m.ServiceAtLocation.service_id).where(
                    m.ServiceAtLocation.location_id == record.id
                )
            )
        )
    if entity_type == "organization":
        return set(
            session.scalars(select(m.Service.id).where(m.Service.organization_id == record.id))
        )
    if entity_type == "taxonomy_term":
        return services_with_term(session, record.id)
    out: set[uuid.UUID] = set()
    if getattr(record, "service_id", None):
        out.add(record.service_id)
    if getattr(record, "location_id", None):
        out |= set(
            session.scalars(
                select(m.ServiceAtLocation.service_id).where(
                    m.ServiceAtLocation.location_id == record.location_id
                )
            )
        )
    return out


_DEFERRED = "directory.moderation.deferred_reindex"


@contextmanager
def deferred_reindex(session: Session) -> Iterator[set[uuid.UUID]]:
    """Inside this block, applied changes do not reindex their services one change at a time:
    the ids are collected in the yielded set and the caller MUST call
    `directory.search.index.reindex_services(session, ids)` for them (once, set-based) before
    it commits. Everything else (validation, version checks, audit entries) is unchanged. For
    bulk writers such as the importer; nests (an inner block collects into its own set)."""
    outer = session.info.get(_DEFERRED)
    collected: set[uuid.UUID] = set()
    session.info[_DEFERRED] = collected
    try:
        yield collected
    finally:
        if outer is None:
            session.info.pop(_DEFERRED, None)
        else:
            session.info[_DEFERRED] = outer


def _reindex(session: Session, service_ids: set[uuid.UUID]) -> None:
    if not service_ids:
        return
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:
        deferred.update(service_ids)
        return
    try:
        from directory.search.index import reindex_services
    except ImportError:  # the search index is not installed yet
        return
    reindex_services(session, sorted(service_ids))


def snapshot(session: Session, entity_type: str, record: Any) -> dict[str, Any]:
    """The record's editable fields and translations as JSON (stored with each audit entry)."""
    out: dict[str, Any] = {
        name: dump(getattr(record, name))
        for name in FIELDS[entity_type]
        if name not in VIRTUAL_FIELDS
    }
    out["archived_at"] = dump(record.archived_at)
    out["version"] = record.version
    rows = session.execute(
        select(m.Translation.field, m.Translation.locale, m.Translation.value).where(
            m.Translation.entity_type == entity_type, m.Translation.entity_id == record.id
        )
    )
    out["translations"] = {f"{f}@{loc}": v for f, loc, v in rows}
    return out


# --- revert -----------------------------------------------------------------------------------


def revert(
    session: Session,
    *,
    actor: Account,
    entity_type: str,
    entity_id: uuid.UUID,
    to_version: int,
    comment: str | None = None,
    now: dt.datetime | None = None,
) -> ChangeRequest:
    """Restore a record's fields and translations as they were at `to_version`, as a new
    audited change (the fraud guard still applies to contact and whereabouts)."""
    model = _model(entity_type)
    if not is_moderator(actor):
        raise Forbidden("Only moderators revert")
    record = session.get(model, entity_id)
    if record is None:
        raise NotFound(f"No such {entity_type}")
    if not 1 <= to_version < record.version:
        raise ValidationFailed(
            [
                {
                    "path": "to_version",
                    "code": "bad_version",
                    "message": f"must be an earlier version (1 to {record.version - 1})",
                }
            ]
        )
    entries = list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity_type == entity_type,
                AuditEntry.entity_id == entity_id,
                AuditEntry.entity_version > to_version,
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.entity_version.desc())
        )
    )
    specs = FIELDS[entity_type]
    fields_out: dict[str, Any] = {}
    texts: dict[str, dict[str, Any]] = {}
    archived: Any = "unchanged"
    # Walk back from now: the oldest "before" value of each field is its value at to_version.
    for entry in entries:
        for key, pair in (entry.changes or {}).items():
            before = pair[0]
            if "@" in key:
                name, locale = key.split("@", 1)
                texts.setdefault(name, {})[locale] = before
            elif key == "archived_at":
                archived = before
            elif key in NEVER_CONFLICTS:
                continue  # bookkeeping and verification are not reverted: facts, not edits
            elif (key in specs and key not in VIRTUAL_FIELDS) or key == "categories":
                fields_out[key] = before
    current = snapshot(session, entity_type, record)
    fields_out = {k: v for k, v in fields_out.items() if k == "categories" or current.get(k) != v}
    cr = ChangeRequest(
        id=uuid.uuid4(),
        kind=ChangeKind.revert,
        entity_type=entity_type,
        entity_id=entity_id,
        base_version=record.version,
        payload={
            "fields": fields_out,
            "translations": texts,
            "to_version": to_version,
            "archived_at": archived,
        },
        comment=(comment or f"Revert to version {to_version}")[:5000],
        author_id=actor.id,
        source="api",
        sensitive=needs_second_person(
            session,
            entity_type=entity_type,
            kind=ChangeKind.revert,
            record=record,
            cleaned=fields_out,
            texts=texts,
            archiving=None if archived == "unchanged" else archived is not None,
        ),
        region_id=_region_of(session, _places(session, entity_type, record, {})),
        service_id=_service_of(session, entity_type, entity_id, record, {}),
    )
    if not (fields_out or texts or archived != "unchanged"):
        raise ValidationFailed(
            [
                {
                    "path": "to_version",
                    "code": "nothing_to_change",
                    "message": "nothing differs from that version",
                }
            ]
        )
    session.add(cr)
    session.flush()
    if not cr.sensitive:
        try:
            _apply(session, cr, approver=actor, now=now or utcnow())
        except _Stale as exc:
            raise PreconditionFailed(
                "Changed by someone else meanwhile", current_version=exc.current
            ) from None
    return cr


# --- reading change requests ------------------------------------------------------------------


def get_change(session: Session, *, change_id: uuid.UUID, viewer: Account) -> ChangeRequest:
    """A change request, for its author or a moderator in scope (404 for anyone else)."""
    cr = session.get(ChangeRequest, change_id)
    if cr is None:
        raise NotFound("No such change request")
    if cr.author_id == viewer.id:
        return cr
    places = _places(session, cr.entity_type, _record(session, cr), cr.payload.get("fields", {}))
    if cr.group_id is not None:
        places = [*places, cr.region_id]
    if is_moderator(viewer) and in_scope(session, viewer, places):
        return cr
    raise NotFound("No such change request")


def diff(session: Session, *, change: ChangeRequest) -> list[FieldChange]:
    """Field by field (translations included): the published value and the proposed one, then
    what the change implies for linked records (a full service's free places, ...). Once the
    change is applied, what it did (from the audit log): before and after, never a proposal
    compared with itself."""
    if change.state == ChangeState.approved:
        done = _diff_applied(session, change)
        if done:
            return done
    return _diff_pending(session, change)


#: Bookkeeping an applied change writes besides its fields (not lines of its diff).
_NOT_IN_DIFF = frozenset({"updated_at", "version", "capacity_updated", "status_since"})


def _diff_applied(session: Session, change: ChangeRequest) -> list[FieldChange]:
    entries = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.change_request_id == change.id)
            .order_by(AuditEntry.at, AuditEntry.entity_version)
        )
    )
    out: list[FieldChange] = []
    for entry in entries:
        own = entry.entity_type == change.entity_type and entry.entity_id == change.entity_id
        if (
            not own
            and entry.entity_type == "service"
            and set(entry.changes or {}) <= {"assured_date"}
        ):
            continue  # the other services a capacity approval verified
        sensitive = SENSITIVE.get(entry.entity_type, frozenset())
        for key, pair in (entry.changes or {}).items():
            name, _, locale = key.partition("@")
            if name in _NOT_IN_DIFF or not isinstance(pair, list) or len(pair) != 2:
                continue
            out.append(
                FieldChange(
                    field=name,
                    locale=locale or None,
                    current=pair[0],
                    proposed=pair[1],
                    sensitive=name in sensitive,
                    entity_type=None if own else entry.entity_type,
                    entity_id=None if own else entry.entity_id,
                )
            )
    return out


def _diff_pending(session: Session, change: ChangeRequest) -> list[FieldChange]:
    record = _record(session, change)
    sensitive = SENSITIVE.get(change.entity_type, frozenset())
    out: list[FieldChange] = []
    for name, value in change.payload.get("fields", {}).items():
        if name == "categories":
            current: Any = _categories(session, change.entity_id) if record is not None else None
        elif name in VIRTUAL_FIELDS:
            current = None
        else:
            current = dump(getattr(record, name)) if record is not None else None
        out.append(
            FieldChange(field=name, current=current, proposed=value, sensitive=name in sensitive)
        )
    source = getattr(record, "source_locale", None)
    for name, per_locale in change.payload.get("translations", {}).items():
        for locale, value in per_locale.items():
            if record is not None and locale == source:
                current = dump(getattr(record, name))
            else:
                current = session.scalar(
                    select(m.Translation.value).where(
                        m.Translation.entity_type == change.entity_type,
                        m.Translation.entity_id == change.entity_id,
                        m.Translation.field == name,
                        m.Translation.locale == locale,
                    )
                )
            out.append(FieldChange(field=name, locale=locale, current=current, proposed=value))
    if change.kind in (ChangeKind.archive, ChangeKind.restore) and record is not None:
        out.append(
            FieldChange(
                field="archived",
                current=record.archived_at is not None,
                proposed=change.kind == ChangeKind.archive,
            )
        )
    if change.kind == ChangeKind.verify and record is not None:
        out.append(
            FieldChange(field="assured_date", current=dump(record.assured_date), proposed="now")
        )
    if change.state == ChangeState.pending:
        for it in consistency.implied(
            session, change.entity_type, change.entity_id, change.payload.get("fields", {})
        ):
            out += [
                FieldChange(
                    field=name,
                    current=it.current.get(name),
                    proposed=value,
                    entity_type=it.entity_type,
                    entity_id=it.entity_id,
                )
                for name, value in it.fields.items()
            ]
    return out


#: Audit keys that never make a conflict: bookkeeping and verification (approving a capacity
#: update verifies the listing; that must not block the next proposal for it).
NEVER_CONFLICTS = frozenset(
    {"updated_at", "version", "assured_date", "assurer_email", "capacity_updated", "status_since"}
)


def _conflicts(
    session: Session, cr: ChangeRequest, record: Any, since: list[AuditEntry]
) -> list[dict[str, Any]]:
    """Three-way merge on fields for a proposal whose record moved on since `base_version`.

    The audit log holds, per published change, each field's before/after (translations as
    `field@locale`; a text in the record's source locale is its column, `field`). A field the
    proposal touches conflicts when it was changed since and now differs from the proposed
    value. When the log cannot account for the record's current version (no record, or a
    write that left no audit entry), everything the proposal touches is a conflict.
    Returns [{"field", "locale"}] (empty: safe to apply on the current record)."""
    lines = [d for d in diff(session, change=cr) if d.entity_type is None]  # its own record
    if (
        cr.kind == ChangeKind.status
        and cr.payload.get("fields", {}).get("status") == m.ServiceStatus.active.value
    ):
        # Back to active clears the reason and the end date it does not set itself.
        fields_in = cr.payload.get("fields", {})
        lines += [
            FieldChange(field=name, current=dump(getattr(record, name, None)), proposed=None)
            for name in ("status_reason", "status_reason_code", "status_until")
            if name not in fields_in
        ]
    everything = [{"field": d.field, "locale": d.locale} for d in lines] or [
        {"field": "version", "locale": None}
    ]
    if record is None or max((a.entity_version or 0 for a in since), default=0) != record.version:
        return everything
    changed: set[str] = set()
    for entry in since:
        changed |= {k for k in (entry.changes or {}) if k not in NEVER_CONFLICTS}
    if "source_locale" in changed and cr.payload.get("translations"):
        return everything  # which text is the column and which a translation row has moved
    source = getattr(record, "source_locale", None)
    out: list[dict[str, Any]] = []
    for d in lines:
        if d.field == "assured_date":
            continue  # verify: never a conflict
        if d.field == "archived":
            key = "archived_at"
        elif d.locale is None or d.locale == source:
            key = d.field
        else:
            key = f"{d.field}@{d.locale}"
        if key in changed and d.current != d.proposed:
            out.append({"field": d.field, "locale": d.locale})
    if (
        cr.kind == ChangeKind.revert
        and "archived_at" in changed
        and cr.payload.get("archived_at", "unchanged") != "unchanged"
    ):
        out.append({"field": "archived", "locale": None})
    return out


def _diff_json(d: FieldChange) -> dict[str, Any]:
    out = {
        "field": d.field,
        "locale": d.locale,
        "current": d.current,
        "proposed": d.proposed,
        "sensitive": d.sensitive,
    }
    if d.entity_type is not None:  # a line about another record the change implies
        out |= {"entity_type": d.entity_type, "entity_id": str(d.entity_id)}
    return out


def _categories(session: Session, service_id: uuid.UUID) -> list[str]:
    return sorted(
        session.scalars(
            select(m.TaxonomyTerm.code)
            .join(m.Attribute, m.Attribute.taxonomy_term_id == m.TaxonomyTerm.id)
            .where(m.Attribute.link_id == service_id, m.Attribute.link_entity == "service")
        )
    )


def _audit_since(session: Session, cr: ChangeRequest) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity_type == cr.entity_type,
                AuditEntry.entity_id == cr.entity_id,
                AuditEntry.entity_version > (cr.base_version or 0),
            )
            .order_by(AuditEntry.at)
        )
    )


def queue(
    session: Session,
    *,
    viewer: Account,
    region_id: uuid.UUID | None = None,
    category: str | None = None,
    kind: ChangeKind | str | None = None,
    older_than: dt.timedelta | None = None,
    limit: int = 100,
    now: dt.datetime | None = None,
) -> QueueView:
    """What waits for moderators in the viewer's regions: pending changes (oldest first),
    published changes still to be looked at, open reports; with counts by kind."""
    if not is_moderator(viewer):
        raise Forbidden("Only moderators see the queue")
    now = now or utcnow()
    stmt = select(ChangeRequest).where(
        or_(ChangeRequest.state == ChangeState.pending, ChangeRequest.needs_review.is_(True))
    )
    if kind:
        stmt = stmt.where(ChangeRequest.kind == _kind(kind))
    if older_than:
        stmt = stmt.where(ChangeRequest.created_at <= now - older_than)
    if category:
        service_ids = (
            select(m.Attribute.link_id)
            .join(m.TaxonomyTerm, m.Attribute.taxonomy_term_id == m.TaxonomyTerm.id)
            .where(
                or_(m.TaxonomyTerm.code == category, m.TaxonomyTerm.code.startswith(category + "."))
            )
        )
        stmt = stmt.where(ChangeRequest.service_id.in_(service_ids))
    # Changes on their own: the oldest 2,000. Records of new listings (groups, ~5-30 records
    # each) are read apart with a larger window, so that a big import's new listings do not
    # crowd each other (or the single changes) out of the queue.
    rows = list(
        session.scalars(
            stmt.where(ChangeRequest.group_id.is_(None))
            .order_by(ChangeRequest.created_at)
            .limit(2000)
        )
    )
    rows += session.scalars(
        stmt.where(ChangeRequest.group_id.is_not(None))
        .order_by(ChangeRequest.created_at)
        .limit(GROUPED_WINDOW)
    )
    rows.sort(key=lambda cr: cr.created_at)
    cache: dict[uuid.UUID | None, bool] = {}

    def visible(place: uuid.UUID | None) -> bool:
        if place not in cache:
            in_filter = region_id is None or in_scope_of(session, place, region_id)
            cache[place] = in_filter and in_scope(session, viewer, [place])
        return cache[place]

    items = [cr for cr in rows if visible(cr.region_id)]
    # A new listing is one line: its head (the service's create) stands for the whole group.
    groups: dict[uuid.UUID, list[ChangeRequest]] = {}
    for cr in items:
        if cr.group_id is not None:
            groups.setdefault(cr.group_id, []).append(cr)
    rank = {name: i for i, name in enumerate(GROUP_ORDER)}
    for members in groups.values():
        members.sort(
            key=lambda cr: (rank.get(cr.entity_type, len(rank)), cr.created_at, str(cr.id))
        )
    heads = {id(group_head(members)) for members in groups.values()}
    items = [cr for cr in items if cr.group_id is None or id(cr) in heads]
    counts: dict[str, int] = {}
    for cr in items:
        counts[cr.kind.value] = counts.get(cr.kind.value, 0) + 1
    counts["sensitive"] = sum(
        1
        for cr in items
        if cr.sensitive or any(x.sensitive for x in groups.get(cr.group_id or uuid.UUID(int=0), []))
    )
    counts["needs_review"] = sum(1 for cr in items if cr.needs_review)

    report_rows = list(
        session.execute(
            select(Report, m.ServiceAtLocation.location_id)
            .outerjoin(m.ServiceAtLocation, m.ServiceAtLocation.service_id == Report.service_id)
            .where(Report.state == ReportState.open)
            .order_by(Report.created_at)
            .limit(2000)
        )
    )
    reports: list[Report] = []
    seen: set[uuid.UUID] = set()
    for rep, loc_id in report_rows:
        if rep.id in seen:
            continue
        places = _location_places(session, [loc_id])
        region = _region_of(session, places)
        if visible(region):
            seen.add(rep.id)
            reports.append(rep)
    counts["reports"] = len(reports)
    return QueueView(
        items=items[:limit],
        reports=reports[:limit],
        counts=counts,
        total=len(items),
        groups={
            cr.group_id: groups[cr.group_id] for cr in items[:limit] if cr.group_id is not None
        },
    )


def in_scope_of(session: Session, place: uuid.UUID | None, region_id: uuid.UUID) -> bool:
    """Whether `place` is `region_id` or inside it."""
    from directory.accounts.service import place_with_ancestors

    return place is not None and region_id in place_with_ancestors(session, [place])


def my_changes(
    session: Session, *, author: Account, state: ChangeState | str | None = None, limit: int = 100
) -> list[ChangeRequest]:
    """The author's own change requests, newest first, with their state and review reason."""
    stmt = select(ChangeRequest).where(ChangeRequest.author_id == author.id)
    if state:
        stmt = stmt.where(ChangeRequest.state == ChangeState(state))
    return list(session.scalars(stmt.order_by(ChangeRequest.created_at.desc()).limit(limit)))


# --- public reports ---------------------------------------------------------------------------


def report(
    session: Session,
    *,
    service_id: uuid.UUID,
    kind: ReportKind | str,
    text: str | None = None,
    locale: str | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """A reader's anonymous report about a service (no account, nothing personal stored)."""
    now = now or utcnow()
    svc = session.get(m.Service, service_id)
    if svc is None or svc.archived_at is not None:
        raise NotFound("No such service")
    try:
        kind = ReportKind(kind)
    except ValueError:
        raise ValidationFailed(
            [{"path": "kind", "code": "unknown_kind", "message": "unknown kind of report"}]
        ) from None
    recent = (
        session.scalar(
            select(func.count())
            .select_from(Report)
            .where(Report.service_id == service_id, Report.created_at > now - dt.timedelta(hours=1))
        )
        or 0
    )
    if recent >= REPORTS_PER_SERVICE_PER_HOUR:
        raise TooManyRequests(
            "Many reports about this service already; thank you", retry_after=3600
        )
    if text is not None:
        from directory.textinput import TextInputError, clean_text

        try:
            text = clean_text(text, max_length=2000) or None
        except TextInputError as exc:
            raise ValidationFailed([exc.at("text")]) from None
    if locale is not None and session.get(m.Locale, locale) is None:
        raise ValidationFailed(
            [{"path": "locale", "code": "unknown_locale", "message": "unknown locale"}]
        )
    row = Report(
        service_id=service_id, kind=kind, text=text, locale=locale, created_at=now, updated_at=now
    )
    session.add(row)
    session.flush()
    return row


def resolve_report(
    session: Session, *, report_id: uuid.UUID, moderator: Account, dismiss: bool = False
) -> Report:
    if not is_moderator(moderator):
        raise Forbidden("Only moderators handle reports")
    row = session.get(Report, report_id)
    if row is None:
        raise NotFound("No such report")
    row.state = ReportState.dismissed if dismiss else ReportState.resolved
    row.handled_by_id = moderator.id
    row.handled_at = utcnow()
    session.flush()
    return row


# --- audit ------------------------------------------------------------------------------------


def audit(
    session: Session,
    *,
    viewer: Account,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
    limit: int = 100,
    before: dt.datetime | None = None,
) -> list[AuditEntry]:
    """The audit log, newest first, for one record or overall. Moderators only."""
    if not is_moderator(viewer):
        raise Forbidden("Only moderators read the audit log")
    stmt = select(AuditEntry)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if before:
        stmt = stmt.where(AuditEntry.at < before)
    return list(
        session.scalars(
            stmt.order_by(AuditEntry.at.desc(), AuditEntry.entity_version.desc()).limit(limit)
        )
    )


def account_names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Display names for authors/reviewers (moderator views; never emails)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Account.id, Account.display_name).where(Account.id.in_(wanted)))
    return {row[0]: row[1] for row in rows}


__all__ = [
    "FieldChange",
    "GroupRecord",
    "QueueView",
    "Role",
    "acknowledge",
    "account_names",
    "approve",
    "audit",
    "diff",
    "get_change",
    "group_head",
    "group_of",
    "my_changes",
    "propose",
    "propose_group",
    "queue",
    "reject",
    "report",
    "resolve_report",
    "revert",
    "snapshot",
    "withdraw",
]
