"""Script injection: payloads go in through the API (moderator and volunteer), the public report
form and the API's report endpoint; every page that shows them (public pages in two scripts,
search and its htmx fragment, the moderator's queue, diff and reports pages, API JSON, exports)
shows them as typed and inert: no tag, attribute or URL a browser would execute."""

from __future__ import annotations

import csv
import html
import io
import re

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.exchange.exporters import export
from directory.exchange.records import ExportOptions
from tests.factories import make_account, make_listing, make_place, make_token
from tests.manage.conftest import sign_in
from tests.security.walk import executable_markup

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">click</a>',
    "javascript:alert(1)",
    "{{7*7}} {{ config }} {% print(1) %}",
    "${7*7} #{7*7} <%= 7*7 %>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "</textarea></title><script>alert(1)</script>",
    '" onmouseover="alert(1)" x="',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="//evil.example/">',
    "<details open ontoggle=alert(1)>",
]
FORMULAS = ['=HYPERLINK("http://evil.example","open")', "@SUM(1+1)*cmd|' /C calc'!A0"]
BAD_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
]


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _shown_inert(text: str, payload: str) -> bool:
    """The payload is visible as typed (after HTML unescaping), i.e. stored and escaped."""
    return payload in html.unescape(text)


def test_script_injection_payloads_render_inert(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from directory.api import public

    monkeypatch.setattr(public.REPORT_WINDOW, "hits", {})  # earlier tests in this process
    region = make_place(db, name="Injection oblast")
    listing, _loc = make_listing(db, region=region, name="Reported shelter")
    admin = make_account(db, "admin", [region])
    admin.totp_secret = pyotp.random_base32()
    volunteer = make_account(db, "volunteer", [region])
    admin_token, vol_token = make_token(db, admin), make_token(db, volunteer)
    second_token = make_token(db, make_account(db, "moderator", [region]))
    db.commit()
    tried = executed = refused_urls = 0

    # 1. In through the API, as a moderator/admin (published at once).
    org = client.post(
        "/api/v1/organizations",
        json={"name": "Payload org " + PAYLOADS[0]},
        headers=_auth(admin_token),
    )
    assert org.status_code in (200, 201), org.text
    org_id = org.json()["entity_id"]
    created: dict[str, str] = {}
    for payload in PAYLOADS + FORMULAS:
        r = client.post(
            "/api/v1/services",
            headers=_auth(admin_token),
            json={
                "organization_id": org_id,
                "name": payload,
                "description": f"About: {payload}",
                "eligibility_description": payload,
            },
        )
        if r.status_code == 202 and r.json()["sensitive"]:
            # a link written into a text (`<base href="//evil.example/">`): the fraud guard
            # holds it for a second moderator (issue 18), who publishes it
            r = client.post(
                f"/api/v1/moderation/change-requests/{r.json()['id']}/approve",
                headers=_auth(second_token),
            )
        assert r.status_code in (200, 201), r.text
        created[payload] = r.json()["entity_id"]
        tried += 1
    for bad in BAD_URLS:
        r = client.post(
            "/api/v1/services",
            headers=_auth(admin_token),
            json={"organization_id": org_id, "name": "Bad link", "url": bad},
        )
        assert r.status_code == 422, (bad, r.status_code, r.text)
        refused_urls += 1
    # Control characters are refused, not stored.
    r = client.post(
        "/api/v1/services",
        headers=_auth(admin_token),
        json={"organization_id": org_id, "name": "Trojan \u202eevil"},
    )
    assert r.status_code == 422

    # 2. As a volunteer: a proposal waiting for review (shown in the moderator's diff).
    r = client.get(f"/api/v1/services/{listing.id}")
    r = client.patch(
        f"/api/v1/services/{listing.id}",
        headers=_auth(vol_token, **{"If-Match": r.headers["ETag"]}),
        json={"description": " ".join(PAYLOADS)},
    )
    assert r.status_code == 202, r.text
    change_id = r.json()["id"]
    tried += len(PAYLOADS)

    # 3. Reports: through the API and through the public HTML form.
    for payload in PAYLOADS[:8]:
        r = client.post(
            f"/api/v1/services/{listing.id}/reports", json={"kind": "other", "text": payload}
        )
        assert r.status_code in (200, 201, 202), r.text
        tried += 1
    page = client.get(f"/en/services/{listing.id}")
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token, "no report form on the service page"
    for payload in PAYLOADS[8:]:
        r = client.post(
            f"/en/services/{listing.id}/report",
            follow_redirects=False,
            data={"kind": "other", "message": payload, "token": token.group(1)},
        )
        assert r.status_code == 303, r.text
        tried += 1

    # --- every page that shows them -------------------------------------------------------------
    checked: list[tuple[str, str]] = []  # (url, body)

    def get(url: str, **kw: object) -> str:
        response = client.get(url, **kw)  # type: ignore[arg-type]
        assert response.status_code == 200, (url, response.status_code)
        assert response.headers["x-content-type-options"] == "nosniff"
        if "/manage/" in url:  # signed in: never stored by any cache
            assert response.headers["cache-control"] == "no-store", url
        checked.append((url, response.text))
        return response.text

    for payload, service_id in created.items():
        for locale in ("en", "ar"):
            assert _shown_inert(get(f"/{locale}/services/{service_id}"), payload), payload
        api = client.get(f"/api/v1/services/{service_id}")
        assert api.headers["content-type"].startswith("application/json")
        assert api.json()["name"] == payload  # stored as typed
    get("/en/search?q=alert")
    get("/en/search?q=alert", headers={"HX-Request": "true"})
    get("/uk/search?q=7*7")
    get("/en/")
    get(f"/en/services/{listing.id}")

    client.cookies.clear()
    sign_in(client, admin.email, totp_secret=admin.totp_secret)
    get("/en/manage/queue")
    diff = get(f"/en/manage/queue/{change_id}")
    assert _shown_inert(diff, PAYLOADS[0]) and _shown_inert(diff, PAYLOADS[1])
    reports = get("/en/manage/reports")
    assert _shown_inert(reports, PAYLOADS[0]) and _shown_inert(reports, PAYLOADS[-1])
    get(f"/en/manage/listings/{listing.id}")
    client.cookies.clear()

    for url, body in checked:
        found = executable_markup(body)
        executed += len(found)
        assert found == [], (url, found)

    # Exports: data, not markup; spreadsheet formulas neutralised.
    for name in ("csv", "hxl"):
        text = b"".join(export(db, name, ExportOptions())).decode("utf-8")
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert any("alert(1)" in c for c in cells)
        assert any("HYPERLINK" in c for c in cells)  # the formula payloads are exported ...
        assert [c for c in cells if c.startswith(("=", "@"))] == [], name  # ... but inert
    print(
        f"\ninjection: {tried} payload submissions, {refused_urls + 1} refused at the door, "
        f"{len(checked)} pages checked, {executed} executable"
    )


def test_detector_sees_executable_markup() -> None:
    """The detector is real: unescaped payloads are flagged."""
    for payload in PAYLOADS[:5] + PAYLOADS[8:9] + PAYLOADS[12:]:
        assert executable_markup(f"<p>{payload}</p>"), payload
    assert executable_markup('<p title="" onmouseover="alert(1)" x="">')
    assert executable_markup('<script src="/static/app.js"></script>') == []
    assert executable_markup("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>") == []
