"""Sign-in, second factor, CSRF, role guards, rate limit and caching of the manage app."""

from __future__ import annotations

import pyotp
from sqlalchemy.orm import Session

from directory.accounts import service as accounts
from directory.accounts import throttle
from tests.factories import PASSWORD, make_account
from tests.manage.conftest import csrf_of, post_form, sign_in


def test_anonymous_is_sent_to_login(client) -> None:
    r = client.get("/en/manage/", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/en/manage/login?next=")


def test_login_page_localised_and_not_cached(client) -> None:
    r = client.get("/uk/manage/login")
    assert r.status_code == 200
    assert 'lang="uk"' in r.text
    assert "no-store" in r.headers["cache-control"]
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


def test_post_without_csrf_token_is_refused(client, db: Session) -> None:
    account = make_account(db, "volunteer")
    client.get("/en/manage/login")
    r = client.post(
        "/en/manage/login",
        data={"email": account.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert "did not come from this site" in r.text
    r = client.post(
        "/de/manage/login",
        data={"email": account.email, "password": PASSWORD, "csrf_token": "0" * 64},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert 'lang="de"' in r.text


def test_wrong_password_keeps_email_and_says_so(client, db: Session) -> None:
    account = make_account(db, "volunteer")
    r = post_form(
        client,
        "/en/manage/login",
        "/en/manage/login",
        {"email": account.email, "password": "not the password"},
    )
    assert r.status_code == 401
    assert f'value="{account.email}"' in r.text
    assert "not correct" in r.text


def test_sign_in_is_rate_limited(client, db: Session) -> None:
    account = make_account(db, "volunteer")
    statuses = []
    for _ in range(throttle.PASSWORD_PAIR.limit + 1):
        r = post_form(
            client,
            "/en/manage/login",
            "/en/manage/login",
            {"email": account.email, "password": "wrong password!"},
        )
        statuses.append(r.status_code)
    assert statuses[:-1] == [401] * throttle.PASSWORD_PAIR.limit
    assert statuses[-1] == 429
    assert int(r.headers["retry-after"]) > 0
    # even the right password waits now
    r = post_form(
        client,
        "/en/manage/login",
        "/en/manage/login",
        {"email": account.email, "password": PASSWORD},
    )
    assert r.status_code == 429


def test_volunteer_signs_in_and_cannot_reach_moderator_or_admin_pages(client, db: Session) -> None:
    account = make_account(db, "volunteer")
    sign_in(client, account.email)
    r = client.get("/en/manage/")
    assert r.status_code == 200
    assert "no-store" in r.headers["cache-control"]
    for path in ("queue", "users", "freshness", "reports", "notices", "taxonomy", "tokens"):
        r = client.get(f"/uk/manage/{path}", follow_redirects=False)
        assert r.status_code == 403, path
        assert 'lang="uk"' in r.text


def test_moderator_must_enrol_then_use_second_factor(client, db: Session) -> None:
    account = make_account(db, "moderator")
    page = client.get("/en/manage/login")
    r = client.post(
        "/en/manage/login",
        data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/en/manage/login/enrol"
    # the queue is not reachable with the password alone
    r = client.get("/en/manage/queue", follow_redirects=False)
    assert r.status_code == 303 and "second-factor" in r.headers["location"]
    enrol = client.get("/en/manage/login/enrol")
    assert "<svg" in enrol.text
    secret = enrol.text.split('class="m-secret">')[1].split("<")[0]
    signed = enrol.text.split('name="signed_secret" value="')[1].split('"')[0]
    r = client.post(
        "/en/manage/login/enrol",
        data={
            "signed_secret": signed,
            "code": pyotp.TOTP(secret).now(),
            "csrf_token": csrf_of(enrol.text),
        },
    )
    assert r.status_code == 200
    assert "Recovery codes" in r.text
    assert client.get("/en/manage/queue").status_code == 200
    # next time: password, then the code (a later one: the enrolment code is spent)
    client.cookies.clear()
    sign_in(client, account.email, totp_secret=secret, code_offset=30)
    assert client.get("/en/manage/queue").status_code == 200


def test_sign_out_ends_the_session(client, db: Session) -> None:
    account = make_account(db, "volunteer")
    sign_in(client, account.email)
    r = post_form(client, "/en/manage/", "/en/manage/logout", {})
    assert r.status_code == 303
    assert client.get("/en/manage/", follow_redirects=False).status_code == 303


def test_password_change_ends_other_sessions(client, app, db: Session) -> None:
    account = make_account(db, "volunteer")
    sign_in(client, account.email)
    other_cookie = client.cookies.get("aid_manage")
    r = post_form(
        client,
        "/en/manage/password",
        "/en/manage/password",
        {"current": PASSWORD, "new": "a brand new password", "repeat": "a brand new password"},
    )
    assert r.status_code == 303
    assert client.get("/en/manage/").status_code == 200  # this session goes on
    client.cookies.set("aid_manage", other_cookie)
    assert client.get("/en/manage/", follow_redirects=False).status_code == 303


def test_disabled_account_is_signed_out(client, db: Session) -> None:
    account = make_account(db, "volunteer")
    sign_in(client, account.email)
    accounts.set_disabled(db, account=account, disabled=True)
    assert client.get("/en/manage/", follow_redirects=False).status_code == 303


def test_next_is_only_followed_inside_the_app(client, db: Session) -> None:
    account = make_account(db, "volunteer")
    page = client.get("/en/manage/login?next=//evil.example/")
    r = client.post(
        "/en/manage/login",
        data={
            "email": account.email,
            "password": PASSWORD,
            "next": "//evil.example/",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/en/manage/"


def test_unknown_locale_is_a_404(client) -> None:
    assert client.get("/xx/manage/login").status_code == 404


def test_cookie_is_secure_behind_https(engine, db: Session) -> None:
    from fastapi.testclient import TestClient

    from directory.app import create_app
    from directory.config import Settings

    app = create_app(
        Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            secret_key="s" * 40,
            https=True,
        ),
        engine=engine,
    )
    with TestClient(app, base_url="https://testserver") as c:
        cookie = c.get("/en/manage/login").headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "Max-Age=43200" in cookie


# --- attacks: a session outliving its sign-out; a second-factor code used twice ---------------


def _change_password(client, token: str, new: str = "replayed password 1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/en/manage/password",
        follow_redirects=False,
        data={"current": PASSWORD, "new": new, "repeat": new, "csrf_token": token},
    )


def test_cookie_kept_from_before_sign_out_posts_nothing(client, db: Session) -> None:
    account = make_account(db, "volunteer")
    sign_in(client, account.email)
    old_cookie = client.cookies.get("aid_manage")
    old_token = csrf_of(client.get("/en/manage/password").text)
    r = client.post("/en/manage/logout", data={"csrf_token": old_token}, follow_redirects=False)
    assert r.status_code == 303
    # Someone who copied the cookie (and the CSRF token of its pages) replays both.
    client.cookies.clear()
    client.cookies.set("aid_manage", old_cookie)
    r = _change_password(client, old_token)
    assert r.status_code == 303 and "/en/manage/login" in r.headers["location"]
    db.refresh(account)
    assert accounts.verify_password(account.password_hash, PASSWORD)  # nothing changed
    assert client.get("/en/manage/", follow_redirects=False).status_code == 303


def test_disabling_ends_sessions_for_good(client, db: Session) -> None:
    account = make_account(db, "volunteer")
    sign_in(client, account.email)
    cookie = client.cookies.get("aid_manage")
    accounts.set_disabled(db, account=account, disabled=True)
    accounts.set_disabled(db, account=account, disabled=False)
    client.cookies.clear()
    client.cookies.set("aid_manage", cookie)
    # re-enabling the account does not bring the old session back
    assert client.get("/en/manage/", follow_redirects=False).status_code == 303


def test_second_sign_in_ends_only_its_own_session_at_sign_out(app, client, db: Session) -> None:
    from fastapi.testclient import TestClient

    account = make_account(db, "volunteer")
    sign_in(client, account.email)
    with TestClient(app) as other:  # the same person on a second device
        sign_in(other, account.email)
        post_form(other, "/en/manage/", "/en/manage/logout", {})
        assert other.get("/en/manage/", follow_redirects=False).status_code == 303
    assert client.get("/en/manage/").status_code == 200


def _enrol(client, email: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Password, then TOTP enrolment; returns the secret and the code used to enrol."""
    page = client.get("/en/manage/login")
    client.post(
        "/en/manage/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    enrol = client.get("/en/manage/login/enrol")
    secret = enrol.text.split('class="m-secret">')[1].split("<")[0]
    signed = enrol.text.split('name="signed_secret" value="')[1].split('"')[0]
    code = pyotp.TOTP(secret).now()
    r = client.post(
        "/en/manage/login/enrol",
        data={"signed_secret": signed, "code": code, "csrf_token": csrf_of(enrol.text)},
    )
    assert "Recovery codes" in r.text
    return secret, code


def _second_step(client, email: str, code: str):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    page = client.get("/en/manage/login")
    r = client.post(
        "/en/manage/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/en/manage/login/second-factor"
    step = client.get(r.headers["location"])
    return client.post(
        "/en/manage/login/second-factor",
        follow_redirects=False,
        data={"code": code, "csrf_token": csrf_of(step.text)},
    )


def test_enrolment_code_does_not_sign_in_again(client, db: Session) -> None:
    account = make_account(db, "moderator")
    _, code = _enrol(client, account.email)
    r = _second_step(client, account.email, code)
    assert r.status_code == 401
    assert client.get("/en/manage/queue", follow_redirects=False).status_code == 303


def test_one_code_signs_in_once(client, db: Session) -> None:
    import time

    account = make_account(db, "moderator")
    secret, _ = _enrol(client, account.email)
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next code (accepted a step early)
    assert _second_step(client, account.email, code).status_code == 303
    assert client.get("/en/manage/queue").status_code == 200
    assert _second_step(client, account.email, code).status_code == 401  # the same code again
    assert client.get("/en/manage/queue", follow_redirects=False).status_code == 303
