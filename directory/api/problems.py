"""RFC 9457 problem documents for every error the API answers, including FastAPI's own
(request validation, 404, 405) and the domain errors raised by services."""

from __future__ import annotations

import logging
import re
import weakref
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException
from starlette.routing import get_route_path

from directory.errors import DomainError, FieldError, ValidationFailed

log = logging.getLogger("directory.api")

PROBLEM = "application/problem+json"
_PARAM = re.compile(r"{[^}]+}")
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
}


def problem(
    status: int,
    detail: str = "",
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def pointer(path: str) -> str:
    """A service field path (`translations/name/uk`) as a JSON Pointer into the body."""
    return "#/" + path.strip("/") if path else "#"


def validation_problem(errors: list[dict[str, str]], detail: str = "") -> JSONResponse:
    """422 naming each bad field (`pointer`), what is wrong (`detail`, English) and its stable
    `code` (docs/api.md, "Error codes")."""
    return problem(
        422,
        detail or "Some fields are not valid; see errors.",
        errors=[
            {"pointer": pointer(e["path"]), "detail": e["message"], "code": e["code"]}
            for e in errors
        ],
    )


class PreconditionRequired(DomainError):
    status = 428
    title = "Precondition required"


def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = []
    for err in exc.errors()[:50]:
        loc = [str(p) for p in err.get("loc", ())]
        where, rest = (loc[0], loc[1:]) if loc else ("body", [])
        message = str(err.get("msg", "is not valid"))
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        # our checks (textinput) name their code; pydantic's own (types, bounds) are "invalid"
        error = (err.get("ctx") or {}).get("error")
        code = error.code if isinstance(error, FieldError) else "invalid"
        if where == "body":
            errors.append({"pointer": "#/" + "/".join(rest), "detail": message, "code": code})
        else:  # query, path, header: RFC 9457 names the parameter
            name = rest[0] if rest else where
            errors.append({"parameter": name, "in": where, "detail": message, "code": code})
    return problem(422, "The request is not valid; see errors.", errors=errors)


#: Per application: its OpenAPI paths as regular expressions, with their methods.
_ALLOW: weakref.WeakKeyDictionary[Any, list[tuple[re.Pattern[str], set[str]]]] = (
    weakref.WeakKeyDictionary()
)


def _path_regex(template: str) -> re.Pattern[str]:
    parts = _PARAM.split(template)
    return re.compile("^" + "[^/]+".join(re.escape(p) for p in parts) + "$")


def allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document has for the request's path (Starlette's 405 names
    only the first route that matched), with HEAD wherever GET answers (`runtime.HeadAsGet`):
    the `Allow` of a 405 agrees with the document by construction."""
    app = request.app
    templates = _ALLOW.get(app)
    if templates is None:
        paths = app.openapi().get("paths", {})
        templates = [(_path_regex(p), {m.upper() for m in ops}) for p, ops in paths.items()]
        _ALLOW[app] = templates
    path = get_route_path(request.scope)
    methods: set[str] = set()
    for regex, ops in templates:
        if regex.match(path):
            methods |= ops
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error of this (sub-)application is a problem document."""

    @app.exception_handler(ValidationFailed)
    async def _validation_failed(request: Request, exc: ValidationFailed) -> JSONResponse:
        renames: dict[str, str] = getattr(request.state, "field_renames", {}) or {}
        errors = []
        for e in exc.errors:
            path = e["path"]
            head, _, tail = path.partition("/")
            if path in renames:
                path = renames[path]
            elif head == "translations" and tail.split("/")[0] in renames:
                name, _, locale = tail.partition("/")
                path = f"{renames[name]}/{locale}"
            errors.append({"path": path, "message": e["message"], "code": e["code"]})
        return validation_problem(errors)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {}
        retry_after = exc.extra.get("retry_after")
        if retry_after is not None:
            headers["Retry-After"] = str(int(retry_after))
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="aid-directory"'
        if exc.status in (409, 412) and exc.extra.get("current_version") is not None:
            headers["ETag"] = f'"{exc.extra["current_version"]}"'
        extra = {k: v for k, v in exc.extra.items() if k != "retry_after"}
        return problem(exc.status, exc.detail, title=exc.title, headers=headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _request_validation(request, exc)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else ""
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing at this address."
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed here."
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(exc.status_code, detail, headers=headers)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem(412, "The record was changed by someone else meanwhile; read it again.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not an input: a problem document all the same, never a traceback.
        log.error("unexpected error in the API: %s", type(exc).__name__)
        return problem(500, "Something went wrong on our side; it has been logged.")

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # The database refused something the validators let through: report, never a 500.
        log.warning("integrity error in the API: %s", type(exc.orig).__name__)
        return problem(409, "The change conflicts with the stored data.")
