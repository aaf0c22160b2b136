"""Human labels for what moderators and volunteers read: field names, statuses, change kinds,
report kinds, privacy levels. Lazy strings, so they are translated in the locale of the request."""

from __future__ import annotations

from typing import Any

from directory.i18n import lazy_gettext as _l
from directory.i18n import lazy_pgettext
from directory.listings.reasons import LABELS as REASON_LABELS

#: Field names as they appear in change payloads and diffs (service, location, organisation).
FIELD_LABELS: dict[str, Any] = {
    "name": _l("Name"),
    "alternate_name": _l("Other name"),
    "description": _l("Description"),
    "url": _l("Website"),
    "website": _l("Website"),
    "email": _l("Email"),
    "status": _l("Status"),
    "status_reason": _l("Reason for the status"),
    "status_reason_code": _l("Reason for the status"),
    "status_until": _l("Status until"),
    "status_since": _l("Status since"),
    "alternative_service_id": _l("Go here instead"),
    "capacity_maximum": _l("Places in total"),
    "capacity_available": lazy_pgettext("capacity", "Free places"),
    "capacity_updated": _l("Places updated"),
    "latitude": _l("Latitude"),
    "longitude": _l("Longitude"),
    "external_identifier": _l("Id in another database"),
    "external_identifier_type": _l("Other database"),
    "privacy": _l("Privacy of the address"),
    "shelter_type": _l("Kind of place"),
    "has_heating": _l("Heating"),
    "has_power": _l("Power / charging"),
    "has_water": _l("Drinking water"),
    "has_internet": _l("Internet"),
    "has_toilets": _l("Toilets"),
    "wheelchair_accessible": _l("Wheelchair accessible"),
    "pets_allowed": _l("Pets allowed"),
    "women_children_only": _l("Women and children only"),
    "open_24_7": _l("Open day and night"),
    "open_during_alert": _l("Open during air-raid alerts"),
    "free_of_charge": _l("Free of charge"),
    "audience": _l("Who is served"),
    "eligibility_description": _l("Who can come"),
    "application_process": _l("How to get help"),
    "fees_description": _l("Fees"),
    "interpretation_services": _l("Interpreting"),
    "minimum_age": _l("Minimum age"),
    "maximum_age": _l("Maximum age"),
    "alert": _l("Alert"),
    "transportation": _l("How to get there"),
    "timezone": _l("Time zone"),
    "region_id": _l("Region"),
    "place_id": _l("City"),
    "phones": _l("Phone numbers"),
    "phone": _l("Phone number"),
    "number": _l("Phone number"),
    "address": _l("Address"),
    "addresses": _l("Address"),
    "address_1": _l("Street and number"),
    "city": _l("City"),
    "postal_code": _l("Postal code"),
    "country": _l("Country"),
    "categories": _l("Categories"),
    "schedules": _l("Opening hours"),
    "hours": _l("Opening hours"),
    "languages": _l("Languages spoken"),
    "organization_id": _l("Organisation"),
    "organization_name": _l("Organisation"),
    "title": _l("Title"),
    "body": _l("Text"),
    "severity": _l("Severity"),
    "valid_from": _l("Valid from"),
    "valid_until": _l("Valid until"),
    "assured_date": _l("Verified"),
    "source_locale": _l("Language of the texts"),
    # records of a new listing (schedules, exceptions, languages, documents, accessibility)
    "freq": _l("Repeats"),
    "byday": _l("Days"),
    "opens_at": _l("Opens at"),
    "closes_at": _l("Closes at"),
    "date": _l("Date"),
    "closed": _l("Closed all day"),
    "reason": _l("Reason"),
    "code": _l("Language"),
    "document": _l("Document"),
    "uri": _l("Link"),
    "details": _l("Details"),
    "note": _l("Note"),
    "is_hotline": _l("Hotline"),
    "service_ids": _l("Services offered here"),
}

STATUS_LABELS: dict[str, Any] = {
    "active": _l("Open"),
    "full": _l("Full"),
    "temporarily closed": _l("Temporarily closed"),
    "inactive": _l("Closed"),
    "defunct": _l("Closed for good"),
}

KIND_LABELS: dict[str, Any] = {
    "create": _l("New listing"),
    "update": _l("Edit"),
    "archive": _l("Archive"),
    "restore": _l("Restore"),
    "status": lazy_pgettext("change kind", "Status"),
    "capacity": lazy_pgettext("capacity", "Free places"),
    "verify": _l("Verification"),
    "revert": _l("Revert"),
}

#: The records of a new listing proposed as one group (the moderator's review page).
RECORD_LABELS: dict[str, Any] = {
    "organization": _l("Organisation"),
    "service": _l("Service"),
    "location": _l("Place"),
    "address": _l("Address"),
    "phone": _l("Phone"),
    "schedule": _l("Opening hours"),
    "schedule_exception": _l("Dated exception"),
    "language": _l("Language"),
    "required_document": _l("Required document"),
    "accessibility": _l("Accessibility"),
}

STATE_LABELS: dict[str, Any] = {
    "pending": _l("Waiting for review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}

REPORT_LABELS: dict[str, Any] = {
    "wrong": _l("Wrong information"),
    "closed": _l("Closed"),
    "full": _l("Full"),
    "locked": _l("Found locked"),
    "no_answer": _l("Phone not answered"),
    "other": _l("Other"),
}

PRIVACY_LABELS: dict[str, Any] = {
    "exact": _l("Exact address is public"),
    "approximate": _l("Only the area is public (about 1 km)"),
    "confidential": _l("Confidential: only the region and a hotline"),
}

SHELTER_LABELS: dict[str, Any] = {
    "air_raid_shelter": _l("Air-raid shelter"),
    "collective_centre": _l("Collective centre"),
    "emergency_accommodation": _l("Emergency accommodation"),
    "warming_point": _l("Warming point"),
    "charging_point": _l("Charging point"),
}

SEVERITY_LABELS: dict[str, Any] = {
    "info": _l("Information"),
    "warning": _l("Warning"),
    "danger": _l("Danger"),
}

ROLE_LABELS: dict[str, Any] = {
    "volunteer": _l("Volunteer"),
    "moderator": _l("Moderator"),
    "admin": _l("Administrator"),
}

#: Common reasons for a temporary closure, offered as one-tap choices (stored as codes; typed
#: text is kept too).
CLOSURE_REASONS = REASON_LABELS


def field_label(name: str) -> str:
    """The human label of a field; a translated text field `description@uk` reads
    "Description (Українська)"."""
    base, _, locale = name.partition("@")
    label = str(FIELD_LABELS.get(base, base.replace("_", " ").capitalize()))
    if locale:
        from directory.i18n import locale_name

        return f"{label} ({locale_name(locale)})"
    return label
