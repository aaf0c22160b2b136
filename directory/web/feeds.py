"""Notices out as feeds (`directory.alerts.publish`): `/cap/notices.xml` and `/cap/notices/{id}.xml`
(CAP 1.2), `/{locale}/notices.atom` (Atom); `?place=CODE` narrows to one place. Public, no cookies,
cacheable for a minute with an ETag like the pages."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from directory import httpcache
from directory.alerts import publish
from directory.deps import DbSession
from directory.web import pages

CAP_TYPE = "application/cap+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"

#: Registered with the fixed root paths (before `/{locale}`).
cap_router = APIRouter(include_in_schema=False)
#: Registered with the locale pages.
atom_router = APIRouter(include_in_schema=False)


def _place(db: DbSession, code: str | None) -> uuid.UUID | None:
    if not code:
        return None
    found = publish.place_id(db, code.strip()[:16])
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _answer(request: Request, db: DbSession, body: bytes, media_type: str) -> Response:
    from directory.web.routes import now

    minute = httpcache.this_minute(now())
    etag = httpcache.make_etag(db, request, minute=minute)
    headers = {"Cache-Control": httpcache.public_cache(minute), "Access-Control-Allow-Origin": "*"}
    if etag:
        headers["ETag"] = etag
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@cap_router.get("/cap/notices.xml")
def cap_notices(request: Request, db: DbSession, place: str | None = None) -> Response:
    from directory.web.routes import now

    current = now()
    items = publish.notices(db, place=_place(db, place), now=current)
    return _answer(
        request, db, publish.cap_collection(items, pages.base_url(request), now=current), CAP_TYPE
    )


@cap_router.get("/cap/notices/{notice_id}.xml")
def cap_notice(request: Request, db: DbSession, notice_id: str) -> Response:
    from directory.web.routes import _uuid, now

    nid = _uuid(notice_id)
    item = next((n for n in publish.notices(db, place=None, now=now()) if n.id == nid), None)
    if item is None:
        raise HTTPException(status_code=404)
    return _answer(request, db, publish.cap_notice(item, pages.base_url(request)), CAP_TYPE)


@atom_router.get("/{locale}/notices.atom")
def atom_notices(
    request: Request, locale: str, db: DbSession, place: str | None = None
) -> Response:
    from directory.web.routes import now, page_locale

    locale = page_locale(locale)
    current = now()
    pid = _place(db, place)
    items = publish.notices(db, place=pid, now=current)
    origin = pages.base_url(request)
    name = None
    if pid is not None:
        name = publish.place_name(db, pid, locale)
    self_url = f"{origin}/{locale}/notices.atom" + (f"?place={place}" if place else "")
    body = publish.atom(
        items, locale=locale, origin=origin, self_url=self_url, place_name=name, now=current
    )
    return _answer(request, db, body, ATOM_TYPE)


_PICKERS = {"pick-place": "#pick-place", "f-place": "#f-place"}


@atom_router.get("/{locale}/alerts/board")
def alert_board(
    request: Request,
    locale: str,
    db: DbSession,
    place: str | None = None,
    picker: str | None = None,
) -> Response:
    """The notice board of a page, alone: what htmx polls every 30 s while an alert is in force
    or alert feeds are watched (the page around it is not made again)."""
    from urllib.parse import urlsplit

    from directory.web.routes import now, page_locale
    from directory.web.templating import render

    locale = page_locale(locale)
    settings = request.app.state.settings
    board = pages.reader_notices(
        db, locale=locale, now=now(), settings=settings, place=(place or "")[:80]
    )
    # The "Refresh" link goes to the page the board sits on (same origin only), not to this URL.
    current = urlsplit(request.headers.get("hx-current-url", ""))
    same = not current.netloc or current.netloc == request.url.netloc
    refresh = (
        (current.path + (f"?{current.query}" if current.query else ""))
        if same and current.path
        else f"/{locale}/"
    )
    return render(
        request,
        "_notices.html",
        {
            "locale": locale,
            "board": board,
            "picker": _PICKERS.get(picker or "", ""),
            "refresh_url": refresh,
        },
        headers={"Vary": "HX-Current-URL"},
        cache="public, no-cache",
    )  # revalidated at every poll
