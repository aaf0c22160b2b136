"""Rendered result cards are reused (`templating._card_html`): the cached HTML is byte for byte
what `{% include "_card.html" %}` renders for the same card, in every locale and state, and a
card that changes (data, locale, time-dependent texts) is rendered anew."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from directory import i18n
from directory.listings.models import ServiceStatus
from directory.listings.queries import SearchParams, search_services
from directory.search.index import reindex_all
from directory.web import templating
from tests.factories import make_service, translate

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
INCLUDED = '{% for card in cards %}{% include "_card.html" %}{% endfor %}'
CACHED = "{% for card in cards %}{{ card_html(card, number) }}{% endfor %}"


def _services(db: Session) -> None:
    make_service(db, name="Cardhtml open", street="Main 1", address_city="Kyiv")
    make_service(
        db,
        name="Cardhtml closed",
        service_fields={
            "status": ServiceStatus.temporarily_closed,
            "status_until": NOW + dt.timedelta(days=2),
            "status_reason": "Repairs",
            "assured_date": NOW - dt.timedelta(days=3),
        },
    )
    make_service(
        db,
        name="Cardhtml refuge",
        privacy="confidential",
        street="Hidden 2",
        address_city="Lviv",
        location_fields={
            "capacity_available": 4,
            "capacity_maximum": 10,
            "capacity_updated": NOW - dt.timedelta(hours=5),
        },
    )
    svc = make_service(db, name="Cardhtml approx", privacy="approximate", lat="49.84", lon="24.03")
    translate(db, svc, "name", "uk", "Cardhtml приблизно")
    translate(db, svc, "name", "ar", "Cardhtml تقريبي")
    reindex_all(db)


def _render(source: str, cards: list[object], locale: str, number: int | None) -> str:
    env = templating.environment()
    context = {"cards": cards, "locale": locale, "home_zone": "Europe/Kyiv", "number": number}
    with i18n.use_locale(locale):
        return env.from_string(source).render(context)


def test_cached_cards_are_the_included_template_byte_for_byte(db: Session) -> None:
    _services(db)
    templating.clear_card_html()
    for near in (None, (50.45, 30.52)):
        for locale in ("en", "uk", "ar", "de"):
            params = SearchParams(q="cardhtml", locale=locale, near=near, sort="relevance")
            cards = search_services(db, params, stale_after_days=30).items
            assert len(cards) == 4
            for number in (None, 3):
                expected = _render(INCLUDED, cards, locale, number)
                assert _render(CACHED, cards, locale, number) == expected  # rendered, kept
                assert _render(CACHED, cards, locale, number) == expected  # from the cache
    assert "Hidden 2" not in expected


def test_a_changed_card_or_locale_is_rendered_anew(db: Session) -> None:
    svc = make_service(db, name="Cardhtml before")
    translate(db, svc, "name", "uk", "Cardhtml до")
    reindex_all(db)
    templating.clear_card_html()

    def page(locale: str) -> str:
        cards = search_services(
            db, SearchParams(q="cardhtml", locale=locale), stale_after_days=30
        ).items
        return _render(CACHED, cards, locale, None)

    assert "Cardhtml before" in page("en")
    assert "Cardhtml до" in page("uk") and 'href="/uk/services/' in page("uk")
    svc.name = "Cardhtml after"
    db.flush()
    reindex_all(db)
    assert "Cardhtml after" in page("en") and "Cardhtml before" not in page("en")


def test_time_dependent_texts_are_part_of_the_key(db: Session) -> None:
    make_service(db, name="Cardhtml checked", service_fields={"assured_date": NOW})
    reindex_all(db)
    cards = search_services(db, SearchParams(q="cardhtml"), stale_after_days=30).items
    templating.clear_card_html()
    first = _render(CACHED, cards, "en", None)
    older = [type(c)(**{**c.__dict__, "last_verified": NOW - dt.timedelta(days=40)}) for c in cards]
    assert templating._card_clock(older[0]) != templating._card_clock(cards[0])
    assert _render(CACHED, older, "en", None) == _render(INCLUDED, older, "en", None) != first
