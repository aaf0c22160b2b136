"""Localised HTML error pages (404, 405, 500, ...) for every path outside the API.

The API keeps its problem+json answers: under /api/ the handlers defer to FastAPI's defaults.
An unreachable database (503) is answered by `directory.unavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from directory import i18n
from directory.problem import is_api_path
from directory.web import pages
from directory.web.templating import render

log = logging.getLogger("directory.web")


def request_locale(request: Request) -> str:
    settings = getattr(request.app.state, "settings", None)
    default = settings.default_locale if settings else i18n.SOURCE_LOCALE
    return i18n.request_locale(
        request.url.path, request.headers.get("accept-language"), default=default
    )


def error_page(
    request: Request, status_code: int, headers: dict[str, str] | None = None, *, reason: str = ""
) -> Response:
    """A full HTML page saying what went wrong, in the reader's language. `reason` refines a
    503 for a change that was not saved: "import" (an import holds the database for writing)
    or "busy" (other changes held it too long)."""

    locale = request_locale(request)
    with i18n.use_locale(locale):
        context = {**pages.base_context(request, locale), "status": status_code, "reason": reason}
        response = render(request, "error.html", context, status_code=status_code, cache=None)
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


Handler = Callable[[Request, Exception], Awaitable[Response]]


def _html_outside_api(previous: Handler, page: Callable[[Request, Exception], Response]) -> Handler:
    """Our page for readers' paths; whatever handled it before (the API's) under /api/."""

    async def handler(request: Request, exc: Exception) -> Response:
        if is_api_path(request.url.path):
            return await previous(request, exc)
        return page(request, exc)

    return handler


def _http_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code, dict(exc.headers or {}))


def _validation_page(request: Request, exc: Exception) -> Response:
    # A malformed path or query on a page is a page that does not exist.
    return error_page(request, 404)


async def _api_server_error(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"type": "about:blank", "title": "Internal Server Error", "status": 500},
        status_code=500,
        media_type="application/problem+json",
    )


def _server_error_page(request: Request, exc: Exception) -> Response:
    route = request.scope.get("route")
    log.error("unhandled %s on %s", type(exc).__name__, getattr(route, "path", "?"), exc_info=exc)
    return error_page(request, 500)


def install_error_pages(app: FastAPI) -> None:
    """Call after the API is mounted: its own handlers keep answering under /api/."""
    handlers: dict[Any, Any] = app.exception_handlers
    app.add_exception_handler(
        HTTPException,
        _html_outside_api(handlers.get(HTTPException, http_exception_handler), _http_page),
    )
    app.add_exception_handler(
        RequestValidationError,
        _html_outside_api(
            handlers.get(RequestValidationError, request_validation_exception_handler),
            _validation_page,
        ),
    )
    app.add_exception_handler(
        Exception, _html_outside_api(handlers.get(Exception, _api_server_error), _server_error_page)
    )
