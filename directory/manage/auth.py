"""Who is asking: the session cookie turned into an account, CSRF checks, and role guards.

Every manage route depends on `ManageContext`: it validates the locale in the path, reads the
session cookie (re-checking the account: not disabled, password unchanged, session row not
ended by a sign-out), and for unsafe methods
checks the CSRF token. Guards raise `LoginRequired` (anonymous: redirect to the sign-in page) or
`NotAllowed` (signed in without the role: a localised 403 page); `ManageRoute` renders both.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from directory.accounts import service as accounts
from directory.accounts.models import Account, Role
from directory.config import UI_LOCALES, Settings
from directory.deps import DbSession, SettingsDep
from directory.i18n import set_locale
from directory.manage import csrf
from directory.manage import session as websession
from directory.manage.queries import load_account

ROLE_RANK = {Role.volunteer: 1, Role.moderator: 2, Role.admin: 3}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ManageError(Exception):
    """Base of the errors `ManageRoute` turns into pages."""


class LoginRequired(ManageError):
    """Anonymous (or expired session): redirect to the sign-in page, then back."""


class SecondFactorRequired(ManageError):
    """Password passed, second factor not (or not enrolled yet)."""


class NotAllowed(ManageError):
    """Signed in, but this page needs another role or region: 403. `message`: what to tell the
    person instead of the general sentence (already in their language)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "")
        self.message = message


class BadCsrf(ManageError):
    """A form posted without a valid CSRF token: 403 (and a fresh form to try again)."""


class PageNotFound(ManageError):
    """404 inside the manage app (unknown locale, listing, change request)."""


@dataclass
class ManageContext:
    """Everything a manage page needs to know about the request."""

    request: Request
    db: Session
    settings: Settings
    locale: str
    web: websession.WebSession
    account: Account | None = None
    #: A new session to send back (set at sign-in / sign-out / first visit).
    new_session: websession.WebSession | None = None
    clear_session: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def secret(self) -> str:
        return self.settings.secret_key or ""

    @property
    def csrf_token(self) -> str:
        return csrf.token_for((self.new_session or self.web).nonce, self.secret)

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true" and not self.request.headers.get(
            "hx-history-restore-request"
        )

    @property
    def role(self) -> Role | None:
        return self.account.role if self.account else None

    def has_role(self, role: Role) -> bool:
        return self.account is not None and ROLE_RANK[self.account.role] >= ROLE_RANK[role]

    def url(self, path: str = "") -> str:
        """An absolute path inside the manage app in the current locale."""
        return f"/{self.locale}/manage/{path.lstrip('/')}"

    def start_session(self, new: websession.WebSession) -> None:
        self.new_session = new
        self.web = new


def _needs_mfa(account: Account) -> bool:
    return ROLE_RANK[account.role] >= ROLE_RANK[Role.moderator]


async def manage_context(
    request: Request, db: DbSession, settings: SettingsDep, locale: str
) -> ManageContext:
    if locale not in UI_LOCALES:
        raise PageNotFound()
    set_locale(locale)
    secret = settings.secret_key or ""
    web = websession.read(request, secret)
    ctx = ManageContext(
        request=request, db=db, settings=settings, locale=locale, web=web or websession.anonymous()
    )
    if web is None:
        ctx.new_session = ctx.web  # first visit: a nonce for the sign-in form's CSRF token
    elif web.account_id is not None:
        account = load_account(db, web.account_id)
        if (
            account is None
            or account.disabled
            or websession.password_stamp(account.password_hash) != web.stamp
            or not accounts.web_session_is_live(db, account_id=account.id, secret=web.sid)
        ):
            ctx.start_session(websession.anonymous())
        else:
            ctx.account = account
    request.state.manage = ctx
    if request.method in UNSAFE_METHODS:
        form = await request.form()
        token = request.headers.get(csrf.HEADER) or form.get(csrf.FIELD)
        nonce = web.nonce if web else None
        if not csrf.is_valid(token if isinstance(token, str) else None, nonce, secret):
            raise BadCsrf()
    return ctx


Ctx = Annotated[ManageContext, Depends(manage_context)]


def _signed_in(ctx: ManageContext) -> Account:
    if ctx.account is None:
        raise LoginRequired()
    if _needs_mfa(ctx.account) and not ctx.web.mfa:
        raise SecondFactorRequired()
    return ctx.account


def require_volunteer(ctx: Ctx) -> ManageContext:
    _signed_in(ctx)
    return ctx


def require_moderator(ctx: Ctx) -> ManageContext:
    if not ctx.has_role(Role.moderator):
        _signed_in(ctx)
        raise NotAllowed()
    _signed_in(ctx)
    return ctx


def require_admin(ctx: Ctx) -> ManageContext:
    if not ctx.has_role(Role.admin):
        _signed_in(ctx)
        raise NotAllowed()
    _signed_in(ctx)
    return ctx


Volunteer = Annotated[ManageContext, Depends(require_volunteer)]
Moderator = Annotated[ManageContext, Depends(require_moderator)]
Admin = Annotated[ManageContext, Depends(require_admin)]


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise PageNotFound() from None
