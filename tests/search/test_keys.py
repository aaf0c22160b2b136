"""search_key folds case, diacritics, punctuation and script to one ASCII spelling."""

from __future__ import annotations

import pytest

from directory.search.keys import search_key, search_terms


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Kyiv", "kyiv"),
        ("KYIV", "kyiv"),
        ("Київ", "kiiv"),
        ("Киев", "kiev"),
        ("Kijów", "kijow"),
        ("Львів", "lviv"),  # the soft sign's apostrophe joins the word
        ("Lwów", "lwow"),
        ("Chișinău", "chisinau"),
        ("Straße", "strasse"),
        ("Кам'янець-Подільський", "kamyanets podilskiy"),
        ("  Warm   point,\tPodil! ", "warm point podil"),
        ("Ｆｕｌｌ width", "full width"),  # NFKC
        ("", ""),
        (None, ""),
    ],
)
def test_search_key(text: str | None, key: str) -> None:
    assert search_key(text) == key


def test_arabic_is_transliterated_to_ascii() -> None:
    key = search_key("ملجأ كييف")
    assert key and key.isascii() and " " in key


def test_search_terms_are_distinct_and_ordered() -> None:
    assert search_terms("Warm warm POINT") == ["warm", "point"]


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("مأوى", "المأوى والسكن"),  # the shelter (and the housing): article written onto the word
        ("سكن", "والسكن"),  # "and the" + housing
        ("نساء", "للنساء"),  # "for the" women
        ("ملجا", "ملجأ"),  # alef typed without its hamza
        ("مستشفي", "المستشفى"),  # alef maqsura typed as ya
        ("امنه", "آمنة"),  # ta marbuta typed as ha, alef with madda
    ],
)
def test_arabic_light_normalisation_joins_what_readers_type(typed: str, written: str) -> None:
    assert set(search_terms(typed)) <= set(search_terms(written))


def test_arabic_normalisation_keeps_short_words_and_other_scripts() -> None:
    assert search_key("ال") and search_key("الم")  # nothing but an article is left alone
    assert search_key("Київ Alma") == "kiiv alma"
