"""OpenStreetMap `opening_hours` → the directory's weekly schedules.

The value is parsed by `opening-hours-py` (the Rust `opening-hours` crate's bindings, which
implement the whole specification). It is then evaluated over two reference weeks (winter and
summer): when both weeks agree and nothing is unknown or commented, the open intervals become
weekly rules (`MO,TU 08:00-18:00`; an interval past midnight is split at midnight). Anything
else (seasons, dates, "by appointment", a typo) is kept word for word as a note for the
moderator and the reader.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WEEKS = (dt.datetime(2024, 1, 8), dt.datetime(2024, 7, 8))  # Mondays, no public holiday


@dataclass
class Hours:
    schedules: list[dict[str, str]] = field(default_factory=list)
    open_24_7: bool = False
    note: str | None = None  # the raw value, when it is not (only) weekly hours


def parse_opening_hours(value: str) -> Hours:
    value = value.strip()
    if not value:
        return Hours()
    if value == "24/7":
        return Hours(open_24_7=True)
    if any(word in value.lower() for word in ("sunrise", "sunset", "dawn", "dusk")):
        return Hours(note=value)  # the sun's times depend on the place and the day
    try:
        from opening_hours import OpeningHours

        oh = OpeningHours(value)
        weeks = [_week(oh, start) for start in _WEEKS]
    except Exception:  # ParserError, or an evaluation the library refuses
        return Hours(note=value)
    if any(w is None for w in weeks) or weeks[0] != weeks[1]:
        return Hours(note=value)
    pieces = weeks[0]
    assert pieces is not None
    if pieces and all(pieces.get(d) == [("00:00", "00:00")] for d in range(7)):
        return Hours(open_24_7=True)
    by_span: dict[tuple[str, str], list[int]] = defaultdict(list)
    for day in range(7):
        for span in pieces.get(day, []):
            by_span[span].append(day)
    schedules = [
        {
            "freq": "WEEKLY",
            "byday": ",".join(DAYS[d] for d in days),
            "opens_at": opens,
            "closes_at": closes,
        }
        for (opens, closes), days in sorted(by_span.items(), key=lambda kv: (kv[1][0], kv[0]))
    ]
    if not schedules:
        return Hours(note=value)  # never open in a normal week ("off", "PH 10:00-12:00")
    return Hours(schedules=schedules)


def _week(oh: object, start: dt.datetime) -> dict[int, list[tuple[str, str]]] | None:
    """Open intervals of one week, split at midnight, per weekday; None when any part of the
    week is unknown or carries a comment."""
    from opening_hours import State

    end = start + dt.timedelta(days=7)
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for s, e, state, comment in oh.intervals(start, end):  # type: ignore[attr-defined]
        if comment or state == State.UNKNOWN:
            return None
        if state != State.OPEN:
            continue
        e = min(e or end, end)
        while s < e:
            midnight = dt.datetime.combine(s.date() + dt.timedelta(days=1), dt.time())
            piece_end = min(e, midnight)
            out[s.weekday()].append((s.strftime("%H:%M"), piece_end.strftime("%H:%M")))
            s = piece_end
    return dict(out)
