"""Request and response shapes of the JSON API, with HSDS 3 field names where HSDS has the
field. Strict types and bounded lengths, so that no input reaches the database unchecked (the
write path validates meaning again: phone numbers, locales, categories, ranges across fields)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictBool,
    StrictInt,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from directory.textinput import SafeLine, SafeName, SafeText, SafeUrl
from directory.textinput import line as _line
from directory.textinput import text as _text

Locale = Annotated[
    str, Field(min_length=2, max_length=12, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
]
Email = Annotated[str, _line(254), Field(max_length=254)]


def _json_integer(value: Any) -> Any:
    """A JSON Schema `integer` is any number with no fraction (1.0 too); never a boolean or a
    string. The strict int type then refuses everything else."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: Integers in a range as JSON Schema defines them (documented `type: integer` with minimum and
#: maximum, and accepted as such).
Count = Annotated[Annotated[StrictInt, Field(ge=0, le=1_000_000)], BeforeValidator(_json_integer)]
Age = Annotated[Annotated[StrictInt, Field(ge=0, le=130)], BeforeValidator(_json_integer)]
VersionNumber = Annotated[
    Annotated[StrictInt, Field(ge=1, le=1_000_000_000)], BeforeValidator(_json_integer)
]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class _OnlyTheseKeys:
    """JSON schema of a dict keyed by a pattern: no other key (pydantic states the key pattern
    in `patternProperties` but leaves other keys open, which the validation refuses)."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out["additionalProperties"] = False
        return out


#: {locale: text}
LocaleTexts = Annotated[dict[Locale, Annotated[str, _text(5000)]], _OnlyTheseKeys()]
Translations = Annotated[
    dict[Annotated[str, Field(max_length=40)], LocaleTexts],
    Field(max_length=20, description="{field: {locale: text}} for texts in other languages"),
]
Comment = Annotated[str, _text(2000), Field(max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WriteIn(Strict):
    """Fields common to every write: translations and a comment for the moderators."""

    translations: Translations | None = None
    comment: Comment | None = Field(default=None, description="why; shown to the moderators")

    def changes(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in self.model_dump(exclude_unset=True, mode="json").items()
            if k not in ("translations", "comment")
        }


class OrganizationIn(WriteIn):
    name: SafeName | None = None
    alternate_name: SafeLine | None = None
    description: SafeText | None = None
    email: Email | None = None
    website: SafeUrl | None = None
    legal_status: Annotated[str, _line(200)] | None = None
    source_locale: Locale | None = None


ServiceStatusName = Literal["active", "inactive", "defunct", "temporarily closed", "full"]
#: One-tap reasons for a temporary status (`listings.models.ClosureReason`), shown to each
#: reader in their language.
ClosureReasonCode = Literal["alert", "power", "staff", "supplies", "repairs", "damage"]


class ServiceIn(WriteIn):
    organization_id: uuid.UUID | None = None
    name: SafeName | None = None
    alternate_name: SafeLine | None = None
    description: SafeText | None = None
    url: SafeUrl | None = None
    email: Email | None = None
    status: ServiceStatusName | None = None
    interpretation_services: SafeText | None = None
    application_process: SafeText | None = None
    fees_description: SafeText | None = None
    eligibility_description: SafeText | None = None
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    alert: SafeText | None = None
    open_during_alert: StrictBool | None = None
    free_of_charge: StrictBool | None = None
    audience: SafeLine | None = None
    source_locale: Locale | None = None
    alternative_service_id: uuid.UUID | None = None
    status_reason_code: ClosureReasonCode | None = None
    categories: (
        Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=20)] | None
    ) = Field(default=None, description="taxonomy term codes, e.g. shelter, heat-power.warming")


class LocationIn(WriteIn):
    organization_id: uuid.UUID | None = None
    location_type: Literal["physical", "postal", "virtual"] | None = None
    url: SafeUrl | None = None
    name: SafeLine | None = None
    alternate_name: SafeLine | None = None
    description: SafeText | None = None
    transportation: SafeText | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    place_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    timezone: Annotated[str, _line(64)] | None = None
    privacy: Literal["exact", "approximate", "confidential"] | None = None
    shelter_type: (
        Literal[
            "air_raid_shelter",
            "collective_centre",
            "emergency_accommodation",
            "warming_point",
            "charging_point",
        ]
        | None
    ) = None
    capacity_maximum: Count | None = None
    capacity_available: Count | None = None
    has_heating: StrictBool | None = None
    has_power: StrictBool | None = None
    has_water: StrictBool | None = None
    has_internet: StrictBool | None = None
    has_toilets: StrictBool | None = None
    wheelchair_accessible: StrictBool | None = None
    pets_allowed: StrictBool | None = None
    women_children_only: StrictBool | None = None
    open_24_7: StrictBool | None = None
    source_locale: Locale | None = None
    service_ids: Annotated[list[uuid.UUID], Field(max_length=50)] | None = Field(
        default=None, description="on create: the services offered here"
    )


class AddressIn(WriteIn):
    location_id: uuid.UUID | None = None
    attention: Annotated[str, _line(200)] | None = None
    address_1: SafeLine | None = None
    address_2: SafeLine | None = None
    city: Annotated[str, _line(200)] | None = None
    region: Annotated[str, _line(200)] | None = None
    state_province: Annotated[str, _line(200)] | None = None
    postal_code: Annotated[str, _line(20)] | None = None
    country: Annotated[str, Field(min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")] | None = (
        None
    )
    address_type: Literal["physical", "postal", "virtual"] | None = None


class PhoneIn(WriteIn):
    location_id: uuid.UUID | None = None
    service_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    number: Annotated[str, _line(40)] | None = Field(
        default=None, description="international E.164 form, e.g. +380441234567"
    )
    extension: Annotated[str, _line(20)] | None = None
    type: Literal["text", "voice", "fax", "cell", "video", "pager", "textphone"] | None = None
    description: SafeText | None = None
    is_hotline: StrictBool | None = None


class ScheduleIn(WriteIn):
    service_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    freq: Literal["WEEKLY", "MONTHLY"] | None = None
    byday: Annotated[str, _line(40)] | None = Field(default=None, description="e.g. MO,TU,WE")
    opens_at: dt.time | None = None
    closes_at: dt.time | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    dtstart: dt.date | None = None
    timezone: Annotated[str, _line(64)] | None = None
    description: SafeText | None = None
    notes: SafeText | None = None
    attending_type: Annotated[str, _line(100)] | None = None


class NoticeIn(WriteIn):
    region_id: uuid.UUID | None = Field(default=None, description="null: nationwide")
    kind: Literal["general", "alert", "blackout", "water", "evacuation"] | None = None
    severity: Literal["info", "warning", "danger"] | None = None
    title: SafeName | None = None
    body: SafeText | None = None
    source_locale: Locale | None = None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None


class StatusIn(Strict):
    """A quick status update from the field."""

    status: ServiceStatusName
    reason_code: ClosureReasonCode | None = Field(
        default=None,
        description="a common reason as a code: readers read it in their own "
        "language (alert: air-raid alert, power: power cut, staff: no staff on duty, supplies: "
        "out of supplies, repairs, damage: damaged by shelling)",
    )
    reason: Annotated[dict[Locale, Annotated[str, _text(2000)]], _OnlyTheseKeys()] | None = Field(
        default=None,
        max_length=20,
        description="why in your own words, per locale: "
        '{"uk": "...", "en": "..."} (replaces the previous reason in every language)',
    )
    until: dt.datetime | None = Field(default=None, description="when the status ends by itself")
    alternative_service_id: uuid.UUID | None = Field(
        default=None,
        description="where people can go instead while this one is closed or full "
        "(null: nowhere in particular; left out: unchanged)",
    )
    comment: Comment | None = None


class CapacityIn(Strict):
    """Free places now (and the total, if it changed)."""

    available: Count
    total: Count | None = None
    comment: Comment | None = None


class VerifyIn(Strict):
    comment: Comment | None = None


class TranslationsIn(Strict):
    translations: Translations
    comment: Comment | None = None


class RejectIn(Strict):
    reason: Annotated[str, _text(2000, 1), Field(min_length=1, max_length=2000)]


class RevertIn(Strict):
    entity_type: Literal[
        "organization", "service", "location", "address", "phone", "schedule", "notice"
    ]
    entity_id: uuid.UUID
    to_version: VersionNumber
    comment: Comment | None = None


class ReportIn(Strict):
    kind: Literal["wrong", "closed", "full", "locked", "no_answer", "other"]
    text: Annotated[str, _text(2000)] | None = Field(
        default=None,
        max_length=2000,
        description="what you found; please no names or phone numbers",
    )
    locale: Locale | None = None


# --- responses --------------------------------------------------------------------------------


class Problem(BaseModel):
    """RFC 9457 problem document (application/problem+json)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, str]] | None = None
    current_version: int | None = None


