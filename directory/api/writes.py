"""Writes with a bearer token: every one becomes a change request through the write path
(`moderation.service`). Moderators' writes publish at once (200/201 with the new ETag);
volunteers' (and anything the fraud guard holds) answer 202 with the change request.

(No `from __future__ import annotations` here: the routes are built in a loop and FastAPI
reads each body model from the real annotation.)"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from directory.accounts import service as accounts
from directory.api import schemas as s
from directory.api.auth import ApiSession, Identity, IfMatch, Moderator, Writer, etag
from directory.api.problems import PROBLEM
from directory.api.reads import current_version
from directory.config import Settings
from directory.deps import SettingsDep
from directory.errors import Forbidden, NotFound
from directory.listings import models as m
from directory.listings.privacy import is_locating, sees_whereabouts
from directory.moderation import service as moderation
from directory.moderation.models import ChangeRequest, ChangeState

router = APIRouter(tags=["write"])

#: URL collection → (entity type, body model). HSDS plural names.
COLLECTIONS: dict[str, tuple[str, type[s.WriteIn]]] = {
    "organizations": ("organization", s.OrganizationIn),
    "services": ("service", s.ServiceIn),
    "locations": ("location", s.LocationIn),
    "addresses": ("address", s.AddressIn),
    "phones": ("phone", s.PhoneIn),
    "schedules": ("schedule", s.ScheduleIn),
    "notices": ("notice", s.NoticeIn),
}
COLLECTION_OF = {etype: coll for coll, (etype, _) in COLLECTIONS.items()}

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": desc, "content": {PROBLEM: {"schema": s.Problem.model_json_schema()}}}
    for code, desc in [
        (401, "no valid token"),
        (403, "role, scope or region does not allow it"),
        (404, "no such record"),
        (412, "If-Match is stale (the body has current_version)"),
        (422, "invalid fields (errors[].pointer)"),
        (428, "If-Match missing"),
    ]
}
_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "proposed: waits for a moderator", "model": s.ChangeRequestOut}
}


def change_out(
    session: Session,
    cr: ChangeRequest,
    *,
    with_diff: bool = False,
    moderator_view: bool = True,
    names: dict[uuid.UUID, str] | None = None,
) -> dict[str, Any]:
    """A change request as JSON. Outside moderator views the published values of sensitive
    fields (whereabouts, contact) are not shown: a confidential place stays confidential.
    `names`: display names already looked up for a whole list (one query, not one per item)."""
    if names is None:
        names = moderation.account_names(session, [cr.author_id, cr.reviewer_id])
    out = s.ChangeRequestOut(
        id=cr.id,
        state=cr.state.value,
        kind=cr.kind.value,
        entity_type=cr.entity_type,
        entity_id=cr.entity_id,
        base_version=cr.base_version,
        entity_version=current_version(session, cr.entity_type, cr.entity_id)
        if cr.state == ChangeState.approved
        else None,
        fields=cr.payload.get("fields", {}),
        translations=cr.payload.get("translations", {}),
        comment=cr.comment,
        author=names.get(cr.author_id) if cr.author_id else None,
        reviewer=names.get(cr.reviewer_id) if cr.reviewer_id else None,
        review_reason=cr.review_reason,
        needs_review=cr.needs_review,
        sensitive=cr.sensitive,
        created_at=cr.created_at,
        decided_at=cr.decided_at,
        diff=[
            s.FieldChangeOut(
                field=d.field,
                locale=d.locale,
                current=d.current if moderator_view or not _hidden(cr, d) else None,
                proposed=d.proposed,
                sensitive=d.sensitive,
                entity_type=d.entity_type,
                entity_id=d.entity_id,
            )
            for d in moderation.diff(session, change=cr)
        ]
        if with_diff
        else None,
        group_id=cr.group_id,
        group=[
            _member_out(session, x, with_diff=with_diff, moderator_view=moderator_view)
            for x in moderation.group_of(session, change=cr)
        ]
        if cr.group_id
        else None,
    )
    return out.model_dump(mode="json")


def _member_out(
    session: Session, cr: ChangeRequest, *, with_diff: bool, moderator_view: bool
) -> s.GroupMemberOut:
    return s.GroupMemberOut(
        id=cr.id,
        state=cr.state.value,
        kind=cr.kind.value,
        entity_type=cr.entity_type,
        entity_id=cr.entity_id,
        fields=cr.payload.get("fields", {}),
        translations=cr.payload.get("translations", {}),
        sensitive=cr.sensitive,
        diff=[
            s.FieldChangeOut(
                field=d.field,
                locale=d.locale,
                current=d.current if moderator_view or not _hidden(cr, d) else None,
                proposed=d.proposed,
                sensitive=d.sensitive,
                entity_type=d.entity_type,
                entity_id=d.entity_id,
            )
            for d in moderation.diff(session, change=cr)
        ]
        if with_diff
        else None,
    )


def _hidden(cr: ChangeRequest, d: moderation.FieldChange) -> bool:
    """Outside moderator views: the published value of a contact field or of a field that
    locates a place (`listings.privacy.LOCATING_FIELDS`) is not shown."""
    return d.sensitive or is_locating(d.entity_type or cr.entity_type, d.field)


def written(session: Session, cr: ChangeRequest, *, created: bool = False) -> JSONResponse:
    """200/201 with the new ETag when published, 202 with the change request when not."""
    body = change_out(session, cr)
    headers = {"Cache-Control": "no-store"}
    if cr.state == ChangeState.approved:
        headers["ETag"] = etag(body["entity_version"])
        coll = COLLECTION_OF.get(cr.entity_type)
        if created and coll:
            headers["Location"] = f"/api/v1/{coll}/{cr.entity_id}"
        return JSONResponse(body, status_code=201 if created else 200, headers=headers)
    headers["Location"] = f"/api/v1/moderation/change-requests/{cr.id}"
    return JSONResponse(body, status_code=202, headers=headers)


def _trusted(session: Session, settings: Settings) -> bool:
    return accounts.trusted_volunteers_publish(session, default=settings.trusted_volunteers_publish)


def _add_collection(coll: str, entity_type: str, body_model: type[s.WriteIn]) -> None:
    label = entity_type.replace("_", " ")
    param = f"{entity_type}_id"
    ItemId = Annotated[uuid.UUID, Path(alias=param)]  # noqa: N806

    def create(body: s.WriteIn, ident: Writer, session: ApiSession) -> JSONResponse:
        cr = moderation.propose(
            session,
            actor=ident.account,
            entity_type=entity_type,
            kind="create",
            changes=body.changes(),
            translations=body.translations,
            comment=body.comment,
        )
        return written(session, cr, created=True)

    def update(
        item_id: ItemId, body: s.WriteIn, ident: Writer, version: IfMatch, session: ApiSession
    ) -> JSONResponse:
        cr = moderation.propose(
            session,
            actor=ident.account,
            entity_type=entity_type,
            kind="update",
            entity_id=item_id,
            base_version=version,
            changes=body.changes(),
            translations=body.translations,
            comment=body.comment,
        )
        return written(session, cr)

    # FastAPI reads the body model from the annotation: give each collection its own.
    create.__annotations__["body"] = body_model
    update.__annotations__["body"] = body_model

    def archive(
        item_id: ItemId, ident: Writer, version: IfMatch, session: ApiSession
    ) -> JSONResponse:
        cr = moderation.propose(
            session,
            actor=ident.account,
            entity_type=entity_type,
            kind="archive",
            entity_id=item_id,
            base_version=version,
        )
        return written(session, cr)

    def restore(
        item_id: ItemId, ident: Writer, version: IfMatch, session: ApiSession
    ) -> JSONResponse:
        cr = moderation.propose(
            session,
            actor=ident.account,
            entity_type=entity_type,
            kind="restore",
            entity_id=item_id,
            base_version=version,
        )
        return written(session, cr)

    def translations(
        item_id: ItemId,
        body: s.TranslationsIn,
        ident: Writer,
        version: IfMatch,
        session: ApiSession,
    ) -> JSONResponse:
        cr = moderation.propose(
            session,
            actor=ident.account,
            entity_type=entity_type,
            kind="update",
            entity_id=item_id,
            base_version=version,
            translations=body.translations,
            comment=body.comment,
        )
        return written(session, cr)

    if entity_type in moderation.MODERATOR_TYPES:  # notices speak for the directory
        for fn in (create, update, archive, restore, translations):
            fn.__annotations__["ident"] = Moderator
    responses = {**_PROBLEMS, **_ACCEPTED}
    item = f"/{coll}/{{{param}}}"
    router.add_api_route(
        f"/{coll}",
        create,
        methods=["POST"],
        status_code=201,
        summary=f"Create a {label}",
        responses=responses,
        response_model=s.ChangeRequestOut,
        name=f"create_{entity_type}",
    )
    router.add_api_route(
        item,
        update,
        methods=["PATCH"],
        summary=f"Change a {label} (If-Match required)",
        responses=responses,
        response_model=s.ChangeRequestOut,
        name=f"update_{entity_type}",
    )
    router.add_api_route(
        item,
        archive,
        methods=["DELETE"],
        summary=f"Archive a {label} (If-Match required; restorable)",
        responses=responses,
        response_model=s.ChangeRequestOut,
        name=f"archive_{entity_type}",
    )
    router.add_api_route(
        f"{item}/restore",
        restore,
        methods=["POST"],
        summary=f"Restore an archived {label} (If-Match required)",
        responses=responses,
        response_model=s.ChangeRequestOut,
        name=f"restore_{entity_type}",
    )
    if any(f.translatable for f in _fields(entity_type).values()):
        router.add_api_route(
            f"{item}/translations",
            translations,
            methods=["PUT"],
            summary=f"Set texts of a {label} in other languages (If-Match)",
            responses=responses,
            response_model=s.ChangeRequestOut,
            name=f"translate_{entity_type}",
        )


def _fields(entity_type: str) -> dict[str, Any]:
    from directory.moderation.fields import FIELDS

    return FIELDS[entity_type]


for _coll, (_etype, _model) in COLLECTIONS.items():
    _add_collection(_coll, _etype, _model)


# --- records without a public page: read them (and their ETag) with a token ------------------


def _read_private(
    session: Session, ident: accounts.TokenIdentity, entity_type: str, item_id: uuid.UUID
) -> JSONResponse:
    from directory.moderation.fields import MODELS

    record = session.get(MODELS[entity_type], item_id)
    if record is None:
        raise NotFound(f"No such {entity_type}")
    loc_id = getattr(record, "location_id", None)
    loc = session.get(m.Location, loc_id) if loc_id else None
    hidden = not sees_whereabouts(session, ident.account, loc)
    if entity_type == "phone" and record.is_hotline:
        hidden = False
    if hidden:
        raise Forbidden("Only moderators see the whereabouts of this place")
    snap = moderation.snapshot(session, entity_type, record)
    snap["id"] = str(record.id)
    return JSONResponse(snap, headers={"ETag": etag(record.version), "Cache-Control": "no-store"})


def _add_private_get(coll: str, entity_type: str) -> None:
    param = f"{entity_type}_id"
    ItemId = Annotated[uuid.UUID, Path(alias=param)]  # noqa: N806

    def read(item_id: ItemId, ident: Identity, session: ApiSession) -> JSONResponse:
        return _read_private(session, ident, entity_type, item_id)

    router.add_api_route(
        f"/{coll}/{{{param}}}",
        read,
        methods=["GET"],
        responses=_PROBLEMS,
        summary=f"One {entity_type} with its ETag (token needed)",
        name=f"get_{entity_type}",
    )


for _coll in ("addresses", "phones", "schedules", "notices"):
    _add_private_get(_coll, COLLECTIONS[_coll][0])


# --- quick updates from the field -------------------------------------------------------------


@router.patch(
    "/services/{service_id}/status",
    response_model=s.ChangeRequestOut,
    responses={**_PROBLEMS, **_ACCEPTED},
    summary="Quick status update: open, full, temporarily closed (If-Match required)",
)
def set_status(
    service_id: uuid.UUID,
    body: s.StatusIn,
    ident: Writer,
    version: IfMatch,
    request: Request,
    session: ApiSession,
    settings: SettingsDep,
) -> JSONResponse:
    request.state.field_renames = {
        "status_until": "until",
        "status_reason": "reason",
        "status_reason_code": "reason_code",
    }
    changes: dict[str, Any] = {"status": body.status, "status_reason_code": body.reason_code}
    if body.until is not None:
        changes["status_until"] = body.until.isoformat()
    if "alternative_service_id" in body.model_fields_set:
        alt = body.alternative_service_id
        changes["alternative_service_id"] = str(alt) if alt is not None else None
    cr = moderation.propose(
        session,
        actor=ident.account,
        entity_type="service",
        kind="status",
        entity_id=service_id,
        base_version=version,
        changes=changes,
        translations={"status_reason": body.reason} if body.reason else None,
        comment=body.comment,
        trusted_publish=_trusted(session, settings),
    )
    return written(session, cr)


@router.patch(
    "/locations/{location_id}/capacity",
    response_model=s.ChangeRequestOut,
    responses={**_PROBLEMS, **_ACCEPTED},
    summary="Quick capacity update: free places now, total (If-Match required)",
)
def set_capacity(
    location_id: uuid.UUID,
    body: s.CapacityIn,
    ident: Writer,
    version: IfMatch,
    request: Request,
    session: ApiSession,
    settings: SettingsDep,
) -> JSONResponse:
    request.state.field_renames = {"capacity_available": "available", "capacity_maximum": "total"}
    changes: dict[str, Any] = {"capacity_available": body.available}
    if body.total is not None:
        changes["capacity_maximum"] = body.total
    cr = moderation.propose(
        session,
        actor=ident.account,
        entity_type="location",
        kind="capacity",
        entity_id=location_id,
        base_version=version,
        changes=changes,
        comment=body.comment,
        trusted_publish=_trusted(session, settings),
    )
    return written(session, cr)


@router.post(
    "/services/{service_id}/verify",
    response_model=s.ChangeRequestOut,
    responses=_PROBLEMS,
    summary="Moderators: still accurate, verified now",
)
def verify(
    service_id: uuid.UUID, ident: Moderator, session: ApiSession, body: s.VerifyIn | None = None
) -> JSONResponse:
    cr = moderation.propose(
        session,
        actor=ident.account,
        entity_type="service",
        kind="verify",
        entity_id=service_id,
        comment=body.comment if body else None,
    )
    return written(session, cr)
