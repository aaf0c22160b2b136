"""Texts in the reader's locale, else in the record's source locale marked as a fallback."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.errors import NotFound, ValidationFailed
from directory.listings.models import Service, Translation
from directory.listings.texts import LocalText, set_text, texts_for
from tests.factories import make_service


def test_requested_locale_then_source_locale_marked(db: Session) -> None:
    svc = make_service(
        db,
        name="Пункт незламності",
        description="Тепло і зв'язок",
        service_fields={"source_locale": "uk"},
    )
    set_text(
        db,
        entity_type="service",
        entity_id=svc.id,
        field="name",
        locale="en",
        value="Invincibility point",
    )
    got = texts_for(
        db, entity_type="service", ids=[svc.id], fields=["name", "description"], locale="en"
    )
    assert got[(svc.id, "name")] == LocalText("Invincibility point", "en", False)
    assert got[(svc.id, "description")] == LocalText("Тепло і зв'язок", "uk", True)
    uk = texts_for(db, entity_type="service", ids=[svc.id], fields=["name"], locale="uk")
    assert uk[(svc.id, "name")] == LocalText("Пункт незламності", "uk", False)


def test_empty_texts_are_absent(db: Session) -> None:
    svc = make_service(db, name="X")
    got = texts_for(db, entity_type="service", ids=[svc.id], fields=["alternate_name"], locale="de")
    assert got == {}


def test_set_text_in_source_locale_writes_the_column(db: Session) -> None:
    svc = make_service(db, name="Old")
    set_text(db, entity_type="service", entity_id=svc.id, field="name", locale="en", value="New")
    assert db.get(Service, svc.id).name == "New"  # type: ignore[union-attr]
    set_text(db, entity_type="service", entity_id=svc.id, field="name", locale="pl", value="A")
    set_text(db, entity_type="service", entity_id=svc.id, field="name", locale="pl", value="B")
    rows = db.scalars(select(Translation).where(Translation.entity_id == svc.id)).all()
    assert [(r.locale, r.value) for r in rows] == [("pl", "B")]


def test_set_text_refuses_unknown_things(db: Session) -> None:
    svc = make_service(db)
    with pytest.raises(ValidationFailed):
        set_text(db, entity_type="nope", entity_id=svc.id, field="name", locale="en", value="x")
    with pytest.raises(ValidationFailed):
        set_text(db, entity_type="service", entity_id=svc.id, field="id", locale="en", value="x")
    with pytest.raises(NotFound):
        set_text(
            db,
            entity_type="service",
            entity_id=svc.organization_id,
            field="name",
            locale="en",
            value="x",
        )


def test_fallback_chain_reader_then_configured_then_source(db: Session, client) -> None:  # type: ignore[no-untyped-def]
    """Issue 12 §5: a Polish reader of an Arabic listing with an English translation reads the
    English, marked lang="en"; without one, the Arabic source with dir="rtl"; the chain is a
    setting (DIRECTORY_FALLBACK_LOCALES)."""
    from directory.listings.queries import get_service_detail
    from directory.listings.texts import set_fallback_locales
    from directory.search.index import reindex_all

    svc = make_service(
        db,
        name="القسم القنصلي",
        description="مساعدة قنصلية",
        service_fields={"source_locale": "ar"},
    )
    set_text(
        db,
        entity_type="service",
        entity_id=svc.id,
        field="name",
        locale="en",
        value="Consular section",
    )
    set_text(
        db,
        entity_type="service",
        entity_id=svc.id,
        field="name",
        locale="de",
        value="Konsularabteilung",
    )
    got = texts_for(
        db, entity_type="service", ids=[svc.id], fields=["name", "description"], locale="pl"
    )
    assert got[(svc.id, "name")] == LocalText("Consular section", "en", True)
    assert got[(svc.id, "description")] == LocalText("مساعدة قنصلية", "ar", True)
    try:
        set_fallback_locales(["de", "en"])
        assert (
            texts_for(db, entity_type="service", ids=[svc.id], fields=["name"], locale="pl")[
                (svc.id, "name")
            ].value
            == "Konsularabteilung"
        )
        set_fallback_locales(["ar", "en"])  # the source first: the source text
        assert texts_for(db, entity_type="service", ids=[svc.id], fields=["name"], locale="pl")[
            (svc.id, "name")
        ] == LocalText("القسم القنصلي", "ar", True)
        set_fallback_locales([])
        assert (
            texts_for(db, entity_type="service", ids=[svc.id], fields=["name"], locale="pl")[
                (svc.id, "name")
            ].locale
            == "ar"
        )
    finally:
        set_fallback_locales(["en"])
    # The read path of pages and API, and the page's markup.
    import datetime as dt

    detail = get_service_detail(
        db, svc.id, locale="pl", now=dt.datetime.now(dt.UTC), stale_after_days=30
    )
    assert detail is not None and detail.name.value == "Consular section"
    reindex_all(db)
    db.commit()
    page = client.get(f"/pl/services/{svc.id}").text
    assert '<h1 lang="en" dir="ltr">Consular section</h1>' in page
    assert 'lang="ar" dir="rtl"' in page  # the description, only in Arabic
    body = client.get(f"/api/v1/services/{svc.id}", params={"locale": "pl"}).json()
    assert body["name"] == "Consular section"
    assert body["text_locales"] == {"name": "en", "description": "ar"}
    assert client.get(f"/api/v1/services/{svc.id}", params={"locale": "en"}).json()[
        "text_locales"
    ] == {"description": "ar"}


def test_fallback_locales_setting_is_checked() -> None:
    from directory.config import Settings

    assert Settings(fallback_locales=" de, en ").fallback_locales == "de,en"
    with pytest.raises(ValueError):
        Settings(fallback_locales="en;drop table")
