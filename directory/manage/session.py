"""Web sessions of the manage app: a signed, HttpOnly, SameSite=Lax cookie naming a session row.

The cookie is signed (nothing in it can be changed), and what it claims is checked against the
database on every request:

- `i` the secret of a session row (`accounts.models.AccountSession`, only its hash is stored):
  signing out deletes the row, so a copy of the cookie kept from before (with the CSRF token of
  its pages) is refused from then on; a password change or disabling the account deletes all
  of the account's rows;
- `a` the account id, `s` a stamp derived from its password hash — changing or resetting the
  password changes the stamp too (a second, stateless line); a disabled account is refused on
  its next request;
- `m` whether the second factor was passed (moderators and admins need it for every page);
- `n` a random nonce the CSRF token is derived from (rotated at sign-in and sign-out, so a token
  seen before sign-in is useless after it);
- `t` the time of issue: the signature carries its own timestamp and the cookie expires after
  `SESSION_MAX_AGE` no matter what the browser does (a pending second-factor step after
  `PENDING_MAX_AGE`).

Anonymous visitors of the sign-in page get a nonce-only cookie, so the sign-in form is
CSRF-protected too. Readers of the public site never receive this cookie.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE_NAME = "aid_manage"
SESSION_MAX_AGE = 12 * 3600  # a working day; then sign in again
PENDING_MAX_AGE = 10 * 60  # between the password and the second factor
_SALT = "aid-directory.manage.session"


@dataclass(frozen=True)
class WebSession:
    """What the session cookie says. `account_id` is None for an anonymous visitor."""

    nonce: str
    account_id: uuid.UUID | None = None
    stamp: str = ""
    mfa: bool = False
    issued: int = 0
    sid: str = ""  # the session row's secret

    @property
    def signed_in(self) -> bool:
        return self.account_id is not None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"n": self.nonce, "t": self.issued}
        if self.account_id is not None:
            data |= {"a": self.account_id.hex, "s": self.stamp, "m": self.mfa, "i": self.sid}
        return data


def password_stamp(password_hash: str) -> str:
    """A short fingerprint of the password hash (never the hash itself) bound into the cookie."""
    return hashlib.sha256(("stamp:" + password_hash).encode()).hexdigest()[:16]


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def anonymous() -> WebSession:
    return WebSession(nonce=new_nonce(), issued=int(time.time()))


def signed_in(account_id: uuid.UUID, password_hash: str, *, mfa: bool, sid: str) -> WebSession:
    """A fresh session for an account (new nonce: defeats session fixation). `sid` is the
    secret of its session row (`accounts.service.start_web_session`)."""
    return WebSession(
        nonce=new_nonce(),
        account_id=account_id,
        stamp=password_stamp(password_hash),
        mfa=mfa,
        issued=int(time.time()),
        sid=sid,
    )


def with_mfa(session: WebSession, *, sid: str) -> WebSession:
    """The same sign-in after a passed second factor (new session row, nonce and lifetime)."""
    return replace(session, mfa=True, nonce=new_nonce(), issued=int(time.time()), sid=sid)


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def encode(session: WebSession, secret: str) -> str:
    return _serializer(secret).dumps(session.to_dict())


def decode(value: str, secret: str) -> WebSession | None:
    """The session in a cookie value, or None when it is forged, malformed or expired."""
    try:
        data = _serializer(secret).loads(value, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        return None
    issued = data.get("t")
    if not isinstance(issued, int):
        return None
    account = data.get("a")
    if account is None:
        return WebSession(nonce=data["n"], issued=issued)
    try:
        account_id = uuid.UUID(hex=str(account))
    except ValueError:
        return None
    sid = data.get("i")
    if not isinstance(sid, str) or not sid:
        return WebSession(nonce=data["n"], issued=issued)  # names no session row
    mfa = bool(data.get("m"))
    if not mfa and time.time() - issued > PENDING_MAX_AGE:
        # A half-finished sign-in (password passed, second factor not) is short-lived.
        return WebSession(nonce=data["n"], issued=issued)
    return WebSession(
        nonce=data["n"],
        account_id=account_id,
        stamp=str(data.get("s", "")),
        mfa=mfa,
        issued=issued,
        sid=sid,
    )


def read(request: Request, secret: str) -> WebSession | None:
    value = request.cookies.get(COOKIE_NAME)
    return decode(value, secret) if value else None


def write(response: Response, session: WebSession, secret: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE_NAME,
        encode(session, secret),
        max_age=SESSION_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def clear(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=secure)
