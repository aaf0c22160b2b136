"""Public reads (no account, no cookies) and anonymous reports. Thin: parse, call, shape."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
import uuid
from collections import deque
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from directory.api import hsds, reads
from directory.api.auth import ApiSession, etag
from directory.api.schemas import ReportIn, ReportReceived
from directory.config import UI_LOCALES
from directory.db import utcnow
from directory.deps import SettingsDep
from directory.errors import NotFound, TooManyRequests, ValidationFailed
from directory.httpcache import make_etag, matches, not_modified, reader_cache, this_minute
from directory.listings import queries
from directory.moderation import service as moderation

router = APIRouter(tags=["public"])

UILocale = Literal["en", "uk", "ru", "pl", "de", "ar"]
assert set(get_args(UILocale)) == set(UI_LOCALES)  # noqa: S101 - keep in step with config
LocaleQ = Annotated[UILocale, Query(description="the reader's language")]
Limit = Annotated[int, Query(ge=1, le=100, description="items per page")]
#: `next_cursor` of the previous page of a list (an encoded record id: 22 characters).
Cursor = Annotated[
    str | None,
    Query(pattern="^[A-Za-z0-9_-]{22}$", description="next_cursor of the previous page"),
]
#: `next_cursor` of the previous page of a search (base64url, opaque).
SearchCursor = Annotated[
    str | None,
    Query(
        pattern="^[A-Za-z0-9_-]{1,200}$",
        description="next_cursor of the previous page (anything else starts at the first)",
    ),
]
#: `lat` and `lon` come together or not at all: documented as one object parameter exploded
#: into two query keys (OpenAPI `style: form`), which states that in the document.
NEAR_PARAMETER = {
    "name": "near",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "description": "sort or filter near a point: `lat` and `lon` together (degrees), or neither",
    "schema": {
        "type": "object",
        "properties": {
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
        },
        "required": ["lat", "lon"],
        "additionalProperties": False,
    },
}
Flag = Annotated[bool, Query()]


def _locale(locale: str) -> str:
    if locale not in UI_LOCALES:
        raise ValidationFailed(
            [{"path": "locale", "message": "unknown locale; one of " + " ".join(UI_LOCALES)}]
        )
    return locale


def _cached(response: Response, version: int | None = None) -> None:
    # Public data: caches in front may keep it briefly (Scaling out, ARCHITECTURE.md).
    response.headers["Cache-Control"] = "public, max-age=30"
    response.headers["Vary"] = "Accept-Language"
    if version is not None:
        response.headers["ETag"] = etag(version)


#: Documented on the lists that answer If-None-Match.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: If-None-Match holds the current ETag (no body)"},
}


class Conditional:
    """Conditional GET for a public list (`directory.httpcache`): its weak ETag (data version,
    minute when `timed`, URL) is known before the query runs; a matching If-None-Match answers
    304 without running it. Single records keep their version ETag (If-Match for writes): their
    body also shows sub-records with versions of their own, so it cannot validate a GET."""

    def __init__(
        self, session: ApiSession, request: Request, response: Response, *, timed: bool
    ) -> None:
        self.minute = this_minute() if timed else None
        self.etag = make_etag(session, request, minute=self.minute)
        self.hit = matches(request, self.etag)
        self.response = response
        self.request = request

    @property
    def now(self) -> dt.datetime:
        # The real time, not the minute: what starts with a write shows at once (the write
        # changed the tag); what starts by the clock alone, at the latest a minute late.
        return utcnow()

    def answer(self) -> Response | None:
        """The 304 to return at once, or None (then mark `response` and build the body)."""
        _cached(self.response)
        cache_control = reader_cache(self.request, self.minute, max_age=30)
        self.response.headers["Cache-Control"] = cache_control
        if self.etag is None:
            return None
        self.response.headers["ETag"] = self.etag
        if self.hit:
            return not_modified(self.etag, cache_control=cache_control, vary="Accept-Language")
        return None


@router.get(
    "/services",
    summary="Search services (same filters as the web pages)",
    description=(
        "`total_items` counts matches up to a cap (1,000; 200 with `open_now`); "
        "`total_items_exact` is false when counting stopped there, i.e. there "
        "are more than `total_items` matches. Page on with `next_cursor`."
    ),
    response_model=dict[str, Any],
    responses=NOT_MODIFIED,
    openapi_extra={"parameters": [NEAR_PARAMETER]},
)
def search_services(
    session: ApiSession,
    settings: SettingsDep,
    request: Request,
    response: Response,
    q: Annotated[str, Query(max_length=200)] = "",
    category: Annotated[str | None, Query(max_length=100, description="taxonomy term code")] = None,
    place: Annotated[str | None, Query(max_length=40, description="place id or code")] = None,
    open_now: Flag = False,
    free: Flag = False,
    language: Annotated[str | None, Query(max_length=12)] = None,
    wheelchair: Flag = False,
    pets: Flag = False,
    women_children: Flag = False,
    heating: Flag = False,
    power: Flag = False,
    water: Flag = False,
    internet: Flag = False,
    has_capacity: Flag = False,
    lat: Annotated[
        float | None, Query(ge=-90, le=90, allow_inf_nan=False, include_in_schema=False)
    ] = None,
    lon: Annotated[
        float | None, Query(ge=-180, le=180, allow_inf_nan=False, include_in_schema=False)
    ] = None,
    sort: Literal["relevance", "distance"] = "relevance",
    limit: Limit = 20,
    cursor: SearchCursor = None,
    locale: LocaleQ = "en",
) -> dict[str, Any] | Response:
    if (lat is None) != (lon is None):
        raise ValidationFailed(
            [{"path": "lon" if lon is None else "lat", "message": "lat and lon go together"}]
        )
    conditional = Conditional(session, request, response, timed=True)
    if (unchanged := conditional.answer()) is not None:
        return unchanged
    params = queries.SearchParams(
        q=q,
        category=category,
        place=place,
        open_now=open_now,
        free=free,
        language=language,
        wheelchair=wheelchair,
        pets=pets,
        women_children=women_children,
        heating=heating,
        power=power,
        water=water,
        internet=internet,
        has_capacity=has_capacity,
        near=(round(lat, 2), round(lon, 2)) if lat is not None and lon is not None else None,
        sort=sort,
        per_page=limit,
        cursor=cursor,
        locale=_locale(locale),
        now=conditional.now,
    )
    try:
        results = queries.search_services(
            session, params, stale_after_days=settings.stale_after_days
        )
    except ValueError:
        raise ValidationFailed([{"path": "cursor", "message": "is not a cursor we gave"}]) from None
    return {
        "contents": [hsds.service_card(c) for c in results.items],
        "total_items": results.total,
        "total_items_exact": results.total_exact,
        "size": len(results.items),
        "next_cursor": results.next_cursor,
        "suggestion": results.suggestion,
    }


@router.get("/services/{service_id}", summary="One service with everything the public may see")
def get_service(
    service_id: uuid.UUID,
    session: ApiSession,
    settings: SettingsDep,
    response: Response,
    locale: LocaleQ = "en",
) -> dict[str, Any]:
    detail = queries.get_service_detail(
        session,
        service_id,
        locale=_locale(locale),
        now=utcnow(),
        stale_after_days=settings.stale_after_days,
    )
    if detail is None:
        raise NotFound("No such service")
    _cached(response, detail.version)
    return hsds.service_detail(detail)


@router.get(
    "/organizations",
    summary="Organisations (cursor pagination)",
    response_model=dict[str, Any],
    responses=NOT_MODIFIED,
)
def list_organizations(
    session: ApiSession,
    request: Request,
    response: Response,
    limit: Limit = 50,
    cursor: Cursor = None,
    locale: LocaleQ = "en",
) -> dict[str, Any] | Response:
    if (unchanged := Conditional(session, request, response, timed=False).answer()) is not None:
        return unchanged
    items, nxt = reads.list_organizations(
        session, locale=_locale(locale), cursor=cursor, limit=limit
    )
    return {"contents": items, "size": len(items), "next_cursor": nxt}


@router.get("/organizations/{organization_id}", summary="One organisation")
def get_organization(
    organization_id: uuid.UUID, session: ApiSession, response: Response, locale: LocaleQ = "en"
) -> dict[str, Any]:
    org = reads.get_organization(session, organization_id, locale=_locale(locale))
    if org is None:
        raise NotFound("No such organization")
    _cached(response, org["version"])
    return org


@router.get(
    "/locations",
    summary="Locations (confidential whereabouts redacted)",
    response_model=dict[str, Any],
    responses=NOT_MODIFIED,
)
def list_locations(
    session: ApiSession,
    request: Request,
    response: Response,
    limit: Limit = 50,
    cursor: Cursor = None,
    locale: LocaleQ = "en",
) -> dict[str, Any] | Response:
    if (unchanged := Conditional(session, request, response, timed=False).answer()) is not None:
        return unchanged
    items, nxt = reads.list_locations(session, locale=_locale(locale), cursor=cursor, limit=limit)
    return {"contents": items, "size": len(items), "next_cursor": nxt}


@router.get("/locations/{location_id}", summary="One location (confidential whereabouts redacted)")
def get_location(
    location_id: uuid.UUID, session: ApiSession, response: Response, locale: LocaleQ = "en"
) -> dict[str, Any]:
    loc = reads.get_location(session, location_id, locale=_locale(locale))
    if loc is None:
        raise NotFound("No such location")
    _cached(response, loc["version"])
    return loc


@router.get(
    "/taxonomy_terms",
    summary="Categories (taxonomy terms), as a tree",
    response_model=dict[str, Any],
    responses=NOT_MODIFIED,
)
def list_taxonomy_terms(
    session: ApiSession, request: Request, response: Response, locale: LocaleQ = "en"
) -> dict[str, Any] | Response:
    if (unchanged := Conditional(session, request, response, timed=False).answer()) is not None:
        return unchanged
    items = queries.list_categories(session, locale=_locale(locale))
    return {"contents": [hsds.category(c) for c in items]}


@router.get(
    "/places",
    summary="Countries, regions and cities of the gazetteer",
    response_model=dict[str, Any],
    responses=NOT_MODIFIED,
)
def list_places(
    session: ApiSession, request: Request, response: Response, locale: LocaleQ = "en"
) -> dict[str, Any] | Response:
    if (unchanged := Conditional(session, request, response, timed=False).answer()) is not None:
        return unchanged
    items = queries.list_places(session, locale=_locale(locale))
    return {"contents": [hsds.plain(p) for p in items]}


@router.get(
    "/notices",
    summary="Notices in force: every one, or with place_id those of that "
    "place, of the places above it and nationwide ones",
    response_model=dict[str, Any],
    responses=NOT_MODIFIED,
)
def list_notices(
    session: ApiSession,
    request: Request,
    response: Response,
    place_id: uuid.UUID | None = None,
    locale: LocaleQ = "en",
) -> dict[str, Any] | Response:
    conditional = Conditional(session, request, response, timed=True)
    if (unchanged := conditional.answer()) is not None:
        return unchanged
    items = queries.notices_in_force(
        session,
        locale=_locale(locale),
        place_id=place_id,
        now=conditional.now,
        everywhere=place_id is None,
        timezone=request.app.state.settings.timezone,
    )
    return {"contents": [hsds.notice(n) for n in items]}


class _ClientWindow:
    """Per-process sliding window per client for anonymous reports. Keys are salted hashes held
    in memory for minutes; nothing is stored or logged."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self.salt = uuid.uuid4().bytes
        self.hits: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def check(self, client: str) -> None:
        key = hashlib.sha256(self.salt + client.encode()).hexdigest()
        now = time.monotonic()
        with self.lock:
            if len(self.hits) > 10_000:
                self.hits = {k: v for k, v in self.hits.items() if v and v[-1] > now - self.seconds}
            window = self.hits.setdefault(key, deque())
            while window and window[0] <= now - self.seconds:
                window.popleft()
            if len(window) >= self.limit:
                raise TooManyRequests(
                    "Too many reports from here; thank you, try later",
                    retry_after=int(window[0] + self.seconds - now) + 1,
                )
            window.append(now)


REPORT_WINDOW = _ClientWindow(limit=10, seconds=600)


@router.post(
    "/services/{service_id}/reports",
    status_code=201,
    response_model=ReportReceived,
    summary="Report a problem with a listing (no account, nothing personal stored)",
)
def create_report(
    service_id: uuid.UUID, body: ReportIn, request: Request, session: ApiSession
) -> JSONResponse:
    REPORT_WINDOW.check(request.client.host if request.client else "unknown")
    row = moderation.report(
        session, service_id=service_id, kind=body.kind, text=body.text, locale=body.locale
    )
    return JSONResponse(
        {"id": str(row.id), "state": "received"},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )
