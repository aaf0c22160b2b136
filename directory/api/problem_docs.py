"""The API's OpenAPI document declares the RFC 9457 errors every operation can answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from directory.problem import PROBLEM_MEDIA_TYPE

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
    """Make the API's OpenAPI document declare the problem+json errors that the middleware
    (`directory.security`: 413, 415, 503) and the API's handlers answer, in place of FastAPI's
    default application/json 422 entry, so that clients and schemathesis know them."""
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
