"""Admin pages: users (create, role, regions, disable, reset password), API tokens and taxonomy
labels. (Notices are posted by moderators too: `notice_routes`.)"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from directory.accounts import service as accounts
from directory.accounts.models import Role
from directory.config import UI_LOCALES
from directory.errors import DomainError, NotFound, ValidationFailed
from directory.i18n import gettext as _
from directory.manage import queries
from directory.manage.auth import Admin, ManageContext, PageNotFound, parse_id
from directory.manage.errors import error_messages
from directory.manage.render import ManageRoute, page, redirect
from directory.moderation.category_labels import relabel_category

router = APIRouter(route_class=ManageRoute)


# --- users ------------------------------------------------------------------------------------


def _users_page(ctx: ManageContext, *, status_code: int = 200, **values: Any) -> Response:
    values.setdefault("errors", {})
    values.setdefault("typed", {})
    values.setdefault("new_password", None)
    return page(
        ctx,
        "manage/users.html",
        status_code=status_code,
        users=accounts.list_accounts(ctx.db),
        regions=queries.regions(ctx.db, ctx.locale),
        roles=list(Role),
        **values,
    )


@router.get("/users", name="manage_users")
def users(ctx: Admin) -> Response:
    return _users_page(ctx)


def _temporary_password() -> str:
    # Read aloud or sent over a trusted channel; changed by the person after signing in.
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


@router.post("/users")
def create_user(
    ctx: Admin,
    email: Annotated[str, Form(max_length=254)] = "",
    display_name: Annotated[str, Form(max_length=120)] = "",
    role: Annotated[str, Form(max_length=20)] = "volunteer",
    region: Annotated[list[str] | None, Form()] = None,
) -> Response:
    typed = {"email": email, "display_name": display_name, "role": role, "region": region or []}
    password = _temporary_password()
    try:
        ids = [parse_id(r) for r in region or [] if r]
        account = accounts.create_account(
            ctx.db,
            email=email,
            password=password,
            role=role,
            display_name=display_name,
            locale=ctx.locale,
            region_ids=ids,
        )
    except ValidationFailed as exc:
        return _users_page(ctx, status_code=422, errors=error_messages(exc), typed=typed)
    return _users_page(ctx, new_password=(account.email, password), done_now="user-created")


@router.post("/users/{account_id}")
def update_user(
    ctx: Admin,
    account_id: str,
    action: Annotated[str, Form(max_length=20)] = "save",
    role: Annotated[str, Form(max_length=20)] = "",
    trusted: Annotated[str, Form(max_length=5)] = "",
    region: Annotated[list[str] | None, Form()] = None,
) -> Response:
    assert ctx.account is not None
    try:
        target = accounts.get_account(ctx.db, parse_id(account_id))
    except NotFound:
        raise PageNotFound() from None
    new_password = None
    try:
        if action in ("disable", "enable"):
            accounts.update_account(
                ctx.db, actor=ctx.account, account=target, disabled=action == "disable"
            )
        elif action == "reset":
            password = _temporary_password()
            accounts.set_password(ctx.db, account=target, password=password)
            accounts.disable_totp(ctx.db, account=target)  # they enrol again at the next sign-in
            new_password = (target.email, password)
        else:
            accounts.update_account(
                ctx.db,
                actor=ctx.account,
                account=target,
                role=role or None,
                trusted=trusted == "1",
                region_ids=[parse_id(r) for r in region or [] if r],
            )
    except ValidationFailed as exc:
        return _users_page(ctx, status_code=422, errors=error_messages(exc))
    return _users_page(ctx, new_password=new_password, done_now="user-saved")


# --- API tokens -------------------------------------------------------------------------------


@router.get("/tokens", name="manage_tokens")
def tokens(ctx: Admin) -> Response:
    return _tokens_page(ctx)


def _tokens_page(ctx: ManageContext, *, status_code: int = 200, **values: Any) -> Response:
    values.setdefault("errors", {})
    values.setdefault("secret", None)
    users = accounts.list_accounts(ctx.db)
    return page(
        ctx,
        "manage/tokens.html",
        status_code=status_code,
        tokens=accounts.list_tokens(ctx.db),
        users=users,
        emails={u.id: u.email for u in users},
        now=dt.datetime.now(dt.UTC),
        **values,
    )


@router.post("/tokens")
def create_token(
    ctx: Admin,
    account_id: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    expires_days: Annotated[str, Form(max_length=5)] = "90",
) -> Response:
    try:
        owner = accounts.get_account(ctx.db, parse_id(account_id))
        days = int(expires_days) if expires_days.strip() else 90
        new = accounts.create_token(ctx.db, account=owner, name=name, expires_days=days)
    except (NotFound, PageNotFound, ValueError, ValidationFailed):
        return _tokens_page(
            ctx, status_code=422, errors={"form": _("Please check the highlighted fields.")}
        )
    return _tokens_page(ctx, secret=new.secret)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(ctx: Admin, token_id: str) -> Response:
    try:
        accounts.revoke_token(ctx.db, ref=str(parse_id(token_id)))
    except DomainError:
        raise PageNotFound() from None
    return redirect(ctx, "tokens", done="token-revoked")


# --- taxonomy labels --------------------------------------------------------------------------


@router.get("/taxonomy", name="manage_taxonomy")
def taxonomy(ctx: Admin) -> Response:
    return page(
        ctx, "manage/taxonomy.html", terms=queries.taxonomy_labels(ctx.db), locales=UI_LOCALES
    )


@router.post("/taxonomy/{term_id}")
async def save_label(request: Request, ctx: Admin, term_id: str) -> Response:
    form = await request.form()
    assert ctx.account is not None
    labels = {loc: str(form.get(f"name_{loc}", "")).strip()[:200] for loc in UI_LOCALES}
    try:
        relabel_category(ctx.db, actor=ctx.account, term_id=parse_id(term_id), labels=labels)
    except NotFound:
        raise PageNotFound() from None
    except ValidationFailed as exc:
        return page(
            ctx,
            "manage/taxonomy.html",
            status_code=422,
            terms=queries.taxonomy_labels(ctx.db),
            locales=UI_LOCALES,
            errors=error_messages(exc),
        )
    return redirect(ctx, "taxonomy", done="label-saved")
