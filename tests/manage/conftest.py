"""Helpers for manage page tests: sign a person in through the real forms."""

from __future__ import annotations

import re
import time

import pyotp
from fastapi.testclient import TestClient

from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(
    client: TestClient,
    email: str,
    *,
    locale: str = "en",
    totp_secret: str | None = None,
    password: str = PASSWORD,
    code_offset: int = 0,
) -> None:
    """Sign in through the login form (and the second step when a TOTP secret is given).
    Each TOTP code signs in once: a second sign-in in the same 30 s passes `code_offset=30`
    (the next code, accepted a step early for clock drift)."""
    page = client.get(f"/{locale}/manage/login")
    r = client.post(
        f"/{locale}/manage/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    if totp_secret:
        step = client.get(r.headers["location"])
        r = client.post(
            f"/{locale}/manage/login/second-factor",
            data={
                "code": pyotp.TOTP(totp_secret).at(time.time() + code_offset),
                "csrf_token": csrf_of(step.text),
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text


def post_form(client: TestClient, page_url: str, action: str, data: dict[str, str], **kw):  # type: ignore[no-untyped-def]
    """GET a page for its CSRF token, then POST `data` to `action`."""
    token = csrf_of(client.get(page_url).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False, **kw)
