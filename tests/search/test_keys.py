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
