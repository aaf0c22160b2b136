"""The standard parameters of the HSDS API reference, parsed once per request.

The official OpenAPI document types most of them loosely (`page` and `per_page` any integer,
`proximity` and `format` any string); values it allows are accepted: a page below 1 is the
first page, `per_page` is clamped to 1..`MAX_PER_PAGE`, a `format` other than `ndjson` is the
default JSON page. What cannot mean anything (a `modified_after` that is no date, a
`proximity` that is no number of metres) is an RFC 9457 problem (422) naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass

from directory.errors import ValidationFailed

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
MAX_SEARCH = 200
MAX_PROXIMITY_M = 1_000_000


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int
    ndjson: bool

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def paging(page: int | None, per_page: int | None, fmt: str | None) -> Paging:
    p = 1 if page is None or page < 1 else min(page, 10**9)
    n = DEFAULT_PER_PAGE if per_page is None else max(1, min(MAX_PER_PAGE, per_page))
    return Paging(page=p, per_page=n, ndjson=(fmt or "").strip().lower() == "ndjson")


def search_text(value: str | None) -> str:
    """The search words (control characters dropped: PostgreSQL refuses NUL in text)."""
    if not value:
        return ""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value)
    return cleaned.strip()[:MAX_SEARCH]


def uuid_or_none(value: str | None) -> uuid.UUID | None | bool:
    """A UUID; None when absent; False when given but no UUID of ours (matches nothing)."""
    if value is None or value == "":
        return None
    try:
        return uuid.UUID(value.strip())
    except (ValueError, AttributeError):
        return False


def modified_after(value: str | None) -> dt.datetime | None:
    """An RFC 3339 / ISO 8601 date or date-time (UTC when it names no offset)."""
    if value is None or value.strip() == "":
        return None
    raw = value.strip()
    try:
        if len(raw) == 10:
            parsed = dt.datetime.combine(dt.date.fromisoformat(raw), dt.time())
        else:
            parsed = dt.datetime.fromisoformat(raw.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            [
                {
                    "path": "modified_after",
                    "message": "must be a date-time such as 2026-12-01T08:00:00Z",
                }
            ]
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def proximity(value: str | None) -> float | None:
    """Metres from the postcode's centre."""
    if value is None or value.strip() == "":
        return None
    try:
        metres = float(value.strip())
    except ValueError:
        metres = math.nan
    if not math.isfinite(metres) or metres < 0:
        raise ValidationFailed(
            [{"path": "proximity", "message": "must be a number of metres, e.g. 5000"}]
        )
    return min(metres, MAX_PROXIMITY_M)


def postcode(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()[:20]
    return cleaned or None
