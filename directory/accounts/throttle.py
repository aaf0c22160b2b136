"""Throttling of failed authentication: one counter per thing being guessed.

A lockout must not be a way to lock other people out. So failures are counted separately by what
is being guessed and from where, and a correct credential from an address that has not been
guessing is never refused:

| guessed | counted per | limit (15 min) | refused when over |
| --- | --- | --- | --- |
| password | account + address | 10 (3 under attack) | that address, for that account |
| password | address | 50 | that address, for every account (spraying) |
| password | account, all addresses | 50 | the account is "under attack": 3 tries per address |
| second-factor code | account | 10 | that account's second step (password known) |
| API token | address, invalid tokens | 20 | invalid tokens from there; valid ones always work |

Failures live in `auth_failure` (shared by every worker and host) under keyed hashes
(`failure_key`), never as emails or addresses in clear; rows older than four windows are deleted.
IPv6 addresses are counted per /64 network (one household or host usually holds a whole /64).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from directory.accounts.models import AuthFailure, Setting
from directory.db import utcnow
from directory.errors import TooManyRequests

WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Rule:
    """A counter: failures of one `kind`, at most `limit` within `WINDOW`."""

    kind: str
    limit: int


PASSWORD_PAIR = Rule("password:account+address", 10)
PASSWORD_ADDRESS = Rule("password:address", 50)
PASSWORD_ACCOUNT = Rule("password:account", 50)
#: Tries per address at an account that is under attack (PASSWORD_ACCOUNT reached).
PASSWORD_PAIR_UNDER_ATTACK = 3
TOTP_ACCOUNT = Rule("totp:account", 10)
TOKEN_ADDRESS = Rule("token:address", 20)

_PEPPER_SETTING = "auth_failure_pepper"


def address_bucket(address: str) -> str:
    """What one client address counts as: the address itself, an IPv6 address's /64 network."""
    if not address:
        return "-"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _pepper(session: Session) -> bytes:
    """A random key shared by every worker (kept in the `setting` table, made on first use).

    A plain hash of an IP address can be reversed by hashing all 2^32 of them; a keyed hash
    cannot without this key, which never leaves the database."""
    value = session.scalar(select(Setting.value).where(Setting.key == _PEPPER_SETTING))
    if value is None:
        try:
            with session.begin_nested():
                session.add(Setting(key=_PEPPER_SETTING, value=secrets.token_hex(32)))
        except IntegrityError:  # another worker made it first
            pass
        value = session.scalar(select(Setting.value).where(Setting.key == _PEPPER_SETTING))
    return (value or "").encode()


def failure_key(session: Session, rule: Rule, *parts: str) -> str:
    """The key of one counter, a keyed hash: no personal data is stored in clear."""
    message = "\x1f".join((rule.kind, *parts)).encode()
    return hmac.new(_pepper(session), message, hashlib.sha256).hexdigest()


def _times(session: Session, key: str, now: dt.datetime) -> list[dt.datetime]:
    return list(
        session.scalars(
            select(AuthFailure.at)
            .where(AuthFailure.key == key, AuthFailure.at > now - WINDOW)
            .order_by(AuthFailure.at)
        )
    )


def _count(session: Session, key: str, now: dt.datetime) -> int:
    return (
        session.scalar(
            select(func.count()).where(AuthFailure.key == key, AuthFailure.at > now - WINDOW)
        )
        or 0
    )


def _refuse_if_over(session: Session, key: str, limit: int, now: dt.datetime) -> None:
    times = _times(session, key, now)
    if len(times) >= limit:
        # Allowed again once enough of these failures have left the window.
        frees_at = times[len(times) - limit] + WINDOW
        retry = int((_aware(frees_at) - now).total_seconds()) + 1
        raise TooManyRequests(
            "Too many failed attempts; try again later", retry_after=max(retry, 1)
        )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def record(session: Session, keys: Sequence[str], *, now: dt.datetime | None = None) -> None:
    """Count one failure under each key."""
    now = now or utcnow()
    for key in keys:
        session.add(AuthFailure(key=key, at=now))
    # Old rows are useless: keep the table small.
    session.execute(delete(AuthFailure).where(AuthFailure.at < now - 4 * WINDOW))
    session.flush()


def forget(session: Session, keys: Sequence[str]) -> None:
    """Clear counters after a success (a person's own typos do not add up across sign-ins)."""
    session.execute(delete(AuthFailure).where(AuthFailure.key.in_(keys)))
    session.flush()


@dataclass(frozen=True)
class PasswordKeys:
    pair: str
    address: str
    account: str

    @property
    def all(self) -> list[str]:
        return [self.pair, self.address, self.account]


def check_password_attempt(
    session: Session, *, email: str, address: str, now: dt.datetime | None = None
) -> PasswordKeys:
    """Raise TooManyRequests when this address may not try a password for `email` now; else
    return the keys to `record` if the password turns out wrong. `email` is normalised."""
    now = now or utcnow()
    bucket = address_bucket(address)
    keys = PasswordKeys(
        pair=failure_key(session, PASSWORD_PAIR, email, bucket),
        address=failure_key(session, PASSWORD_ADDRESS, bucket),
        account=failure_key(session, PASSWORD_ACCOUNT, email),
    )
    _refuse_if_over(session, keys.address, PASSWORD_ADDRESS.limit, now)
    under_attack = _count(session, keys.account, now) >= PASSWORD_ACCOUNT.limit
    limit = PASSWORD_PAIR_UNDER_ATTACK if under_attack else PASSWORD_PAIR.limit
    _refuse_if_over(session, keys.pair, limit, now)
    return keys


def check_code_attempt(session: Session, *, account_id: str, now: dt.datetime | None = None) -> str:
    """Raise TooManyRequests when the account's second step had too many wrong codes; else
    return the key to `record` if the code turns out wrong."""
    now = now or utcnow()
    key = failure_key(session, TOTP_ACCOUNT, account_id)
    _refuse_if_over(session, key, TOTP_ACCOUNT.limit, now)
    return key


def invalid_token(session: Session, *, address: str, now: dt.datetime | None = None) -> None:
    """Count an invalid token from `address`; raise TooManyRequests when that address has sent
    too many lately. Only ever called for invalid tokens, so valid ones are never refused."""
    now = now or utcnow()
    key = failure_key(session, TOKEN_ADDRESS, address_bucket(address))
    _refuse_if_over(session, key, TOKEN_ADDRESS.limit, now)
    record(session, [key], now=now)
