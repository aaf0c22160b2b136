"""Volunteer pages: find a listing, quick status and capacity, my proposals.

Thin: parse the form, call `directory.moderation.service.propose`, render. A stale form
(someone else changed the listing meanwhile) is answered with the conflict view: what the
other person changed, what this person typed, one tap to send it again on the new version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from directory.accounts import service as accounts
from directory.db import utcnow
from directory.errors import DomainError, Forbidden, PreconditionFailed, ValidationFailed
from directory.listings.privacy import sees_whereabouts
from directory.listings.queries import list_categories
from directory.manage import edit, forms, new_listing, queries
from directory.manage.auth import ManageContext, PageNotFound, Volunteer, parse_id
from directory.manage.errors import error_messages
from directory.manage.labels import CLOSURE_REASONS
from directory.manage.render import ManageRoute, page, redirect
from directory.moderation import service as moderation
from directory.moderation.models import ChangeState

router = APIRouter(route_class=ManageRoute)


@router.get("/", name="manage_start")
def start(ctx: Volunteer, q: str = "") -> Response:
    assert ctx.account is not None
    q = " ".join(q.split())[:200]
    results = queries.find_listings(ctx.db, q=q, locale=ctx.locale) if q else []
    recent = queries.recent_listings(ctx.db, account=ctx.account, locale=ctx.locale)
    waiting = None
    if accounts.is_moderator(ctx.account) and not ctx.is_htmx:
        view = moderation.queue(ctx.db, viewer=ctx.account, limit=1)
        waiting = (view.total, view.counts.get("reports", 0))
    return page(
        ctx,
        "manage/start.html",
        block="results",
        q=q,
        results=results,
        recent=recent,
        waiting=waiting,
    )


def _listing(ctx: ManageContext, service_id: str) -> queries.Listing:
    listing = queries.get_listing(ctx.db, parse_id(service_id))
    if listing is None:
        raise PageNotFound()
    return listing


def _hide_whereabouts(ctx: ManageContext, listing: queries.Listing) -> bool:
    """Only moderators of its region learn where a confidential or approximate place is
    (`listings.privacy.sees_whereabouts`)."""
    return not sees_whereabouts(ctx.db, ctx.account, listing.location)


def _trusted_publish(ctx: ManageContext) -> bool:
    return accounts.trusted_volunteers_publish(
        ctx.db, default=ctx.settings.trusted_volunteers_publish
    )


def _listing_page(
    ctx: ManageContext,
    listing: queries.Listing,
    *,
    status_code: int = 200,
    block: str | None = None,
    **values: Any,
) -> Response:
    values.setdefault("errors", {})
    values.setdefault("conflict", None)
    values.setdefault("typed", {})
    authors = moderation.account_names(ctx.db, [c.author_id for c in listing.pending])
    return page(
        ctx,
        "manage/listing.html",
        status_code=status_code,
        block=block,
        listing=listing,
        reasons=CLOSURE_REASONS,
        alternatives=queries.alternatives(ctx.db, listing, locale=ctx.locale),
        authors=authors,
        can_see_location=not _hide_whereabouts(ctx, listing),
        **values,
    )


@router.get("/listings/{service_id}", name="manage_listing")
def listing_page(ctx: Volunteer, service_id: str) -> Response:
    return _listing_page(ctx, _listing(ctx, service_id))


def _done(ctx: ManageContext, service_id: str, state: ChangeState) -> Response:
    done = "published" if state == ChangeState.approved else "proposed"
    if ctx.is_htmx:
        listing = _listing(ctx, service_id)
        return _listing_page(ctx, listing, block="quick", done_now=done)
    return redirect(ctx, f"listings/{service_id}", done=done)


def _refused(
    ctx: ManageContext,
    service_id: str,
    exc: DomainError,
    typed: dict[str, Any],
    *,
    entity: tuple[str, Any],
    base_version: int | None,
) -> Response:
    """The form again, with what was typed and why it was not taken (or who changed it first)."""
    listing = _listing(ctx, service_id)
    if isinstance(exc, PreconditionFailed):
        other = queries.changes_since(
            ctx.db,
            entity_type=entity[0],
            entity_id=entity[1],
            version=base_version,
            hide_whereabouts=_hide_whereabouts(ctx, listing),
        )
        return _listing_page(
            ctx,
            listing,
            status_code=409,
            block="quick",
            conflict=True,
            typed=typed,
            other_changes=other,
        )
    if isinstance(exc, Forbidden):
        return _listing_page(
            ctx,
            listing,
            status_code=403,
            block="quick",
            typed=typed,
            errors={"form": error_messages(exc)["form"]},
        )
    return _listing_page(
        ctx, listing, status_code=422, block="quick", typed=typed, errors=error_messages(exc)
    )


@router.post("/listings/{service_id}/status")
def set_status(
    ctx: Volunteer,
    service_id: str,
    status: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=40)] = "",
    reason_text: Annotated[str, Form(max_length=2000)] = "",
    duration: Annotated[str, Form(max_length=10)] = "",
    alternative: Annotated[str, Form(max_length=40)] = "",
    base_version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    listing = _listing(ctx, service_id)
    typed = {
        "status": status,
        "reason": reason,
        "reason_text": reason_text,
        "duration": duration,
        "alternative": alternative,
    }
    version = forms.parse_int(base_version)
    if (
        status not in forms.QUICK_STATUSES
        or duration not in forms.DURATIONS
        or (base_version and version is None)
    ):
        return _listing_page(
            ctx, listing, status_code=422, block="quick", typed=typed, errors={"status": "?"}
        )
    tz = listing.location.timezone if listing.location else ctx.settings.timezone
    changes, texts = forms.status_payload(
        quick=status,
        reason_code=reason,
        reason_text=reason_text,
        duration=duration,
        now=utcnow(),
        tz=tz,
        locale=ctx.locale,
        alternative=alternative.strip(),
    )
    try:
        cr = moderation.propose(
            ctx.db,
            actor=ctx.account,
            entity_type="service",
            kind="status",
            entity_id=listing.service.id,
            changes=changes,
            translations=texts or None,
            base_version=version,
            source="web",
            trusted_publish=_trusted_publish(ctx),
        )
    except (ValidationFailed, PreconditionFailed, Forbidden) as exc:
        return _refused(
            ctx,
            service_id,
            exc,
            typed,
            entity=("service", listing.service.id),
            base_version=version,
        )
    return _done(ctx, service_id, cr.state)


@router.post("/listings/{service_id}/capacity")
def set_capacity(
    ctx: Volunteer,
    service_id: str,
    available: Annotated[str, Form(max_length=40)] = "",
    maximum: Annotated[str, Form(max_length=40)] = "",
    base_version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    listing = _listing(ctx, service_id)
    typed = {"available": available, "maximum": maximum}
    if listing.location is None:
        raise PageNotFound()
    free, total = forms.parse_int(available), forms.parse_int(maximum)
    version = forms.parse_int(base_version)
    if free is None or (maximum.strip() and total is None) or (base_version and version is None):
        return _listing_page(
            ctx,
            listing,
            status_code=422,
            block="quick",
            typed=typed,
            errors={"available": "number"},
        )
    try:
        cr = moderation.propose(
            ctx.db,
            actor=ctx.account,
            entity_type="location",
            kind="capacity",
            entity_id=listing.location.id,
            changes=forms.capacity_payload(free, total),
            base_version=version,
            source="web",
            trusted_publish=_trusted_publish(ctx),
        )
    except (ValidationFailed, PreconditionFailed, Forbidden) as exc:
        return _refused(
            ctx,
            service_id,
            exc,
            typed,
            entity=("location", listing.location.id),
            base_version=version,
        )
    return _done(ctx, service_id, cr.state)


@router.get("/proposals", name="manage_proposals")
def my_proposals(ctx: Volunteer) -> Response:
    assert ctx.account is not None
    changes = moderation.my_changes(ctx.db, author=ctx.account, limit=100)
    names = queries.service_names(
        ctx.db, {c.service_id for c in changes if c.service_id}, ctx.locale
    )
    refs = queries.reference_names(
        ctx.db,
        [v for c in changes for v in (c.payload.get("fields") or {}).values()],
        staff=accounts.is_moderator(ctx.account),
    )
    return page(
        ctx,
        "manage/proposals.html",
        changes=changes,
        names=names,
        ref_names=refs,
        now=dt.datetime.now(dt.UTC),
    )


@router.post("/proposals/{change_id}/withdraw")
def withdraw(ctx: Volunteer, change_id: str) -> Response:
    assert ctx.account is not None
    # Already decided or not theirs: the list then shows the real state.
    with contextlib.suppress(DomainError):
        moderation.withdraw(ctx.db, change_id=parse_id(change_id), actor=ctx.account)
    return redirect(ctx, "proposals")


# --- the full edit form -------------------------------------------------------------------------


def _edit_page(
    ctx: ManageContext,
    listing: queries.Listing,
    *,
    values: dict[str, str] | None = None,
    categories: list[str] | None = None,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    extra.setdefault("errors", {})
    extra.setdefault("other_changes", [])
    hidden = _hide_whereabouts(ctx, listing)
    published = edit.form_values(listing, hide_locating=hidden)
    # Versions always come from the published record: after a conflict the form is based on
    # the newer version, with the person's typed values kept.
    shown = {
        **published,
        **{k: v for k, v in (values or {}).items() if not (hidden and edit.locating_key(k))},
    }
    shown.update({k: v for k, v in published.items() if k.startswith("v.")})
    open_locales = {listing.service.source_locale, ctx.locale} | {
        key.rsplit(".", 1)[-1] for key in extra["errors"] if key.startswith("t.")
    }
    return page(
        ctx,
        "manage/edit.html",
        status_code=status_code,
        listing=listing,
        values=shown,
        open_locales=open_locales,
        chosen=set(categories if categories is not None else listing.categories),
        categories=list_categories(ctx.db, locale=ctx.locale),
        locales=forms.TRANSLATION_LOCALES,
        weekdays=forms.WEEKDAYS,
        can_see_location=not hidden,
        **extra,
    )


@router.get("/listings/{service_id}/edit", name="manage_edit")
def edit_form(ctx: Volunteer, service_id: str) -> Response:
    return _edit_page(ctx, _listing(ctx, service_id))


def _field_errors(exc: edit.EditRefused) -> dict[str, str]:
    out = {}
    etype = exc.prefix.split(".")[0]
    for name, message in error_messages(exc.error).items():
        if name.startswith("translations/"):
            parts = name.split("/")
            key = f"t.{etype}.{parts[1]}.{parts[2]}" if len(parts) == 3 else "form"
        elif name == "form":
            key = "form"
        else:
            key = exc.prefix + name
        out[key] = message
    return out


@router.post("/listings/{service_id}/edit")
async def edit_submit(request: Request, ctx: Volunteer, service_id: str) -> Response:
    listing = _listing(ctx, service_id)
    form = await request.form()
    typed = {k: str(v) for k, v in form.items() if k != "csrf_token" and not k.startswith("v.")}
    versions = {k: str(v) for k, v in form.items() if k.startswith("v.")}
    chosen = [str(c) for c in form.getlist("categories")]
    hidden = _hide_whereabouts(ctx, listing)
    if hidden:
        # Who may not see where the place is never sends it either (a tampered form included).
        typed = {k: v for k, v in typed.items() if not edit.locating_key(k)}
    items = edit.proposals(
        listing,
        form_adapter(form, typed),
        versions=versions,
        categories=chosen,
        hide_locating=hidden,
    )
    assert ctx.account is not None
    try:
        done = edit.submit(
            ctx.db,
            actor=ctx.account,
            items=items,
            comment=str(form.get("comment", "")).strip()[:2000] or None,
            trusted_publish=False,
        )
    except edit.EditRefused as exc:
        fresh = _listing(ctx, service_id)
        if isinstance(exc.error, PreconditionFailed):
            other: list[queries.FieldEdit] = []
            for item in items:
                if item.entity_id is not None:
                    other += queries.changes_since(
                        ctx.db,
                        entity_type=item.entity_type,
                        entity_id=item.entity_id,
                        version=item.base_version,
                        hide_whereabouts=_hide_whereabouts(ctx, fresh),
                    )
            return _edit_page(
                ctx,
                fresh,
                values=typed,
                categories=chosen,
                status_code=409,
                conflict=True,
                other_changes=other,
            )
        return _edit_page(
            ctx, fresh, values=typed, categories=chosen, status_code=422, errors=_field_errors(exc)
        )
    except ValidationFailed:
        return _edit_page(
            ctx,
            listing,
            values=typed,
            categories=chosen,
            status_code=422,
            errors={
                "form": error_messages(
                    ValidationFailed(
                        [{"path": "", "code": "nothing_to_change", "message": "nothing to change"}]
                    )
                )[""]
            },
        )
    published = all(cr.state == ChangeState.approved for cr in done)
    return redirect(ctx, f"listings/{service_id}", done="published" if published else "proposed")


class form_adapter(dict[str, str]):  # noqa: N801 - reads like a function at the call site
    """Typed values with the form's `getlist` (multi-value day checkboxes) still available."""

    def __init__(self, form: Any, typed: dict[str, str]) -> None:
        super().__init__(typed)
        self._form = form

    def getlist(self, key: str) -> list[str]:
        return [str(v) for v in self._form.getlist(key)]


