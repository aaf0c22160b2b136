"""The manage pages end to end over HTTP: volunteer proposes, moderator reviews, conflicts."""

from __future__ import annotations

import pyotp
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.moderation.models import ChangeRequest, ChangeState
from tests.factories import make_account, make_listing, make_place
from tests.manage.conftest import csrf_of, post_form, sign_in


def moderator(db: Session, client, **kw) -> Account:  # type: ignore[no-untyped-def]
    account = make_account(db, "moderator", **kw)
    account.totp_secret = pyotp.random_base32()
    db.flush()
    sign_in(client, account.email, totp_secret=account.totp_secret)
    return account


def test_volunteer_marks_full_and_sets_capacity_then_moderator_approves(
    client, db: Session
) -> None:
    svc, loc = make_listing(
        db, name="Collective centre Lviv", capacity_maximum=40, capacity_available=5
    )
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)

    found = client.get("/en/manage/", params={"q": "collective centre"})
    assert f"/en/manage/listings/{svc.id}" in found.text
    page_url = f"/en/manage/listings/{svc.id}"
    r = post_form(
        client, page_url, f"{page_url}/status", {"status": "full", "base_version": str(svc.version)}
    )
    assert r.status_code == 303 and "done=proposed" in r.headers["location"]
    r = post_form(
        client,
        page_url,
        f"{page_url}/capacity",
        {"available": "12", "base_version": str(loc.version)},
    )
    assert r.status_code == 303
    db.refresh(loc)
    assert loc.capacity_available == 5  # a volunteer's change waits for review

    mine = client.get("/en/manage/proposals")
    assert mine.text.count("Waiting for review") >= 2

    # a moderator reviews the capacity change from its diff page
    client.cookies.clear()
    moderator(db, client)
    queue = client.get("/en/manage/queue")
    assert "2 changes waiting" in queue.text
    cr = db.query(ChangeRequest).filter_by(entity_id=loc.id).one()
    diff = client.get(f"/en/manage/queue/{cr.id}")
    assert (
        "Free places" in diff.text and "12" in diff.text and '"capacity_available"' not in diff.text
    )
    r = client.post(
        f"/en/manage/queue/{cr.id}/approve",
        data={"csrf_token": csrf_of(diff.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=approved" in r.headers["location"]
    db.refresh(loc)
    assert loc.capacity_available == 12
    assert cr.state == ChangeState.approved


def test_htmx_quick_status_answers_a_fragment(client, db: Session) -> None:
    svc, _ = make_listing(db)
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    page = client.get(f"/en/manage/listings/{svc.id}")
    r = client.post(
        f"/en/manage/listings/{svc.id}/status",
        data={
            "status": "paused",
            "reason": "power",
            "duration": "3",
            "base_version": str(svc.version),
        },
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(page.text)},
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div id="quick">')
    assert "waits for a moderator" in r.text
    cr = db.query(ChangeRequest).filter_by(entity_id=svc.id).one()
    assert cr.payload["fields"]["status"] == "temporarily closed"
    # A one-tap reason is a code (issue 12 §4), never the English label as the listing's text.
    assert cr.payload["fields"]["status_reason_code"] == "power"
    assert "status_reason" not in cr.payload["fields"] and not cr.payload["translations"]
    assert cr.payload["fields"]["status_until"]


def test_quick_status_own_words_in_the_volunteers_language_and_alternative(
    client, db: Session
) -> None:
    from directory.moderation.service import diff

    svc, _ = make_listing(db)
    other, _ = make_listing(db, name="Second shelter")
    svc.organization_id = other.organization_id
    db.flush()
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    page = client.get(f"/uk/manage/listings/{svc.id}")
    assert f'<option value="{other.id}"' in page.text  # "go here instead" is offered
    r = client.post(
        f"/uk/manage/listings/{svc.id}/status",
        data={
            "status": "paused",
            "reason": "",
            "reason_text": "Прорвало трубу",
            "duration": "",
            "alternative": str(other.id),
            "base_version": str(svc.version),
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    cr = db.query(ChangeRequest).filter_by(entity_id=svc.id).one()
    assert cr.payload["translations"] == {"status_reason": {"uk": "Прорвало трубу"}}
    assert cr.payload["fields"]["alternative_service_id"] == str(other.id)
    assert cr.payload["fields"]["status_reason_code"] is None
    assert {d.field for d in diff(db, change=cr)} >= {"status", "alternative_service_id"}
    mine = client.get("/uk/manage/proposals").text  # her own words, in their language
    assert '<span lang="uk" dir="auto">Прорвало трубу</span>' in mine


def test_second_editor_is_told_and_shown_the_other_change(client, db: Session) -> None:
    svc, loc = make_listing(db, capacity_available=10)
    stale_version = loc.version
    # someone (a moderator, published at once) changed the capacity meanwhile
    from directory.moderation import service as moderation

    other = make_account(db, "moderator")
    moderation.propose(
        db,
        actor=other,
        entity_type="location",
        kind="capacity",
        entity_id=loc.id,
        changes={"capacity_available": 3},
    )
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    page_url = f"/en/manage/listings/{svc.id}"
    r = post_form(
        client,
        page_url,
        f"{page_url}/capacity",
        {"available": "25", "base_version": str(stale_version)},
    )
    assert r.status_code == 409
    assert "Someone else changed this listing" in r.text
    assert "10" in r.text and "3" in r.text  # the other change: 10 → 3
    assert 'value="25"' in r.text  # what they typed is kept
    assert db.query(ChangeRequest).filter_by(author_id=volunteer.id).count() == 0


def test_invalid_capacity_keeps_input_and_explains(client, db: Session) -> None:
    svc, loc = make_listing(db, capacity_maximum=40)
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    page_url = f"/uk/manage/listings/{svc.id}"
    r = post_form(
        client,
        page_url,
        f"{page_url}/capacity",
        {"available": "50", "base_version": str(loc.version)},
    )
    assert r.status_code == 422
    assert 'value="50"' in r.text
    assert 'aria-invalid="true"' in r.text


def test_approving_a_stale_proposal_shows_the_conflict(client, db: Session) -> None:
    from directory.moderation import service as moderation

    svc, loc = make_listing(db, capacity_available=10)
    volunteer = make_account(db, "volunteer")
    cr = moderation.propose(
        db,
        actor=volunteer,
        entity_type="location",
        kind="capacity",
        entity_id=loc.id,
        changes={"capacity_available": 20},
    )
    mod_a = make_account(db, "moderator")
    moderation.propose(
        db,
        actor=mod_a,
        entity_type="location",
        kind="capacity",
        entity_id=loc.id,
        changes={"capacity_available": 0},
    )
    moderator(db, client)
    page = client.get(f"/en/manage/queue/{cr.id}")
    r = client.post(f"/en/manage/queue/{cr.id}/approve", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 409
    assert "This listing changed after the proposal was made" in r.text
    db.refresh(loc)
    assert loc.capacity_available == 0


def test_reject_needs_a_reason_and_the_author_reads_it(client, db: Session) -> None:
    from directory.moderation import service as moderation

    svc, loc = make_listing(db)
    volunteer = make_account(db, "volunteer")
    cr = moderation.propose(
        db,
        actor=volunteer,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        changes={"name": "Totally different name"},
    )
    moderator(db, client)
    page = client.get(f"/en/manage/queue/{cr.id}")
    r = client.post(
        f"/en/manage/queue/{cr.id}/reject", data={"csrf_token": csrf_of(page.text), "reason": ""}
    )
    assert r.status_code == 422 and "Please say why" in r.text
    r = client.post(
        f"/en/manage/queue/{cr.id}/reject",
        data={"csrf_token": csrf_of(page.text), "reason": "The sign says otherwise"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.cookies.clear()
    sign_in(client, volunteer.email)
    assert "The sign says otherwise" in client.get("/en/manage/proposals").text


def test_moderator_cannot_approve_own_sensitive_change(client, db: Session) -> None:
    from directory.moderation import service as moderation

    svc, loc = make_listing(db)
    mod = moderator(db, client)
    cr = moderation.propose(
        db,
        actor=mod,
        entity_type="location",
        kind="update",
        entity_id=loc.id,
        changes={"latitude": "50.5", "longitude": "30.6"},
    )
    assert cr.state == ChangeState.pending and cr.sensitive
    page = client.get(f"/en/manage/queue/{cr.id}")
    assert "another moderator must review it" in page.text
    r = client.post(f"/en/manage/queue/{cr.id}/approve", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 403
    assert cr.state == ChangeState.pending


def test_verify_from_the_freshness_board(client, db: Session) -> None:
    svc, _ = make_listing(db, name="Warming point Kharkiv")
    moderator(db, client)
    board = client.get("/en/manage/freshness")
    assert "Warming point Kharkiv" in board.text
    r = client.post(
        f"/en/manage/listings/{svc.id}/verify",
        data={"csrf_token": csrf_of(board.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.refresh(svc)
    assert svc.assured_date is not None


def test_admin_creates_a_volunteer_who_can_sign_in(client, db: Session) -> None:
    admin = make_account(db, "admin")
    admin.totp_secret = pyotp.random_base32()
    region = make_place(db, name="Lviv Oblast")
    sign_in(client, admin.email, totp_secret=admin.totp_secret)
    page = client.get("/en/manage/users")
    r = client.post(
        "/en/manage/users",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "new.helper@example.org",
            "display_name": "New helper",
            "role": "volunteer",
            "region": str(region.id),
        },
    )
    assert r.status_code == 200 and "The account is created" in r.text
    password = (
        r.text.split("Temporary password for new.helper@example.org:")[1]
        .split('<code class="m-secret">')[1]
        .split("<")[0]
    )
    # a duplicate is refused, what was typed stays
    r = client.post(
        "/en/manage/users",
        data={"csrf_token": csrf_of(page.text), "email": "new.helper@example.org"},
    )
    assert r.status_code == 422 and "exists already" in r.text
    client.cookies.clear()
    sign_in(client, "new.helper@example.org", password=password)
    assert client.get("/en/manage/").status_code == 200


def test_pages_render_in_every_locale(client, db: Session) -> None:
    svc, _ = make_listing(db)
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    for locale in ("en", "uk", "ru", "pl", "de", "ar"):
        r = client.get(f"/{locale}/manage/listings/{svc.id}")
        assert r.status_code == 200
        assert f'lang="{locale}"' in r.text
    assert 'dir="rtl"' in client.get(f"/ar/manage/listings/{svc.id}").text
    for path in (f"listings/{svc.id}", f"listings/{svc.id}/edit", "proposals", ""):
        text = client.get(f"/en/manage/{path}").text
        assert 'name="csrf_token" value=""' not in text, path  # every form carries its token


def test_edit_form_proposes_only_what_changed(client, db: Session) -> None:
    svc, loc = make_listing(db, name="Shelter on Green street")
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    url = f"/en/manage/listings/{svc.id}/edit"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="t.service.name.uk"' in page.text and 'name="hours.new.days"' in page.text
    # the phone number grouped as people dial it; sent back as shown, it is not a change
    assert 'value="+380 44 123 4567"' in page.text
    # submit the form as shown, with two changes: a Ukrainian name and pets allowed
    import re

    data: dict[str, object] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text):
        if 'type="checkbox"' not in name:
            data[name] = value
    for name, value in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', page.text
    ):
        data[name] = value
    for name in re.findall(r'<select[^>]*name="([^"]+)"', page.text):
        block = page.text.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
        selected = re.search(r'<option value="([^"]*)" selected', block)
        data[name] = selected.group(1) if selected else ""
    data = {k: v for k, v in data.items() if not k.startswith("hours.") and k != "categories"}
    data["t.service.name.uk"] = "Притулок на Зеленій"
    data["location.pets_allowed"] = "yes"
    r = client.post(url, data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    changes = db.query(ChangeRequest).filter_by(author_id=volunteer.id).all()
    assert {c.entity_type for c in changes} == {"service", "location"}
    by_type = {c.entity_type: c.payload for c in changes}
    assert by_type["service"]["translations"] == {"name": {"uk": "Притулок на Зеленій"}}
    assert by_type["service"]["fields"] == {}
    assert by_type["location"]["fields"] == {"pets_allowed": True}


def test_edit_form_keeps_typed_values_on_error(client, db: Session) -> None:
    svc, loc = make_listing(db)
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    url = f"/en/manage/listings/{svc.id}/edit"
    page = client.get(url)
    r = client.post(
        url,
        data={
            "csrf_token": csrf_of(page.text),
            "v.service": str(svc.version),
            "t.service.name.en": svc.name,
            "t.service.description.en": svc.description,
            "phone.new.number": "12345",
            "location.privacy": "exact",
            "location.latitude": "50.45",
            "location.longitude": "30.52",
            "location.capacity_maximum": "40",
        },
    )
    assert r.status_code == 422
    assert 'value="12345"' in r.text
    assert "country code" in r.text
    assert db.query(ChangeRequest).filter_by(author_id=volunteer.id).count() == 0


def test_volunteer_proposes_a_new_listing(client, db: Session) -> None:
    svc, _ = make_listing(db)
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    page = client.get("/uk/manage/new")
    assert page.status_code == 200
    assert (
        "Наприклад: MO-FR 09:00-18:00" in page.text and "…або назва нової організації" in page.text
    )
    r = client.post(
        "/uk/manage/new",
        data={
            "csrf_token": csrf_of(page.text),
            "organization_id": str(svc.organization_id),
            "name": "Пункт обігріву на Сихові",
            "description": "Тепло, чай, зарядка",
            "address": "вул. Вигадана, 1",
            "city": "Львів",
            "phone": "+380441234999",
            "hours": "MO-FR 09:00-18:00; SA 10:00-14:00",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    crs = db.query(ChangeRequest).filter_by(author_id=volunteer.id).all()
    # the whole listing is proposed as one group: service, place, address, phone, hours
    assert sorted(cr.entity_type for cr in crs) == [
        "address",
        "location",
        "phone",
        "schedule",
        "schedule",
        "service",
    ]
    assert {cr.state for cr in crs} == {ChangeState.pending} and len(
        {cr.group_id for cr in crs}
    ) == 1
    by_type = {cr.entity_type: cr for cr in crs}
    assert by_type["service"].payload["fields"]["name"] == "Пункт обігріву на Сихові"
    assert by_type["service"].payload["fields"]["source_locale"] == "uk"
    assert by_type["phone"].payload["fields"]["number"] == "+380441234999"
    assert by_type["address"].payload["fields"]["city"] == "Львів"
    hours = sorted(
        (cr.payload["fields"]["byday"], cr.payload["fields"]["opens_at"])
        for cr in crs
        if cr.entity_type == "schedule"
    )
    assert hours == [("MO,TU,WE,TH,FR", "09:00:00"), ("SA", "10:00:00")]
    # without a name: refused, what was typed stays; unreadable hours: said so
    r = client.post(
        "/uk/manage/new",
        data={
            "csrf_token": csrf_of(page.text),
            "organization_id": str(svc.organization_id),
            "description": "Без назви",
        },
    )
    assert r.status_code == 422 and "Без назви" in r.text
    r = client.post(
        "/uk/manage/new",
        data={
            "csrf_token": csrf_of(page.text),
            "organization_id": str(svc.organization_id),
            "name": "Пункт",
            "hours": "щодня",
        },
    )
    assert r.status_code == 422 and 'id="n-hours-error"' in r.text and "щодня" in r.text
    assert db.query(ChangeRequest).filter_by(author_id=volunteer.id).count() == 6

    # a moderator sees the whole new listing on one page and approves it at once
    client.cookies.clear()
    moderator(db, client)
    head = by_type["service"]
    queue = client.get("/en/manage/queue")
    assert queue.text.count(f"/en/manage/queue/{head.id}") >= 1
    assert "A new listing of 6 records" in queue.text
    for cr in crs:
        if cr.id != head.id:
            assert f'id="row-{cr.id}"' not in queue.text  # one line per new listing
    change = client.get(f"/en/manage/queue/{head.id}")
    assert change.status_code == 200
    assert "A new listing of 6 records, proposed together." in change.text
    assert client.get(f"/uk/manage/queue/{head.id}").text.count("Відкривається о") == 2
    for text in (
        "Place",
        "Address",
        "Phone",
        "Opening hours",
        "+380 44 123 4999",
        "вул. Вигадана, 1",
    ):
        assert text in change.text
    r = post_form(client, f"/en/manage/queue/{head.id}", f"/en/manage/queue/{head.id}/approve", {})
    assert r.status_code in (200, 303), r.text
    for cr in crs:
        db.refresh(cr)
    assert {cr.state for cr in crs} == {ChangeState.approved}


def test_volunteer_proposes_a_listing_of_a_new_organisation(client, db: Session) -> None:
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    page = client.get("/en/manage/new")
    r = client.post(
        "/en/manage/new",
        data={
            "csrf_token": csrf_of(page.text),
            "organization_name": "Neighbours help (fictional)",
            "name": "Soup kitchen",
            "description": "Hot soup",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    crs = db.query(ChangeRequest).filter_by(author_id=volunteer.id).all()
    assert sorted(cr.entity_type for cr in crs) == ["organization", "service"]
    org = next(cr for cr in crs if cr.entity_type == "organization")
    svc = next(cr for cr in crs if cr.entity_type == "service")
    assert svc.payload["fields"]["organization_id"] == str(org.entity_id)
    # neither chosen nor named: the organisation is asked for
    r = client.post("/en/manage/new", data={"csrf_token": csrf_of(page.text), "name": "Soup"})
    assert r.status_code == 422 and 'id="n-org-error"' in r.text


def _admin(db: Session, client) -> Account:  # type: ignore[no-untyped-def]
    admin = make_account(db, "admin")
    admin.totp_secret = pyotp.random_base32()
    db.flush()
    sign_in(client, admin.email, totp_secret=admin.totp_secret)
    return admin


def test_admin_token_shown_once_and_revoked(client, db: Session) -> None:
    _admin(db, client)
    volunteer = make_account(db, "volunteer")
    page = client.get("/en/manage/tokens")
    r = client.post(
        "/en/manage/tokens",
        data={
            "csrf_token": csrf_of(page.text),
            "account_id": str(volunteer.id),
            "name": "partner sync",
            "expires_days": "30",
        },
    )
    assert r.status_code == 200
    secret = r.text.split('<code class="m-secret">')[1].split("<")[0]
    assert secret.startswith("aid_")
    listing = client.get("/en/manage/tokens")
    assert secret not in listing.text  # shown once only
    from directory.accounts.models import ApiToken

    token = db.query(ApiToken).filter_by(account_id=volunteer.id).one()
    r = client.post(
        f"/en/manage/tokens/{token.id}/revoke",
        data={"csrf_token": csrf_of(listing.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.refresh(token)
    assert token.revoked_at is not None


def test_admin_posts_a_regional_notice_in_two_languages(client, db: Session) -> None:
    from directory.listings.models import Notice, Translation

    _admin(db, client)
    region = make_place(db, name="Dnipro Oblast")
    page = client.get("/en/manage/notices")
    r = client.post(
        "/en/manage/notices",
        data={
            "csrf_token": csrf_of(page.text),
            "severity": "danger",
            "region": str(region.id),
            "title_uk": "Повітряна тривога: ідіть в укриття",
            "title_en": "Air-raid alert: go to a shelter",
            "body_uk": "",
            "body_en": "",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    notice = db.query(Notice).filter_by(region_id=region.id).one()
    assert notice.source_locale == "en" and notice.severity == "danger"  # the admin's language
    assert (
        db.query(Translation)
        .filter_by(entity_id=notice.id, locale="uk")
        .one()
        .value.startswith("Повітряна")
    )
    # no title at all: refused, typed text kept
    r = client.post(
        "/en/manage/notices", data={"csrf_token": csrf_of(page.text), "body_de": "Nur Text"}
    )
    assert r.status_code == 422 and "Nur Text" in r.text


def test_admin_renames_a_category(client, db: Session) -> None:
    """Through the write path: a change request applied by the admin, an audit entry, and the
    services in the category found by the new label at once (their documents are reindexed)."""
    from directory.listings.models import Attribute, TaxonomyTerm, Translation
    from directory.moderation.models import AuditEntry
    from directory.search.index import reindex_services

    term = TaxonomyTerm(code="test-cat", name="Test category")
    db.add(term)
    db.flush()
    svc, _loc = make_listing(db, name="Riverside point")
    db.add(Attribute(link_id=svc.id, link_entity="service", taxonomy_term_id=term.id))
    db.flush()
    reindex_services(db, [svc.id])
    admin = _admin(db, client)
    assert "Riverside point" not in client.get("/pl/search?q=Zimorodek").text
    page = client.get("/en/manage/taxonomy")
    assert "test-cat" in page.text
    r = client.post(
        f"/en/manage/taxonomy/{term.id}",
        data={
            "csrf_token": csrf_of(page.text),
            "name_en": "Test category",
            "name_pl": "Zimorodek testowy",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert (
        db.query(Translation).filter_by(entity_id=term.id, locale="pl").one().value
        == "Zimorodek testowy"
    )
    change = db.query(ChangeRequest).filter_by(entity_id=term.id).one()
    assert change.state == ChangeState.approved and change.author_id == admin.id
    audit = db.query(AuditEntry).filter_by(entity_type="taxonomy_term", entity_id=term.id).one()
    assert audit.change_request_id == change.id and audit.approver_id == admin.id
    assert audit.changes == {"name@pl": [None, "Zimorodek testowy"]}
    assert "Riverside point" in client.get("/pl/search?q=Zimorodek").text
    # the same labels again: nothing to record
    page = client.get("/en/manage/taxonomy")
    client.post(
        f"/en/manage/taxonomy/{term.id}",
        data={"csrf_token": csrf_of(page.text), "name_pl": "Zimorodek testowy"},
    )
    assert db.query(ChangeRequest).filter_by(entity_id=term.id).count() == 1


def test_admin_cannot_disable_themselves_but_can_disable_others(client, db: Session) -> None:
    admin = _admin(db, client)
    other = make_account(db, "volunteer")
    page = client.get("/en/manage/users")
    r = client.post(
        f"/en/manage/users/{admin.id}", data={"csrf_token": csrf_of(page.text), "action": "disable"}
    )
    assert r.status_code == 422 and not admin.disabled
    r = client.post(
        f"/en/manage/users/{other.id}", data={"csrf_token": csrf_of(page.text), "action": "disable"}
    )
    assert r.status_code == 200
    assert other.disabled
    r = client.post(
        f"/en/manage/users/{other.id}", data={"csrf_token": csrf_of(page.text), "action": "reset"}
    )
    assert "Temporary password for" in r.text


def test_reports_are_triaged(client, db: Session) -> None:
    from directory.moderation import service as moderation
    from directory.moderation.models import ReportState

    svc, _ = make_listing(db, name="Basement shelter")
    report = moderation.report(db, service_id=svc.id, kind="locked", text="Door locked at 22:00")
    moderator(db, client)
    page = client.get("/en/manage/reports")
    assert "Found locked" in page.text and "Door locked at 22:00" in page.text
    r = client.post(
        f"/en/manage/reports/{report.id}",
        data={"csrf_token": csrf_of(page.text), "action": "resolve"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and r.text == ""
    db.refresh(report)
    assert report.state == ReportState.resolved


def test_queue_filters_and_htmx_approve_from_the_list(client, db: Session) -> None:
    from directory.moderation import service as moderation

    svc, loc = make_listing(db)
    volunteer = make_account(db, "volunteer")
    cr = moderation.propose(
        db,
        actor=volunteer,
        entity_type="location",
        kind="capacity",
        entity_id=loc.id,
        changes={"capacity_available": 3},
    )
    moderation.propose(
        db,
        actor=volunteer,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        changes={"description": "New text"},
    )
    moderator(db, client)
    full = client.get("/en/manage/queue")
    assert "2 changes waiting" in full.text
    fragment = client.get(
        "/en/manage/queue", params={"kind": "capacity"}, headers={"HX-Request": "true"}
    )
    assert (
        fragment.text.lstrip().startswith('<div id="queue">')
        and "1 change waiting" in fragment.text
    )
    r = client.post(
        f"/en/manage/queue/{cr.id}/approve",
        headers={
            "HX-Request": "true",
            "HX-Target": f"row-{cr.id}",
            "X-CSRF-Token": csrf_of(full.text),
        },
    )
    assert (
        r.status_code == 200
        and f'id="row-{cr.id}"' in r.text
        and "Approved and published" in r.text
    )
    db.refresh(loc)
    assert loc.capacity_available == 3


def test_trusted_volunteer_publishes_quick_updates_when_allowed(client, db: Session) -> None:
    from directory.accounts.service import set_trusted_volunteers_publish

    svc, loc = make_listing(db, capacity_available=4)
    admin = make_account(db, "admin")
    set_trusted_volunteers_publish(db, actor=admin, value=True)
    volunteer = make_account(db, "volunteer", trusted=True)
    sign_in(client, volunteer.email)
    page_url = f"/en/manage/listings/{svc.id}"
    r = post_form(
        client,
        page_url,
        f"{page_url}/capacity",
        {"available": "9", "base_version": str(loc.version)},
    )
    assert r.status_code == 303 and "done=published" in r.headers["location"]
    db.refresh(loc)
    assert loc.capacity_available == 9
    cr = db.query(ChangeRequest).filter_by(author_id=volunteer.id).one()
    assert cr.needs_review  # still shown to moderators


def test_edit_form_conflict_shows_the_other_change_and_keeps_typed(client, db: Session) -> None:
    from directory.listings.models import Phone
    from directory.moderation import service as moderation

    svc, loc = make_listing(db)
    phone = db.query(Phone).filter_by(location_id=loc.id).one()
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    url = f"/en/manage/listings/{svc.id}/edit"
    page = client.get(url)
    stale = str(svc.version)
    other = make_account(db, "moderator")
    moderation.propose(
        db,
        actor=other,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        changes={"description": "Changed by the other person"},
    )
    r = client.post(
        url,
        data={
            "csrf_token": csrf_of(page.text),
            "v.service": stale,
            "t.service.name.en": svc.name,
            "t.service.description.en": "My own description",
            "location.privacy": "exact",
            "location.latitude": "50.45",
            "location.longitude": "30.52",
            "location.capacity_maximum": "40",
            f"phone.{phone.id}.number": phone.number,
            "t.location.name.en": loc.name or "",
        },
    )
    assert r.status_code == 409
    assert "Someone else changed this listing" in r.text
    assert "Changed by the other person" in r.text  # what the other person wrote
    assert "My own description" in r.text  # what they typed, kept
    assert f'name="v.service" value="{svc.version}"' in r.text  # ready to send on the new version


def test_author_withdraws_a_pending_proposal(client, db: Session) -> None:
    from directory.moderation import service as moderation

    svc, _ = make_listing(db)
    volunteer = make_account(db, "volunteer")
    cr = moderation.propose(
        db,
        actor=volunteer,
        entity_type="service",
        kind="status",
        entity_id=svc.id,
        changes={"status": "full"},
    )
    sign_in(client, volunteer.email)
    page = client.get("/en/manage/proposals")
    r = client.post(
        f"/en/manage/proposals/{cr.id}/withdraw",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert cr.state == ChangeState.withdrawn


def test_confidential_whereabouts_never_reach_a_volunteer(client, db: Session) -> None:
    from directory.moderation import service as moderation

    svc, loc = make_listing(db, privacy="confidential", capacity_available=3)
    stale = loc.version
    mod_a, mod_b = make_account(db, "moderator"), make_account(db, "moderator")
    cr = moderation.propose(
        db,
        actor=mod_a,
        entity_type="location",
        kind="update",
        entity_id=loc.id,
        changes={"latitude": "48.123456", "longitude": "35.654321", "capacity_available": 2},
    )
    moderation.approve(db, change_id=cr.id, reviewer=mod_b)  # sensitive: a second moderator
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    page_url = f"/en/manage/listings/{svc.id}"
    listing = client.get(page_url).text
    edit = client.get(f"{page_url}/edit").text
    r = post_form(
        client, page_url, f"{page_url}/capacity", {"available": "5", "base_version": str(stale)}
    )
    assert r.status_code == 409
    for text in (listing, edit, r.text):
        assert "48.12" not in text and "35.65" not in text and "50.45" not in text
    assert "Only moderators see and change where it is" in edit


def test_tampered_quick_forms_get_the_form_back_not_a_crash(client, db: Session) -> None:
    svc, _ = make_listing(db)
    volunteer = make_account(db, "volunteer")
    sign_in(client, volunteer.email)
    token = csrf_of(client.get(f"/en/manage/listings/{svc.id}").text)
    for path, data in (
        ("status", {"status": "full", "base_version": "abc"}),
        ("status", {"status": "bogus"}),
        ("status", {"status": "paused", "duration": "99"}),
        ("capacity", {"available": "x" * 20}),
        ("capacity", {"available": "-1"}),
        ("capacity", {"available": "99999999999999"}),
    ):
        r = client.post(f"/en/manage/listings/{svc.id}/{path}", data={**data, "csrf_token": token})
        assert r.status_code == 422, (path, data, r.status_code)
        assert r.headers["content-type"].startswith("text/html")
    assert db.query(ChangeRequest).filter_by(author_id=volunteer.id).count() == 0
