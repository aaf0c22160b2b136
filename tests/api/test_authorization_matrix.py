"""Who may call what: every /api/v1 route and method (read from the application's own route
table, so a new route cannot escape) × anonymous, volunteer, moderator, admin and a volunteer
of another region. A route must either be on the public list or be guarded by one of the
auth dependencies; each guard implies the expected 401/403 outcome per persona."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.api import auth
from directory.api.routes import build_api
from directory.listings.models import Address, Notice, Phone, Schedule
from directory.moderation import service as moderation
from tests.factories import make_account, make_listing, make_place, make_token

#: Routes anyone may call (reads of public data and anonymous reports). Nothing else.
PUBLIC = {
    ("GET", "/v1/services"),
    ("GET", "/v1/services/{service_id}"),
    ("GET", "/v1/organizations"),
    ("GET", "/v1/organizations/{organization_id}"),
    ("GET", "/v1/locations"),
    ("GET", "/v1/locations/{location_id}"),
    ("GET", "/v1/taxonomy_terms"),
    ("GET", "/v1/places"),
    ("GET", "/v1/notices"),
    ("POST", "/v1/services/{service_id}/reports"),
    ("GET", "/v1/export/{fmt}"),
}
GUARDS: dict[Callable[..., Any], str] = {
    auth.require_admin: "admin",
    auth.require_moderator: "moderator",
    auth.require_writer: "writer",
    auth.require_identity: "identity",
}
PERSONAS = ["anonymous", "other_region_volunteer", "volunteer", "moderator", "admin"]


def _guard(route: APIRoute) -> str | None:
    found: set[str] = set()

    def walk(dep: Any) -> None:
        if dep.call in GUARDS:
            found.add(GUARDS[dep.call])
        for sub in dep.dependencies:
            walk(sub)

    walk(route.dependant)
    for level in ("admin", "moderator", "writer", "identity"):
        if level in found:
            return level
    return None


def _routes() -> list[tuple[str, str, str | None]]:
    # FastAPI keeps included routers nested; iter_route_contexts flattens them with their prefix.
    out = []
    for ctx in iter_route_contexts(build_api().routes):
        route = ctx.original_route
        if not isinstance(route, APIRoute) or not ctx.path.startswith("/v1/"):
            continue
        if ctx.path == "/v1/docs":
            continue  # the human-readable docs page
        for method in sorted(set(ctx.methods or ()) - {"HEAD", "OPTIONS"}):
            out.append((method, ctx.path, _guard(route)))
    return out


ROUTES = _routes()


def test_every_route_is_public_or_guarded() -> None:
    assert len(ROUTES) > 40
    unguarded = [(m, p) for m, p, g in ROUTES if g is None and (m, p) not in PUBLIC]
    assert unguarded == [], "a route with no auth dependency that is not on the public list"
    guarded_public = [(m, p) for m, p, g in ROUTES if g is not None and (m, p) in PUBLIC]
    assert guarded_public == []


def _expected(guard: str | None, persona: str, path: str, method: str) -> set[int] | None:
    """The status the persona must get, or None for "anything but 401/403/5xx"."""
    if guard is None:
        return None
    if persona == "anonymous":
        return {401}
    if guard in ("moderator", "admin") and persona in ("volunteer", "other_region_volunteer"):
        return {403}
    if guard == "admin" and persona == "moderator":
        return {403}
    if persona == "other_region_volunteer":
        # Writes to the region's records, and change requests of that region, are off limits
        # (404 where even existence is not told).
        if guard == "writer" and "{" in path:
            return {403}
        if "change-requests/{change_id}" in path:
            return {403, 404}
    return None


@pytest.fixture()
def world(db: Session) -> dict[str, Any]:
    kyiv, lviv = make_place(db, name="Kyiv oblast"), make_place(db, name="Lviv oblast")
    svc, loc = make_listing(db, region=kyiv)
    people = {
        "volunteer": make_account(db, "volunteer", [kyiv]),
        "moderator": make_account(db, "moderator", [kyiv]),
        "admin": make_account(db, "admin"),
        "other_region_volunteer": make_account(db, "volunteer", [lviv]),
    }
    tokens = {name: make_token(db, acc) for name, acc in people.items()}
    address = Address(location_id=loc.id, address_1="Street 1", city="Kyiv", country="UA")
    schedule = Schedule(location_id=loc.id, freq="WEEKLY", byday="MO")
    notice = Notice(region_id=kyiv.id, title="Alert", valid_from=dt.datetime.now(dt.UTC))
    db.add_all([address, schedule, notice])
    db.flush()
    phone = db.query(Phone).filter(Phone.location_id == loc.id).one()
    change = moderation.propose(
        db,
        actor=people["volunteer"],
        entity_type="location",
        entity_id=loc.id,
        kind="capacity",
        changes={"capacity_available": 5},
    )
    report = moderation.report(db, service_id=svc.id, kind="full")
    from directory.accounts.service import create_token

    spare_token = create_token(db, account=people["volunteer"]).token
    db.commit()
    ids = {
        "service_id": svc.id,
        "location_id": loc.id,
        "organization_id": svc.organization_id,
        "address_id": address.id,
        "phone_id": phone.id,
        "schedule_id": schedule.id,
        "notice_id": notice.id,
        "change_id": change.id,
        "report_id": report.id,
        "fmt": "hsds-json",
        "account_id": people["volunteer"].id,
        "token_id": spare_token.id,
    }
    models = {
        "service_id": type(svc),
        "location_id": type(loc),
        "address_id": Address,
        "phone_id": Phone,
        "schedule_id": Schedule,
        "notice_id": Notice,
        "organization_id": type(svc.organization_id),
    }
    return {"tokens": tokens, "ids": ids, "models": models}


def _body(path: str) -> dict[str, Any]:
    """A body that passes the schema, so that the guard, not validation, decides."""
    if path.endswith("/translations"):
        return {"translations": {}}
    if path.endswith("/status"):
        return {"status": "active"}
    if path.endswith("/capacity"):
        return {"available": 1}
    if path.endswith("/reject"):
        return {"reason": "matrix"}
    if path.endswith("/reports"):
        return {"kind": "full"}
    return {}


def _version(db: Session, path: str, ids: dict[str, Any]) -> str:
    from directory.accounts.models import Account
    from directory.listings import models as m

    name = re.findall(r"\{(\w+)\}", path)
    model = {
        "service_id": m.Service,
        "location_id": m.Location,
        "organization_id": m.Organization,
        "address_id": m.Address,
        "phone_id": m.Phone,
        "schedule_id": m.Schedule,
        "notice_id": m.Notice,
        "account_id": Account,
    }.get(name[0] if name else "")
    if model is None:
        return '"1"'
    db.expire_all()
    record = db.get(model, ids[name[0]])
    return f'"{record.version if record else 1}"'


@pytest.mark.parametrize(
    ("method", "path", "guard"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_authorization_matrix(
    client: TestClient,
    db: Session,
    world: dict[str, Any],
    method: str,
    path: str,
    guard: str | None,
) -> None:
    url = "/api" + re.sub(r"\{(\w+)\}", lambda mt: str(world["ids"][mt.group(1)]), path)
    for persona in PERSONAS:
        headers = {"If-Match": _version(db, path, world["ids"])}
        if persona != "anonymous":
            headers["Authorization"] = f"Bearer {world['tokens'][persona]}"
        kwargs: dict[str, Any] = {"headers": headers}
        if method in ("POST", "PUT", "PATCH"):
            kwargs["json"] = _body(path)
        r = client.request(method, url, **kwargs)
        assert r.status_code < 500, (persona, r.status_code, r.text)
        assert r.headers["content-type"].startswith(
            ("application/json", "application/problem+json", "text/", "application/")
        )
        want = _expected(guard, persona, path, method)
        if want is None:
            assert r.status_code not in (401, 403), (persona, r.status_code, r.text)
        else:
            assert r.status_code in want, (persona, r.status_code, r.text)
            assert r.headers["content-type"] == "application/problem+json"
