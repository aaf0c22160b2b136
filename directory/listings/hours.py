"""Opening hours: HSDS weekly schedules plus dated exceptions, in the location's IANA time zone.

Rules (shared with the SQL `open now` filter in `hours_sql.py`, which must agree with them):
- a weekly schedule (freq WEEKLY or empty, `byday` like "MO,TU"; empty `byday` = every day) that
  is valid on a date (`valid_from`/`valid_to`, `dtstart`/`until`) opens at `opens_at` and closes at
  `closes_at` that day; `closes_at <= opens_at` means it closes the next day (20:00-08:00);
- a `schedule_exception` for a date replaces that date's weekly hours: `closed` with no times =
  closed all day, otherwise its own hours;
- a location marked `open_24_7` is always open (a closing exception still closes it that day).
Times are wall-clock times in the location's zone; `now` is any aware datetime.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from directory.listings.models import ServiceStatus

WEEKDAYS: tuple[str, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
TEMPORARY_STATUSES = frozenset({ServiceStatus.temporarily_closed, ServiceStatus.full})
_HORIZON_DAYS = 8


class WeeklyRule(Protocol):
    freq: str | None
    byday: str | None
    opens_at: dt.time | None
    closes_at: dt.time | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    dtstart: dt.date | None
    until: dt.date | None


class DatedException(Protocol):
    date: dt.date
    closed: bool
    opens_at: dt.time | None
    closes_at: dt.time | None


@dataclass(frozen=True, slots=True)
class DayHours:
    """One row of the hours table: weekday 0 = Monday, spans as (opens, closes) wall-clock times."""

    weekday: int
    spans: tuple[tuple[dt.time, dt.time], ...]


@dataclass(frozen=True, slots=True)
class OpenState:
    """Whether a place is open at `now`, in its own zone. `open_now` None = hours unknown."""

    open_now: bool | None
    closes_at: dt.datetime | None  # local time, when open now (None: open round the clock)
    opens_next: dt.datetime | None  # local time, when closed now and an opening is known
    always_open: bool
    closed_today: bool  # a dated exception closes today
    timezone: str


@lru_cache(maxsize=512)
def zone(name: str | None, default: str = "Europe/Kyiv") -> zoneinfo.ZoneInfo:
    """The IANA zone `name`, or `default` when it is empty or unknown."""
    try:
        return zoneinfo.ZoneInfo(name or default)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(default)


@lru_cache(maxsize=1024)
def byday_codes(byday: str | None) -> frozenset[int]:
    if not byday or not byday.strip():
        return frozenset(range(7))
    codes = {c.strip().upper()[-2:] for c in byday.split(",")}
    return frozenset(i for i, code in enumerate(WEEKDAYS) if code in codes)


def is_weekly(rule: WeeklyRule) -> bool:
    return (
        (rule.freq in (None, "", "WEEKLY"))
        and rule.opens_at is not None
        and (rule.closes_at is not None)
    )


def _valid_on(rule: WeeklyRule, day: dt.date) -> bool:
    start = rule.valid_from or rule.dtstart
    end = rule.valid_to or rule.until
    return (start is None or start <= day) and (end is None or day <= end)


def weekly_hours(schedules: Iterable[WeeklyRule], *, on: dt.date | None = None) -> list[DayHours]:
    """The weekly hours table (Monday first), from the schedules valid on `on` (all if None)."""
    days: list[set[tuple[dt.time, dt.time]]] = [set() for _ in range(7)]
    for rule in schedules:
        if not is_weekly(rule) or (on is not None and not _valid_on(rule, on)):
            continue
        assert rule.opens_at is not None and rule.closes_at is not None
        for wd in byday_codes(rule.byday):
            days[wd].add((rule.opens_at, rule.closes_at))
    return [DayHours(wd, tuple(sorted(spans))) for wd, spans in enumerate(days)]


def _interval(
    day: dt.date, opens: dt.time, closes: dt.time, tz: dt.tzinfo
) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, opens, tzinfo=tz)
    end_day = day if closes > opens else day + dt.timedelta(days=1)
    return start, dt.datetime.combine(end_day, closes, tzinfo=tz)


#: A weekly rule reduced to what `open_state` evaluates: (weekdays, opens, closes, first, last).
_Rule = tuple[frozenset[int], dt.time, dt.time, dt.date | None, dt.date | None]


def _prepared(rules: Iterable[WeeklyRule]) -> list[_Rule]:
    out: list[_Rule] = []
    for r in rules:
        if is_weekly(r):
            assert r.opens_at is not None and r.closes_at is not None
            out.append(
                (
                    byday_codes(r.byday),
                    r.opens_at,
                    r.closes_at,
                    r.valid_from or r.dtstart,
                    r.valid_to or r.until,
                )
            )
    return out


def _intervals_on(
    day: dt.date,
    rules: Sequence[_Rule],
    exceptions: dict[dt.date, list[DatedException]],
    always: bool,
    tz: dt.tzinfo,
) -> list[tuple[dt.datetime, dt.datetime]]:
    if day in exceptions:
        out = []
        for exc in exceptions[day]:
            if exc.opens_at is not None and exc.closes_at is not None:
                out.append(_interval(day, exc.opens_at, exc.closes_at, tz))
        return out
    if always:
        return [_interval(day, dt.time(0), dt.time(0), tz)]
    weekday = day.weekday()
    return [
        _interval(day, opens, closes, tz)
        for days, opens, closes, first, last in rules
        if weekday in days and (first is None or first <= day) and (last is None or day <= last)
    ]


def open_state(
    *,
    schedules: Iterable[WeeklyRule],
    exceptions: Iterable[DatedException] = (),
    timezone: str | None,
    open_24_7: bool | None = False,
    now: dt.datetime,
) -> OpenState:
    """Open now / closes at / opens next, evaluated in `timezone`."""
    tz = zone(timezone)
    local = now.astimezone(tz)
    rules = _prepared(schedules)
    by_date: dict[dt.date, list[DatedException]] = {}
    for exc in exceptions:
        by_date.setdefault(exc.date, []).append(exc)
    today = local.date()
    closed_today = any(
        e.opens_at is None or e.closes_at is None for e in by_date.get(today, [])
    ) and not any(e.opens_at is not None for e in by_date.get(today, []))
    always = bool(open_24_7)
    if not rules and not always and not by_date:
        return OpenState(None, None, None, False, False, tz.key)
    intervals: list[tuple[dt.datetime, dt.datetime]] = []
    for offset in range(-1, _HORIZON_DAYS):
        day = today + dt.timedelta(days=offset)
        intervals.extend(_intervals_on(day, rules, by_date, always, tz))
    intervals.sort()
    current = [iv for iv in intervals if iv[0] <= local < iv[1]]
    if current:
        end = max(iv[1] for iv in current)
        for start, stop in intervals:  # follow back-to-back spans (Mon 20-24, Tue 0-8 ...)
            if start <= end < stop:
                end = stop
        horizon = dt.datetime.combine(today, dt.time(0), tzinfo=tz) + dt.timedelta(
            days=_HORIZON_DAYS - 1
        )
        closes = None if end >= horizon else end
        return OpenState(True, closes, None, always and not by_date, closed_today, tz.key)
    upcoming = [iv[0] for iv in intervals if iv[0] > local]
    return OpenState(False, None, min(upcoming) if upcoming else None, False, closed_today, tz.key)


#: Statuses under which a place is not open, whatever its hours say.
CLOSED_STATUSES = frozenset(
    {ServiceStatus.temporarily_closed, ServiceStatus.inactive, ServiceStatus.defunct}
)


def with_status(state: OpenState, status: ServiceStatus, until: dt.datetime | None) -> OpenState:
    """The open state a reader sees: a temporarily closed (or closed) service is not open now,
    whatever its hours say; it opens next at its first opening after `until` (if known). The
    SQL "open now" filter applies the same rule (`hours_sql.closed_now`)."""
    if status not in CLOSED_STATUSES:
        return state
    after = state.opens_next
    if after is not None and (until is None or after < until):
        after = None  # the hours' next opening falls inside the closure
    return OpenState(False, None, after, False, state.closed_today, state.timezone)


def effective_status(service: Any, now: dt.datetime) -> ServiceStatus:
    """The status a reader sees: a temporary status (temporarily closed, full) applies from
    `status_since` and expires by itself at `status_until`, after which the service is active."""
    status = ServiceStatus(service.status)
    if status in TEMPORARY_STATUSES:
        until = service.status_until
        since = service.status_since
        if until is not None and now >= until:
            return ServiceStatus.active
        if since is not None and now < since:
            return ServiceStatus.active
    return status
