"""Accounts: create people, check passwords and tokens, second factor, region scopes.

UI-agnostic (no FastAPI): the API, the manage app and the CLI call these. Services take the
session first, keyword-only arguments after, and never commit.

Passwords: Argon2id (argon2-cffi). API tokens: `aid_` + 43 random characters, shown once, stored
as SHA-256; they expire, can be revoked, carry scopes and record when they were last used.
Failed authentication is counted in `auth_failure` (shared by every worker) and throttled by
what is being guessed (`throttle`); no answer reveals whether an email exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, partial

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import ColumnElement, Connection, Engine, delete, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload

from directory.accounts import throttle
from directory.accounts.models import (
    Account,
    AccountRegion,
    AccountSession,
    ApiToken,
    RecoveryCode,
    Role,
    Setting,
)
from directory.db import after_unit_of_work, utcnow
from directory.errors import (
    Forbidden,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationFailed,
    field_error,
)
from directory.listings.models import Locale, Place
from directory.listings.tree import lineage, parents_in

#: Argon2id with the library's (RFC 9106 low-memory) defaults.
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so both paths cost the same time. Made on first use:
    hashing at import cost every command line (an export, a migration) 0.3 s of CPU and the
    64 MiB Argon2 buffer in its peak memory."""
    return _hasher.hash("not a real password " + secrets.token_hex(8))


TOKEN_PREFIX = "aid_"  # noqa: S105 (a label, not a secret)
PREFIX_LENGTH = 12  # "aid_" + 8 characters, shown in lists to recognise a token
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024

#: Token scopes. A token can never do more than its account's role allows.
SCOPES = ("read", "write", "moderate", "admin")
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.volunteer: frozenset({"read", "write"}),
    Role.moderator: frozenset({"read", "write", "moderate"}),
    Role.admin: frozenset(SCOPES),
}

TOTP_ISSUER = "aid-directory"
RECOVERY_CODE_COUNT = 10

TRUSTED_PUBLISH_SETTING = "trusted_volunteers_publish"

#: The demo accounts' domain (RFC 2606: can never be a real address); see directory.demo.accounts.
DEMO_EMAIL_DOMAIN = "demo.invalid"


# --- passwords ------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Argon2id hash of `password` (refuses passwords that are too short or too long)."""
    check_password_strength(password)
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            [
                field_error(
                    "password",
                    "too_short",
                    f"must be at least {MIN_PASSWORD_LENGTH} characters",
                    min=MIN_PASSWORD_LENGTH,
                )
            ]
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            [
                field_error(
                    "password",
                    "too_long",
                    f"must be at most {MAX_PASSWORD_LENGTH} characters",
                    max=MAX_PASSWORD_LENGTH,
                )
            ]
        )


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def _check_email(email: str) -> str:
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise ValidationFailed(
            [{"path": "email", "code": "bad_email", "message": "is not a valid email address"}]
        )
    return email


# --- accounts ---------------------------------------------------------------------------------


def create_account(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role | str = Role.volunteer,
    display_name: str = "",
    locale: str = "en",
    region_codes: Sequence[str] = (),
    region_ids: Sequence[uuid.UUID] = (),
    trusted: bool = False,
    password_hash: str | None = None,
) -> Account:
    """Create an account. Regions are place codes (e.g. `UA-30`) or ids; none = not limited.
    `password_hash` (an Argon2id hash, e.g. when moving accounts) replaces `password`."""
    email = _check_email(email)
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed(
            [{"path": "role", "message": "must be volunteer, moderator or admin"}]
        ) from None
    if session.get(Locale, locale) is None:
        raise ValidationFailed(
            [{"path": "locale", "code": "unknown_locale", "message": f"unknown locale {locale!r}"}]
        )
    if session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise ValidationFailed(
            [
                {
                    "path": "email",
                    "code": "email_taken",
                    "message": "an account with this email exists",
                }
            ]
        )
    places = resolve_regions(session, codes=region_codes, ids=region_ids)
    account = Account(
        email=email,
        display_name=(display_name.strip() or email.split("@")[0])[:120],
        locale=locale,
        role=role,
        password_hash=_given_hash(password_hash) if password_hash else hash_password(password),
        password_changed_at=utcnow(),
        trusted=trusted,
    )
    account.regions = [AccountRegion(place_id=p.id) for p in places]
    session.add(account)
    session.flush()
    return account


def _given_hash(value: str) -> str:
    if not value.startswith("$argon2id$"):
        raise ValidationFailed([{"path": "password_hash", "message": "must be an Argon2id hash"}])
    return value


