"""The OpenAPI document states what the server enforces beyond FastAPI's own inference: who may
call an operation (the bearer scheme, and the 401/403/429 that come with it) and the `If-Match`
header the writes require (`auth.require_if_match`). Both are read from each route's
dependencies, so a new route is documented by the dependencies it declares.

`tests/api/test_openapi_exact.py` runs schemathesis with every check against the result."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import _get_api_route_for_openapi as _api_route_for_openapi

from directory.api import auth
from directory.api.problem_docs import PROBLEM_SCHEMA
from directory.api.problems import PROBLEM

BEARER = "bearer"

#: `auth._ETAG` as a pattern: the first ETag of the list is read, weak or strong, quoted or not.
IF_MATCH_PATTERN = r'^\s*(W/)?"?[0-9]{1,9}"?\s*(,.*)?$'

_NEEDS_TOKEN: frozenset[Callable[..., Any]] = frozenset(
    {auth.require_identity, auth.require_writer, auth.require_moderator, auth.require_admin}
)
_NEEDS_ROLE: frozenset[Callable[..., Any]] = frozenset(
    {auth.require_writer, auth.require_moderator, auth.require_admin}
)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def amend(doc: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    """Add security requirements, 401/403/429 and the If-Match header to `doc` (in place)."""
    components = doc.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "a token from `aid-directory token create` (aid_…)",
    }
    components.setdefault("schemas", {}).setdefault("Problem", PROBLEM_SCHEMA)
    for context in routing.iter_route_contexts(routes):
        # FastAPI keeps included routers lazily; this is how its own generator resolves them.
        route = _api_route_for_openapi(context)
        if route is None or not route.include_in_schema:
            continue
        calls = set(_calls(route.dependant))
        for method in route.methods:
            op = doc["paths"].get(route.path_format, {}).get(method.lower())
            if op is None:
                continue
            responses = op.setdefault("responses", {})
            if calls & _NEEDS_TOKEN:
                op["security"] = [{BEARER: []}]
                responses.setdefault("401", _problem("no valid token"))
                responses.setdefault("429", _problem("too many failed token attempts from here"))
                if calls & _NEEDS_ROLE or route.path_format.startswith("/v1/admin"):
                    responses.setdefault("403", _problem("role, scope or region does not allow it"))
                else:
                    responses.setdefault("403", _problem("this record is not yours to see"))
            if auth.require_if_match in calls:
                op.setdefault("parameters", []).append(
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": True,
                        "description": 'the ETag you read, e.g. "3" (missing: 428; '
                        "stale: 412 with current_version)",
                        "schema": {"type": "string", "pattern": IF_MATCH_PATTERN},
                    }
                )
                responses.setdefault("412", _problem("If-Match is stale"))
                responses.setdefault("428", _problem("If-Match missing"))
    return doc


def install(api: FastAPI) -> None:
    """Make `api.openapi()` return the amended document (built once, then cached)."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = amend(build(), list(api.routes))
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