class FieldChangeOut(BaseModel):
    field: str
    locale: str | None = None
    current: Any = None
    proposed: Any = None
    sensitive: bool = False
    entity_type: str | None = Field(
        None,
        description="set on a line about another record the change implies: marking a "
        "service full empties its places' free places; free places end a service's 'full'",
    )
    entity_id: uuid.UUID | None = None


class ChangeRequestOut(BaseModel):
    id: uuid.UUID
    state: str
    kind: str
    entity_type: str
    entity_id: uuid.UUID
    base_version: int | None
    entity_version: int | None = Field(None, description="the record's version after applying")
    fields: dict[str, Any]
    translations: dict[str, dict[str, Any]]
    comment: str | None
    author: str | None
    reviewer: str | None
    review_reason: str | None
    needs_review: bool
    sensitive: bool = Field(description="needs a moderator other than its author (fraud guard)")
    created_at: dt.datetime
    decided_at: dt.datetime | None
    diff: list[FieldChangeOut] | None = None
    group_id: uuid.UUID | None = Field(
        None,
        description="set when this change is part of a new listing proposed as one unit "
        "(organisation, service, place, address, phones, hours ...): approving, rejecting or "
        "withdrawing any change of the group does so for the whole group, parents first",
    )
    group: list[GroupMemberOut] | None = Field(
        None,
        description="every change of the group (this one included), in the order they are "
        "applied; with `diff` on the single change-request view",
    )


