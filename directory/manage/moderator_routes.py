"""Moderator pages: the queue with counts and filters, one change as a side-by-side diff,
approve / reject with a reason, the conflict view, verify, the freshness board, public reports.

Every decision is `directory.moderation.service`'s; these routes parse, call, render.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Form
from starlette.responses import Response

from directory.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from directory.i18n import gettext
from directory.listings.queries import list_categories
from directory.manage import queries
from directory.manage.auth import ManageContext, Moderator, PageNotFound, parse_id
from directory.manage.errors import error_messages
from directory.manage.render import ManageRoute, page, redirect
from directory.moderation import service as moderation
from directory.moderation.models import ChangeKind, ChangeRequest, ChangeState

router = APIRouter(route_class=ManageRoute)

AGES = {"1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1), "3d": dt.timedelta(days=3)}


@router.get("/queue", name="manage_queue")
def queue_page(
    ctx: Moderator, region: str = "", kind: str = "", category: str = "", age: str = ""
) -> Response:
    assert ctx.account is not None
    kind = kind if kind in ChangeKind.__members__ else ""
    view = _queue_view(ctx, region=region, kind=kind, category=category, age=age)
    names = queries.service_names(
        ctx.db,
        {c.service_id for c in view.items if c.service_id} | {r.service_id for r in view.reports},
        ctx.locale,
    )
    authors = moderation.account_names(ctx.db, [c.author_id for c in view.items])
    refs = queries.reference_names(
        ctx.db, [v for c in view.items for v in (c.payload.get("fields") or {}).values()]
    )
    return page(
        ctx,
        "manage/queue.html",
        ref_names=refs,
        block="queue",
        view=view,
        names=names,
        authors=authors,
        regions=queries.regions(ctx.db, ctx.locale),
        categories=list_categories(ctx.db, locale=ctx.locale),
        filters={"region": region, "kind": kind, "category": category, "age": age},
        ages=AGES,
        now=dt.datetime.now(dt.UTC),
    )


def _queue_view(
    ctx: ManageContext, *, region: str = "", kind: str = "", category: str = "", age: str = ""
) -> Any:
    assert ctx.account is not None
    return moderation.queue(
        ctx.db,
        viewer=ctx.account,
        region_id=parse_id(region) if region else None,
        category=category or None,
        kind=kind if kind in ChangeKind.__members__ else None,
        older_than=AGES.get(age),
    )


def _row_answer(
    ctx: ManageContext, cr: ChangeRequest, *, done: str = "", error: str = ""
) -> Response:
    """Approved (or refused) from the queue list: the row's new state, and the counters above
    the list recounted with the filters of the page it was done on (HX-Current-URL)."""
    query = parse_qs(urlsplit(ctx.request.headers.get("hx-current-url", "")).query)
    filters = {k: query.get(k, [""])[0] for k in ("region", "kind", "category", "age")}
    view = _queue_view(ctx, **filters)
    return page(ctx, "manage/_queue_done.html", cr=cr, done=done, error=error, view=view)


def _from_queue_row(ctx: ManageContext) -> bool:
    return ctx.is_htmx and ctx.request.headers.get("hx-target", "").startswith("row-")


def _next_pending(ctx: ManageContext, cr: ChangeRequest) -> Any:
    """The next change this moderator can decide on (queue order, in their regions)."""
    assert ctx.account is not None
    view = moderation.queue(ctx.db, viewer=ctx.account, limit=50)
    for item in view.items:
        if (
            item.id != cr.id
            and item.state == ChangeState.pending
            and item.author_id != ctx.account.id
        ):
            return item.id
    return None


def _change(ctx: ManageContext, change_id: str) -> ChangeRequest:
    assert ctx.account is not None
    try:
        return moderation.get_change(ctx.db, change_id=parse_id(change_id), viewer=ctx.account)
    except NotFound:
        raise PageNotFound() from None


def _change_page(
    ctx: ManageContext,
    cr: ChangeRequest,
    *,
    status_code: int = 200,
    block: str | None = None,
    **values: Any,
) -> Response:
    assert ctx.account is not None
    values.setdefault("errors", {})
    values.setdefault("conflict", None)
    values.setdefault("reason", "")
    authors = moderation.account_names(ctx.db, [cr.author_id, cr.reviewer_id])
    rows = moderation.diff(ctx.db, change=cr)
    # A new listing proposed as a group: every record of it, each with its own diff (their
    # references to each other are implied by the page and left out).
    members: list[tuple[ChangeRequest, list[Any]]] = []
    if cr.group_id is not None:
        group = moderation.group_of(ctx.db, change=cr)
        ids = {str(x.entity_id) for x in group}
        for x in group:
            lines = [
                r
                for r in moderation.diff(ctx.db, change=x)
                if not (isinstance(r.proposed, str) and r.proposed in ids)
                and not (isinstance(r.proposed, list) and set(map(str, r.proposed)) <= ids)
            ]
            members.append((x, lines))
        rows = [r for _, lines in members for r in lines]
    refs = queries.reference_names(ctx.db, [v for r in rows for v in (r.current, r.proposed)])
    return page(
        ctx,
        "manage/change.html",
        status_code=status_code,
        block=block,
        cr=cr,
        rows=rows,
        ref_names=refs,
        authors=authors,
        listing_name=queries.service_names(
            ctx.db, {cr.service_id} if cr.service_id else set(), ctx.locale
        ).get(
            cr.service_id  # type: ignore[arg-type]
        ),
        own=cr.author_id == ctx.account.id,
        next_id=_next_pending(ctx, cr),
        members=members,
        sensitive=cr.sensitive or any(x.sensitive for x, _ in members),
        # times in the diff: the zone of the listing's place (a notice: its region's)
        tz=queries.zone_of_change(ctx.db, cr, default=ctx.settings.timezone),
        **values,
    )


@router.get("/queue/{change_id}", name="manage_change")
def change_page(ctx: Moderator, change_id: str) -> Response:
    return _change_page(ctx, _change(ctx, change_id))


def _decided(ctx: ManageContext, cr: ChangeRequest, done: str) -> Response:
    nxt = _next_pending(ctx, cr)
    if _from_queue_row(ctx):
        # approved from the queue list: the row is replaced by its new state
        return _row_answer(ctx, cr, done=done)
    target = f"queue/{nxt}" if nxt else "queue"
    return redirect(ctx, target, done=done)


@router.post("/queue/{change_id}/approve")
def approve(ctx: Moderator, change_id: str) -> Response:
    cr = _change(ctx, change_id)
    try:
        moderation.approve(ctx.db, change_id=cr.id, reviewer=ctx.account)  # type: ignore[arg-type]
    except Conflict as exc:
        if _from_queue_row(ctx):
            return _row_answer(
                ctx,
                cr,
                error=_already()
                if "current_version" not in exc.extra
                else gettext("This listing changed after the proposal was made."),
            )
        if "current_version" not in exc.extra:  # already decided by someone else
            return _change_page(ctx, cr, status_code=409, errors={"form": _already()})
        since = queries.changes_since(
            ctx.db, entity_type=cr.entity_type, entity_id=cr.entity_id, version=cr.base_version
        )
        return _change_page(ctx, cr, status_code=409, conflict=since)
    except (Forbidden, ValidationFailed) as exc:
        if _from_queue_row(ctx):
            return _row_answer(ctx, cr, error=_forbidden(exc)["form"])
        return _change_page(ctx, cr, status_code=403, errors=_forbidden(exc))
    return _decided(ctx, cr, "approved")


def _already() -> str:
    from directory.i18n import gettext

    return gettext("Another moderator has already decided on this change.")


def _forbidden(exc: DomainError) -> dict[str, str]:
    from directory.i18n import gettext

    if isinstance(exc, Forbidden):
        if "own change" in exc.detail:
            return {
                "form": gettext(
                    "You proposed this change yourself: another moderator must review it."
                )
            }
        return {"form": gettext("This change is outside your regions.")}
    return error_messages(exc)


@router.post("/queue/{change_id}/reject")
def reject(
    ctx: Moderator, change_id: str, reason: Annotated[str, Form(max_length=5000)] = ""
) -> Response:
    cr = _change(ctx, change_id)
    try:
        moderation.reject(ctx.db, change_id=cr.id, reviewer=ctx.account, reason=reason)  # type: ignore[arg-type]
    except ValidationFailed:
        from directory.i18n import gettext

        return _change_page(
            ctx,
            cr,
            status_code=422,
            reason=reason,
            errors={
                "reason": gettext("Please say why, so that the author can do better next time.")
            },
        )
    except Conflict:
        return _change_page(ctx, cr, status_code=409, errors={"form": _already()})
    except Forbidden as exc:
        return _change_page(ctx, cr, status_code=403, errors=_forbidden(exc))
    return _decided(ctx, cr, "rejected")


@router.post("/queue/{change_id}/acknowledge")
def acknowledge(ctx: Moderator, change_id: str) -> Response:
    cr = _change(ctx, change_id)
    try:
        moderation.acknowledge(ctx.db, change_id=cr.id, reviewer=ctx.account)  # type: ignore[arg-type]
    except (Conflict, Forbidden) as exc:
        return _change_page(ctx, cr, status_code=409, errors=_forbidden(exc))
    return _decided(ctx, cr, "approved")


@router.post("/listings/{service_id}/verify")
def verify(ctx: Moderator, service_id: str) -> Response:
    sid = parse_id(service_id)
    try:
        moderation.propose(
            ctx.db,
            actor=ctx.account,
            entity_type="service",
            kind="verify",
            entity_id=sid,
            source="web",
        )
    except NotFound:
        raise PageNotFound() from None
    except (Forbidden, ValidationFailed):
        return redirect(ctx, f"listings/{sid}", done="verify-refused")
    back = ctx.request.headers.get("hx-target", "")
    if ctx.is_htmx and back.startswith("stale-"):
        return page(ctx, "manage/_verified.html", service_id=sid)
    return redirect(ctx, f"listings/{sid}", done="verified")


@router.get("/freshness", name="manage_freshness")
def freshness(ctx: Moderator) -> Response:
    now = dt.datetime.now(dt.UTC)
    groups = queries.freshness_board(
        ctx.db, stale_after_days=ctx.settings.stale_after_days, now=now, locale=ctx.locale
    )
    return page(
        ctx, "manage/freshness.html", groups=groups, now=now, days=ctx.settings.stale_after_days
    )


@router.get("/reports", name="manage_reports")
def reports(ctx: Moderator) -> Response:
    assert ctx.account is not None
    view = moderation.queue(ctx.db, viewer=ctx.account, limit=200)
    names = queries.service_names(ctx.db, {r.service_id for r in view.reports}, ctx.locale)
    return page(
        ctx, "manage/reports.html", reports=view.reports, names=names, now=dt.datetime.now(dt.UTC)
    )


@router.post("/reports/{report_id}")
def resolve_report(
    ctx: Moderator, report_id: str, action: Annotated[str, Form(max_length=20)] = "resolve"
) -> Response:
    try:
        moderation.resolve_report(
            ctx.db,
            report_id=parse_id(report_id),
            moderator=ctx.account,  # type: ignore[arg-type]
            dismiss=action == "dismiss",
        )
    except NotFound:
        raise PageNotFound() from None
    if ctx.is_htmx:
        return Response(status_code=200, content="")
    return redirect(ctx, "reports", done="report-closed")
