"""Generated phone numbers pass the moderation check (so an export re-imports cleanly)."""

from __future__ import annotations

import collections
import datetime as dt

import phonenumbers
from sqlalchemy.orm import Session

from directory.demo.generate import PHONE, build_chunks
from directory.listings import models as m
from directory.moderation.fields import FIELDS, clean

NOW = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)


def test_generated_phones_pass_moderation_validation(db: Session) -> None:
    chunks = list(build_chunks(services=300, seed=3, now=NOW))
    phones = [r for c in chunks for r in c.rows[m.Phone]]
    country = {r["location_id"]: r["country"] for c in chunks for r in c.rows[m.Address]}
    location = {
        r["service_id"]: r["location_id"] for c in chunks for r in c.rows[m.ServiceAtLocation]
    }
    assert len(phones) >= 300
    seen: collections.Counter[str] = collections.Counter()
    spec = FIELDS["phone"]["number"]
    for phone in phones:
        cc = country[location[phone["service_id"]]]
        seen[cc] += 1
        # The same call the write path makes for a phone's number (raises FieldError if refused).
        assert clean(db, spec, phone["number"], now=NOW) == phone["number"], phone
        assert phonenumbers.is_valid_number_for_region(phonenumbers.parse(phone["number"]), cc), (
            phone
        )
    assert set(seen) >= {"UA", "PL", "DE", "MD", "SK", "CZ"}, seen


def test_every_number_of_every_fictional_range_is_valid_for_its_country() -> None:
    for cc, (prefix, width) in PHONE.items():
        for i in range(10**width):
            number = phonenumbers.parse(prefix + str(i).zfill(width))
            assert phonenumbers.is_valid_number_for_region(number, cc), (cc, i)


def test_phones_are_deterministic() -> None:
    def numbers(seed: int) -> list[str]:
        return [
            r["number"]
            for c in build_chunks(services=50, seed=seed, now=NOW)
            for r in c.rows[m.Phone]
        ]

    assert numbers(5) == numbers(5)
    assert numbers(5) != numbers(6)
