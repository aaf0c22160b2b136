"""Notices out: CAP 1.2 for warning systems and aggregators, Atom for feed readers and messengers.

Every notice in force — typed by a moderator or started by a feed — is published:
- `/cap/notices/{id}.xml`: one notice as a CAP 1.2 alert, one `<info>` per language it is written
  in; `msgType` Alert for its first version, Update (referencing the first) after an edit.
- `/cap/notices.xml` (`?place=CODE`): every notice in force for the place (nationwide ones and
  those of the place and the places above it; without a place, all) as one CAP alert with an
  `<info>` per notice and language, and a `<note>` when there is none.
- `/{locale}/notices.atom` (`?place=CODE`): the same notices as an Atom feed in one language.
Notices hold no listing, so nothing confidential can appear here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building, not parsing)

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.alerts.cap import CAP_NS
from directory.config import UI_LOCALES
from directory.i18n import gettext as _
from directory.i18n import use_locale
from directory.listings import models as m
from directory.listings import queries
from directory.listings.queries import NoticeView

ATOM = "http://www.w3.org/2005/Atom"
_CAP_SEVERITY = {"danger": "Severe", "warning": "Moderate", "info": "Minor"}
_CAP_URGENCY = {"danger": "Immediate", "warning": "Expected", "info": "Unknown"}
_CAP_CERTAINTY = {"danger": "Observed", "warning": "Likely", "info": "Unknown"}


def cap_time(value: dt.datetime) -> str:
    """CAP's dateTime: seconds, an explicit offset, no fraction ("2026-12-03T10:06:00+00:00")."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass(frozen=True)
class Published:
    """One notice in force with its texts in every language it is written in."""

    id: uuid.UUID
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    severity: str
    region_code: str | None
    region_names: dict[str, str]  # locale → name of its region
    texts: dict[str, NoticeView]  # locale → view, only where written in that language
    views: dict[str, NoticeView]  # locale → what a reader of that locale sees (with fallbacks)
    valid_from: dt.datetime
    valid_until: dt.datetime | None


def place_id(session: Session, code: str) -> uuid.UUID | None:
    return session.scalar(
        select(m.Place.id).where(m.Place.code == code, m.Place.archived_at.is_(None))
    )


