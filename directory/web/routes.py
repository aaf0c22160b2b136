"""Public pages for readers: home, search results, service page, report form, about/privacy,
robots.txt, sitemap.xml, the service worker, hashed static files and localised error pages.

Routes stay thin: parse the query, call `directory.listings.queries`, render one template (or one
block of it for htmx). Readers get no cookies; pages are cacheable with an ETag.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware

from directory import httpcache, i18n
from directory.deps import DbSession
from directory.web import forms, pages
from directory.web.errors import install_error_pages
from directory.web.templating import manifest, render

SW_FILE = Path(__file__).resolve().parent / "sw.js"

router = APIRouter(include_in_schema=False)
#: Fixed root paths, registered before `/{locale}` so that it cannot swallow them.
root_router = APIRouter(include_in_schema=False)


def page_locale(locale: str) -> str:
    """The locale of a `/{locale}/...` URL; any other first segment is a 404 page."""
    if locale not in i18n.available_locales():
        raise HTTPException(status_code=404)
    i18n.set_locale(locale)
    return locale


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_htmx(request: Request) -> bool:
    """A fragment request: htmx asked, and it is not a history restore (that needs a page)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


# --- pages ----------------------------------------------------------------------------------------


@router.get("/")
def root(request: Request) -> Response:
    """Send the reader to their language, chosen by Accept-Language."""
    default = request.app.state.settings.default_locale
    locale = i18n.negotiate(request.headers.get("accept-language"), default=default)
    return RedirectResponse(
        f"/{locale}/",
        status_code=302,
        headers={"Vary": "Accept-Language", "Cache-Control": "public, max-age=300"},
    )


@router.get("/{locale}")
def locale_root(locale: str) -> Response:
    page_locale(locale)
    return RedirectResponse(f"/{locale}/", status_code=301)


@router.get("/{locale}/")
def home(request: Request, locale: str, db: DbSession) -> Response:
    page_locale(locale)
    current, minute, etag = _validator(request, db)
    if httpcache.matches(request, etag):
        return _not_modified(request, etag, minute)
    settings = request.app.state.settings
    context = pages.home_context(db, request, locale=locale, now=current, settings=settings)
    cache = httpcache.reader_cache(request, minute)
    return render(request, "home.html", context, etag=etag, cache=cache)


@router.get("/{locale}/search")
def search(request: Request, locale: str, db: DbSession) -> Response:
    page_locale(locale)
    headers = {"Vary": "HX-Request"}
    current, minute, etag = _validator(request, db)
    if httpcache.matches(request, etag):
        return _not_modified(request, etag, minute, vary="HX-Request")
    settings = request.app.state.settings
    context = pages.search_context(db, request, locale=locale, now=current, settings=settings)
    cache = httpcache.reader_cache(request, minute)
    if context["map"] is not None and settings.map_tile_url:
        from directory.maps.routes import csp_with_tiles

        # only where the operator named a third-party tile server (shown on the privacy page)
        headers["Content-Security-Policy"] = csp_with_tiles(settings.map_tile_url)
    if is_htmx(request):
        return render(
            request,
            "search.html",
            {**context, "fragment": True},
            blocks=("results", "languages"),
            headers=headers,
            etag=etag,
            cache=cache,
        )
    return render(request, "search.html", context, headers=headers, etag=etag, cache=cache)


@router.get("/{locale}/services/{service_id}")
def service(request: Request, locale: str, service_id: str, db: DbSession) -> Response:
    page_locale(locale)
    ident = _uuid(service_id)
    current, minute, etag = _validator(request, db)
    if httpcache.matches(request, etag):
        return _not_modified(request, etag, minute)
    settings = request.app.state.settings
    context = pages.service_context(
        db, request, locale=locale, service_id=ident, now=current, settings=settings
    )
    cache = httpcache.reader_cache(request, minute)
    return render(request, "service.html", context, etag=etag, cache=cache)


@router.post("/{locale}/services/{service_id}/report")
async def report(request: Request, locale: str, service_id: str, db: DbSession) -> Response:
    page_locale(locale)
    ident = _uuid(service_id)
    form = await request.form()
    settings = request.app.state.settings
    result = forms.submit_report(
        db,
        form=form,
        service_id=ident,
        secret=request.app.state.settings.form_secret,
        locale=locale,
    )
    if result.errors:
        context = pages.service_context(
            db,
            request,
            locale=locale,
            service_id=ident,
            now=now(),
            settings=settings,
            report=result,
        )
        return render(request, "service.html", context, status_code=422, cache=None)
    return RedirectResponse(f"/{locale}/services/{ident}/reported", status_code=303)


