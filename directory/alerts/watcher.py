"""`aid-directory alerts watch`: poll every configured feed, act on what changed, stay healthy.

Each poll is a conditional GET (ETag / Last-Modified remembered per feed in `alert_feed`), with a
connect and read timeout and a bounded body (larger answers are refused unread). An index's
entries are fetched only when new or changed. A feed that fails is retried with exponential
backoff (up to `MAX_BACKOFF`); its failure and the time it last answered are what `check`,
`/readyz` and the pages read ("alert status unknown since 14:05"). Each feed is applied in its own
transaction; two watchers on two hosts write each message once (unique keys in `alert_message`).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from directory import __version__
from directory.alerts import apply
from directory.alerts.areas import load_gazetteer
from directory.alerts.cap import CapError, parse_element
from directory.alerts.models import AlertFeed
from directory.alerts.sources import Feed, StateError, read_cap_document, read_state_document
from directory.db import utcnow

log = logging.getLogger("directory.alerts")

MAX_BACKOFF = 15 * 60.0
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class FetchError(Exception):
    """The feed did not answer usefully (network, status, size): the poll counts as failed."""


@dataclass
class Fetched:
    status: int  # 200, or 304 (not modified)
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


def fetch(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """A conditional GET with a bounded body."""
    h = {"User-Agent": f"aid-directory/{__version__} (alert watcher)", **(headers or {})}
    if etag:
        h["If-None-Match"] = etag
    if last_modified:
        h["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", url, headers=h) as r:
            if r.status_code == 304:
                return Fetched(304, etag=etag, last_modified=last_modified)
            if r.status_code != 200:
                raise FetchError(f"HTTP {r.status_code}")
            declared = r.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(
                    f"answer of {int(declared)} bytes is over the limit of {max_bytes}"
                )
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"answer is over the limit of {max_bytes} bytes")
                chunks.append(chunk)
            return Fetched(
                200, b"".join(chunks), r.headers.get("etag"), r.headers.get("last-modified")
            )
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from exc


@dataclass
class PollReport:
    url: str
    ok: bool
    not_modified: bool = False
    error: str = ""
    results: list[apply.Result] = field(default_factory=list)

    def line(self) -> str:
        if not self.ok:
            return f"FAILED {self.url}: {self.error}"
        if self.not_modified:
            return f"ok {self.url}: not modified"
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        started = sum(r.started for r in self.results)
        ended = sum(r.ended for r in self.results)
        detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing new"
        return f"ok {self.url}: {detail}; notices started {started}, ended {ended}"


def _state(session: Session, feed: Feed) -> AlertFeed:
    row = session.get(AlertFeed, feed.url)
    if row is None:
        row = AlertFeed(url=feed.url, kind=feed.kind, seen={}, failures=0)
        session.add(row)
        session.flush()
    return row


def poll_feed(
    Session_: sessionmaker[Session],
    client: httpx.Client,
    feed: Feed,
    *,
    max_bytes: int,
    now: Callable[[], dt.datetime] = utcnow,
) -> PollReport:
    """Poll one feed once and apply what it says (its own transactions)."""
    with Session_() as session, session.begin():
        row = _state(session, feed)
        etag, modified, seen = row.etag, row.last_modified, dict(row.seen or {})
    report = PollReport(feed.url, ok=True)
    try:
        got = fetch(
            client,
            feed.url,
            max_bytes=max_bytes,
            headers=feed.headers(),
            etag=etag,
            last_modified=modified,
        )
        if got.status == 304:
            report.not_modified = True
        elif feed.kind == "state":
            assert feed.mapping is not None  # noqa: S101 (parse_feeds guarantees it)
            states = read_state_document(got.body, feed.mapping)
            with Session_() as session, session.begin():
                report.results.append(apply.handle_state(session, feed, states, now=now()))
        else:
            messages, entries = read_cap_document(got.body)
            items: list[tuple[Any, bytes]] = [(msg, got.body) for msg in messages]
            new_seen: dict[str, str] = {}
            for entry in entries:
                new_seen[entry.id] = entry.updated
                if seen.get(entry.id) == entry.updated and entry.updated:
                    continue
                try:
                    if entry.embedded is not None:
                        from xml.etree.ElementTree import tostring  # noqa: S405 (serialising our own tree)

                        items.append((parse_element(entry.embedded), tostring(entry.embedded)))
                    elif entry.url:
                        one = fetch(client, entry.url, max_bytes=max_bytes, headers=feed.headers())
                        items.append((read_cap_document(one.body)[0][0], one.body))
                except (CapError, FetchError, IndexError) as exc:
                    log.warning(
                        "alert feed %s: entry %s refused: %s", feed.url, entry.id[:200], exc
                    )
                    report.results.append(apply.Result(entry.id[:200], "invalid"))
                    new_seen.pop(entry.id, None)  # try again next time
            seen = new_seen
            with Session_() as session, session.begin():
                gaz = load_gazetteer(session)
                for msg, raw in sorted(items, key=lambda mr: mr[0].sent):
                    with session.begin_nested():
                        report.results.append(
                            apply.handle_cap(session, feed, msg, raw, now=now(), gazetteer=gaz)
                        )
        with Session_() as session, session.begin():
            row = _state(session, feed)
            if got.status == 200:
                row.etag, row.last_modified, row.seen = got.etag, got.last_modified, seen
            row.last_attempt_at = row.last_success_at = now()
            row.failures, row.last_error = 0, None
    except (FetchError, CapError, StateError) as exc:
        report.ok, report.error = False, str(exc)[:500]
        log.warning("alert feed %s: poll failed: %s", feed.url, report.error)
        with Session_() as session, session.begin():
            row = _state(session, feed)
            row.last_attempt_at = now()
            row.failures = (row.failures or 0) + 1
            row.last_error = report.error
    return report


def poll_all(
    Session_: sessionmaker[Session],
    feeds: list[Feed],
    *,
    max_bytes: int,
    client: httpx.Client | None = None,
) -> list[PollReport]:
    own = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True, max_redirects=3)
    try:
        return [poll_feed(Session_, client, feed, max_bytes=max_bytes) for feed in feeds]
    finally:
        if own:
            client.close()


def backoff(interval: float, failures: int) -> float:
    """Seconds to wait before polling a feed that failed `failures` times in a row."""
    return interval if failures <= 0 else min(MAX_BACKOFF, interval * 2 ** min(failures, 10))


def watch(
    Session_: sessionmaker[Session],
    feeds: list[Feed],
    *,
    interval: float,
    max_bytes: int,
    stop: threading.Event | None = None,
) -> None:
    """Poll forever (until SIGTERM/SIGINT or `stop`): each feed on its own schedule."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    due = {f.url: 0.0 for f in feeds}
    failures = {f.url: 0 for f in feeds}
    with httpx.Client(timeout=TIMEOUT, follow_redirects=True, max_redirects=3) as client:
        while not stop.is_set():
            clock = time.monotonic()
            for feed in feeds:
                if due[feed.url] <= clock and not stop.is_set():
                    report = poll_feed(Session_, client, feed, max_bytes=max_bytes)
                    log.info("alerts: %s", report.line())
                    failures[feed.url] = 0 if report.ok else failures[feed.url] + 1
                    due[feed.url] = time.monotonic() + backoff(interval, failures[feed.url])
            stop.wait(max(0.2, min(due.values()) - time.monotonic()))


