"""HTTP hardening, as one pure ASGI middleware installed by `create_app`:

- a request id (`X-Request-ID`: kept from the proxy when well-formed, else made here), available
  to logs through `directory.logging.request_id()`;
- security headers on every response (CSP allowing only our own origin, nosniff, no referrer,
  no framing, a Permissions-Policy, HSTS when `DIRECTORY_HTTPS` is on);
- `Cache-Control: no-store` for signed-in pages (`/{locale}/manage/...`), for any request that
  carries credentials (a cookie or an Authorization header) and for any response setting a cookie;
- request bodies above `DIRECTORY_MAX_BODY_BYTES` refused with 413 (by Content-Length up front,
  and by counting when the body is streamed);
- API request bodies that are not JSON (or multipart form data, for uploads) refused with 415;
- one access-log line per request, without IP, query string or any header;
- requests whose Host header is not an allowed host refused with 400 (`HostCheck`, Starlette's
  TrustedHostMiddleware), so no link, sitemap entry or redirect is built from a host the client
  chose.

Also: `no_store(response)` / `NoStore` for routes that want no-store explicitly, and the 503
answers for an unreachable database (`install_fault_handlers`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
import weakref
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from directory.config import RTL_LOCALES, UI_LOCALES, Settings
from directory.db import sqlite_read_only, utcnow
from directory.logging import log_access, redact, request_id, reset_request_id, set_request_id

log = logging.getLogger("directory.security")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)
PERMISSIONS_POLICY = ", ".join(
    [
        "geolocation=(self)",
        "camera=()",
        "microphone=()",
        "payment=()",
        "usb=()",
        "magnetometer=()",
        "gyroscope=()",
        "accelerometer=()",
        "browsing-topics=()",
    ]
)
HSTS = "max-age=63072000; includeSubDomains"
STATIC_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("permissions-policy", PERMISSIONS_POLICY),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)
#: Content types an API request body may have (uploads go as multipart/form-data).
API_BODY_TYPES = ("application/json", "multipart/form-data")
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_MANAGE_PATH = re.compile(r"^/[A-Za-z-]{2,8}/manage(/|$)")
_KNOWN_PREFIXES = frozenset({"api", "static", "healthz", "readyz", "robots.txt", "sitemap.xml"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit (FastAPI re-raises it as is)."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Request body too large")


def _problem(status: int, title: str, detail: str, request_id: str) -> tuple[bytes, str]:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }
    return json.dumps(body).encode(), "application/problem+json"


def _route_template(scope: Scope) -> str:
    """The matched route's template (with the mount prefix), never the concrete path or query."""
    route = scope.get("route")
    # FastAPI keeps the full template of a route from an included router here.
    effective = scope.get("fastapi", {}).get("effective_route_context")
    effective_path = getattr(effective, "path_format", None) or getattr(effective, "path", None)
    template = effective_path or getattr(route, "path_format", None) or getattr(route, "path", None)
    if template and not isinstance(route, Mount):
        mount = scope.get("root_path", "")[len(scope.get("app_root_path", "")) :]
        return f"{mount}{template}"
    # Unmatched (404) or a mount that answered by itself (static files): a known first segment
    # only, so that no identifier, coordinate or search text typed into a path reaches the log.
    first = scope.get("path", "/").lstrip("/").split("/", 1)[0]
    if first in _KNOWN_PREFIXES or first in UI_LOCALES:
        return f"/{first}/…"
    return "/…" if first else "/"


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.https = settings.https
        # SQLite has one writer at a time. Write requests of this process queue here (fairly,
        # without holding a thread or the database lock) instead of in SQLite's busy handler,
        # where a writer starved of CPU can hold the lock past other writers' busy timeout.
        self.write_gate = _WriteGate() if settings.is_sqlite else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        incoming = headers.get("x-request-id", "")
        rid = incoming if _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        token = set_request_id(rid)
        path: str = scope.get("path", "/")
        method: str = scope.get("method", "GET")
        credentials = "authorization" in headers or "cookie" in headers
        no_store = bool(_MANAGE_PATH.match(path)) or credentials
        state: dict[str, Any] = {"status": 500, "started": False}
        read_only = sqlite_read_only.set(method in _SAFE_METHODS)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                out = MutableHeaders(scope=message)
                for name, value in STATIC_HEADERS:
                    if name not in out:
                        out[name] = value
                if self.https:
                    out["strict-transport-security"] = HSTS
                out["x-request-id"] = rid
                if (no_store or "set-cookie" in out) and not path.startswith("/static/"):
                    out["cache-control"] = "no-store"
                    if "vary" not in out:
                        out["vary"] = "Cookie, Authorization"
            await send(message)

        try:
            refusal = self._refuse(headers, path, method)
            if refusal is not None:
                await self._send_error(send_wrapper, path, rid, *refusal)
                return
            total = 0

            async def receive_wrapper() -> Message:
                nonlocal total
                message = await receive()
                if message["type"] == "http.request":
                    total += len(message.get("body", b""))
                    if total > self.max_body:
                        raise BodyTooLarge()
                return message

            try:
                if self.write_gate is not None and method not in _SAFE_METHODS:
                    await self._gated(scope, receive_wrapper, send_wrapper, path, rid)
                else:
                    await self.app(scope, receive_wrapper, send_wrapper)
            except BodyTooLarge:
                if state["started"]:
                    raise
                await self._send_error(
                    send_wrapper,
                    path,
                    rid,
                    413,
                    "Content Too Large",
                    f"The request body is larger than {self.max_body} bytes.",
                )
            except Exception:
                # Last resort when even the error page failed: a bare 500, never a traceback.
                if not state["started"]:
                    await self._send_error(
                        send_wrapper,
                        path,
                        rid,
                        500,
                        "Internal Server Error",
                        "Something went wrong on our side.",
                    )
                raise
        finally:
            log_access(
                method=method,
                path=_route_template(scope),
                status=state["status"],
                duration_ms=(time.perf_counter() - started) * 1000,
            )
            reset_request_id(token)
            sqlite_read_only.reset(read_only)

    async def _gated(self, scope: Scope, receive: Receive, send: Send, path: str, rid: str) -> None:
        """Run a write request once the body is in (a slow client never holds the gate) and
        this process's previous writes are done."""
        assert self.write_gate is not None
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        lock = self.write_gate.lock()
        try:
            await asyncio.wait_for(lock.acquire(), timeout=WRITE_GATE_TIMEOUT)
        except TimeoutError:
            log.warning("write queue full: waited %ss", WRITE_GATE_TIMEOUT)
            await self._send_error(
                send,
                path,
                rid,
                503,
                "Service Unavailable",
                "Too many changes at once; try again in a moment.",
            )
            return
        try:
            await self.app(scope, replay, send)
        finally:
            lock.release()

    def _refuse(self, headers: Headers, path: str, method: str) -> tuple[int, str, str] | None:
        length = headers.get("content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_body
            except ValueError:
                return 400, "Bad Request", "Content-Length is not a number."
            if too_big:
                return (
                    413,
                    "Content Too Large",
                    f"The request body is larger than {self.max_body} bytes.",
                )
        has_body = (length not in (None, "0")) or "transfer-encoding" in headers
        if is_api_path(path) and method in _BODY_METHODS and has_body:
            ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            json_like = ctype.startswith("application/") and ctype.endswith("+json")
            if ctype not in API_BODY_TYPES and not json_like:
                return 415, "Unsupported Media Type", "Send the request body as application/json."
        return None

    async def _send_error(
        self, send: Send, path: str, rid: str, status: int, title: str, detail: str
    ) -> None:
        if is_api_path(path):
            body, ctype = _problem(status, title, detail, rid)
        else:
            body, ctype = f"{status} {title}\n".encode(), "text/plain; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", ctype.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ]
                + (
                    [(b"retry-after", str(BUSY_RETRY_AFTER_SECONDS).encode())]
                    if status == 503
                    else []
                ),
            }
        )
        await send({"type": "http.response.body", "body": body})


