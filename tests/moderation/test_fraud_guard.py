"""The fraud guard (issue 18, item 3): a change that moves how a listing is reached — deleting or
archiving a phone, an address, a URL or an e-mail address, or a phone number, e-mail address or
URL newly written into any text or translation — needs a moderator other than its author, by
every route: the API, the manage app, a revert and the importer. Ordinary edits still publish
with one moderator."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.listings.models import Address, Phone, Service
from directory.moderation import service as moderation
from directory.moderation.guard import contacts_in
from directory.moderation.models import ChangeRequest, ChangeState
from tests.factories import make_account, make_listing, make_place, make_token
from tests.manage.conftest import csrf_of, sign_in


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


class Listing:
    def __init__(self, db: Session) -> None:
        self.region = make_place(db, name="Guard oblast")
        self.service, self.location = make_listing(db, region=self.region, name="Guarded kitchen")
        self.service.url = "https://kitchen.example.org"
        self.service.email = "kitchen@example.org"
        self.service.description = "Hot meals every day."
        self.address = Address(
            location_id=self.location.id,
            address_1="Sadova 1",
            city="Lviv",
            country="UA",
            postal_code="79000",
        )
        db.add(self.address)
        db.flush()
        self.phone = db.execute(
            select(Phone).where(Phone.location_id == self.location.id)
        ).scalar_one()
        self.alice = make_account(
            db, "moderator", [self.region], email=f"alice-{self.service.id.hex[:6]}@example.org"
        )
        self.bob = make_account(
            db, "moderator", [self.region], email=f"bob-{self.service.id.hex[:6]}@example.org"
        )
        db.flush()


# --- the detector ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Moved. Call +380991234567", {"tel:+380991234567"}),
        ("call +380 99 123 45 67", {"tel:+380991234567"}),
        ("дзвоніть 099 123 45 67", {"tel:+380991234567"}),
        ("(044) 234-56-78 after 18:00", {"tel:+380442345678"}),
        ("write to help@scam.example.com", {"mailto:help@scam.example.com"}),
        ("see www.scam.ua/donate", {"url:www.scam.ua/donate"}),
        ("t.me/fakeshelter", {"url:t.me/fakeshelter"}),
        ("Open 09:00-18:00 on 12.03.2026, 120 places, 2024-2025, room 1234567", set()),
        ("Bring your passport, e.g. the internal one; node.js", set()),
    ],
)
def test_contacts_are_found_in_any_format(text: str, expected: set[str]) -> None:
    assert contacts_in(text, ["UA"]) == expected


# --- the rule at the write path -------------------------------------------------------------

Attack = Callable[[Session, Listing], ChangeRequest]


def _propose(
    db: Session, actor: Any, entity_type: str, kind: str, entity_id: Any, **kw: Any
) -> ChangeRequest:
    return moderation.propose(
        db, actor=actor, entity_type=entity_type, kind=kind, entity_id=entity_id, **kw
    )


ATTACKS: dict[str, Attack] = {
    "delete phone": lambda db, x: _propose(db, x.alice, "phone", "archive", x.phone.id),
    "delete address": lambda db, x: _propose(db, x.alice, "address", "archive", x.address.id),
    "status reason with a number": lambda db, x: _propose(
        db,
        x.alice,
        "service",
        "status",
        x.service.id,
        changes={"status": "temporarily closed"},
        translations={"status_reason": {"en": "Moved. Call +380991234567"}},
    ),
    "description with a number": lambda db, x: _propose(
        db,
        x.alice,
        "service",
        "update",
        x.service.id,
        changes={"description": "Hot meals every day, call +380 99 123 45 67"},
    ),
    "phone translation with a number": lambda db, x: _propose(
        db,
        x.alice,
        "phone",
        "update",
        x.phone.id,
        translations={"description": {"uk": "Новий номер: 099 123 45 67"}},
    ),
    "delete URL": lambda db, x: _propose(
        db, x.alice, "service", "update", x.service.id, changes={"url": None}
    ),
    "delete e-mail": lambda db, x: _propose(
        db, x.alice, "service", "update", x.service.id, changes={"email": None}
    ),
    "e-mail in a translation": lambda db, x: _propose(
        db,
        x.alice,
        "service",
        "update",
        x.service.id,
        translations={"eligibility_description": {"pl": "Pisz na pomoc@scam-help.com"}},
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_one_moderator_alone_cannot_publish_a_contact_change(db: Session, attack: str) -> None:
    x = Listing(db)
    before = (x.phone.version, x.address.version, x.service.version)
    cr = ATTACKS[attack](db, x)
    assert cr.state == ChangeState.pending and cr.sensitive, attack
    db.refresh(x.phone)
    db.refresh(x.address)
    db.refresh(x.service)
    assert (x.phone.version, x.address.version, x.service.version) == before
    with pytest.raises(moderation.Forbidden):
        moderation.approve(db, change_id=cr.id, reviewer=x.alice)
    done = moderation.approve(db, change_id=cr.id, reviewer=x.bob)
    assert done.state == ChangeState.approved


def test_ordinary_edits_still_publish_with_one_moderator(db: Session) -> None:
    x = Listing(db)
    for cr in (
        _propose(
            db,
            x.alice,
            "service",
            "update",
            x.service.id,
            changes={"description": "Hot meals every day from 12:00 to 14:00, 120 portions"},
        ),
        _propose(
            db,
            x.alice,
            "service",
            "status",
            x.service.id,
            changes={"status": "temporarily closed"},
            translations={"status_reason": {"en": "Power cut until 18:00"}},
        ),
        _propose(
            db,
            x.alice,
            "phone",
            "update",
            x.phone.id,
            translations={"description": {"uk": "Гаряча лінія"}},
        ),
        _propose(
            db, x.alice, "location", "capacity", x.location.id, changes={"capacity_available": 3}
        ),
    ):
        assert cr.state == ChangeState.approved and not cr.sensitive


def test_a_contact_already_there_may_be_repeated_in_another_language(db: Session) -> None:
    x = Listing(db)
    x.service.description = "Call +380 44 123 45 67 before coming"
    db.flush()
    cr = _propose(
        db,
        x.alice,
        "service",
        "update",
        x.service.id,
        translations={"description": {"uk": "Телефонуйте (044) 123-45-67 заздалегідь"}},
    )
    assert cr.state == ChangeState.approved


def test_revert_that_removes_a_phone_needs_a_second_moderator(db: Session) -> None:
    x = Listing(db)
    new = _propose(
        db,
        x.alice,
        "phone",
        "create",
        None,
        changes={"location_id": str(x.location.id), "number": "+380501112233"},
    )
    moderation.approve(db, change_id=new.id, reviewer=x.bob)
    phone = db.get(Phone, new.entity_id)
    assert phone is not None and phone.version == 1
    x.phone.description = "Reception"
    upd = _propose(db, x.alice, "phone", "update", phone.id, changes={"is_hotline": True})
    moderation.approve(db, change_id=upd.id, reviewer=x.bob)
    cr = moderation.revert(db, actor=x.alice, entity_type="phone", entity_id=phone.id, to_version=1)
    assert cr.state == ChangeState.pending and cr.sensitive


# --- the same attacks over the API ----------------------------------------------------------


def _etag(db: Session, record: Any) -> dict[str, str]:
    db.refresh(record)
    return {"If-Match": f'"{record.version}"'}


API_ATTACKS: dict[str, Callable[[TestClient, Session, Listing, str], Any]] = {
    "delete phone": lambda c, db, x, t: c.delete(
        f"/api/v1/phones/{x.phone.id}", headers=_auth(t, **_etag(db, x.phone))
    ),
    "archive phone (with a reason)": lambda c, db, x, t: c.delete(
        f"/api/v1/phones/{x.phone.id}", headers=_auth(t, **_etag(db, x.phone))
    ),
    "delete address": lambda c, db, x, t: c.delete(
        f"/api/v1/addresses/{x.address.id}", headers=_auth(t, **_etag(db, x.address))
    ),
    "status reason with a number": lambda c, db, x, t: c.patch(
        f"/api/v1/services/{x.service.id}/status",
        headers=_auth(t, **_etag(db, x.service)),
        json={"status": "temporarily closed", "reason": {"en": "Moved. Call +380991234567"}},
    ),
    "description with a number": lambda c, db, x, t: c.patch(
        f"/api/v1/services/{x.service.id}",
        headers=_auth(t, **_etag(db, x.service)),
        json={"description": "call +380 99 123 45 67"},
    ),
    "phone translation with a number": lambda c, db, x, t: c.put(
        f"/api/v1/phones/{x.phone.id}/translations",
        headers=_auth(t, **_etag(db, x.phone)),
        json={"translations": {"description": {"uk": "Новий номер 099 123 45 67"}}},
    ),
    "delete URL": lambda c, db, x, t: c.patch(
        f"/api/v1/services/{x.service.id}",
        headers=_auth(t, **_etag(db, x.service)),
        json={"url": None},
    ),
    "delete e-mail": lambda c, db, x, t: c.patch(
        f"/api/v1/services/{x.service.id}",
        headers=_auth(t, **_etag(db, x.service)),
        json={"email": None},
    ),
}


@pytest.mark.parametrize("attack", sorted(API_ATTACKS))
def test_api_contact_changes_wait_for_a_second_moderator(
    client: TestClient, db: Session, attack: str
) -> None:
    x = Listing(db)
    alice, bob = make_token(db, x.alice), make_token(db, x.bob)
    db.commit()
    r = API_ATTACKS[attack](client, db, x, alice)
    assert r.status_code == 202, (attack, r.status_code, r.text)
    change = r.json()
    assert change["state"] == "pending" and change["sensitive"] is True
    url = f"/api/v1/moderation/change-requests/{change['id']}/approve"
    assert client.post(url, headers=_auth(alice)).status_code == 403
    r = client.post(url, headers=_auth(bob))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved"


def test_api_ordinary_edit_publishes_with_one_moderator(client: TestClient, db: Session) -> None:
    x = Listing(db)
    alice = make_token(db, x.alice)
    db.commit()
    r = client.patch(
        f"/api/v1/services/{x.service.id}",
        headers=_auth(alice, **_etag(db, x.service)),
        json={"description": "Hot meals from 12:00 to 14:00, 120 portions"},
    )
    assert r.status_code == 200, r.text
    r = client.patch(
        f"/api/v1/services/{x.service.id}/status",
        headers=_auth(alice, **_etag(db, x.service)),
        json={"status": "temporarily closed", "reason": {"en": "Power cut"}},
    )
    assert r.status_code == 200, r.text


# --- the same attacks in the manage app -----------------------------------------------------


def _edit(client: TestClient, service: Service, changes: dict[str, str]) -> Any:
    url = f"/en/manage/listings/{service.id}/edit"
    page = client.get(url)
    assert page.status_code == 200
    form = dict(_form_values(page.text))
    form.update(changes)
    return client.post(url, data=form, follow_redirects=False)


def _form_values(html: str) -> list[tuple[str, str]]:
    """The values a browser would send for the edit form (inputs, selects, textareas)."""
    from html.parser import HTMLParser

    out: list[tuple[str, str]] = []

    class P(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.select: str | None = None
            self.textarea: str | None = None
            self.buf = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = {k: v or "" for k, v in attrs}
            if tag == "input" and a.get("name"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    return
                if a.get("type") == "submit":
                    return
                out.append((a["name"], a.get("value", "")))
            elif tag == "select":
                self.select = a.get("name")
            elif tag == "option" and self.select and "selected" in a:
                out.append((self.select, a.get("value", "")))
            elif tag == "textarea":
                self.textarea, self.buf = a.get("name"), ""

        def handle_data(self, data: str) -> None:
            if self.textarea:
                self.buf += data

        def handle_endtag(self, tag: str) -> None:
            if tag == "select":
                self.select = None
            elif tag == "textarea" and self.textarea:
                out.append((self.textarea, self.buf.lstrip("\n")))
                self.textarea = None

    P().feed(html)
    return out


def _sign_in_moderator(client: TestClient, db: Session, account: Any) -> None:
    import pyotp

    account.totp_secret = pyotp.random_base32()
    db.flush()
    client.cookies.clear()
    sign_in(client, account.email, totp_secret=account.totp_secret)


WEB_ATTACKS: dict[str, Callable[[TestClient, Listing], Any]] = {
    "delete phone": lambda c, x: _edit(c, x.service, {f"phone.{x.phone.id}.number": ""}),
    "description with a number": lambda c, x: _edit(
        c, x.service, {"t.service.description.en": "Hot meals, call +380 99 123 45 67"}
    ),
    "phone description with a number": lambda c, x: _edit(
        c, x.service, {f"phone.{x.phone.id}.description": "або 099 123 45 67"}
    ),
    "delete URL": lambda c, x: _edit(c, x.service, {"service.url": ""}),
    "delete e-mail": lambda c, x: _edit(c, x.service, {"service.email": ""}),
    "status reason with a number": lambda c, x: c.post(
        f"/en/manage/listings/{x.service.id}/status",
        follow_redirects=False,
        data={
            "status": "paused",
            "reason": "other",
            "reason_text": "Moved. Call +380991234567",
            "duration": "3",
            "base_version": str(x.service.version),
            "csrf_token": csrf_of(c.get(f"/en/manage/listings/{x.service.id}").text),
        },
    ),
}


@pytest.mark.parametrize("attack", sorted(WEB_ATTACKS))
def test_manage_app_contact_changes_wait_for_a_second_moderator(
    client: TestClient, db: Session, attack: str
) -> None:
    x = Listing(db)
    _sign_in_moderator(client, db, x.alice)
    r = WEB_ATTACKS[attack](client, x)
    assert r.status_code == 303 and "done=proposed" in r.headers["location"], (
        attack,
        r.status_code,
    )
    pending = list(
        db.scalars(
            select(ChangeRequest).where(
                ChangeRequest.author_id == x.alice.id, ChangeRequest.state == ChangeState.pending
            )
        )
    )
    assert pending and any(cr.sensitive for cr in pending), attack
    # Alice cannot approve her own; Bob can.
    held = next(cr for cr in pending if cr.sensitive)
    page = client.get(f"/en/manage/queue/{held.id}")
    r = client.post(
        f"/en/manage/queue/{held.id}/approve",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    db.refresh(held)
    assert held.state == ChangeState.pending
    _sign_in_moderator(client, db, x.bob)
    page = client.get(f"/en/manage/queue/{held.id}")
    assert page.status_code == 200
    r = client.post(
        f"/en/manage/queue/{held.id}/approve",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    db.refresh(held)
    assert held.state == ChangeState.approved


def test_manage_app_ordinary_edit_publishes_with_one_moderator(
    client: TestClient, db: Session
) -> None:
    x = Listing(db)
    _sign_in_moderator(client, db, x.alice)
    r = _edit(client, x.service, {"t.service.description.en": "Hot meals from 12:00, 120 portions"})
    assert r.status_code == 303 and "done=published" in r.headers["location"], r.text


# --- the importer ---------------------------------------------------------------------------


def test_import_published_by_one_admin_holds_contact_changes(db: Session, tmp_path: Path) -> None:
    """An admin publishing a file that changes an existing listing's phone or writes a number
    into its description publishes the rest; the contact changes wait for a second moderator."""
    from directory.exchange.exporters import export
    from directory.exchange.importer import run_import
    from directory.exchange.records import ExportOptions
    from tests.exchange.per_record import publish_per_record

    x = Listing(db)
    admin = make_account(db, "admin")
    db.flush()
    import json

    data = json.loads(b"".join(export(db, "hsds-json", ExportOptions(include_confidential=True))))
    services = data if isinstance(data, list) else data.get("services", data)
    assert isinstance(services, list)
    mine = next(s for s in services if s["id"] == str(x.service.id))
    # a new listing of the same (existing) organisation, with its own place, address, phone, URL:
    # the admin publishes it (new listings of the file are theirs to publish)
    template = json.dumps({**mine, "name": "Second kitchen", "url": "https://second.example.org"})
    old_ids = {
        mine["id"],
        mine["phones"][0]["id"],
        mine["service_at_locations"][0]["id"],
        str(x.location.id),
        str(x.address.id),
    }
    mine["description"] = "Hot meals, call +380 99 123 45 67"
    mine["name"] = "Guarded kitchen (renamed)"
    path = tmp_path / "guard.json"
    for per_record in (True, False):
        text = template
        for old_id in old_ids:
            text = text.replace(old_id, str(uuid.uuid4()))
        new_listing = json.loads(text)
        path.write_text(json.dumps([*services, new_listing]))
        if per_record:
            report = publish_per_record(db, path, fmt="hsds-json", actor=admin)
        else:
            report = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
        assert report.ok, [str(e) for e in report.errors]
        db.refresh(x.service)
        assert "+380 99" not in (x.service.description or ""), per_record
        second = db.get(Service, uuid.UUID(new_listing["id"]))
        assert second is not None and second.url == "https://second.example.org", per_record
        assert report.held == 1, report.as_dict()
        held = db.scalars(
            select(ChangeRequest).where(
                ChangeRequest.entity_id == x.service.id,
                ChangeRequest.state == ChangeState.pending,
                ChangeRequest.sensitive.is_(True),
            )
        ).all()
        assert held and all(cr.author_id == admin.id for cr in held)
        for cr in held:
            moderation.reject(db, change_id=cr.id, reviewer=x.bob, reason="test")
