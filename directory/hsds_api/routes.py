"""The endpoints of the HSDS 3.1 OpenAPI document (Open Referral's API reference), read-only.

Every list is a `Page` (`total_items`, `total_pages`, `page_number`, `size`, `first_page`,
`last_page`, `empty`, `contents`) in id order, or with `format=ndjson` the whole collection, one
record a line, streamed in keyset batches (flat memory). The official document also lists the
collections under POST with the same query parameters: they answer as the GET (a read; no body
is read, nothing is written). Anonymous answers carry a weak ETag (data version + URL,
`directory.httpcache`) and a matching If-None-Match is answered 304 before any query runs.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.deps import get_session
from directory.errors import NotFound
from directory.exchange import profile
from directory.hsds_api import feed, params, shapes
from directory.hsds_api import select as sel
from directory.httpcache import make_etag, matches, not_modified, public_cache
from directory.listings import models as m

#: Request-scoped: the session lives while an ndjson answer streams.
ReadSession = Annotated[Session, Depends(get_session)]
JSON = "application/json"
NDJSON = "application/x-ndjson"
MAX_AGE = 30

router = APIRouter()

Search = Annotated[str | None, Query()]
PageQ = Annotated[int | None, Query()]
Format = Annotated[str | None, Query()]
Text = Annotated[str | None, Query()]
Flag = Annotated[bool, Query()]


def base_url(request: Request) -> str:
    settings = getattr(request.app.state, "settings", None)
    return (
        (getattr(settings, "base_url", "") or str(request.base_url))
        .rstrip("/")
        .removesuffix("/hsds")
    )


class Conditional:
    """The answer's ETag, known before the query (`directory.httpcache`); 304 on a match."""

    def __init__(self, session: Session, request: Request) -> None:
        self.etag = make_etag(session, request, minute=None)
        self.hit = matches(request, self.etag)

    def headers(self) -> dict[str, str]:
        out = {"Cache-Control": public_cache(None, max_age=MAX_AGE)}
        if self.etag:
            out["ETag"] = self.etag
        return out

    def unchanged(self) -> Response | None:
        if self.etag is not None and self.hit:
            return not_modified(self.etag, cache_control=public_cache(None, max_age=MAX_AGE))
        return None


def _json(body: Any, headers: dict[str, str]) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(data, media_type=JSON, headers=headers)


Render = Callable[[Session, Sequence[Any]], list[dict[str, Any]]]


def _collection(
    request: Request,
    session: Session,
    stmt: sel.Query,
    key: Any,
    render: Render,
    paging: params.Paging,
) -> Response:
    cond = Conditional(session, request)
    if (unchanged := cond.unchanged()) is not None:
        return unchanged
    if paging.ndjson:

        def lines() -> Iterator[bytes]:
            for rows in sel.batches(session, stmt, key):
                chunk = [
                    json.dumps(item, ensure_ascii=False, separators=(",", ":"))
                    for item in render(session, rows)
                ]
                if chunk:
                    yield ("\n".join(chunk) + "\n").encode()

        return StreamingResponse(lines(), media_type=NDJSON, headers=cond.headers())
    total, rows = sel.page(session, stmt, key, offset=paging.offset, limit=paging.per_page)
    contents = render(session, rows)
    pages = math.ceil(total / paging.per_page) if total else 0
    body = {
        "total_items": total,
        "total_pages": pages,
        "page_number": paging.page,
        "size": len(contents),
        "first_page": paging.page == 1,
        "last_page": paging.page >= pages,
        "empty": not contents,
        "contents": contents,
    }
    return _json(body, cond.headers())


def _single(request: Request, session: Session, build: Callable[[], Any], what: str) -> Response:
    cond = Conditional(session, request)
    if (unchanged := cond.unchanged()) is not None:
        return unchanged
    found = build()
    if found is None:
        raise NotFound(f"No such {what}")
    return _json(found, cond.headers())


def _filters(
    search: str | None = None,
    organization_id: str | None = None,
    taxonomy_term_id: str | None = None,
    taxonomy_id: str | None = None,
    modified_after: str | None = None,
) -> sel.Filters:
    return sel.Filters(
        search=params.search_text(search),
        organization_id=params.uuid_or_none(organization_id),
        taxonomy_term_id=params.uuid_or_none(taxonomy_term_id),
        taxonomy_id=params.uuid_or_none(taxonomy_id),
        modified_after=params.modified_after(modified_after),
    )


# --- root ---------------------------------------------------------------------------------------


@router.get("/")
def root(request: Request) -> Response:
    base = base_url(request)
    body = {
        "version": profile.HSDS_VERSION,
        "profile": profile.profile_url(base),
        "openapi_url": profile.schema_url("openapi.json", base),
    }
    headers = {"Cache-Control": "public, max-age=3600"}
    return _json(body, headers)


# --- services -----------------------------------------------------------------------------------


