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
    svc = make_service(db, name="Пункт незламності", description="Тепло і зв'язок",
                       service_fields={"source_locale": "uk"})
    set_text(db, entity_type="service", entity_id=svc.id, field="name", locale="en",
             value="Invincibility point")
    got = texts_for(db, entity_type="service", ids=[svc.id], fields=["name", "description"],
                    locale="en")
    assert got[(svc.id, "name")] == LocalText("Invincibility point", "en", False)
    assert got[(svc.id, "description")] == LocalText("Тепло і зв'язок", "uk", True)
    uk = texts_for(db, entity_type="service", ids=[svc.id], fields=["name"], locale="uk")
    assert uk[(svc.id, "name")] == LocalText("Пункт незламності", "uk", False)


def test_empty_texts_are_absent(db: Session) -> None:
    svc = make_service(db, name="X")
    got = texts_for(db, entity_type="service", ids=[svc.id], fields=["alternate_name"],
                    locale="de")
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
        set_text(db, entity_type="service", entity_id=svc.organization_id, field="name",
                 locale="en", value="x")
