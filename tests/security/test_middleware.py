"""Security headers, no-store, body limits (413), content types (415), request ids, access log."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from directory.app import create_app
from directory.config import Settings
from directory.logging import configure_logging
from directory.security import CSP

SECRET = "test-secret-key-" + "x" * 32


def _app(tmp_path: Path, **overrides: object) -> FastAPI:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'sec.db'}",
        secret_key=SECRET,
        max_body_bytes=2048,
        **overrides,  # type: ignore[arg-type]
    )
    app = create_app(settings)

    @app.post("/api/_test/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    @app.post("/_test/form")
    async def form(request: Request) -> dict[str, int]:
        return {"fields": len(await request.form())}

    @app.get("/_test/boom")
    def boom() -> None:
        raise RuntimeError("boom [parameters: ('secret search', 50.45, 30.52)]")

    @app.get("/_test/item/{item_id}")
    def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    _to_front(app, 4)
    return app


def _to_front(app: FastAPI, n: int) -> None:
    """Test routes go before the mounted API (which owns /api/...)."""
    routes = app.router.routes
    routes[:0] = [routes.pop() for _ in range(n)][::-1]


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(_app(tmp_path), raise_server_exceptions=False) as c:
        yield c


def _assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    h = response.headers
    assert h["content-security-policy"] == CSP
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ):
        assert directive in h["content-security-policy"]
    assert "unsafe-inline" not in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert "geolocation=(self)" in h["permissions-policy"]
    assert "camera=()" in h["permissions-policy"]
    assert len(h["x-request-id"]) >= 8


@pytest.mark.parametrize("path", ["/healthz", "/", "/no/such/page", "/en/manage/", "/_test/boom"])
def test_headers_on_every_response(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    _assert_security_headers(response)
    assert "strict-transport-security" not in response.headers


def test_server_error_gets_headers_and_no_traceback(client: TestClient) -> None:
    response = client.get("/_test/boom")
    assert response.status_code == 500
    _assert_security_headers(response)
    assert "Traceback" not in response.text and "secret search" not in response.text


def test_hsts_when_https(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path, https=True)) as c:
        response = c.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_anonymous_responses_can_be_cached_signed_in_cannot(client: TestClient) -> None:
    assert "no-store" not in client.get("/healthz").headers.get("cache-control", "")
    assert client.get("/en/manage/").headers["cache-control"] == "no-store"
    assert client.get("/uk/manage/queue").headers["cache-control"] == "no-store"
    authed = client.get("/healthz", headers={"Authorization": "Bearer abc"})
    assert authed.headers["cache-control"] == "no-store"
    with_cookie = client.get("/healthz", headers={"Cookie": "session=abc"})
    assert with_cookie.headers["cache-control"] == "no-store"


def test_body_limit_by_content_length(client: TestClient) -> None:
    response = client.post(
        "/api/_test/echo",
        content=b"{" + b" " * 4096 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413
    form = client.post("/_test/form", data={"a": "x" * 4096})
    assert form.status_code == 413


def test_body_limit_when_streamed(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    response = client.post(
        "/api/_test/echo", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


def test_small_bodies_pass(client: TestClient) -> None:
    response = client.post("/api/_test/echo", json={"a": 1})
    assert response.status_code == 200 and response.json()["received"] > 0
    merge = client.post(
        "/api/_test/echo", content=b"{}", headers={"Content-Type": "application/merge-patch+json"}
    )
    assert merge.status_code == 200


@pytest.mark.parametrize(
    "ctype", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""]
)
def test_api_wrong_content_type_415(client: TestClient, ctype: str) -> None:
    headers = {"Content-Type": ctype} if ctype else {}
    response = client.post("/api/_test/echo", content=b'{"a": 1}', headers=headers)
    assert response.status_code == 415
    assert response.json()["title"] == "Unsupported Media Type"


def test_forms_outside_api_accept_form_encoding(client: TestClient) -> None:
    assert client.post("/_test/form", data={"a": "b"}).json() == {"fields": 1}


def test_request_id_kept_when_well_formed_else_replaced(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc123-DEF"}).headers["x-request-id"]
        == "abc123-DEF"
    )
    replaced = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert replaced.headers["x-request-id"] != "<script>" + "x" * 100
    assert len(replaced.headers["x-request-id"]) == 32


def test_access_log_keeps_no_ip_query_or_ids(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="directory")
    client.get(
        "/_test/item/50.4501,30.5234?q=secret+shelter&lat=50.4501&lon=30.5234",
        headers={
            "X-Request-ID": "rid-42",
            "X-Forwarded-For": "203.0.113.9",
            "User-Agent": "Phone/1.0",
        },
    )
    client.get("/kharkiv-warming-point-secret?near=50.0,36.2")
    access = [r for r in caplog.records if r.name == "directory.access"]
    assert len(access) == 2
    text = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in access)
    for forbidden in (
        "50.45",
        "30.52",
        "secret",
        "shelter",
        "203.0.113",
        "testclient",
        "Phone/1.0",
        "kharkiv",
        "?",
    ):
        assert forbidden not in text, forbidden
    first = access[0]
    assert first.path == "/_test/item/{item_id}"  # type: ignore[attr-defined]
    assert first.status == 200 and first.method == "GET"  # type: ignore[attr-defined]
    assert first.request_id == "rid-42"  # type: ignore[attr-defined]
    assert isinstance(first.duration_ms, float)  # type: ignore[attr-defined]


def test_json_logs_with_request_id_and_redacted_errors(tmp_path: Path) -> None:
    stream = io.StringIO()
    app = _app(tmp_path, log_format="json")
    configure_logging("json", stream=stream)
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            c.get("/healthz", headers={"X-Request-ID": "rid-json-1"})
            c.get("/_test/boom", headers={"X-Request-ID": "rid-json-2"})
            logging.getLogger("directory.test").exception(
                "failed", exc_info=RuntimeError("x\n[parameters: ('Kharkiv street 5', 50.1)]")
            )
    finally:
        configure_logging("text")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    health = next(x for x in lines if x.get("path") == "/healthz")
    assert health["request_id"] == "rid-json-1" and health["status"] == 200
    assert health["logger"] == "directory.access" and health["level"] == "info"
    boom = next(x for x in lines if x.get("path") == "/_test/boom")
    assert boom["status"] == 500 and boom["request_id"] == "rid-json-2"
    assert "Kharkiv street" not in stream.getvalue()
    assert "parameters redacted" in stream.getvalue()


def test_real_pages_log_route_templates_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from directory.migrate import upgrade

    app = _app(tmp_path)
    upgrade(app.state.settings.database_url)
    caplog.set_level(logging.INFO, logger="directory")
    with TestClient(app) as c:
        assert c.get("/uk/search?q=Sekretna+vulytsia&lat=50.4501&lon=30.5234").status_code == 200
        c.get("/api/v1/services?q=Sekretna&lat=50.4501&lon=30.5234")
        c.get("/ar/services/00000000-0000-0000-0000-000000000000")
    access = [r for r in caplog.records if r.name == "directory.access"]
    paths = [r.path for r in access]  # type: ignore[attr-defined]
    assert paths[:3] == ["/{locale}/search", "/api/v1/services", "/{locale}/services/{service_id}"]
    logged = caplog.text
    for secret in ("Sekretna", "50.45", "30.52", "testclient", "00000000-0000"):
        assert secret not in logged