WRITE_GATE_TIMEOUT = 30.0
#: Health probes answer for any Host: they build no URL, and load balancers probe by address.
HOST_EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})


class HostCheck:
    """Refuse (400) a request for a host not in `Settings.trusted_hosts`.

    Absolute URLs (sitemap, robots.txt, canonical and hreflang links, redirects) come from
    DIRECTORY_BASE_URL or, when it is unset, from the request's Host, which only ever is an
    allowed host once this has passed. The check itself is Starlette's TrustedHostMiddleware.
    """

    def __init__(self, app: ASGIApp, hosts: list[str]) -> None:
        self.app = app
        self.checked = TrustedHostMiddleware(app, allowed_hosts=hosts, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") in HOST_EXEMPT_PATHS:
            await self.app(scope, receive, send)
        else:
            await self.checked(scope, receive, send)


class _WriteGate:
    """One asyncio.Lock per event loop (test clients each run their own loop)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        found = self._locks.get(loop)
        if found is None:
            found = self._locks[loop] = asyncio.Lock()
        return found


def no_store(response: Response) -> Response:
    """Mark a response as never to be stored by any cache (signed-in or personal content)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def no_store_dependency(response: Response) -> None:
    no_store(response)


NoStore = Annotated[None, Depends(no_store_dependency)]


# --- database unavailable -------------------------------------------------------------------

#: "The service is unavailable" in every interface language: the fallback page, used only when
#: the site's translated error page cannot be rendered.
UNAVAILABLE_TEXT: dict[str, tuple[str, str]] = {
    "en": (
        "Temporarily unavailable",
        "The directory cannot reach its database right now. Please try again in a minute.",
    ),
    "uk": (
        "Тимчасово недоступно",
        "Довідник зараз не може зʼєднатися зі своєю базою даних. Спробуйте ще раз за хвилину.",
    ),
    "ru": (
        "Временно недоступно",
        "Справочник сейчас не может подключиться к своей базе данных. Попробуйте через минуту.",
    ),
    "pl": (
        "Chwilowo niedostępne",
        "Katalog nie może teraz połączyć się ze swoją bazą danych. Spróbuj ponownie za minutę.",
    ),
    "de": (
        "Vorübergehend nicht verfügbar",
        "Das Verzeichnis erreicht gerade seine Datenbank nicht. Bitte versuchen Sie es in "
        "einer Minute erneut.",
    ),
    "ar": (
        "غير متاح مؤقتًا",
        "لا يستطيع الدليل الوصول إلى قاعدة بياناته الآن. يُرجى المحاولة مرة أخرى بعد دقيقة.",
    ),
}
RETRY_AFTER_SECONDS = 30


def pick_locale(request: Request, default: str = "en") -> str:
    """The locale of a page: its /{locale}/ prefix, else Accept-Language, else the default."""
    first = request.url.path.lstrip("/").split("/", 1)[0]
    if first in UI_LOCALES:
        return first
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";", 1)[0].strip().lower().split("-", 1)[0]
        if code in UI_LOCALES:
            return code
    return default


