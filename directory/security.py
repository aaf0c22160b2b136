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

Also: `no_store(response)` / `NoStore` for routes that want no-store explicitly. `install` also
installs the 503 answers for an unreachable database (`directory.unavailable`); write requests on
SQLite queue in `directory.writequeue`; the API's OpenAPI error entries are
`directory.api.problem_docs`.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from directory.config import UI_LOCALES, Settings
from directory.db import sqlite_read_only
from directory.logging import log_access, reset_request_id, set_request_id
from directory.problem import is_api_path, problem_body
from directory.unavailable import BUSY_RETRY_AFTER_SECONDS, install_fault_handlers
from directory.writequeue import WriteGate, run_queued

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


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.https = settings.https
        # SQLite: one writer at a time, queued in this process (directory.writequeue).
        self.write_gate = WriteGate() if settings.is_sqlite else None

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
                    await run_queued(
                        self.write_gate,
                        self.app,
                        scope,
                        receive_wrapper,
                        send_wrapper,
                        refuse=lambda send: self._refuse_busy(send, path, rid),
                    )
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

    async def _refuse_busy(self, send: Send, path: str, rid: str) -> None:
        await self._send_error(
            send,
            path,
            rid,
            503,
            "Service Unavailable",
            "Too many changes at once; try again in a moment.",
        )

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
            body, ctype = problem_body(status, title, detail, rid)
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


def no_store(response: Response) -> Response:
    """Mark a response as never to be stored by any cache (signed-in or personal content)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def no_store_dependency(response: Response) -> None:
    no_store(response)


NoStore = Annotated[None, Depends(no_store_dependency)]


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


__all__ = [
    "CSP",
    "BodyTooLarge",
    "HostCheck",
    "NoStore",
    "SecurityMiddleware",
    "install",
    "no_store",
]
