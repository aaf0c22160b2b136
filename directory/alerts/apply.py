"""Turn what a feed says into notices, through the one write path (audited as the feed's doing).

CAP messages: `Alert` starts a notice per region it covers (a whole country: one nationwide
notice), `Update` changes the notices of the messages it references (and starts or ends regions),
`Cancel` ends them. Only `status` Actual reaches readers; Exercise, Test, System and Draft are kept
for moderators. A message is acted on once: a copy (same sender and identifier, same bytes) is a
duplicate, a different message under a known identity is a replay and refused, a message older
than a later one of its thread (or one already cancelled) is out of order and refused, a message
sent in the future beyond the allowed clock skew is refused. None of these changes anything.

Region-state feeds: the document lists the regions with an alert in force; a region that appears
starts an alert notice, a region that disappears ends it. A notice a moderator pinned is never
ended by a feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from directory.alerts import texts
from directory.alerts.areas import Gazetteer, covered, load_gazetteer
from directory.alerts.cap import CapMessage, Info
from directory.alerts.models import AlertMessage, AlertNotice
from directory.alerts.sources import Feed, RegionState
from directory.config import UI_LOCALES
from directory.errors import Conflict, NotFound, PreconditionFailed
from directory.moderation import service as moderation

log = logging.getLogger("directory.alerts")

#: How far in the future a message's `sent` may be (clocks differ a little).
CLOCK_SKEW = dt.timedelta(minutes=5)
SOURCE = moderation.FEED_SOURCE
_SEVERITY = {"Extreme": "danger", "Severe": "danger", "Moderate": "warning"}


@dataclass(frozen=True)
class Result:
    key: str
    outcome: (
        str  # applied, duplicate, replay, out-of-order, future, not-public, expired, no-region, ...
    )
    started: int = 0
    updated: int = 0
    ended: int = 0

    @property
    def rejected(self) -> bool:
        return self.outcome in ("replay", "out-of-order", "future", "invalid")


def _locale_of(language: str) -> str | None:
    code = language.split("-")[0].lower()
    return code if code in UI_LOCALES else None


def _write(
    session: Session,
    *,
    kind: str,
    entity_id: uuid.UUID | None = None,
    changes: dict[str, Any] | None = None,
    texts_by_locale: dict[str, dict[str, str]] | None = None,
    comment: str,
    now: dt.datetime,
) -> uuid.UUID:
    """One notice change through moderation, by the feed (no account), applied at once."""
    translations: dict[str, dict[str, str]] = {}
    changes = dict(changes or {})
    if texts_by_locale:
        source = changes.get("source_locale") or next(iter(texts_by_locale))
        changes.setdefault("source_locale", source)
        changes["title"] = texts_by_locale[source]["title"][:300]
        changes["body"] = texts_by_locale[source]["body"][:5000]
        for loc, t in texts_by_locale.items():
            if loc != source:
                translations.setdefault("title", {})[loc] = t["title"][:300]
                translations.setdefault("body", {})[loc] = t["body"][:5000]
    cr = moderation.propose(
        session,
        actor=None,
        entity_type="notice",
        kind=kind,
        entity_id=entity_id,
        changes=changes,
        translations=translations or None,
        comment=comment,
        source=SOURCE,
        now=now,
    )
    return cr.entity_id


def _end(session: Session, link: AlertNotice, *, comment: str, now: dt.datetime) -> bool:
    """End a feed's notice (archive it), unless a moderator pinned it or it is already over."""
    if link.pinned or link.ended_at is not None:
        return False
    try:
        with session.begin_nested():
            _write(session, kind="archive", entity_id=link.notice_id, comment=comment, now=now)
    except (NotFound, Conflict, PreconditionFailed):
        pass  # a moderator ended it first, or another watcher did: the end stands
    link.ended_at = now
    return True