def unavailable_page(locale: str) -> str:
    title, sentence = UNAVAILABLE_TEXT.get(locale, UNAVAILABLE_TEXT["en"])
    direction = "rtl" if locale in RTL_LOCALES else "ltr"
    return (
        f'<!doctype html>\n<html lang="{locale}" dir="{direction}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><main><h1>{title}</h1><p>{sentence}</p></main>"
        f"</body></html>\n"
    )


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


#: SQLSTATEs of a PostgreSQL wait cut short by our timeouts: lock_not_available (lock_timeout),
#: query_canceled (statement_timeout), idle_in_transaction_session_timeout.
_PG_TIMEOUT_STATES = frozenset({"55P03", "57014", "25P03"})
#: Retry-After when the database is only busy (a lock wait or a statement timed out).
BUSY_RETRY_AFTER_SECONDS = 5


def _is_busy(exc: BaseException) -> bool:
    """A wait that timed out (the database is there, but held by someone else)."""
    if isinstance(exc, PoolTimeout):
        return True
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _PG_TIMEOUT_STATES:
        return True
    text = str(orig or "").lower()
    return "database is locked" in text or "database is busy" in text


def _busy_answer(request: Request, exc: BaseException) -> tuple[str, str, int] | None:
    """(reason, API detail, Retry-After) when a change timed out waiting for the database."""
    if request.method in _SAFE_METHODS or not _is_busy(exc):
        return None
    from directory import writelock

    holder = (
        writelock.current(request.app.state.engine)
        if hasattr(request.app.state, "engine")
        else None
    )
    if holder is not None and holder.what == "import":
        seconds = holder.retry_after(utcnow())
        return (
            "import",
            "An import is publishing its changes and holds the database for writing. "
            f"Nothing was saved; try again in {seconds} seconds.",
            seconds,
        )
    return (
        "busy",
        "The directory is busy saving other changes. Nothing was saved; try again "
        f"in {BUSY_RETRY_AFTER_SECONDS} seconds.",
        BUSY_RETRY_AFTER_SECONDS,
    )


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 for an unreachable or busy database (a lock or statement timeout; on SQLite, still
    locked — saying so when an import holds it): problem+json or a page, with Retry-After."""
    if not _is_unavailable(exc):
        raise exc
    reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()[0]
    log.warning("database unavailable: %s: %s", type(exc).__name__, redact(reason)[:200])
    # A thread: reading who holds the lock is a (never waiting) database read.
    busy = await anyio.to_thread.run_sync(_busy_answer, request, exc)
    retry = busy[2] if busy else RETRY_AFTER_SECONDS
    headers = {"Retry-After": str(retry), "Cache-Control": "no-store"}
    if is_api_path(request.scope.get("path", "")):
        detail = busy[1] if busy else "The database is unavailable. Try again later."
        body, ctype = _problem(503, "Service Unavailable", detail, request_id())
        return Response(body, status_code=503, media_type=ctype, headers=headers)
    try:
        # The site's own error page (translated, styled); it needs no database.
        from directory.web.errors import error_page

        return error_page(request, 503, headers, reason=busy[0] if busy else "")
    except Exception:  # noqa: BLE001 - the fallback below needs nothing but this module
        log.exception("error page failed; answering the minimal 503 page")
    settings: Settings | None = getattr(request.app.state, "settings", None)
    locale = pick_locale(request, settings.default_locale if settings else "en")
    headers["Content-Language"] = locale
    return HTMLResponse(unavailable_page(locale), status_code=503, headers=headers)


def install_fault_handlers(app: FastAPI) -> None:
    """Answer 503 when the database is unreachable, on the app and on every mounted FastAPI app
    (a mounted app's own error middleware would otherwise turn the error into a 500)."""
    apps = [app] + [
        r.app for r in app.routes if isinstance(r, Mount) and isinstance(r.app, FastAPI)
    ]
    for target in apps:
        for exc_class in (OperationalError, InterfaceError, PoolTimeout):
            if exc_class not in target.exception_handlers:
                target.add_exception_handler(exc_class, database_unavailable)


# --- the API document describes the errors every operation can answer ------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem document (application/problem+json)",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["title", "status"],
    "additionalProperties": True,
}
_ANY_OPERATION = {
    "400": "Bad request: the body could not be read",
    "404": "Not found",
    "413": "Request body too large",
    "422": "Validation failed: see `errors`",
    "503": "Database unavailable; retry later",
}
_WITH_BODY = {"415": "Unsupported media type: send application/json"}
_CHANGING = {
    "401": "Missing or invalid bearer token",
    "403": "Not allowed for this account",
    "409": "Conflict with the current state",
    "412": "If-Match is not the current ETag",
    "428": "If-Match required",
    "429": "Too many requests; see Retry-After",
}
_AUTHENTICATED = {"401": _CHANGING["401"], "403": _CHANGING["403"], "429": _CHANGING["429"]}


