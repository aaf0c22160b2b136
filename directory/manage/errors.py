"""The services' errors in the person's language, by their stable codes.

Services speak English to API clients and logs and give every field error a `code` (and the
`params` its sentence needs; `directory.errors.FieldError`); a volunteer reads the same rule in
their own language next to the field it concerns. Codes without a sentence here fall back to a
general one (never to a raw English string in a localised page).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from directory.errors import DomainError, Forbidden, NotFound, ValidationFailed
from directory.i18n import gettext as _

Params = Mapping[str, Any]

#: code → the sentence shown next to the field (params fill it in).
MESSAGES: dict[str, Callable[[Params], str]] = {
    "too_small": lambda p: _("Must be %(n)s or more.", n=p.get("min", "")),
    "too_short": lambda p: _("Must be %(n)s or more.", n=p.get("min", "")),
    "too_large": lambda p: _("Must be %(n)s or less.", n=p.get("max", "")),
    "too_long": lambda p: _("Must be %(n)s characters or fewer.", n=p.get("max", "")),
    "not_integer": lambda p: _("Please enter a number."),
    "not_a_number": lambda p: _("Please enter a number."),
    "free_places_over_total": lambda p: _("Free places cannot be more than the places in total."),
    "bad_phone": lambda p: _(
        "Please enter the phone number with its country code, for example +380 44 123 4567."
    ),
    "bad_email": lambda p: _("Please enter a valid email address."),
    "email_taken": lambda p: _("An account with this email exists already."),
    "self_lockout": lambda p: _(
        "You cannot remove your own administrator role or disable yourself."
    ),
    "bad_url": lambda p: _("Please enter a web address starting with https://."),
    "past": lambda p: _("This time has already passed."),
    "required": lambda p: _("Please fill this in."),
    "coordinates_pair": lambda p: _("Enter both latitude and longitude, or neither."),
    "hours_pair": lambda p: _("Enter both the opening and the closing time."),
    "control_character": lambda p: _("This text contains characters that are not allowed."),
    "nothing_to_change": lambda p: _("Nothing was changed."),
    "unknown_category": lambda p: _("Unknown category."),
}
#: Codes whose sentence concerns the whole form rather than one field.
FORM_CODES = frozenset({"self_lockout"})


def translate_error(code: str, params: Params | None = None) -> str:
    """The sentence for an error code, in the current locale."""
    make = MESSAGES.get(code)
    return str(make(params or {})) if make else _("This value is not valid.")


def error_messages(exc: DomainError) -> dict[str, str]:
    """{form field name: message}; `form` holds what concerns the whole form."""
    if isinstance(exc, ValidationFailed):
        out: dict[str, str] = {}
        for error in exc.errors:
            code = error.get("code", "invalid")
            path = error.get("path", "")
            name = path.rsplit("/", 1)[-1] if not path.startswith("translations/") else path
            if code in FORM_CODES:
                name = "form"
            out.setdefault(name or "", translate_error(code, error.get("params")))
        out.setdefault("form", out.get("") or _("Please check the highlighted fields."))
        return out
    if isinstance(exc, Forbidden):
        return {
            "form": _("Your account may not change this listing (it may be outside your regions).")
        }
    if isinstance(exc, NotFound):
        return {"form": _("This record no longer exists.")}
    return {"form": _("This change could not be saved.")}
