"""Sign-in (password, then TOTP for moderators and admins, with enrolment), sign-out, password."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from directory.accounts import service as accounts
from directory.accounts.models import Account
from directory.errors import TooManyRequests, Unauthorized, ValidationFailed
from directory.manage import session as websession
from directory.manage.auth import Ctx, LoginRequired, ManageContext, Volunteer
from directory.manage.render import ManageRoute, page, redirect

router = APIRouter(route_class=ManageRoute)
_ENROL_SALT = "aid-directory.manage.totp-enrol"
_ENROL_MAX_AGE = 15 * 60


def safe_next(ctx: ManageContext, value: str | None) -> str:
    """Where to go after signing in: only a page of this manage app (no open redirect)."""
    if (
        value
        and value.startswith(f"/{ctx.locale}/manage/")
        and "//" not in value
        and "\\" not in value
    ):
        return value
    return ctx.url()


def client_key(ctx: ManageContext) -> str:
    # Used only inside a keyed hash for the sign-in throttle, never stored or logged in clear.
    return ctx.request.client.host if ctx.request.client else ""


@router.get("/login", name="manage_login")
def login_form(ctx: Ctx, next: str = "") -> Response:
    if ctx.account is not None and ctx.web.mfa:
        return redirect(ctx, safe_next(ctx, next))
    return page(ctx, "manage/login.html", next=next, email="", error="")


@router.post("/login")
def login(
    ctx: Ctx,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        account = accounts.authenticate(
            ctx.db, email=email, password=password, client_key=client_key(ctx)
        )
    except TooManyRequests as exc:
        response = page(
            ctx, "manage/login.html", status_code=429, next=next, email=email, error="rate"
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthorized:
        return page(
            ctx, "manage/login.html", status_code=401, next=next, email=email, error="wrong"
        )
    needs_mfa = accounts.needs_second_factor(account, demo=ctx.settings.demo)
    sid = _new_row(ctx, account, pending=needs_mfa)
    ctx.start_session(
        websession.signed_in(account.id, account.password_hash, mfa=not needs_mfa, sid=sid)
    )
    if needs_mfa:
        step = "login/second-factor" if account.totp_secret else "login/enrol"
        return redirect(ctx, step, **({"next": next} if next else {}))
    return redirect(ctx, safe_next(ctx, next))


def _new_row(ctx: ManageContext, account: Account, *, pending: bool = False) -> str:
    """A new session row (a half-finished sign-in lives only as long as its cookie may)."""
    seconds = websession.PENDING_MAX_AGE if pending else websession.SESSION_MAX_AGE
    return accounts.start_web_session(
        ctx.db, account=account, lifetime=dt.timedelta(seconds=seconds)
    )


def _pass_second_factor(ctx: ManageContext) -> None:
    """The second factor passed: the pending session row is replaced by a full one."""
    assert ctx.account is not None
    accounts.end_web_session(ctx.db, secret=ctx.web.sid)
    ctx.start_session(websession.with_mfa(ctx.web, sid=_new_row(ctx, ctx.account)))


def _pending(ctx: ManageContext) -> None:
    if ctx.account is None:
        raise LoginRequired()


@router.get("/login/second-factor", name="manage_second_factor")
def second_factor_form(ctx: Ctx, next: str = "") -> Response:
    _pending(ctx)
    assert ctx.account is not None
    if not ctx.account.totp_secret:
        return redirect(ctx, "login/enrol")
    return page(ctx, "manage/second_factor.html", next=next, error="")


@router.post("/login/second-factor")
def second_factor(
    ctx: Ctx,
    code: Annotated[str, Form(max_length=40)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    _pending(ctx)
    assert ctx.account is not None
    try:
        accounts.verify_second_factor(ctx.db, account=ctx.account, code=code)
    except TooManyRequests as exc:
        response = page(ctx, "manage/second_factor.html", status_code=429, next=next, error="rate")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthorized:
        return page(ctx, "manage/second_factor.html", status_code=401, next=next, error="wrong")
    _pass_second_factor(ctx)
    return redirect(ctx, safe_next(ctx, next))


def _enrol_signer(ctx: ManageContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.secret, salt=_ENROL_SALT)


def _enrol_page(ctx: ManageContext, secret: str, *, error: str = "", status: int = 200) -> Response:
    assert ctx.account is not None
    uri = accounts.totp_uri(ctx.account, secret)
    return page(
        ctx,
        "manage/enrol.html",
        status_code=status,
        qr_svg=accounts.totp_qr_svg(uri),
        otpauth_uri=uri,  # a phone enrols itself: the link opens its authenticator app
        secret=secret,
        signed_secret=_enrol_signer(ctx).dumps([str(ctx.account.id), secret]),
        error=error,
    )


@router.get("/login/enrol", name="manage_enrol")
def enrol_form(ctx: Ctx) -> Response:
    _pending(ctx)
    assert ctx.account is not None
    if ctx.account.totp_secret and not ctx.web.mfa:
        return redirect(ctx, "login/second-factor")
    return _enrol_page(ctx, accounts.new_totp_secret())


@router.post("/login/enrol")
def enrol(
    ctx: Ctx,
    signed_secret: Annotated[str, Form(max_length=500)] = "",
    code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    _pending(ctx)
    assert ctx.account is not None
    if ctx.account.totp_secret and not ctx.web.mfa:
        return redirect(ctx, "login/second-factor")
    try:
        owner, secret = _enrol_signer(ctx).loads(signed_secret, max_age=_ENROL_MAX_AGE)
    except (BadSignature, ValueError):
        return _enrol_page(ctx, accounts.new_totp_secret(), error="expired", status=400)
    if owner != str(ctx.account.id):
        return _enrol_page(ctx, accounts.new_totp_secret(), error="expired", status=400)
    try:
        codes = accounts.enable_totp(ctx.db, account=ctx.account, secret=secret, code=code)
    except ValidationFailed:
        return _enrol_page(ctx, secret, error="wrong", status=422)
    _pass_second_factor(ctx)
    return page(ctx, "manage/recovery_codes.html", codes=codes)


@router.post("/logout", name="manage_logout")
def logout(ctx: Ctx) -> Response:
    # The row goes: a copy of this cookie (and its CSRF token) is refused from now on.
    if ctx.account is not None:
        accounts.end_web_session(ctx.db, secret=ctx.web.sid)
    ctx.start_session(websession.anonymous())
    return redirect(ctx, "login", done="signed-out")


@router.get("/password", name="manage_password")
def password_form(ctx: Volunteer) -> Response:
    return page(ctx, "manage/password.html", error="")


@router.post("/password")
def change_password(
    ctx: Volunteer,
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
    repeat: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    account = ctx.account
    assert account is not None
    if not accounts.verify_password(account.password_hash, current):
        return page(ctx, "manage/password.html", status_code=422, error="current")
    if new != repeat:
        return page(ctx, "manage/password.html", status_code=422, error="repeat")
    try:
        accounts.set_password(ctx.db, account=account, password=new)
    except ValidationFailed:
        return page(ctx, "manage/password.html", status_code=422, error="short")
    # Every session of this account ended with the change; this browser gets a new one.
    ctx.start_session(
        websession.signed_in(
            account.id, account.password_hash, mfa=True, sid=_new_row(ctx, account)
        )
    )
    return redirect(ctx, "", done="password")