def resolve_regions(
    session: Session, *, codes: Sequence[str] = (), ids: Sequence[uuid.UUID] = ()
) -> list[Place]:
    places: list[Place] = []
    for code in codes:
        place = session.scalar(select(Place).where(Place.code == code))
        if place is None:
            raise ValidationFailed([{"path": "regions", "message": f"unknown region {code!r}"}])
        places.append(place)
    for pid in ids:
        place = session.get(Place, pid)
        if place is None:
            raise ValidationFailed([{"path": "regions", "message": f"unknown region {pid}"}])
        places.append(place)
    return places


def get_account(session: Session, account_id: uuid.UUID) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("No such account")
    return account


def get_account_by_email(session: Session, *, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email == normalise_email(email)))


def list_accounts(session: Session, *, include_disabled: bool = True) -> list[Account]:
    stmt = select(Account).options(selectinload(Account.regions)).order_by(Account.email)
    if not include_disabled:
        stmt = stmt.where(Account.disabled.is_(False))
    return list(session.scalars(stmt))


def set_disabled(session: Session, *, account: Account, disabled: bool = True) -> Account:
    """Disable (or re-enable) an account; a disabled account's tokens stop working at once and
    its web sessions end (re-enabling does not bring them back)."""
    account.disabled = disabled
    if disabled:
        end_web_sessions(session, account=account)
    session.flush()
    return account


def set_password(session: Session, *, account: Account, password: str) -> None:
    """Set a new password; every web session of the account ends (sign in again)."""
    account.password_hash = hash_password(password)
    account.password_changed_at = utcnow()
    end_web_sessions(session, account=account)
    session.flush()


# --- web sessions -----------------------------------------------------------------------------


def _session_id(secret: str) -> str:
    return hashlib.sha256(("session:" + secret).encode()).hexdigest()


def start_web_session(
    session: Session, *, account: Account, lifetime: dt.timedelta, now: dt.datetime | None = None
) -> str:
    """Record a new signed-in session and return its secret (for the cookie; only its hash is
    stored). Sessions past their end are cleared on the way."""
    now = now or utcnow()
    session.execute(delete(AccountSession).where(AccountSession.expires_at <= now))
    secret = secrets.token_urlsafe(32)
    session.add(
        AccountSession(
            id=_session_id(secret), account_id=account.id, created_at=now, expires_at=now + lifetime
        )
    )
    session.flush()
    return secret


def web_session_is_live(
    session: Session, *, account_id: uuid.UUID, secret: str, now: dt.datetime | None = None
) -> bool:
    """Whether the session with this secret belongs to the account and has not ended."""
    if not secret:
        return False
    found = session.scalar(
        select(AccountSession.id).where(
            AccountSession.id == _session_id(secret),
            AccountSession.account_id == account_id,
            AccountSession.expires_at > (now or utcnow()),
        )
    )
    return found is not None


def end_web_session(session: Session, *, secret: str) -> None:
    """Sign out: the session's cookie stops working wherever a copy of it is."""
    if secret:
        session.execute(delete(AccountSession).where(AccountSession.id == _session_id(secret)))
        session.flush()


def end_web_sessions(session: Session, *, account: Account) -> None:
    """End every web session of an account (password changed, account disabled)."""
    session.execute(delete(AccountSession).where(AccountSession.account_id == account.id))


def set_regions(session: Session, *, account: Account, place_ids: Sequence[uuid.UUID]) -> None:
    session.execute(delete(AccountRegion).where(AccountRegion.account_id == account.id))
    for place in resolve_regions(session, ids=place_ids):
        session.add(AccountRegion(account_id=account.id, place_id=place.id))
    session.flush()
    session.expire(account, ["regions"])


def region_ids(session: Session, account: Account) -> frozenset[uuid.UUID]:
    """The places an account is limited to; empty = everywhere."""
    rows = session.scalars(
        select(AccountRegion.place_id).where(AccountRegion.account_id == account.id)
    )
    return frozenset(rows)


def place_with_ancestors(session: Session, place_ids: Iterable[uuid.UUID | None]) -> set[uuid.UUID]:
    """The given places and every place above them (city → region → country)."""
    parent_of = parents_in(session)
    return {up for pid in place_ids for up in lineage(pid, parent_of)}


