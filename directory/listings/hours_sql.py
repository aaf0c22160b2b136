"""The SQL twin of `listings.hours`: "open now" and a temporary status in force, as conditions
on `service` / `location` that both databases evaluate with indexes, in each location's own
time zone. They must agree with `hours.open_state` and `hours.with_status` (tests compare them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    Time,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings.hours import WEEKDAYS, zone
from directory.search.match import ZONES

_TEMPORARY = (m.ServiceStatus.temporarily_closed, m.ServiceStatus.full)


def temporary_now(now: dt.datetime) -> ColumnElement[bool]:
    return and_(
        m.Service.status.in_(_TEMPORARY),
        or_(m.Service.status_until.is_(None), m.Service.status_until > now),
        or_(m.Service.status_since.is_(None), m.Service.status_since <= now),
    )


def closed_now(now: dt.datetime) -> ColumnElement[bool]:
    """Temporarily closed at `now` (SQL twin of `hours.with_status`: such a service is never
    "open now", whatever its hours say; inactive and defunct ones are not listed at all)."""
    return and_(
        m.Service.status == m.ServiceStatus.temporarily_closed,
        or_(m.Service.status_until.is_(None), m.Service.status_until > now),
        or_(m.Service.status_since.is_(None), m.Service.status_since <= now),
    )


def _location_zones(session: Session) -> list[str]:
    """The time zones of indexed locations (kept by the indexer; a tiny table)."""
    return [z for z in session.scalars(select(ZONES.c.name)) if z]


def _in_hours(opens: Any, closes: Any, t: Any) -> ColumnElement[bool]:
    """A span starting that day covers wall-clock time `t` (closes <= opens: past midnight)."""
    return and_(opens <= t, or_(closes > t, closes <= opens))


def _tail(opens: Any, closes: Any, t: Any) -> ColumnElement[bool]:
    """A span that started the day before and runs past midnight still covers `t`."""
    return and_(closes <= opens, closes > t)


def _weekly(day: Any, code: Any, when: ColumnElement[bool]) -> ColumnElement[bool]:
    s = m.Schedule
    return (
        exists()
        .where(
            or_(
                s.service_id == m.Service.id,
                s.location_id == m.Location.id,
                s.service_at_location_id == m.ServiceAtLocation.id,
            ),
            s.archived_at.is_(None),
            or_(s.freq.is_(None), s.freq == "WEEKLY"),
            s.opens_at.is_not(None),
            s.closes_at.is_not(None),
            or_(s.byday.is_(None), s.byday == "", func.upper(s.byday).contains(code)),
            or_(s.valid_from.is_(None), s.valid_from <= day),
            or_(s.dtstart.is_(None), s.dtstart <= day),
            or_(s.valid_to.is_(None), s.valid_to >= day),
            or_(s.until.is_(None), s.until >= day),
            when,
        )
        .correlate_except(s)
    )  # service, location, service_at_location come from the outer query


def _exception(day: Any, when: ColumnElement[bool] | None = None) -> ColumnElement[bool]:
    e = m.ScheduleException
    conds = [
        or_(e.location_id == m.Location.id, e.service_id == m.Service.id),
        e.archived_at.is_(None),
        e.date == day,
    ]
    if when is not None:
        conds += [e.opens_at.is_not(None), e.closes_at.is_not(None), when]
    return exists().where(*conds).correlate_except(e)


def _zone_clock(session: Session, now: dt.datetime) -> Any:
    """A small derived table: for each time zone in use, its local date, yesterday, wall-clock
    time and weekday codes at `now` (so the SQL does not grow with the number of zones)."""
    rows = []
    for name in _location_zones(session):
        local = now.astimezone(zone(name))
        today = local.date()
        yday = today - dt.timedelta(days=1)
        rows.append(
            select(
                literal(name, String()).label("name"),
                literal(today, Date()).label("today"),
                literal(yday, Date()).label("yday"),
                literal(local.time().replace(tzinfo=None), Time()).label("t"),
                literal(WEEKDAYS[today.weekday()], String()).label("wd"),
                literal(WEEKDAYS[yday.weekday()], String()).label("ywd"),
            )
        )
    if not rows:
        return None
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("zone_clock")


def open_now(session: Session, now: dt.datetime) -> ColumnElement[bool]:
    """SQL twin of `hours.open_state(...).open_now`, in each location's zone (see hours.py)."""
    zc = _zone_clock(session, now)
    if zc is None:
        return m.Location.id.is_(None)  # no location at all
    s, e = m.Schedule, m.ScheduleException
    today_open = or_(
        and_(
            ~_exception(zc.c.today),
            or_(
                m.Location.open_24_7.is_(True),
                _weekly(zc.c.today, zc.c.wd, _in_hours(s.opens_at, s.closes_at, zc.c.t)),
            ),
        ),
        _exception(zc.c.today, _in_hours(e.opens_at, e.closes_at, zc.c.t)),
    )
    tail = or_(
        and_(
            ~_exception(zc.c.yday),
            m.Location.open_24_7.is_not(True),
            _weekly(zc.c.yday, zc.c.ywd, _tail(s.opens_at, s.closes_at, zc.c.t)),
        ),
        _exception(zc.c.yday, _tail(e.opens_at, e.closes_at, zc.c.t)),
    )
    return (
        exists().where(zc.c.name == m.Location.timezone, or_(today_open, tail)).correlate_except(zc)
    )
