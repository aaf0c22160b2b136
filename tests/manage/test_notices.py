"""Notices in the moderator app: a moderator posts, edits and ends the notices of their own
regions (scenario 9, from a phone), in the region's own time; another region is refused with a
clear localised 403; every step is audited."""

from __future__ import annotations

import datetime as dt

import pyotp
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.listings.models import Notice, Place, Translation
from directory.moderation.models import AuditEntry
from tests.factories import make_account, make_city
from tests.manage.conftest import csrf_of, sign_in


def _signed_in(
    db: Session,
    client,
    role: str,
    regions: list[Place] | None = None,  # type: ignore[no-untyped-def]
    locale: str = "en",
) -> Account:
    account = make_account(db, role, regions)
    account.totp_secret = pyotp.random_base32()
    db.flush()
    sign_in(client, account.email, totp_secret=account.totp_secret, locale=locale)
    return account


def _future(hours: int) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).replace(second=0, microsecond=0)


def _local_input(when: dt.datetime, tz: str = "Europe/Kyiv") -> str:
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def test_moderator_posts_edits_and_ends_a_notice_of_their_region(client, db: Session) -> None:
    dnipro = make_city(db, name="Dnipropetrovsk Oblast", tz="Europe/Kyiv")
    taras = _signed_in(db, client, "moderator", [dnipro])
    page = client.get("/en/manage/notices")
    assert page.status_code == 200
    assert "Dnipropetrovsk Oblast" in page.text
    assert ">Everywhere<" not in page.text  # a regional moderator posts for their regions only
    until = _future(2)
    r = client.post(
        "/en/manage/notices",
        data={
            "csrf_token": csrf_of(page.text),
            "kind": "alert",
            "severity": "danger",
            "region": str(dnipro.id),
            "valid_until": _local_input(until),
            "title_uk": "Повітряна тривога",
            "title_en": "Air-raid alert",
            "body_en": "Go to a shelter.",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    notice = db.query(Notice).filter_by(region_id=dnipro.id).one()
    assert (notice.kind, notice.severity, notice.source_locale) == ("alert", "danger", "en")
    assert notice.valid_until == until  # typed in Kyiv time, stored in UTC
    listing = client.get("/en/manage/notices")
    assert "Air-raid alert" in listing.text and "(Kyiv time)" in listing.text

    # edit: the form shows the notice's times in its region's zone
    form = client.get(f"/en/manage/notices/{notice.id}")
    assert form.status_code == 200
    assert f'value="{_local_input(until)}"' in form.text and "Повітряна тривога" in form.text
    later = _future(4)
    r = client.post(
        f"/en/manage/notices/{notice.id}",
        data={
            "csrf_token": csrf_of(form.text),
            "kind": "alert",
            "severity": "danger",
            "region": str(dnipro.id),
            "valid_from": _local_input(notice.valid_from),
            "valid_until": _local_input(later),
            "title_en": "Air-raid alert continues",
            "title_uk": "Повітряна тривога",
            "body_en": "Go to a shelter.",
            "base_version": str(notice.version),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    db.refresh(notice)
    assert notice.title == "Air-raid alert continues" and notice.valid_until == later
    assert (
        db.query(Translation).filter_by(entity_id=notice.id, locale="uk").one().value
        == "Повітряна тривога"
    )

    # end
    r = client.post(
        f"/en/manage/notices/{notice.id}/end",
        data={"csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=notice-ended" in r.headers["location"]
    db.refresh(notice)
    assert notice.archived_at is not None

    actions = [
        a.action
        for a in db.query(AuditEntry).filter_by(entity_id=notice.id).order_by(AuditEntry.at)
    ]
    assert len(actions) == 3 and actions[0] == "create"
    assert all(a.author_id == taras.id for a in db.query(AuditEntry).filter_by(entity_id=notice.id))


def test_moderator_of_kyiv_is_refused_dnipro_with_a_localised_403(client, db: Session) -> None:
    from directory.moderation import service as moderation

    kyiv = make_city(db, name="Kyiv Oblast")
    dnipro = make_city(db, name="Dnipropetrovsk Oblast")
    admin = make_account(db, "admin")
    other = moderation.propose(
        db,
        actor=admin,
        entity_type="notice",
        kind="create",
        changes={"title": "Dnipro alert", "severity": "danger", "region_id": str(dnipro.id)},
    )
    _signed_in(db, client, "moderator", [kyiv], locale="uk")
    page = client.get("/uk/manage/notices")
    assert "Dnipro alert" not in page.text  # another region's notices are not listed
    # posting for Dnipro (a crafted form): 403 in Ukrainian, nothing stored
    r = client.post(
        "/uk/manage/notices",
        data={
            "csrf_token": csrf_of(page.text),
            "kind": "alert",
            "severity": "danger",
            "region": str(dnipro.id),
            "title_uk": "Тривога",
        },
    )
    assert r.status_code == 403
    assert "не належить до ваших регіонів" in r.text
    assert db.query(Notice).filter_by(title="Тривога").count() == 0
    # editing or ending Dnipro's notice: 403 too, the notice unchanged
    assert client.get(f"/uk/manage/notices/{other.entity_id}").status_code == 403
    r = client.post(
        f"/uk/manage/notices/{other.entity_id}/end", data={"csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 403
    assert db.get(Notice, other.entity_id).archived_at is None
    # a nationwide notice (no region) is refused to a regional moderator as well
    r = client.post(
        "/uk/manage/notices",
        data={
            "csrf_token": csrf_of(page.text),
            "severity": "info",
            "region": "",
            "title_uk": "Усім",
        },
    )
    assert r.status_code == 422 and db.query(Notice).filter_by(title="Усім").count() == 0


def test_nationwide_notices_need_an_account_for_every_region(db: Session) -> None:
    import pytest

    from directory.errors import Forbidden
    from directory.moderation import service as moderation

    kyiv = make_city(db, name="Kyiv Oblast")
    regional = make_account(db, "moderator", [kyiv])
    with pytest.raises(Forbidden):
        moderation.propose(
            db,
            actor=regional,
            entity_type="notice",
            kind="create",
            changes={"title": "Everyone", "severity": "info"},
        )
    unlimited = make_account(db, "moderator")
    cr = moderation.propose(
        db,
        actor=unlimited,
        entity_type="notice",
        kind="create",
        changes={"title": "Everyone", "severity": "info"},
    )
    assert db.get(Notice, cr.entity_id) is not None


def test_admin_posts_anywhere_with_times_in_the_regions_zone(client, db: Session) -> None:
    warsaw = make_city(db, name="Masovian Voivodeship", tz="Europe/Warsaw")
    _signed_in(db, client, "admin")
    page = client.get("/en/manage/notices")
    assert ">Everywhere<" in page.text
    until = _future(3)
    r = client.post(
        "/en/manage/notices",
        data={
            "csrf_token": csrf_of(page.text),
            "kind": "blackout",
            "severity": "warning",
            "region": str(warsaw.id),
            "valid_until": _local_input(until, "Europe/Warsaw"),
            "title_pl": "Brak prądu",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    notice = db.query(Notice).filter_by(region_id=warsaw.id).one()
    assert notice.valid_until == until  # Warsaw wall time, not Kyiv's
    assert "(Warsaw time)" in client.get("/en/manage/notices").text


def test_a_time_the_clocks_skip_is_refused_not_shifted(client, db: Session) -> None:
    kyiv = make_city(db, name="Kyiv Oblast")
    _signed_in(db, client, "admin")
    page = client.get("/en/manage/notices")
    year = dt.date.today().year + 1
    last_sunday = max(
        d for d in (dt.date(year, 3, day) for day in range(25, 32)) if d.weekday() == 6
    )
    r = client.post(
        "/en/manage/notices",
        data={
            "csrf_token": csrf_of(page.text),
            "severity": "info",
            "region": str(kyiv.id),
            "valid_from": f"{last_sunday}T03:30",
            "title_en": "Gap",
        },
    )
    assert r.status_code == 422 and "the clocks go forward" in r.text
    assert db.query(Notice).filter_by(title="Gap").count() == 0


def test_missing_title_keeps_what_was_typed(client, db: Session) -> None:
    _signed_in(db, client, "admin")
    page = client.get("/en/manage/notices")
    r = client.post(
        "/en/manage/notices", data={"csrf_token": csrf_of(page.text), "body_de": "Nur Text"}
    )
    assert r.status_code == 422 and "Nur Text" in r.text
    assert "Write the title in at least one language." in r.text


def test_volunteers_do_not_get_the_notices_page(client, db: Session) -> None:
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    assert client.get("/en/manage/notices").status_code == 403


def test_a_diff_shows_times_in_the_listings_zone(client, db: Session) -> None:
    from zoneinfo import ZoneInfo

    from directory.moderation import service as moderation
    from directory.moderation.models import ChangeRequest
    from tests.factories import make_service

    warsaw = make_city(db, name="Masovian Voivodeship", tz="Europe/Warsaw")
    svc = make_service(db, name="Reception point", region=warsaw, tz="Europe/Warsaw")
    until = _future(5)
    volunteer = make_account(db, "volunteer")
    moderation.propose(
        db,
        actor=volunteer,
        entity_type="service",
        kind="status",
        entity_id=svc.id,
        changes={"status": "full", "status_until": until.isoformat()},
    )
    cr = db.query(ChangeRequest).filter_by(entity_id=svc.id).one()
    _signed_in(db, client, "moderator")
    page = client.get(f"/de/manage/queue/{cr.id}")
    local = until.astimezone(ZoneInfo("Europe/Warsaw")).strftime("%H:%M")
    assert f"{local} (Ortszeit Warschau)" in page.text