class GroupMemberOut(BaseModel):
    """One record of a new listing proposed as a group."""

    id: uuid.UUID
    state: str
    kind: str
    entity_type: str
    entity_id: uuid.UUID
    fields: dict[str, Any]
    translations: dict[str, dict[str, Any]]
    sensitive: bool
    diff: list[FieldChangeOut] | None = None


class QueueOut(BaseModel):
    items: list[ChangeRequestOut]
    reports: list[ReportOut]
    counts: dict[str, int]
    total: int


class ReportOut(BaseModel):
    id: uuid.UUID
    service_id: uuid.UUID
    kind: str
    text: str | None
    locale: str | None
    state: str
    created_at: dt.datetime


class ReportReceived(BaseModel):
    id: uuid.UUID
    state: Literal["received"] = "received"


class AuditEntryOut(BaseModel):
    id: uuid.UUID
    at: dt.datetime
    entity_type: str
    entity_id: uuid.UUID
    entity_version: int | None
    action: str
    change_request_id: uuid.UUID | None
    author: str | None
    approver: str | None
    changes: dict[str, Any] = Field(
        description="{field: [before, after]}; field@locale for translations"
    )


class MeOut(BaseModel):
    id: uuid.UUID
    display_name: str
    role: str
    scopes: list[str]
    regions: list[uuid.UUID]
    token_expires_at: dt.datetime | None


ChangeRequestOut.model_rebuild()
QueueOut.model_rebuild()
