"""`HEAD` answers on every `GET` route (it was a 405): same status and headers, no body."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.routing import Mount

from directory.accounts import service as accounts
from directory.db import utcnow
from directory.web.templating import manifest
from tests.factories import make_account
from tests.manage.conftest import sign_in
from tests.web.seed import Seed


def get_paths(routes: list, prefix: str = "") -> Iterator[str]:  # type: ignore[type-arg]
    """Every path of the app that answers GET, mounted apps and included routers too."""
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included-router wrapper
            yield from get_paths(
                route.original_router.routes, prefix + route.include_context.prefix
            )
        elif isinstance(route, Mount):
            yield from get_paths(getattr(route.app, "routes", []), prefix + route.path)
        elif "GET" in (getattr(route, "methods", None) or ()):
            yield prefix + route.path


def _fill(path: str, data: Seed, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name == "locale":
            return "uk"
        if name == "name":  # a static file
            return manifest().url("css/site.css").removeprefix("/static/")
        if name == "fmt":
            return "hsds-json"
        return ids.get(name, str(uuid.uuid4()))

    return re.sub(r"\{([^}]+)\}", value, path)


def _compare(client: TestClient, url: str, headers: dict[str, str] | None = None) -> int:
    got = client.get(url, headers=headers, follow_redirects=False)
    head = client.head(url, headers=headers, follow_redirects=False)
    assert head.status_code != 405, url
    assert head.status_code == got.status_code, (url, got.status_code, head.status_code)
    assert head.content == b"", url
    for name in ("content-type", "location", "cache-control", "content-length"):
        if name == "content-length" and (
            not got.headers.get("etag") or got.headers.get("etag") != head.headers.get("etag")
        ):
            # the same length only for the same content (pages with a fresh secret, a clock)
            continue
        assert head.headers.get(name) == got.headers.get(name), (url, name)
    return got.status_code


def test_head_answers_wherever_get_does(client: TestClient, data: Seed, db: Session, app) -> None:  # type: ignore[no-untyped-def]
    admin = make_account(db, "admin")
    admin.totp_secret, admin.totp_enabled_at = pyotp.random_base32(), utcnow()
    token = accounts.create_token(db, account=admin, name="head test").secret
    db.commit()  # kept when a request below fails (a 404 rolls the request's work back)
    ids = {
        "service_id": str(data.warming.id),
        "notice_id": str(data.notice.id),
        "account_id": str(admin.id),
    }
    paths = sorted(set(get_paths(app.routes)))
    assert len(paths) > 50 and "/{locale}/search" in paths and "/api/v1/services" in paths

    statuses = {}
    for path in paths:  # as a reader, and the API with an admin token
        url = _fill(path, data, ids)
        auth = {"Authorization": f"Bearer {token}"} if url.startswith("/api/") else None
        statuses[url] = _compare(client, url, auth)
    sign_in(client, admin.email, totp_secret=admin.totp_secret)
    for path in paths:  # the manage app, signed in
        if "/manage/" in path:
            url = _fill(path, data, ids)
            statuses["signed in " + url] = _compare(client, url)

    ok = [url for url, status in statuses.items() if status == 200]
    assert len(ok) >= 40, statuses  # most of them real pages, not all 404s
    assert (
        "/uk/search" in ok and f"/uk/services/{data.warming.id}" in ok and "/api/v1/services" in ok
    )
    assert "signed in /uk/manage/queue" in ok


def test_head_is_not_allowed_where_get_is_not(client: TestClient) -> None:
    assert client.head("/api/v1/moderation/change-requests/x/approve").status_code in (404, 405)
    assert client.get("/api/v1/moderation/change-requests/x/approve").status_code in (404, 405)