# --- health -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedHealth:
    url: str
    last_success_at: dt.datetime | None
    failures: int
    last_error: str | None
    stale: bool  # not answered within the allowed time: pages say "alert status unknown"


def health(
    session: Session,
    feeds: list[Feed],
    *,
    stale_after: dt.timedelta,
    now: dt.datetime | None = None,
) -> list[FeedHealth]:
    now = now or utcnow()
    rows = {
        r.url: r
        for r in session.scalars(select(AlertFeed).where(AlertFeed.url.in_([f.url for f in feeds])))
    }
    out = []
    for f in feeds:
        r = rows.get(f.url)
        last = r.last_success_at if r else None
        out.append(
            FeedHealth(
                f.url,
                last,
                r.failures if r else 0,
                r.last_error if r else None,
                stale=last is None or now - last > stale_after,
            )
        )
    return out


def unknown_since(
    session: Session,
    feeds: list[Feed],
    *,
    stale_after: dt.timedelta,
    now: dt.datetime | None = None,
) -> dt.datetime | None:
    """When alert feeds are configured and one has not answered in time: since when the alert
    status is unknown (its last answer, or the first attempt). None when all is well."""
    if not feeds:
        return None
    stale = [h for h in health(session, feeds, stale_after=stale_after, now=now) if h.stale]
    if not stale:
        return None
    times = [h.last_success_at for h in stale if h.last_success_at is not None]
    if times:
        return min(times)
    first = session.scalar(
        select(AlertFeed.last_attempt_at)
        .where(AlertFeed.url.in_([h.url for h in stale]))
        .order_by(AlertFeed.last_attempt_at)
    )
    return first or (now or utcnow())


def iter_lines(reports: list[PollReport]) -> Iterator[str]:
    for r in reports:
        yield r.line()
