"""Lockouts must not be a denial-of-service tool (issue 18.6).

Failed authentication is counted by what is being guessed: passwords per account and address
(and per address, and per account as a whole), second-factor codes per account, API tokens per
address and only when invalid. Each test reproduces an attack that used to lock out people who
held a correct credential: ten wrong passwords from anywhere locked the account for everyone;
wrong passwords, wrong codes and bad tokens shared one per-address counter, so ten bad tokens
from a shared NAT locked out every staff member behind it, valid tokens included.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.accounts import service as accounts
from directory.accounts import throttle
from directory.errors import TooManyRequests, Unauthorized
from tests.factories import PASSWORD, make_account, make_token
from tests.manage.conftest import csrf_of

ATTACKER = "198.51.100.7"
OWNER = "203.0.113.5"
NAT = "192.0.2.44"  # an office: many staff members behind one address


@contextmanager
def _from(app, address: str) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """A client at `address` (uses the test's database session set up by the `client` fixture)."""
    with TestClient(app, client=(address, 40000)) as c:
        yield c


def _login(c: TestClient, email: str, password: str) -> int:
    page = c.get("/en/manage/login")
    return c.post(
        "/en/manage/login",
        follow_redirects=False,
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
    ).status_code


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(app, client, db: Session) -> None:
    victim = make_account(db, "moderator")
    with _from(app, ATTACKER) as attacker:
        statuses = [_login(attacker, victim.email, "wrong password!") for _ in range(11)]
        assert statuses[:10] == [401] * 10 and statuses[10] == 429
        assert _login(attacker, victim.email, PASSWORD) == 429  # that address stays throttled
    with _from(app, OWNER) as owner:
        assert _login(owner, victim.email, PASSWORD) == 303  # the owner signs in


def test_bad_tokens_behind_a_shared_address_leave_valid_tokens_and_sign_ins_alone(
    app, client, db: Session
) -> None:
    colleague = make_account(db, "volunteer")
    valid = make_token(db, colleague)
    db.commit()
    with _from(app, NAT) as office:
        statuses = [
            office.get("/api/v1/me", headers={"Authorization": "Bearer aid_wrong"}).status_code
            for _ in range(throttle.TOKEN_ADDRESS.limit + 1)
        ]
        assert statuses[:-1] == [401] * throttle.TOKEN_ADDRESS.limit and statuses[-1] == 429
        # a valid token from the same address keeps working
        r = office.get("/api/v1/me", headers={"Authorization": f"Bearer {valid}"})
        assert r.status_code == 200, r.text
        # and a person behind it signs in: bad tokens do not count against passwords
        assert _login(office, colleague.email, PASSWORD) == 303


def test_wrong_codes_and_passwords_behind_a_shared_address_do_not_lock_out_colleagues(
    app, client, db: Session
) -> None:
    clumsy = make_account(db, "moderator")
    clumsy.totp_secret = pyotp.random_base32()
    colleague = make_account(db, "moderator")
    colleague.totp_secret = pyotp.random_base32()
    db.commit()
    with _from(app, NAT) as a:
        assert _login(a, clumsy.email, PASSWORD) == 303
        step = a.get("/en/manage/login/second-factor")
        for _ in range(10):
            a.post(
                "/en/manage/login/second-factor",
                data={"code": "000000", "csrf_token": csrf_of(step.text)},
            )
    with _from(app, NAT) as b:
        for _ in range(10):  # and someone else mistypes other passwords
            _login(b, f"nobody-{time.monotonic_ns()}@example.org", "wrong password!")
        assert _login(b, colleague.email, PASSWORD) == 303
        step = b.get("/en/manage/login/second-factor")
        r = b.post(
            "/en/manage/login/second-factor",
            follow_redirects=False,
            data={
                "code": pyotp.TOTP(colleague.totp_secret).now(),
                "csrf_token": csrf_of(step.text),
            },
        )
        assert r.status_code == 303
        assert b.get("/en/manage/queue").status_code == 200


# --- the throttles that remain, at the service level --------------------------------------


def test_second_factor_is_throttled_per_account(db: Session) -> None:
    acc = make_account(db, "moderator")
    acc.totp_secret = pyotp.random_base32()
    now = dt.datetime.now(dt.UTC)
    for _ in range(throttle.TOTP_ACCOUNT.limit):
        with pytest.raises(Unauthorized):
            accounts.verify_second_factor(db, account=acc, code="000000", now=now)
    with pytest.raises(TooManyRequests):  # whoever asks: they know the password already
        accounts.verify_second_factor(
            db, account=acc, code=pyotp.TOTP(acc.totp_secret).at(now), now=now
        )


def test_password_spraying_from_one_address_is_throttled(db: Session) -> None:
    target = make_account(db, "volunteer")
    now = dt.datetime.now(dt.UTC)
    for i in range(throttle.PASSWORD_ADDRESS.limit):
        with pytest.raises(Unauthorized):
            accounts.authenticate(
                db,
                email=f"user{i}@example.org",
                password="Password123!",
                client_key=ATTACKER,
                now=now,
            )
    with pytest.raises(TooManyRequests) as err:
        accounts.authenticate(
            db, email=target.email, password=PASSWORD, client_key=ATTACKER, now=now
        )
    assert 0 < err.value.retry_after <= throttle.WINDOW.total_seconds() + 1
    assert (
        accounts.authenticate(
            db, email=target.email, password=PASSWORD, client_key=OWNER, now=now
        ).id
        == target.id
    )


def test_distributed_guessing_of_one_account_is_throttled(db: Session) -> None:
    victim = make_account(db, "volunteer")
    now = dt.datetime.now(dt.UTC)
    under_attack = throttle.PASSWORD_ACCOUNT.limit
    for i in range(under_attack):  # two guesses each from many addresses
        with pytest.raises(Unauthorized):
            accounts.authenticate(
                db,
                email=victim.email,
                password="guess guess",
                client_key=f"10.1.{i // 2}.{i % 2}",
                now=now,
            )
    # Now each address gets only a few guesses at this account, not ten.
    fresh = "10.9.9.9"
    for _ in range(throttle.PASSWORD_PAIR_UNDER_ATTACK):
        with pytest.raises(Unauthorized):
            accounts.authenticate(
                db, email=victim.email, password="guess guess", client_key=fresh, now=now
            )
    with pytest.raises(TooManyRequests):
        accounts.authenticate(db, email=victim.email, password=PASSWORD, client_key=fresh, now=now)
    # The owner, from an address that has not been guessing, is let in.
    assert (
        accounts.authenticate(
            db, email=victim.email, password=PASSWORD, client_key=OWNER, now=now
        ).id
        == victim.id
    )


def test_ipv6_addresses_are_counted_per_64_network() -> None:
    assert throttle.address_bucket("2001:db8:1:2:aaaa::1") == throttle.address_bucket(
        "2001:db8:1:2:bbbb::9"
    )
    assert throttle.address_bucket("2001:db8:1:3::1") != throttle.address_bucket("2001:db8:1:2::1")
    assert throttle.address_bucket("192.0.2.1") == "192.0.2.1"
    assert throttle.address_bucket("") == "-"
