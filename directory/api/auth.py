"""Who is calling: bearer tokens, roles and scopes, as typed FastAPI dependencies; If-Match."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from directory.accounts import service as accounts
from directory.accounts.models import Role
from directory.accounts.service import TokenIdentity
from directory.api.problems import PreconditionRequired
from directory.deps import DbSession
from directory.errors import Forbidden, Unauthorized


def api_session(session: DbSession) -> Iterator[Session]:
    """The request's session; a failed authentication is still committed, so that the
    failure counts towards the rate limit in every worker."""
    try:
        yield session
    except Unauthorized:
        session.commit()
        raise


ApiSession = Annotated[Session, Depends(api_session, scope="function")]


def client_key(request: Request) -> str:
    # Only ever stored inside a keyed hash (accounts.throttle), never logged.
    return request.client.host if request.client else "unknown"


def optional_identity(request: Request, session: ApiSession) -> TokenIdentity | None:
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send the token as: Authorization: Bearer <token>")
    return accounts.account_for_token(
        session, secret=secret.strip(), client_key=client_key(request)
    )


OptionalIdentity = Annotated[TokenIdentity | None, Depends(optional_identity)]


def require_identity(ident: OptionalIdentity) -> TokenIdentity:
    if ident is None:
        raise Unauthorized("This needs a token: Authorization: Bearer <token>")
    return ident


Identity = Annotated[TokenIdentity, Depends(require_identity)]


def require_writer(ident: Identity) -> TokenIdentity:
    if not ident.has("write"):
        raise Forbidden("This token does not have the write scope")
    return ident


def require_moderator(ident: Identity) -> TokenIdentity:
    if ident.account.role not in (Role.moderator, Role.admin):
        raise Forbidden("Only moderators and admins may do this")
    if not ident.has("moderate"):
        raise Forbidden("This token does not have the moderate scope")
    return ident


def require_admin(ident: Identity) -> TokenIdentity:
    if ident.account.role != Role.admin or not ident.has("admin"):
        raise Forbidden("Only admins may do this")
    return ident


Writer = Annotated[TokenIdentity, Depends(require_writer)]
Moderator = Annotated[TokenIdentity, Depends(require_moderator)]
Admin = Annotated[TokenIdentity, Depends(require_admin)]

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def require_if_match(request: Request) -> int:
    """The version the client read (its ETag). Missing → 428; it is compared by the service
    (stale → 412 with the current version)."""
    value = request.headers.get("if-match")
    if value is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag you read, so that no update is lost"
        )
    match = _ETAG.match(value.split(",")[0])
    if not match:
        raise PreconditionRequired('If-Match must be the ETag you read, e.g. If-Match: "3"')
    return int(match.group(1))


IfMatch = Annotated[int, Depends(require_if_match)]


def etag(version: int) -> str:
    return f'"{version}"'
