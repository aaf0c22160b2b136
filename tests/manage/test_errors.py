"""Field errors reach the volunteer in their language by code, never by their English text."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from directory import i18n
from directory.errors import FieldError, ValidationFailed
from directory.manage.errors import MESSAGES, error_messages
from directory.moderation.fields import FIELDS, clean


def test_translated_by_code_whatever_the_english_says() -> None:
    exc = ValidationFailed(
        [
            {"path": "capacity_available", "code": "free_places_over_total", "message": "x"},
            {"path": "age", "code": "too_small", "message": "y", "params": {"min": 3}},
            {"path": "other", "message": "must be at least 5"},  # no code: "invalid"
        ]
    )
    assert exc.errors[2]["code"] == "invalid"
    with i18n.use_locale("uk"):
        out = error_messages(exc)
    assert out["capacity_available"] == i18n.translations("uk").ugettext(
        "Free places cannot be more than the places in total."
    )
    assert "3" in out["age"]
    with i18n.use_locale("en"):
        assert error_messages(exc)["other"] == "This value is not valid."


@pytest.mark.parametrize("locale", ["en", "uk", "ar"])
def test_every_code_has_a_sentence(locale: str) -> None:
    with i18n.use_locale(locale):
        for code, make in MESSAGES.items():
            text = make({"min": 1, "max": 2})
            assert text and "%(" not in text, code


def test_field_checks_carry_codes_and_params(db: Session) -> None:
    now = dt.datetime.now(dt.UTC)
    cases = [
        (FIELDS["location"]["capacity_available"], -1, "too_small", {"min": "0"}),
        (FIELDS["location"]["url"], "ftp://x", "bad_url", {}),
        (FIELDS["service"]["name"], "a" * 400, "too_long", {"max": 300}),
    ]
    for spec, value, code, params in cases:
        with pytest.raises(FieldError) as info:
            clean(db, spec, value, now=now)
        assert (info.value.code, info.value.params) == (code, params)
        assert info.value.at("f") == {
            "path": "f",
            "code": code,
            "message": str(info.value),
            **({"params": params} if params else {}),
        }
