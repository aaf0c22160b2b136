"""TOTP enrolment: besides the QR code, an `otpauth://` link, so a phone can enrol itself
(the person cannot scan a screen with the phone that shows it)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy.orm import Session

from tests.factories import PASSWORD, make_account
from tests.manage.conftest import csrf_of

LABELS = {
    "en": "Add to the authenticator app",
    "uk": "Додати в застосунок автентифікації",
    "ar": "أضِفه إلى تطبيق المصادقة",
}


@pytest.mark.parametrize("locale", sorted(LABELS))
def test_the_enrolment_page_links_the_secret_for_an_authenticator_app_on_this_phone(
    client,
    db: Session,
    locale: str,
) -> None:
    account = make_account(db, "moderator")
    login = client.get(f"/{locale}/manage/login")
    client.post(
        f"/{locale}/manage/login",
        follow_redirects=False,
        data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_of(login.text)},
    )
    enrol = client.get(f"/{locale}/manage/login/enrol")
    assert enrol.status_code == 200
    link = re.search(r'<a href="(otpauth://[^"]+)"[^>]*>([^<]+)</a>', enrol.text)
    assert link, "no otpauth:// link on the enrolment page"
    assert link.group(2) == LABELS[locale]
    uri = html.unescape(link.group(1))
    shown_key = enrol.text.split('class="m-secret">')[1].split("<")[0]
    parsed = urlparse(uri)
    assert parsed.netloc == "totp" and parse_qs(parsed.query)["secret"] == [shown_key]
    assert parse_qs(parsed.query)["issuer"] == ["aid-directory"]
    # an app that opened the link makes codes the server accepts: enrolment succeeds
    totp = pyotp.parse_uri(uri)
    signed = enrol.text.split('name="signed_secret" value="')[1].split('"')[0]
    done = client.post(
        f"/{locale}/manage/login/enrol",
        data={"signed_secret": signed, "code": totp.now(), "csrf_token": csrf_of(enrol.text)},
    )
    assert done.status_code == 200
    assert client.get(f"/{locale}/manage/queue").status_code == 200
