"""Notices out: CAP 1.2 validated against the official OASIS schema, Atom parsed by a standard feed
parser with its required elements; per region and nationwide; nothing but notices in force."""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET  # noqa: S405 (our own output)

import feedparser
import pytest
from capvalidator import Validator
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings.places import place_id
from directory.moderation import service as moderation
from tests.factories import make_account

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
NOW = dt.datetime.now(dt.UTC)


def _notice(
    db: Session,
    *,
    title: str,
    region: str | None,
    severity: str = "danger",
    translations: dict[str, dict[str, str]] | None = None,
    until: dt.timedelta | None = None,
) -> uuid.UUID:
    admin = make_account(db, "admin")
    cr = moderation.propose(
        db,
        actor=admin,
        entity_type="notice",
        kind="create",
        source="web",
        changes={
            "title": title,
            "body": "Demo notice body.",
            "severity": severity,
            "source_locale": "en",
            "region_id": str(place_id(region)) if region else None,
            "valid_from": (NOW - dt.timedelta(minutes=5)).isoformat(),
            "valid_until": (NOW + until).isoformat() if until else None,
        },
        translations=translations,
    )
    return cr.entity_id


@pytest.fixture()
def notices(gaz: Session) -> dict[str, uuid.UUID]:
    return {
        "dnipro": _notice(
            gaz,
            title="Demo: air-raid alert in Dnipro region",
            region="UA-12",
            translations={"title": {"uk": "Демо: повітряна тривога на Дніпропетровщині"}},
            until=dt.timedelta(hours=2),
        ),
        "lviv": _notice(
            gaz, title="Demo: power cuts in Lviv region", region="UA-46", severity="warning"
        ),
        "everywhere": _notice(
            gaz, title="Demo: the hotline number changed", region=None, severity="info"
        ),
    }


def _valid(body: bytes) -> None:
    ok, message = Validator(body).schema()
    assert ok, message


def test_cap_collection_validates_and_scopes_by_place(
    client: TestClient, notices: dict[str, uuid.UUID]
) -> None:
    everything = client.get("/cap/notices.xml")
    assert everything.status_code == 200 and everything.headers["content-type"].startswith(
        "application/cap+xml"
    )
    assert "set-cookie" not in everything.headers
    _valid(everything.content)
    root = ET.fromstring(everything.content)  # noqa: S314 (our own output)
    headlines = {i.findtext(CAP + "headline") for i in root.iter(CAP + "info")}
    assert {
        "Demo: air-raid alert in Dnipro region",
        "Demo: power cuts in Lviv region",
        "Demo: the hotline number changed",
        "Демо: повітряна тривога на Дніпропетровщині",
    } <= headlines
    dnipro = client.get("/cap/notices.xml?place=UA-12")
    _valid(dnipro.content)
    infos = list(ET.fromstring(dnipro.content).iter(CAP + "info"))  # noqa: S314
    got = {i.findtext(CAP + "headline") for i in infos}
    assert "Demo: power cuts in Lviv region" not in got  # Lviv's notice is not Dnipro's
    assert {"Demo: air-raid alert in Dnipro region", "Demo: the hotline number changed"} <= got
    severe = [
        i for i in infos if i.findtext(CAP + "headline") == "Demo: air-raid alert in Dnipro region"
    ][0]
    assert (
        severe.findtext(CAP + "severity") == "Severe"
        and severe.findtext(CAP + "responseType") == "Shelter"
    )
    assert severe.find(f"{CAP}area/{CAP}geocode/{CAP}value").text == "UA-12"  # type: ignore[union-attr]
    assert client.get("/cap/notices.xml?place=XX-99").status_code == 404


def test_one_notice_as_cap_alert_then_update(
    client: TestClient, db: Session, notices: dict[str, uuid.UUID]
) -> None:
    nid = notices["dnipro"]
    first = client.get(f"/cap/notices/{nid}.xml")
    _valid(first.content)
    root = ET.fromstring(first.content)  # noqa: S314
    assert (
        root.findtext(CAP + "msgType") == "Alert"
        and root.findtext(CAP + "identifier") == f"notice-{nid}-v1"
    )
    assert {i.findtext(CAP + "language") for i in root.iter(CAP + "info")} == {"en", "uk"}
    admin = make_account(db, "admin")
    moderation.propose(
        db,
        actor=admin,
        entity_type="notice",
        kind="update",
        entity_id=nid,
        changes={"body": "Demo: the alert goes on."},
        source="web",
    )
    db.flush()
    second = client.get(f"/cap/notices/{nid}.xml")
    _valid(second.content)
    root = ET.fromstring(second.content)  # noqa: S314
    assert root.findtext(CAP + "msgType") == "Update"
    assert f"notice-{nid}-v1" in (root.findtext(CAP + "references") or "")
    assert client.get(f"/cap/notices/{uuid.uuid4()}.xml").status_code == 404


def test_empty_collection_is_valid_cap(client: TestClient, gaz: Session) -> None:
    r = client.get("/cap/notices.xml")
    _valid(r.content)
    assert ET.fromstring(r.content).findtext(CAP + "note") == "No notices in force."  # noqa: S314


@pytest.mark.parametrize("locale", ["en", "uk", "ar"])
def test_atom_feed_parses_with_required_elements(
    client: TestClient, notices: dict[str, uuid.UUID], locale: str
) -> None:
    r = client.get(f"/{locale}/notices.atom?place=UA-12")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    feed = ET.fromstring(r.content)  # noqa: S314
    for required in ("id", "title", "updated"):  # RFC 4287 4.1.1
        assert feed.findtext(ATOM + required), required
    entries = feed.findall(ATOM + "entry")
    assert len(entries) == 2  # Dnipro's and the nationwide one; not Lviv's
    for e in entries:
        for required in ("id", "title", "updated"):  # RFC 4287 4.1.2
            assert e.findtext(ATOM + required), required
        assert any(link.get("type") == "application/cap+xml" for link in e.findall(ATOM + "link"))
    titles = [e.title for e in parsed.entries]
    expected = (
        "Демо: повітряна тривога на Дніпропетровщині"
        if locale == "uk"
        else "Demo: air-raid alert in Dnipro region"
    )
    assert expected in titles
    assert client.get("/xx/notices.atom").status_code == 404


def test_ended_and_future_notices_are_not_published(
    client: TestClient, db: Session, notices: dict[str, uuid.UUID]
) -> None:
    admin = make_account(db, "admin")
    moderation.propose(
        db,
        actor=admin,
        entity_type="notice",
        kind="archive",
        entity_id=notices["lviv"],
        source="web",
    )
    later = db.get(m.Notice, notices["everywhere"])
    assert later is not None
    later.valid_from = NOW + dt.timedelta(hours=3)
    db.flush()
    body = client.get("/cap/notices.xml").text
    assert "power cuts in Lviv" not in body and "hotline number changed" not in body
    assert "air-raid alert in Dnipro" in body
