"""Form input of the manage pages turned into change payloads (and back, to refill a form).

Only shape conversion lives here (strings from HTML forms → the JSON values the moderation
service validates); every rule (ranges, phone numbers, who may publish) is the service's.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from directory.listings.reasons import LABELS as CLOSURE_REASONS

#: Quick status buttons → service.status values.
QUICK_STATUSES = {
    "open": "active",
    "full": "full",
    "paused": "temporarily closed",
    "closed": "inactive",
}
#: "Closed for how long" choices: hours from now, or "morning" = tomorrow 08:00 local time.
DURATIONS = ("1", "3", "6", "morning", "")
TRANSLATION_LOCALES = ("uk", "en", "ru", "pl", "de", "ar")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def parse_int(value: str | None) -> int | None:
    """A whole number typed in a form ("12", " 12 "), else None (never an exception)."""
    value = (value or "").strip()
    if not value or len(value) > 12 or not value.lstrip("-").isdigit():
        return None
    return int(value)


def status_until(duration: str, *, now: dt.datetime, tz: str) -> str | None:
    """The end of a temporary status as an ISO timestamp (None = until further notice)."""
    if duration == "morning":
        local = now.astimezone(zoneinfo.ZoneInfo(tz))
        morning = (local + dt.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
        return morning.astimezone(dt.UTC).isoformat()
    if duration in ("1", "3", "6"):
        return (now + dt.timedelta(hours=int(duration))).replace(microsecond=0).isoformat()
    return None


def status_payload(
    *,
    quick: str,
    reason_code: str,
    reason_text: str,
    duration: str,
    now: dt.datetime,
    tz: str,
    locale: str,
    alternative: str = "",
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The service fields and translations of a quick status change: a one-tap reason is a
    code (every reader reads it in their language), words of one's own are text in the
    language they were typed in (the volunteer's), with an alternative service if chosen."""
    status = QUICK_STATUSES[quick]
    temporary = status in ("temporarily closed", "full")
    reason = reason_text.strip()
    payload: dict[str, Any] = {
        "status": status,
        "status_reason_code": reason_code if temporary and reason_code in CLOSURE_REASONS else None,
        "status_until": status_until(duration, now=now, tz=tz) if temporary else None,
    }
    if alternative or not temporary:
        payload["alternative_service_id"] = alternative if temporary else None
    texts = {"status_reason": {locale: reason}} if reason and temporary else {}
    return payload, texts


def capacity_payload(available: int | None, maximum: int | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"capacity_available": available}
    if maximum is not None:
        payload["capacity_maximum"] = maximum
    return payload


def text(form: Mapping[str, Any], name: str) -> str | None:
    value = str(form.get(name, "")).strip()
    return value or None


# --- notices: times typed in the region's own zone ----------------------------------------------


class NonexistentLocalTime(ValueError):
    """A wall-clock time the zone skips (the hour the clocks go forward)."""


def local_to_utc(value: str, tz: str) -> dt.datetime | None:
    """A `datetime-local` input ("2026-03-29T14:06"), a wall time in `tz`, as a UTC instant.
    Empty: None. Raises ValueError when it is not a time, NonexistentLocalTime when the zone
    skips it (Europe/Kyiv has no 03:30 on the last Sunday of March). A time that happens twice
    (the hour the clocks go back) is its first occurrence."""
    value = value.strip()
    if not value:
        return None
    naive = dt.datetime.fromisoformat(value)
    if naive.tzinfo is not None:
        raise ValueError("a wall-clock time has no offset")
    zone = zoneinfo.ZoneInfo(tz)
    aware = naive.replace(tzinfo=zone, fold=0)
    utc = aware.astimezone(dt.UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentLocalTime(value)
    return utc


def utc_to_local_input(value: dt.datetime | None, tz: str) -> str:
    """A UTC instant as a `datetime-local` value in `tz` ("2026-03-29T14:06")."""
    if value is None:
        return ""
    return value.astimezone(zoneinfo.ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