# --- a new listing --------------------------------------------------------------------------------


def _new_page(ctx: ManageContext, *, status_code: int = 200, **values: Any) -> Response:
    values.setdefault("errors", {})
    values.setdefault("typed", {})
    values.setdefault("chosen", set())
    return page(
        ctx,
        "manage/new.html",
        status_code=status_code,
        organizations=queries.organizations(ctx.db, locale=ctx.locale),
        categories=list_categories(ctx.db, locale=ctx.locale),
        **values,
    )


@router.get("/new", name="manage_new")
def new_form(ctx: Volunteer) -> Response:
    return _new_page(ctx)


@router.post("/new")
async def new_submit(request: Request, ctx: Volunteer) -> Response:
    assert ctx.account is not None
    form = await request.form()
    typed = {k: str(v).strip() for k, v in form.items() if k not in ("csrf_token", "categories")}
    chosen = [str(c) for c in form.getlist("categories")]
    try:
        cr = new_listing.submit(
            ctx.db,
            actor=ctx.account,
            typed=typed,
            categories=chosen,
            locale=ctx.locale,
            timezone=ctx.settings.timezone,
        )
    except edit.EditRefused as exc:
        return _new_page(
            ctx, status_code=422, typed=typed, chosen=set(chosen), errors=_field_errors(exc)
        )
    if cr.state == ChangeState.approved:
        return redirect(ctx, f"listings/{cr.entity_id}", done="published")
    return redirect(ctx, "proposals", done="proposed")