def in_scope(session: Session, account: Account, place_ids: Iterable[uuid.UUID | None]) -> bool:
    """Whether an account may act on a record in these places. Unlimited accounts and admins
    may act everywhere; a record with no place at all is in every scope."""
    if account.role == Role.admin:
        return True
    scope = region_ids(session, account)
    if not scope:
        return True
    places = place_with_ancestors(session, place_ids)
    if not places:
        return True
    return bool(scope & places)


def is_moderator(account: Account | None) -> bool:
    return account is not None and account.role in (Role.moderator, Role.admin)


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    client_key: str = "",
    now: dt.datetime | None = None,
) -> Account:
    """Check an email and password. Raises Unauthorized (same message whether the email exists
    or not, same time) or TooManyRequests (see `throttle`: per account and address, per
    address, and fewer tries per address while the account is under attack; a correct password
    from an address that has not been guessing always gets in). The caller commits even on
    failure so the failure counts."""
    now = now or utcnow()
    keys = throttle.check_password_attempt(
        session, email=normalise_email(email), address=client_key, now=now
    )
    account = get_account_by_email(session, email=email)
    ok = verify_password(account.password_hash if account else _dummy_hash(), password)
    if account is None or not ok or account.disabled:
        throttle.record(session, keys.all, now=now)
        raise Unauthorized("Email or password is not correct")
    throttle.forget(session, [keys.pair])
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.last_login_at = now
    session.flush()
    return account


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    """A token just created: `secret` is shown once and never stored."""

    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_scopes(account: Account, scopes: Iterable[str] | None) -> str:
    allowed = ROLE_SCOPES[Role(account.role)]
    wanted = set(scopes) if scopes else set(allowed)
    unknown = wanted - set(SCOPES)
    if unknown:
        raise ValidationFailed(
            [{"path": "scopes", "message": f"unknown scope {sorted(unknown)[0]!r}"}]
        )
    too_much = wanted - allowed
    if too_much:
        raise ValidationFailed(
            [
                {
                    "path": "scopes",
                    "message": f"a {account.role} cannot hold scope {sorted(too_much)[0]!r}",
                }
            ]
        )
    wanted.add("read")
    return " ".join(s for s in SCOPES if s in wanted)


def create_token(
    session: Session,
    *,
    account: Account,
    name: str = "",
    expires_days: int | None = 90,
    scopes: Iterable[str] | None = None,
    now: dt.datetime | None = None,
) -> NewToken:
    """Create a bearer token for `account`. `expires_days=None` = never expires (discouraged)."""
    now = now or utcnow()
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise ValidationFailed([{"path": "expires_days", "message": "must be between 1 and 3650"}])
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account_id=account.id,
        name=name[:100],
        token_hash=hash_token(secret),
        prefix=secret[:PREFIX_LENGTH],
        scopes=normalise_scopes(account, scopes),
        created_at=now,
        expires_at=now + dt.timedelta(days=expires_days) if expires_days is not None else None,
    )
    session.add(token)
    session.flush()
    return NewToken(token=token, secret=secret)


def list_tokens(session: Session, *, account: Account | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.created_at)
    if account is not None:
        stmt = stmt.where(ApiToken.account_id == account.id)
    return list(session.scalars(stmt))


def revoke_token(
    session: Session, *, ref: str, account: Account | None = None, now: dt.datetime | None = None
) -> ApiToken:
    """Revoke a token by its id or by its shown prefix (at least 8 characters, unambiguous)."""
    ref = ref.strip()
    stmt = select(ApiToken)
    if account is not None:
        stmt = stmt.where(ApiToken.account_id == account.id)
    try:
        matches = list(session.scalars(stmt.where(ApiToken.id == uuid.UUID(ref))))
    except ValueError:
        if len(ref) < 8:
            raise ValidationFailed(
                [{"path": "token", "message": "give the token id or at least 8 characters"}]
            ) from None
        matches = list(session.scalars(stmt.where(ApiToken.prefix.startswith(ref[:PREFIX_LENGTH]))))
        if len(ref) > PREFIX_LENGTH:  # the whole secret was given
            matches = [t for t in matches if hmac.compare_digest(t.token_hash, hash_token(ref))]
    if not matches:
        raise NotFound("No such token")
    if len(matches) > 1:
        raise ValidationFailed(
            [{"path": "token", "message": "more than one token matches; give the id"}]
        )
    token = matches[0]
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    session.flush()
    return token


@dataclass(frozen=True)
class TokenIdentity:
    """Who a request acts as: the account and what this token may do."""

    account: Account
    token: ApiToken
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes


