"""Why a service is closed or full, as a code every reader reads in their own language.

A volunteer's one-tap reason ("Power cut", "Air-raid alert", ...) is stored as a code
(`service.status_reason_code`) and shown through gettext in each reader's locale; a reason in
someone's own words stays text (`service.status_reason`, translatable, shown with its lang/dir).
"""

from __future__ import annotations

from typing import Any

from directory.i18n import lazy_gettext as _l
from directory.listings.models import ClosureReason

#: Labels of the codes, in the order the volunteer app offers them.
LABELS: dict[str, Any] = {
    ClosureReason.alert.value: _l("Air-raid alert"),
    ClosureReason.power.value: _l("Power cut"),
    ClosureReason.staff.value: _l("No staff on duty"),
    ClosureReason.supplies.value: _l("Out of supplies"),
    ClosureReason.repairs.value: _l("Repairs"),
    ClosureReason.damage.value: _l("Damaged by shelling"),
}
assert set(LABELS) == {r.value for r in ClosureReason}  # noqa: S101 - one list of codes

#: The English labels the volunteer app stored as text before codes existed (migration, import).
ENGLISH: dict[str, str] = {
    "Air-raid alert": "alert",
    "Power cut": "power",
    "No staff on duty": "staff",
    "Out of supplies": "supplies",
    "Repairs": "repairs",
    "Damaged by shelling": "damage",
}


def label(code: str | None) -> str | None:
    """The reason of `code` in the current locale (None for no or an unknown code)."""
    text = LABELS.get(code or "")
    return str(text) if text is not None else None
