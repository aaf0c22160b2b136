"""The bare RFC 9457 problem document answered below the application (by the middleware and the
database-unavailable handler), and which paths are the API's."""

from __future__ import annotations

import json

PROBLEM_MEDIA_TYPE = "application/problem+json"


#: The JSON APIs: ours (/api) and the HSDS API (/hsds, `directory.hsds_api`).
API_PREFIXES = ("/api", "/hsds")


def is_api_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


def problem_body(status: int, title: str, detail: str, request_id: str) -> tuple[bytes, str]:
    """(body, content type) of a problem document with the request id."""
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }
    return json.dumps(body).encode(), PROBLEM_MEDIA_TYPE
