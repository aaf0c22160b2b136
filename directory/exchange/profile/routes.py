"""The profile served at its stable address (`PROFILE_PATH`, `/hsds/profile/`): the canonical
profile document, its modifications (`profile/<name>.json`) and the compiled schemas
(`schema/<name>.json`). Static per release: an ETag of the code, cached for an hour, open to
every origin (partners' validators fetch them from the browser too)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from directory.exchange import profile

router = APIRouter(prefix=profile.PROFILE_PATH.rstrip("/"), include_in_schema=False)


def _json(request: Request, body: Any, status: int = 200) -> Response:
    from directory.httpcache import code_token

    tag = f'W/"profile-{code_token()}"'
    headers = {
        "Access-Control-Allow-Origin": "*",
        "Cache-Control": "public, max-age=3600",
        "ETag": tag,
        "Vary": "Accept-Encoding",
    }
    if status == 200 and tag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    media = "application/json" if status == 200 else "application/problem+json"
    text = json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True)
    return Response(text.encode(), status_code=status, media_type=media, headers=headers)


def _base(request: Request) -> str:
    settings = getattr(request.app.state, "settings", None)
    return (getattr(settings, "base_url", "") or str(request.base_url)).rstrip("/")


def _missing(request: Request) -> Response:
    problem = {"type": "about:blank", "title": "Not Found", "status": 404}
    return _json(request, problem, 404)


@router.get("/")
def profile_document(request: Request) -> Response:
    return _json(request, profile.document(_base(request)))


@router.get("/profile/{name}")
def modification(request: Request, name: str) -> Response:
    change = profile.patch(name) if name in profile.schema_names() else None
    return _missing(request) if change is None else _json(request, change)


@router.get("/schema/{name}")
def compiled(request: Request, name: str) -> Response:
    if name not in profile.schema_names():
        return _missing(request)
    return _json(request, profile.compiled_schema(name))
