"""Opening hours in the location's own time zone: weekly schedules, overnight spans, 24/7, dated
exceptions; and temporary statuses that expire by themselves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace

from directory.listings.hours import effective_status, open_state, weekly_hours
from directory.listings.models import ServiceStatus

KYIV = "Europe/Kyiv"  # UTC+2 in winter
T = dt.time


@dataclass
class Rule:
    byday: str | None
    opens_at: T | None
    closes_at: T | None
    freq: str | None = "WEEKLY"
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    dtstart: dt.date | None = None
    until: dt.date | None = None


@dataclass
class Exc:
    date: dt.date
    closed: bool = True
    opens_at: T | None = None
    closes_at: T | None = None


WEEKDAYS_9_18 = [Rule("MO,TU,WE,TH,FR", T(9), T(18))]


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=dt.UTC)


def test_open_now_in_the_locations_zone() -> None:
    # Thursday 2026-01-15 07:30 UTC = 09:30 in Kyiv (open), = 08:30 in Warsaw (closed).
    now = utc(2026, 1, 15, 7, 30)
    kyiv = open_state(schedules=WEEKDAYS_9_18, timezone=KYIV, now=now)
    assert kyiv.open_now is True
    assert kyiv.closes_at == dt.datetime(2026, 1, 15, 18, 0, tzinfo=kyiv.closes_at.tzinfo)
    assert kyiv.closes_at.utcoffset() == dt.timedelta(hours=2)
    warsaw = open_state(schedules=WEEKDAYS_9_18, timezone="Europe/Warsaw", now=now)
    assert warsaw.open_now is False
    assert warsaw.opens_next is not None and warsaw.opens_next.hour == 9
    assert warsaw.opens_next.date() == dt.date(2026, 1, 15)


def test_opens_next_skips_the_weekend() -> None:
    friday_evening = utc(2026, 1, 16, 17, 0)  # 19:00 Kyiv
    state = open_state(schedules=WEEKDAYS_9_18, timezone=KYIV, now=friday_evening)
    assert state.open_now is False
    assert state.opens_next is not None
    assert (state.opens_next.date(), state.opens_next.hour) == (dt.date(2026, 1, 19), 9)


def test_overnight_span_20_to_08() -> None:
    rules = [Rule("MO", T(20), T(8))]  # Monday night only
    monday_late = utc(2026, 1, 12, 21, 0)  # Mon 23:00 Kyiv
    tuesday_early = utc(2026, 1, 13, 4, 0)  # Tue 06:00 Kyiv
    tuesday_late = utc(2026, 1, 13, 19, 0)  # Tue 21:00: Tuesday has no span
    s1 = open_state(schedules=rules, timezone=KYIV, now=monday_late)
    assert s1.open_now and s1.closes_at is not None and s1.closes_at.hour == 8
    assert s1.closes_at.date() == dt.date(2026, 1, 13)
    assert open_state(schedules=rules, timezone=KYIV, now=tuesday_early).open_now is True
    assert open_state(schedules=rules, timezone=KYIV, now=tuesday_late).open_now is False


def test_open_24_7_and_back_to_back_spans() -> None:
    now = utc(2026, 1, 15, 1, 0)
    state = open_state(schedules=[], timezone=KYIV, open_24_7=True, now=now)
    assert state.open_now and state.always_open and state.closes_at is None
    chained = [Rule("TH", T(20), T(0)), Rule("FR", T(0), T(8))]
    s = open_state(schedules=chained, timezone=KYIV, now=utc(2026, 1, 15, 20, 0))  # Thu 22:00
    assert s.open_now and s.closes_at is not None
    assert (s.closes_at.date(), s.closes_at.hour) == (dt.date(2026, 1, 16), 8)


def test_dated_closure_and_special_hours() -> None:
    now = utc(2026, 1, 15, 8, 0)  # Thu 10:00 Kyiv
    closed = open_state(
        schedules=WEEKDAYS_9_18, exceptions=[Exc(dt.date(2026, 1, 15))], timezone=KYIV, now=now
    )
    assert closed.open_now is False and closed.closed_today
    assert closed.opens_next is not None and closed.opens_next.date() == dt.date(2026, 1, 16)
    short = [Exc(dt.date(2026, 1, 15), closed=False, opens_at=T(12), closes_at=T(14))]
    s = open_state(schedules=WEEKDAYS_9_18, exceptions=short, timezone=KYIV, now=now)
    assert s.open_now is False and s.opens_next is not None and s.opens_next.hour == 12
    # a closing exception closes even a 24/7 place that day
    s247 = open_state(
        schedules=[], exceptions=[Exc(dt.date(2026, 1, 15))], timezone=KYIV, open_24_7=True, now=now
    )
    assert s247.open_now is False


def test_unknown_hours_and_validity() -> None:
    assert open_state(schedules=[], timezone=KYIV, now=utc(2026, 1, 15, 8)).open_now is None
    expired = [Rule("MO,TU,WE,TH,FR", T(9), T(18), valid_to=dt.date(2026, 1, 1))]
    assert open_state(schedules=expired, timezone=KYIV, now=utc(2026, 1, 15, 8)).open_now is False
    assert (
        open_state(
            schedules=[Rule("TH", T(9), T(18), freq="MONTHLY")],
            timezone=KYIV,
            now=utc(2026, 1, 15, 8),
        ).open_now
        is None
    )


def test_empty_byday_means_every_day_and_bad_zone_falls_back() -> None:
    rules = [Rule(None, T(8), T(20))]
    assert open_state(schedules=rules, timezone="Not/AZone", now=utc(2026, 1, 18, 8)).open_now


def test_weekly_table() -> None:
    table = weekly_hours([*WEEKDAYS_9_18, Rule("SA", T(10), T(14))])
    assert [d.spans for d in table][4:] == [((T(9), T(18)),), ((T(10), T(14)),), ()]


def _svc(
    status: str, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> SimpleNamespace:
    return SimpleNamespace(status=status, status_since=since, status_until=until)


def test_temporary_status_expires_by_itself() -> None:
    now = utc(2026, 1, 15, 12)
    closed = _svc("temporarily closed", now - dt.timedelta(hours=1), now + dt.timedelta(hours=6))
    assert effective_status(closed, now) is ServiceStatus.temporarily_closed
    assert effective_status(closed, now + dt.timedelta(hours=6)) is ServiceStatus.active
    assert effective_status(_svc("full", until=now), now) is ServiceStatus.active
    assert effective_status(_svc("full"), now) is ServiceStatus.full  # no end: stays full
    later = _svc("temporarily closed", since=now + dt.timedelta(days=1))
    assert effective_status(later, now) is ServiceStatus.active  # not begun yet
    assert effective_status(_svc("defunct", until=now), now) is ServiceStatus.defunct