def account_for_token(
    session: Session, *, secret: str, client_key: str = "", now: dt.datetime | None = None
) -> TokenIdentity:
    """The account behind a bearer token, or Unauthorized (unknown, expired, revoked, disabled
    — one message for all) / TooManyRequests after repeated invalid tokens from the same
    address. Only invalid tokens are counted and refused: a valid token always works."""
    now = now or utcnow()
    token = None
    if secret.startswith(TOKEN_PREFIX) and len(secret) <= 100:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    account = session.get(Account, token.account_id) if token is not None else None
    if (
        token is None
        or account is None
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
        or account.disabled
    ):
        throttle.invalid_token(session, address=client_key, now=now)
        raise Unauthorized("The token is not valid")
    # The last-use stamp is written after the request's unit of work, never inside it: an
    # UPDATE here held the token's row lock until the request committed, and a burst of
    # requests with one token then queued on it (issue 18.1). See `stamp_token_use`.
    if token_use_due(token, now):
        after_unit_of_work(
            session, partial(stamp_token_use, session.get_bind().engine, token_id=token.id, now=now)
        )
    scopes = frozenset(token.scopes.split()) & ROLE_SCOPES[Role(account.role)]
    return TokenIdentity(account=account, token=token, scopes=scopes)


#: A token's `last_used_at` is at most this old while it is in use (a write per request would
#: be a needless hot spot).
TOKEN_STAMP_EVERY = dt.timedelta(minutes=1)


def token_use_due(token: ApiToken, now: dt.datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at > TOKEN_STAMP_EVERY


def stamp_token_use(engine: Engine, *, token_id: uuid.UUID, now: dt.datetime) -> bool:
    """Record that a token was used, in its own short transaction that never waits for a lock:
    when another transaction holds the token's row (PostgreSQL: `FOR UPDATE SKIP LOCKED`) or
    the write lock (SQLite: busy timeout 0 for this statement), the stamp is skipped — the next
    use a minute later records it. True when a row was stamped."""
    cutoff = now - TOKEN_STAMP_EVERY
    due = (ApiToken.id == token_id) & (
        ApiToken.last_used_at.is_(None) | (ApiToken.last_used_at < cutoff)
    )
    with engine.connect() as conn:
        try:
            if conn.dialect.name == "sqlite":
                return _stamp_sqlite(conn, due, now)
            free = select(ApiToken.id).where(due).with_for_update(skip_locked=True)
            with conn.begin():
                done = conn.execute(
                    update(ApiToken)
                    .where(ApiToken.id.in_(free.scalar_subquery()))
                    .values(last_used_at=now)
                )
            return bool(done.rowcount)
        except OperationalError:  # locked (or the database is away): it is only a stamp
            return False


def _stamp_sqlite(conn: Connection, due: ColumnElement[bool], now: dt.datetime) -> bool:
    raw = conn.connection.driver_connection
    assert raw is not None
    (busy,) = raw.execute("PRAGMA busy_timeout").fetchone()
    raw.execute("PRAGMA busy_timeout=0")  # fail at once instead of waiting for the writer
    try:
        with conn.begin():
            done = conn.execute(update(ApiToken).where(due).values(last_used_at=now))
        return bool(done.rowcount)
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(busy)}")


# --- second factor: TOTP and recovery codes ---------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(account: Account, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name=TOTP_ISSUER)


