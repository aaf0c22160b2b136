"""The HSDS API as a sub-application mounted at `/hsds` (after the profile's routes at
`/hsds/profile/`, which stay where they are). Errors are RFC 9457 problem documents, as under
/api. CORS is open for reading only: GET and HEAD answers carry `Access-Control-Allow-Origin: *`
(and expose ETag), a preflight is answered for GET and HEAD; a POST (the document's read alias)
gets no CORS header, so no other site's page can send one with a reader's browser."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.routing import Match, Mount, get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from directory.api.problems import install_problem_handlers
from directory.hsds_api.routes import router

PREFIX = "/hsds"
#: Paths (of the sub-application) whose documented methods include POST.
_COLLECTIONS = frozenset(
    {"/services", "/organizations", "/service_at_locations", "/taxonomies", "/taxonomy_terms"}
)
CORS_READ = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "ETag, Content-Length",
}


class ReadOnlyCors:
    """CORS for the GETs of the HSDS API, and nothing for anything else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        if method == "OPTIONS":
            await self._options(scope, send)
            return
        if method not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in CORS_READ.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _options(self, scope: Scope, send: Send) -> None:
        path = get_route_path(scope).rstrip("/") or "/"
        allow = "GET, HEAD, POST, OPTIONS" if path in _COLLECTIONS else "GET, HEAD, OPTIONS"
        headers = [
            (b"allow", allow.encode()),
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-methods", b"GET, HEAD"),
            (b"access-control-allow-headers", b"Accept, If-None-Match"),
            (b"access-control-max-age", b"86400"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def build_hsds_api() -> FastAPI:
    api = FastAPI(
        title="aid-directory HSDS API",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the document is the profile's (`openapi_url` of the root)
        redirect_slashes=False,
    )
    install_problem_handlers(api)
    api.include_router(router)
    api.add_middleware(ReadOnlyCors)
    return api


class HsdsMount(Mount):
    """Takes `/hsds` and every path under it that no earlier route took (the profile's)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            route_path = get_route_path(scope)
            if route_path == PREFIX or route_path.startswith(PREFIX + "/"):
                root_path = scope.get("root_path", "")
                child = dict(scope)
                if route_path == PREFIX:  # the root without its slash
                    child["path"] = scope["path"] + "/"
                return Match.FULL, {
                    "path_params": dict(scope.get("path_params", {})),
                    "app_root_path": scope.get("app_root_path", root_path),
                    "root_path": root_path + PREFIX,
                    "endpoint": self.app,
                    **({"path": child["path"]} if route_path == PREFIX else {}),
                }
        return super().matches(scope)


def mount_hsds(app: FastAPI) -> None:
    """Attach the HSDS API at /hsds (after the profile's routes; before the pages)."""
    api = build_hsds_api()
    api.state = app.state
    api.dependency_overrides = app.dependency_overrides
    app.router.routes.append(HsdsMount(PREFIX, app=api))
    app.state.hsds_api = api
