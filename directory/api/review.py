"""Moderation over the API: the queue, one change request with its diff, approve, reject,
revert, audit, reports; and the caller's own account and change requests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from directory.accounts import service as accounts
from directory.api import schemas as s
from directory.api.auth import ApiSession, Identity, Moderator
from directory.api.writes import _PROBLEMS, change_out, written
from directory.errors import ValidationFailed
from directory.moderation import service as moderation
from directory.moderation.models import ChangeKind, ChangeState

router = APIRouter(prefix="/moderation", tags=["moderation"], responses=_PROBLEMS)
me_router = APIRouter(prefix="/me", tags=["account"], responses=_PROBLEMS)


def _nostore(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get(
    "/queue",
    response_model=s.QueueOut,
    summary="What waits for review, oldest first",
    description="A new listing proposed as one unit (organisation, service, place, "
    "address, phones, hours ...) is ONE item: the service's change, with `group_id` and "
    "`group` (every change of the listing, parents first). Approving or rejecting it "
    "approves (atomically, parents first) or rejects the whole listing.",
)
def get_queue(
    ident: Moderator,
    session: ApiSession,
    region_id: uuid.UUID | None = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    kind: ChangeKind | None = None,
    older_than_hours: Annotated[int | None, Query(ge=0, le=24 * 365)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSONResponse:
    view = moderation.queue(
        session,
        viewer=ident.account,
        region_id=region_id,
        category=category,
        kind=kind,
        older_than=dt.timedelta(hours=older_than_hours) if older_than_hours is not None else None,
        limit=limit,
    )
    names = moderation.account_names(
        session, [cr.author_id for cr in view.items] + [cr.reviewer_id for cr in view.items]
    )
    return _nostore(
        {
            "items": [change_out(session, cr, names=names) for cr in view.items],
            "reports": [
                s.ReportOut(
                    id=r.id,
                    service_id=r.service_id,
                    kind=r.kind.value,
                    text=r.text,
                    locale=r.locale,
                    state=r.state.value,
                    created_at=r.created_at,
                ).model_dump(mode="json")
                for r in view.reports
            ],
            "counts": view.counts,
            "total": view.total,
        }
    )


@router.get(
    "/change-requests/{change_id}",
    response_model=s.ChangeRequestOut,
    summary="One change request with a field-by-field diff (its author or a moderator)",
    description="For a change of a new listing (`group_id` set), `group` lists every "
    "change of the listing with its own diff: the whole new listing in one view.",
)
def get_change_request(change_id: uuid.UUID, ident: Identity, session: ApiSession) -> JSONResponse:
    cr = moderation.get_change(session, change_id=change_id, viewer=ident.account)
    return _nostore(
        change_out(session, cr, with_diff=True, moderator_view=accounts.is_moderator(ident.account))
    )


@router.post(
    "/change-requests/{change_id}/approve",
    response_model=s.ChangeRequestOut,
    summary="Approve and apply atomically (409 with the conflict if the record moved on)",
    description="Approving a change of a group (a new listing) applies every change of "
    "the group, parents first, in one transaction; rejecting one rejects them all.",
)
def approve(change_id: uuid.UUID, ident: Moderator, session: ApiSession) -> JSONResponse:
    cr = moderation.approve(session, change_id=change_id, reviewer=ident.account)
    return written(session, cr)


@router.post(
    "/change-requests/{change_id}/reject",
    response_model=s.ChangeRequestOut,
    summary="Reject with a reason the author can read",
)
def reject(
    change_id: uuid.UUID, body: s.RejectIn, ident: Moderator, session: ApiSession
) -> JSONResponse:
    cr = moderation.reject(session, change_id=change_id, reviewer=ident.account, reason=body.reason)
    return _nostore(change_out(session, cr))


@router.post(
    "/change-requests/{change_id}/acknowledge",
    response_model=s.ChangeRequestOut,
    summary="Mark a change published without review (trusted volunteer) as looked at",
)
def acknowledge(change_id: uuid.UUID, ident: Moderator, session: ApiSession) -> JSONResponse:
    cr = moderation.acknowledge(session, change_id=change_id, reviewer=ident.account)
    return _nostore(change_out(session, cr))


@router.post(
    "/revert",
    response_model=s.ChangeRequestOut,
    summary="Restore a record as it was at an earlier version (a new, audited change)",
)
def revert(body: s.RevertIn, ident: Moderator, session: ApiSession) -> JSONResponse:
    cr = moderation.revert(
        session,
        actor=ident.account,
        entity_type=body.entity_type,
        entity_id=body.entity_id,
        to_version=body.to_version,
        comment=body.comment,
    )
    return written(session, cr)


#: An RFC 3339 date-time, as `format: date-time` means (numbers are not times).
RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def _rfc3339(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed([{"path": "before", "message": "is not a valid time"}]) from None


@router.get(
    "/audit",
    response_model=list[s.AuditEntryOut],
    summary="The audit log, newest first; per record with entity_type and entity_id",
)
def get_audit(
    ident: Moderator,
    session: ApiSession,
    entity_type: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: uuid.UUID | None = None,
    before: Annotated[
        str | None,
        Query(
            pattern=RFC3339,
            json_schema_extra={"format": "date-time"},
            description="entries before this time (RFC 3339, e.g. 2026-12-01T18:00:00Z)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSONResponse:
    before_time = _rfc3339(before) if before is not None else None
    entries = moderation.audit(
        session,
        viewer=ident.account,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before_time,
        limit=limit,
    )
    names = moderation.account_names(
        session, [e.author_id for e in entries] + [e.approver_id for e in entries]
    )
    return _nostore(
        [
            s.AuditEntryOut(
                id=e.id,
                at=e.at,
                entity_type=e.entity_type,
                entity_id=e.entity_id,
                entity_version=e.entity_version,
                action=e.action,
                change_request_id=e.change_request_id,
                author=names.get(e.author_id) if e.author_id else None,
                approver=names.get(e.approver_id) if e.approver_id else None,
                changes=e.changes,
            ).model_dump(mode="json")
            for e in entries
        ]
    )


@router.post(
    "/reports/{report_id}/resolve",
    response_model=s.ReportOut,
    summary="Mark a reader's report as handled (or dismissed)",
)
def resolve_report(
    report_id: uuid.UUID, ident: Moderator, session: ApiSession, dismiss: bool = False
) -> JSONResponse:
    r = moderation.resolve_report(
        session, report_id=report_id, moderator=ident.account, dismiss=dismiss
    )
    return _nostore(
        s.ReportOut(
            id=r.id,
            service_id=r.service_id,
            kind=r.kind.value,
            text=r.text,
            locale=r.locale,
            state=r.state.value,
            created_at=r.created_at,
        ).model_dump(mode="json")
    )


@me_router.get("", response_model=s.MeOut, summary="The account behind this token")
def me(ident: Identity, session: ApiSession) -> JSONResponse:
    a = ident.account
    return _nostore(
        s.MeOut(
            id=a.id,
            display_name=a.display_name,
            role=a.role.value,
            scopes=sorted(ident.scopes),
            regions=sorted(accounts.region_ids(session, a)),
            token_expires_at=ident.token.expires_at,
        ).model_dump(mode="json")
    )


@me_router.get(
    "/change-requests",
    response_model=list[s.ChangeRequestOut],
    summary="My change requests, newest first, with their state and review reason",
)
def my_change_requests(
    ident: Identity,
    session: ApiSession,
    state: Annotated[
        Literal["pending", "approved", "rejected", "withdrawn"] | None, Query()
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSONResponse:
    rows = moderation.my_changes(
        session, author=ident.account, state=ChangeState(state) if state else None, limit=limit
    )
    names = moderation.account_names(
        session, [cr.author_id for cr in rows] + [cr.reviewer_id for cr in rows]
    )
    return _nostore([change_out(session, cr, names=names) for cr in rows])


@me_router.post(
    "/change-requests/{change_id}/withdraw",
    response_model=s.ChangeRequestOut,
    summary="Withdraw my own pending change",
)
def withdraw(change_id: uuid.UUID, ident: Identity, session: ApiSession) -> JSONResponse:
    cr = moderation.withdraw(session, change_id=change_id, actor=ident.account)
    return _nostore(change_out(session, cr))
