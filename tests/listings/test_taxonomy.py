"""The built-in crisis taxonomy: codes, labels in every UI locale, idempotent seeding."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.config import UI_LOCALES
from directory.listings import models as m
from directory.listings.taxonomy import (
    CRISIS_TAXONOMY,
    TERMS_BY_CODE,
    TOP_LEVEL_CODES,
    ensure_taxonomy,
    term_id,
)
from directory.listings.texts import texts_for

CONTRACT_TOP_LEVEL = {
    "shelter",
    "heat-power",
    "food",
    "water",
    "health",
    "mental-health",
    "legal-documents",
    "consular",
    "cash-social",
    "transport-evacuation",
    "mine-safety",
    "children-family",
    "protection",
    "work-education",
    "pets",
}
SCRIPTS = {"uk": r"[а-щьюяєіїґ]", "ru": r"[а-яё]", "ar": r"[\u0600-\u06ff]"}


def test_codes_match_the_contract() -> None:
    assert set(TOP_LEVEL_CODES) == CONTRACT_TOP_LEVEL
    for code in (
        "shelter.air-raid",
        "shelter.collective-centre",
        "shelter.emergency-accommodation",
        "heat-power.warming",
        "heat-power.charging",
        "health.pharmacy",
        "legal-documents.idp-registration",
    ):
        assert code in TERMS_BY_CODE
    for term in CRISIS_TAXONOMY:
        assert re.fullmatch(r"[a-z-]+(\.[a-z-]+)?", term.code)
        assert term.parent_code is None or term.parent_code in TERMS_BY_CODE
        assert term.icon


def test_every_term_has_a_label_and_description_in_every_locale() -> None:
    for term in CRISIS_TAXONOMY:
        assert set(term.labels) == set(UI_LOCALES), term.code
        for locale, (name, description) in term.labels.items():
            assert name.strip() and description.strip(), (term.code, locale)
            if locale in SCRIPTS:
                assert re.search(SCRIPTS[locale], name.lower()), (term.code, locale, name)
    # Labels are distinct within a locale, so readers can tell categories apart.
    for locale in UI_LOCALES:
        names = [t.name(locale) for t in CRISIS_TAXONOMY]
        assert len(names) == len(set(names)), locale


def test_ensure_taxonomy_writes_terms_and_translations_idempotently(db: Session) -> None:
    ensure_taxonomy(db)
    ensure_taxonomy(db)
    count = db.scalar(
        select(func.count())
        .select_from(m.TaxonomyTerm)
        .where(m.TaxonomyTerm.code.in_(list(TERMS_BY_CODE)))
    )
    assert count == len(CRISIS_TAXONOMY)
    warming = db.get(m.TaxonomyTerm, term_id("heat-power.warming"))
    assert warming is not None
    assert warming.name == "Warming points" and warming.language == "en"
    assert warming.parent_id == term_id("heat-power")
    assert warming.version == 1  # the second run changed nothing
    n_translations = db.scalar(
        select(func.count())
        .select_from(m.Translation)
        .where(m.Translation.entity_type == "taxonomy_term")
    )
    assert n_translations == len(CRISIS_TAXONOMY) * (len(UI_LOCALES) - 1) * 2

    texts = texts_for(
        db,
        entity_type="taxonomy_term",
        ids=[warming.id],
        fields=["name", "description"],
        locale="uk",
    )
    assert texts[(warming.id, "name")].value == "Пункти обігріву"
    assert not texts[(warming.id, "name")].fallback
    ar = texts_for(db, entity_type="taxonomy_term", ids=[warming.id], fields=["name"], locale="ar")
    assert ar[(warming.id, "name")].value == "نقاط التدفئة"
