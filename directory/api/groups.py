"""`POST /api/v1/groups`: a whole new listing in one request — a new organisation (or an
existing one), the service, its place with address, phones and weekly hours — proposed as ONE
group of change requests through the moderation write path (`moderation.propose_group`), as the
web form (`manage/new_listing.py`) and the importer do. A volunteer's group waits for a moderator
who approves or rejects it as one (202); a moderator's is published at once (201) unless the
fraud guard holds it for a second moderator."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from directory.api import schemas as s
from directory.api.auth import ApiSession, Writer
from directory.api.writes import _ACCEPTED, _PROBLEMS, written
from directory.errors import ValidationFailed
from directory.moderation import service as moderation

router = APIRouter(tags=["write"])

#: Reference fields the group fills in itself (the records refer to each other by new ids).
_WIRED = {"organization_id", "service_id", "location_id", "service_ids"}


class GroupIn(s.Strict):
    """A new listing. Give `organization` (a new one) or `organization_id` (an existing one)."""

    organization: s.OrganizationIn | None = Field(default=None, description="a new organisation")
    organization_id: uuid.UUID | None = Field(default=None, description="an existing one")
    service: s.ServiceIn
    location: s.LocationIn | None = Field(default=None, description="where it is offered")
    address: s.AddressIn | None = Field(default=None, description="the location's address")
    phones: Annotated[list[s.PhoneIn], Field(max_length=10)] = []
    schedules: Annotated[list[s.ScheduleIn], Field(max_length=50)] = Field(
        default=[], description="weekly hours of the location (of the service without one)"
    )
    comment: s.Comment | None = Field(default=None, description="why; shown to the moderators")


def group_records(body: GroupIn) -> tuple[list[moderation.GroupRecord], list[str]]:
    """The group's records, parents first, and the body path of each (for error pointers)."""
    records: list[moderation.GroupRecord] = []
    paths: list[str] = []

    def add(path: str, etype: str, part: s.WriteIn, **refs: Any) -> uuid.UUID:
        new_id = uuid.uuid4()
        changes = {k: v for k, v in part.changes().items() if k not in _WIRED}
        changes.update({k: v for k, v in refs.items() if v is not None})
        records.append(
            moderation.GroupRecord(etype, changes, part.translations or None, entity_id=new_id)
        )
        paths.append(path)
        return new_id

    if body.organization is not None and body.organization_id is not None:
        raise ValidationFailed(
            [{"path": "organization_id", "message": "give organization or organization_id"}]
        )
    org_id: Any = str(body.organization_id) if body.organization_id else None
    if body.organization is not None:
        org_id = str(add("organization", "organization", body.organization))
    sid = str(add("service", "service", body.service, organization_id=org_id))
    lid: str | None = None
    if body.location is not None:
        lid = str(
            add(
                "location",
                "location",
                body.location,
                organization_id=org_id,
                service_ids=[sid],
            )
        )
    if body.address is not None:
        if lid is None:
            raise ValidationFailed([{"path": "location", "message": "an address needs a location"}])
        add("address", "address", body.address, location_id=lid)
    for i, phone in enumerate(body.phones):
        add(f"phones/{i}", "phone", phone, location_id=lid, service_id=None if lid else sid)
    for i, sched in enumerate(body.schedules):
        add(f"schedules/{i}", "schedule", sched, location_id=lid, service_id=None if lid else sid)
    return records, paths


@router.post(
    "/groups",
    status_code=201,
    response_model=s.ChangeRequestOut,
    responses={**_PROBLEMS, **_ACCEPTED},
    summary="Propose a whole new listing (organisation, service, place, address, phones, "
    "hours) as one group",
    description="One group of change requests, approved or rejected as one. The answer is the "
    "service's change request with the whole `group`. Validation errors point into this body "
    "(`#/phones/1/number`).",
)
def create_group(body: GroupIn, ident: Writer, session: ApiSession) -> JSONResponse:
    records, paths = group_records(body)
    try:
        crs = moderation.propose_group(
            session, actor=ident.account, records=records, comment=body.comment, source="api"
        )
    except ValidationFailed as exc:
        raise ValidationFailed([_repoint(e, paths) for e in exc.errors]) from None
    return written(session, moderation.group_head(crs), created=True)


def _repoint(error: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """`records/3/number` → `phones/1/number`."""
    head, _, rest = str(error.get("path", "")).partition("/")
    if head == "records":
        index, _, field = rest.partition("/")
        if index.isdigit() and int(index) < len(paths):
            return {**error, "path": f"{paths[int(index)]}/{field}".rstrip("/")}
    return error
