"""No input crashes the API: generated requests for every operation in the OpenAPI document
(schemathesis, valid and invalid data), sent as an admin with a plausible If-Match, must never
answer 5xx, and every error must be a problem document. Plus hypothesis-generated hostile
values for each writable field of a location and a service."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from directory.api.routes import build_api
from tests.factories import make_account, make_listing, make_token


def _config() -> Any:
    # The generated phases only (no exhaustive "coverage" phase): keeps the run short.
    from schemathesis import config as c

    phases = c.PhasesConfig(coverage=c.CoveragePhaseConfig(enabled=False))
    return c.SchemathesisConfig(projects=c.ProjectsConfig(default=c.ProjectConfig(phases=phases)))


try:
    SCHEMA = schemathesis.openapi.from_dict(build_api().openapi(), config=_config())
except (TypeError, AttributeError):  # another schemathesis version: its defaults
    SCHEMA = schemathesis.openapi.from_dict(build_api().openapi())
FUZZ = settings(
    max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@pytest.fixture()
def admin_headers(db: Session) -> dict[str, str]:
    make_listing(db)
    token = make_token(db, make_account(db, "admin"))
    db.commit()
    return {"Authorization": f"Bearer {token}", "If-Match": '"1"'}


def _check(r: Any, what: str = "") -> None:
    assert r.status_code < 500, (what, r.status_code, r.text[:500])
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json", (what, r.text[:300])
        body = r.json()
        assert body["status"] == r.status_code and body["title"]


@SCHEMA.parametrize()
@FUZZ
def test_no_server_error_for_generated_requests(
    case: Any, client: TestClient, admin_headers: dict[str, str]
) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver/api", headers=admin_headers)
    kwargs.pop("timeout", None)
    kwargs.pop("follow_redirects", None)
    kwargs.pop("allow_redirects", None)
    if "json" in kwargs:
        kwargs["content"] = json.dumps(kwargs.pop("json"))
        kwargs.setdefault("headers", {})["Content-Type"] = "application/json"
    method, url = kwargs.pop("method"), kwargs.pop("url")
    try:
        r = client.request(method, url, **kwargs)
    except (TypeError, AttributeError) as exc:
        # httpx itself cannot encode some generated multipart values (e.g. a number as a file).
        assume("multipart" in str(kwargs.get("headers", {})) or "files" in kwargs or not exc)
        return
    _check(r, f"{method} {url}")


def _raw(body: Any) -> bytes:
    """JSON as a hostile client might send it (NaN and Infinity included)."""
    return json.dumps(body, allow_nan=True).encode()


hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=400),
    st.text(alphabet="\u202e\u0000\u200f\n\r<>'\"&;", max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from(
        [
            "",
            " ",
            "+380441234567",
            "javascript:alert(1)",
            "2001-01-01T00:00:00Z",
            "9999-12-31T23:59:59+14:00",
            "00000000-0000-0000-0000-000000000000",
            "x" * 10_000,
            "1e309",
            "NaN",
        ]
    ),
)


@given(
    field=st.sampled_from(
        [
            "latitude",
            "longitude",
            "capacity_available",
            "capacity_maximum",
            "name",
            "url",
            "privacy",
            "timezone",
            "region_id",
            "source_locale",
            "has_power",
            "translations",
            "service_ids",
            "nonsense",
        ]
    ),
    value=hostile,
)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_location_fields(client: TestClient, db: Session, field: str, value: Any) -> None:
    _, loc = make_listing(db)
    token = make_token(db, make_account(db, "admin"))
    db.commit()
    db.refresh(loc)
    r = client.patch(
        f"/api/v1/locations/{loc.id}",
        content=_raw({field: value}),
        headers={
            "Authorization": f"Bearer {token}",
            "If-Match": f'"{loc.version}"',
            "Content-Type": "application/json",
        },
    )
    _check(r)


@given(
    body=st.dictionaries(
        st.sampled_from(["status", "until", "reason", "comment", "available", "total"]),
        hostile,
        max_size=4,
    )
)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_quick_updates(client: TestClient, db: Session, body: dict[str, Any]) -> None:
    svc, loc = make_listing(db)
    token = make_token(db, make_account(db, "volunteer"))
    db.commit()
    h = {"Authorization": f"Bearer {token}", "If-Match": '"1"', "Content-Type": "application/json"}
    raw = _raw(body)
    _check(client.patch(f"/api/v1/services/{svc.id}/status", content=raw, headers=h))
    _check(client.patch(f"/api/v1/locations/{loc.id}/capacity", content=raw, headers=h))
    _check(
        client.post(
            f"/api/v1/services/{svc.id}/reports",
            content=raw,
            headers={"Content-Type": "application/json"},
        )
    )
