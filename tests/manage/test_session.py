"""The session cookie and CSRF token: forged, expired or stale cookies are refused."""

from __future__ import annotations

import time
import uuid

from directory.manage import csrf
from directory.manage import session as websession

SECRET = "s" * 40


def test_round_trip_signed_in() -> None:
    account = uuid.uuid4()
    s = websession.signed_in(account, "$argon2id$hash", mfa=True, sid="row-secret")
    back = websession.decode(websession.encode(s, SECRET), SECRET)
    assert back is not None
    assert back.account_id == account and back.mfa and back.nonce == s.nonce
    assert back.sid == "row-secret"
    assert back.stamp == websession.password_stamp("$argon2id$hash")
    assert "argon2" not in websession.encode(s, SECRET)  # the hash itself never leaves


def test_forged_or_other_secret_refused() -> None:
    value = websession.encode(
        websession.signed_in(uuid.uuid4(), "h", mfa=True, sid="row-secret"), SECRET
    )
    assert websession.decode(value, "other" * 10) is None
    assert websession.decode(value[:-2] + "xx", SECRET) is None
    assert websession.decode("garbage", SECRET) is None


def test_expired_session_refused(monkeypatch) -> None:
    value = websession.encode(
        websession.signed_in(uuid.uuid4(), "h", mfa=True, sid="row-secret"), SECRET
    )
    later = time.time() + websession.SESSION_MAX_AGE + 10
    monkeypatch.setattr(time, "time", lambda: later)
    assert websession.decode(value, SECRET) is None


def test_pending_second_factor_is_short_lived(monkeypatch) -> None:
    value = websession.encode(
        websession.signed_in(uuid.uuid4(), "h", mfa=False, sid="row-secret"), SECRET
    )
    assert websession.decode(value, SECRET).account_id is not None  # type: ignore[union-attr]
    later = time.time() + websession.PENDING_MAX_AGE + 10
    monkeypatch.setattr(time, "time", lambda: later)
    back = websession.decode(value, SECRET)
    assert back is not None and back.account_id is None


def test_csrf_token_tied_to_nonce() -> None:
    token = csrf.token_for("nonce-a", SECRET)
    assert csrf.is_valid(token, "nonce-a", SECRET)
    assert not csrf.is_valid(token, "nonce-b", SECRET)
    assert not csrf.is_valid("", "nonce-a", SECRET)
    assert not csrf.is_valid(token, None, SECRET)


def test_cookie_naming_no_session_row_is_anonymous() -> None:
    # e.g. issued before sessions were rows: it claims an account but names no row
    old = websession.WebSession(
        nonce="n", account_id=uuid.uuid4(), stamp="x", mfa=True, issued=int(time.time())
    )
    back = websession.decode(websession.encode(old, SECRET), SECRET)
    assert back is not None and back.account_id is None and back.nonce == "n"
