"""The services' English error details turned into messages in the person's language.

Services speak English to API clients and logs; a volunteer reads the same rule in their own
language next to the field it concerns. Unknown details fall back to a general sentence (never
to a raw English string in a localised page).
"""

from __future__ import annotations

import re
from typing import Any

from directory.errors import DomainError, Forbidden, NotFound, ValidationFailed
from directory.i18n import gettext as _

_PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(r"^must be at least (?P<n>[\d.-]+)"),
        lambda m: _("Must be %(n)s or more.", n=m["n"]),
    ),
    (
        re.compile(r"^must be at most (?P<n>\d+) characters"),
        lambda m: _("Must be %(n)s characters or fewer.", n=m["n"]),
    ),
    (
        re.compile(r"^must be at most (?P<n>[\d.-]+)"),
        lambda m: _("Must be %(n)s or less.", n=m["n"]),
    ),
    (
        re.compile(r"^must be a whole number|^must be a number"),
        lambda m: _("Please enter a number."),
    ),
    (
        re.compile(r"^free places cannot exceed the total"),
        lambda m: _("Free places cannot be more than the places in total."),
    ),
    (
        re.compile(r"^is not a valid phone number|^must be an international number"),
        lambda m: _(
            "Please enter the phone number with its country code, for example +380 44 123 4567."
        ),
    ),
    (
        re.compile(r"^is not a valid email address"),
        lambda m: _("Please enter a valid email address."),
    ),
    (
        re.compile(r"^must be an http|^is not a valid URL|^must not contain spaces"),
        lambda m: _("Please enter a web address starting with https://."),
    ),
    (re.compile(r"^must be in the future"), lambda m: _("This time has already passed.")),
    (re.compile(r"^must not be empty|^is required"), lambda m: _("Please fill this in.")),
    (
        re.compile(r"^latitude and longitude go together"),
        lambda m: _("Enter both latitude and longitude, or neither."),
    ),
    (
        re.compile(r"^opens_at and closes_at go together"),
        lambda m: _("Enter both the opening and the closing time."),
    ),
    (re.compile(r"^contains"), lambda m: _("This text contains characters that are not allowed.")),
    (re.compile(r"^nothing to change"), lambda m: _("Nothing was changed.")),
    (re.compile(r"^unknown category"), lambda m: _("Unknown category.")),
]


def translate_detail(detail: str) -> str:
    for pattern, make in _PATTERNS:
        match = pattern.search(detail)
        if match:
            return str(make(match))
    return _("This value is not valid.")


def error_messages(exc: DomainError) -> dict[str, str]:
    """{form field name: message}; `form` holds what concerns the whole form."""
    if isinstance(exc, ValidationFailed):
        out: dict[str, str] = {}
        for error in exc.errors:
            path = error.get("path", "")
            name = path.rsplit("/", 1)[-1] if not path.startswith("translations/") else path
            out.setdefault(name or "", translate_detail(error.get("message", "")))
        out.setdefault("form", out.get("") or _("Please check the highlighted fields."))
        return out
    if isinstance(exc, Forbidden):
        return {
            "form": _("Your account may not change this listing (it may be outside your regions).")
        }
    if isinstance(exc, NotFound):
        return {"form": _("This record no longer exists.")}
    return {"form": _("This change could not be saved.")}
