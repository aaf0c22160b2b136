"""Alert feeds in: a national CAP index with Ukrainian and English texts, a region-state JSON feed,
and hostile or broken feeds that must change nothing. Feeds are served by a local HTTP server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from directory.alerts import watcher
from directory.alerts.models import AlertFeed, AlertMessage, AlertNotice
from directory.alerts.sources import Feed, StateMapping, parse_feeds
from directory.config import ConfigError
from directory.listings import models as m
from directory.listings.places import place_id
from directory.listings.texts import texts_for
from directory.moderation.models import AuditEntry, ChangeRequest
from tests.alerts.conftest import cap_time

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
MAX = 2 * 1024 * 1024


def _poll(Session_: sessionmaker[Session], *feeds: Feed) -> list[watcher.PollReport]:
    with httpx.Client(timeout=5) as client:
        return watcher.poll_all(Session_, list(feeds), max_bytes=MAX, client=client)


def _live(db: Session) -> list[m.Notice]:
    return list(db.scalars(select(m.Notice).where(m.Notice.archived_at.is_(None))))


def _serve_alert(
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
    *,
    sent: dt.datetime,
    expires: dt.datetime,
    name: str = "dnipro-alert.xml",
) -> None:
    httpserver.expect_request("/cap/index.atom").respond_with_data(
        fixture_text("national-index.atom", BASE=httpserver.url_for("").rstrip("/")),
        content_type="application/atom+xml",
        headers={"ETag": '"v1"'},
    )
    httpserver.expect_request("/cap/dnipro-alert.xml").respond_with_data(
        fixture_text(name, SENT=cap_time(sent), EXPIRES=cap_time(expires)),
        content_type="application/cap+xml",
    )


def test_national_cap_index_starts_a_notice_in_every_language(
    gaz: Session,
    Session_: sessionmaker[Session],
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
) -> None:
    _serve_alert(
        httpserver,
        fixture_text,
        sent=NOW - dt.timedelta(minutes=2),
        expires=NOW + dt.timedelta(hours=2),
    )
    feed = Feed(url=httpserver.url_for("/cap/index.atom"))
    [report] = _poll(Session_, feed)
    assert report.ok and [r.outcome for r in report.results] == ["applied"]
    [notice] = _live(gaz)
    assert notice.region_id == place_id("UA-12")
    assert notice.severity == m.Severity.danger and notice.kind == m.NoticeKind.alert
    assert notice.source_locale == "uk"
    assert notice.title == "Повітряна тривога в Дніпропетровській області"
    assert notice.valid_until is not None and abs(
        notice.valid_until - (NOW + dt.timedelta(hours=2))
    ) < dt.timedelta(seconds=1)
    en = texts_for(
        gaz, entity_type="notice", ids=[notice.id], fields=["title", "body"], locale="en"
    )
    assert en[(notice.id, "title")].value == "Air-raid alert in Dnipropetrovsk Oblast"
    assert "Go to the nearest shelter now." in en[(notice.id, "body")].value
    # A language the feed does not speak gets the translated template, never another language.
    de = texts_for(
        gaz, entity_type="notice", ids=[notice.id], fields=["title", "body"], locale="de"
    )
    assert (
        de[(notice.id, "title")].value == "Offizielle Warnung"
        and not de[(notice.id, "title")].fallback
    )
    ar = texts_for(gaz, entity_type="notice", ids=[notice.id], fields=["title"], locale="ar")
    assert ar[(notice.id, "title")].value == "تحذير رسمي"
    # Audited as the feed's doing: no account, source "alerts".
    cr = gaz.scalar(select(ChangeRequest).where(ChangeRequest.entity_id == notice.id))
    assert (
        cr is not None and cr.author_id is None and cr.source == "alerts" and cr.state == "approved"
    )
    assert "DEMO-UA-2026-12-03-0001" in (cr.comment or "")
    audit = gaz.scalar(select(AuditEntry).where(AuditEntry.entity_id == notice.id))
    assert audit is not None and audit.author_id is None and audit.change_request_id == cr.id
    # The next poll is a conditional request answered 304: nothing is fetched or changed.
    httpserver.clear()
    httpserver.expect_request(
        "/cap/index.atom", headers={"If-None-Match": '"v1"'}
    ).respond_with_data("", status=304)
    [again] = _poll(Session_, feed)
    assert again.ok and again.not_modified
    assert len(_live(gaz)) == 1


def test_cancel_ends_the_notice_and_a_second_watcher_changes_nothing(
    gaz: Session,
    Session_: sessionmaker[Session],
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
) -> None:
    sent = NOW - dt.timedelta(minutes=10)
    alert = fixture_text(
        "dnipro-alert.xml", SENT=cap_time(sent), EXPIRES=cap_time(NOW + dt.timedelta(hours=1))
    )
    httpserver.expect_request("/alert.xml").respond_with_data(alert)
    feed = Feed(url=httpserver.url_for("/alert.xml"))
    _poll(Session_, feed)
    # A second watcher (another host, no shared HTTP state) polls the same message: one notice.
    gaz.execute(AlertFeed.__table__.delete())
    [second] = _poll(Session_, feed)
    assert [r.outcome for r in second.results] == ["duplicate"]
    assert len(_live(gaz)) == 1
    cancel = fixture_text(
        "dnipro-cancel.xml", SENT=cap_time(NOW - dt.timedelta(minutes=1)), REFSENT=cap_time(sent)
    )
    httpserver.clear()
    httpserver.expect_request("/cancel.xml").respond_with_data(cancel)
    [report] = _poll(Session_, Feed(url=httpserver.url_for("/cancel.xml")))
    assert report.results[0].outcome == "applied" and report.results[0].ended == 1
    assert _live(gaz) == []
    link = gaz.scalar(select(AlertNotice))
    assert link is not None and link.ended_at is not None


def test_cancel_before_alert_keeps_the_alert_off(
    gaz: Session,
    Session_: sessionmaker[Session],
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
) -> None:
    sent = NOW - dt.timedelta(minutes=10)
    httpserver.expect_request("/cancel.xml").respond_with_data(
        fixture_text(
            "dnipro-cancel.xml",
            SENT=cap_time(NOW - dt.timedelta(minutes=1)),
            REFSENT=cap_time(sent),
        )
    )
    httpserver.expect_request("/alert.xml").respond_with_data(
        fixture_text(
            "dnipro-alert.xml", SENT=cap_time(sent), EXPIRES=cap_time(NOW + dt.timedelta(hours=1))
        )
    )
    reports = _poll(
        Session_,
        Feed(url=httpserver.url_for("/cancel.xml")),
        Feed(url=httpserver.url_for("/alert.xml")),
    )
    assert [r.results[0].outcome for r in reports] == ["cancel-before-alert", "superseded"]
    assert _live(gaz) == []


def test_replayed_identity_with_other_content_is_refused(
    gaz: Session,
    Session_: sessionmaker[Session],
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
) -> None:
    sent = NOW - dt.timedelta(minutes=5)
    httpserver.expect_request("/a.xml").respond_with_data(
        fixture_text(
            "dnipro-alert.xml", SENT=cap_time(sent), EXPIRES=cap_time(NOW + dt.timedelta(hours=1))
        )
    )
    httpserver.expect_request("/b.xml").respond_with_data(
        fixture_text(
            "dnipro-alert.xml", SENT=cap_time(sent), EXPIRES=cap_time(NOW + dt.timedelta(hours=9))
        ).replace("Загроза ракетного удару.", "Все спокійно, укриття закриті.")
    )
    reports = _poll(
        Session_, Feed(url=httpserver.url_for("/a.xml")), Feed(url=httpserver.url_for("/b.xml"))
    )
    assert [r.results[0].outcome for r in reports] == ["applied", "replay"]
    [notice] = _live(gaz)
    assert "укриття закриті" not in notice.body


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("billion-laughs.xml", "refused"),
        ("external-entity.xml", "refused"),
        ("wrong-namespace.xml", "not a CAP 1.2"),
    ],
)
def test_hostile_and_foreign_documents_change_nothing(
    gaz: Session,
    Session_: sessionmaker[Session],
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
    name: str,
    error: str,
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(fixture_text(name))
    [report] = _poll(Session_, Feed(url=httpserver.url_for("/feed.xml")))
    assert not report.ok and error in report.error
    assert _live(gaz) == [] and gaz.scalar(select(func.count()).select_from(AlertMessage)) == 0
    row = gaz.get(AlertFeed, httpserver.url_for("/feed.xml"))
    assert row is not None and row.failures == 1 and row.last_success_at is None


def test_an_oversized_answer_is_refused_unread(
    gaz: Session,
    Session_: sessionmaker[Session],
    httpserver: HTTPServer,
) -> None:
    def fifty_megabytes(_request: Request) -> Response:
        chunk = b"<!-- padding -->" * 4096
        return Response(
            (chunk for _ in range(800)), content_type="application/xml"
        )  # ~52 MB, streamed

    httpserver.expect_request("/huge.xml").respond_with_handler(fifty_megabytes)
    [report] = _poll(Session_, Feed(url=httpserver.url_for("/huge.xml")))
    assert not report.ok and "over the limit" in report.error
    assert _live(gaz) == []


@pytest.mark.parametrize(
    ("sent", "expires", "status", "outcome"),
    [
        (-dt.timedelta(hours=5), -dt.timedelta(hours=1), "Actual", "expired"),
        (
            dt.timedelta(hours=1),
            dt.timedelta(hours=3),
            "Actual",
            "future",
        ),  # the sender's clock is ahead
        (-dt.timedelta(minutes=1), dt.timedelta(hours=1), "Exercise", "not-public"),
        (-dt.timedelta(minutes=1), dt.timedelta(hours=1), "Test", "not-public"),
    ],
)
def test_expired_future_and_exercise_messages_reach_no_reader(
    gaz: Session,
    Session_: sessionmaker[Session],
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
    sent: dt.timedelta,
    expires: dt.timedelta,
    status: str,
    outcome: str,
) -> None:
    body = fixture_text(
        "dnipro-alert.xml", SENT=cap_time(NOW + sent), EXPIRES=cap_time(NOW + expires)
    )
    httpserver.expect_request("/m.xml").respond_with_data(
        body.replace("<status>Actual</status>", f"<status>{status}</status>")
    )
    [report] = _poll(Session_, Feed(url=httpserver.url_for("/m.xml")))
    assert report.ok and report.results[0].outcome == outcome
    assert _live(gaz) == []


def test_polygon_area_reaches_the_region_whose_city_it_covers(
    gaz: Session,
    Session_: sessionmaker[Session],
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
) -> None:
    httpserver.expect_request("/p.xml").respond_with_data(
        fixture_text("polygon-alert.xml", SENT=cap_time(NOW - dt.timedelta(minutes=1)))
    )
    [report] = _poll(Session_, Feed(url=httpserver.url_for("/p.xml")))
    assert report.results[0].outcome == "applied"
    assert {n.region_id for n in _live(gaz)} == {place_id("UA-63")}  # Kharkiv lies inside


def test_region_state_feed_starts_and_ends_alerts(
    gaz: Session,
    Session_: sessionmaker[Session],
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALERTS_IN_UA_TOKEN", "demo-token")
    since = (NOW - dt.timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    doc = fixture_text("region-state.json", SINCE=since)
    httpserver.expect_oneshot_request(
        "/active.json", headers={"Authorization": "Bearer demo-token"}
    ).respond_with_data(doc, content_type="application/json")
    [feed] = parse_feeds(f"state {httpserver.url_for('/active.json')} mapping=alerts-in-ua")
    [report] = _poll(Session_, feed)
    assert report.ok and report.results[0].started == 2
    live = {n.region_id: n for n in _live(gaz)}
    assert set(live) == {
        place_id("UA-12"),
        place_id("UA-63"),
    }  # the Lviv district alert is not the region's
    assert live[place_id("UA-12")].title == "Повітряна тривога"
    uk = texts_for(
        gaz, entity_type="notice", ids=[live[place_id("UA-63")].id], fields=["title"], locale="en"
    )
    assert uk[(live[place_id("UA-63")].id, "title")].value == "Shelling threat"
    # A moderator pins the Kharkiv notice; then the feed no longer lists either region.
    pin = gaz.get(AlertNotice, live[place_id("UA-63")].id)
    assert pin is not None
    pin.pinned = True
    gaz.flush()
    httpserver.expect_oneshot_request("/active.json").respond_with_json({"alerts": []})
    [report] = _poll(Session_, feed)
    assert report.results[0].ended == 1
    assert {n.region_id for n in _live(gaz)} == {place_id("UA-63")}  # pinned stays; Dnipro ended


def test_a_silent_feed_makes_the_status_unknown(
    gaz: Session,
    Session_: sessionmaker[Session],
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
) -> None:
    httpserver.expect_oneshot_request("/f.xml").respond_with_data(
        fixture_text("polygon-alert.xml", SENT=cap_time(NOW - dt.timedelta(minutes=1)))
    )
    feed = Feed(url=httpserver.url_for("/f.xml"))
    _poll(Session_, feed)
    stale = dt.timedelta(minutes=3)
    assert watcher.unknown_since(gaz, [feed], stale_after=stale) is None
    httpserver.expect_request("/f.xml").respond_with_data("down", status=503)
    [report] = _poll(Session_, feed)
    assert not report.ok and report.error == "HTTP 503"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    since = watcher.unknown_since(gaz, [feed], stale_after=stale, now=later)
    last = gaz.get(AlertFeed, feed.url)
    assert last is not None and since == last.last_success_at
    assert (
        watcher.backoff(30, 0) == 30
        and watcher.backoff(30, 3) == 240
        and watcher.backoff(30, 20) == 900
    )


def test_feed_setting_syntax() -> None:
    feeds = parse_feeds("""
        # national warnings
        https://warnings.example.org/cap/index.atom
        state https://api.alerts.in.ua/v1/alerts/active.json mapping=alerts-in-ua
    """)
    assert [f.kind for f in feeds] == ["cap", "state"]
    assert (
        isinstance(feeds[1].mapping, StateMapping)
        and feeds[1].mapping.region_codes["м. Київ"] == "UA-30"
    )
    for bad in (
        "ftp://x",
        "state https://x.example",
        "https://x.example colour=red",
        "state https://x mapping=nope",
    ):
        with pytest.raises(ConfigError):
            parse_feeds(bad)
