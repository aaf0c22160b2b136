"""Moderators and the feed: a feed's notice is marked as such, a moderator of its region pins it so
the feed does not end it (audited with their name), another region's moderator may not, and the
feed's exercise and test messages are listed for moderators only."""

from __future__ import annotations

import datetime as dt

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.alerts import apply
from directory.alerts.models import AlertMessage, AlertNotice
from directory.alerts.sources import Feed, RegionState
from directory.listings import models as m
from directory.listings.places import place_id
from directory.moderation.models import AuditEntry
from tests.factories import make_account
from tests.manage.conftest import csrf_of, sign_in

FEED = Feed(url="https://alerts.example.org/active.json", kind="state")


def _moderator(db: Session, client: TestClient, region: str) -> Account:
    account = make_account(db, "moderator", [db.get(m.Place, place_id(region))])  # type: ignore[list-item]
    account.totp_secret = pyotp.random_base32()
    db.flush()
    sign_in(client, account.email, totp_secret=account.totp_secret, locale="en")
    return account


def test_moderator_pins_a_feed_notice_and_the_feed_leaves_it(
    client: TestClient, gaz: Session
) -> None:
    now = dt.datetime.now(dt.UTC)
    apply.handle_state(
        gaz, FEED, [RegionState("UA-12", now - dt.timedelta(minutes=2), "air_raid")], now=now
    )
    taras = _moderator(gaz, client, "UA-12")
    page = client.get("/en/manage/notices")
    assert "Started by the alert feed" in page.text and ">Pin<" in page.text
    notice = gaz.scalar(select(m.Notice).where(m.Notice.region_id == place_id("UA-12")))
    assert notice is not None
    r = client.post(
        f"/en/manage/notices/{notice.id}/pin",
        data={"csrf_token": csrf_of(page.text), "pinned": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    link = gaz.get(AlertNotice, notice.id)
    assert link is not None and link.pinned
    audit = gaz.scalar(
        select(AuditEntry).where(AuditEntry.entity_id == notice.id, AuditEntry.action == "pin")
    )
    assert audit is not None and audit.author_id == taras.id
    assert "Pinned: the feed will not end it" in client.get("/en/manage/notices").text
    apply.handle_state(gaz, FEED, [], now=dt.datetime.now(dt.UTC))  # the feed says it is over
    gaz.refresh(notice)
    assert notice.archived_at is None  # pinned: still shown until a person ends it


def test_another_regions_moderator_may_not_pin(client: TestClient, gaz: Session) -> None:
    now = dt.datetime.now(dt.UTC)
    apply.handle_state(
        gaz, FEED, [RegionState("UA-12", now - dt.timedelta(minutes=2), "air_raid")], now=now
    )
    _moderator(gaz, client, "UA-46")
    page = client.get("/en/manage/notices")
    notice = gaz.scalar(select(m.Notice).where(m.Notice.region_id == place_id("UA-12")))
    assert notice is not None
    r = client.post(
        f"/en/manage/notices/{notice.id}/pin",
        data={"csrf_token": csrf_of(page.text), "pinned": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "outside your regions" in r.text
    link = gaz.get(AlertNotice, notice.id)
    assert link is not None and not link.pinned


def test_exercise_messages_are_listed_for_moderators_only(client: TestClient, gaz: Session) -> None:
    gaz.add(
        AlertMessage(
            key="warnings@demo.example|EX-1",
            feed_url="https://w.example/cap",
            sent=dt.datetime.now(dt.UTC),
            status="Exercise",
            msg_type="Alert",
            references=[],
            digest="0" * 64,
            outcome="not-public",
            summary="Demo exercise: siren test in Dnipro",
        )
    )
    gaz.flush()
    assert "Demo exercise" not in client.get("/en/?place=UA-12").text
    _moderator(gaz, client, "UA-12")
    page = client.get("/en/manage/notices").text
    assert "Latest messages from the alert feeds" in page
    assert (
        "Demo exercise: siren test in Dnipro" in page
        and "Exercise" in page
        and "not shown to readers" in page
    )
