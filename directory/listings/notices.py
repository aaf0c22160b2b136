"""Which notices a reader sees: those of the region a page is about (chosen place, place filter,
near-me position, a listing's locations) and nationwide ones; a reader with no region gets the
nationwide ones in full and one compact line per kind for the other regions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from directory.i18n import lazy_gettext as _l
from directory.listings import reference
from directory.listings.views import NoticeView, PlaceRef
from directory.search.near import haversine_km

#: What a notice is about, as readers and moderators read it (`Notice.kind`).
KIND_LABELS: dict[str, object] = {
    "alert": _l("Air-raid alert"),
    "blackout": _l("Power cut"),
    "water": _l("Water outage"),
    "evacuation": _l("Evacuation"),
    "general": _l("Notice"),
}

#: A position belongs to the region of the nearest known place centre within this distance
#: (the gazetteer has centres, not boundaries: beyond this we do not guess).
NEAREST_PLACE_KM = 150.0
_RANK = {"danger": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Elsewhere:
    """One compact line: notices of one kind in regions other than the reader's."""

    kind: str
    severity: str  # the most severe of them
    regions: tuple[PlaceRef, ...]


@dataclass(frozen=True)
class NoticeBoard:
    """What the top of a page shows: notices in full, and compact lines for other regions."""

    here: tuple[NoticeView, ...] = ()
    elsewhere: tuple[Elsewhere, ...] = ()
    located: bool = False  # the page is about a region (no "choose your region" line)
    region: PlaceRef | None = None  # the region the page is about, when it is one
    #: Alerts of this region that ended a short while ago (directory.alerts.status.EndedAlert).
    ended: tuple[Any, ...] = ()
    #: Alert feeds are configured and one has gone silent: since when the status is unknown.
    unknown_since: dt.datetime | None = None

    @property
    def danger(self) -> tuple[NoticeView, ...]:
        return tuple(n for n in self.here if n.severity == "danger")

    @property
    def other(self) -> tuple[NoticeView, ...]:
        return tuple(n for n in self.here if n.severity != "danger")

    def __bool__(self) -> bool:
        return bool(self.here or self.elsewhere or self.ended or self.unknown_since)


def region_near(
    session: Session, near: tuple[float, float], *, locale: str = "en"
) -> uuid.UUID | None:
    """The region (or, above regions, the country) whose nearest place centre is within
    NEAREST_PLACE_KM of `near`: the region a near-me reader is in, as far as we can tell."""
    ref = reference.reference_data(session, locale)
    best: tuple[float, uuid.UUID] | None = None
    for p in ref.places.values():
        if p.archived or p.latitude is None or p.longitude is None or p.kind == "country":
            continue
        d = haversine_km(near, (p.latitude, p.longitude))
        if d <= NEAREST_PLACE_KM and (best is None or d < best[0]):
            best = (d, p.id)
    return _region_above(ref.places, best[1]) if best else None


def region_of(
    session: Session, place_id: uuid.UUID | None, *, locale: str = "en"
) -> uuid.UUID | None:
    """The region a place is in (itself when it is one)."""
    return _region_above(reference.reference_data(session, locale).places, place_id)


def _region_above(
    places: dict[uuid.UUID, reference.PlaceRow], pid: uuid.UUID | None
) -> uuid.UUID | None:
    region = next((row.id for row in reference.rows_up(places, pid) if row.kind == "region"), None)
    return region or (pid if pid in places else None)


def place_id_of(session: Session, value: str, *, locale: str = "en") -> uuid.UUID | None:
    """A place named by its code or id (as in `?place=`), if the gazetteer knows it."""
    ref = reference.reference_data(session, locale)
    try:
        pid: uuid.UUID | None = uuid.UUID(value)
    except ValueError:
        pid = None
    for p in ref.places.values():
        if not p.archived and (p.id == pid or (p.code is not None and p.code == value)):
            return p.id
    return None


def notice_board(
    session: Session,
    *,
    locale: str,
    now: dt.datetime,
    timezone: str,
    place_ids: Iterable[uuid.UUID | None] = (),
) -> NoticeBoard:
    """The notices for a page about `place_ids` (a chosen place, a listing's places): theirs,
    those of every place above them and nationwide ones, in full. With no place: nationwide
    notices in full, and the other regions' notices as one line per kind ("Air-raid alert:
    Dnipro, Kharkiv"). `timezone`: the zone of nationwide notices (`DIRECTORY_TIMEZONE`)."""
    ids = list(dict.fromkeys(p for p in place_ids if p is not None))
    if ids:
        seen: dict[uuid.UUID, NoticeView] = {}
        for pid in ids:
            for n in reference.notices_in_force(
                session, locale=locale, place_id=pid, now=now, timezone=timezone
            ):
                seen.setdefault(n.id, n)
        here = sorted(seen.values(), key=_order)
        ref = reference.reference_data(session, locale)
        region = _region_above(ref.places, ids[0])
        return NoticeBoard(
            here=tuple(here),
            located=True,
            region=ref.place_refs.get(region) if region else None,
        )
    everything = reference.notices_in_force(
        session, locale=locale, now=now, everywhere=True, timezone=timezone
    )
    # (a notice whose region was archived has no region to show, and is not nationwide)
    national_ids = {
        v.id
        for v, region_id in reference.reference_data(session, locale).notices
        if region_id is None
    }
    nationwide = tuple(n for n in everything if n.id in national_ids)
    lines: dict[str, list[NoticeView]] = {}
    for n in everything:
        if n.region is not None:
            lines.setdefault(n.kind, []).append(n)
    elsewhere = []
    for kind, group in lines.items():
        regions = {n.region.id: n.region for n in group if n.region is not None}
        elsewhere.append(
            Elsewhere(
                kind=kind,
                severity=min((n.severity for n in group), key=lambda s: _RANK.get(s, 3)),
                regions=tuple(sorted(regions.values(), key=lambda r: r.name.value.casefold())),
            )
        )
    elsewhere.sort(key=lambda e: (_RANK.get(e.severity, 3), e.kind))
    return NoticeBoard(here=nationwide, elsewhere=tuple(elsewhere))


def _order(n: NoticeView) -> tuple[int, float]:
    return (_RANK.get(n.severity, 3), -n.valid_from.timestamp())
