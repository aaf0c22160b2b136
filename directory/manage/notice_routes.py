"""Notices in the volunteer/moderator app: moderators post, edit and end the notices of their own
regions (admins and moderators without a region limit: anywhere, nationwide too), from a phone.
Every change goes through the moderation write path, so it is scope-checked and audited.
Times are typed and shown in the region's own zone (nationwide: `DIRECTORY_TIMEZONE`)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from directory.accounts.models import Role
from directory.accounts.service import in_scope, region_ids
from directory.alerts import staff as alert_staff
from directory.config import UI_LOCALES
from directory.errors import DomainError, Forbidden, NotFound, ValidationFailed
from directory.i18n import format_zone
from directory.i18n import gettext as _
from directory.i18n import lazy_gettext as _l
from directory.listings import models as m
from directory.listings import queries as listing_queries
from directory.listings.notices import KIND_LABELS
from directory.listings.texts import load_translations
from directory.listings.tree import places_up
from directory.manage import forms, queries
from directory.manage.auth import ManageContext, Moderator, NotAllowed, PageNotFound, parse_id
from directory.manage.errors import error_messages
from directory.manage.render import ManageRoute, page, redirect
from directory.moderation import service as moderation

router = APIRouter(route_class=ManageRoute)

#: A feed message's CAP status and what the watcher did with it, as moderators read them.
FEED_STATUSES = {
    "Actual": _l("Real alert"),
    "Exercise": _l("Exercise"),
    "Test": _l("Test"),
    "System": _l("System message"),
    "Draft": _l("Draft"),
}
FEED_OUTCOMES = {
    "applied": _l("shown to readers"),
    "not-public": _l("not shown to readers"),
    "expired": _l("already expired"),
    "no-region": _l("no region of this directory"),
    "superseded": _l("arrived after its update or cancellation"),
    "cancel-before-alert": _l("cancellation of an alert not received"),
    "ignored": _l("ignored"),
}


@dataclass(frozen=True)
class RegionChoice:
    id: uuid.UUID
    name: str
    timezone: str


@dataclass(frozen=True)
class NoticeRow:
    """A notice as the list shows it: its region's name and zone in the person's language."""

    notice: m.Notice
    region: str | None  # None: nationwide
    timezone: str
    may_change: bool
    in_force: bool


def _regions(ctx: ManageContext) -> tuple[list[RegionChoice], bool]:
    """The regions this person may post for (names in their language) and whether they may
    post nationwide notices (admins, and moderators without a region limit)."""
    assert ctx.account is not None
    scope = region_ids(ctx.db, ctx.account)
    unlimited = ctx.account.role == Role.admin or not scope
    out = []
    for p in listing_queries.list_places(ctx.db, locale=ctx.locale):
        if p.kind != "region":
            continue
        if unlimited or in_scope(ctx.db, ctx.account, [p.id]):
            out.append(RegionChoice(p.id, p.name.value, p.timezone or ctx.settings.timezone))
    return out, unlimited


def _zone_of(ctx: ManageContext, region_id: uuid.UUID | None) -> str:
    zones = (p.timezone for p in places_up(ctx.db, region_id) if p.timezone)
    return next(zones, ctx.settings.timezone)


def _may_change(ctx: ManageContext, notice: m.Notice, unlimited: bool) -> bool:
    assert ctx.account is not None
    if notice.region_id is None:
        return unlimited
    return in_scope(ctx.db, ctx.account, [notice.region_id])


def _rows(ctx: ManageContext, unlimited: bool, regions: list[RegionChoice]) -> list[NoticeRow]:
    now = dt.datetime.now(dt.UTC)
    names = {p.id: p.name.value for p in listing_queries.list_places(ctx.db, locale=ctx.locale)}
    rows = []
    mine = None if unlimited else [r.id for r in regions]
    for n in queries.recent_notices(ctx.db, region_ids=mine):
        may = _may_change(ctx, n, unlimited)
        if not may and n.region_id is not None:
            continue  # another region's notices are not this moderator's business
        rows.append(
            NoticeRow(
                n,
                names.get(n.region_id) if n.region_id else None,
                _zone_of(ctx, n.region_id),
                may,
                n.archived_at is None
                and n.valid_from <= now
                and (n.valid_until is None or n.valid_until > now),
            )
        )
    return rows


def _page(
    ctx: ManageContext, *, status_code: int = 200, notice: m.Notice | None = None, **values: Any
) -> Response:
    regions, unlimited = _regions(ctx)
    values.setdefault("errors", {})
    values.setdefault("typed", {})
    # a moderator of one region: it is chosen already
    only = str(regions[0].id) if len(regions) == 1 and not unlimited else ""
    return page(
        ctx,
        "manage/notices.html",
        status_code=status_code,
        rows=(rows := _rows(ctx, unlimited, regions) if notice is None else []),
        regions=regions,
        feed=alert_staff.feed_links(
            ctx.db, [r.notice.id for r in rows] + ([notice.id] if notice else [])
        ),
        feed_messages=alert_staff.recent_messages(ctx.db) if notice is None else [],
        feed_statuses=FEED_STATUSES,
        feed_outcomes=FEED_OUTCOMES,
        settings_timezone=ctx.settings.timezone,
        nationwide=unlimited,
        kinds=KIND_LABELS,
        notice=notice,
        only_region=only,
        # the person's own language first: on a phone, the field they fill in is at the top
        locales=sorted(UI_LOCALES, key=lambda loc: loc != ctx.locale),
        zone_label=format_zone(
            _zone_of(ctx, notice.region_id) if notice else ctx.settings.timezone
        ),
        **values,
    )


@router.get("/notices", name="manage_notices")
def notices(ctx: Moderator) -> Response:
    return _page(ctx)


def _changes(
    ctx: ManageContext,
    typed: dict[str, str],
    *,
    regions: list[RegionChoice],
    nationwide: bool,
    current: m.Notice | None,
) -> tuple[dict[str, Any], dict[str, dict[str, str]], dict[str, str]]:
    """The notice fields and translations of a posted form, or the errors to show."""
    errors: dict[str, str] = {}
    region_value = typed.get("region", "").strip()
    region_id: uuid.UUID | None = None
    if region_value:
        try:
            region_id = uuid.UUID(region_value)
        except ValueError:
            region_id = None
        if region_id not in {r.id for r in regions}:
            raise NotAllowed(_region_refused(ctx, region_id))
    elif not nationwide:
        errors["region"] = _("Choose one of your regions.")
    zone = _zone_of(ctx, region_id)
    times: dict[str, str | None] = {}
    for name in ("valid_from", "valid_until"):
        try:
            when = forms.local_to_utc(typed.get(name, ""), zone)
        except forms.NonexistentLocalTime:
            errors[name] = _(
                "This time does not exist in %(zone)s: the clocks go forward that "
                "night. Please choose another time.",
                zone=format_zone(zone),
            )
            continue
        except ValueError:
            errors[name] = _("Please enter a date and a time.")
            continue
        times[name] = when.isoformat() if when else None
    # The text is "written in" the person's own language when they gave one, else the first.
    order = (ctx.locale, *UI_LOCALES)
    source = next((loc for loc in order if typed.get(f"title_{loc}", "").strip()), None)
    if source is None:
        errors["title"] = _("Write the title in at least one language.")
    if errors:
        return {}, {}, errors
    assert source is not None
    changes: dict[str, Any] = {
        "title": typed[f"title_{source}"],
        "body": typed.get(f"body_{source}", ""),
        "kind": typed.get("kind") or "general",
        "severity": typed.get("severity") or "info",
        "source_locale": source,
        "region_id": str(region_id) if region_id else None,
        "valid_until": times.get("valid_until"),
    }
    if times.get("valid_from"):
        changes["valid_from"] = times["valid_from"]
    elif current is None:
        changes["valid_from"] = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    translations: dict[str, dict[str, str]] = {"title": {}, "body": {}}
    for loc in UI_LOCALES:
        if loc == source:
            continue
        for name in ("title", "body"):
            value = typed.get(f"{name}_{loc}", "").strip()
            if value:
                translations[name][loc] = value
    return changes, {k: v for k, v in translations.items() if v}, {}


def _region_refused(ctx: ManageContext, region_id: uuid.UUID | None) -> str:
    place = ctx.db.get(m.Place, region_id) if region_id else None
    if place is None:
        return _("Nationwide notices are posted by administrators. Choose one of your regions.")
    names = {p.id: p.name.value for p in listing_queries.list_places(ctx.db, locale=ctx.locale)}
    return _(
        "%(region)s is not one of your regions: you may post and change notices only for "
        "your own regions.",
        region=names.get(place.id, place.name),
    )


def _typed(request_form: Any) -> dict[str, str]:
    return {k: str(v) for k, v in request_form.items() if k != "csrf_token"}


def _refused(ctx: ManageContext, exc: DomainError, region_id: uuid.UUID | None) -> dict[str, str]:
    if isinstance(exc, Forbidden):
        raise NotAllowed(_region_refused(ctx, region_id))
    if isinstance(exc, NotFound):
        raise PageNotFound()
    out = error_messages(exc)
    if "title_uk" in out or "title" in out:
        out["title"] = _("Write the title in at least one language.")
    return out


@router.post("/notices")
async def create_notice(request: Request, ctx: Moderator) -> Response:
    typed = _typed(await request.form())
    regions, nationwide = _regions(ctx)
    changes, translations, errors = _changes(
        ctx, typed, regions=regions, nationwide=nationwide, current=None
    )
    if errors:
        return _page(ctx, status_code=422, typed=typed, errors=errors)
    try:
        moderation.propose(
            ctx.db,
            actor=ctx.account,
            entity_type="notice",
            kind="create",
            changes=changes,
            translations=translations,
            source="web",
        )
    except (ValidationFailed, Forbidden, NotFound) as exc:
        region = uuid.UUID(changes["region_id"]) if changes.get("region_id") else None
        return _page(ctx, status_code=422, typed=typed, errors=_refused(ctx, exc, region))
    return redirect(ctx, "notices", done="notice-saved")


def _own_notice(ctx: ManageContext, notice_id: str) -> m.Notice:
    notice = ctx.db.get(m.Notice, parse_id(notice_id))
    if notice is None:
        raise PageNotFound()
    _regions_, unlimited = _regions(ctx)
    if not _may_change(ctx, notice, unlimited):
        raise NotAllowed(_region_refused(ctx, notice.region_id))
    return notice


def _form_values(ctx: ManageContext, notice: m.Notice) -> dict[str, str]:
    """The edit form filled from a notice: its texts per locale and its times in its zone."""
    zone = _zone_of(ctx, notice.region_id)
    typed = {
        "kind": str(notice.kind),
        "severity": str(notice.severity),
        "region": str(notice.region_id) if notice.region_id else "",
        "valid_from": forms.utc_to_local_input(notice.valid_from, zone),
        "valid_until": forms.utc_to_local_input(notice.valid_until, zone),
        f"title_{notice.source_locale}": notice.title,
        f"body_{notice.source_locale}": notice.body,
    }
    for loc in UI_LOCALES:
        if loc == notice.source_locale:
            continue
        texts = load_translations(ctx.db, pairs=[("notice", notice.id)], locale=loc)
        for name in ("title", "body"):
            value = texts.get(("notice", notice.id, name))
            if value:
                typed[f"{name}_{loc}"] = value
    return typed


@router.get("/notices/{notice_id}", name="manage_notice")
def edit_notice(ctx: Moderator, notice_id: str) -> Response:
    notice = _own_notice(ctx, notice_id)
    return _page(ctx, notice=notice, typed=_form_values(ctx, notice))


@router.post("/notices/{notice_id}")
async def update_notice(request: Request, ctx: Moderator, notice_id: str) -> Response:
    notice = _own_notice(ctx, notice_id)
    typed = _typed(await request.form())
    regions, nationwide = _regions(ctx)
    changes, translations, errors = _changes(
        ctx, typed, regions=regions, nationwide=nationwide, current=notice
    )
    if errors:
        return _page(ctx, status_code=422, notice=notice, typed=typed, errors=errors)
    if notice.archived_at is not None:
        return _page(
            ctx,
            status_code=422,
            notice=notice,
            typed=typed,
            errors={"form": _("This notice has ended and can no longer be changed.")},
        )
    before = _form_values(ctx, notice)  # only what the person changed is proposed
    translations = {
        name: {loc: v for loc, v in per.items() if before.get(f"{name}_{loc}", "") != v}
        for name, per in translations.items()
    }
    unchanged = {k for k, v in changes.items() if _same(getattr(notice, k), v)}
    try:
        moderation.propose(
            ctx.db,
            actor=ctx.account,
            entity_type="notice",
            kind="update",
            entity_id=notice.id,
            changes={k: v for k, v in changes.items() if k not in unchanged},
            translations={k: v for k, v in translations.items() if v},
            base_version=_version(typed, notice),
            source="web",
        )
    except (ValidationFailed, Forbidden, NotFound) as exc:
        region = uuid.UUID(changes["region_id"]) if changes.get("region_id") else notice.region_id
        return _page(
            ctx, status_code=422, notice=notice, typed=typed, errors=_refused(ctx, exc, region)
        )
    except DomainError:  # changed by someone else meanwhile
        return _page(
            ctx,
            status_code=409,
            notice=notice,
            typed=typed,
            errors={
                "form": _(
                    "Someone else changed this notice meanwhile. Please check it and save again."
                )
            },
        )
    return redirect(ctx, "notices", done="notice-saved")


def _same(current: Any, proposed: Any) -> bool:
    if isinstance(current, dt.datetime) and isinstance(proposed, str):  # forms say minutes
        minute = current.replace(second=0, microsecond=0)
        return minute == dt.datetime.fromisoformat(proposed)
    if isinstance(current, uuid.UUID):
        return str(current) == proposed
    if current is None or proposed is None:
        return current is None and proposed is None
    return str(current) == str(proposed)


def _version(typed: dict[str, str], notice: m.Notice) -> int:
    value = forms.parse_int(typed.get("base_version"))
    return value if value is not None else notice.version


@router.post("/notices/{notice_id}/end")
def end_notice(ctx: Moderator, notice_id: str) -> Response:
    notice = _own_notice(ctx, notice_id)
    if notice.archived_at is not None:
        return redirect(ctx, "notices", done="notice-saved")
    try:
        moderation.propose(
            ctx.db,
            actor=ctx.account,
            entity_type="notice",
            kind="archive",
            entity_id=notice.id,
            source="web",
        )
    except Forbidden:
        raise NotAllowed(_region_refused(ctx, notice.region_id)) from None
    except NotFound:
        raise PageNotFound() from None
    return redirect(ctx, "notices", done="notice-ended")


@router.post("/notices/{notice_id}/pin")
async def pin_notice(request: Request, ctx: Moderator, notice_id: str) -> Response:
    """Pin a feed's notice (the feed will not end it) or unpin it; audited with the person's
    name."""
    nid = parse_id(notice_id)
    form = await request.form()
    assert ctx.account is not None  # noqa: S101 (Moderator requires a signed-in account)
    try:
        alert_staff.set_pinned(
            ctx.db, notice_id=nid, actor=ctx.account, pinned=form.get("pinned") == "1"
        )
    except Forbidden:
        raise NotAllowed(_("This notice is outside your regions.")) from None
    except NotFound:
        raise PageNotFound() from None
    return redirect(ctx, "notices", done="notice-saved")