def totp_qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG (no external image, no JavaScript)."""
    qr = segno.make(uri, error="m")
    svg: str = qr.svg_inline(scale=4, dark="#000", light="#fff", omitsize=False)
    return svg


def totp_step(secret: str, code: str, *, now: dt.datetime | None = None) -> int | None:
    """The time step `code` belongs to — the current one, or one either side for a phone's clock
    drift — or None when it is no valid code."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or utcnow())
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_totp_step(session: Session, account: Account, step: int) -> bool:
    """Mark `step` as used unless it (or a later one) was used already. One conditional UPDATE,
    so two requests racing with the same code cannot both win (the row lock decides)."""
    result = session.execute(
        update(Account)
        .where(
            Account.id == account.id,
            or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def enable_totp(
    session: Session, *, account: Account, secret: str, code: str, now: dt.datetime | None = None
) -> list[str]:
    """Turn on TOTP once the person proves their app shows the right code; returns fresh
    recovery codes (shown once). The code used here is spent: it cannot sign in again."""
    step = totp_step(secret, code, now=now)
    if step is None:
        raise ValidationFailed([{"path": "code", "message": "the code is not correct"}])
    account.totp_secret = secret
    account.totp_enabled_at = now or utcnow()
    account.totp_last_step = step
    session.flush()
    return generate_recovery_codes(session, account=account)


def disable_totp(session: Session, *, account: Account) -> None:
    account.totp_secret = None
    account.totp_enabled_at = None
    account.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    session.flush()


def needs_second_factor(account: Account, *, demo: bool = False) -> bool:
    """Moderators and admins must use TOTP for the web sign-in; in a demo (`demo`: the app runs
    in demo mode), the published demo accounts are the exception, so no phone is needed."""
    if demo and is_demo_account(account):
        return False
    return is_moderator(account)


def is_demo_account(account: Account) -> bool:
    """One of the demo's published accounts (directory.demo.accounts), by its email domain."""
    return account.email.endswith("@" + DEMO_EMAIL_DOMAIN)


def _hash_recovery(code: str) -> str:
    # Codes are random (50 bits), so a fast hash is enough; normalised so dashes/case do not matter.
    return hashlib.sha256("".join(code.split()).replace("-", "").lower().encode()).hexdigest()


def generate_recovery_codes(
    session: Session, *, account: Account, count: int = RECOVERY_CODE_COUNT
) -> list[str]:
    """Replace the account's recovery codes with `count` new ones (returned once, stored hashed)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(account_id=account.id, code_hash=_hash_recovery(raw)))
    session.flush()
    return codes


def use_recovery_code(
    session: Session, *, account: Account, code: str, now: dt.datetime | None = None
) -> bool:
    """Consume a recovery code; True if it was valid and unused. One conditional UPDATE, so
    two requests racing with the same code cannot both use it."""
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.code_hash == _hash_recovery(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now or utcnow())
    )
    return bool(getattr(result, "rowcount", 0) > 0)


def verify_second_factor(
    session: Session,
    *,
    account: Account,
    code: str,
    now: dt.datetime | None = None,
) -> None:
    """Check a TOTP code or a recovery code; each is accepted once (a TOTP code's time step
    must be later than the last one used). Rate-limited per account."""
    now = now or utcnow()
    # Per account only: whoever is here knows the password; an address counter would let wrong
    # codes lock out everyone behind the same address.
    key = throttle.check_code_attempt(session, account_id=str(account.id), now=now)
    if account.totp_secret:
        step = totp_step(account.totp_secret, code, now=now)
        if step is not None and _claim_totp_step(session, account, step):
            return
    if use_recovery_code(session, account=account, code=code, now=now):
        return
    throttle.record(session, [key], now=now)
    raise Unauthorized("The code is not correct")


# --- runtime settings -------------------------------------------------------------------------


def trusted_volunteers_publish(session: Session, *, default: bool) -> bool:
    """Admin setting (table `setting`) overriding DIRECTORY_TRUSTED_VOLUNTEERS_PUBLISH."""
    value = session.scalar(select(Setting.value).where(Setting.key == TRUSTED_PUBLISH_SETTING))
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def set_trusted_volunteers_publish(session: Session, *, actor: Account, value: bool) -> None:
    if actor.role != Role.admin:
        raise Forbidden("Only admins change this setting")
    row = session.get(Setting, TRUSTED_PUBLISH_SETTING)
    if row is None:
        session.add(Setting(key=TRUSTED_PUBLISH_SETTING, value="true" if value else "false"))
    else:
        row.value = "true" if value else "false"
    session.flush()


def update_account(
    session: Session,
    *,
    actor: Account,
    account: Account,
    base_version: int | None = None,
    disabled: bool | None = None,
    trusted: bool | None = None,
    role: Role | str | None = None,
    region_ids: Sequence[uuid.UUID] | None = None,
) -> Account:
    """Admins change an account (version-checked like every editable record)."""

    if actor.role != Role.admin:
        raise Forbidden("Only admins manage accounts")
    if base_version is not None and account.version != base_version:
        raise PreconditionFailed("The account changed meanwhile", current_version=account.version)
    if account.id == actor.id and (disabled or (role is not None and Role(role) != Role.admin)):
        raise ValidationFailed(
            [{"path": "role", "code": "self_lockout", "message": "you cannot lock yourself out"}]
        )
    if disabled is not None:
        account.disabled = disabled
        if disabled:
            end_web_sessions(session, account=account)
    if trusted is not None:
        account.trusted = trusted
    if role is not None:
        try:
            account.role = Role(role)
        except ValueError:
            raise ValidationFailed([{"path": "role", "message": "unknown role"}]) from None
    if region_ids is not None:
        set_regions(session, account=account, place_ids=region_ids)
    account.updated_at = utcnow()  # the version moves even when only regions changed
    session.flush()
    return account