def document_problems(api: FastAPI) -> None:
    """Make the API's OpenAPI document declare the problem+json errors that this middleware and
    the API's handlers answer (413, 415, 503 come from here), in place of FastAPI's default
    application/json 422 entry, so that clients and schemathesis know them."""
    original = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        doc = original()
        doc.setdefault("components", {}).setdefault("schemas", {}).setdefault(
            "Problem", PROBLEM_SCHEMA
        )
        problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for ops in doc.get("paths", {}).values():
            for method, op in ops.items():
                if method not in ("get", "head", "post", "put", "patch", "delete"):
                    continue
                codes = dict(_ANY_OPERATION)
                if "requestBody" in op:
                    codes.update(_WITH_BODY)
                if method not in ("get", "head"):
                    codes.update(_CHANGING)
                elif op.get("security"):
                    codes.update(_AUTHENTICATED)
                responses = op.setdefault("responses", {})
                for code, description in codes.items():
                    entry = responses.setdefault(code, {"description": description})
                    content = entry.setdefault("content", {})
                    content.pop("application/json", None)  # errors are never plain JSON
                    content.setdefault(PROBLEM_MEDIA_TYPE, problem)
        api.openapi_schema = doc
        return doc

    setattr(api, "openapi", openapi)  # noqa: B010


PROBLEM_MEDIA_TYPE = "application/problem+json"


def install(app: FastAPI, settings: Settings) -> None:
    """Everything above, in one call from `create_app` (after the routers are included).

    The middleware goes OUTSIDE Starlette's error middleware, so that 500 pages get the headers
    too and the access log sees their status.
    """
    build = app.build_middleware_stack

    def build_with_security() -> ASGIApp:
        return SecurityMiddleware(HostCheck(build(), settings.trusted_hosts), settings=settings)

    setattr(app, "build_middleware_stack", build_with_security)  # noqa: B010
    install_fault_handlers(app)
    for route in app.routes:
        if isinstance(route, Mount) and isinstance(route.app, FastAPI) and is_api_path(route.path):
            document_problems(route.app)


__all__ = [
    "CSP",
    "BodyTooLarge",
    "HostCheck",
    "NoStore",
    "SecurityMiddleware",
    "install",
    "install_fault_handlers",
    "no_store",
    "pick_locale",
]