def notices(session: Session, *, place: uuid.UUID | None, now: dt.datetime) -> list[Published]:
    """Notices in force for a place (None: all of them), most severe first."""
    views = {
        loc: queries.notices_in_force(
            session, locale=loc, place_id=place, now=now, everywhere=place is None
        )
        for loc in UI_LOCALES
    }
    ids = [v.id for v in views[UI_LOCALES[0]]]
    rows = (
        {
            r.id: r
            for r in session.execute(
                select(
                    m.Notice.id,
                    m.Notice.version,
                    m.Notice.created_at,
                    m.Notice.updated_at,
                    m.Notice.source_locale,
                ).where(m.Notice.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    out = []
    for first in views[UI_LOCALES[0]]:
        row = rows.get(first.id)
        if row is None:
            continue
        per = {loc: next(v for v in views[loc] if v.id == first.id) for loc in UI_LOCALES}
        written = {
            loc: v for loc, v in per.items() if not v.title.fallback or loc == row.source_locale
        }
        out.append(
            Published(
                id=first.id,
                version=row.version,
                created_at=row.created_at,
                updated_at=row.updated_at,
                severity=first.severity,
                region_code=first.region.code if first.region else None,
                region_names={loc: v.region.name.value for loc, v in per.items() if v.region},
                texts=written,
                views=per,
                valid_from=first.valid_from,
                valid_until=first.valid_until,
            )
        )
    return out


def place_name(session: Session, place: uuid.UUID, locale: str) -> str:
    return next(
        (p.name.value for p in queries.list_places(session, locale=locale) if p.id == place), ""
    )


def sender(origin: str) -> str:
    host = urlsplit(origin).hostname or "localhost"
    return f"aid-directory@{host}"


def _identifier(n: Published, version: int) -> str:
    return f"notice-{n.id}-v{version}"


def _info(alert: Element, n: Published, locale: str, view: NoticeView, origin: str) -> None:
    info = SubElement(alert, "info")
    SubElement(info, "language").text = locale
    SubElement(info, "category").text = "Safety"
    SubElement(info, "event").text = view.title.value
    if n.severity == "danger":
        SubElement(info, "responseType").text = "Shelter"
    SubElement(info, "urgency").text = _CAP_URGENCY.get(n.severity, "Unknown")
    SubElement(info, "severity").text = _CAP_SEVERITY.get(n.severity, "Unknown")
    SubElement(info, "certainty").text = _CAP_CERTAINTY.get(n.severity, "Unknown")
    SubElement(info, "effective").text = cap_time(n.valid_from)
    if n.valid_until is not None:
        SubElement(info, "expires").text = cap_time(n.valid_until)
    with use_locale(locale):
        SubElement(info, "senderName").text = _("Aid directory")
    SubElement(info, "headline").text = view.title.value[:160]
    if view.body is not None and view.body.value:
        SubElement(info, "description").text = view.body.value
    place = f"?place={n.region_code}" if n.region_code else ""
    SubElement(info, "web").text = f"{origin}/{locale}/{place}"
    area = SubElement(info, "area")
    with use_locale(locale):
        SubElement(area, "areaDesc").text = n.region_names.get(locale) or _(
            "Everywhere this directory covers"
        )
    if n.region_code:
        geocode = SubElement(area, "geocode")
        SubElement(geocode, "valueName").text = "ISO3166-2"
        SubElement(geocode, "value").text = n.region_code


def _alert(identifier: str, sent: dt.datetime, origin: str, msg_type: str = "Alert") -> Element:
    alert = Element("alert", xmlns=CAP_NS)
    SubElement(alert, "identifier").text = identifier
    SubElement(alert, "sender").text = sender(origin)
    SubElement(alert, "sent").text = cap_time(sent)
    SubElement(alert, "status").text = "Actual"
    SubElement(alert, "msgType").text = msg_type
    SubElement(alert, "scope").text = "Public"
    return alert


def _xml(root: Element) -> bytes:
    body: bytes = tostring(root, encoding="utf-8")  # an encoding other than "unicode": bytes
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def cap_notice(n: Published, origin: str) -> bytes:
    msg_type = "Alert" if n.version <= 1 else "Update"
    alert = _alert(_identifier(n, n.version), n.updated_at, origin, msg_type)
    if msg_type == "Update":
        # <references> comes after <scope>'s optional siblings; keep the schema's order.
        SubElement(
            alert, "references"
        ).text = f"{sender(origin)},{_identifier(n, 1)},{cap_time(n.created_at)}"
    for loc, view in n.texts.items():
        _info(alert, n, loc, view, origin)
    return _xml(alert)


def cap_collection(items: list[Published], origin: str, *, now: dt.datetime) -> bytes:
    digest = hashlib.sha256("|".join(f"{n.id}:{n.version}" for n in items).encode()).hexdigest()[
        :20
    ]
    sent = max((n.updated_at for n in items), default=now.replace(second=0, microsecond=0))
    alert = _alert(f"notices-{digest}", sent, origin)
    if not items:
        SubElement(alert, "note").text = "No notices in force."
    for n in items:
        for loc, view in n.texts.items():
            _info(alert, n, loc, view, origin)
    return _xml(alert)


def atom(
    items: list[Published],
    *,
    locale: str,
    origin: str,
    self_url: str,
    place_name: str | None,
    now: dt.datetime,
) -> bytes:
    """An Atom feed (RFC 4287) of notices in one language (each in its fallback language where it
    has no text in this one, marked with xml:lang)."""
    feed = Element("feed", {"xmlns": ATOM, "xml:lang": locale})
    with use_locale(locale):
        title = (
            _("Notices in force: %(place)s", place=place_name)
            if place_name
            else _("Notices in force")
        )
        SubElement(feed, "title").text = title
        SubElement(feed, "subtitle").text = _("Alerts and notices of the aid directory")
        author = SubElement(feed, "author")
        SubElement(author, "name").text = _("Aid directory")
    SubElement(feed, "id").text = self_url
    SubElement(feed, "updated").text = cap_time(max((n.updated_at for n in items), default=now))
    SubElement(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    SubElement(feed, "link", rel="alternate", type="text/html", href=f"{origin}/{locale}/")
    for n in items:
        view = n.views[locale]
        entry = SubElement(feed, "entry")
        SubElement(entry, "id").text = f"urn:uuid:{n.id}"
        t = SubElement(entry, "title")
        t.text = view.title.value
        if view.title.locale != locale:
            t.set("xml:lang", view.title.locale)
        SubElement(entry, "updated").text = cap_time(n.updated_at)
        SubElement(entry, "published").text = cap_time(n.valid_from)
        if view.body is not None and view.body.value:
            s = SubElement(entry, "summary")
            s.text = view.body.value
            if view.body.locale != locale:
                s.set("xml:lang", view.body.locale)
        place = f"?place={n.region_code}" if n.region_code else ""
        SubElement(
            entry, "link", rel="alternate", type="text/html", href=f"{origin}/{locale}/{place}"
        )
        SubElement(
            entry,
            "link",
            rel="related",
            type="application/cap+xml",
            href=f"{origin}/cap/notices/{n.id}.xml",
        )
        if n.region_code:
            SubElement(
                entry,
                "category",
                term=n.region_code,
                label=n.region_names.get(locale, n.region_code),
            )
        SubElement(entry, "category", term=n.severity)
    return _xml(feed)
