"""Admins over the API: accounts, their tokens, the trusted-volunteers setting."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool
from sqlalchemy.orm import Session

from directory.accounts import service as accounts
from directory.accounts.models import Account
from directory.api.auth import Admin, ApiSession, IfMatch, etag
from directory.api.schemas import Email, Locale, Strict
from directory.api.writes import _PROBLEMS
from directory.deps import SettingsDep
from directory.errors import NotFound
from directory.textinput import SafeLine, line

router = APIRouter(prefix="/admin", tags=["admin"], responses=_PROBLEMS)

RoleName = Literal["volunteer", "moderator", "admin"]
Scope = Literal["read", "write", "moderate", "admin"]


class AccountIn(Strict):
    email: Email
    password: Annotated[str, Field(min_length=10, max_length=1024)]
    role: RoleName = "volunteer"
    display_name: SafeLine = ""
    locale: Locale = "en"
    region_ids: Annotated[list[uuid.UUID], Field(max_length=50)] = []
    trusted: StrictBool = False


class AccountPatch(Strict):
    disabled: StrictBool | None = None
    trusted: StrictBool | None = None
    role: RoleName | None = None
    region_ids: Annotated[list[uuid.UUID], Field(max_length=50)] | None = None


class AccountOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    role: str
    locale: str
    regions: list[uuid.UUID]
    disabled: bool
    trusted: bool
    second_factor: bool
    version: int


class TokenIn(Strict):
    name: Annotated[str, line(100), Field(max_length=100)] = ""
    expires_days: Annotated[int, Field(ge=1, le=3650)] = 90
    scopes: Annotated[list[Scope], Field(max_length=4)] | None = None


class TokenOut(BaseModel):
    id: uuid.UUID
    prefix: str
    name: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    secret: str | None = Field(None, description="only in the answer that creates it")


class SettingsIn(Strict):
    trusted_volunteers_publish: StrictBool


def _account_out(session: Session, a: Account) -> dict[str, Any]:
    return AccountOut(
        id=a.id,
        email=a.email,
        display_name=a.display_name,
        role=a.role.value,
        locale=a.locale,
        regions=sorted(accounts.region_ids(session, a)),
        disabled=a.disabled,
        trusted=a.trusted,
        second_factor=a.totp_enabled_at is not None,
        version=a.version,
    ).model_dump(mode="json")


def _get(session: Session, account_id: uuid.UUID) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("No such account")
    return account


AccountId = Annotated[uuid.UUID, Path()]
NOSTORE = {"Cache-Control": "no-store"}


@router.get("/accounts", response_model=list[AccountOut], summary="All accounts")
def list_accounts(ident: Admin, session: ApiSession) -> JSONResponse:
    return JSONResponse(
        [_account_out(session, a) for a in accounts.list_accounts(session)], headers=NOSTORE
    )


@router.post("/accounts", response_model=AccountOut, status_code=201, summary="Create an account")
def create_account(body: AccountIn, ident: Admin, session: ApiSession) -> JSONResponse:
    a = accounts.create_account(
        session,
        email=body.email,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
        locale=body.locale,
        region_ids=body.region_ids,
        trusted=body.trusted,
    )
    return JSONResponse(
        _account_out(session, a),
        status_code=201,
        headers={**NOSTORE, "ETag": etag(a.version), "Location": f"/api/v1/admin/accounts/{a.id}"},
    )


@router.get("/accounts/{account_id}", response_model=AccountOut, summary="One account")
def get_account(account_id: AccountId, ident: Admin, session: ApiSession) -> JSONResponse:
    a = _get(session, account_id)
    return JSONResponse(_account_out(session, a), headers={**NOSTORE, "ETag": etag(a.version)})


@router.patch(
    "/accounts/{account_id}",
    response_model=AccountOut,
    summary="Disable, trust, change role or regions (If-Match required)",
)
def update_account(
    account_id: AccountId, body: AccountPatch, ident: Admin, version: IfMatch, session: ApiSession
) -> JSONResponse:
    a = accounts.update_account(
        session,
        actor=ident.account,
        account=_get(session, account_id),
        base_version=version,
        disabled=body.disabled,
        trusted=body.trusted,
        role=body.role,
        region_ids=body.region_ids,
    )
    return JSONResponse(_account_out(session, a), headers={**NOSTORE, "ETag": etag(a.version)})


def _token_out(t: Any, secret: str | None = None) -> dict[str, Any]:
    return TokenOut(
        id=t.id,
        prefix=t.prefix,
        name=t.name,
        scopes=t.scopes.split(),
        created_at=t.created_at,
        expires_at=t.expires_at,
        last_used_at=t.last_used_at,
        revoked_at=t.revoked_at,
        secret=secret,
    ).model_dump(mode="json", exclude={"secret"} if secret is None else None)


@router.get(
    "/accounts/{account_id}/tokens",
    response_model=list[TokenOut],
    summary="An account's tokens (never their secrets)",
)
def list_tokens(account_id: AccountId, ident: Admin, session: ApiSession) -> JSONResponse:
    rows = accounts.list_tokens(session, account=_get(session, account_id))
    return JSONResponse([_token_out(t) for t in rows], headers=NOSTORE)


@router.post(
    "/accounts/{account_id}/tokens",
    response_model=TokenOut,
    status_code=201,
    summary="Create a token; its secret is in this answer only",
)
def create_token(
    account_id: AccountId, body: TokenIn, ident: Admin, session: ApiSession
) -> JSONResponse:
    new = accounts.create_token(
        session,
        account=_get(session, account_id),
        name=body.name,
        expires_days=body.expires_days,
        scopes=body.scopes,
    )
    return JSONResponse(_token_out(new.token, new.secret), status_code=201, headers=NOSTORE)


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut, summary="Revoke a token")
def revoke_token(token_id: uuid.UUID, ident: Admin, session: ApiSession) -> JSONResponse:
    t = accounts.revoke_token(session, ref=str(token_id))
    return JSONResponse(_token_out(t), headers=NOSTORE)


@router.get("/settings", response_model=SettingsIn, summary="Runtime settings")
def get_settings(ident: Admin, session: ApiSession, settings: SettingsDep) -> JSONResponse:
    value = accounts.trusted_volunteers_publish(
        session, default=settings.trusted_volunteers_publish
    )
    return JSONResponse({"trusted_volunteers_publish": value}, headers=NOSTORE)


@router.post(
    "/settings",
    response_model=SettingsIn,
    summary="Change runtime settings (trusted volunteers publish status/capacity)",
)
def set_settings(body: SettingsIn, ident: Admin, session: ApiSession) -> JSONResponse:
    accounts.set_trusted_volunteers_publish(
        session, actor=ident.account, value=body.trusted_volunteers_publish
    )
    return JSONResponse(
        {"trusted_volunteers_publish": body.trusted_volunteers_publish}, headers=NOSTORE
    )