def _record(
    session: Session,
    *,
    key: str,
    feed: Feed,
    sent: dt.datetime,
    status: str,
    msg_type: str,
    references: list[str],
    digest: str,
    outcome: str,
    summary: str,
    now: dt.datetime,
) -> bool:
    """Remember the message (unique key). False when another watcher recorded it first."""
    try:
        with session.begin_nested():
            session.add(
                AlertMessage(
                    key=key[:1100],
                    feed_url=feed.url[:2000],
                    sent=sent,
                    status=status,
                    msg_type=msg_type,
                    references=references,
                    digest=digest,
                    outcome=outcome,
                    summary=summary[:2000],
                    received_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def _known(session: Session, key: str) -> AlertMessage | None:
    return session.scalar(select(AlertMessage).where(AlertMessage.key == key))


def _referenced_by_later(session: Session, key: str) -> bool:
    """A Cancel or Update that names this message was received already (it arrived late)."""
    rows = session.scalars(
        select(AlertMessage.references).where(AlertMessage.msg_type.in_(("Update", "Cancel")))
    )
    return any(key in (refs or []) for refs in rows)


def _summary(msg: CapMessage) -> str:
    info = msg.infos[0] if msg.infos else None
    return (info.headline or info.event) if info else msg.msg_type


def _texts(infos: tuple[Info, ...]) -> dict[str, dict[str, str]]:
    by_language: dict[str, tuple[str, str]] = {}
    for info in infos:
        loc = _locale_of(info.language)
        if loc and loc not in by_language:
            body = "\n\n".join(x for x in (info.description, info.instruction) if x)
            by_language[loc] = ((info.headline or info.event), body)
    return texts.cap_texts(by_language)


def handle_cap(
    session: Session,
    feed: Feed,
    msg: CapMessage,
    raw: bytes,
    *,
    now: dt.datetime,
    gazetteer: Gazetteer | None = None,
) -> Result:
    """Act on one CAP message (see the module doc). The caller commits."""
    key, digest = msg.key, hashlib.sha256(raw).hexdigest()
    refs = [f"{s}|{i}" for s, i, _sent in msg.references]
    seen = _known(session, key)
    if seen is not None:
        if seen.digest == digest:
            return Result(key, "duplicate")
        log.warning(
            "alert feed %s: message %s was received before with other content: refused as a replay",
            feed.url,
            key,
        )
        return Result(key, "replay")
    if msg.sent > now + CLOCK_SKEW:
        log.warning(
            "alert feed %s: message %s is sent %s, in the future: refused (clock skew?)",
            feed.url,
            key,
            msg.sent.isoformat(),
        )
        return Result(key, "future")

    def record(outcome: str) -> bool:
        return _record(
            session,
            key=key,
            feed=feed,
            sent=msg.sent,
            status=msg.status,
            msg_type=msg.msg_type,
            references=refs,
            digest=digest,
            outcome=outcome,
            summary=_summary(msg),
            now=now,
        )

    if msg.status != "Actual":
        record("not-public")
        return Result(key, "not-public")
    if msg.msg_type not in ("Alert", "Update", "Cancel"):
        record("ignored")
        return Result(key, "ignored")

    links = (
        list(session.scalars(select(AlertNotice).where(AlertNotice.message_key.in_(refs))))
        if refs
        else []
    )
    if refs:
        newest = session.scalar(
            select(AlertMessage.sent)
            .where(AlertMessage.key.in_({ln.message_key for ln in links} | set(refs)))
            .order_by(AlertMessage.sent.desc())
            .limit(1)
        )
        if newest is not None and msg.sent < newest:
            log.warning(
                "alert feed %s: message %s (sent %s) is older than the message it follows: refused",
                feed.url,
                key,
                msg.sent.isoformat(),
            )
            return Result(key, "out-of-order")
    if msg.msg_type == "Alert" and _referenced_by_later(session, key):
        log.warning(
            "alert feed %s: message %s arrived after an update or cancel of it: not shown",
            feed.url,
            key,
        )
        record("superseded")
        return Result(key, "superseded")

    comment = f"CAP {msg.msg_type} {key} from {feed.url}"
    if msg.msg_type == "Cancel":
        if not record("applied" if links else "cancel-before-alert"):
            return Result(key, "duplicate")
        ended = sum(_end(session, ln, comment=comment, now=now) for ln in links)
        return Result(key, "applied" if links else "cancel-before-alert", ended=ended)

    expires = [i.expires for i in msg.infos if i.expires is not None]
    valid_until = max(expires) if expires and len(expires) == len(msg.infos) else None
    if valid_until is not None and valid_until <= now:
        record("expired")
        return Result(key, "expired")
    gaz = gazetteer or load_gazetteer(session)
    regions: set[uuid.UUID | None] = set()
    for info in msg.infos:
        cov = covered(info.areas, gaz, feed.geocodes)
        regions |= set(cov.regions)
        if cov.countries:
            regions.add(None)  # nationwide
    if None in regions:
        regions = {None}
    if not regions:
        log.warning("alert feed %s: message %s covers no region the directory knows", feed.url, key)
        record("no-region")
        return Result(key, "no-region")
    if not record("applied"):
        return Result(key, "duplicate")

    info = msg.infos[0]
    starts = [s for i in msg.infos if (s := i.effective or i.onset) is not None]
    fields: dict[str, Any] = {
        "severity": _SEVERITY.get(info.severity, "info"),
        "valid_from": min([*starts, msg.sent]).isoformat() if msg.msg_type == "Alert" else None,
        "valid_until": valid_until.isoformat() if valid_until else None,
    }
    words = _texts(msg.infos)
    source = next((loc for loc in (_locale_of(i.language) for i in msg.infos) if loc), "en")
    by_region = {ln.region_id: ln for ln in links if ln.ended_at is None}
    started = updated = ended = 0
    for region in sorted(regions, key=str):
        link = by_region.pop(region, None)
        if link is not None:
            change = {k: v for k, v in fields.items() if k != "valid_from"}
            try:
                with session.begin_nested():
                    _write(
                        session,
                        kind="update",
                        entity_id=link.notice_id,
                        changes=change,
                        texts_by_locale=words,
                        comment=comment,
                        now=now,
                    )
                link.message_key = key
                updated += 1
                continue
            except (NotFound, Conflict, PreconditionFailed):
                link.ended_at = link.ended_at or now  # ended by hand meanwhile: start anew below
        notice_id = _write(
            session,
            kind="create",
            changes={
                **fields,
                "kind": "alert",
                "valid_from": fields["valid_from"] or msg.sent.isoformat(),
                "region_id": str(region) if region else None,
                "source_locale": source,
            },
            texts_by_locale=words,
            comment=comment,
            now=now,
        )
        session.add(
            AlertNotice(
                notice_id=notice_id,
                feed_url=feed.url[:2000],
                message_key=key,
                region_id=region,
                alert_type="",
                started_at=now,
            )
        )
        started += 1
    for link in by_region.values():  # regions the update no longer covers
        ended += _end(session, link, comment=comment, now=now)
    session.flush()
    return Result(key, "applied", started=started, updated=updated, ended=ended)


def handle_state(
    session: Session, feed: Feed, states: list[RegionState], *, now: dt.datetime
) -> Result:
    """Bring the feed's notices in line with the regions it says have an alert.
    The caller commits."""
    gaz = load_gazetteer(session)
    active: dict[uuid.UUID | None, RegionState] = {}
    for s in states:
        hit = gaz.by_code.get(s.code)
        if hit is None:
            log.warning(
                "alert feed %s: region %s is not in the directory's gazetteer", feed.url, s.code
            )
            continue
        active[hit[0]] = s
    links = list(
        session.scalars(
            select(AlertNotice).where(
                AlertNotice.feed_url == feed.url, AlertNotice.ended_at.is_(None)
            )
        )
    )
    current: dict[uuid.UUID | None, AlertNotice] = {ln.region_id: ln for ln in links}
    started = ended = 0
    for region_id, s in sorted(active.items(), key=lambda kv: kv[1].code):
        if region_id in current:
            continue
        since = s.since or now
        key = f"state|{feed.url}|{s.code}|{since.isoformat()}"
        if _known(session, key) is not None:
            continue  # started before and ended by hand (or by the other watcher): not again
        if not _record(
            session,
            key=key,
            feed=feed,
            sent=min(since, now),
            status="Actual",
            msg_type="Alert",
            references=[],
            digest=hashlib.sha256(key.encode()).hexdigest(),
            outcome="applied",
            summary=f"{s.alert_type} {s.code}",
            now=now,
        ):
            continue
        notice_id = _write(
            session,
            kind="create",
            changes={
                "severity": "danger",
                "kind": "alert",
                "valid_from": min(since, now).isoformat(),
                "valid_until": None,
                "region_id": str(region_id),
                "source_locale": "uk" if s.code.startswith("UA") else "en",
            },
            texts_by_locale=texts.template_texts(s.alert_type),
            comment=f"region-state alert {s.code} from {feed.url}",
            now=now,
        )
        session.add(
            AlertNotice(
                notice_id=notice_id,
                feed_url=feed.url[:2000],
                message_key=key,
                region_id=region_id,
                alert_type=s.alert_type[:40],
                started_at=now,
            )
        )
        started += 1
    for region_id, link in current.items():
        if region_id not in active:
            ended += _end(
                session, link, comment=f"region-state alert ended, from {feed.url}", now=now
            )
    session.flush()
    return Result(
        f"state|{feed.url}",
        "applied" if started or ended else "unchanged",
        started=started,
        ended=ended,
    )