def _render_services(kind: str) -> Render:
    def render(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
        live = [r for r in rows if r.archived_at is None]
        built = {s["id"]: s for s in shapes.full_services(session, sel.ids_of(live))}
        out = []
        for r in rows:
            if r.archived_at is not None:
                out.append(shapes.tombstone("service", r.id, r.name, r.archived_at))
                continue
            full = built.get(str(r.id))
            if full is None:
                continue
            if kind == "minimal":
                out.append(shapes.minimal(full))
            elif kind == "full":
                out.append(full)
            else:
                out.append(shapes.service_list_item(full))
        return out

    return render


@router.api_route("/services", methods=["GET", "POST"])
def list_services(
    request: Request,
    session: ReadSession,
    search: Search = None,
    page: PageQ = None,
    per_page: PageQ = None,
    format: Format = None,  # noqa: A002 - the HSDS parameter's name
    taxonomy_term_id: Text = None,
    taxonomy_id: Text = None,
    organization_id: Text = None,
    modified_after: Text = None,
    minimal: Flag = False,
    full: Flag = False,
) -> Response:
    f = _filters(search, organization_id, taxonomy_term_id, taxonomy_id, modified_after)
    kind = "minimal" if minimal else "full" if full else "list"
    stmt = sel.services(session, f)
    return _collection(
        request,
        session,
        stmt,
        m.Service.id,
        _render_services(kind),
        params.paging(page, per_page, format),
    )


@router.get("/services/{id}")
def get_service(request: Request, session: ReadSession, id: str) -> Response:  # noqa: A002
    sid = params.uuid_or_none(id)

    def build() -> Any:
        if not isinstance(sid, uuid.UUID):
            return None
        found = shapes.full_services(session, [sid])
        return found[0] if found else None

    return _single(request, session, build, "service")


# --- organizations ------------------------------------------------------------------------------


def _services_of(session: Session, org_ids: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    S = m.Service
    ids = list(
        session.scalars(
            select(S.id)
            .where(S.organization_id.in_(list(org_ids)), S.archived_at.is_(None))
            .order_by(S.id)
        )
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for chunk in range(0, len(ids), sel.BATCH):
        for s in shapes.full_services(session, ids[chunk : chunk + sel.BATCH]):
            out.setdefault(s.get("organization_id", ""), []).append(s)
    return out


def _render_organizations(*, full: bool, full_service: bool) -> Render:
    def render(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
        live = sel.ids_of([r for r in rows if r.archived_at is None])
        built = {o["id"]: o for o in shapes.organizations(session, live)}
        services = _services_of(session, live) if full or full_service else {}
        out = []
        for r in rows:
            if r.archived_at is not None:
                out.append(shapes.tombstone("organization", r.id, r.name, r.archived_at))
            elif (org := built.get(str(r.id))) is not None:
                if full or full_service:
                    services_of_org = services.get(str(r.id), [])
                    org = shapes.organization_full(org, services_of_org, full_service=full_service)
                out.append(org)
        return out

    return render


@router.api_route("/organizations", methods=["GET", "POST"])
def list_organizations(
    request: Request,
    session: ReadSession,
    search: Search = None,
    full_service: Flag = False,
    full: Flag = False,
    taxonomy_term_id: Text = None,
    taxonomy_id: Text = None,
    page: PageQ = None,
    per_page: PageQ = None,
    format: Format = None,  # noqa: A002
    modified_after: Text = None,
) -> Response:
    f = _filters(search, None, taxonomy_term_id, taxonomy_id, modified_after)
    stmt = sel.organizations(session, f)
    render = _render_organizations(full=full, full_service=full_service)
    return _collection(
        request, session, stmt, m.Organization.id, render, params.paging(page, per_page, format)
    )


@router.get("/organizations/{id}")
def get_organization(
    request: Request,
    session: ReadSession,
    id: str,  # noqa: A002
    full_service: Flag = False,
) -> Response:
    oid = params.uuid_or_none(id)

    def build() -> Any:
        if not isinstance(oid, uuid.UUID):
            return None
        orgs = shapes.organizations(session, [oid])
        if not orgs:
            return None
        services = _services_of(session, [oid]).get(str(oid), [])
        return shapes.organization_full(orgs[0], services, full_service=full_service)

    return _single(request, session, build, "organization")


# --- service at location ------------------------------------------------------------------------


def _render_sals(*, full: bool) -> Render:
    def render(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
        service_ids = list(dict.fromkeys(r.service_id for r in rows if r.archived_at is None))
        by_id: dict[str, dict[str, Any]] = {}
        for s in shapes.full_services(session, service_ids):
            for item in shapes.service_at_locations(s, nested=full):
                by_id[item["id"]] = item
        out = []
        for r in rows:
            if r.archived_at is not None:
                out.append(
                    shapes.tombstone(
                        "service_at_location",
                        r.id,
                        "",
                        r.archived_at,
                        service_id=str(r.service_id),
                        location_id=str(r.location_id),
                    )
                )
            elif (found := by_id.get(str(r.id))) is not None:
                out.append(found)
        return out

    return render


@router.api_route("/service_at_locations", methods=["GET", "POST"])
def list_service_at_locations(
    request: Request,
    session: ReadSession,
    search: Search = None,
    taxonomy_term_id: Text = None,
    taxonomy_id: Text = None,
    organization_id: Text = None,
    modified_after: Text = None,
    full: Flag = False,
    page: PageQ = None,
    per_page: PageQ = None,
    format: Format = None,  # noqa: A002
    postcode: Text = None,
    proximity: Text = None,
) -> Response:
    f = _filters(search, organization_id, taxonomy_term_id, taxonomy_id, modified_after)
    stmt = sel.service_at_locations(
        session, f, postcode=params.postcode(postcode), proximity=params.proximity(proximity)
    )
    return _collection(
        request,
        session,
        stmt,
        m.ServiceAtLocation.id,
        _render_sals(full=full),
        params.paging(page, per_page, format),
    )


@router.get("/service_at_locations/{id}")
def get_service_at_location(request: Request, session: ReadSession, id: str) -> Response:  # noqa: A002
    sal_id = params.uuid_or_none(id)

    def build() -> Any:
        if not isinstance(sal_id, uuid.UUID):
            return None
        stmt = sel.service_at_locations(session, sel.Filters(), postcode=None, proximity=None)
        rows = list(session.execute(stmt.where(m.ServiceAtLocation.id == sal_id)).all())
        found = _render_sals(full=True)(session, rows)
        return found[0] if found else None

    return _single(request, session, build, "service at location")


# --- taxonomies ---------------------------------------------------------------------------------


def _render_rows(shape: Callable[[Any], dict[str, Any]], model: Any) -> Render:
    def render(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
        ids = sel.ids_of(rows)
        found = {r.id: r for r in session.scalars(select(model).where(model.id.in_(ids)))}
        return [shape(found[i]) for i in ids if i in found]

    return render


@router.api_route("/taxonomies", methods=["GET", "POST"])
def list_taxonomies(
    request: Request,
    session: ReadSession,
    search: Search = None,
    page: PageQ = None,
    per_page: PageQ = None,
    format: Format = None,  # noqa: A002
) -> Response:
    T = m.Taxonomy
    stmt = select(T.id).where(T.archived_at.is_(None))
    if words := params.search_text(search):
        stmt = stmt.where(T.name.icontains(words, autoescape=True))
    render = _render_rows(shapes.taxonomy, T)
    return _collection(request, session, stmt, T.id, render, params.paging(page, per_page, format))


@router.get("/taxonomies/{id}")
def get_taxonomy(request: Request, session: ReadSession, id: str) -> Response:  # noqa: A002
    tid = params.uuid_or_none(id)

    def build() -> Any:
        row = session.get(m.Taxonomy, tid) if isinstance(tid, uuid.UUID) else None
        return shapes.taxonomy(row) if row is not None and row.archived_at is None else None

    return _single(request, session, build, "taxonomy")


@router.api_route("/taxonomy_terms", methods=["GET", "POST"])
def list_taxonomy_terms(
    request: Request,
    session: ReadSession,
    search: Search = None,
    page: PageQ = None,
    per_page: PageQ = None,
    format: Format = None,  # noqa: A002
    taxonomy_id: Text = None,
    top_only: Flag = False,
    parent_id: Text = None,
) -> Response:
    T = m.TaxonomyTerm
    stmt = select(T.id).where(T.archived_at.is_(None))
    if words := params.search_text(search):
        stmt = stmt.where(T.name.icontains(words, autoescape=True))
    tax = params.uuid_or_none(taxonomy_id)
    parent = params.uuid_or_none(parent_id)
    if tax is False or parent is False:
        stmt = stmt.where(T.id.is_(None))
    if isinstance(tax, uuid.UUID):
        stmt = stmt.where(T.taxonomy_id == tax)
    if isinstance(parent, uuid.UUID):
        stmt = stmt.where(T.parent_id == parent)
    if top_only:
        stmt = stmt.where(T.parent_id.is_(None))
    render = _render_rows(shapes.taxonomy_term, T)
    return _collection(request, session, stmt, T.id, render, params.paging(page, per_page, format))


@router.get("/taxonomy_terms/{id}")
def get_taxonomy_term(request: Request, session: ReadSession, id: str) -> Response:  # noqa: A002
    tid = params.uuid_or_none(id)

    def build() -> Any:
        row = session.get(m.TaxonomyTerm, tid) if isinstance(tid, uuid.UUID) else None
        return shapes.taxonomy_term(row) if row is not None and row.archived_at is None else None

    return _single(request, session, build, "taxonomy term")


# --- changes as a feed --------------------------------------------------------------------------


@router.get("/changes.atom")
def changes_feed(request: Request, session: ReadSession, region: Text = None) -> Response:
    """The latest changes (`directory.hsds_api.feed`), of one region with `?region=CODE`."""
    place = None
    if region:
        place = feed.region_of(session, region)
        if place is None:
            raise NotFound("No such region")
    cond = Conditional(session, request)
    if (unchanged := cond.unchanged()) is not None:
        return unchanged
    rows = feed.changes(session, place)
    body = feed.atom(rows, base=base_url(request), region=place, self_url=str(request.url))
    return Response(body, media_type=feed.MEDIA_TYPE, headers=cond.headers())
