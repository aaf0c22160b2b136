"""Notice times in the place's zone: at a zone boundary (Warsaw vs Kyiv, the date line of a
reader) and across the DST changes of Europe/Kyiv (last Sunday of March and of October); the
form's wall-clock times round-trip through UTC."""

from __future__ import annotations

import datetime as dt

import pytest

from directory import i18n
from directory.listings.queries import NoticeView
from directory.listings.texts import LocalText
from directory.manage.forms import NonexistentLocalTime, local_to_utc, utc_to_local_input
from directory.web.templating import _notice_when

UTC = dt.UTC


def _when(notice: NoticeView, now: dt.datetime) -> str:
    return _notice_when(notice, now).replace("\u202f", " ")


def _notice(start: dt.datetime, end: dt.datetime | None, tz: str | None) -> NoticeView:
    return NoticeView(
        id=__import__("uuid").uuid4(),
        severity="danger",
        title=LocalText("Alert", "en", False),
        body=None,
        region=None,
        valid_from=start,
        valid_until=end,
        is_demo=False,
        kind="alert",
        timezone=tz,
    )


@pytest.fixture(autouse=True)
def _english() -> None:
    i18n.set_locale("en")


def test_kyiv_alert_at_noon_reads_local_time_not_utc() -> None:
    start = dt.datetime(2026, 7, 1, 9, 6, tzinfo=UTC)  # 12:06 in Kyiv (EEST, UTC+3)
    now = start
    text = _when(_notice(start, start + dt.timedelta(hours=2), "Europe/Kyiv"), now)
    assert text == "since 12:06 PM · until 2:06 PM (Kyiv time)"


def test_zone_boundary_warsaw_and_kyiv_one_instant() -> None:
    start = dt.datetime(2026, 7, 1, 21, 30, tzinfo=UTC)  # Wednesday 23:30 in Warsaw
    now = dt.datetime(2026, 7, 1, 20, 45, tzinfo=UTC)  # 22:45 in Warsaw, 23:45 in Kyiv
    assert _when(_notice(start, None, "Europe/Warsaw"), now) == "since 11:30 PM (Warsaw time)"
    # in Kyiv the same instant is already tomorrow (Thursday 00:30): the day is named, on the
    # same 12-hour clock as today's times
    text = _when(_notice(start, None, "Europe/Kyiv"), now).replace("\u202f", " ")
    assert text == "since Thu 12:30 AM (Kyiv time)"


def test_across_the_spring_dst_change_in_kyiv() -> None:
    # 2026-03-29 (last Sunday of March): at 01:00 UTC Kyiv goes from UTC+2 to UTC+3
    before = dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    after = dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (
        _when(_notice(before, after, "Europe/Kyiv"), before)
        == "since 2:30 AM · until 4:30 AM (Kyiv time)"
    )
    with pytest.raises(NonexistentLocalTime):
        local_to_utc("2026-03-29T03:30", "Europe/Kyiv")  # the hour the clocks skip
    assert local_to_utc("2026-03-29T04:30", "Europe/Kyiv") == after


def test_across_the_autumn_dst_change_in_kyiv() -> None:
    # 2026-10-25 (last Sunday of October): at 01:00 UTC Kyiv goes from UTC+3 back to UTC+2
    before = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 03:30 EEST
    after = dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 03:30 EET, the second 03:30
    assert (
        _when(_notice(before, after, "Europe/Kyiv"), before)
        == "since 3:30 AM · until 3:30 AM (Kyiv time)"
    )
    assert local_to_utc("2026-10-25T03:30", "Europe/Kyiv") == before  # the first occurrence
    assert local_to_utc("2026-10-25T05:00", "Europe/Kyiv") == dt.datetime(
        2026, 10, 25, 3, 0, tzinfo=UTC
    )


def test_form_values_round_trip_in_the_regions_zone() -> None:
    when = dt.datetime(2026, 12, 3, 10, 6, tzinfo=UTC)
    assert utc_to_local_input(when, "Europe/Kyiv") == "2026-12-03T12:06"
    assert utc_to_local_input(when, "Europe/Warsaw") == "2026-12-03T11:06"
    assert local_to_utc("2026-12-03T12:06", "Europe/Kyiv") == when
    assert local_to_utc("", "Europe/Kyiv") is None
    with pytest.raises(ValueError):
        local_to_utc("tomorrow", "Europe/Kyiv")


def test_notice_times_in_every_locale_name_the_zone() -> None:
    start = dt.datetime(2026, 7, 1, 9, 6, tzinfo=UTC)
    notice = _notice(start, start + dt.timedelta(hours=2), "Europe/Kyiv")
    expected = {"uk": "Київ", "ru": "Киев", "pl": "Kijów", "de": "Kiew", "ar": "كييف"}
    for code, city in expected.items():
        i18n.set_locale(code)
        text = _notice_when(notice, start)
        assert city in text and ("14:06" in text or "2:06" in text), (code, text)
    i18n.set_locale("uk")
    assert _notice_when(notice, start) == "з 12:06 · до 14:06 (час: Київ)"