@router.get("/{locale}/services/{service_id}/reported")
def reported(request: Request, locale: str, service_id: str, db: DbSession) -> Response:
    page_locale(locale)
    ident = _uuid(service_id)
    context = pages.reported_context(db, request, locale=locale, service_id=ident, now=now())
    return render(request, "reported.html", context)


@router.get("/{locale}/about")
def about(request: Request, locale: str) -> Response:
    page_locale(locale)
    tiles = request.app.state.settings.map_tile_url
    context = {
        **pages.base_context(request, locale),
        "map_tile_host": urlsplit(tiles.replace("{", "").replace("}", "")).hostname
        if tiles
        else "",
    }
    return render(request, "about.html", context)


@router.get("/{locale}/offline")
def offline(request: Request, locale: str) -> Response:
    """What the service worker shows for a page never saved on this device, in the reader's
    language; app.js lists the saved pages (they are only known to the device)."""
    page_locale(locale)
    return render(request, "offline.html", pages.base_context(request, locale))


@router.get("/{locale}/manifest.webmanifest")
def web_manifest(request: Request, locale: str) -> Response:
    """The web app manifest (installable: name, icons, start page in this language)."""
    page_locale(locale)
    return JSONResponse(
        pages.web_manifest(locale, static=manifest().url),
        media_type="application/manifest+json",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# --- machine-readable ---------------------------------------------------------------------------


@root_router.get("/robots.txt")
def robots(request: Request) -> Response:
    base = pages.base_url(request)
    body = (
        "User-agent: *\n"
        "Disallow: /api/\n"
        + "".join(f"Disallow: /{code}/manage/\n" for code in i18n.available_locales())
        + "Allow: /\n"
        f"Sitemap: {base}/sitemap.xml\n"
    )
    return PlainTextResponse(body, headers={"Cache-Control": "public, max-age=3600"})


@root_router.get("/sitemap.xml")
def sitemap(request: Request, db: DbSession) -> Response:
    xml = pages.sitemap_xml(db, request, now=now())
    return Response(
        xml, media_type="application/xml", headers={"Cache-Control": "public, max-age=3600"}
    )


@root_router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it whatever the page says: point them at the hashed icon."""
    return RedirectResponse(
        manifest().url("img/icon.svg"),
        status_code=301,
        headers={"Cache-Control": "public, max-age=86400"},
    )


@root_router.get("/sw.js")
def service_worker() -> Response:
    """The service worker sits at the root so its scope covers every page."""
    locales = json.dumps(list(i18n.available_locales()))
    body = SW_FILE.read_text(encoding="utf-8").replace(
        'var LOCALES = ["en", "uk", "ru", "pl", "de", "ar"];', f"var LOCALES = {locales};", 1
    )
    return Response(
        body,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


# --- helpers --------------------------------------------------------------------------------------


def _validator(request: Request, db: Session) -> tuple[dt.datetime, dt.datetime, str | None]:
    """Now, its minute and the page's ETag for that minute, known before any work
    (`directory.httpcache`; None for a request with credentials). The page is made with the real
    now (a notice that starts with a write shows at once: the write changed the tag), so a
    notice or opening hour that begins by the clock alone shows at the latest a minute late to
    a reader revalidating."""
    current = now()
    minute = httpcache.this_minute(current)
    return current, minute, httpcache.make_etag(db, request, minute=minute)


def _not_modified(
    request: Request, etag: str | None, minute: dt.datetime, vary: str = ""
) -> Response:
    assert etag is not None  # noqa: S101 - only called when If-None-Match matched a tag
    return httpcache.not_modified(
        etag,
        cache_control=httpcache.reader_cache(request, minute),
        vary=", ".join(v for v in ("Accept-Encoding", vary) if v),
    )


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise HTTPException(status_code=404) from None


def mount_web(app: FastAPI) -> None:
    """Attach the public pages, the static files and the error pages to `app`."""
    for code in i18n.available_locales():
        i18n.translations(code)  # compile every catalog once, at startup
    httpcache.code_token()  # hashes the package once (~25 ms), not in a reader's request
    app.add_api_route(
        "/static/{name:path}",
        manifest().serve,
        methods=["GET", "HEAD"],
        include_in_schema=False,
    )
    from directory.maps.routes import router as maps_router
    from directory.web.feeds import atom_router, cap_router

    app.include_router(root_router)
    app.include_router(maps_router)
    app.include_router(cap_router)
    app.include_router(atom_router)
    app.include_router(router)
    install_error_pages(app)
    # Pages shrink to about a fifth; the small ones (redirects, 304s) are not worth it. Level 6,
    # not Starlette's 9: for a 43 KB search page 0.37 ms instead of 0.45 ms, 1 % bigger.
    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)
