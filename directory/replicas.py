"""Read replicas: anonymous reads go to a PostgreSQL streaming replica, everything else to the
primary (docs/deploying.md, "Read replicas").

Which requests a replica may answer:
- only safe methods (GET, HEAD), and only for anonymous readers: a request with a manage session
  cookie or an `Authorization` header is someone who edits, and reads the primary;
- a signed-in person who has just written (any unsafe request with the manage session cookie) is
  given the primary's WAL position in a short-lived cookie (`aid_wal`). Until a replica has
  replayed past that position, that browser's reads go to the primary — also after signing out —
  so a volunteer or moderator always sees their own edit on the public pages. Readers never get
  it: what they write (problem reports) is not shown on public pages;
- a replica that is down, not in recovery, or lags more than `DIRECTORY_REPLICA_MAX_LAG_SECONDS`
  is skipped (checked at most every `DIRECTORY_REPLICA_CHECK_SECONDS`, with a connect and statement
  timeout of its own, so a dead replica costs one short wait per check interval, never a hang).

Lag: zero while the replica has replayed all it received and its WAL receiver is streaming (an
idle primary writes nothing, so "time since the last replayed transaction" alone would call an
up-to-date replica stale); otherwise the time since the last replayed transaction.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("directory.replicas")

#: The cookie carrying the primary's WAL position after a write (hex LSN, as PostgreSQL writes it).
WAL_COOKIE = "aid_wal"
#: How long a writer's reads are pinned to "at least my write": long after any sane lag bound.
WAL_COOKIE_SECONDS = 300
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: The manage app's session cookie (directory.manage.session.COOKIE_NAME; a test keeps them equal):
#: its bearer is signed in and reads the primary.
MANAGE_COOKIE = "aid_manage"

_STATE_SQL = text(
    """
    SELECT pg_is_in_recovery(),
           pg_last_wal_replay_lsn()::text,
           CASE
             WHEN pg_last_wal_receive_lsn() IS NOT NULL
                  AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                  AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
             THEN 0
             ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9)
           END
    """
)


def parse_lsn(value: str | None) -> int | None:
    """'16/B374D848' → an integer that orders like the WAL; None for anything else."""
    if not value or "/" not in value:
        return None
    high, _, low = value.partition("/")
    try:
        return (int(high, 16) << 32) | int(low, 16)
    except ValueError:
        return None


def format_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


@dataclass
class Replica:
    url: str
    engine: Engine
    sessionmaker: sessionmaker[Session]
    healthy: bool = False
    lag: float = 0.0
    replay_lsn: int | None = None
    checked_at: float = field(default=-1e18)
    served: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class ReplicaRouter:
    """Picks a replica for an anonymous read, or None (→ the primary)."""

    def __init__(
        self,
        replicas: Sequence[Replica],
        *,
        max_lag: float,
        check_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.replicas = list(replicas)
        self.max_lag = max_lag
        self.check_interval = check_interval
        self._clock = clock
        self._turn = itertools.count()

    def check(self, replica: Replica) -> None:
        """Refresh one replica's state (never raises: a failure marks it unhealthy)."""
        try:
            with replica.engine.connect() as conn:
                in_recovery, lsn, lag = conn.execute(_STATE_SQL).one()
                conn.rollback()
            replica.healthy = bool(in_recovery)
            replica.replay_lsn = parse_lsn(lsn)
            replica.lag = float(lag)
        except SQLAlchemyError as exc:
            if replica.healthy:
                log.warning("replica unreachable, reads go to the primary: %s", exc.__class__)
            replica.healthy = False
            replica.engine.dispose()  # no dead connections kept for the next check
        replica.checked_at = self._clock()

    def _fresh(self, replica: Replica) -> None:
        if self._clock() - replica.checked_at < self.check_interval:
            return
        # One thread checks; the others use the last state meanwhile.
        if replica.lock.acquire(blocking=False):
            try:
                if self._clock() - replica.checked_at >= self.check_interval:
                    self.check(replica)
            finally:
                replica.lock.release()

    def pick(self, min_lsn: int | None = None) -> Replica | None:
        if not self.replicas:
            return None
        start = next(self._turn)
        for i in range(len(self.replicas)):
            replica = self.replicas[(start + i) % len(self.replicas)]
            self._fresh(replica)
            if not replica.healthy or replica.lag > self.max_lag:
                continue
            if min_lsn is not None and (replica.replay_lsn is None or replica.replay_lsn < min_lsn):
                continue
            replica.served += 1
            return replica
        return None

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.engine.dispose()


def build_router(
    urls: Sequence[str],
    *,
    make_engine: Callable[..., Engine],
    make_sessionmaker: Callable[[Engine], sessionmaker[Session]],
    max_lag: float,
    check_interval: float,
    connect_timeout: float,
    **engine_kwargs: Any,
) -> ReplicaRouter | None:
    if not urls:
        return None
    replicas = []
    for url in urls:
        engine = make_engine(
            url,
            connect_args={
                "connect_timeout": max(1, int(round(connect_timeout))),
                "application_name": "aid-directory-replica",
            },
            **engine_kwargs,
        )
        replicas.append(Replica(url=url, engine=engine, sessionmaker=make_sessionmaker(engine)))
    return ReplicaRouter(replicas, max_lag=max_lag, check_interval=check_interval)


def reads_replica(scope: Scope, headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
    """May this request be answered from a replica? Safe method, nobody signed in."""
    return (
        scope.get("method") in SAFE_METHODS
        and "authorization" not in headers
        and MANAGE_COOKIE not in cookies
    )


def primary_lsn(session: Session) -> int | None:
    """The primary's current WAL insert position (after a commit: at or past it)."""
    try:
        value = session.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
    except SQLAlchemyError:
        return None
    return parse_lsn(value)


class WalCookie:
    """ASGI middleware: a response to a write carries the primary's WAL position (set by the
    session dependency in `scope["state"]["primary_lsn"]`) in the `aid_wal` cookie."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in SAFE_METHODS:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                lsn = scope.get("state", {}).get("primary_lsn")
                if lsn is not None:
                    cookie = (
                        f"{WAL_COOKIE}={format_lsn(lsn)}; Max-Age={WAL_COOKIE_SECONDS}; Path=/; "
                        "HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")
                    )
                    message = {
                        **message,
                        "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())],
                    }
            await send(message)

        await self.app(scope, receive, send_with_cookie)
