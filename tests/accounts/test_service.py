"""Accounts: Argon2id passwords, tokens (hashed, expiring, revocable, scoped), rate limits, TOTP."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts import service, throttle
from directory.accounts.models import ApiToken, AuthFailure
from directory.errors import TooManyRequests, Unauthorized, ValidationFailed
from tests.factories import PASSWORD, make_account, make_place


def test_password_is_argon2id_and_checked(db: Session) -> None:
    acc = make_account(db, "moderator", email="Taras@Example.org")
    assert acc.email == "taras@example.org"
    assert acc.password_hash.startswith("$argon2id$")
    assert service.authenticate(db, email="TARAS@example.org", password=PASSWORD).id == acc.id


def test_wrong_password_and_unknown_email_look_the_same(db: Session) -> None:
    make_account(db, email="known@example.org")
    with pytest.raises(Unauthorized) as a:
        service.authenticate(db, email="known@example.org", password="wrong password!")
    with pytest.raises(Unauthorized) as b:
        service.authenticate(db, email="nobody@example.org", password="wrong password!")
    assert a.value.detail == b.value.detail


def test_failed_sign_ins_are_rate_limited(db: Session) -> None:
    make_account(db, email="x@example.org")
    now = dt.datetime.now(dt.UTC)
    for _ in range(throttle.PASSWORD_PAIR.limit):
        with pytest.raises(Unauthorized):
            service.authenticate(db, email="x@example.org", password="nope nope nope", now=now)
    with pytest.raises(TooManyRequests) as err:
        service.authenticate(db, email="x@example.org", password=PASSWORD, now=now)
    assert 0 < err.value.retry_after <= 15 * 60 + 1
    # The window passes: the right password works again.
    later = now + throttle.WINDOW + dt.timedelta(seconds=1)
    assert service.authenticate(db, email="x@example.org", password=PASSWORD, now=later)
    # Stored keys are hashes, never the email.
    keys = db.scalars(select(AuthFailure.key)).all()
    assert keys and all("@" not in k and len(k) == 64 for k in keys)


def test_short_password_refused(db: Session) -> None:
    with pytest.raises(ValidationFailed):
        make_account(db, password="short")


def test_token_shown_once_stored_hashed_and_scoped(db: Session) -> None:
    acc = make_account(db, "volunteer")
    new = service.create_token(db, account=acc, expires_days=7)
    row = db.scalars(select(ApiToken).where(ApiToken.id == new.token.id)).one()
    assert new.secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    ident = service.account_for_token(db, secret=new.secret)
    assert ident.account.id == acc.id and ident.scopes == {"read", "write"}
    # The last-use stamp is left for after the unit of work (tests/accounts/test_token_stamp.py).
    assert ident.token.last_used_at is None and db.info["_after_unit_of_work"]
    with pytest.raises(ValidationFailed):
        service.create_token(db, account=acc, scopes=["moderate"])


def test_expired_revoked_and_disabled_tokens_refused(db: Session) -> None:
    acc = make_account(db)
    new = service.create_token(db, account=acc, expires_days=1)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    with pytest.raises(Unauthorized):
        service.account_for_token(db, secret=new.secret, now=later)
    service.set_disabled(db, account=acc)
    with pytest.raises(Unauthorized):
        service.account_for_token(db, secret=new.secret)
    service.set_disabled(db, account=acc, disabled=False)
    service.revoke_token(db, ref=new.token.prefix)
    with pytest.raises(Unauthorized):
        service.account_for_token(db, secret=new.secret)


def test_region_scope_includes_places_below(db: Session) -> None:
    country = make_place(db, name="Country", kind="country")
    kyiv = make_place(db, name="Kyiv region", parent=country)
    lviv = make_place(db, name="Lviv region", parent=country)
    vol = make_account(db, "volunteer", [kyiv])
    national = make_account(db, "moderator", [country])
    assert service.in_scope(db, vol, [kyiv.id])
    assert not service.in_scope(db, vol, [lviv.id])
    assert service.in_scope(db, national, [lviv.id])


def test_totp_enrolment_and_recovery_codes(db: Session) -> None:
    acc = make_account(db, "moderator")
    secret = service.new_totp_secret()
    uri = service.totp_uri(acc, secret)
    assert uri.startswith("otpauth://totp/") and "<svg" in service.totp_qr_svg(uri)
    with pytest.raises(ValidationFailed):
        service.enable_totp(db, account=acc, secret=secret, code="000000")
    now = dt.datetime.now(dt.UTC)
    codes = service.enable_totp(
        db, account=acc, secret=secret, code=pyotp.TOTP(secret).at(now), now=now
    )
    assert len(codes) == service.RECOVERY_CODE_COUNT
    later = now + dt.timedelta(seconds=30)
    service.verify_second_factor(db, account=acc, code=pyotp.TOTP(secret).at(later), now=later)
    service.verify_second_factor(db, account=acc, code=codes[0])
    with pytest.raises(Unauthorized):  # a recovery code works once
        service.verify_second_factor(db, account=acc, code=codes[0])
    assert service.needs_second_factor(acc)


def test_each_totp_code_is_accepted_once(db: Session) -> None:
    acc = make_account(db, "moderator")
    secret = service.new_totp_secret()
    totp = pyotp.TOTP(secret)
    now = dt.datetime.now(dt.UTC)
    enrol_code = totp.at(now)
    service.enable_totp(db, account=acc, secret=secret, code=enrol_code, now=now)
    with pytest.raises(Unauthorized):  # the enrolment code is spent
        service.verify_second_factor(db, account=acc, code=enrol_code, now=now)
    later = now + dt.timedelta(seconds=30)
    service.verify_second_factor(db, account=acc, code=totp.at(later), now=later)
    with pytest.raises(Unauthorized):  # one code, one sign-in
        service.verify_second_factor(db, account=acc, code=totp.at(later), now=later)
    with pytest.raises(Unauthorized):  # nor an older one still inside the clock-drift window
        service.verify_second_factor(db, account=acc, code=enrol_code, now=later)
    even_later = later + dt.timedelta(seconds=30)
    service.verify_second_factor(db, account=acc, code=totp.at(even_later), now=even_later)


def test_web_session_ends_on_sign_out_disable_and_password_change(db: Session) -> None:
    acc = make_account(db, "volunteer")
    life = dt.timedelta(hours=12)
    a = service.start_web_session(db, account=acc, lifetime=life)
    b = service.start_web_session(db, account=acc, lifetime=life)
    assert service.web_session_is_live(db, account_id=acc.id, secret=a)
    assert not service.web_session_is_live(db, account_id=acc.id, secret="forged")
    other = make_account(db, "volunteer")
    assert not service.web_session_is_live(db, account_id=other.id, secret=a)  # not theirs
    service.end_web_session(db, secret=a)
    assert not service.web_session_is_live(db, account_id=acc.id, secret=a)
    assert service.web_session_is_live(db, account_id=acc.id, secret=b)
    service.set_password(db, account=acc, password="another password 2")
    assert not service.web_session_is_live(db, account_id=acc.id, secret=b)
    c = service.start_web_session(db, account=acc, lifetime=life)
    service.set_disabled(db, account=acc, disabled=True)
    assert not service.web_session_is_live(db, account_id=acc.id, secret=c)
    d = service.start_web_session(db, account=acc, lifetime=dt.timedelta(minutes=10))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    assert not service.web_session_is_live(db, account_id=acc.id, secret=d, now=later)
