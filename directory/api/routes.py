"""The JSON API: a FastAPI sub-application mounted at /api, serving /api/v1/... with its
OpenAPI document at /api/v1/openapi.json and readable docs at /api/v1/docs (our own origin, no
scripts, no CDN). Every error under /api is an RFC 9457 problem document."""

from __future__ import annotations

import html
import importlib
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from starlette.routing import Match, Mount, get_route_path
from starlette.types import Scope

from directory import __version__
from directory.api import admin, groups, openapi_doc, public, review, writes
from directory.api.problem_docs import document_problems
from directory.api.problems import install_problem_handlers

DESCRIPTION = """\
Read the directory without an account; change it with a bearer token
(`Authorization: Bearer aid_…`, from `aid-directory token create`).

* Every editable record has an `ETag` (its version). `PATCH`, `PUT` and `DELETE` need
  `If-Match` with that ETag: missing → 428, stale → 412 with `current_version`.
* A volunteer's write answers **202** with a change request that waits for a moderator;
  a moderator's publishes at once (200/201 with the new ETag). Changes to phone numbers,
  addresses, coordinates, website or email of a published listing always need a second moderator.
* Errors are RFC 9457 problem documents (`application/problem+json`); validation errors list
  each bad field as a JSON Pointer in `errors[].pointer`.
* Field names follow Open Referral HSDS 3; crisis extensions keep the names documented in the
  docs/data-model.md.
"""


def build_api() -> FastAPI:
    api = FastAPI(
        title="aid-directory API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(api)
    v1 = APIRouter(prefix="/v1")
    v1.include_router(public.router)
    v1.include_router(writes.router)
    v1.include_router(groups.router)
    v1.include_router(review.router)
    v1.include_router(review.me_router)
    v1.include_router(admin.router)
    _include_exchange(v1)
    api.include_router(v1)
    openapi_doc.install(api)

    @api.get("/v1/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(render_docs(api.openapi()))

    return api


def _include_exchange(v1: APIRouter) -> None:
    """Exports and imports (exchange engineer's routers), when installed."""
    try:
        exchange_routes = importlib.import_module("directory.exchange.routes")
    except ImportError:
        return
    for name in ("router", "imports_router"):
        router = getattr(exchange_routes, name, None)
        if router is not None:
            v1.include_router(router)


def mount_api(app: FastAPI) -> None:
    """Attach the API at /api (called by `create_app`)."""
    api = build_api()
    # One state and one set of dependency overrides for the whole application (tests override
    # the session on the main app).
    api.state = app.state
    api.dependency_overrides = app.dependency_overrides
    # The problem+json errors every operation can answer, in the OpenAPI document.
    document_problems(api)
    app.router.routes.append(ApiMount("/api", app=api))
    app.state.api = api


class ApiMount(Mount):
    """A mount that takes EVERY path under /api (Starlette's regex mount lets paths with a
    newline fall through to the main app, whose 404 is not a problem document)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            route_path = get_route_path(scope)
            if route_path == "/api" or route_path.startswith("/api/"):
                root_path = scope.get("root_path", "")
                return Match.FULL, {
                    "path_params": dict(scope.get("path_params", {})),
                    "app_root_path": scope.get("app_root_path", root_path),
                    "root_path": root_path + "/api",
                    "endpoint": self.app,
                }
        return super().matches(scope)


def render_docs(spec: dict[str, Any]) -> str:
    """A plain, script-free page listing every operation of the OpenAPI document."""
    e = html.escape
    rows = []
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            params = ", ".join(f"{p['name']} ({p.get('in')})" for p in op.get("parameters", []))
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
            codes = " ".join(sorted(op.get("responses", {})))
            shown = f"<code>/api{e(path)}</code>"
            if method == "get" and "{" not in path:  # try it: a plain link, no script needed
                shown = f'<a href="/api{e(path)}">{shown}</a>'
            rows.append(
                f"<tr><td><code>{e(method.upper())}</code></td><td>{shown}</td>"
                f"<td>{e(op.get('summary', ''))}</td><td>{e(params)}</td><td>{e(ref)}</td>"
                f"<td>{e(codes)}</td></tr>"
            )
    schemas = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        props = schema.get("properties", {})
        fields = ", ".join(f"{k}{'*' if k in schema.get('required', []) else ''}" for k in props)
        schemas.append(f'<dt id="{e(name)}"><code>{e(name)}</code></dt><dd>{e(fields)}</dd>')
    desc = "".join(f"<p>{e(par)}</p>" for par in spec["info"].get("description", "").split("\n\n"))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(spec['info']['title'])}</title></head><body><main>"
        f"<h1>{e(spec['info']['title'])} {e(spec['info']['version'])}</h1>{desc}"
        '<p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> '
        "(OpenAPI 3; load it into any OpenAPI tool).</p>"
        "<h2>Operations</h2><table><thead><tr><th>Method</th><th>Path</th><th>What</th>"
        "<th>Parameters</th><th>Body</th><th>Responses</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><h2>Schemas</h2><p>* = required</p><dl>"
        + "".join(schemas)
        + "</dl></main></body></html>"
    )
