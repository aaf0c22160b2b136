"""Rendering for the manage app: one template per page, the htmx answer is one of its blocks
(the jinja2-fragments idea), redirects that work with and without JavaScript, localised errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.routing import APIRoute
from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from directory.i18n import format_datetime, format_zone, get_locale, gettext
from directory.manage import labels
from directory.manage import session as websession
from directory.manage.auth import (
    BadCsrf,
    LoginRequired,
    ManageContext,
    ManageError,
    NotAllowed,
    PageNotFound,
    SecondFactorRequired,
)

MANAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def env() -> Environment:
    """The shared environment of the HTML adapters (base layout, macros, gettext, filters)
    overlaid with our folder; our pages live in manage/templates/manage/ and extend "base.html"."""
    from directory.web.templating import environment

    base = environment()
    assert base.loader is not None
    env = base.overlay(loader=ChoiceLoader([FileSystemLoader(MANAGE_TEMPLATES), base.loader]))
    env.globals = dict(base.globals)  # overlay shares the dict: keep ours out of the public site's
    env.globals.update(labels=labels, field_label=labels.field_label, format_iso=format_iso)
    return env


def format_iso(value: str, tz: str = "Europe/Kyiv") -> str:
    """An ISO timestamp from a change payload, as a date and time in the person's locale, in
    the zone of the record's place, named ("03.12.26, 14:06 (Kyiv time)")."""
    try:
        when = format_datetime(dt.datetime.fromisoformat(value), "short", tz=tz)
    except ValueError:
        return value
    return gettext("%(time)s (%(zone)s time)", time=when, zone=format_zone(tz))


def _finish(ctx: ManageContext | None, response: Response) -> Response:
    """Send the session cookie when it changed, and keep signed-in pages out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request, Cookie"
    if ctx is not None:
        secure = ctx.settings.https
        if ctx.new_session is not None:
            websession.write(response, ctx.new_session, ctx.secret, secure=secure)
        elif ctx.clear_session:
            websession.clear(response, secure=secure)
        for key, value in ctx.extra_headers.items():
            response.headers[key] = value
    return response


def page(
    ctx: ManageContext,
    template: str,
    *,
    block: str | None = None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """Render `template` (or only its `block` for an htmx request)."""
    from directory.web.pages import base_context

    values = {
        **base_context(ctx.request, ctx.locale),
        "canonical": "",  # private pages: no canonical/alternate links, no social cards
        "ctx": ctx,
        "account": ctx.account,
        "locale": ctx.locale,
        "csrf_token": ctx.csrf_token,
        "done": ctx.request.query_params.get("done", ""),
        "tz": ctx.settings.timezone,
        **values,
    }
    tmpl = env().get_template(template)
    if ctx.is_htmx and status_code in (401, 409, 422, 429):
        # htmx swaps only 2xx answers: a form with an error is still the answer to show
        status_code = 200
    if block and ctx.is_htmx:
        context = tmpl.new_context(values)
        html = "".join(tmpl.blocks[block](context))
    else:
        html = tmpl.render(values)
    return HTMLResponse(html, status_code=status_code, headers={"Content-Language": ctx.locale})


def redirect(ctx: ManageContext, path: str, **query: str) -> Response:
    """After a successful POST: 303 to `path`, or HX-Redirect for htmx."""
    url = ctx.url(path) if not path.startswith("/") else path
    if query:
        url += ("&" if "?" in url else "?") + urlencode(query)
    if ctx.is_htmx:
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _error_page(request: Request, exc: ManageError) -> Response:
    ctx: ManageContext | None = getattr(request.state, "manage", None)
    locale = ctx.locale if ctx else get_locale()
    if isinstance(exc, LoginRequired | SecondFactorRequired):
        target = "login" if isinstance(exc, LoginRequired) else "login/second-factor"
        nxt = request.url.path if request.method == "GET" else ""
        url = f"/{locale}/manage/{target}" + (f"?{urlencode({'next': nxt})}" if nxt else "")
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)
    status = 404 if isinstance(exc, PageNotFound) else 403
    kind = {BadCsrf: "csrf", NotAllowed: "forbidden", PageNotFound: "notfound"}.get(
        type(exc), "forbidden"
    )
    if ctx is None:  # not even a known locale: the public site's localised 404 page
        raise HTTPException(status_code=404)
    response = page(
        ctx,
        "manage/error.html",
        status_code=status,
        kind=kind,
        message=getattr(exc, "message", None),
    )
    if ctx.is_htmx:
        # htmx does not swap 4xx answers by default: the error template says so in a header
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


class ManageRoute(APIRoute):
    """Turns `ManageError`s into pages and sends the session cookie and no-store on every answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                response = await handler(request)
            except ManageError as exc:
                response = _error_page(request, exc)
            return _finish(getattr(request.state, "manage", None), response)

        return wrapped
