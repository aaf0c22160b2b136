"""The maps' routes: the interactive map's data for a search, a service's card for a tapped
marker, and the base-map archive served from our own origin with HTTP Range requests.

None of them sets a cookie or logs a coordinate (the access log holds paths without queries).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from directory.deps import DbSession
from directory.maps import points
from directory.security import CSP

router = APIRouter(include_in_schema=False)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
#: One Range answer at most this big (a PMTiles directory or tile is a few hundred KB at most).
MAX_RANGE = 4 * 1024 * 1024
TILES_PATH = "/map/tiles.pmtiles"


def _locale(locale: str) -> None:
    from directory.web.routes import page_locale

    page_locale(locale)


@router.get("/{locale}/search/map-data")
def map_data(request: Request, locale: str, db: DbSession) -> Response:
    """The matches of the search in the query string inside `bbox` (west,south,east,north),
    as points or clusters for zoom `z`: JSON for the interactive map."""
    from directory.web import pages

    _locale(locale)
    box = points.parse_box(request.query_params.get("bbox", ""))
    if box is None:
        return JSONResponse(
            {
                "type": "about:blank",
                "title": "Bad Request",
                "status": 400,
                "detail": "bbox must be west,south,east,north in degrees",
            },
            status_code=400,
            media_type="application/problem+json",
        )
    try:
        zoom = max(0, min(20, int(request.query_params.get("z", "6"))))
    except ValueError:
        zoom = 6
    settings = request.app.state.settings
    now = dt.datetime.now(dt.UTC)
    filters = pages.Filters.parse(request.query_params)
    params = pages.search_params(db, filters, locale=locale, now=now)
    data = points.map_data(db, params, box, zoom, stale_after_days=settings.stale_after_days)
    return JSONResponse(
        data.as_json(), headers={"Cache-Control": "public, max-age=60", "Vary": "Accept-Encoding"}
    )


@router.get("/{locale}/services/{service_id}/card")
def service_card(request: Request, locale: str, service_id: str, db: DbSession) -> Response:
    """A tapped marker's card (an HTML fragment of the service page's essentials)."""
    from directory.listings import queries
    from directory.web.pages import base_context
    from directory.web.templating import render

    _locale(locale)
    try:
        ident = uuid.UUID(service_id)
    except ValueError:
        raise HTTPException(status_code=404) from None
    settings = request.app.state.settings
    now = dt.datetime.now(dt.UTC)
    detail = queries.get_service_detail(
        db, ident, locale=locale, now=now, stale_after_days=settings.stale_after_days
    )
    if detail is None:
        raise HTTPException(status_code=404)
    context = {**base_context(request, locale), "service": detail, "now": now}
    return render(request, "_map_card.html", context, cache="public, max-age=60")


@router.api_route(TILES_PATH, methods=["GET", "HEAD"])
def tiles(request: Request) -> Response:
    """The operator's PMTiles archive (DIRECTORY_MAP_PMTILES), by byte ranges."""
    path = request.app.state.settings.map_pmtiles
    if not path or not Path(path).is_file():
        raise HTTPException(status_code=404)
    size = os.path.getsize(path)
    stat = os.stat(path)
    etag = f'"{stat.st_size:x}-{int(stat.st_mtime):x}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": "public, max-age=86400",
        "Content-Type": "application/vnd.pmtiles",
    }
    wanted = request.headers.get("range", "")
    if not wanted:
        if size > MAX_RANGE:  # the archive is read by ranges; a whole one is not served
            headers["Content-Length"] = "0"
            return Response(
                status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"}
            )
        with open(path, "rb") as fh:
            return Response(fh.read(), headers=headers)
    match = _RANGE.match(wanted.strip())
    if not match or (not match[1] and not match[2]):
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if match[1]:
        start = int(match[1])
        end = min(int(match[2]) if match[2] else size - 1, size - 1)
    else:  # the last N bytes
        start, end = max(0, size - int(match[2])), size - 1
    if start > end or start >= size or end - start + 1 > MAX_RANGE:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    with open(path, "rb") as fh:
        fh.seek(start)
        body = fh.read(end - start + 1)
    return Response(
        body,
        status_code=206,
        headers={**headers, "Content-Range": f"bytes {start}-{end}/{size}"},
    )


def csp_with_tiles(tile_url: str) -> str:
    """The site's Content-Security-Policy, with a third-party tile server's origin allowed for
    images (only on map pages, and only when the operator configured one)."""
    from urllib.parse import urlsplit

    parts = urlsplit(tile_url.replace("{", "").replace("}", ""))
    origin = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")
